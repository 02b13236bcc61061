// How the page writes times, ages and money: in the page's language (ru-RU by default: `11 609,12 ₽`,
// `07.12.2026, 14:02:05`), every time in the browser's time zone except the fiscal document's own.

import { LOCALE, T } from "./texts.js";

export const DAY = 86400;

const TIME = { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" };
const CLOCK = { hour: "2-digit", minute: "2-digit", second: "2-digit" };
const SHORT = { day: "2-digit", month: "2-digit", hour: "2-digit", minute: "2-digit" };

export function time(epochSeconds) {
  if (epochSeconds === null || epochSeconds === undefined) return null;
  return new Intl.DateTimeFormat(LOCALE, TIME).format(new Date(epochSeconds * 1000));
}

// The time of day only (the page's "updated at").
export function clock(epochSeconds) {
  return new Intl.DateTimeFormat(LOCALE, CLOCK).format(new Date(epochSeconds * 1000));
}

// A moment of today as its time of day, an earlier one with its date: "14:02", "05.12, 14:02".
export function since(epochSeconds) {
  const d = new Date(epochSeconds * 1000);
  const today = new Date().toDateString() === d.toDateString();
  return new Intl.DateTimeFormat(LOCALE, today ? { hour: "2-digit", minute: "2-digit" } : SHORT).format(d);
}

// An ISO time from the API, shown like every other time on the page: in the browser's time zone.
export function isoTime(text) {
  if (!text) return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? text : time(ms / 1000);
}

// A date of the API (``2027-12-31``) as the page's language writes dates.
export function date(text) {
  if (!text) return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? text : new Intl.DateTimeFormat(LOCALE, { dateStyle: "short", timeZone: "UTC" }).format(ms);
}

// The fiscal document's own time, as the KKT printed it (its time zone): it is part of the fiscal data.
export function fiscalTime(text) {
  if (!text) return null;
  const [day, clockText] = text.split("T");
  return clockText ? `${date(day)} ${clockText}` : text;
}

// Rubles from the API's decimal string (``"11609.12"``) or a number: ``11 609,12 ₽`` in Russian.
export function money(value) {
  if (value === null || value === undefined || value === "") return null;
  const amount = Number(value);
  if (Number.isNaN(amount)) return String(value);
  return new Intl.NumberFormat(LOCALE, { style: "currency", currency: "RUB", currencyDisplay: "narrowSymbol" }).format(
    amount,
  );
}

// A plain number in the page's language (quantities: ``1,5``).
export function number(value) {
  if (value === null || value === undefined || value === "") return null;
  const amount = Number(value);
  return Number.isNaN(amount) ? String(value) : new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 3 }).format(amount);
}

export function age(seconds) {
  if (seconds === null || seconds === undefined) return null;
  const fixed = (n, digits) => new Intl.NumberFormat(LOCALE, { maximumFractionDigits: digits }).format(n);
  if (seconds < 60) return T.ageSeconds(fixed(seconds, seconds < 10 ? 1 : 0));
  if (seconds < 3600) return T.ageMinutes(fixed(seconds / 60, 0));
  if (seconds < DAY) return T.ageHours(fixed(seconds / 3600, 1));
  return T.ageDays(fixed(seconds / DAY, 1));
}
