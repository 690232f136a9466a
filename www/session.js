// The one POP3 session of the page: wraps Pop3Client (www/pkg/popwire.js). It holds no UI.
// RFC knowledge stays in the engine: the page asks allowedCommands() and checkCommand().
//
// THE PAGE'S EVENT BUS. Modules do not call each other to say what happened; they listen.
// app.js builds every module and hands each the one `Session` (and the few direct calls of 3).
//
// 1. The session (an EventTarget) turns the API's callbacks and results into events, each a
//    CustomEvent whose `detail` is:
//      connecting  { bridge, target, timeoutMs }   before Pop3Client.connect()
//      connected   { greeting, tls, target }       after the greeting
//      transcript  TranscriptEntry                 every engine entry, in order (the entries
//                                                  made before connect() resolved come first)
//      state       SessionState                    every state change (and once on connect)
//      closed      {}                              the state became CLOSED
//      progress    Progress                        a multi-line reply streams
//      command     { command, args, raw }          a typed (run) or raw (send) command starts
//      result      { command, args, raw, ok, value | error }   ... and its outcome
//    Listeners: transcript.js (connecting, transcript, progress, result, closed), maildrop.js
//    (connecting, transcript, state, result, closed), stepper.js (connecting, connected,
//    transcript, state, result), cmdline.js (state, result), connect.js (state); `command` has
//    none today. Events of an older connection are dropped (`generation`).
// 2. Three page events on `document`, for what is not a protocol event:
//      popwire:selection    maildrop.js: the selected message changed → the stepper re-renders
//      popwire:connect-bar  connect.js: the connect form changed → the stepper re-renders
//      popwire:oversize     maildrop.js: a RETR too large to show → viewer.js offers a download
//                           ({ id, size, tooLarge, retrieve(onChunk) })
// 3. Direct calls, all wired in app.js: the maildrop's buttons run commands through
//    stepper.perform and open a message with viewer.show; the transcript asks maildrop.sizeOf
//    (LIST's size, for the progress bar); the stepper reads the connect bar and the maildrop's
//    selection; classroom.js's keys call focus(), toggleRaw() and doNext(). Commands go to the
//    server only through this session; a failed one is shown by errors.js showCommandError().

import init, { Pop3Client, checkCommand, parseMessage, explainRfc } from "./pkg/popwire.js";

let engine;
/** Loads the wasm module once. */
export function loadEngine() {
  engine ??= init();
  return engine;
}

export { checkCommand, parseMessage, explainRfc };

/** The largest message the page fetches (connect()'s maxBodyBytes), and so can save; it shows
 * at most 64 MiB (viewer.js). A RETR holds the message in wasm memory, a shown one in JS too. */
export const FETCH_MAX = 256 * 1024 * 1024;

/** Every POP3 keyword the engine knows (for completion). */
export const KEYWORDS = [
  "USER", "PASS", "APOP", "AUTH", "STLS", "CAPA", "UTF8", "LANG",
  "STAT", "LIST", "UIDL", "TOP", "RETR", "DELE", "RSET", "NOOP", "QUIT",
];

export class Session extends EventTarget {
  constructor() {
    super();
    this.client = null;
    this.state = "CLOSED";
    this.target = null;
    this.tls = null;
    this.greeting = null;
    this.lastStatusLine = null; // the server's latest status line, e.g. "-ERR [AUTH] …"
    this.lastStatusKey = null; // and its explanation key
    this.saslPending = false; // a raw AUTH is waiting for the next SASL response line
    this.timeoutMs = 30000; // connect()'s, for the messages that say how long was waited
    this.generation = 0; // bumps on every connect, so late events of an old client are ignored
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  get connected() {
    return this.client !== null && this.state !== "CLOSED";
  }

  allowedCommands() {
    if (!this.connected) return [];
    try {
      return this.client.allowedCommands();
    } catch {
      return [];
    }
  }

  /** Opens the session; resolves after the greeting. Rejects with the API's Pop3Error. */
  async connect({ bridge, target, timeoutMs }) {
    await loadEngine();
    const generation = ++this.generation; // late events of the previous client are ignored
    this.dispose();
    this.timeoutMs = timeoutMs ?? 30000;
    this.emit("connecting", { bridge, target, timeoutMs });
    const started = performance.now();
    let client;
    try {
      client = await Pop3Client.connect({ bridge, target, timeoutMs, maxBodyBytes: FETCH_MAX });
    } catch (error) {
      error.elapsedMs = performance.now() - started;
      throw error;
    }
    this.client = client;
    this.target = target;
    this.greeting = client.greeting;
    this.tls = client.tls;
    this.saslPending = false;
    this.state = client.state;
    this.emit("connected", { greeting: this.greeting, tls: this.tls, target });
    // onTranscript first hands over the entries made before it (the bridge's `connected`,
    // implicit TLS, the greeting), then each new one.
    client.onTranscript((entry) => {
      if (generation !== this.generation) return;
      if (entry.dir === "server" && !entry.explain?.key?.startsWith("body.")) {
        this.lastStatusLine = entry.text;
        this.lastStatusKey = entry.explain?.key ?? null;
      }
      this.emit("transcript", entry);
    });
    client.onStateChange((state) => {
      if (generation !== this.generation) return;
      this.state = state;
      if (state === "CLOSED") this.saslPending = false;
      this.emit("state", state);
      if (state === "CLOSED") this.emit("closed", {});
    });
    client.onProgress((p) => {
      if (generation === this.generation) this.emit("progress", p);
    });
    this.emit("state", this.state);
    return client;
  }

  /** Runs a typed command through the API. */
  async run(command, ...args) {
    const c = this.client;
    if (!c) throw notConnected();
    this.emit("command", { command, args, raw: false });
    try {
      let value;
      switch (command) {
        case "CAPA": value = await c.capa(); break;
        case "USER": value = await c.user(args[0]); break;
        case "PASS": value = await c.pass(args[0]); break;
        case "APOP": value = await c.apop(args[0], args[1]); break;
        case "AUTH": value = await c.auth(args[0], args[1], args[2]); break;
        case "STLS": value = await c.stls(); this.tls = value; break;
        case "STAT": value = await c.stat(); break;
        case "LIST": value = await (args[0] != null ? c.list(args[0]) : c.list()); break;
        case "UIDL": value = await (args[0] != null ? c.uidl(args[0]) : c.uidl()); break;
        case "TOP": value = await c.top(args[0], args[1]); break;
        case "RETR": value = await c.retr(args[0]); break;
        case "DELE": value = await c.dele(args[0]); break;
        case "RSET": value = await c.rset(); break;
        case "NOOP": value = await c.noop(); break;
        case "QUIT": value = await c.quit(); break;
        default: value = await c.send([command, ...args].join(" ")); break;
      }
      this.emit("result", { command, args, raw: false, ok: true, value });
      return value;
    } catch (error) {
      this.emit("result", { command, args, raw: false, ok: false, error });
      throw error;
    }
  }

  /** Sends a raw line as typed (`c.send`). During a SASL exchange the line is the response. */
  async send(line) {
    const c = this.client;
    if (!c) throw notConnected();
    const sasl = this.saslPending;
    const words = line.trim().split(/\s+/);
    const command = sasl ? "SASL" : (words[0] || "").toUpperCase();
    const args = sasl ? [] : words.slice(1);
    this.emit("command", { command, args, raw: true });
    try {
      const value = await c.send(line);
      this.saslPending = Boolean(value.continuation);
      this.emit("result", { command, args, raw: true, ok: value.ok, value });
      return value;
    } catch (error) {
      if (error.kind !== "input") this.saslPending = false;
      this.emit("result", { command, args, raw: true, ok: false, error });
      throw error;
    }
  }

  /** Closes the connection without QUIT. */
  close() {
    if (this.client) {
      try { this.client.close(); } catch { /* already closed */ }
    }
  }

  dispose() {
    if (this.client) {
      const old = this.client;
      this.client = null;
      try {
        if (old.state !== "CLOSED") old.close();
      } catch { /* ignore */ }
      // Free it once its last callbacks have run.
      setTimeout(() => { try { old.free(); } catch { /* ignore */ } }, 0);
    }
    this.state = "CLOSED";
  }
}

function notConnected() {
  const e = new Error("not connected");
  e.name = "Pop3Error";
  e.kind = "state";
  e.code = null;
  e.notConnected = true;
  return e;
}
