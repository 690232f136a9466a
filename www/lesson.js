// Lessons as data: www/lessons/index.json lists them, www/lessons/<id>.json holds each (format:
// docs/lessons.md). This module loads them, remembers each lesson's progress in this
// browser, and evaluates a lesson against the live session: a step's check (an explanation
// key the engine put in the transcript, the connection closed without one, in a connection
// opened after the step began, the SASL mechanism the session began its exchange with), its
// prediction (against what the server then answered), and a question's answer (against a value
// the student's own session read: STAT's count, a size, a unique-id, a decoded challenge). It
// renders nothing: guide.js shows it.

/** localStorage key of every lesson's progress. */
const PROGRESS_KEY = "popwire.lessons.v1";

/** Loads the lesson index and every lesson it names. */
export async function loadLessons() {
  const get = async (name) => {
    const r = await fetch(new URL(`lessons/${name}.json`, document.baseURI));
    if (!r.ok) throw new Error(`lessons/${name}.json: HTTP ${r.status}`);
    return r.json();
  };
  const index = await get("index");
  return Promise.all(index.lessons.map((id) => get(id)));
}

/** Every lesson's progress: { [id]: { done: [step], predicted: { step: "right"|"wrong" }, answered: [question], complete } }. */
export function loadProgress() {
  try {
    return JSON.parse(localStorage.getItem(PROGRESS_KEY) || "{}") || {};
  } catch {
    return {};
  }
}

function saveProgress(all) {
  try {
    localStorage.setItem(PROGRESS_KEY, JSON.stringify(all));
  } catch { /* storage may be disabled or full: progress is then kept for this page only */ }
}

/** Arabic-Indic and Persian digits as ASCII ("۱۲۳" → "123"), so a student answers in any. */
export function asciiDigits(text) {
  return String(text).replace(/[\u0660-\u0669\u06f0-\u06f9]/g, (d) => String(d.charCodeAt(0) & 0xf));
}

/**
 * One lesson run against the page's session. `read(spec)` answers a question's value from the
 * session (guide.js asks the maildrop); `program()` is the page's mail program now
 * ({ program, policy, days }); `onChange()` is called whenever something changed.
 */
export class LessonRun {
  constructor(lesson, { read, program, onChange }) {
    this.lesson = lesson;
    this.read = read;
    this.program = program;
    this.onChange = onChange;
    this.connection = 0; // connections opened since the lesson began
    this.seen = new Set(); // explanation keys of this connection
    this.tick = 0; // counts what the session says, so a check can ask for news since its step began
    this.seenAt = new Map(); // explanation key → this.tick when last seen
    this.stepTick = 0; // this.tick when the current step became current
    this.captured = new Map(); // question id → the value read when its `at` step was done
    this.closed = false; // this connection has closed
    this.exchange = null; // this connection's latest SASL exchange: { mechanism, tick } when it began
    this.replies = new Map(); // command → { status, body, complete } of its latest reply
    this.stepAt = 0; // index of the current step
    this.stepStarted = 0; // this.connection when the current step became current
    this.predictions = new Map(); // step id → the choice made before its reply
    this.results = new Map(); // step id → { predicted, actual } once done
    this.answers = new Map(); // question id → { given, right }
    const saved = loadProgress()[lesson.id];
    this.wasComplete = Boolean(saved?.complete);
  }

  get steps() {
    return this.lesson.steps;
  }

  /** The current step, or null when every step is done. */
  get current() {
    return this.steps[this.stepAt] ?? null;
  }

  /** The last step done, or null. */
  get previous() {
    return this.steps[this.stepAt - 1] ?? null;
  }

  isDone(step) {
    return this.steps.indexOf(step) < this.stepAt;
  }

  // ----- What the session says -----------------------------------------------------------

  connecting() {
    this.connection += 1;
    this.seen.clear();
    this.seenAt.clear();
    this.closed = false;
    this.exchange = null;
    this.replies.clear();
    this.#advance();
  }

  /** The session began a SASL exchange with `mechanism` (its `sasl` event, before the AUTH line
   * is sent): a `mechanism` check asks for it, and for what was seen since. */
  exchangeStarted(mechanism) {
    this.tick += 1;
    this.exchange = { mechanism, tick: this.tick };
    this.#advance();
  }

  /**
   * connect() failed: a connection was tried and closed at once. A "server" error there is the
   * greeting's -ERR (the only reply before a session has a transcript): seen as greeting.err.
   */
  connectFailed(error) {
    this.closed = true;
    const key = error?.explain?.key;
    if (key) this.#see(key);
    if (error?.kind === "server") {
      this.#see("greeting");
      this.#see("greeting.err");
      this.replies.set("greeting", { status: "-ERR", body: false, complete: true });
    }
    this.#advance();
  }

  /** The Simulated server's second client logged in (`ok`) or was refused with `code`:
   * seen as `second.ok` or `second.<code>` (e.g. second.IN-USE); its reply is "second". */
  secondClient({ ok, code }) {
    this.#see(ok ? "second.ok" : `second.${code ?? "err"}`);
    if (!ok && code) this.secondCode = code;
    this.replies.set("second", { status: ok ? "+OK" : "-ERR", body: false, complete: true });
    this.#advance();
  }

  /** The Simulated server delivered a message: seen as `sim.delivered` (until the next connection). */
  delivered() {
    this.#see("sim.delivered");
    this.#advance();
  }

  /** The Simulated server's clock was moved on: seen as `sim.advanced`. */
  clockAdvanced() {
    this.#see("sim.advanced");
    this.#advance();
  }

  /** The page's mail program or its policy changed (a step's `program` / `policy` check). */
  programChanged({ forgotten } = {}) {
    if (forgotten) this.#see("program.forgotten");
    this.#advance();
  }

  /** "Download all new messages" ended: seen as `download.done`, and `download.deleted` when
   * the program's policy marked messages. */
  downloaded({ deleted, error }) {
    if (!error) this.#see("download.done");
    if (deleted) this.#see("download.deleted");
    this.#advance();
  }

  #see(key) {
    this.tick += 1;
    this.seen.add(key);
    this.seenAt.set(key, this.tick);
  }

  /** A widget of the lesson did something (the APOP widget: `apop.computed`, `apop.match`):
   * seen as `key` (until the next connection). */
  saw(key) {
    this.#see(key);
    this.#advance();
  }

  closedNow() {
    this.closed = true;
    this.#advance();
  }

  /** A transcript entry: its explanation key, and for a reply its command's status and body. */
  entry(entry, state) {
    const key = entry.explain?.key;
    if (!key) return;
    this.#see(key);
    // A state entry names the state just entered (the session's own may follow it).
    const entered = /^state\.([A-Z]+)$/.exec(key);
    if (entered) state = entered[1];
    const reply = /^reply\.([A-Z0-9]+)\.(ok|err)$/.exec(key);
    if (reply) this.replies.set(reply[1], { status: reply[2] === "ok" ? "+OK" : "-ERR", body: false, complete: false, state });
    const body = /^body\.([A-Z0-9]+)$/.exec(key);
    if (body && this.replies.has(body[1])) this.replies.get(body[1]).body = true;
    if (key.startsWith("greeting")) {
      this.#see("greeting"); // whichever greeting (greeting.apop, greeting.err …)
      this.replies.set("greeting", { status: entry.text?.startsWith("+OK") ? "+OK" : "-ERR", body: false, complete: true, state });
    }
    this.#advance(state);
  }

  /** A command finished (the session's `result` event): its reply is complete. */
  result(command, state) {
    const r = this.replies.get(command);
    if (r) r.complete = true;
    this.#advance(state);
    if (r) this.#save(); // a done step's prediction is judged once its reply is complete
  }

  /** The prediction for the current step (before its reply). */
  predict(choice) {
    const step = this.current;
    if (!step?.predict) return;
    this.predictions.set(step.id, choice);
    this.onChange();
  }

  /** Checks a question's answer against the session; returns "right", "wrong" or "unknown". */
  answer(question, given) {
    // A choice question's answer is in the lesson (what the RFCs say); a read one's in the session.
    const a = question.answer;
    const value = a.choice ?? (a.at ? this.captured.get(question.id) : this.read(a));
    if (value == null) return "unknown";
    const right = asciiDigits(given).trim().toLowerCase() === String(value).trim().toLowerCase();
    this.answers.set(question.id, { given, right });
    this.#save();
    this.onChange();
    return right ? "right" : "wrong";
  }

  // ----- Steps ---------------------------------------------------------------------------

  /** Whether a step's check holds now. */
  #holds(step) {
    const c = step.check;
    if (c.new && this.connection <= this.stepStarted) return false;
    // `mechanism`: this connection's latest SASL exchange began with it (AUTH LOGIN), and what
    // `seen` asks for was seen since it began.
    if (c.mechanism && this.exchange?.mechanism !== c.mechanism) return false;
    // `seen`: one key, or a list of which any will do; with `fresh`, seen since the step began.
    const since = Math.max(c.fresh ? this.stepTick : -1, c.mechanism ? this.exchange.tick : -1);
    const seen = (k) => this.seen.has(k) && this.seenAt.get(k) > since;
    if (c.seen && ![c.seen].flat().some(seen)) return false;
    if (c.notSeen && this.seen.has(c.notSeen)) return false;
    if (c.closed && !this.closed) return false;
    if (c.program || c.policy) {
      const now = this.program?.() ?? {};
      if (c.program && now.program !== c.program) return false;
      if (c.policy && now.policy !== c.policy) return false;
    }
    if (c.days != null && this.program?.().days !== c.days) return false;
    return true;
  }

  #advance(state) {
    let moved = false;
    while (this.current && this.#holds(this.current)) {
      const step = this.current;
      this.results.set(step.id, { predicted: this.predictions.get(step.id) ?? null, state });
      // A question `at` this step reads its value now (a later step may change it).
      for (const q of this.lesson.questions ?? []) {
        if (q.answer.at === step.id) this.captured.set(q.id, this.read(q.answer));
      }
      this.stepAt += 1;
      this.stepStarted = this.connection;
      this.stepTick = this.tick;
      moved = true;
    }
    if (moved) this.#save();
    this.onChange();
  }

  /**
   * What the server's answer says for a done step's prediction, from the live session:
   * "status" (+OK / -ERR of its reply), "lines" ("one" / "many": a body followed), "state"
   * (the session's state when the step was done). Null until the reply is complete.
   */
  actual(step) {
    const p = step.predict;
    if (!p) return null;
    if (p === "state") return this.results.get(step.id)?.state ?? null;
    const r = this.replies.get(step.command ?? step.reply ?? "greeting");
    if (!r || !r.complete) return null;
    return p === "status" ? r.status : r.body ? "many" : "one";
  }

  /** A done step's prediction outcome: "right", "wrong", "none" (not predicted) or null (pending). */
  outcome(step) {
    if (!step.predict || !this.results.has(step.id)) return null;
    const predicted = this.results.get(step.id).predicted;
    if (predicted == null) return "none";
    const actual = this.actual(step);
    if (actual == null) return null;
    return predicted === actual ? "right" : "wrong";
  }

  /** Complete: every step done, every prediction made, every question answered right. */
  get complete() {
    if (this.current) return false;
    const predicted = this.steps.filter((s) => s.predict).every((s) => this.results.get(s.id)?.predicted != null);
    const answered = (this.lesson.questions ?? []).every((q) => this.answers.get(q.id)?.right);
    return predicted && answered;
  }

  #save() {
    const all = loadProgress();
    const before = all[this.lesson.id] ?? {};
    const predicted = {};
    for (const s of this.steps) {
      const o = this.outcome(s);
      if (o === "right" || o === "wrong") predicted[s.id] = o;
    }
    const complete = this.complete || Boolean(before.complete);
    const done = this.steps.slice(0, this.stepAt).map((s) => s.id);
    all[this.lesson.id] = {
      // The furthest any run got.
      done: (before.done?.length ?? 0) > done.length ? before.done : done,
      predicted,
      answered: [...this.answers].filter(([, a]) => a.right).map(([id]) => id),
      complete,
    };
    saveProgress(all);
  }
}
