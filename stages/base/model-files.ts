// The base model as the `base` stage hands it on: a small descriptor plus, for
// the embedded model, its config and weights; for a user's checkpoint, the
// folder it lives in. Later stages open it with openBaseModel.
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { backendRecord } from '../../model/backend.ts';
import { loadModel, type LoadOptions } from '../../model/load.ts';
import type { GlmModel } from '../../model/glm.ts';

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

export interface BaseModelFiles {
  readonly descriptor: string;
  readonly config: string;
  readonly weights: string;
}

export function readDescriptor(file: string): BaseDescriptor {
  return JSON.parse(readFileSync(file, 'utf8')) as BaseDescriptor;
}

export async function openBaseModel(files: BaseModelFiles, options: LoadOptions = {}): Promise<GlmModel> {
  const descriptor = readDescriptor(files.descriptor);
  if (descriptor.source === 'checkpoint') return loadModel(descriptor.dir, options);
  // Store objects are named by hash: give the loader the folder layout it expects.
  const dir = mkdtempSync(path.join(tmpdir(), 'glmflow-base-'));
  try {
    symlinkSync(files.config, path.join(dir, 'config.json'));
    symlinkSync(files.weights, path.join(dir, 'model.safetensors'));
    return await loadModel(dir, options);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
