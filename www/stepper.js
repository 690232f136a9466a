// Step by step: the state diagram (AUTHORIZATION → TRANSACTION → UPDATE, current state lit,
// transitions animated), the "next step" guide through the canonical session, and a button
// for each command valid now (from the engine's allowedCommands()) with its one-line
// explanation (engine key cmd.X).

import { t, explain, onLanguageChange } from "./i18n.js";
import { showCommandError } from "./errors.js";
import { clearNotice, announce, showNotice } from "./notice.js";
import { commandTable } from "./session.js";

const STATES = ["AUTHORIZATION", "TRANSACTION", "UPDATE"];

/** The canonical session; a step is done when the engine's transcript shows its key. */
const STEPS = [
  { id: "connect", key: "greeting" },
  { id: "capa", key: "reply.CAPA.ok", command: "CAPA" },
  { id: "login", key: "state.TRANSACTION" },
  { id: "stat", key: "reply.STAT.ok", command: "STAT" },
  { id: "list", key: "reply.LIST.ok", command: "LIST" },
  { id: "uidl", key: "reply.UIDL.ok", command: "UIDL" },
  { id: "top", key: "reply.TOP.ok", command: "TOP" },
  { id: "retr", key: "reply.RETR.ok", command: "RETR" },
  { id: "dele", key: "reply.DELE.ok", command: "DELE" },
  { id: "quit", key: "reply.QUIT.ok", command: "QUIT" },
];

/** A login command: one that carries the user's name or a secret (the engine's metadata). */
function isLogin(command) {
  return commandTable().get(command)?.args.some((a) => a.secret || a.name === "name") ?? false;
}

export class Stepper {
  /**
   * @param {object} ctx { session, connectBar, selectedMessage: () => number, topLines: () => number }
   */
  constructor(ctx) {
    this.ctx = ctx;
    this.session = ctx.session;
    this.seen = new Set();
    this.finished = false; // QUIT completed: the whole session was walked through
    this.previousState = "CLOSED";
    this.visited = new Set();
    this.stepsEl = document.getElementById("guide-steps");
    this.doBtn = document.getElementById("guide-do");
    this.buttonsEl = document.getElementById("command-buttons");
    this.statesEl = document.getElementById("states");

    const s = this.session;
    s.addEventListener("connecting", () => {
      this.seen.clear();
      this.finished = false;
      this.visited.clear();
    });
    s.addEventListener("connected", () => {
      this.seen.add("greeting");
      this.render();
    });
    s.addEventListener("transcript", (e) => {
      const key = e.detail.explain?.key;
      if (key) this.seen.add(key);
      if (key === "reply.QUIT.ok" && this.seen.has("state.TRANSACTION")) this.finished = true;
      if (e.detail.dir !== "client") this.renderSoon();
    });
    s.addEventListener("state", (e) => this.#onState(e.detail));
    s.addEventListener("result", () => this.renderSoon());
    this.doBtn.addEventListener("click", () => this.doNext());
    onLanguageChange(() => this.render());
    this.#buildSteps();
    this.render();
  }

  #buildSteps() {
    this.stepsEl.replaceChildren();
    for (const step of STEPS) {
      const li = document.createElement("li");
      li.dataset.step = step.id;
      this.stepsEl.append(li);
    }
  }

  renderSoon() {
    if (this.pending) return;
    this.pending = true;
    queueMicrotask(() => {
      this.pending = false;
      this.render();
    });
  }

  #onState(state) {
    const prev = this.previousState;
    this.previousState = state;
    if (STATES.includes(state)) this.visited.add(state);
    // Animate the arrow of the transition just taken.
    if (STATES.includes(prev) && STATES.includes(state) && prev !== state) {
      const arrow = this.statesEl.querySelector(`.arrow[data-from="${prev}"]`);
      if (arrow) {
        arrow.classList.remove("flow");
        void arrow.offsetWidth; // restart the animation
        arrow.classList.add("flow");
        setTimeout(() => arrow.classList.remove("flow"), 1600);
      }
    }
    if (state !== "CLOSED") announce(t("session.state-now", { state }));
    this.render();
  }

  /** The first step not done yet (null when the session is complete). */
  nextStep() {
    if (this.finished) return null;
    if (!this.session.connected) return STEPS[0];
    return STEPS.find((s) => !this.seen.has(s.key)) ?? null;
  }

  render() {
    this.#renderStates();
    this.#renderGuide();
    this.#renderButtons();
  }

  #renderStates() {
    const state = this.session.connected ? this.session.state : "CLOSED";
    for (const li of this.statesEl.querySelectorAll(".state")) {
      const s = li.dataset.state;
      const current = s === state;
      li.classList.toggle("current", current);
      li.classList.toggle("visited", this.visited.has(s) && !current);
      if (current) li.setAttribute("aria-current", "step");
      else li.removeAttribute("aria-current");
    }
    document.getElementById("state-now").dataset.state = state;
    const ex = explain(`state.${state}`);
    document.getElementById("state-explain").textContent = ex ? ex.short : "";
  }

  #renderGuide() {
    const next = this.nextStep();
    const n = this.ctx.selectedMessage();
    const lines = this.ctx.topLines();
    const { method } = this.ctx.connectBar.credentials();
    const vars = { n, lines, method: method === "USER" ? "USER + PASS" : method };
    for (const li of this.stepsEl.children) {
      const step = STEPS.find((s) => s.id === li.dataset.step);
      const done = this.finished || (this.session.connected && this.seen.has(step.key));
      li.textContent = t(`guide.${step.id}.title`, vars);
      li.classList.toggle("done", done);
      li.classList.toggle("current", next === step);
      if (next === step) li.setAttribute("aria-current", "step");
      else li.removeAttribute("aria-current");
    }
    const box = document.getElementById("guide-current");
    const title = box.querySelector(".guide-step-title");
    const what = box.querySelector(".guide-what");
    const look = box.querySelector(".guide-look span");
    box.dataset.step = next ? next.id : "done";
    if (!next) {
      title.textContent = t("guide.done.title");
      what.textContent = t("guide.done.what");
      look.textContent = t("guide.done.look");
      this.doBtn.textContent = t("guide.done.do");
    } else {
      title.textContent = t(`guide.${next.id}.title`, vars);
      what.textContent = t(`guide.${next.id}.what`, vars);
      look.textContent = t(`guide.${next.id}.look`, vars);
      this.doBtn.textContent = t(`guide.${next.id}.do`, vars);
    }
    this.doBtn.disabled = this.ctx.connectBar.busy || (!this.session.connected && !this.ctx.connectBar.ready);
  }

  #renderButtons() {
    const allowed = this.session.allowedCommands();
    document.getElementById("commands-empty").hidden = allowed.length > 0;
    const existing = new Map([...this.buttonsEl.children].map((b) => [b.dataset.command, b]));
    const frag = document.createDocumentFragment();
    for (const command of allowed) {
      const btn = existing.get(command) ?? this.#makeButton(command);
      btn.querySelector(".cmd").textContent = this.#preview(command);
      const ex = explain(`cmd.${command}`);
      btn.querySelector(".short").textContent = ex ? ex.short : "";
      btn.title = ex ? ex.long : "";
      frag.append(btn);
    }
    this.buttonsEl.replaceChildren(frag);
  }

  #makeButton(command) {
    const btn = document.createElement("button");
    btn.type = "button";
    btn.className = "command-button";
    btn.dataset.command = command;
    const cmd = document.createElement("span");
    cmd.className = "cmd";
    cmd.dir = "ltr";
    const short = document.createElement("span");
    short.className = "short";
    btn.append(cmd, short);
    btn.addEventListener("click", () => this.runButton(command));
    return btn;
  }

  /** The command line a button sends, e.g. "RETR 1", "PASS ••••". */
  #preview(command) {
    const { user, method } = this.ctx.connectBar.credentials();
    const n = this.ctx.selectedMessage();
    switch (command) {
      case "USER": return `USER ${user}`;
      case "PASS": return "PASS ••••";
      case "APOP": return `APOP ${user} …`;
      case "AUTH": return `AUTH ${this.#mechanism(method)}`;
      case "TOP": return `TOP ${n} ${this.ctx.topLines()}`;
      case "RETR": return `RETR ${n}`;
      case "DELE": return `DELE ${n}`;
      default: return command;
    }
  }

  #mechanism(method) {
    return method.startsWith("AUTH ") ? method.slice(5) : "PLAIN";
  }

  /** A command button: the typed API call with the arguments shown on the button. */
  runButton(command) {
    const { user, password, method } = this.ctx.connectBar.credentials();
    const n = this.ctx.selectedMessage();
    switch (command) {
      case "USER": return this.perform("USER", user);
      case "PASS": return this.perform("PASS", password);
      case "APOP": return this.perform("APOP", user, password);
      case "AUTH": return this.perform("AUTH", this.#mechanism(method), user, password);
      case "TOP": return this.perform("TOP", n, this.ctx.topLines());
      case "RETR": return this.perform("RETR", n);
      case "DELE": return this.perform("DELE", n);
      default: return this.perform(command); // without a typed method, sent as a line
    }
  }

  /** Runs a command, showing a clear message if it fails. Resolves with the value or null. */
  async perform(command, ...args) {
    clearNotice();
    try {
      if (command === "RAW") return await this.session.send(args.join(" "));
      return await this.session.run(command, ...args);
    } catch (error) {
      showCommandError(error, {
        command: command === "RAW" ? args[0] : command,
        login: isLogin(command),
        session: this.session,
      });
      return null;
    }
  }

  /** Logs in with the method chosen in the connect bar. */
  async login() {
    const { user, password, method } = this.ctx.connectBar.credentials();
    if (method === "USER") {
      const ok = await this.perform("USER", user);
      if (ok) await this.perform("PASS", password);
    } else if (method === "APOP") {
      if (!this.session.greeting?.apopTimestamp) {
        showNotice({ level: "warn", kind: "no-apop", title: ["error.login.title"], text: ["error.login.no-apop"], why: "cmd.APOP" });
        return;
      }
      await this.perform("APOP", user, password);
    } else {
      await this.perform("AUTH", this.#mechanism(method), user, password);
    }
  }

  /** The guide's button (and the N key). */
  async doNext() {
    const next = this.nextStep();
    if (!next) {
      // Complete: start a new session to see the update.
      await this.ctx.connectBar.connect();
      return;
    }
    switch (next.id) {
      case "connect": await this.ctx.connectBar.connect(); break;
      case "login": await this.login(); break;
      case "top": await this.perform("TOP", this.ctx.selectedMessage(), this.ctx.topLines()); break;
      case "retr": await this.perform("RETR", this.ctx.selectedMessage()); break;
      case "dele": await this.perform("DELE", this.ctx.selectedMessage()); break;
      default: await this.perform(next.command);
    }
    this.render();
  }
}
