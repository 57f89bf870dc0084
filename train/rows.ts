import { readTrainExamples, type TrainRow } from '../tokenizer/examples-arrow.ts';

/** Every training example of an Arrow file, copied out of the reader's batch buffers. */
export async function readTrainRows(file: string): Promise<TrainRow[]> {
  const rows: TrainRow[] = [];
  for await (const row of readTrainExamples(file)) rows.push({ input_ids: row.input_ids.slice(), labels: row.labels.slice() });
  return rows;
}
