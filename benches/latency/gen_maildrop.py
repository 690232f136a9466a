#!/usr/bin/env python3
"""Writes the benchmark's maildrop: COUNT messages of MIN..MAX octets (seeded, so every run and
every server gets the same mail) as Maildir files in DIR/new/.

    gen_maildrop.py DIR [COUNT=1000] [MIN=2048] [MAX=51200] [SEED=20261201]

Text lines of 40-90 octets with CRLF ends, about 3% of them starting with a dot (so servers
dot-stuff and clients unstuff); each message has its own Message-ID and Subject. Prints the
count and total octets.
"""

import os
import random
import sys


def main():
    out = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    lo = int(sys.argv[3]) if len(sys.argv) > 3 else 2048
    hi = int(sys.argv[4]) if len(sys.argv) > 4 else 51200
    seed = int(sys.argv[5]) if len(sys.argv) > 5 else 20261201
    rng = random.Random(seed)
    words = ("post office protocol maildrop octet message server client retrieve delete "
             "update pipelining latency window unique identifier listing").split()
    for sub in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(out, sub), exist_ok=True)
    total = 0
    for i in range(1, count + 1):
        size = rng.randint(lo, hi)
        head = (f"From: sender{i % 37}@popwire.test\r\nTo: bench@popwire.test\r\n"
                f"Subject: latency benchmark message {i}\r\n"
                f"Message-ID: <{seed}.{i}@popwire.test>\r\n"
                f"Date: Mon, 1 Dec 2025 12:00:00 +0000\r\n\r\n").encode()
        parts, n = [head], len(head)
        while n < size:
            line = " ".join(rng.choice(words) for _ in range(rng.randint(5, 11)))
            if rng.random() < 0.03:
                line = "." + line
            # The last line is cut so the message ends near its size, always with CRLF.
            data = line.encode()[: max(size - n - 2, 1)] + b"\r\n"
            parts.append(data)
            n += len(data)
        body = b"".join(parts)
        total += len(body)
        with open(os.path.join(out, "new", f"1764590400.M{i}P1.popwire"), "wb") as f:
            f.write(body)
    print(f"{count} messages, {total} octets")


if __name__ == "__main__":
    main()
