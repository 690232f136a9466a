// For the classroom: the language switcher, dark / light theme, projector mode (large font,
// high contrast), presenter mode (explanations hidden until revealed), the help dialog and the
// keyboard shortcuts it documents. Choices are remembered in localStorage.

import { LANGUAGES, language, setLanguage, onLanguageChange } from "./i18n.js";

const THEME_KEY = "popwire.theme";
const PROJECTOR_KEY = "popwire.projector";
const PRESENTER_KEY = "popwire.presenter";

function load(key) {
  try { return localStorage.getItem(key); } catch { return null; }
}
function save(key, value) {
  try { localStorage.setItem(key, value); } catch { /* ignore */ }
}

/** Applies the remembered theme and projector mode before anything is drawn. */
export function applySavedDisplay() {
  const html = document.documentElement;
  const theme = load(THEME_KEY)
    || (window.matchMedia?.("(prefers-color-scheme: dark)").matches ? "dark" : "light");
  html.dataset.theme = theme;
  html.dataset.projector = load(PROJECTOR_KEY) === "on" ? "on" : "off";
  html.dataset.presenter = load(PRESENTER_KEY) === "on" ? "on" : "off";
}

/** Flips (or sets, with `force`) an on/off setting kept on <html data-…> and remembered. */
function toggleSetting(attribute, storageKey, [on, off], force) {
  const html = document.documentElement;
  html.dataset[attribute] = (force ?? html.dataset[attribute] !== on) ? on : off;
  save(storageKey, html.dataset[attribute]);
  syncToggles();
}

export function toggleTheme(force) {
  toggleSetting("theme", THEME_KEY, ["dark", "light"], force);
}

export function toggleProjector(force) {
  toggleSetting("projector", PROJECTOR_KEY, ["on", "off"], force);
}

/** Presenter mode: every explanation (the transcript's, the panel's, the lesson's "look for")
 * stays hidden until the instructor reveals it, so the class predicts first. */
export function togglePresenter(force) {
  toggleSetting("presenter", PRESENTER_KEY, ["on", "off"], force);
}

function syncToggles() {
  const html = document.documentElement;
  document.getElementById("theme-toggle").setAttribute("aria-pressed", String(html.dataset.theme === "dark"));
  document.getElementById("projector-toggle").setAttribute("aria-pressed", String(html.dataset.projector === "on"));
  document.getElementById("presenter-toggle").setAttribute("aria-pressed", String(html.dataset.presenter === "on"));
  for (const b of document.querySelectorAll(".lang-switch [data-lang]")) {
    b.setAttribute("aria-pressed", String(b.dataset.lang === language()));
  }
}

function nextLanguage() {
  const codes = Object.keys(LANGUAGES);
  return codes[(codes.indexOf(language()) + 1) % codes.length];
}

function typing(target) {
  if (!(target instanceof Element)) return false;
  return Boolean(target.closest("input, textarea, select, [contenteditable='true']"));
}

/**
 * @param {object} actions { next, focusCommandLine, focusTranscript, focusMaildrop, toggleRaw }
 */
export function initClassroom(actions) {
  const dialog = document.getElementById("help-dialog");
  document.getElementById("theme-toggle").addEventListener("click", () => toggleTheme());
  document.getElementById("projector-toggle").addEventListener("click", () => toggleProjector());
  document.getElementById("presenter-toggle").addEventListener("click", () => togglePresenter());
  // A Reveal button shows what presenter mode hides in its own box (data-reveals: the box's id).
  document.addEventListener("click", (e) => {
    const button = e.target instanceof Element ? e.target.closest(".reveal-btn") : null;
    if (button) document.getElementById(button.dataset.reveals)?.classList.add("revealed");
  });
  document.getElementById("help-btn").addEventListener("click", () => openHelp());
  for (const b of document.querySelectorAll(".lang-switch [data-lang]")) {
    b.addEventListener("click", () => setLanguage(b.dataset.lang));
  }
  onLanguageChange(syncToggles);
  syncToggles();

  function openHelp() {
    if (!dialog.open) dialog.showModal();
  }

  document.addEventListener("keydown", (e) => {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    if (typing(e.target)) return;
    if (dialog.open) return; // the dialog handles Esc itself
    const key = e.key;
    const run = {
      "?": openHelp,
      n: actions.next,
      N: actions.next,
      "/": actions.focusCommandLine,
      t: actions.focusTranscript,
      T: actions.focusTranscript,
      m: actions.focusMaildrop,
      M: actions.focusMaildrop,
      r: actions.toggleRaw,
      R: actions.toggleRaw,
      d: () => toggleTheme(),
      D: () => toggleTheme(),
      p: () => toggleProjector(),
      P: () => toggleProjector(),
      l: () => setLanguage(nextLanguage()),
      L: () => setLanguage(nextLanguage()),
    }[key];
    if (!run) return;
    // Enter / Space on buttons, arrows in the transcript and the tabs keep their meaning.
    e.preventDefault();
    run();
  });
  return { openHelp };
}
