"""C++ SentencePiece (through its Python binding) encoding the same messages as
bench/tokenizer.bench.ts, one call per message, single-threaded. Prints one JSON
line: the median tokens/s of --runs timed passes after one warm-up pass.

Usage: python3 sentencepiece_bench.py MODEL CONVERSATIONS_JSONL [--runs N]
"""
import argparse
import json
import statistics
import time

import sentencepiece as spm


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("conversations")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    sp = spm.SentencePieceProcessor(model_file=args.model)
    with open(args.conversations, encoding="utf-8") as f:
        messages = [m["content"] for line in f if line.strip() for m in json.loads(line)["conversations"]]
    tokens = sum(len(sp.encode(text)) for text in messages)  # also the warm-up pass
    rates = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        for text in messages:
            sp.encode(text)
        rates.append(tokens / (time.perf_counter() - t0))
    print(json.dumps({"messages": len(messages), "tokens": tokens, "tokens_per_s": statistics.median(rates)}))


if __name__ == "__main__":
    main()
