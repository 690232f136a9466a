// The in-browser teaching POP3 server: a SIMULATED server running in this Web Worker, on the
// module pkg/popwire_server.js (crate in-browser-server/, loaded only here). The message
// protocol is docs/in-browser-server.md; in short:
//
// - { id, op: "connect", port }: a new connection. `port` (a transferred MessagePort) then
//   carries the connection exactly like a TCP stream: { data: Uint8Array } both ways,
//   { op: "close" } both ways (the worker's carries a `reason`); the worker's first message on
//   it is { op: "open", conn }.
// - { id, op: "advance" | "time" | "deliver" | "reset" | "faults" | "view" | "connections" }:
//   the controls, answered { id, ok: true, result } or { id, ok: false, error }.
// - The worker posts { event: "changed", now } when what `view`/`connections` show may have
//   changed (a connection opened or closed, a command arrived, the clock jumped, mail came).
//
// The virtual clock starts at 0 and moves with real time (performance.now() deltas) plus the
// jumps of `advance`. A slow link (faults latencyMs / bandwidth) is applied here, in both
// directions: each chunk is cut into slices of SLICE_MS worth of bytes, each slice leaves when
// the link is free and arrives `latencyMs` later; the server is asked for its next chunk only
// once the link is free again, as TCP would push back.

import init, { ServerHost } from "./pkg/popwire_server.js";

/** With a bandwidth, a chunk is cut into slices of this many milliseconds' worth of bytes. */
const SLICE_MS = 50;

let host = null;
let last = 0;
let clockTimer = null;
const conns = new Map();

const ready = init().then(() => {
  const seed = crypto.getRandomValues(new Uint32Array(1))[0];
  host = new ServerHost(seed);
  last = performance.now();
});

/** Moves the virtual clock by the real time since the last call (running timers now due). */
function sync() {
  const now = performance.now();
  host.advance(now - last);
  last = now;
}

function changed() {
  self.postMessage({ event: "changed", now: host.now() });
}

/**
 * One direction of a connection's link: items ({ data } or { close }) leave in order, each at
 * its time. `free` is when the link has finished sending what it was given (performance.now()).
 */
class Pipe {
  constructor(deliver) {
    this.deliver = deliver;
    this.queue = [];
    this.timer = null;
    this.free = 0;
    this.lastAt = 0;
  }

  /** Queues `data` (a Uint8Array) or a close (`data` null, `close` the reason). */
  push(data, link, close) {
    const now = performance.now();
    const latency = Math.max(0, Number(link?.latencyMs) || 0);
    const bandwidth = Number(link?.bandwidth) || 0;
    const start = Math.max(now, this.free);
    if (data && bandwidth > 0) {
      const slice = Math.max(1, Math.round((bandwidth * SLICE_MS) / 1000));
      let t = start;
      for (let i = 0; i < data.length; i += slice) {
        const part = data.subarray(i, Math.min(data.length, i + slice));
        t += (part.length * 1000) / bandwidth;
        this.enqueue(t + latency, { data: part });
      }
      this.free = t;
    } else {
      this.enqueue(start + latency, data ? { data } : { close });
    }
    this.run();
  }

  enqueue(at, item) {
    // Never before an earlier item: a link made faster does not reorder the stream.
    this.lastAt = Math.max(this.lastAt, at);
    this.queue.push({ at: this.lastAt, ...item });
  }

  run() {
    clearTimeout(this.timer);
    this.timer = null;
    while (this.queue.length && this.queue[0].at <= performance.now()) {
      this.deliver(this.queue.shift());
    }
    if (this.queue.length) {
      this.timer = setTimeout(() => this.run(), this.queue[0].at - performance.now());
    }
  }

  stop() {
    clearTimeout(this.timer);
    this.queue = [];
  }
}

/** A connection: the server side of one MessagePort. */
class Conn {
  constructor(id, port) {
    this.id = id;
    this.port = port;
    this.link = host.faults(id) || {};
    this.done = false;
    this.closing = false;
    this.pumpTimer = null;
    this.down = new Pipe((item) => this.toClient(item));
    this.up = new Pipe((item) => this.fromClient(item));
    port.onmessage = (e) => {
      const m = e.data || {};
      if (this.done) return;
      if (m.data instanceof Uint8Array) this.up.push(m.data, this.link);
      else if (m.op === "close") this.up.push(null, this.link, "client");
    };
  }

  toClient(item) {
    if (this.done) return;
    if (item.data) {
      const bytes = item.data.slice();
      this.port.postMessage({ data: bytes }, [bytes.buffer]);
    } else {
      this.port.postMessage({ op: "close", reason: item.close });
      this.finish();
    }
  }

  fromClient(item) {
    if (this.done) return;
    sync();
    if (item.data) {
      try {
        host.feed(this.id, item.data);
      } catch {
        return this.finish();
      }
      this.pump();
    } else {
      this.finish();
    }
    changed();
  }

  /** Takes what the server has to send while the link is free; then sees whether it closed. */
  pump() {
    if (this.done || this.closing) return;
    clearTimeout(this.pumpTimer);
    this.pumpTimer = null;
    sync();
    for (;;) {
      const wait = this.down.free - performance.now();
      if (wait > 0) {
        this.pumpTimer = setTimeout(() => this.pump(), wait);
        return;
      }
      const bytes = host.transmit(this.id);
      if (!bytes) break;
      this.down.push(bytes, this.link);
    }
    const reason = host.closed(this.id);
    if (reason !== undefined) {
      this.closing = true;
      this.down.push(null, this.link, reason);
      changed();
    }
    armClock();
  }

  /** The connection is over (either side): the lock is released, nothing is deleted. */
  finish() {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.pumpTimer);
    this.up.stop();
    this.down.stop();
    host.close(this.id);
    conns.delete(this.id);
    this.port.onmessage = null;
    this.port.close();
    armClock();
    changed();
  }
}

/** One timer for the sessions' next deadline (autologout, a held failed-login reply). */
function armClock() {
  clearTimeout(clockTimer);
  clockTimer = null;
  const due = host.pollTimeout();
  if (due === undefined) return;
  clockTimer = setTimeout(onClock, Math.max(0, due - host.now()));
}

function onClock() {
  sync();
  pumpAll();
  armClock();
}

function pumpAll() {
  for (const c of conns.values()) c.pump();
}

const ops = {
  connect({ port }) {
    if (!(port instanceof MessagePort)) throw new Error("connect: transfer a MessagePort as port");
    sync();
    const id = host.connect();
    // First on the port: which connection this is (view's lockedBy, faults' target).
    port.postMessage({ op: "open", conn: id });
    const c = new Conn(id, port);
    conns.set(id, c);
    c.pump();
    changed();
    return { conn: id };
  },
  advance({ ms }) {
    if (!(Number(ms) >= 0)) throw new Error("advance: ms must be a number ≥ 0");
    sync();
    host.advance(Number(ms));
    pumpAll();
    armClock();
    changed();
    return { now: host.now() };
  },
  time() {
    sync();
    return { now: host.now(), nextTimeout: host.pollTimeout() ?? null };
  },
  deliver({ user, bytes, text }) {
    const message = bytes instanceof Uint8Array ? bytes : new TextEncoder().encode(String(text ?? ""));
    const result = host.deliver(String(user), message);
    changed();
    return result;
  },
  reset({ user }) {
    host.reset(String(user));
    changed();
    return null;
  },
  faults({ target, faults }) {
    host.setFaults(target, faults ?? {});
    const c = typeof target === "number" ? conns.get(target) : null;
    if (c) {
      c.link = host.faults(c.id) || {};
      c.pump();
    }
    changed();
    return null;
  },
  view({ user }) {
    sync();
    return host.view(String(user));
  },
  connections() {
    sync();
    return host.connections();
  },
};

self.addEventListener("message", async (e) => {
  const { id, op } = e.data || {};
  try {
    await ready;
    const run = Object.hasOwn(ops, op) ? ops[op] : null;
    if (!run) throw new Error(`unknown request ${op}`);
    self.postMessage({ id, ok: true, result: run(e.data) });
  } catch (error) {
    const message = String(error?.message || error);
    // A connection that could not be made is closed on its port too (e.g. the module failed).
    if (op === "connect" && e.data.port instanceof MessagePort) {
      e.data.port.postMessage({ op: "close", reason: "error", error: message });
      e.data.port.close();
    }
    self.postMessage({ id, ok: false, error: message });
  }
});
