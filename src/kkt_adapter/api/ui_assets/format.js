// How the page writes times and ages: every time in the browser's time zone, except the fiscal document's own.

import { T } from "./texts.js";

export const DAY = 86400;

function pad(n) {
  return String(n).padStart(2, "0");
}

export function time(epochSeconds) {
  if (epochSeconds === null || epochSeconds === undefined) return null;
  const d = new Date(epochSeconds * 1000);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  );
}

// An ISO time from the API, shown like every other time on the page: in the browser's time zone.
export function isoTime(text) {
  if (!text) return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? text : time(ms / 1000);
}

// The fiscal document's own time, as the KKT printed it (its time zone): it is part of the fiscal data.
export function fiscalTime(text) {
  return text ? text.replace("T", " ") : null;
}

export function age(seconds) {
  if (seconds === null || seconds === undefined) return null;
  if (seconds < 60) return T.ageSeconds(seconds.toFixed(seconds < 10 ? 1 : 0));
  if (seconds < 3600) return T.ageMinutes((seconds / 60).toFixed(0));
  if (seconds < DAY) return T.ageHours((seconds / 3600).toFixed(1));
  return T.ageDays((seconds / DAY).toFixed(1));
}
