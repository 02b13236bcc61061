// The adapter's v1 API as the page calls it: JSON, never cached, with the API token when one is saved.

import { $ } from "./dom.js";
import { LANG } from "./texts.js";

export const TOKEN_KEY = "kkt-api-token";

// The API asked for a token: the token form is shown, and the failure is not an outage.
export class Unauthorized extends Error {}

export function storedToken() {
  try {
    return localStorage.getItem(TOKEN_KEY) || "";
  } catch {
    return "";
  }
}

export function authHeaders() {
  const token = storedToken();
  return token ? { Authorization: "Bearer " + token } : {};
}

export async function api(path, method = "GET") {
  const response = await fetch(path, {
    method,
    headers: { Accept: "application/json", "Accept-Language": LANG, ...authHeaders() },
    cache: "no-store",
  });
  if (response.status === 401) {
    $("token-form").hidden = false;
    throw new Unauthorized(path);
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  return { status: response.status, ok: response.ok, body };
}

// What an error answer says, in one line: its message in the page's language when it has one.
export function problem(answer) {
  if (answer.body && typeof answer.body.message === "string") return answer.body.message;
  const detail = answer.body && answer.body.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) return detail.map((d) => d.msg).join("; ");
  return "HTTP " + answer.status;
}
