// Hugging Face safetensors: 8-byte little-endian header length N, N bytes of JSON
// {name: {dtype, shape, data_offsets: [begin, end]}}, then raw little-endian data.
// Tensors are read one at a time with positioned reads, so a checkpoint is never held in
// memory twice; F32, F16 and BF16 are widened to float32.
import { closeSync, existsSync, openSync, readFileSync, readSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { GlmflowError } from '../engine/errors.ts';

const entrySchema = z.object({
  dtype: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  data_offsets: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]),
});
type Entry = z.infer<typeof entrySchema>;

const BYTES: Readonly<Record<string, number>> = { F32: 4, F16: 2, BF16: 2 };

/** One safetensors file: header parsed, data read lazily per tensor. */
export class SafetensorsFile {
  readonly entries: ReadonlyMap<string, Entry>;
  private readonly dataStart: number;

  constructor(readonly file: string) {
    const fd = openSync(file, 'r');
    try {
      const head = Buffer.alloc(8);
      readSync(fd, head, 0, 8, 0);
      const n = Number(head.readBigUInt64LE(0));
      if (n <= 0 || n > 100_000_000) throw new GlmflowError(`${file}: not a safetensors file (header length ${n})`);
      const json = Buffer.alloc(n);
      readSync(fd, json, 0, n, 8);
      const header = JSON.parse(json.toString('utf8')) as Record<string, unknown>;
      const entries = new Map<string, Entry>();
      for (const [name, value] of Object.entries(header)) {
        if (name === '__metadata__') continue;
        const parsed = entrySchema.safeParse(value);
        if (!parsed.success) throw new GlmflowError(`${file}: malformed header entry for tensor ${name}`);
        entries.set(name, parsed.data);
      }
      this.entries = entries;
      this.dataStart = 8 + n;
    } finally {
      closeSync(fd);
    }
  }

  /** Reads one tensor as float32 (row-major), converting F16 / BF16. */
  read(name: string): { shape: number[]; data: Float32Array } {
    const entry = this.entries.get(name);
    if (!entry) throw new GlmflowError(`${this.file}: no tensor named ${name}`);
    const width = BYTES[entry.dtype];
    if (width === undefined)
      throw new GlmflowError(`${this.file}: tensor ${name} has dtype ${entry.dtype}`, 'only F32, F16 and BF16 weights are supported');
    const [begin, end] = entry.data_offsets;
    const count = entry.shape.reduce((a, b) => a * b, 1);
    if (end - begin !== count * width)
      throw new GlmflowError(`${this.file}: tensor ${name} has ${end - begin} bytes, expected ${count * width} for shape [${entry.shape}]`);
    const bytes = Buffer.allocUnsafe(end - begin);
    const fd = openSync(this.file, 'r');
    try {
      let done = 0;
      while (done < bytes.length) {
        const got = readSync(fd, bytes, done, Math.min(bytes.length - done, 1 << 30), this.dataStart + begin + done);
        if (got === 0) throw new GlmflowError(`${this.file}: truncated while reading ${name}`);
        done += got;
      }
    } finally {
      closeSync(fd);
    }
    return { shape: [...entry.shape], data: toFloat32(bytes, entry.dtype, count) };
  }
}

let halfTable: Float32Array | undefined;

/** All 65,536 half-precision values, decoded once (cheaper than per-element bit twiddling). */
function halfToFloatTable(): Float32Array {
  if (halfTable) return halfTable;
  halfTable = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) halfTable[h] = sign * frac * 2 ** -24;
    else if (exp === 31) halfTable[h] = frac ? NaN : sign * Infinity;
    else halfTable[h] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return halfTable;
}

function toFloat32(bytes: Buffer, dtype: string, count: number): Float32Array {
  const out = new Float32Array(count);
  if (dtype === 'F32') {
    // copy through a byte view: the buffer's offset need not be 4-aligned
    new Uint8Array(out.buffer).set(bytes);
    return out;
  }
  const halves = new Uint16Array(count);
  new Uint8Array(halves.buffer).set(bytes);
  if (dtype === 'F16') {
    const table = halfToFloatTable();
    for (let i = 0; i < count; i++) out[i] = table[halves[i]!]!;
  } else {
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < count; i++) bits[i] = halves[i]! << 16; // bf16 is the top half of an f32
  }
  return out;
}

/** A checkpoint directory: model.safetensors, or shards listed in model.safetensors.index.json. */
export class Checkpoint {
  private readonly files = new Map<string, SafetensorsFile>();
  private readonly location = new Map<string, SafetensorsFile>();

  constructor(readonly dir: string) {
    const index = path.join(dir, 'model.safetensors.index.json');
    const single = path.join(dir, 'model.safetensors');
    let shardNames: string[];
    if (existsSync(index)) {
      const parsed = z
        .object({ weight_map: z.record(z.string(), z.string()) })
        .safeParse(JSON.parse(readFileSync(index, 'utf8')));
      if (!parsed.success) throw new GlmflowError(`${index}: no weight_map`, 'the index must be as Hugging Face writes it');
      shardNames = [...new Set(Object.values(parsed.data.weight_map))].sort();
    } else if (existsSync(single)) {
      shardNames = ['model.safetensors'];
    } else {
      const bin = ['pytorch_model.bin', 'pytorch_model.bin.index.json'].some((f) => existsSync(path.join(dir, f)));
      throw new GlmflowError(
        bin
          ? `${dir} holds a PyTorch pickle checkpoint (pytorch_model*.bin), which glmflow does not read`
          : `${dir} has no model.safetensors or model.safetensors.index.json`,
        bin
          ? 'convert it once with Python: `from transformers import AutoModel; AutoModel.from_pretrained(dir, trust_remote_code=True).save_pretrained(out, safe_serialization=True)`, or download the safetensors revision of the model (THUDM/chatglm3-6b ships model-0000N-of-00007.safetensors)'
          : 'point at a Hugging Face checkpoint directory with config.json and safetensors weights',
      );
    }
    for (const shard of shardNames) {
      const file = new SafetensorsFile(path.join(dir, shard));
      this.files.set(shard, file);
      for (const name of file.entries.keys()) this.location.set(name, file);
    }
  }

  names(): string[] {
    return [...this.location.keys()];
  }

  has(name: string): boolean {
    return this.location.has(name);
  }

  shape(name: string): number[] | undefined {
    const entry = this.location.get(name)?.entries.get(name);
    return entry ? [...entry.shape] : undefined;
  }

  read(name: string): { shape: number[]; data: Float32Array } {
    const file = this.location.get(name);
    if (!file) throw new GlmflowError(`tensor ${name} is missing from the checkpoint in ${this.dir}`);
    return file.read(name);
  }
}

export interface NamedArray {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** Writes F32 tensors (sorted by name) atomically: temp file, then rename. */
export function writeSafetensors(file: string, tensors: ReadonlyMap<string, NamedArray>, metadata: Record<string, string> = {}): void {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = { __metadata__: { format: 'pt', ...metadata } };
  let offset = 0;
  for (const name of names) {
    const t = tensors.get(name)!;
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new Error(`writeSafetensors: ${name} has ${t.data.length} values for shape [${t.shape}]`);
    header[name] = { dtype: 'F32', shape: [...t.shape], data_offsets: [offset, offset + 4 * count] };
    offset += 4 * count;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8); // data starts 8-byte aligned
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, head);
    writeSync(fd, json);
    for (const name of names) {
      const data = tensors.get(name)!.data;
      writeSync(fd, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    }
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}
