#!/usr/bin/env python3
"""Writes small seed inputs for the fuzz targets into corpus/<target>/ (see ../README.md)."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "corpus")


def write(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def client(flags, ops, sizes, server):
    return bytes([flags, len(ops)]) + bytes(ops) + bytes([len(sizes)]) + bytes(sizes) + server


G, APOP_G, LOGIN, PIPE = 1, 2, 64, 4
client_seeds = {
    "retr": client(G | LOGIN, [7], [5, 7, 11],
                   b"+OK 120 octets\r\nSubject: hi\r\n\r\n..dot line\r\nbody\r\n.\r\n"),
    "capa-pipelining": client(G | PIPE, [10, 0, 1, 2, 3], [40, 10],
                              b"+OK\r\nPIPELINING\r\nSASL PLAIN LOGIN\r\nTOP\r\nUIDL\r\n.\r\n"
                              b"+OK\r\n+OK\r\n+OK 2 320\r\n+OK\r\n1 120\r\n2 200\r\n.\r\n"),
    "cram-md5": client(G, [14], [20],
                       b"+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n+OK\r\n"),
    "login": client(G, [13], [8, 10],
                    b"+ VXNlcm5hbWU6\r\n+ UGFzc3dvcmQ6\r\n+OK logged in\r\n"),
    "plain": client(G, [12], [], b"+OK\r\n"),
    "plain-bad": client(G, [12], [], b"-ERR [AUTH] no\r\n"),
    "stls": client(G, [11, 10], [15], b"+OK begin TLS\r\n+OK\r\nSTLS\r\nPIPELINING\r\n.\r\n"),
    "raw-auth": client(G, [22, 26, 37], [4, 5], b"+ \r\n+OK\r\n-ERR no\r\n"),
    "uidl-list-top": client(G | LOGIN, [5, 3, 8, 6, 4], [30, 30, 30, 30],
                            b"+OK\r\n1 whqtswO00WBw418f9t5JxYwZ\r\n2 QhdPYR:00WBw1Ph7x7\r\n.\r\n"
                            b"+OK 2 messages\r\n1 120\r\n2 200\r\n.\r\n"
                            b"+OK\r\nSubject: x\r\n\r\n.\r\n+OK 2 QhdPYR:00WBw1Ph7x7\r\n+OK 1 120\r\n"),
    "apop": client(APOP_G, [17, 2], [], b"+OK maildrop locked\r\n+OK 1 120\r\n"),
    "quit": client(G | LOGIN, [16, 15], [], b"+OK deleted\r\n+OK bye\r\n"),
    "no-greeting": client(0, [0], [3], b"+OK hi\r\n+OK\r\n"),
    "raw-retr-utf8": client(G, [35, 39, 40, 30, 36], [],
                            b"+OK UTF8 on\r\n+OK\r\n+OK\r\n+OK\r\nli\xc3\xa9ne\r\n.\r\n+OK\r\nen English\r\n.\r\n"),
}
for name, data in client_seeds.items():
    write("client_replies", name, data)


def body(flags, cuts, payload):
    return bytes([flags, len(cuts)]) + b"".join(struct.pack("<H", c) for c in cuts) + payload


body_seeds = {
    "plain": body(0, [3, 9], b"line 1\r\n..dot\r\n.\r\n"),
    "bare-lf": body(4, [1], b"a\nb\r\n..c\n.\n"),
    "dot-cr": body(2, [1, 2], b".\rx\r\n.\r\n"),
    "mail": body(4, [10, 50], b"From: a@b\r\nSubject: s\r\n\r\n.hidden\nlast"),
    "capped": body(3, [], b"0123456789" * 10 + b"\r\n.\r\ntrailing"),
}
for name, data in body_seeds.items():
    write("body_chunks", name, data)

lines = [b"USER alice", b"PASS secret with spaces", b"APOP mrose c4c9334bac560ecc979e58001b3e22fb",
         b"AUTH PLAIN AGFsaWNlAHNlY3JldA==", b"auth cram-md5", b"LIST 1", b"TOP 1 10", b"RETR 007",
         b"xyzz a b", b"LANG de", b"UIDL\r\n", b"STAT\n", b"QUIT", b"USER \xc3\xa9l\xc3\xa8ve"]
for i, line in enumerate(lines):
    write("command_line", str(i), bytes([i & 1]) + line)
