#!/usr/bin/env python3
"""The Python poplib runner of the latency benchmark: one full sync, one command at a time
(poplib never pipelines), printed as one JSON line like the native runner's.

    sync_poplib.py HOST PORT USER PASS

connect, greeting, CAPA, USER, PASS, UIDL, RETR of every message (each counted and dropped),
QUIT. totalMs is from before connect to the QUIT reply; peakRssKb is ru_maxrss at the end,
idleRssKb after login.
"""

import json
import poplib
import resource
import sys
import time


def main():
    host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    t0 = time.perf_counter()
    pop = poplib.POP3(host, port, timeout=120)
    pop.capa()
    pop.user(user)
    pop.pass_(password)
    login_ms = (time.perf_counter() - t0) * 1e3
    idle = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t1 = time.perf_counter()
    _, listing, _ = pop.uidl()
    uidl_ms = (time.perf_counter() - t1) * 1e3
    ids = [int(line.split()[0]) for line in listing]
    t2 = time.perf_counter()
    messages = octets = 0
    for i in ids:
        _, lines, _ = pop.retr(i)
        messages += 1
        octets += sum(len(line) + 2 for line in lines)
    retr_ms = (time.perf_counter() - t2) * 1e3
    pop.quit()
    total_ms = (time.perf_counter() - t0) * 1e3
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"client": "poplib", "mode": "await", "messages": messages, "bytes": octets,
                      "totalMs": round(total_ms, 1), "loginMs": round(login_ms, 1),
                      "uidlMs": round(uidl_ms, 1), "retrMs": round(retr_ms, 1),
                      "idleRssKb": idle, "peakRssKb": peak}))


if __name__ == "__main__":
    main()
