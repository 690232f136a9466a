// The mail program this page plays when it syncs the maildrop ("Download all new messages"):
// a laptop or a phone, two devices on one maildrop, each with its own memory and its own
// policy, as a real mail program has:
//
// - its memory: the unique-ids it has downloaded, each with when it first saw it (the server's
//   clock: the in-browser server's virtual clock, else this computer's), remembered per program
//   and per maildrop (target and user) in localStorage;
// - its policy for what it downloaded: leave a copy on the server, delete it from the server
//   (download and delete), or delete it N days after it first saw it.
//
// The policy is the client's, not the protocol's: POP3 has no "delete after N days" (RFC 1939
// §7 leaves it to the client; CAPA's EXPIRE, RFC 2449 §6.7, only tells the server's own). The
// maildrop (maildrop.js) asks this module which unique-ids are new and which to mark with DELE;
// the engine says which command marks (its metadata), newSince() which are new.
//
// Changes are told as the document event `popwire:program` ({ program, policy, days }); the
// lesson guide checks a step's `program` / `policy` against `current()`.

import { t, formatNumber, onLanguageChange } from "./i18n.js";
import { el } from "./dom.js";

/** The programs, in the order the page offers them. */
export const PROGRAMS = ["laptop", "phone"];
/** The policies: leave a copy, download and delete, delete after `days` days. */
export const POLICIES = ["keep", "delete", "days"];

const MEMORY_PREFIX = "popwire.program.v1:";
const SETTINGS_KEY = "popwire.program.v1";
/** Most unique-ids remembered per program and maildrop (the oldest are forgotten first). */
const MEMORY_MAX = 5000;
const DAY_MS = 24 * 60 * 60 * 1000;
const DAYS_DEFAULT = 5;
const DAYS_MAX = 3650;

/** One day count from what a student typed: 1 … DAYS_MAX, else the default. */
function validDays(value) {
  const n = Math.floor(Number(value));
  return Number.isFinite(n) && n >= 1 ? Math.min(n, DAYS_MAX) : DAYS_DEFAULT;
}

/** The saved settings: { active, laptop: { policy, days }, phone: { policy, days } }. */
function loadSettings() {
  let saved = {};
  try {
    saved = JSON.parse(localStorage.getItem(SETTINGS_KEY) ?? "{}") ?? {};
  } catch { /* unreadable: the defaults */ }
  const settings = { active: PROGRAMS.includes(saved.active) ? saved.active : PROGRAMS[0] };
  for (const p of PROGRAMS) {
    const s = saved[p] ?? {};
    settings[p] = { policy: POLICIES.includes(s.policy) ? s.policy : "keep", days: validDays(s.days) };
  }
  return settings;
}

/**
 * Which messages a policy marks for deletion after a sync: of the listing (`[{ id, uid }]`),
 * those the program has downloaded (its `memory`, uid → first seen, in ms) and that the
 * policy deletes at `now`: all of them for "delete", those first seen `days` days ago or more
 * for "days", none for "keep". In listing order.
 */
export function toDelete(listing, memory, { policy, days }, now) {
  if (policy === "keep") return [];
  return listing
    .filter(({ uid }) => memory.has(uid))
    .filter(({ uid }) => policy === "delete" || now - memory.get(uid) >= days * DAY_MS)
    .map(({ id }) => id);
}

export class MailPrograms {
  /**
   * `key()`: the maildrop's memory key (target and user); `clock()`: the server's time now, in
   * ms (async); `formatTime(ms)`: a first-seen time as shown.
   */
  constructor({ key, clock, formatTime }) {
    this.key = key;
    this.clock = clock;
    this.formatTime = formatTime;
    this.settings = loadSettings();
    this.#build();
    onLanguageChange(() => this.render());
    this.render();
  }

  /** The active program and its policy: { program, policy, days }. */
  current() {
    const program = this.settings.active;
    return { program, ...this.settings[program] };
  }

  /** The active program's memory of this maildrop: Map uid → first seen (ms). */
  memory(program = this.settings.active) {
    try {
      const saved = JSON.parse(localStorage.getItem(this.#memoryKey(program)) ?? "{}");
      const entries = Object.entries(saved && typeof saved === "object" ? saved : {})
        .filter(([, at]) => Number.isFinite(at));
      return new Map(entries);
    } catch {
      return new Map();
    }
  }

  /**
   * Remembers `uids` as downloaded at `now` (the first time only). A memory from a later time
   * than `now` (the in-browser server's clock restarted with the page) is moved back to `now`.
   */
  remember(memory, uids, now) {
    for (const [uid, at] of memory) if (at > now) memory.set(uid, now);
    for (const uid of uids) if (uid != null && !memory.has(uid)) memory.set(uid, now);
    const kept = [...memory].slice(-MEMORY_MAX);
    try {
      localStorage.setItem(this.#memoryKey(this.settings.active), JSON.stringify(Object.fromEntries(kept)));
    } catch { /* storage full or off: this page still has the copies */ }
    this.render();
  }

  /** Forgets what both programs downloaded from this maildrop. */
  forget() {
    for (const p of PROGRAMS) {
      try {
        localStorage.removeItem(this.#memoryKey(p));
      } catch { /* storage off: nothing was kept */ }
    }
    this.render();
    this.#changed({ forgotten: true });
  }

  #memoryKey(program) {
    return `${MEMORY_PREFIX}${program}:${this.key()}`;
  }

  #save() {
    try {
      localStorage.setItem(SETTINGS_KEY, JSON.stringify(this.settings));
    } catch { /* storage off: the settings hold for this page */ }
  }

  #changed(extra = {}) {
    document.dispatchEvent(new CustomEvent("popwire:program", { detail: { ...this.current(), ...extra } }));
  }

  // ----- The controls ------------------------------------------------------------------------

  #build() {
    const box = el("fieldset", "mail-program");
    box.id = "mail-program";
    this.legend = el("legend");
    const programs = el("div", "program-choice");
    programs.setAttribute("role", "radiogroup");
    programs.id = "program-choice";
    this.programLabel = el("span", "program-label");
    this.programLabel.id = "program-choice-label";
    programs.setAttribute("aria-labelledby", this.programLabel.id);
    programs.append(this.programLabel);
    this.radios = {};
    for (const p of PROGRAMS) programs.append(this.#radio("program", p, () => this.#choose(p)));
    const policies = el("div", "program-policy");
    policies.setAttribute("role", "radiogroup");
    this.policyLabel = el("span", "program-label");
    this.policyLabel.id = "program-policy-label";
    policies.setAttribute("aria-labelledby", this.policyLabel.id);
    policies.append(this.policyLabel);
    for (const p of POLICIES) policies.append(this.#radio("policy", p, () => this.#setPolicy(p)));
    const days = el("label", "program-days");
    this.daysText = el("span");
    this.daysInput = el("input");
    this.daysInput.type = "number";
    this.daysInput.id = "policy-days-n";
    this.daysInput.min = "1";
    this.daysInput.max = String(DAYS_MAX);
    this.daysInput.dir = "ltr";
    this.daysInput.addEventListener("change", () => {
      this.settings[this.settings.active].days = validDays(this.daysInput.value);
      this.#save();
      this.render();
      this.#changed();
    });
    days.append(this.daysText, " ", this.daysInput);
    policies.append(days);
    this.forgetBtn = el("button", "small");
    this.forgetBtn.type = "button";
    this.forgetBtn.id = "program-forget";
    this.forgetBtn.addEventListener("click", () => this.forget());
    const memory = el("details", "program-memory");
    memory.id = "program-memory";
    this.memorySummary = el("summary");
    this.memoryList = el("ul", "program-memory-list");
    this.memoryList.dir = "ltr";
    memory.append(this.memorySummary, this.memoryList);
    box.append(this.legend, programs, policies, this.forgetBtn, memory);
    document.getElementById("download-all").prepend(box);
    this.box = box;
  }

  #radio(group, value, onChoose) {
    const label = el("label", "choice");
    const input = el("input");
    input.type = "radio";
    input.name = `mail-${group}`;
    input.id = `${group}-${value}`;
    input.value = value;
    input.addEventListener("change", () => {
      if (input.checked) onChoose();
    });
    const text = el("span");
    label.append(input, text);
    this.radios[input.id] = { input, text };
    return label;
  }

  #choose(program) {
    this.settings.active = program;
    this.#save();
    this.render();
    this.#changed();
  }

  #setPolicy(policy) {
    this.settings[this.settings.active].policy = policy;
    this.#save();
    this.render();
    this.#changed();
  }

  render() {
    const { program, policy, days } = this.current();
    this.legend.textContent = t("program.title");
    this.programLabel.textContent = t("program.plays");
    this.policyLabel.textContent = t("program.after");
    for (const p of PROGRAMS) {
      const r = this.radios[`program-${p}`];
      r.input.checked = p === program;
      r.text.textContent = t(`program.${p}`);
    }
    for (const p of POLICIES) {
      const r = this.radios[`policy-${p}`];
      r.input.checked = p === policy;
      r.text.textContent = t(`program.policy-${p}`);
    }
    this.daysText.textContent = t("program.days");
    if (document.activeElement !== this.daysInput) this.daysInput.value = String(days);
    this.daysInput.disabled = policy !== "days";
    this.forgetBtn.textContent = t("program.forget");
    const memory = this.memory();
    this.memorySummary.textContent = t("program.memory", {
      program: t(`program.${program}`), count: formatNumber(memory.size),
    });
    const items = [...memory].slice(-50).map(([uid, at]) => {
      const li = el("li");
      const time = el("span", "program-seen", this.formatTime(at));
      li.append(el("code", null, uid), " ", time);
      return li;
    });
    if (memory.size > 50) items.unshift(el("li", "muted", t("program.memory-more", { count: formatNumber(memory.size - 50) })));
    this.memoryList.replaceChildren(...items);
    this.box.dataset.program = program;
    this.box.dataset.policy = policy;
  }
}
