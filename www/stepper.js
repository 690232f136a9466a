// Step by step: the state diagram (AUTHORIZATION → TRANSACTION → UPDATE, current state lit,
// transitions animated) and a button for each command valid now (from the engine's
// allowedCommands()) with its one-line explanation (engine key cmd.X); how a command is run
// with the page's values (runButton, login, perform), which the lesson guide (guide.js) and
// the maildrop's buttons use too.

import { t, explain, onLanguageChange } from "./i18n.js";
import { showCommandError } from "./errors.js";
import { clearNotice, announce, showNotice } from "./notice.js";
import { commandTable } from "./session.js";
import { coalesced } from "./dom.js";

const STATES = ["AUTHORIZATION", "TRANSACTION", "UPDATE"];

/** A login command: one that carries the user's name or a secret (the engine's metadata). */
function isLogin(command) {
  return commandTable().get(command)?.args.some((a) => a.secret || a.kind === "user-name") ?? false;
}

/** A login method's mechanism ("AUTH CRAM-MD5" → "CRAM-MD5"); PLAIN when it names none. */
export function mechanismOf(method) {
  return method.split(" ")[1] ?? "PLAIN";
}

/** A login method as the guide names it: its command and the one completing it ("USER + PASS"). */
export function loginLabel(method) {
  const meta = commandTable().get(method.split(" ")[0]);
  return meta?.followedBy ? `${meta.name} + ${meta.followedBy}` : method;
}

export class Stepper {
  /**
   * @param {object} ctx { session, connectBar, selectedMessage: () => number, topLines: () => number }
   */
  constructor(ctx) {
    this.ctx = ctx;
    this.session = ctx.session;
    this.previousState = "CLOSED";
    this.visited = new Set();
    this.buttonsEl = document.getElementById("command-buttons");
    this.statesEl = document.getElementById("states");

    const s = this.session;
    s.addEventListener("connecting", () => this.visited.clear());
    s.addEventListener("connected", () => this.render());
    s.addEventListener("transcript", (e) => {
      if (e.detail.dir !== "client") this.renderSoon();
    });
    s.addEventListener("state", (e) => this.#onState(e.detail));
    s.addEventListener("result", () => this.renderSoon());
    onLanguageChange(() => this.render());
    this.render();
  }

  /** Renders once at the end of this task, however many events asked. */
  renderSoon = coalesced(() => this.render());

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

  render() {
    this.#renderStates();
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

  #renderButtons() {
    const allowed = this.session.allowedCommands();
    document.getElementById("commands-empty").hidden = allowed.length > 0;
    const existing = new Map([...this.buttonsEl.children].map((b) => [b.dataset.command, b]));
    const frag = document.createDocumentFragment();
    for (const command of allowed) {
      const btn = existing.get(command) ?? this.#makeButton(command);
      btn.querySelector(".cmd").textContent = this.preview(command);
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

  /**
   * The page's value for an argument of this kind (engine metadata `kind`): the connect bar's
   * user, password and mechanism, the maildrop's selected message, TOP's line count. `shown`:
   * as a button shows it (a secret as ••••, a digest the engine computes as …).
   */
  #valueOf(arg, shown = false) {
    if (shown && arg.secret) return "••••";
    const { user, password, method } = this.ctx.connectBar.credentials();
    switch (arg.kind) {
      case "user-name": return user;
      case "password": return password;
      case "digest": return "…";
      case "mechanism": return mechanismOf(method);
      case "message": return this.ctx.selectedMessage();
      case "lines": return this.ctx.topLines();
      default: return undefined;
    }
  }

  /** The command line a button sends, e.g. "RETR 1", "PASS ••••": its required wire arguments. */
  preview(command) {
    const args = commandTable().get(command)?.args ?? [];
    return [command, ...args.filter((a) => a.required).map((a) => this.#valueOf(a, true))].join(" ");
  }

  /** A command button: the typed call (engine metadata `call`) with the page's values. */
  runButton(command) {
    const call = commandTable().get(command)?.call ?? [];
    return this.perform(command, ...call.filter((a) => a.required).map((a) => this.#valueOf(a)));
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

  /**
   * Logs in with the method chosen in the connect bar: its first word is the command, followed
   * by the one the engine says completes it (USER → PASS). A method whose command sends a digest
   * of the greeting's timestamp (APOP) needs a greeting that has one.
   */
  async login() {
    const { method } = this.ctx.connectBar.credentials();
    let meta = commandTable().get(method.split(" ")[0]);
    if (meta?.args.some((a) => a.kind === "digest") && !this.session.greeting?.apopTimestamp) {
      showNotice({ level: "warn", kind: "no-apop", title: ["error.login.title"], text: ["error.login.no-apop"], why: `cmd.${meta.name}` });
      return;
    }
    while (meta) {
      if ((await this.runButton(meta.name)) == null) return;
      meta = meta.followedBy ? commandTable().get(meta.followedBy) : null;
    }
  }
}
