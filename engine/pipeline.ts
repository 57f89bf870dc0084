// The graph users build in pipeline.ts. Wiring is type-checked (an input only
// accepts an ArtifactRef of its declared kind) and validated at build time:
// duplicate names, unknown or missing inputs and cycles fail before any work.
import type { ArtifactRef, InputKinds, InputRefs, OutputRefs, OutputSpecs, ParamSchema, StageDef } from './stage.ts';
import { GlmflowError } from './errors.ts';

export interface StageNode {
  readonly def: StageDef;
  /** input name → upstream artifact */
  readonly inputs: Readonly<Record<string, ArtifactRef>>;
}

export type WiredStage<N extends string, O extends OutputSpecs> = { readonly name: N; readonly out: OutputRefs<O> };

export class Pipeline {
  readonly #nodes = new Map<string, StageNode>();
  readonly #aliases = new Map<string, string>();

  /** Another name for a stage as a target, e.g. `evaluate` for the stage that ends evaluation. */
  alias(name: string, stage: string): void {
    if (this.#nodes.has(name)) throw new GlmflowError(`"${name}" is a stage already and cannot be an alias`);
    this.node(stage);
    this.#aliases.set(name, stage);
  }

  get aliases(): ReadonlyMap<string, string> {
    return this.#aliases;
  }

  add<N extends string, S extends ParamSchema, I extends InputKinds, O extends OutputSpecs, F extends string>(
    def: StageDef<N, S, I, O, F>,
    ...inputs: keyof I extends never ? [] : [InputRefs<I>]
  ): WiredStage<N, O> {
    if (this.#nodes.has(def.name)) {
      throw new GlmflowError(`stage "${def.name}" is added twice`, 'stage names are unique: give the second one another name');
    }
    const wired: Record<string, ArtifactRef> = { ...(inputs[0] ?? {}) };
    for (const [inputName, kind] of Object.entries(def.inputs)) {
      const ref = wired[inputName];
      if (!ref) throw new GlmflowError(`stage "${def.name}" is missing its input "${inputName}" (a ${kind})`, `pass it in pipeline.ts: p.add(${def.name}Stage, { ${inputName}: someStage.out.<output> })`);
      const upstream = this.#nodes.get(ref.stage);
      if (!upstream) throw new GlmflowError(`stage "${def.name}" takes input "${inputName}" from "${ref.stage}", which is not in the pipeline`, 'add the upstream stage before its dependents');
      const spec = upstream.def.outputs[ref.output];
      // The compiler already checks kinds; this catches wiring built from untyped data.
      if (!spec || spec.kind !== kind) throw new GlmflowError(`stage "${def.name}" input "${inputName}" expects a ${kind} but "${ref.stage}.${ref.output}" is ${spec ? `a ${spec.kind}` : 'not an output'}`);
    }
    for (const name of Object.keys(wired)) {
      if (!(name in def.inputs)) throw new GlmflowError(`stage "${def.name}" has no input named "${name}"`, `its inputs are: ${Object.keys(def.inputs).join(', ') || 'none'}`);
    }
    this.#nodes.set(def.name, { def: def as unknown as StageDef, inputs: wired });
    const out = Object.fromEntries(
      Object.entries(def.outputs).map(([output, spec]) => [output, { stage: def.name, output, kind: spec.kind }]),
    ) as unknown as OutputRefs<O>;
    return { name: def.name, out };
  }

  get names(): string[] {
    return [...this.#nodes.keys()];
  }

  node(name: string): StageNode {
    const node = this.#nodes.get(this.#aliases.get(name) ?? name);
    if (!node) throw new GlmflowError(`no stage named "${name}"`, `stages in this pipeline: ${this.names.join(', ')}`);
    return node;
  }

  upstreamOf(name: string): string[] {
    return [...new Set(Object.values(this.node(name).inputs).map((ref) => ref.stage))];
  }

  downstreamOf(name: string): string[] {
    return this.names.filter((other) => this.upstreamOf(other).includes(name));
  }

  /**
   * Stages needed for `targets` (all stages when empty), dependencies first.
   * Insertion order already is topological because inputs must exist when a stage is added,
   * so a cycle cannot be built through add(); the check guards graphs assembled otherwise.
   */
  order(targets: readonly string[] = []): string[] {
    const wanted = new Set<string>();
    const visiting = new Set<string>();
    const visit = (name: string, path: string[]): void => {
      if (wanted.has(name)) return;
      if (visiting.has(name)) throw new GlmflowError(`the pipeline has a cycle: ${[...path, name].join(' → ')}`);
      visiting.add(name);
      for (const up of this.upstreamOf(name)) visit(up, [...path, name]);
      visiting.delete(name);
      wanted.add(name);
    };
    for (const target of targets.length ? targets : this.names) visit(this.#aliases.get(target) ?? target, []);
    return this.names.filter((name) => wanted.has(name));
  }
}
