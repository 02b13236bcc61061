// Every text the page shows to people, from one catalogue keyed by stable codes, in Russian (the default) and
// English: texts_ru.js and texts_en.js hold them; this module chooses the language and fills index.html's fixed
// texts (elements marked data-t, data-t-placeholder, data-t-title, data-t-aria-label). Texts that take values are
// functions of them. Importers read ``T`` and ``LOCALE`` as live bindings: they follow a change of language.

import { EN } from "./texts_en.js";
import { RU } from "./texts_ru.js";

export const CATALOGUE = { ru: RU, en: EN };
export const LANG_KEY = "kkt-lang";
const LOCALES = { ru: "ru-RU", en: "en-GB" };

export let LANG = "ru";
export let T = RU;
export let LOCALE = LOCALES.ru;

function stored() {
  try {
    return localStorage.getItem(LANG_KEY);
  } catch {
    return null;
  }
}

// The remembered choice, else the first of the browser's languages the page speaks, else Russian.
export function chosenLanguage() {
  const kept = stored();
  if (kept && kept in CATALOGUE) return kept;
  for (const tag of navigator.languages || [navigator.language || ""]) {
    const primary = tag.toLowerCase().split("-")[0];
    if (primary in CATALOGUE) return primary;
  }
  return "ru";
}

const ATTRIBUTES = ["placeholder", "title", "aria-label"];

// Switch the page to ``code``: the catalogue, the document's lang, every fixed text. ``remember`` keeps the choice.
export function setLanguage(code, remember = false) {
  LANG = code in CATALOGUE ? code : "ru";
  T = CATALOGUE[LANG];
  LOCALE = LOCALES[LANG];
  if (remember) {
    try {
      localStorage.setItem(LANG_KEY, LANG);
    } catch {
      // a browser that keeps nothing: the choice lasts for this page
    }
  }
  document.documentElement.lang = LANG;
  for (const node of document.querySelectorAll("[data-t]")) node.textContent = T[node.dataset.t];
  for (const name of ATTRIBUTES) {
    for (const node of document.querySelectorAll(`[data-t-${name}]`)) {
      node.setAttribute(name, T[node.getAttribute(`data-t-${name}`)]);
    }
  }
}
