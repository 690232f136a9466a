// The "Simulated server" panel: the controls only the in-browser teaching server offers (a
// simulated POP3 server in a Web Worker, www/server-worker.js; protocol in
// docs/in-browser-server.md). Shown only while the connect bar's target is the in-browser
// server; never on a bridge target.
//
// The worker is the API's shared one (inBrowserServer(): the same worker that
// connect({ target: "in-browser" }) uses), started on first use: when the page connects to it
// or a control here is pressed, never at page load.
//
// - Clock: +10 minutes (autologout of an idle session, RFC 1939 §3), three days later.
// - Mail: deliver a new message to the connect bar's user, reset that maildrop.
// - A second client on the same maildrop (a Pop3Client of its own): its login shows [IN-USE]
//   while the page's session holds the lock.
// - Faults: bare LF and the slow link (latency, bandwidth) for this session and the next;
//   one-shot: an over-long line, [SYS/TEMP], a drop in the middle of the next RETR, an -ERR
//   greeting (the next connection).
// - The server's side of the maildrop: locked or not, the marks, what the last UPDATE removed.
// - When the simulated server closes the session (autologout, a fault), the page says why.

import { t, ltr, formatBytes, formatNumber, onLanguageChange } from "./i18n.js";
import { showNotice } from "./notice.js";
import { loadEngine } from "./session.js";
import { Pop3Client, inBrowserServer } from "./pkg/popwire.js";
import { el } from "./dom.js";

/** Tells the page how the second client's login went (popwire:second-client; lessons listen). */
function secondLogin(detail) {
  document.dispatchEvent(new CustomEvent("popwire:second-client", { detail }));
}

/** The target name of the in-browser server in the connect bar and the API. */
export const IN_BROWSER = "in-browser";

/** What the connect bar's target list shows for it. */
export const IN_BROWSER_TARGET = { name: IN_BROWSER, description: "", tls: "none", starttls: false, inBrowser: true };

const TEN_MINUTES = 10 * 60 * 1000;
const THREE_DAYS = 3 * 24 * 60 * 60 * 1000;

export class SimulatedPanel {
  /** `session`: the page's Session; `connectBar`: for the user name and password. */
  constructor({ session, connectBar }) {
    this.session = session;
    this.connectBar = connectBar;
    this.panel = document.getElementById("sim-panel");
    this.worker = null;
    this.nextId = 1;
    this.waiting = new Map();
    this.conn = null; // the page's session's connection id on the simulated server
    this.second = null; // { client, conn }
    this.refreshTimer = null;
    this.now = 0;
    this.view = null;
    this.lastStatus = null;
    this.lastSecond = null;
    this.lastFaults = null;

    const on = (id, fn) => document.getElementById(id).addEventListener("click", () => this.#guard(fn));
    on("sim-advance-10", () => this.#advance(TEN_MINUTES, "sim.advanced-10"));
    on("sim-advance-3d", () => this.#advance(THREE_DAYS, "sim.advanced-3d"));
    on("sim-deliver", () => this.#deliver());
    on("sim-reset", () => this.#reset());
    on("sim-second", () => this.#openSecond());
    on("sim-second-close", () => this.#closeSecond());
    on("sim-long-line", () => this.#oneShot({ longLine: true }, "sim.armed-long-line"));
    on("sim-sys-temp", () => this.#oneShot({ sysTemp: true }, "sim.armed-sys-temp"));
    on("sim-drop", () => this.#oneShot({ dropRetrAfter: this.#dropAfter() }, "sim.armed-drop"));
    on("sim-err-greeting", () => this.#errGreeting());
    for (const id of ["sim-bare-lf", "sim-slow", "sim-latency", "sim-bandwidth"]) {
      document.getElementById(id).addEventListener("change", () => this.#guard(() => this.#applyLink()));
    }
    this.connectBar.user.addEventListener("change", () => this.#refresh());

    session.addEventListener("connecting", (e) => {
      this.conn = null;
      if (e.detail.target === IN_BROWSER) this.#start();
    });
    session.addEventListener("transcript", (e) => this.#onEntry(e.detail));
    onLanguageChange(() => this.#render());
    this.#render();
  }

  /** Shows the panel while the connect bar's target is the in-browser server. */
  setVisible(visible) {
    this.panel.hidden = !visible;
  }

  // ----- The worker ------------------------------------------------------------------------

  /** Starts the worker (the API's shared one) on first use. */
  #start() {
    if (this.worker) return this.worker;
    this.worker = inBrowserServer();
    this.worker.addEventListener("message", (e) => {
      const m = e.data || {};
      if (m.event === "changed") {
        this.now = m.now;
        this.#scheduleRefresh();
        return;
      }
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (m.ok) w.resolve(m.result);
      else w.reject(new Error(m.error));
    });
    this.#scheduleRefresh();
    return this.worker;
  }

  /** One control request; resolves with its result. */
  async #ask(op, args = {}) {
    await loadEngine();
    const worker = this.#start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ id, op, ...args });
    });
  }

  async #guard(fn) {
    try {
      await fn();
    } catch (error) {
      this.#status(["sim.failed", { error: error?.note ?? ltr(error?.message || String(error)) }]);
    }
  }

  #status(spec) {
    this.lastStatus = spec;
    document.getElementById("sim-status").textContent = spec ? t(...spec) : "";
  }

  #user() {
    return this.connectBar.credentials().user || "student";
  }

  // ----- Controls --------------------------------------------------------------------------

  async #advance(ms, done) {
    const { now } = await this.#ask("advance", { ms });
    this.now = now;
    this.#status([done]);
    this.#refresh();
    // Lessons on the clock (delete after N days) follow it.
    document.dispatchEvent(new CustomEvent("popwire:clock", { detail: { advanced: ms, now } }));
  }

  /** The simulated server's clock now (ms since it started), asked of its worker. */
  async time() {
    if (!this.worker) return this.now;
    const { now } = await this.#ask("time");
    this.now = now;
    return now;
  }

  async #deliver() {
    const user = this.#user();
    const stamp = new Date().toUTCString();
    const text = [
      "From: Simulated Sender <sender@in-browser.popwire.test>",
      `To: ${user}@in-browser.popwire.test`,
      `Subject: New mail from the simulated server (${stamp})`,
      `Date: ${stamp}`,
      "Message-ID: <" + crypto.randomUUID() + "@in-browser.popwire.test>",
      "",
      "This message was delivered by the Simulated server panel while you were connected.",
      "A session that is already open does not see it: POP3 lists the maildrop as it was",
      "at login (RFC 1939 section 5). Log in again to see it.",
      "",
    ].join("\r\n");
    const r = await this.#ask("deliver", { user, text });
    this.#status(["sim.delivered", { user: ltr(user), id: formatNumber(r.id), size: formatBytes(r.size) }]);
    document.dispatchEvent(new CustomEvent("popwire:delivered", { detail: { user } }));
    this.#refresh();
  }

  async #reset() {
    const user = this.#user();
    try {
      await this.#ask("reset", { user });
      this.#status(["sim.reset-done", { user: ltr(user) }]);
    } catch {
      this.#status(["sim.reset-locked", { user: ltr(user) }]);
    }
    this.#refresh();
  }

  #dropAfter() {
    const n = Math.round(Number(document.getElementById("sim-drop-after").value));
    return Number.isFinite(n) && n >= 1 ? n : 2000;
  }

  /** The faults that last: bare LF and the slow link. */
  #linkFaults() {
    const faults = {};
    if (document.getElementById("sim-bare-lf").checked) faults.bareLf = true;
    if (document.getElementById("sim-slow").checked) {
      const latency = Math.max(0, Math.round(Number(document.getElementById("sim-latency").value) || 0));
      const bandwidth = Math.max(100, Math.round(Number(document.getElementById("sim-bandwidth").value) || 0));
      faults.latencyMs = latency;
      faults.bandwidth = bandwidth;
    }
    return faults;
  }

  /** The lasting faults for every later connection and the open ones (theirs replaced). */
  async #applyLink() {
    const faults = this.#linkFaults();
    await this.#ask("faults", { target: "all", faults });
    for (const conn of this.#openConns()) await this.#ask("faults", { target: conn, faults });
    this.#faultsNote(Object.keys(faults).length ? ["sim.link-set"] : ["sim.link-off"]);
  }

  #openConns() {
    return [this.session.connected ? this.conn : null, this.second?.conn ?? null].filter((c) => c != null);
  }

  /** A one-shot fault on the page's session (else the next connection). */
  async #oneShot(fault, note) {
    const faults = { ...this.#linkFaults(), ...fault };
    const target = this.session.connected && this.conn != null ? this.conn : "next";
    await this.#ask("faults", { target, faults });
    this.#faultsNote([note, { octets: formatNumber(fault.dropRetrAfter ?? 0), line: ltr("-ERR [SYS/TEMP]"), retr: ltr("RETR") }]);
  }

  async #errGreeting() {
    await this.#ask("faults", { target: "next", faults: { ...this.#linkFaults(), errGreeting: true } });
    this.#faultsNote(["sim.armed-err-greeting", { line: ltr("-ERR") }]);
  }

  #faultsNote(spec) {
    this.lastFaults = spec;
    document.getElementById("sim-faults-note").textContent = t(...spec);
  }

  // ----- The second client -----------------------------------------------------------------

  async #openSecond() {
    await this.#closeSecond();
    await loadEngine();
    this.#start();
    const log = document.getElementById("sim-second-log");
    log.replaceChildren();
    const { user, password } = this.connectBar.credentials();
    const client = await Pop3Client.connect({ target: IN_BROWSER, timeoutMs: 15000 });
    const second = { client, conn: null };
    this.second = second;
    client.onTranscript((entry) => {
      if (entry.dir === "info") {
        const conn = connOf(entry);
        if (conn != null) second.conn = conn;
        return;
      }
      const line = el("li", `sim-log-${entry.dir}`, `${entry.dir === "client" ? "C:" : "S:"} ${entry.text.split("\r\n")[0]}`);
      log.append(line);
    });
    document.getElementById("sim-second").hidden = true;
    document.getElementById("sim-second-close").hidden = false;
    try {
      await client.user(user || "student");
      await client.pass(password);
      this.#secondResult(["sim.second-in", { line: ltr("+OK") }]);
      secondLogin({ ok: true, code: null });
    } catch (error) {
      secondLogin({ ok: false, code: error?.code ?? null });
      this.#secondResult(error?.code === "IN-USE"
        ? ["sim.second-in-use", { line: ltr("-ERR [IN-USE]") }]
        : ["sim.second-refused", { error: error?.note ?? ltr(error?.message || "") }]);
    }
    this.#refresh();
  }

  async #closeSecond() {
    const second = this.second;
    this.second = null;
    document.getElementById("sim-second").hidden = false;
    document.getElementById("sim-second-close").hidden = true;
    if (!second) return;
    try {
      if (second.client.state !== "CLOSED") await second.client.quit();
    } catch { /* closed already */ }
    setTimeout(() => { try { second.client.free(); } catch { /* ignore */ } }, 0);
    this.#secondResult(null);
  }

  #secondResult(spec) {
    this.lastSecond = spec;
    document.getElementById("sim-second-result").textContent = spec ? t(...spec) : "";
  }

  // ----- What the session's transcript says ------------------------------------------------

  #onEntry(entry) {
    if (entry.dir !== "info" || entry.explain?.key !== "info.in-browser") return;
    const conn = connOf(entry);
    if (conn != null) this.conn = conn;
    const why = /closed the connection \(([a-z-]+)\)/.exec(entry.text)?.[1];
    if (why === "autologout") {
      showNotice({
        level: "warn", kind: "sim:autologout",
        title: ["sim.autologout-title"],
        text: ["sim.autologout-text"],
        why: "info.closed",
      });
    } else if (why === "fault") {
      this.#status(["sim.fault-closed"]);
    }
    this.#scheduleRefresh();
  }

  // ----- The server's side -----------------------------------------------------------------

  #scheduleRefresh() {
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      this.#refresh();
    }, 100);
  }

  async #refresh() {
    if (!this.worker) return this.#render();
    try {
      const user = this.#user();
      const [view, time] = await Promise.all([this.#ask("view", { user }), this.#ask("time")]);
      this.view = view;
      this.now = time.now;
    } catch { /* the worker failed: the status says so when a control is used */ }
    this.#render();
  }

  #render() {
    document.getElementById("sim-time").textContent = this.worker ? clock(this.now) : "—";
    const summary = document.getElementById("sim-view-summary");
    const body = document.querySelector("#sim-view-table tbody");
    const update = document.getElementById("sim-view-update");
    body.replaceChildren();
    const v = this.view;
    if (!this.worker || !v) {
      summary.textContent = t("sim.not-started");
      update.textContent = "";
    } else if (!v.exists) {
      summary.textContent = t("sim.view-none", { user: ltr(v.user) });
      update.textContent = "";
    } else {
      summary.textContent = v.lockedBy != null
        ? t("sim.view-locked", { user: ltr(v.user), conn: formatNumber(v.lockedBy) })
        : t("sim.view-unlocked", { user: ltr(v.user) });
      for (const m of v.messages) {
        const tr = el("tr", m.marked ? "marked" : "");
        tr.append(
          el("td", "num", formatNumber(m.n)),
          Object.assign(el("td", "uid", m.uid), { dir: "ltr" }),
          el("td", "num", formatBytes(m.size)),
          el("td", "", m.marked ? t("sim.view-marked-yes") : ""),
        );
        body.append(tr);
      }
      update.textContent = v.lastUpdate.length
        ? t("sim.view-update", {
          count: formatNumber(v.lastUpdate.length),
          uids: ltr(v.lastUpdate.map((x) => x.uid).join(", ")),
          updates: formatNumber(v.updates),
        })
        : t("sim.view-no-update", { updates: formatNumber(v.updates) });
    }
    if (this.lastStatus) this.#status(this.lastStatus);
    if (this.lastSecond) this.#secondResult(this.lastSecond);
    if (this.lastFaults) this.#faultsNote(this.lastFaults);
  }
}

/** The connection id in an in-browser transport note ("… (connection 3) …"), if any. */
function connOf(entry) {
  const m = /\(connection (\d+)\)/.exec(entry.text);
  return m ? Number(m[1]) : null;
}

/** The virtual clock as "d days hh:mm:ss" (digits stay Latin: it is the server's time). */
export function clock(ms) {
  const s = Math.floor((ms || 0) / 1000);
  const d = Math.floor(s / 86400);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d}d ${pad(Math.floor(s / 3600) % 24)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
}
