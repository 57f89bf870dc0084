// Types for the WebAssembly build of C++ SentencePiece, which ships none. The
// tests use it as the reference the TypeScript encoder must equal.
declare module '@agnai/sentencepiece-js' {
  export class SentencePieceProcessor {
    load(file: string): Promise<void>;
    encodeIds(text: string): number[];
    decodeIds(ids: readonly number[]): string;
  }
  const sentencepiece: { SentencePieceProcessor: typeof SentencePieceProcessor };
  export default sentencepiece;
}
