// Small DOM helpers. Text from the API is only ever set as text (textContent / DOM nodes), never parsed as HTML.

import { T } from "./texts.js";

export const $ = (id) => document.getElementById(id);

export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

// A definition list from [term, value, class] rows; a missing value shows as a dash.
export function fill(target, rows) {
  target.replaceChildren(
    ...rows.flatMap(([term, value, cls]) => [
      el("dt", {}, term),
      el("dd", { class: cls || null }, value === null || value === undefined || value === "" ? "—" : value),
    ]),
  );
}

export function badge(text, kind) {
  return el("span", { class: "badge " + (kind || text) }, text);
}

export function yesNo(value, good) {
  if (value === null || value === undefined) return null;
  return badge(value ? T.yes : T.no, value === good ? "ok" : "bad");
}

// The banner under the header, for the outcome of an action; a click dismisses it.
export function message(text, kind) {
  const box = $("message");
  box.textContent = text;
  box.className = "banner " + (kind || "info");
  box.hidden = false;
}

// A fold for what only an engineer needs (breaker states, HLC stamps, raw ids): a definition list under a summary.
export function fold(summary, rows, testid) {
  const list = el("dl", {});
  fill(list, rows);
  return el("details", { class: "fold", "data-testid": testid || null }, el("summary", {}, summary), list);
}
