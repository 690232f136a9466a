#!/usr/bin/env python3
"""A userspace TCP proxy on 127.0.0.1 that adds a fixed one-way delay to each direction.

    delay_proxy.py --upstream 127.0.0.1:PORT --delay-ms 25 --ready-file FILE [--listen-port 0]

Every chunk read from one side is stamped with the time it was read and written to the other
side at that time + the delay, in order; chunks that are due together go out in one write.
Reading never waits for writing (the queue between them is unbounded), so the link has the
delay but no bandwidth limit of its own: what limits throughput is loopback and the two ends.
Both sockets get TCP_NODELAY, so Nagle's algorithm adds nothing. When the port is bound, the
port number is written to the ready file (atomically). Loopback only: it listens on 127.0.0.1.
"""

import argparse
import asyncio
import collections
import os
import socket

CHUNK = 256 * 1024


async def pump(reader, writer, delay, loop):
    """Copies reader to writer, each chunk released `delay` seconds after it was read."""
    queue = collections.deque()
    ready = asyncio.Event()
    eof = False

    async def read_side():
        nonlocal eof
        try:
            while True:
                data = await reader.read(CHUNK)
                if not data:
                    break
                queue.append((loop.time() + delay, data))
                ready.set()
        except (ConnectionError, OSError):
            pass
        eof = True
        ready.set()

    async def write_side():
        try:
            while True:
                if not queue:
                    if eof:
                        break
                    ready.clear()
                    await ready.wait()
                    continue
                due, _ = queue[0]
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                now = loop.time()
                batch = []
                while queue and queue[0][0] <= now:
                    batch.append(queue.popleft()[1])
                if batch:
                    writer.write(b"".join(batch) if len(batch) > 1 else batch[0])
                    await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()
        except (ConnectionError, OSError):
            pass

    await asyncio.gather(read_side(), write_side())


async def handle(client_reader, client_writer, upstream, delay):
    loop = asyncio.get_running_loop()
    host, port = upstream
    try:
        server_reader, server_writer = await asyncio.open_connection(host, port)
    except OSError:
        client_writer.close()
        return
    for w in (client_writer, server_writer):
        sock = w.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        await asyncio.gather(
            pump(client_reader, server_writer, delay, loop),
            pump(server_reader, client_writer, delay, loop),
        )
    finally:
        for w in (client_writer, server_writer):
            w.close()


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True, help="HOST:PORT to forward to")
    parser.add_argument("--delay-ms", type=float, default=25.0, help="one-way delay in ms")
    parser.add_argument("--listen-port", type=int, default=0)
    parser.add_argument("--ready-file", required=True)
    args = parser.parse_args()
    host, _, port = args.upstream.rpartition(":")
    upstream = (host, int(port))
    delay = args.delay_ms / 1000.0
    server = await asyncio.start_server(
        lambda r, w: handle(r, w, upstream, delay), "127.0.0.1", args.listen_port, limit=CHUNK
    )
    bound = server.sockets[0].getsockname()[1]
    with open(args.ready_file + ".tmp", "w") as f:
        f.write(str(bound))
    os.rename(args.ready_file + ".tmp", args.ready_file)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
