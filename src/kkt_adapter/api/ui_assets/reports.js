// The shift's reports: the X report (counters only) and the Z report that closes the shift, for one device or, with
// several KKTs, for each of them in turn; every device's result is a part of the report panel of its own.

import { api, problem } from "./api.js";
import { $, el, fill, message } from "./dom.js";
import { fiscalTime, isoTime, money } from "./format.js";
import { refreshNow } from "./refreshing.js";
import { state } from "./state.js";
import { T } from "./texts.js";

// The configured devices' names with several KKTs, else [null]: one device is a list of one (no ?device=).
export function deviceNames() {
  const devices = state.health && state.health.components.devices;
  return devices ? Object.keys(devices) : [null];
}

function showReport(title, parts) {
  $("report-title").textContent = title;
  $("report-body").replaceChildren(...parts);
  $("report").hidden = false;
}

function part(device, heading, rows, testid) {
  const list = el("dl", {});
  fill(list, rows);
  const name = device === null ? null : el("h3", {}, T.theDevice(device));
  return el("div", { class: "report-part", "data-testid": testid, "data-device": device }, name, el("p", {}, heading), list);
}

function totals(report) {
  const t = report.totals || {};
  const by = (map, names) =>
    Object.entries(map || {})
      .filter(([, amount]) => amount !== "0.00")
      .map(([name, amount]) => `${(names && names[name]) || name} ${money(amount)}`)
      .join(", ") || money(0);
  return [
    [T.byOperation, by(t.by_operation, T.operations)],
    [T.byPayment, by(t.by_payment, T.paymentKinds)],
  ];
}

function query(device) {
  return device === null ? "" : "?device=" + encodeURIComponent(device);
}

async function xOne(device) {
  const answer = await api("/v1/kkt/x_report" + query(device), "POST");
  if (!answer.ok) return part(device, T.xReportFailed(problem(answer)), [], "report-failed");
  const r = answer.body;
  return part(
    device,
    T.xReportTitle(r.shift_number),
    [
      [T.opened, isoTime(r.opened_at)],
      [T.expires, isoTime(r.expires_at)],
      [T.receipts, r.receipts],
      [T.documents, r.documents],
      ...totals(r),
    ],
    "report-x",
  );
}

async function zOne(device) {
  const answer = await api("/v1/kkt/z_report" + query(device), "POST");
  if (!answer.ok) return [part(device, T.zReportFailed(problem(answer)), [], "report-failed"), false];
  const r = answer.body;
  const rows = [
    [T.fdNumber, r.fiscal_doc_number],
    [T.fiscalSign, r.fiscal_sign],
    [T.signedAt, fiscalTime(r.fiscal_datetime)],
    [T.receipts, r.receipts],
    [T.documents, r.documents],
    ...totals(r),
  ];
  return [part(device, T.shiftClosed(r.shift_number, r.fiscal_doc_number), rows, "report-z"), true];
}

// The X report of ``device``, or of every device (``undefined``), one after another.
export async function xReport(device) {
  const names = device === undefined ? deviceNames() : [device];
  const parts = [];
  for (const name of names) parts.push(await xOne(name));
  showReport(T.xReportHeading, parts);
}

function shiftOf(device) {
  const health = state.health;
  if (!health) return "";
  const one = device === null ? health.components.device : health.components.devices[device];
  return one && one.shift_number ? ` ${one.shift_number}` : "";
}

// Close the shift of ``device``, or of every device (``undefined``), after one confirmation naming them.
export async function zReport(device) {
  const names = device === undefined ? deviceNames() : [device];
  const asked =
    names.length === 1 && names[0] === null
      ? T.zReportConfirm(shiftOf(null))
      : T.zReportConfirmDevices(names.map((name) => `${T.theDevice(name)}${shiftOf(name)}`).join(", "));
  if (!window.confirm(asked)) return;
  const parts = [];
  let closed = 0;
  for (const name of names) {
    const [shown, ok] = await zOne(name);
    parts.push(shown);
    if (ok) closed += 1;
  }
  showReport(T.zReportHeading, parts);
  message(T.shiftsClosed(closed, names.length), closed === names.length ? "ok" : "error");
  state.deviceReadAt = 0;
  refreshNow();
}
