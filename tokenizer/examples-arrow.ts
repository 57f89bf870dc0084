// Tokenized examples as Apache Arrow IPC *stream* files (the format of Hugging
// Face datasets' own .arrow files: `datasets.Dataset.from_file(path)` and
// `pyarrow.ipc.open_stream(path)` read them). Written and read one record batch
// at a time, so neither side holds a whole split in memory. Schemas: README.md.
import { createReadStream, createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { Field, Int32, List, makeData, RecordBatch, RecordBatchReader, RecordBatchStreamWriter, Schema, Struct, type Data } from 'apache-arrow';

export const TRAIN_COLUMNS = ['input_ids', 'labels'] as const;
export const EVAL_COLUMNS = ['input_ids', 'output_ids'] as const;

export type Columns = readonly string[];
export type Row<C extends Columns> = { readonly [K in C[number]]: readonly number[] | Int32Array };
/** A row as read back: each column a view into the batch's buffer (copy it to keep it past the next batch). */
export type ReadRow<C extends Columns> = { readonly [K in C[number]]: Int32Array };

export type TrainRow = ReadRow<typeof TRAIN_COLUMNS>;
export type EvalRow = ReadRow<typeof EVAL_COLUMNS>;

const ROWS_PER_BATCH = 1024;

function listOfInt32(): List<Int32> {
  // "item" is the child name pyarrow and datasets use for Sequence(Value("int32")).
  return new List(new Field('item', new Int32(), true));
}

export function examplesSchema(columns: Columns): Schema {
  return new Schema(columns.map((name) => new Field(name, listOfInt32(), false)));
}

/** Streams rows of int32 lists into an Arrow IPC stream file, one record batch per ROWS_PER_BATCH rows. */
export class ExamplesWriter<C extends Columns> {
  readonly #columns: C;
  readonly #schema: Schema;
  readonly #writer: RecordBatchStreamWriter;
  readonly #done: Promise<void>;
  #pending: Row<C>[] = [];
  count = 0;

  constructor(file: string, columns: C) {
    this.#columns = columns;
    this.#schema = examplesSchema(columns);
    this.#writer = new RecordBatchStreamWriter();
    const sink = createWriteStream(file);
    this.#writer.toNodeStream().pipe(sink);
    this.#done = finished(sink);
    // The schema goes out even for a split with no rows, so readers always find one.
    this.#writer.reset(undefined, this.#schema);
  }

  write(row: Row<C>): void {
    this.#pending.push(row);
    this.count++;
    if (this.#pending.length >= ROWS_PER_BATCH) this.#flush();
  }

  async close(): Promise<void> {
    this.#flush();
    this.#writer.finish();
    await this.#done;
  }

  #flush(): void {
    if (this.#pending.length === 0) return;
    const rows = this.#pending;
    this.#pending = [];
    const children = this.#columns.map((name) => listColumn(rows.map((row) => row[name as C[number]])));
    const data = makeData({ type: new Struct(this.#schema.fields), length: rows.length, nullCount: 0, children });
    this.#writer.write(new RecordBatch(this.#schema, data));
  }
}

function listColumn(lists: readonly (readonly number[] | Int32Array)[]): Data<List<Int32>> {
  const offsets = new Int32Array(lists.length + 1);
  for (let i = 0; i < lists.length; i++) offsets[i + 1] = offsets[i]! + lists[i]!.length;
  const values = new Int32Array(offsets[lists.length]!);
  lists.forEach((list, i) => values.set(list, offsets[i]!));
  const child = makeData({ type: new Int32(), length: values.length, nullCount: 0, data: values });
  return makeData({ type: listOfInt32(), length: lists.length, nullCount: 0, valueOffsets: offsets, child });
}

/** Every row of an examples file, in order, read batch by batch. Fails if a column is missing. */
export async function* readExamples<C extends Columns>(file: string, columns: C): AsyncGenerator<ReadRow<C>> {
  const reader = await RecordBatchReader.from(createReadStream(file));
  for await (const batch of reader) {
    // A file without rows still yields one placeholder batch that has no column data.
    if (batch.numRows === 0) continue;
    const lists = columns.map((name) => {
      const index = batch.schema.fields.findIndex((f) => f.name === name);
      if (index < 0) throw new Error(`${file} has no column "${name}" (columns: ${batch.schema.fields.map((f) => f.name).join(', ')})`);
      const data = batch.data.children[index] as Data<List<Int32>>;
      const child = data.children[0] as Data<Int32>;
      return { offsets: data.valueOffsets, offset: data.offset, values: child.values.subarray(child.offset) };
    });
    for (let i = 0; i < batch.numRows; i++) {
      const row: Record<string, Int32Array> = {};
      columns.forEach((name, c) => {
        const { offsets, offset, values } = lists[c]!;
        row[name] = values.subarray(offsets[offset + i]!, offsets[offset + i + 1]!);
      });
      yield row as ReadRow<C>;
    }
  }
}

export function readTrainExamples(file: string): AsyncGenerator<TrainRow> {
  return readExamples(file, TRAIN_COLUMNS);
}

export function readEvalExamples(file: string): AsyncGenerator<EvalRow> {
  return readExamples(file, EVAL_COLUMNS);
}
