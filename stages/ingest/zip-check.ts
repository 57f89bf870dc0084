// A workbook's zip structure checked before exceljs streams it. exceljs reads
// the zip front to back and never learns that the file was cut short: at some
// lengths it fails with a bare `FILE_ENDED`, at others its promise never settles
// and the process exits with nothing said. A zip's table of contents is at its
// end, so reading it first catches every truncation, and tells a CSV or other
// file that was only renamed .xlsx from a damaged workbook.
import { open } from 'node:fs/promises';

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_DIRECTORY = 0x06054b50;
const END_SIZE = 22;
// The end record is followed by a comment of at most 64 KiB.
const TAIL_BYTES = END_SIZE + 0xffff;
const CENTRAL_HEADER_SIZE = 46;
// Enough of a text file's first line to recognise it.
const HEAD_BYTES = 48;
const LOCAL_HEADER_SIZE = 30;
// Zip64 puts these in the 32-bit fields and the real values elsewhere: then only the end record is checked.
const ZIP64_MARK = 0xffffffff;

export interface ZipProblem {
  /** What is wrong, in words. */
  readonly problem: string;
  /** The file starts with text: most likely a CSV export given the wrong extension. */
  readonly text: boolean;
}

/** Undefined when the file is a whole zip holding a workbook; else what is wrong with it. */
export async function zipProblem(file: string): Promise<ZipProblem | undefined> {
  const problem = await findProblem(file);
  return typeof problem === 'string' ? { problem, text: false } : problem;
}

async function findProblem(file: string): Promise<string | ZipProblem | undefined> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    if (size === 0) return 'the file is empty (0 bytes)';
    const head = await read(handle, 0, Math.min(size, HEAD_BYTES));
    if (head.length < 4 || head.readUInt32LE(0) !== LOCAL_HEADER || size < END_SIZE) return notZip(head);
    const tailStart = Math.max(0, size - TAIL_BYTES);
    const tail = await read(handle, tailStart, size - tailStart);
    const end = findEnd(tail);
    if (end === -1) return `the file is incomplete: it ends after ${size} bytes, before the zip's table of contents`;
    const entries = tail.readUInt16LE(end + 10);
    const directorySize = tail.readUInt32LE(end + 12);
    const directoryStart = tail.readUInt32LE(end + 16);
    if (directoryStart === ZIP64_MARK || directorySize === ZIP64_MARK) return undefined;
    if (directoryStart + directorySize > tailStart + end) return `the file is damaged: its table of contents points past the end of the data (${size} bytes)`;
    const directory = await read(handle, directoryStart, directorySize);
    const names: string[] = [];
    for (let at = 0, entry = 0; entry < entries; entry++) {
      if (at + CENTRAL_HEADER_SIZE > directory.length || directory.readUInt32LE(at) !== CENTRAL_HEADER) return 'the file is damaged: its table of contents is unreadable';
      const compressed = directory.readUInt32LE(at + 20);
      const nameLength = directory.readUInt16LE(at + 28);
      const extraLength = directory.readUInt16LE(at + 30);
      const commentLength = directory.readUInt16LE(at + 32);
      const local = directory.readUInt32LE(at + 42);
      const name = directory.toString('utf8', at + CENTRAL_HEADER_SIZE, at + CENTRAL_HEADER_SIZE + nameLength);
      if (compressed !== ZIP64_MARK && local !== ZIP64_MARK && local + LOCAL_HEADER_SIZE + nameLength + compressed > directoryStart) {
        return `the file is damaged: the part ${name} runs past the data`;
      }
      names.push(name);
      at += CENTRAL_HEADER_SIZE + nameLength + extraLength + commentLength;
    }
    if (!names.includes('xl/workbook.xml')) return `it is a zip file but not an Excel workbook (no xl/workbook.xml among ${names.slice(0, 5).join(', ') || 'no parts'}${names.length > 5 ? ', …' : ''})`;
    return undefined;
  } finally {
    await handle.close();
  }
}

async function read(handle: Awaited<ReturnType<typeof open>>, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buffer, 0, length, position);
  return buffer.subarray(0, bytesRead);
}

/** The last end-of-directory record in the tail whose comment runs exactly to the end of the file. */
function findEnd(tail: Buffer): number {
  for (let at = tail.length - END_SIZE; at >= 0; at--) {
    if (tail.readUInt32LE(at) === END_OF_DIRECTORY && at + END_SIZE + tail.readUInt16LE(at + 20) === tail.length) return at;
  }
  return -1;
}

/** A file that is no zip at all, described by its first bytes: as text when they are printable (a CSV's header), else as hex. */
function notZip(head: Buffer): ZipProblem {
  // A character cut off at the end of the bytes read decodes as U+FFFD: it is left out.
  const text = head.toString('utf8').replace(/^\uFEFF/, '').replace(/\uFFFD+$/, '');
  const printable = /^[\p{L}\p{N}\p{P}\p{S}\p{Zs}\r\n\t]+$/u.test(text);
  const start = printable ? `text "${text.replace(/[\r\n].*$/s, '')}…"` : `bytes ${head.subarray(0, 8).toString('hex')}`;
  return { problem: `it is not a zip file, as .xlsx files are (it starts with ${start})`, text: printable };
}
