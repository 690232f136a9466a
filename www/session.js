// The one POP3 session of the page: wraps Pop3Client (www/pkg/popwire.js). It holds no UI.
// RFC knowledge stays in the engine: the page asks commands() (every command, its arguments,
// which are secret, its states), allowedCommands(), check(line) (what send() would do, with the
// session's state, UTF-8 mode and SASL exchange), awaitingSaslResponse, and reads what the
// engine parsed (a raw reply's `parsed`, an entry's `answers` / `rttMs` / `challenge`, an
// error's `code` / `serverText`). No list of POP3 keywords lives in www/ (tests/page_asks_engine.rs).
//
// THE PAGE'S EVENT BUS. Modules do not call each other to say what happened; they listen.
// app.js builds every module and hands each the one `Session` (and the few direct calls of 3).
//
// 1. The session (an EventTarget) turns the API's callbacks and results into events, each a
//    CustomEvent whose `detail` is:
//      connecting  { bridge, target, timeoutMs }   before Pop3Client.connect()
//      connected   { greeting, tls, target }       after the greeting
//      connect-failed { error }                    connect() rejected (an -ERR greeting: a
//                                                  "server" error, before any transcript)
//      transcript  TranscriptEntry                 every engine entry, in order (the entries
//                                                  made before connect() resolved come first)
//      state       SessionState                    every state change (and once on connect)
//      closed      {}                              the state became CLOSED
//      progress    Progress                        a multi-line reply streams
//      wire        WireSample                      what crossed the wire below TLS (the bridge's
//                                                  `wire` message, via onWire); wire.js shows it
//      command     { command, args, raw }          a typed (run) or raw (send) command starts
//      sasl        { mechanism }                   ... and it starts a SASL exchange (AUTH LOGIN)
//      result      { command, args, raw, ok, value | error }   ... and its outcome
//    Listeners: guide.js (connecting, connect-failed, transcript, result, closed, sasl),
//    transcript.js (connecting, transcript, progress, result, closed), maildrop.js
//    (connecting, transcript, state, result, closed), stepper.js (connecting, connected,
//    transcript, state, result), cmdline.js (state, result), connect.js (state), wire.js
//    (connecting, transcript, wire, closed); `command` has
//    none today. Events of an older connection are dropped (`generation`).
// 2. Five page events on `document`, for what is not a protocol event of the page's session:
//      popwire:selection    maildrop.js: the selected message changed → the stepper re-renders
//      popwire:connect-bar  connect.js: the connect form changed → the stepper re-renders
//      popwire:oversize     maildrop.js: a RETR too large to show → viewer.js offers a download
//                           ({ id, size, tooLarge, retrieve(onChunk) })
//      popwire:second-client  simulated.js: the second client's login ({ ok, code }) → guide.js
//      popwire:delivered    simulated.js: a message was delivered ({ user }) → guide.js
// 3. Direct calls, all wired in app.js: the maildrop's buttons run commands through
//    stepper.perform and open a message with viewer.show; the transcript asks maildrop.sizeOf
//    (LIST's size, for the progress bar); the stepper reads the connect bar and the maildrop's
//    selection; classroom.js's keys call focus(), toggleRaw() and doNext(). Commands go to the
//    server only through this session; a failed one is shown by errors.js showCommandError().

import init, {
  Pop3Client, checkCommand, explainRfc, commands, saslResponse, bridgeRefusals, demoTargets,
  parseCapabilities, apopDigest,
} from "./pkg/popwire.js";

let engine;
/** Loads the wasm module once. */
export function loadEngine() {
  engine ??= init();
  return engine;
}

export { checkCommand, explainRfc, saslResponse, bridgeRefusals, demoTargets, parseCapabilities, apopDigest };

let table;
/** The engine's command metadata (commands()), by name; after loadEngine(). */
export function commandTable() {
  table ??= new Map(commands().map((c) => [c.name, c]));
  return table;
}

/** The largest message the page fetches (connect()'s maxBodyBytes), and so can save; it shows
 * at most 64 MiB (viewer.js). A RETR holds the message in wasm memory, a shown one in JS too. */
export const FETCH_MAX = 256 * 1024 * 1024;

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
    this.challenge = null; // the SASL challenge of the exchange typed by hand, decoded by the engine
    this.challengeStep = 0; // how many challenges of that exchange came (0 = the first)
    this.mechanism = null; // the SASL mechanism of this connection's latest AUTH (noteMechanism)
    this.timeoutMs = 30000; // connect()'s, for the messages that say how long was waited
    this.generation = 0; // bumps on every connect, so late events of an old client are ignored
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  get connected() {
    return this.client !== null && this.state !== "CLOSED";
  }

  /** A SASL response is awaited: the next line sent answers the server's "+" challenge. */
  get saslPending() {
    if (!this.connected) return false;
    try {
      return this.client.awaitingSaslResponse;
    } catch {
      return false;
    }
  }

  /**
   * What send(line) would do now: the engine's check on this session, or, without one,
   * checkCommand() in AUTHORIZATION before UTF8 (what a fresh session allows).
   */
  check(line) {
    if (this.connected) {
      try {
        return this.client.check(line);
      } catch { /* freed: checked as without a session */ }
    }
    return checkCommand(line, "AUTHORIZATION", false);
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
      if (generation === this.generation) this.emit("connect-failed", { error });
      throw error;
    }
    this.client = client;
    this.target = target;
    this.greeting = client.greeting;
    this.tls = client.tls;
    this.challenge = null;
    this.mechanism = null;
    this.state = client.state;
    this.emit("connected", { greeting: this.greeting, tls: this.tls, target });
    // onTranscript first hands over the entries made before it (the bridge's `connected`,
    // implicit TLS, the greeting), then each new one.
    client.onTranscript((entry) => {
      if (generation !== this.generation) return;
      if (entry.dir === "server" && entry.answers != null && entry.rttMs != null) {
        // A status line or a SASL challenge (a body has no round trip of its own).
        this.lastStatusLine = entry.text;
        this.lastStatusKey = entry.explain?.key ?? null;
        if (entry.challenge) this.challengeStep = this.challenge ? this.challengeStep + 1 : 0;
        this.challenge = entry.challenge ?? null;
      }
      this.emit("transcript", entry);
    });
    client.onStateChange((state) => {
      if (generation !== this.generation) return;
      this.state = state;
      this.emit("state", state);
      if (state === "CLOSED") this.emit("closed", {});
    });
    client.onProgress((p) => {
      if (generation === this.generation) this.emit("progress", p);
    });
    // What crosses the wire below TLS, as the bridge reports it (wire.js shows it).
    this.wire = null;
    client.onWire((sample) => {
      if (generation !== this.generation) return;
      this.wire = sample;
      this.emit("wire", sample);
    });
    this.emit("state", this.state);
    return client;
  }

  /**
   * A command whose first argument is a SASL mechanism (the engine's metadata: AUTH) starts an
   * exchange: remembers its mechanism, upper case, until the next one or the next connection,
   * and says so (`sasl`) before the command's line is sent.
   */
  noteMechanism(command, args) {
    if (commandTable().get(command)?.args[0]?.kind !== "mechanism") return;
    this.mechanism = String(args[0] ?? "").toUpperCase() || null;
    this.emit("sasl", { mechanism: this.mechanism });
  }

  /** Runs a typed command through the API. */
  async run(command, ...args) {
    const c = this.client;
    if (!c) throw notConnected();
    this.noteMechanism(command, args);
    this.emit("command", { command, args, raw: false });
    try {
      // The API has one method per command the engine types (c.stat(), c.retr(id), …); a
      // command without one is sent as a raw line.
      const method = commandTable().has(command) ? c[command.toLowerCase()] : null;
      const value = typeof method === "function"
        ? await method.apply(c, args.filter((a) => a != null))
        : await c.send([command, ...args].join(" "));
      if (c.tls) this.tls = c.tls;
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
    const check = this.check(line);
    const sasl = check.ok && check.saslResponse;
    const words = line.trim().split(/\s+/);
    const command = sasl ? "SASL" : (check.ok ? check.command : (words[0] || "").toUpperCase());
    const args = sasl ? [] : words.slice(1);
    if (check.ok && !sasl) this.noteMechanism(check.keyword, args);
    this.emit("command", { command, args, raw: true });
    try {
      const value = await c.send(line);
      this.emit("result", { command, args, raw: true, ok: value.ok, value });
      return value;
    } catch (error) {
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
