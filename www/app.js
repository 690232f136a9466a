// Wires the modules together; nothing else lives here.

import { initialLanguage, setLanguage, locale } from "./i18n.js";
import { Session, loadEngine } from "./session.js";
import { initNotice, showNotice } from "./notice.js";
import { ConnectBar } from "./connect.js";
import { Stepper } from "./stepper.js";
import { Guide } from "./guide.js";
import { loadLessons } from "./lesson.js";
import { Transcript } from "./transcript.js";
import { WireView } from "./wire.js";
import { SequenceView } from "./sequence-view.js";
import { CommandLine } from "./cmdline.js";
import { Maildrop } from "./maildrop.js";
import { IN_BROWSER, clock } from "./simulated.js";
import { Viewer } from "./viewer.js";
import { applySavedDisplay, initClassroom } from "./classroom.js";

applySavedDisplay();

async function main() {
  // The engine first: the modules render from its command metadata (commandTable()).
  // The lessons are not needed to run a session: without them the page starts without its guide.
  let lessonsFailed = null;
  const [, , lessons] = await Promise.all([
    setLanguage(initialLanguage(), { remember: false }), loadEngine(),
    loadLessons().catch((error) => { lessonsFailed = error; return null; }),
  ]);
  initNotice();

  const session = new Session();
  const connectBar = new ConnectBar(session);
  const viewer = new Viewer();
  let stepper = null;
  const perform = (command, ...args) => stepper.perform(command, ...args);
  // The server's clock, for when a mail program first saw a message: the in-browser server's
  // virtual one (lessons move it by days), else this computer's.
  const simulatedClock = () => session.target === IN_BROWSER;
  const maildrop = new Maildrop({
    session, perform, onMessage: (msg) => viewer.show(msg),
    clock: async () => (simulatedClock() ? connectBar.simulated.time() : Date.now()),
    formatTime: (ms) => (simulatedClock() ? clock(ms) : new Date(ms).toLocaleString(locale())),
  });
  const transcript = new Transcript({ session, sizeOf: (id) => maildrop.sizeOf(id) });
  new SequenceView(transcript);
  new WireView({ session });
  stepper = new Stepper({
    session,
    connectBar,
    selectedMessage: () => maildrop.selectedMessage(),
    topLines: () => maildrop.topLines(),
  });
  const cmdline = new CommandLine({ session, connectBar });
  const guide = lessons
    ? new Guide({
      session, stepper, connectBar, maildrop, cmdline, lessons,
      lessonId: new URLSearchParams(location.search).get("lesson"),
    })
    : withoutLessons(lessonsFailed);
  const rerender = () => {
    stepper.render();
    guide?.render();
  };
  document.addEventListener("popwire:selection", rerender);
  document.addEventListener("popwire:connect-bar", rerender);
  for (const id of ["user", "auth-method"]) {
    document.getElementById(id).addEventListener("input", rerender);
  }

  initClassroom({
    next: () => guide?.doNext(),
    focusCommandLine: () => cmdline.focus(),
    focusTranscript: () => transcript.focus(),
    focusMaildrop: () => maildrop.focus(),
    toggleRaw: () => transcript.toggleRaw(),
  });

  // Ready = the engine is loaded and the targets are listed: the Connect button works.
  await Promise.all([loadEngine(), connectBar.load()]);
  stepper.render();
  performance.mark("popwire-ready");
  document.documentElement.dataset.ready = "true";
}

/** The lessons could not be loaded: the guide is hidden and the page says why. */
function withoutLessons(error) {
  document.querySelector("section.guide").hidden = true;
  showNotice({ level: "warn", title: ["lesson.load-failed-title"], text: ["lesson.load-failed"], detail: String(error?.message || error) });
  return null;
}

main().catch((error) => {
  console.error("popwire: the page could not start", error);
  document.documentElement.dataset.ready = "failed";
});
