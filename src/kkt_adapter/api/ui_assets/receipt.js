// An open document as a receipt: what was sold (name, quantity, measure, price, VAT, sum), how it was paid and the
// change, the cashier, the customer's contact, the FFD 1.2 attributes given, and for a refund its sale as a link.

import { el, fill } from "./dom.js";
import { money, number } from "./format.js";
import { T } from "./texts.js";

// FFD 1.2 codes the request leaves at their defaults are not shown: only what was given.
const DEFAULT_METHOD = "full_payment";
const DEFAULT_OBJECT = "commodity";

function th(code, cls) {
  return el("th", { class: cls || null, scope: "col" }, T[code]);
}

function lines(items) {
  return el(
    "table",
    { class: "list compact receipt-lines", "data-testid": "receipt-items" },
    el(
      "thead",
      {},
      el("tr", {}, th("colName"), th("colQuantity", "num"), th("colPrice", "num"), th("colVat"), th("colSum", "num")),
    ),
    el(
      "tbody",
      {},
      ...items.map((item) =>
        el(
          "tr",
          {},
          el("td", {}, item.name),
          el("td", { class: "num" }, `${number(item.quantity)} ${T.measures[item.measure] || item.measure}`),
          el("td", { class: "num" }, money(item.price)),
          el("td", {}, T.vatRate(String(item.vat_rate))),
          el("td", { class: "num" }, money(item.sum)),
        ),
      ),
    ),
  );
}

function attributes(items) {
  const given = [];
  for (const item of items) {
    const parts = [];
    if (item.payment_method !== DEFAULT_METHOD) parts.push(`${T.paymentMethod}: ${item.payment_method}`);
    if (item.payment_object !== DEFAULT_OBJECT) parts.push(`${T.paymentObject}: ${item.payment_object}`);
    if (item.mark_code) parts.push(`${T.markCode}: ${item.mark_code}`);
    if (parts.length) given.push(`${item.name} — ${parts.join(", ")}`);
  }
  return given.length ? given.join("; ") : null;
}

// The receipt's part of the open document; ``open`` opens another document (the sale of a refund).
export function receiptView(receipt, open) {
  const content = receipt.content;
  if (!content) return [];
  const payments = content.payments.map((p) => `${money(p.amount)} ${T.paymentKinds[p.type] || p.type}`);
  let sale = null;
  if (receipt.original_receipt_id) {
    const id = receipt.original_receipt_id;
    sale = el(
      "a",
      {
        href: "#" + id,
        "data-testid": "refund-of",
        onclick: (event) => {
          event.preventDefault();
          open(id);
        },
      },
      id,
    );
  } else if (content.original_fd_number) sale = T.refundOfFd(content.original_fd_number);
  const cashier = content.cashier ? content.cashier.name + (content.cashier.inn ? T.cashierInn(content.cashier.inn) : "") : null;
  const summary = el("dl", { "data-testid": "receipt-summary" });
  const rows = [
    [T.total, el("strong", {}, money(receipt.total))],
    [T.paidBy, el("span", { "data-testid": "receipt-payments" }, payments.join(" + "))],
    [T.change, content.change !== "0.00" ? money(content.change) : null],
    [T.cashier, cashier],
    [T.customerContact, content.customer_contact],
    [T.taxation, content.taxation],
    [T.attributes, attributes(content.items)],
    [T.refundOfSale, sale],
  ];
  // What the receipt did not give is left out: a receipt shows what it holds.
  fill(
    summary,
    rows.filter(([, value]) => value !== null && value !== undefined && value !== ""),
  );
  return [el("h3", {}, T.receiptTitle), lines(content.items), summary];
}
