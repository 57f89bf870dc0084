// What chat talks to: by default the pipeline's latest base model, tokenizer
// and trained prefix (artifacts/), or a ChatGLM3 checkpoint folder given with
// --model (then no prefix unless --prefix names one).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { GlmflowError } from '../engine/errors.ts';
import type { GlmModel } from '../model/glm.ts';
import { loadModel } from '../model/load.ts';
import { loadTokenizer } from '../tokenizer/artifact.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';
import { isBaseModelDir, openBaseModel } from '../model/base-model.ts';

export interface ChatModelOptions {
  readonly projectDir: string;
  /** A base-stage folder (artifacts/base/model: base.json, config.json, model.safetensors) or a ChatGLM3 checkpoint folder. */
  readonly model?: string;
  /** A prefix .safetensors (or a folder holding model.safetensors); 'none' for the model alone. */
  readonly prefix?: string;
  readonly tokenizer?: string;
}

export interface ChatModel {
  readonly model: GlmModel;
  readonly tokenizer: Tokenizer;
  /** One line for the user: what was loaded. */
  readonly description: string;
}

const RUN_HINT = 'run the pipeline first (npx tsx pipeline.ts run train), or pass --model / --prefix / --tokenizer';

function mustExist(file: string, what: string): string {
  if (!existsSync(file)) throw new GlmflowError(`${what} not found: ${file}`, RUN_HINT);
  return file;
}

export async function openChatModel(o: ChatModelOptions): Promise<ChatModel> {
  const artifacts = path.join(o.projectDir, 'artifacts');
  const modelDir = path.resolve(o.model ?? path.join(artifacts, 'base', 'model'));
  mustExist(modelDir, 'model folder');
  // The trained prefix belongs to the pipeline's base model: it is the default only there.
  const prefixArg = o.prefix ?? (o.model === undefined ? path.join(artifacts, 'train', 'prefix.safetensors') : 'none');
  const prefix = prefixArg === 'none' ? undefined : mustExist(path.resolve(prefixArg), 'prefix');
  const ownTokenizer = path.join(modelDir, 'tokenizer.model');
  const tokenizerFile = o.tokenizer ?? (existsSync(ownTokenizer) ? ownTokenizer : path.join(artifacts, 'tokenize', 'tokenizer.json'));
  const tokenizer = loadTokenizer(mustExist(path.resolve(tokenizerFile), 'tokenizer'));
  const options = { trainable: 'none' as const, ...(prefix ? { prefix } : {}) };
  const model = isBaseModelDir(modelDir) ? await openBaseModel(modelDir, options) : await loadModel(modelDir, options);
  return { model, tokenizer, description: `model ${modelDir}, prefix ${prefix ?? 'none'}, tokenizer ${tokenizerFile}` };
}
