// The lesson guide: the lesson index (each lesson a link ?lesson=ID&lang=LANG&target=…, with
// its progress in this browser), the current lesson's steps, the step to do now — what to do,
// how (type it, click its button), the prediction asked before the reply — then, once the
// reply came, what it showed and whether the prediction held; the questions answered from the
// student's own session. The guide may still do a step ("Do it for me", the N key), but a
// lesson is complete only with every prediction made and every question answered.
// Lessons are data (www/lessons/, lesson.js); this module renders them.

import { t, ltr, formatNumber, language, onLanguageChange } from "./i18n.js";
import { el, coalesced } from "./dom.js";
import { LessonRun, loadProgress } from "./lesson.js";
import { loginLabel, mechanismOf } from "./stepper.js";
import { saslResponse, parseCapabilities } from "./session.js";
import { showNotice } from "./notice.js";
import { ApopWidget } from "./apop-widget.js";
import { Timeline } from "./timeline.js";

/** The choices of each kind of prediction; `label` is a ui key, or protocol text shown as is. */
const PREDICTIONS = {
  status: [{ value: "+OK" }, { value: "-ERR" }],
  lines: [{ value: "one", label: "lesson.predict.lines-one" }, { value: "many", label: "lesson.predict.lines-many" }],
  state: [{ value: "AUTHORIZATION" }, { value: "TRANSACTION" }, { value: "UPDATE" }],
};

/** A prediction's choice as shown: translated, or protocol text isolated left-to-right. */
function choiceText(kind, value) {
  const choice = PREDICTIONS[kind]?.find((c) => c.value === value);
  return choice?.label ? t(choice.label) : ltr(value);
}

/** The maildrop's message with the greatest `key` (its size, its number), or null. */
function greatest(maildrop, key) {
  let best = null;
  for (const m of maildrop.messages.values()) if (key(m) != null && (!best || key(m) > key(best))) best = m;
  return best;
}

/** Presses the controls of the page a step names (buttons shown, checkboxes not yet ticked). */
function press(ids) {
  for (const id of [ids ?? []].flat()) {
    const control = document.getElementById(id);
    if (!control || control.hidden || (control.type === "checkbox" && control.checked)) continue;
    control.click();
  }
}

/** Chooses a target in the connect bar as the student would (a step's `target`). */
function selectTarget(name) {
  const select = document.getElementById("target");
  if (select.disabled || select.value === name || ![...select.options].some((o) => o.value === name)) return;
  select.value = name;
  select.dispatchEvent(new Event("change"));
}

export class Guide {
  /**
   * @param {object} ctx { session, stepper, connectBar, maildrop, lessons, lessonId }
   */
  constructor(ctx) {
    this.ctx = ctx;
    this.session = ctx.session;
    this.lessons = ctx.lessons;
    this.lesson = this.lessons.find((l) => l.id === ctx.lessonId) ?? this.lessons[0];
    if (ctx.lessonId && this.lesson.id !== ctx.lessonId) {
      // A link to a lesson that is not here: say so, and open the index to choose one.
      showNotice({ level: "warn", title: ["lesson.unknown-title"], text: ["lesson.unknown", { id: ltr(ctx.lessonId) }] });
      document.getElementById("lesson-index").open = true;
    }
    this.titleEl = document.getElementById("lesson-title");
    this.listEl = document.getElementById("lesson-list");
    this.stepsEl = document.getElementById("guide-steps");
    this.currentEl = document.getElementById("guide-current");
    this.lastEl = document.getElementById("guide-last");
    this.predictEl = document.getElementById("guide-predict");
    this.doBtn = document.getElementById("guide-do");
    this.questionsEl = document.getElementById("guide-questions");
    this.statusEl = document.getElementById("lesson-status");
    this.run = this.#newRun();

    const s = this.session;
    s.addEventListener("connecting", () => {
      if (!this.run.current) this.run = this.#newRun(); // walked through: a new walk begins
      this.capas = [];
      this.run.connecting();
    });
    this.capas = []; // this connection's CAPA bodies, in order (read: capa-removed)
    s.addEventListener("transcript", (e) => {
      if (e.detail.explain?.key === "body.CAPA") this.capas.push(e.detail.text);
      this.run.entry(e.detail, s.state);
    });
    s.addEventListener("result", (e) => this.run.result(e.detail.command, s.state));
    s.addEventListener("closed", () => this.run.closedNow());
    s.addEventListener("sasl", (e) => this.run.exchangeStarted(e.detail.mechanism));
    s.addEventListener("connect-failed", (e) => this.run.connectFailed(e.detail.error));
    document.addEventListener("popwire:second-client", (e) => this.run.secondClient(e.detail));
    document.addEventListener("popwire:delivered", () => this.run.delivered());
    document.addEventListener("popwire:clock", () => this.run.clockAdvanced());
    document.addEventListener("popwire:program", (e) => this.run.programChanged(e.detail));
    document.addEventListener("popwire:downloaded", (e) => this.run.downloaded(e.detail));
    // The wire view (wire.js) is open and shows the octets in the clear, or TLS records.
    document.addEventListener("popwire:wire", (e) => this.run.saw(e.detail.tls ? "wire.tls" : "wire.plain"));
    this.doBtn.addEventListener("click", () => this.doNext());
    // The lesson's widget (APOP's digest by hand) and timeline, if it has them.
    if (this.lesson.steps.some((step) => step.widget === "apop")) {
      this.apop = new ApopWidget({ session: s, onSeen: (key) => this.run.saw(key) });
      this.currentEl.after(this.apop.root);
    }
    if (this.lesson.timeline) {
      this.timeline = new Timeline(this.lesson, s);
      (this.apop?.root ?? this.currentEl).after(this.timeline.root);
    }
    onLanguageChange(() => this.render());
    this.#buildSteps();
    this.#buildQuestions();
    this.render();
  }

  #newRun() {
    return new LessonRun(this.lesson, {
      read: (spec) => this.#read(spec),
      program: () => this.ctx.maildrop.programs.current(),
      onChange: () => this.renderSoon(),
    });
  }

  /** The text key prefix of the lesson's steps (lesson 1 keeps the guide's keys). */
  get #prefix() {
    return this.lesson.text ?? `lesson.${this.lesson.id}`;
  }

  /** A question's value as the student's session read it (the maildrop), or null. */
  #read(spec) {
    const m = this.ctx.maildrop;
    const message = m.messages.get(spec.message);
    // The last "Download all new messages", once it ended.
    const finished = m.download && !m.download.running ? m.download : null;
    switch (spec.read) {
      case "count": return m.stat?.count ?? null;
      case "size": return message?.size ?? null;
      case "uid": return message?.uid ?? null;
      case "second-code": return this.run.secondCode ?? null;
      case "tls-version": return this.session.tls?.version ?? null;
      case "capa-removed": {
        // What the first CAPA of this connection listed and its latest one no longer does.
        if (this.capas.length < 2) return null;
        const names = (text) => parseCapabilities(text).map((c) => c.name);
        const later = new Set(names(this.capas[this.capas.length - 1]));
        return names(this.capas[0]).filter((n) => !later.has(n)).join(" ") || null;
      }
      case "apop-digest": return this.apop?.sent?.slice(0, 4) ?? null;
      // The SASL challenge pending now, as the engine decoded it (its transcript row shows it).
      case "challenge": return this.session.challenge?.text || null;
      case "downloaded": return finished?.done ?? null;
      case "download-listed": return finished?.listed ?? null;
      case "download-deleted": return finished?.deleted ?? null;
      case "last-id": return greatest(m, (x) => x.id)?.id ?? null;
      case "last-uid": return greatest(m, (x) => x.id)?.uid ?? null;
      case "largest": return greatest(m, (x) => x.size)?.id ?? null;
      case "largest-size": return greatest(m, (x) => x.size)?.size ?? null;
      case "listed": {
        const listed = [...m.messages.values()].filter((x) => x.uid != null && !x.removed).length;
        return listed || null;
      }
      default: return null;
    }
  }

  #vars() {
    const { method } = this.ctx.connectBar.credentials();
    return {
      n: this.ctx.maildrop.selectedMessage(),
      lines: this.ctx.maildrop.topLines(),
      method: loginLabel(method),
    };
  }

  #buildSteps() {
    this.stepsEl.replaceChildren();
    for (const step of this.lesson.steps) {
      const li = el("li");
      li.dataset.step = step.id;
      this.stepsEl.append(li);
    }
  }

  #buildQuestions() {
    const list = this.questionsEl.querySelector("ol");
    list.replaceChildren();
    const questions = this.lesson.questions ?? [];
    this.questionsEl.hidden = questions.length === 0;
    for (const q of questions) {
      if (q.choices) {
        list.append(this.#choiceQuestion(q));
        continue;
      }
      const li = el("li", "question");
      li.dataset.question = q.id;
      const label = el("label", "question-text");
      const input = el("input");
      input.id = `question-${q.id}`;
      input.type = "text";
      input.dir = "auto";
      input.autocomplete = "off";
      input.spellcheck = false;
      label.htmlFor = input.id;
      const check = el("button", "small");
      check.type = "button";
      const result = el("span", "question-result");
      result.setAttribute("role", "status");
      const submit = () => {
        const outcome = this.run.answer(q, input.value);
        li.dataset.result = outcome;
        this.render();
      };
      check.addEventListener("click", submit);
      input.addEventListener("keydown", (e) => {
        if (e.key === "Enter") submit();
      });
      li.append(label, input, check, result);
      list.append(li);
    }
  }

  /** Renders once at the end of this task, however many events asked. */
  renderSoon = coalesced(() => this.render());

  /** A question answered by picking one of its choices (labels: lesson.<id>.q.<question>.<choice>). */
  #choiceQuestion(q) {
    const li = el("li", "question choice-question");
    li.dataset.question = q.id;
    const fs = el("fieldset");
    const legend = el("legend", "question-text");
    fs.append(legend);
    for (const choice of q.choices) {
      const label = el("label", "choice");
      const input = el("input");
      input.type = "radio";
      input.name = `question-${q.id}`;
      input.value = choice;
      input.addEventListener("change", () => {
        li.dataset.result = this.run.answer(q, choice);
        this.render();
      });
      label.append(input, el("span"));
      fs.append(label);
    }
    const result = el("span", "question-result");
    result.setAttribute("role", "status");
    li.append(fs, result);
    return li;
  }

  render() {
    const run = this.run;
    const vars = this.#vars();
    const prefix = this.#prefix;
    this.titleEl.textContent = t(`lesson.${this.lesson.id}.title`);
    this.#renderIndex();
    for (const li of this.stepsEl.children) {
      const step = this.lesson.steps.find((s) => s.id === li.dataset.step);
      li.textContent = t(`${prefix}.${step.id}.title`, vars);
      li.classList.toggle("done", run.isDone(step));
      li.classList.toggle("current", run.current === step);
      if (run.current === step) li.setAttribute("aria-current", "step");
      else li.removeAttribute("aria-current");
    }
    this.#renderLast(vars);
    this.#renderCurrent(vars);
    this.#renderQuestions(vars);
    this.#renderStatus();
    this.#renderWidgets();
    this.doBtn.disabled = this.ctx.connectBar.busy || (!this.session.connected && !this.ctx.connectBar.ready);
  }

  /** The APOP widget from its first step on; the timeline. */
  #renderWidgets() {
    if (this.apop) {
      const first = this.lesson.steps.findIndex((step) => step.widget === "apop");
      this.apop.root.hidden = this.run.current != null && this.lesson.steps.indexOf(this.run.current) < first;
      this.apop.render();
    }
    this.timeline?.render();
  }

  #renderIndex() {
    const progress = loadProgress();
    const frag = document.createDocumentFragment();
    for (const lesson of this.lessons) {
      const li = el("li");
      const a = el("a", null, t(`lesson.${lesson.id}.title`));
      const params = new URLSearchParams({ lesson: lesson.id, lang: language() });
      if (lesson.server) params.set("target", lesson.server);
      a.href = `?${params}`;
      if (lesson === this.lesson) a.setAttribute("aria-current", "page");
      const p = progress[lesson.id];
      const done = p?.done?.length ?? 0;
      const status = p?.complete
        ? t("lesson.index-complete")
        : done ? t("lesson.index-progress", { done: formatNumber(done), total: formatNumber(lesson.steps.length) })
        : t("lesson.index-new");
      li.dataset.lesson = lesson.id;
      li.dataset.progress = p?.complete ? "complete" : done ? "started" : "new";
      li.append(a, " ", el("span", "lesson-progress", `(${status})`));
      frag.append(li);
    }
    this.listEl.replaceChildren(frag);
  }

  /** The step just done: what its reply showed, and how the prediction fared. */
  #renderLast(vars) {
    const step = this.run.previous;
    this.lastEl.hidden = !step;
    if (!step) return;
    const prefix = this.#prefix;
    // A new step done: in presenter mode its explanation waits to be revealed.
    if (this.lastEl.dataset.step !== step.id) this.lastEl.classList.remove("revealed");
    this.lastEl.dataset.step = step.id;
    this.lastEl.querySelector(".guide-last-title").textContent = t("lesson.last", { step: t(`${prefix}.${step.id}.title`, vars) });
    const feedback = this.lastEl.querySelector(".guide-feedback");
    const outcome = this.run.outcome(step);
    this.lastEl.dataset.outcome = outcome ?? "";
    const predicted = this.run.results.get(step.id)?.predicted;
    const actual = this.run.actual(step);
    feedback.hidden = outcome == null;
    if (outcome === "right") feedback.textContent = t("lesson.predict.right", { choice: choiceText(step.predict, predicted) });
    else if (outcome === "wrong") {
      feedback.textContent = t("lesson.predict.wrong", {
        choice: choiceText(step.predict, predicted), actual: choiceText(step.predict, actual),
      });
    } else if (outcome === "none") feedback.textContent = t("lesson.predict.none", { actual: choiceText(step.predict, actual ?? "") });
    this.lastEl.querySelector(".guide-look span").textContent = t(`${prefix}.${step.id}.look`, vars);
  }

  #renderCurrent(vars) {
    const step = this.run.current;
    const box = this.currentEl;
    const title = box.querySelector(".guide-step-title");
    const what = box.querySelector(".guide-what");
    const how = box.querySelector(".guide-how");
    box.dataset.step = step ? step.id : "done";
    if (!step) {
      title.textContent = this.lesson.text ? t("guide.done.title") : t("lesson.done-title");
      what.textContent = this.lesson.text ? t("guide.done.what") : t(`lesson.${this.lesson.id}.done`);
      how.textContent = this.lesson.text ? t("guide.done.look") : "";
      this.predictEl.hidden = true;
      this.doBtn.textContent = t("guide.done.do");
      return;
    }
    const prefix = this.#prefix;
    title.textContent = t(`${prefix}.${step.id}.title`, vars);
    what.textContent = t(`${prefix}.${step.id}.what`, vars);
    how.textContent = step.command && step.check.mechanism
      ? t("lesson.how-mechanism", { command: ltr(this.#typed(step)) })
      : step.command
      ? t("lesson.how-command", { command: ltr(this.ctx.stepper.preview(step.command)) })
      : step.target ? t("lesson.how-connect-target", { target: ltr(step.target) })
      : t(`lesson.how-${step.do}`, { method: ltr(vars.method) });
    this.doBtn.textContent = t("lesson.do-for-me", { action: t(`${prefix}.${step.id}.do`, vars) });
    this.#renderPredict(step);
  }

  #renderPredict(step) {
    const fs = this.predictEl;
    fs.hidden = !step.predict;
    if (!step.predict) return;
    fs.querySelector("legend").textContent = t(`lesson.predict.${step.predict}`);
    const choices = fs.querySelector(".choices");
    const chosen = this.run.predictions.get(step.id) ?? null;
    if (choices.dataset.step !== step.id || choices.dataset.lang !== language()) {
      choices.dataset.step = step.id;
      choices.dataset.lang = language();
      choices.replaceChildren();
      for (const c of PREDICTIONS[step.predict]) {
        const label = el("label", "choice");
        const input = el("input");
        input.type = "radio";
        input.name = "prediction";
        input.value = c.value;
        input.addEventListener("change", () => this.run.predict(c.value));
        const text = el("span", null, c.label ? t(c.label) : c.value);
        if (!c.label) text.dir = "ltr";
        label.append(input, text);
        choices.append(label);
      }
    }
    for (const input of choices.querySelectorAll("input")) input.checked = input.value === chosen;
  }

  #renderQuestions(vars) {
    for (const li of this.questionsEl.querySelectorAll("li.question")) {
      const q = this.lesson.questions.find((x) => x.id === li.dataset.question);
      const text = t(`lesson.${this.lesson.id}.q.${q.id}`, vars);
      if (q.choices) {
        li.querySelector("legend").textContent = text;
        for (const label of li.querySelectorAll("label.choice")) {
          const value = label.querySelector("input").value;
          label.querySelector("span").textContent = t(`lesson.${this.lesson.id}.q.${q.id}.${value}`);
        }
      } else {
        li.querySelector("label").textContent = text;
        li.querySelector("button").textContent = t("lesson.check");
      }
      const a = this.run.answers.get(q.id);
      const result = li.querySelector(".question-result");
      const outcome = li.dataset.result;
      result.textContent = outcome === "right" && a?.right ? t("lesson.answer-right")
        : outcome === "wrong" ? t("lesson.answer-wrong")
        : outcome === "unknown" ? t(`lesson.answer-unknown-${q.answer.read}`)
        : "";
    }
  }

  #renderStatus() {
    const run = this.run;
    let text = "";
    if (run.complete) text = t("lesson.complete");
    else if (!run.current) {
      const unpredicted = this.lesson.steps.some((s) => s.predict && run.results.get(s.id)?.predicted == null);
      const unanswered = (this.lesson.questions ?? []).filter((q) => !run.answers.get(q.id)?.right).length;
      if (unanswered) text = t("lesson.questions-left", { count: formatNumber(unanswered) });
      else if (unpredicted) text = t("lesson.predictions-left");
    }
    this.statusEl.textContent = text;
    this.statusEl.dataset.complete = String(run.complete);
  }

  /** The line a step that starts a SASL exchange types: its command and its check's mechanism
   * ("AUTH LOGIN"), so the challenges are the student's to answer. */
  #typed(step) {
    return `${step.command} ${step.check.mechanism}`;
  }

  /** Answers the pending SASL challenge as the command line's fill button would (the engine's
   * SASL client, with the connect bar's credentials). */
  async #saslResponse() {
    if (!this.session.saslPending) return;
    const { user, password, method } = this.ctx.connectBar.credentials();
    const mechanism = this.session.mechanism ?? mechanismOf(method);
    const line = saslResponse(mechanism, user, password, this.session.challengeStep, this.session.challenge?.bytes);
    await this.ctx.stepper.perform("RAW", line);
  }

  /** The guide's button (and the N key): does the current step for the student. */
  async doNext() {
    const step = this.run.current;
    press(step?.press);
    if (step?.target) selectTarget(step.target);
    if (!step || step.do === "connect") await this.ctx.connectBar.connect();
    else if (step.do === "login") await this.ctx.stepper.login();
    else if (step.do === "disconnect") this.session.close();
    else if (step.do === "press") { /* pressed above */ }
    else if (step.do === "wire" || step.do === "wire-records") {
      // The wire view (wire.js) opened if it is closed; its record headers read out.
      if (document.getElementById("wire-toggle").getAttribute("aria-pressed") !== "true") press("wire-toggle");
      if (step.do === "wire-records") press("wire-explain");
    }
    else if (step.do === "sasl") await this.#saslResponse();
    else if (step.do === "apop-compute") this.apop?.computeWith(this.ctx.connectBar.credentials().password);
    else if (step.do === "apop-compare") this.apop?.compare();
    else if (step.command && step.check.mechanism) await this.ctx.stepper.perform("RAW", this.#typed(step));
    else await this.ctx.stepper.runButton(step.command);
    this.render();
  }
}
