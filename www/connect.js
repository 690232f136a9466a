// The connect bar: target (from GET /targets), user, password, login method, STLS,
// Connect / Disconnect; the bridge URL (default ws(s):// + `bridge` beside the page, or ?bridge=URL);
// the "link not encrypted" banner from GET /healthz; a clear message for each failure.
// Besides the bridge's targets: "In-browser server (simulated)" (target "in-browser", no bridge:
// a simulated POP3 server in a Web Worker, simulated.js), chosen by default when no bridge
// answers GET /targets (a static site); ?bridge=URL or a bridge serving the page brings the
// real targets back. It is labelled as simulated wherever it is used (the badge, its panel).
//
// Address options (documented in the help dialog and tests/e2e/README.md):
//   ?bridge=URL   another bridge (e.g. one that is not running, for the failure message)
//   ?target=NAME  preselect a target by name, even one /targets does not list (tests use
//                 ?target=nope for the bridge's unknown-target refusal, ?target=silent)
//   ?timeout=MS   how long to wait for the greeting and each reply (default 30000)
//   ?user=NAME    preset the user name (default: a fresh student-xxxx)

import { t, onLanguageChange } from "./i18n.js";
import { showNotice, clearNotice, announce } from "./notice.js";
import { showCommandError } from "./errors.js";
import { loadEngine, bridgeRefusals, demoTargets } from "./session.js";
import { SimulatedPanel, IN_BROWSER, IN_BROWSER_TARGET } from "./simulated.js";

const params = new URLSearchParams(location.search);

export const bridgeUrl = params.get("bridge") || besidePage("bridge");

/** `name` beside the page as a ws(s):// URL: relative, so the page works under a sub-path. */
function besidePage(name) {
  const u = new URL(name, location.href);
  u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
  u.search = "";
  u.hash = "";
  return u.href;
}
export const timeoutMs = clampTimeout(params.get("timeout"));

function clampTimeout(text) {
  const n = Number(text);
  return Number.isFinite(n) && n >= 200 ? Math.min(n, 600000) : 30000;
}

/** Whether the bridge is served by this page's own origin (then /targets and /healthz apply). */
function bridgeIsSameOrigin() {
  try {
    const u = new URL(bridgeUrl, location.href);
    return u.host === location.host;
  } catch {
    return false;
  }
}

function isLoopbackHost(host) {
  const h = host.replace(/^\[|\]$/g, "");
  return h === "localhost" || h.endsWith(".localhost") || h === "::1" || /^127\./.test(h);
}

function freshUserName() {
  const bytes = crypto.getRandomValues(new Uint8Array(3));
  return `student-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

export class ConnectBar {
  constructor(session) {
    this.session = session;
    this.form = document.getElementById("connect-form");
    this.target = document.getElementById("target");
    this.user = document.getElementById("user");
    this.password = document.getElementById("password");
    this.passwordToggle = document.getElementById("password-toggle");
    this.method = document.getElementById("auth-method");
    this.stls = document.getElementById("stls");
    this.connectBtn = document.getElementById("connect-btn");
    this.disconnectBtn = document.getElementById("disconnect-btn");
    this.targets = [];
    this.targetsNote = null;
    this.busy = false;
    this.badge = document.getElementById("sim-badge");
    this.simulated = new SimulatedPanel({ session, connectBar: this });

    this.user.value = params.get("user") || freshUserName();
    this.password.value = "pop3";

    this.passwordToggle.addEventListener("click", () => {
      const show = this.password.type === "password";
      this.password.type = show ? "text" : "password";
      this.passwordToggle.setAttribute("aria-pressed", String(show));
      this.#labelToggle();
    });
    this.target.addEventListener("change", () => this.#syncStls());
    this.target.addEventListener("change", () => this.#syncSimulated());
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.connect();
    });
    this.disconnectBtn.addEventListener("click", () => this.session.close());
    session.addEventListener("state", () => this.#syncButtons());
    onLanguageChange(() => {
      this.#labelToggle();
      this.#fillTargets();
      this.#syncButtons();
    });
  }

  #labelToggle() {
    const shown = this.password.type === "text";
    this.passwordToggle.textContent = t(shown ? "connect.hide-password" : "connect.show-password");
  }

  /** Loads /targets and /healthz; resolves when the form can be used. */
  async load() {
    let list = null;
    let noBridge = false;
    if (bridgeIsSameOrigin()) {
      try {
        const r = await fetch("targets", { cache: "no-store" });
        if (r.ok) list = await r.json();
      } catch { /* handled below */ }
      noBridge = !Array.isArray(list);
      if (!noBridge) this.#checkHealth();
    }
    if (noBridge) {
      // No bridge serves this page (a static site): the in-browser server only.
      list = [];
    } else if (!Array.isArray(list) || list.length === 0) {
      // Another bridge (?bridge=) or /targets unavailable: offer the targets of a --demo bridge.
      this.targetsNote = "connect.targets-unknown";
      await loadEngine();
      list = demoTargets().map((x) => ({ ...x, description: "" }));
    }
    list = [...list.filter((x) => x.name !== IN_BROWSER), { ...IN_BROWSER_TARGET }];
    const wanted = params.get("target");
    if (wanted && !list.some((x) => x.name === wanted)) {
      list.push({ name: wanted, description: "", tls: "none", starttls: true, fromUrl: true });
    }
    this.targets = list;
    this.#fillTargets();
    const [demo] = await loadEngine().then(() => demoTargets());
    const preselect = wanted
      || (noBridge ? IN_BROWSER : list.some((x) => x.name === demo.name) ? demo.name : list[0].name);
    this.target.value = preselect;
    this.target.disabled = false;
    this.#syncStls();
    this.#syncSimulated();
    this.#syncButtons();
  }

  async #checkHealth() {
    try {
      const r = await fetch("healthz", { cache: "no-store" });
      if (!r.ok) return;
      const h = await r.json();
      const pageSecure = location.protocol === "https:";
      const banner = document.getElementById("insecure-banner");
      banner.hidden = Boolean(h.encrypted) || pageSecure || isLoopbackHost(location.hostname);
    } catch { /* no banner without an answer */ }
  }

  #fillTargets() {
    const selected = this.target.value;
    this.target.replaceChildren();
    for (const x of this.targets) {
      const opt = document.createElement("option");
      opt.value = x.name;
      let label = x.inBrowser ? t("connect.in-browser") : x.name;
      if (x.tls === "implicit") label += ` (${t("connect.tls-implicit")})`;
      if (x.fromUrl) label += ` (${t("connect.from-url")})`;
      opt.textContent = label;
      if (x.description) opt.title = x.description;
      this.target.append(opt);
    }
    if (selected) this.target.value = selected;
    this.target.title = this.targetsNote ? t(this.targetsNote) : (this.#current()?.description || "");
  }

  #current() {
    return this.targets.find((x) => x.name === this.target.value);
  }

  #syncStls() {
    const cur = this.#current();
    const implicit = cur?.tls === "implicit";
    const offered = cur ? cur.starttls !== false : true;
    this.stls.disabled = implicit || !offered || this.session.connected;
    if (implicit) this.stls.checked = false;
    const label = document.getElementById("stls-label");
    label.title = cur?.inBrowser ? t("connect.stls-in-browser")
      : implicit ? t("connect.stls-implicit") : t("connect.stls-title");
    this.target.title = this.targetsNote ? t(this.targetsNote) : (cur?.description || "");
  }

  /** The badge and the Simulated server panel: only while the in-browser server is chosen. */
  #syncSimulated() {
    const simulated = this.inBrowser;
    this.badge.hidden = !simulated;
    this.simulated.setVisible(simulated);
    document.documentElement.dataset.simulated = String(simulated);
  }

  /** Whether the chosen target is the in-browser server (simulated). */
  get inBrowser() {
    return this.target.value === IN_BROWSER;
  }

  #syncButtons() {
    const connected = this.session.connected;
    this.connectBtn.hidden = connected;
    this.disconnectBtn.hidden = !connected;
    this.connectBtn.disabled = this.busy || this.targets.length === 0;
    this.connectBtn.textContent = t(this.busy ? "connect.connecting" : "connect.connect");
    this.target.disabled = connected || this.busy || this.targets.length === 0;
    this.#syncStls();
    this.disconnectBtn.title = t("connect.disconnect-title");
    document.dispatchEvent(new CustomEvent("popwire:connect-bar"));
  }

  /** What the login step uses. */
  credentials() {
    return { user: this.user.value.trim(), password: this.password.value, method: this.method.value };
  }

  wantsStls() {
    return this.stls.checked && !this.stls.disabled;
  }

  get ready() {
    return !this.connectBtn.disabled;
  }

  async connect() {
    if (this.busy || this.session.connected) return;
    const target = this.target.value;
    const inBrowser = this.inBrowser;
    const wantStls = this.wantsStls();
    this.busy = true;
    this.#syncButtons();
    clearNotice();
    try {
      // The in-browser server takes no bridge: Pop3Client.connect({ target: "in-browser" }).
      await this.session.connect({ bridge: inBrowser ? undefined : bridgeUrl, target, timeoutMs });
      announce(inBrowser ? t("connect.connected-in-browser") : t("connect.connected", { target }));
      if (wantStls) {
        try {
          await this.session.run("STLS");
        } catch (error) {
          showCommandError(error, { command: "STLS", session: this.session });
        }
      }
    } catch (error) {
      await this.#connectFailed(error, target);
    } finally {
      this.busy = false;
      this.#syncButtons();
    }
  }

  async #connectFailed(error, target) {
    const ctx = { target, bridge: bridgeUrl, origin: location.origin, seconds: Math.round(timeoutMs / 100) / 10 };
    const kind = error?.kind;
    if (target === IN_BROWSER && kind !== "server" && kind !== "limit" && kind !== "protocol") {
      showNotice({
        level: "error", kind: `in-browser:${kind || "unknown"}`,
        title: ["error.in-browser.title"],
        text: ["error.in-browser.text"],
        detail: error?.note ?? error?.message,
      });
      return;
    }
    if (kind === "bridge") {
      const code = error.code || "error";
      const known = bridgeRefusals(); // every code has its error.bridge.CODE message
      showNotice({
        level: "error", kind: `bridge:${code}`,
        title: ["error.bridge.title", { code }],
        text: [known.includes(code) ? `error.bridge.${code}` : "error.bridge.other", { ...ctx, code }],
        detail: error.note ?? error.message,
      });
      return;
    }
    const timedOut = kind === "timeout"
      || (kind === "network" && (error.elapsedMs ?? 0) >= timeoutMs - 250);
    if (timedOut) {
      showNotice({
        level: "error", kind: "timeout",
        title: ["error.timeout.title"],
        text: ["error.timeout.connect", ctx],
        why: "error.timeout",
        detail: error.note ?? error.message,
      });
      return;
    }
    if (kind === "network") {
      // Is the bridge there at all? (Only answerable for this page's own bridge.)
      let bridgeUp = false;
      if (bridgeIsSameOrigin()) {
        try {
          bridgeUp = (await fetch("healthz", { cache: "no-store" })).ok;
        } catch { /* not up */ }
      }
      showNotice({
        level: "error", kind: bridgeUp ? "network:closed" : "network",
        title: [bridgeUp ? "error.closed-early.title" : "error.network.title"],
        text: [bridgeUp ? "error.closed-early.text" : "error.network.text", ctx],
        hint: bridgeUp ? null : ["error.network.hint"],
        detail: error?.note ?? error?.message,
      });
      return;
    }
    showCommandError(error, { command: "connect", session: this.session });
  }
}
