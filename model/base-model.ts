// The base model as the base stage hands it on: one folder holding base.json
// (where the model comes from) and, for the embedded model, its config.json and
// model.safetensors; for a user's checkpoint, base.json names the checkpoint
// folder, which stays where it is. Train, generate, infer and chat open it here.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { backendRecord } from './backend.ts';
import { loadModel, type LoadOptions } from './load.ts';
import type { GlmModel } from './glm.ts';

export type BaseDescriptor =
  | {
      readonly source: 'embedded';
      readonly parameters: number;
      readonly pretrainSteps: number;
      readonly finalLoss: number | null;
      /** Where it was pretrained (provenance; not part of the cache key). */
      readonly backend: ReturnType<typeof backendRecord>;
    }
  | { readonly source: 'checkpoint'; readonly dir: string };

export const DESCRIPTOR_FILE = 'base.json';

export function readDescriptor(dir: string): BaseDescriptor {
  return JSON.parse(readFileSync(path.join(dir, DESCRIPTOR_FILE), 'utf8')) as BaseDescriptor;
}

/** Whether `dir` is a base-stage folder (rather than a ChatGLM3 checkpoint folder). */
export function isBaseModelDir(dir: string): boolean {
  try {
    readDescriptor(dir);
    return true;
  } catch {
    return false;
  }
}

export async function openBaseModel(dir: string, options: LoadOptions = {}): Promise<GlmModel> {
  const descriptor = readDescriptor(dir);
  return loadModel(descriptor.source === 'checkpoint' ? descriptor.dir : dir, options);
}
