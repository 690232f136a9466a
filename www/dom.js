// DOM helpers shared by the page's modules. Text is only ever set with textContent.

/** A new element `<tag class=cls>` holding `text` (as text, never markup). */
export function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text != null) e.textContent = text;
  return e;
}
