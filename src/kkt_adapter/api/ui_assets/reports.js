// The shift's reports: the X report (counters only) and the Z report that closes the shift, shown in a panel.

import { api, problem } from "./api.js";
import { $, fill, message } from "./dom.js";
import { fiscalTime, isoTime } from "./format.js";
import { refreshNow } from "./refreshing.js";
import { state } from "./state.js";

function showReport(title, rows) {
  $("report-title").textContent = title;
  fill($("report-body"), rows);
  $("report").hidden = false;
}

function totals(report) {
  const t = report.totals || {};
  const by = (map) =>
    Object.entries(map || {})
      .filter(([, amount]) => amount !== "0.00")
      .map(([name, amount]) => `${name} ${amount}`)
      .join(", ") || "0.00";
  return [
    ["by operation", by(t.by_operation)],
    ["by payment", by(t.by_payment)],
  ];
}

export async function xReport() {
  const answer = await api("/v1/kkt/x_report", "POST");
  if (!answer.ok) {
    message(`X report: ${problem(answer)}`, "error");
    return;
  }
  const r = answer.body;
  showReport(`X report — shift ${r.shift_number} (not a fiscal document)`, [
    ["opened", isoTime(r.opened_at)],
    ["expires", isoTime(r.expires_at)],
    ["receipts", r.receipts],
    ["documents", r.documents],
    ...totals(r),
  ]);
}

export async function zReport() {
  const device = state.health && state.health.components.device;
  const which = device && device.shift_number ? ` ${device.shift_number}` : "";
  if (!window.confirm(`Close shift${which}? The KKT prints the Z report (a fiscal document).`)) return;
  const answer = await api("/v1/kkt/z_report", "POST");
  if (!answer.ok) {
    message(`Z report: ${problem(answer)}`, "error");
    return;
  }
  const r = answer.body;
  showReport(`Z report — shift ${r.shift_number} closed`, [
    ["FD number", r.fiscal_doc_number],
    ["fiscal sign", r.fiscal_sign],
    ["signed at", fiscalTime(r.fiscal_datetime)],
    ["receipts", r.receipts],
    ["documents", r.documents],
    ...totals(r),
  ]);
  message(`Shift ${r.shift_number} closed (Z report, FD ${r.fiscal_doc_number}).`, "ok");
  state.deviceReadAt = 0;
  refreshNow();
}
