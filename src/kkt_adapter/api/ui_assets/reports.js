// The shift's reports: the X report (counters only) and the Z report that closes the shift, shown in a panel.

import { api, problem } from "./api.js";
import { $, fill, message } from "./dom.js";
import { fiscalTime, isoTime, money } from "./format.js";
import { refreshNow } from "./refreshing.js";
import { state } from "./state.js";
import { T } from "./texts.js";

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
      .map(([name, amount]) => `${(T.operations && T.operations[name]) || name} ${money(amount)}`)
      .join(", ") || money(0);
  return [
    [T.byOperation, by(t.by_operation)],
    [T.byPayment, by(t.by_payment)],
  ];
}

export async function xReport() {
  const answer = await api("/v1/kkt/x_report", "POST");
  if (!answer.ok) {
    message(T.xReportFailed(problem(answer)), "error");
    return;
  }
  const r = answer.body;
  showReport(T.xReportTitle(r.shift_number), [
    [T.opened, isoTime(r.opened_at)],
    [T.expires, isoTime(r.expires_at)],
    [T.receipts, r.receipts],
    [T.documents, r.documents],
    ...totals(r),
  ]);
}

export async function zReport() {
  const device = state.health && state.health.components.device;
  const which = device && device.shift_number ? ` ${device.shift_number}` : "";
  if (!window.confirm(T.zReportConfirm(which))) return;
  const answer = await api("/v1/kkt/z_report", "POST");
  if (!answer.ok) {
    message(T.zReportFailed(problem(answer)), "error");
    return;
  }
  const r = answer.body;
  showReport(T.zReportTitle(r.shift_number), [
    [T.fdNumber, r.fiscal_doc_number],
    [T.fiscalSign, r.fiscal_sign],
    [T.signedAt, fiscalTime(r.fiscal_datetime)],
    [T.receipts, r.receipts],
    [T.documents, r.documents],
    ...totals(r),
  ]);
  message(T.shiftClosed(r.shift_number, r.fiscal_doc_number), "ok");
  state.deviceReadAt = 0;
  refreshNow();
}
