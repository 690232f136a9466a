// The command line: raw POP3 as typed (`c.send(line)`), with history (↑/↓), completion of
// command names (Tab, from the engine's commands()), the engine's validation inline
// (session.check(line): the reason a line is refused, and a note when a command is not valid in
// this state but will be sent anyway), and raw SASL: after a "+" challenge the next line is the
// SASL response (the engine decodes the challenge and, on request, computes the answer).
// A line the engine masks (a PASS, an AUTH initial response, a SASL response) stays out of the
// history.

import { commandTable, saslResponse } from "./session.js";
import { t, explain, say, isRtl, onLanguageChange } from "./i18n.js";
import { showNotice, clearNotice } from "./notice.js";
import { showCommandError } from "./errors.js";


export class CommandLine {
  /** @param {object} ctx { session, connectBar } */
  constructor(ctx) {
    this.ctx = ctx;
    this.session = ctx.session;
    this.form = document.getElementById("cmdline-form");
    this.input = document.getElementById("cmdline");
    this.hint = document.getElementById("cmdline-hint");
    this.helper = document.getElementById("sasl-helper");
    this.history = [];
    this.historyIndex = 0;
    this.draft = "";
    this.candidates = null;

    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.submit();
    });
    this.input.addEventListener("input", () => {
      this.candidates = null;
      this.validate();
    });
    this.input.addEventListener("keydown", (e) => this.#onKey(e));
    this.session.addEventListener("state", () => this.validate());
    this.session.addEventListener("result", () => this.validate());
    onLanguageChange(() => this.validate());
    this.validate();
  }

  focus() {
    this.input.focus();
  }

  #onKey(e) {
    if (e.key === "ArrowUp" || e.key === "ArrowDown") {
      if (this.history.length === 0) return;
      e.preventDefault();
      if (this.historyIndex === this.history.length) this.draft = this.input.value;
      this.historyIndex += e.key === "ArrowUp" ? -1 : 1;
      this.historyIndex = Math.max(0, Math.min(this.history.length, this.historyIndex));
      this.input.value = this.historyIndex === this.history.length ? this.draft : this.history[this.historyIndex];
      this.input.setSelectionRange(this.input.value.length, this.input.value.length);
      this.validate();
    } else if (e.key === "Tab" && !e.shiftKey) {
      if (this.#complete()) e.preventDefault();
    } else if (e.key === "Escape") {
      if (this.input.value) {
        e.preventDefault();
        this.input.value = "";
        this.validate();
      }
    }
  }

  /** Tab: completes a command name. Returns false (Tab moves focus) when there is nothing to do. */
  #complete() {
    const v = this.input.value;
    if (!v || /\s/.test(v) || this.session.saslPending) return false;
    const prefix = v.toUpperCase();
    const allowed = new Set(this.session.allowedCommands());
    const table = commandTable();
    const all = [...table.keys()].filter((k) => k.startsWith(prefix));
    if (all.length === 0) return false;
    // Commands valid now come first.
    const candidates = [...all.filter((k) => allowed.has(k)), ...all.filter((k) => !allowed.has(k))];
    if (candidates.length === 1) {
      const k = candidates[0];
      this.input.value = table.get(k).args.some((a) => a.required) ? `${k} ` : k;
      this.validate();
      return true;
    }
    let common = candidates[0];
    for (const c of candidates) while (!c.startsWith(common)) common = common.slice(0, -1);
    if (common.length > prefix.length) this.input.value = common;
    this.candidates = candidates.map((k) => (allowed.has(k) ? k : `(${k})`));
    this.validate();
    return true;
  }

  /** Shows what the engine says about the line being typed. */
  validate() {
    const line = this.input.value;
    const hint = this.hint;
    hint.replaceChildren();
    this.input.removeAttribute("aria-invalid");
    hint.className = "cmdline-hint";
    this.#renderSaslHelper();
    // A SASL response carries the credentials (base64 is no protection): typed masked.
    this.input.type = this.session.saslPending ? "password" : "text";
    if (this.session.saslPending) {
      this.input.placeholder = "base64 … | *"; // protocol text: the same in every language
      hint.append(t("cmdline.sasl"));
      const decoded = this.session.challenge?.text; // the engine decoded the "+" line
      if (decoded) {
        hint.append(" ", t("cmdline.sasl-decoded"), " ");
        const code = document.createElement("code");
        code.dir = "ltr";
        code.textContent = decoded;
        hint.append(code);
      }
      return;
    }
    this.input.placeholder = "STAT · LIST · RETR 1 · QUIT …";
    if (this.candidates) {
      hint.append(t("cmdline.candidates"), " ");
      const code = document.createElement("code");
      code.dir = "ltr";
      code.textContent = this.candidates.join("  ");
      hint.append(code);
      return;
    }
    if (!line.trim()) {
      hint.textContent = this.session.connected ? t("cmdline.help") : t("cmdline.not-connected");
      return;
    }
    const state = this.session.connected ? this.session.state : "AUTHORIZATION";
    const check = this.session.check(line);
    if (!check.ok) {
      this.input.setAttribute("aria-invalid", "true");
      hint.classList.add("invalid");
      const ex = explain(check.explain?.key);
      hint.append(`✗ ${ex ? ex.short : t("cmdline.refused")}: `);
      // Why, in the page's language (the engine's note); the English reason if there is none.
      const reason = document.createElement("code");
      reason.className = "reason";
      reason.dir = check.note && isRtl() ? "rtl" : "ltr";
      reason.textContent = check.note ? say(check.note) : check.reason;
      hint.append(reason, ` — ${t("cmdline.not-sent")}`);
      return;
    }
    const ex = explain(check.explain?.key) || explain("cmd.unknown");
    if (!this.session.connected) {
      hint.textContent = t("cmdline.not-connected");
    } else if (!check.allowed) {
      hint.classList.add("warn");
      hint.textContent = `⚠ ${t("cmdline.not-allowed", { command: check.command, state })}`;
    } else {
      hint.classList.add("ok");
      hint.textContent = `✓ ${check.command}: ${ex ? ex.short : ""}`;
    }
  }

  #renderSaslHelper() {
    const box = this.helper;
    box.replaceChildren();
    if (!this.session.saslPending) {
      box.hidden = true;
      return;
    }
    const { user, password } = this.ctx.connectBar.credentials();
    const fill = (label, value) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "small";
      b.textContent = label;
      b.addEventListener("click", () => {
        this.input.value = value;
        this.input.focus();
      });
      box.append(b);
    };
    // The engine's SASL client answers this challenge (PLAIN: \0user\0password; LOGIN: the
    // user name, then the password; CRAM-MD5: the user name and HMAC-MD5 of the challenge's
    // decoded bytes keyed with the password), base64-encoded. The mechanism is the one the
    // session saw this exchange start with.
    const mech = this.session.mechanism;
    const step = this.session.challengeStep;
    const label = {
      PLAIN: ["cmdline.sasl-fill-plain"],
      LOGIN: ["cmdline.sasl-fill-user", "cmdline.sasl-fill-password"],
      "CRAM-MD5": ["cmdline.sasl-fill-cram"],
    }[mech]?.[step];
    if (label) {
      try {
        fill(t(label), saslResponse(mech, user, password, step, this.session.challenge?.bytes));
      } catch { /* credentials the mechanism cannot carry: no fill button */ }
    }
    fill(t("cmdline.sasl-cancel"), "*");
    box.hidden = false;
  }

  async submit() {
    const line = this.input.value;
    if (!line.trim()) return;
    if (!this.session.connected) {
      showNotice({ level: "warn", kind: "not-connected", title: ["error.not-connected"] });
      return;
    }
    const sasl = this.session.saslPending;
    const checked = this.session.check(line);
    if (!sasl && !checked.ok) {
      this.validate();
      this.input.focus();
      return; // the reason is shown inline; nothing is sent
    }
    const check = sasl ? null : checked;
    // A command whose first argument is a SASL mechanism (AUTH) starts an exchange: its
    // responses are reported under its name.
    // (The session notes its mechanism: session.mechanism.)
    if (commandTable().get(check?.keyword)?.args[0]?.kind === "mechanism") this.exchange = check.keyword;
    // Lines the engine masks (a PASS, an AUTH initial response) and SASL responses are never
    // kept in the history.
    if (!sasl && !checked.masked) this.history.push(line);
    this.historyIndex = this.history.length;
    this.draft = "";
    this.input.value = "";
    clearNotice();
    const state = this.session.state;
    try {
      const reply = await this.session.send(line);
      if (!reply.ok && !reply.continuation) {
        const key = this.session.lastStatusKey;
        showNotice({
          level: "warn",
          kind: `server:${reply.code || "none"}`,
          title: ["error.server.title", { command: check?.command ?? this.exchange }],
          text: [check && !check.allowed ? "cmdline.sent-anyway" : "error.server.text", { command: check?.command, state }],
          wire: this.session.lastStatusLine,
          why: key,
        });
      }
    } catch (error) {
      showCommandError(error, { command: check?.command ?? this.exchange, session: this.session });
    }
    this.validate();
  }
}
