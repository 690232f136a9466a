#!/usr/bin/env python3
"""make bench's last word: the figures of issue 12's sections 1-3 side by side, each beside the
baseline it was measured against in the same run (benches/decode.rs, benches/browser-retr.sh and
benches/latency/report.py append them to POPWIRE_BENCH_SUMMARY, one JSON object per line).
Prints; asserts nothing."""
import json
import sys

SECTIONS = {
    "1": "1. maildrop sync at the round-trip floor, bounded memory (25 ms one way, 1,000 messages)",
    "2": "2. bodies without growth copies: RETR without LIST against RETR with LIST",
    "3": "3. the decoder against memcpy",
}


def main(path):
    try:
        rows = [json.loads(line) for line in open(path) if line.strip()]
    except FileNotFoundError:
        sys.exit(f"no figures in {path}: run make bench")
    print()
    print("Issue 12, side by side (this run; ratios = figure / baseline; nothing is asserted)")
    width = max((len(r["figure"]) for r in rows), default=10)
    bwidth = max((len(r["baseline"]) for r in rows), default=10)
    for section, title in SECTIONS.items():
        print()
        print(title)
        mine = [r for r in rows if r["section"] == section]
        if not mine:
            print("  (no figures: its benchmark did not run or failed)")
        for r in mine:
            goal = f"  goal {r['goal']}" if r.get("goal") else ""
            print(f"  {r['figure']:<{width}} {r['value']:>9} {r['unit']:<4}  against {r['baseline']:<{bwidth}}"
                  f" {r['baselineValue']:>9}  = x{r['ratio']:.2f}{goal}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "target/bench-summary.jsonl")
