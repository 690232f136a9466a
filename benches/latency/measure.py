#!/usr/bin/env python3
"""Runs one benchmark client and appends one JSON line about the run to a results file.

    measure.py --out FILE [--tag KEY=VALUE]... [--count-files DIR] -- COMMAND ARGS...

The line is the client's own JSON (its last stdout line, if it is JSON: the popwire and poplib
runners print one) with the tags, plus `wallMs` (the process's wall time), `maxRssKb` (its peak
resident set, from wait4's rusage) and `rc`; `--count-files DIR` adds `messages`, the number
of files in DIR afterwards (mpop delivers one file per message). A failed run is recorded with
`error` (the end of its stderr) so the report can say so.
"""

import argparse
import json
import os
import subprocess
import sys
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--tag", action="append", default=[])
    parser.add_argument("--count-files")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    argv = args.command[1:] if args.command[:1] == ["--"] else args.command
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # Small outputs: read them after the exit, so wait4's rusage is the child's own.
    _, status, usage = os.wait4(proc.pid, 0)
    wall = (time.perf_counter() - t0) * 1e3
    out, err = proc.stdout.read().decode(errors="replace"), proc.stderr.read().decode(errors="replace")
    rc = os.waitstatus_to_exitcode(status)
    record = {}
    lines = out.strip().splitlines()
    if lines:
        try:
            record = json.loads(lines[-1])
        except ValueError:
            pass
    for tag in args.tag:
        key, _, value = tag.partition("=")
        record[key] = int(value) if key.endswith("Ms") and value.isdigit() else value
    record.update(wallMs=round(wall, 1), maxRssKb=usage.ru_maxrss, rc=rc)
    if args.count_files:
        record["messages"] = len(os.listdir(args.count_files))
    if rc != 0:
        record["error"] = (err.strip() or out.strip())[-300:] or f"exit status {rc}"
    with open(args.out, "a") as f:
        f.write(json.dumps(record) + "\n")
    what = f"{record.get('client', '?')} {record.get('mode', '')} {record.get('server', '')}@{record.get('at', '')}"
    if "error" in record:
        print(f"  {what}: failed: {record['error']}", file=sys.stderr)


if __name__ == "__main__":
    main()
