// The documents: the latest (or those a search found) as a list, and the one open document with its fiscal data,
// its delivery to the OFD, its QR code and its events.

import { api } from "./api.js";
import { $, badge, el, fill, fold, message } from "./dom.js";
import { fiscalTime, isoTime, money, time } from "./format.js";
import { forgetImages, hasQr, qrImage } from "./qr.js";
import { receiptView } from "./receipt.js";
import { failed } from "./refreshing.js";
import { state } from "./state.js";
import { T } from "./texts.js";

// The document's kind in words; a refund or a correction is marked as such (a badge of its own colour).
export function documentName(receipt) {
  const fiscal = receipt.document_type === "receipt" || receipt.document_type === "correction";
  const key = fiscal ? `${receipt.document_type}/${receipt.type}` : receipt.document_type;
  const text = T.documentTypes[key] || key;
  if (receipt.document_type === "correction") return badge(text, "correction");
  if (receipt.type === "refund") return badge(text, "refund");
  return text;
}

export function stateBadge(value) {
  return el("span", { class: "badge " + value, "data-state": value }, T.states[value] || value);
}

// With several KKTs: the device column and the filter's choices ("all devices" and each by name).
export function renderDeviceFilter(devices) {
  const names = devices ? Object.keys(devices) : [];
  $("receipts-table").classList.toggle("single", names.length === 0);
  $("device-filter-label").hidden = names.length === 0;
  const select = $("device-filter");
  const wanted = ["", ...names].join("|") + "|" + T.allDevices;
  if (select.dataset.made === wanted) return;
  select.dataset.made = wanted;
  select.replaceChildren(
    el("option", { value: "" }, T.allDevices),
    ...names.map((name) => el("option", { value: name }, name)),
  );
  select.value = state.deviceFilter || "";
}

// The rows are drawn again only when something in them changed, so that a row keeps the keyboard's focus.
let drawn = null;

export function renderReceipts(answer) {
  const items = answer.items;
  const mark = JSON.stringify([answer, state.selected, T.pageTitle]);
  if (mark === drawn) return;
  drawn = mark;
  $("receipts-title").textContent =
    answer.q === null ? T.latestDocuments : T.searchFound(answer.q, items.length);
  $("receipts-empty").hidden = items.length > 0;
  const rows = items.map((receipt) =>
    el(
      "tr",
      {
        class: receipt.receipt_id === state.selected ? "selected" : null,
        "data-receipt-id": receipt.receipt_id,
        "data-state": receipt.state,
        tabindex: 0,
        onclick: () => select(receipt.receipt_id),
        onkeydown: (event) => event.key === "Enter" && select(receipt.receipt_id),
      },
      el("td", {}, time(receipt.created_at)),
      el("td", { class: "device-col" }, receipt.device || "—"),
      el("td", {}, documentName(receipt)),
      el("td", {}, stateBadge(receipt.state)),
      el("td", { class: "num" }, money(receipt.total)),
      el("td", { class: "num" }, receipt.fiscal_doc ? receipt.fiscal_doc.fiscal_doc_number : "—"),
      el("td", {}, el("code", { title: receipt.receipt_id }, receipt.receipt_id.slice(0, 8))),
      el("td", { class: "qr-cell" }, hasQr(receipt) ? qrImage(receipt.receipt_id, "thumb") : null),
    ),
  );
  $("receipts").replaceChildren(...rows);
  if (state.openSingleHit && answer.q !== null) {
    state.openSingleHit = false;
    if (items.length === 1) state.selected = items[0].receipt_id;
  }
  const keep = new Set(items.map((r) => r.receipt_id));
  if (state.selected) keep.add(state.selected);
  forgetImages(keep);
}

export async function renderDetail() {
  const id = state.selected;
  if (!id) return;
  const [found, events] = await Promise.all([
    api(`/v1/kkt/receipts?limit=10&q=${encodeURIComponent(id)}`),
    api(`/v1/kkt/receipt/${encodeURIComponent(id)}/events`),
  ]);
  if (id !== state.selected) return;
  const receipt = found.ok ? found.body.items.find((r) => r.receipt_id === id) : undefined;
  if (!receipt) {
    message(T.notInBuffer(id), "error");
    closeDetail();
    return;
  }
  const fiscal = receipt.fiscal_doc || {};
  const sync = receipt.sync;
  $("detail").hidden = false;
  $("detail").dataset.state = receipt.state;
  $("detail-id").textContent = id;
  fill($("detail-fiscal"), [
    [T.document, documentName(receipt)],
    [T.state, el("span", { "data-testid": "detail-state", "data-state": receipt.state }, stateBadge(receipt.state))],
    [T.total, money(receipt.total)],
    [T.accepted, time(receipt.created_at)],
    [T.fdNumber, fiscal.fiscal_doc_number],
    [T.fiscalSign, fiscal.fiscal_sign],
    [T.signedAt, fiscalTime(fiscal.fiscal_datetime)],
    [T.fnKkt, fiscal.fn_number ? `${fiscal.fn_number} / ${fiscal.kkt_number}` : null],
    [
      T.shiftReceiptNo,
      fiscal.shift_number ? `${fiscal.shift_number} / ${fiscal.receipt_number ?? "—"}` : null,
    ],
    [T.qrString, fiscal.qr_code_data ? el("code", { class: "wrap" }, fiscal.qr_code_data) : null],
    [T.printError, receipt.print_error, "bad"],
  ]);
  $("detail-receipt").replaceChildren(...receiptView(receipt, select));
  fill($("detail-sync"), [
    [T.attempts, sync.attempts],
    [T.lastError, sync.last_error, sync.last_error ? "bad" : null],
    [T.nextAttempt, time(sync.next_attempt_at)],
    [T.ofdTime, isoTime(sync.ofd_server_time)],
    [T.synced, time(sync.synced_at)],
  ]);
  $("detail-more").replaceChildren(
    fold(T.ids, [
      [T.pos, receipt.pos_id],
      [T.idempotencyKey, el("code", {}, receipt.idempotency_key)],
      [T.ofdId, sync.ofd_id],
      [T.hlc, receipt.hlc],
    ]),
  );
  $("detail-qr").replaceChildren(hasQr(receipt) ? qrImage(id, "big") : el("span", { class: "muted" }, T.noQrCode));
  $("detail-requeue").hidden = receipt.state !== "dlq";
  $("detail-events").replaceChildren(
    ...(events.ok ? events.body.items : []).map((event) =>
      el(
        "tr",
        {},
        el("td", {}, time(event.at)),
        el("td", { "data-kind": event.kind }, T.eventKinds[event.kind] || event.kind),
        el("td", {}, T.states[event.from_state] || event.from_state || ""),
        el("td", {}, T.states[event.to_state] || event.to_state || ""),
        el("td", {}, event.detail || ""),
      ),
    ),
  );
}

export function select(id) {
  state.selected = id;
  for (const row of $("receipts").children) row.classList.toggle("selected", row.dataset.receiptId === id);
  renderDetail().catch(failed);
}

export function closeDetail() {
  state.selected = null;
  $("detail").hidden = true;
  for (const row of $("receipts").children) row.classList.remove("selected");
}
