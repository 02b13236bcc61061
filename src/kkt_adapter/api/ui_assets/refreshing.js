// The page's rhythm: one refresh at a time, every 2 s, at once after an action; and how a failure shows.

import { Unauthorized } from "./api.js";
import { $ } from "./dom.js";
import { state } from "./state.js";
import { T } from "./texts.js";

export const REFRESH_MS = 2000;

// What one refresh does (set by startRefreshing, so that the parts that ask for a refresh need not know it).
let refresh = async () => {};

export function failed(error) {
  if (error instanceof Unauthorized) return;
  const banner = $("offline");
  banner.textContent = T.offline(error.message, REFRESH_MS / 1000);
  banner.hidden = false;
}

// A button's click handler that runs ``action`` with the button disabled, showing a failure.
export function guarded(action) {
  return async (event) => {
    const button = event.currentTarget;
    button.disabled = true;
    try {
      await action();
    } catch (error) {
      failed(error);
    } finally {
      button.disabled = false;
    }
  };
}

// One refresh at a time; a refresh asked for while one runs follows it at once.
export async function refreshNow() {
  if (state.busy) {
    state.again = true;
    return;
  }
  state.busy = true;
  clearTimeout(state.timer);
  try {
    await refresh();
  } catch (error) {
    failed(error);
  } finally {
    state.busy = false;
    if (state.again) {
      state.again = false;
      refreshNow();
    } else {
      state.timer = setTimeout(refreshNow, REFRESH_MS);
    }
  }
}

export function startRefreshing(step) {
  refresh = step;
  refreshNow();
}
