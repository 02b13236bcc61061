// The dead letters (DLQ): the documents the OFD did not take, each with a button that requeues it.

import { api, problem } from "./api.js";
import { select } from "./documents.js";
import { $, el, message } from "./dom.js";
import { money, time } from "./format.js";
import { guarded, refreshNow } from "./refreshing.js";
import { T } from "./texts.js";

export function renderDlq(answer) {
  const items = answer.items;
  $("dlq-count").textContent = answer.count;
  $("dlq-count").className = "count" + (answer.count ? " bad" : "");
  $("dlq-empty").hidden = items.length > 0;
  $("dlq").replaceChildren(
    ...items.map((item) =>
      el(
        "tr",
        { "data-receipt-id": item.receipt_id },
        el("td", {}, time(item.moved_at)),
        el(
          "td",
          {},
          el(
            "a",
            {
              href: "#" + item.receipt_id,
              title: item.receipt_id,
              onclick: (event) => {
                event.preventDefault();
                select(item.receipt_id);
              },
            },
            el("code", {}, item.receipt_id.slice(0, 8)),
          ),
        ),
        el("td", { class: "num" }, item.fd_number ?? "—"),
        el("td", { class: "num" }, money(item.total_kop / 100)),
        el("td", { class: "num" }, item.attempts),
        el("td", { class: "reason" }, item.reason),
        el(
          "td",
          {},
          el(
            "button",
            { type: "button", "data-testid": "requeue", onclick: guarded(() => requeue(item.receipt_id)) },
            T.requeue,
          ),
        ),
      ),
    ),
  );
}

export async function requeue(id) {
  const answer = await api(`/v1/kkt/dlq/${encodeURIComponent(id)}/requeue`, "POST");
  if (answer.ok) message(T.requeued(id), "ok");
  else message(T.requeueFailed(problem(answer)), "error");
  refreshNow();
}
