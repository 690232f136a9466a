#!/usr/bin/env python3
"""Runs a command and prints {"wallMs": …, "maxRssKb": …, "rc": …} for it (the child's peak
resident set from wait4's rusage), its stdout going to stderr so the JSON line stands alone.

    measure.py -- COMMAND ARGS...
"""

import json
import os
import subprocess
import sys
import time


def main():
    argv = sys.argv[1:]
    if argv and argv[0] == "--":
        argv = argv[1:]
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=sys.stderr)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = (time.perf_counter() - t0) * 1e3
    rc = os.waitstatus_to_exitcode(status)
    print(json.dumps({"wallMs": round(wall, 1), "maxRssKb": usage.ru_maxrss, "rc": rc}))


if __name__ == "__main__":
    main()
