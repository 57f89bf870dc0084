// A stage's implementation fingerprint: the stage module plus every local module
// it imports, transitively (static and literal dynamic imports). Packages are
// versioned separately, so only relative specifiers are followed, and the engine's
// own modules are left to its format version. A regex scan,
// not a parser: loading the TypeScript compiler would cost more than a no-op run.
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { unreadable, type FileHasher } from './files.ts';

// Worker modules are named by `new URL('./x.mjs', import.meta.url)`, not imported, and count too.
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\bnew URL\(\s*)(['"])(\.{1,2}\/[^'"]+)\1/g;
const COMMENTS = /\/\*[\s\S]*?\*\/|(^|[^:\\])\/\/.*$/gm;

// The engine itself is versioned by ENGINE_VERSION in the key, so an engine edit does not rerun every stage.
const ENGINE_DIR = path.dirname(fileURLToPath(import.meta.url)) + path.sep;

const importsCache = new Map<string, string[]>();

function localImports(file: string): string[] {
  const cached = importsCache.get(file);
  if (cached) return cached;
  let source: string;
  try {
    source = readFileSync(file, 'utf8').replace(COMMENTS, '$1');
  } catch (error) {
    throw unreadable(file, error);
  }
  const found: string[] = [];
  for (const match of source.matchAll(IMPORT)) {
    const resolved = path.resolve(path.dirname(file), match[2]!);
    // Specifiers are written with their .ts extension; the .js form is tolerated for plain JS modules.
    const candidates = [resolved, resolved.replace(/\.js$/, '.ts'), `${resolved}.ts`, path.join(resolved, 'index.ts')];
    const hit = candidates.find((c) => existsSync(c) && !c.endsWith(path.sep));
    if (hit && !hit.startsWith(ENGINE_DIR)) found.push(hit);
  }
  importsCache.set(file, found);
  return found;
}

/** Relative path (to the project) → content hash, for the module and its local import closure. */
export function fingerprint(entry: string, projectDir: string, hasher: FileHasher): Record<string, string> {
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    queue.push(...localImports(file));
  }
  const result: Record<string, string> = {};
  for (const file of [...seen].sort()) result[path.relative(projectDir, file)] = hasher.hash(file);
  return result;
}
