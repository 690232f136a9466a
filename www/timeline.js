// A lesson's timeline (a lesson file's "timeline" field, docs/lessons.md): dated events, each
// with its RFC, as an ordered list — the order a screen reader reads, not a picture — and
// footnotes. The data (year, RFC number, what marks an event as seen) is the lesson file's;
// every text is `lesson.<id>.timeline.<event>` / `lesson.<id>.note.<note>` in the page's
// language. An event whose trace this connection showed is marked "seen in your session": an
// explanation key the engine put in the transcript (`seen`, e.g. greeting.apop for APOP's
// timestamp), or a capability CAPA listed (`capability`, read by the engine's CAPA parser).

import { t, ltr, locale } from "./i18n.js";
import { el } from "./dom.js";
import { parseCapabilities } from "./session.js";

export class Timeline {
  /**
   * @param {object} lesson the lesson (its `timeline`: { events: [{ id, year, rfc, seen?,
   *   capability? }], notes: [id] })
   * @param {EventTarget} session the page's session (its `connecting` and `transcript` events)
   */
  constructor(lesson, session) {
    this.lesson = lesson;
    this.keys = new Set(); // explanation keys of this connection
    this.capabilities = new Set(); // capability tags this connection's CAPA listed
    this.root = this.#build();
    session.addEventListener("connecting", () => {
      this.keys.clear();
      this.capabilities.clear();
    });
    session.addEventListener("transcript", (e) => {
      const key = e.detail.explain?.key;
      if (key) this.keys.add(key);
      if (key === "body.CAPA") for (const c of parseCapabilities(e.detail.text)) this.capabilities.add(c.name);
    });
  }

  #build() {
    const root = el("section", "guide-timeline");
    root.id = "lesson-timeline";
    root.setAttribute("aria-labelledby", "timeline-h");
    this.heading = el("h4");
    this.heading.id = "timeline-h";
    this.list = el("ol", "timeline-list");
    for (const event of this.lesson.timeline.events ?? []) {
      const li = el("li");
      li.dataset.event = event.id;
      li.append(el("span", "timeline-when"), " ", el("span", "timeline-what"), " ", el("span", "timeline-seen"));
      this.list.append(li);
    }
    this.notesHeading = el("p", "timeline-notes-h");
    this.notes = el("ul", "timeline-notes");
    for (const id of this.lesson.timeline.notes ?? []) {
      const li = el("li");
      li.dataset.note = id;
      this.notes.append(li);
    }
    this.notesHeading.hidden = this.notes.hidden = this.notes.children.length === 0;
    root.append(this.heading, this.list, this.notesHeading, this.notes);
    return root;
  }

  /** Whether this connection showed a trace of `event`. */
  #seen(event) {
    return [event.seen ?? []].flat().some((k) => this.keys.has(k))
      || (event.capability != null && this.capabilities.has(event.capability));
  }

  render() {
    const id = this.lesson.id;
    const year = new Intl.NumberFormat(locale(), { useGrouping: false });
    this.heading.textContent = t("lesson.timeline");
    for (const li of this.list.children) {
      const event = this.lesson.timeline.events.find((e) => e.id === li.dataset.event);
      const [when, what, seen] = li.querySelectorAll("span");
      when.textContent = t("lesson.timeline-when", { year: year.format(event.year), rfc: ltr(`RFC ${event.rfc}`) });
      what.textContent = t(`lesson.${id}.timeline.${event.id}`);
      const shown = this.#seen(event);
      li.dataset.seen = String(shown);
      seen.textContent = shown ? t("lesson.timeline-seen") : "";
    }
    this.notesHeading.textContent = t("lesson.timeline-notes");
    for (const li of this.notes.children) li.textContent = t(`lesson.${id}.note.${li.dataset.note}`);
  }
}
