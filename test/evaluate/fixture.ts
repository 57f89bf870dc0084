// Evaluation inputs around the tiny ChatGLM3 fixture of ../shared (vocab 512):
// a character tokenizer that fills exactly that vocabulary, a few eval examples
// made by the real preprocessing, and the base-model files the stages read.
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadModel, savePrefix } from '../../model/load.ts';
import { writeTokenizerArtifact } from '../../tokenizer/artifact.ts';
import { CharTokenizer } from '../../tokenizer/char-tokenizer.ts';
import { EVAL_COLUMNS, ExamplesWriter } from '../../tokenizer/examples-arrow.ts';
import { evalExamples } from '../../tokenizer/preprocess.ts';

// 3 reserved + 500 characters + 9 special tokens = the fixture's 512 ids, so every generated id decodes.
// "\n" is one of them, as in every vocabulary the tokenize stage builds (each message starts with it).
export const CHARS = ['\n', ...Array.from({ length: 499 }, (_, i) => String.fromCodePoint(0x4e00 + i))];
export const tokenizer = new CharTokenizer(CHARS);

const text = (from: number, length: number) => CHARS.slice(from, from + length).join('');
export const CONVERSATIONS = [
  [{ role: 'user', content: text(1, 5) }, { role: 'assistant', content: text(10, 4) }],
  [{ role: 'user', content: text(20, 9) }, { role: 'assistant', content: text(40, 6) }, { role: 'user', content: text(50, 2) }, { role: 'assistant', content: text(60, 3) }],
] as const;

export interface EvalFiles {
  readonly dir: string;
  readonly tokenizer: string;
  readonly test: string;
  /** A base-stage folder: base.json naming the fixture checkpoint, and its config.json. */
  readonly base: string;
  /** The fixture's own prefix_encoder tensors, standing in for a trained prefix. */
  readonly prefix: string;
  readonly examples: number;
}

export async function writeEvalFiles(tinyDir: string, dir = mkdtempSync(path.join(tmpdir(), 'glmflow-eval-'))): Promise<EvalFiles> {
  const files = {
    dir,
    tokenizer: path.join(dir, 'tokenizer.json'),
    test: path.join(dir, 'test.arrow'),
    base: path.join(dir, 'base'),
    prefix: path.join(dir, 'prefix.safetensors'),
  };
  writeTokenizerArtifact(files.tokenizer, tokenizer);
  const writer = new ExamplesWriter(files.test, EVAL_COLUMNS);
  for (const messages of CONVERSATIONS) {
    const { inputIds, outputIds } = evalExamples(tokenizer, messages, { maxInputLength: 64, maxOutputLength: 16 });
    inputIds.forEach((input_ids, i) => writer.write({ input_ids, output_ids: outputIds[i]! }));
  }
  await writer.close();
  mkdirSync(files.base);
  writeFileSync(path.join(files.base, 'base.json'), JSON.stringify({ source: 'checkpoint', dir: tinyDir }));
  copyFileSync(path.join(tinyDir, 'config.json'), path.join(files.base, 'config.json'));
  const model = await loadModel(tinyDir);
  await savePrefix(model, files.prefix);
  model.dispose();
  return { ...files, examples: writer.count };
}
