// Byte text (UTF-8 bytes one char per byte): trimming it must agree with
// String.prototype.trim on the text it holds, for every character trim removes
// and for the characters whose bytes look most like them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromByteText, hasEdgeSpace, toByteText, trimByteText } from '../../formats/byte-text.ts';

// Every character trim removes: ASCII and Unicode spaces, line terminators, the BOM.
const SPACES = [...'\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff'];
// Characters trim keeps whose UTF-8 starts or ends like a space's: 。(E3 80 82), 〇 (E3 80 87), 丠 (E4 B8 A0), ‐ (E2 80 90), U+200B (E2 80 8B), Ġ (C4 A0), ﻼ (EF BB BC), U+0085.
const NEAR = [...'。〇丠‐\u200bĠﻼ\u0085', 'a', '好'];

test('trimming byte text agrees with String.prototype.trim', () => {
  assert.equal(SPACES.join('').trim(), '');
  for (const inner of ['', '好', 'a b', ...NEAR]) {
    for (const edge of [...SPACES, ...NEAR]) {
      for (const text of [`${edge}${inner}`, `${inner}${edge}`, `${edge}${inner}${edge}`, `${edge}${edge}`]) {
        const bytes = toByteText(text);
        assert.equal(fromByteText(trimByteText(bytes)), text.trim(), JSON.stringify(text));
        assert.equal(hasEdgeSpace(bytes), text !== text.trim(), JSON.stringify(text));
      }
    }
  }
});

test('hasEdgeSpace looks only within the bounds it is given', () => {
  const bytes = toByteText(' 好的\u3000');
  assert.equal(hasEdgeSpace(bytes, 1, bytes.length - 3), false);
  assert.equal(hasEdgeSpace(bytes, 1), true);
  assert.equal(hasEdgeSpace(bytes, 0, bytes.length - 3), true);
  assert.equal(hasEdgeSpace(bytes, 2, 2), false);
});
