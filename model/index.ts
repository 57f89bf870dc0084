// The model's public API, exported as `glmflow/model` (package.json "exports").
export { AdamW, type AdamWOptions } from './adamw.ts';
export { type BackendInfo, type BackendName, selectBackend } from './backend.ts';
export { type GlmConfig, parseConfig, readConfig } from './config.ts';
export { generate, type GenerateOptions } from './generate.ts';
export { disposeGrads, type ForwardInput, type ForwardOptions, type ForwardOutput, GlmModel, type IdMatrix, type TrainOptions } from './glm.ts';
export { createModel, type LoadOptions, loadModel, loadPrefix, saveModel, savePrefix } from './load.ts';
