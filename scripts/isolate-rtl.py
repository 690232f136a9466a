#!/usr/bin/env python3
"""Isolates protocol text inside the Arabic and Persian strings of www/i18n/{ar,fa}.json.

In right-to-left text, `+OK` displays as `OK+` and `<1896.697170952@host>` reorders: each run
of protocol text (a status indicator with its response code, an APOP timestamp, a bare response
code) is wrapped in U+2066 LEFT-TO-RIGHT ISOLATE … U+2069 POP DIRECTIONAL ISOLATE, and the
older U+200E marks around such runs are replaced. Idempotent: text already isolated is left as
it is. tests/e2e/i18n.test.mjs fails on any run this leaves out.

Usage: python3 scripts/isolate-rtl.py   (rewrites the two files in place)
"""
import json
import re
import sys
from pathlib import Path

LRI, PDI, LRM = "\u2066", "\u2069", "\u200e"
# The runs tests/e2e/i18n.test.mjs checks, longest first: "-ERR [IN-USE]" is one run.
PROTOCOL = re.compile(r"[+-](?:OK|ERR)(?: \[[A-Z][A-Z/-]*\])?|<[^<>\s]+>|\[[A-Z][A-Z/-]*\]")
ISOLATED = re.compile(f"{LRI}[^{PDI}]*{PDI}")
ARABIC = re.compile(r"[\u0600-\u06FF]")


def isolate(text: str) -> str:
    if not ARABIC.search(text):
        return text
    text = re.sub(f"{LRM}([^{LRM}]+){LRM}", lambda m: m.group(1) if PROTOCOL.fullmatch(m.group(1)) else m.group(0), text)
    out, at = [], 0
    for span in ISOLATED.finditer(text):
        out.append(PROTOCOL.sub(lambda m: f"{LRI}{m.group(0)}{PDI}", text[at:span.start()]))
        out.append(span.group(0))
        at = span.end()
    out.append(PROTOCOL.sub(lambda m: f"{LRI}{m.group(0)}{PDI}", text[at:]))
    return "".join(out)


def walk(value):
    if isinstance(value, dict):
        return {k: walk(v) for k, v in value.items()}
    if isinstance(value, str):
        return isolate(value)
    return value


def main() -> int:
    root = Path(__file__).resolve().parent.parent / "www" / "i18n"
    for lang in ("ar", "fa"):
        path = root / f"{lang}.json"
        before = json.loads(path.read_text(encoding="utf-8"))
        after = walk(before)
        path.write_text(json.dumps(after, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        changed = sum(1 for a, b in zip(json.dumps(before, ensure_ascii=False).split('",'), json.dumps(after, ensure_ascii=False).split('",')) if a != b)
        print(f"{path.name}: {changed} strings isolated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
