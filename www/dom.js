// DOM helpers shared by the page's modules. Text is only ever set with textContent.

/** A new element `<tag class=cls>` holding `text` (as text, never markup). */
export function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text != null) e.textContent = text;
  return e;
}

/** `fn` to run once at the end of the current task however often this is called before then
 * (several events in one task cause one render). */
export function coalesced(fn) {
  let pending = false;
  return () => {
    if (pending) return;
    pending = true;
    queueMicrotask(() => {
      pending = false;
      fn();
    });
  };
}
