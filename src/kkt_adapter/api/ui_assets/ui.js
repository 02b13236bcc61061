// The operator's page: reads the adapter's v1 API every 2 s and sends the page's few actions as POSTs.
// Plain browser JavaScript in ES modules served beside this one, no build step and no outside files. This module
// reads what each refresh shows and wires the page's buttons and forms; the parts it draws are its imports.

import { TOKEN_KEY, api } from "./api.js";
import { renderDlq, requeue } from "./dlq.js";
import { closeDetail, renderDetail, renderDeviceFilter, renderReceipts } from "./documents.js";
import { $ } from "./dom.js";
import { clock } from "./format.js";
import { renderGlance } from "./glance.js";
import { forgetAllImages } from "./qr.js";
import { failed, guarded, refreshNow, startRefreshing } from "./refreshing.js";
import { xReport, zReport } from "./reports.js";
import { state } from "./state.js";
import { LANG, T, chosenLanguage, setLanguage } from "./texts.js";

// The shift and the FN are read from the device, which answers between prints: ask it less often.
const DEVICE_REFRESH_MS = 10000;
const LATEST = 20;

async function refreshDevice() {
  if (state.deviceBusy) return;
  state.deviceBusy = true;
  try {
    const [shift, fn] = await Promise.all([api("/v1/kkt/shift"), api("/v1/kkt/fn")]);
    state.shift = shift.ok ? shift.body : null;
    state.fn = fn.ok ? fn.body : null;
    state.deviceReadAt = Date.now();
    renderGlance();
  } finally {
    state.deviceBusy = false;
  }
}

async function refresh() {
  let query = state.query ? `&q=${encodeURIComponent(state.query)}` : "";
  if (state.deviceFilter) query += `&device=${encodeURIComponent(state.deviceFilter)}`;
  const [health, buffer, dlq, receipts] = await Promise.all([
    api("/v1/health"),
    api("/v1/kkt/buffer/status"),
    api("/v1/kkt/dlq?limit=100"),
    api(`/v1/kkt/receipts?limit=${LATEST}${query}`),
  ]);
  $("token-form").hidden = true;
  $("offline").hidden = true;
  state.health = health.body;
  state.buffer = buffer.body;
  const device = state.health.components.device;
  // Ask the device again as soon as something it counts moved: a document signed or acknowledged, the shift.
  const mark = `${device.last_fd_number}/${device.shift_open}/${state.buffer.synced}`;
  const due = mark !== state.deviceMark || Date.now() - state.deviceReadAt >= DEVICE_REFRESH_MS;
  if (due && !state.deviceBusy) {
    state.deviceMark = mark;
    refreshDevice().catch(failed);
  }
  renderGlance();
  renderDeviceFilter(state.health.components.devices);
  if (receipts.ok) renderReceipts(receipts.body);
  if (dlq.ok) renderDlq(dlq.body);
  await renderDetail();
  $("updated").textContent = T.updated(clock(Date.now() / 1000));
}

// Every fixed text, the title and the switch in ``code``; what the refreshes draw follows at the next one (now).
function speak(code, remember) {
  setLanguage(code, remember);
  $("lang").value = LANG;
  document.title = `${T.pageTitle} — ${document.body.dataset.adapterId}`;
}

function start() {
  speak(chosenLanguage(), false);
  $("lang").addEventListener("change", (event) => {
    speak(event.target.value, true);
    state.deviceReadAt = 0;
    refreshNow();
  });
  $("x-report").addEventListener("click", guarded(() => xReport()));
  $("z-report").addEventListener("click", guarded(() => zReport()));
  $("device-filter").addEventListener("change", (event) => {
    state.deviceFilter = event.target.value || null;
    refreshNow();
  });
  $("detail-close").addEventListener("click", closeDetail);
  $("message").addEventListener("click", () => ($("message").hidden = true));
  $("detail-requeue").addEventListener("click", guarded(() => requeue(state.selected)));
  $("search").addEventListener("submit", (event) => {
    event.preventDefault();
    state.query = $("search-input").value.trim() || null;
    state.openSingleHit = true;
    refreshNow();
  });
  $("search-clear").addEventListener("click", () => {
    $("search-input").value = "";
    state.query = null;
    refreshNow();
  });
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    localStorage.setItem(TOKEN_KEY, $("token-input").value.trim());
    $("token-input").value = "";
    forgetAllImages();
    refreshNow();
  });
  $("token-clear").addEventListener("click", () => {
    localStorage.removeItem(TOKEN_KEY);
    forgetAllImages();
    refreshNow();
  });
  startRefreshing(refresh);
}

start();

