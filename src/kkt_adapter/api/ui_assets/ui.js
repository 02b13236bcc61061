// The operator's page: reads the adapter's v1 API every 2 s and sends the page's few actions as POSTs.
// Plain browser JavaScript, no build step and no outside files. Text from the API is only ever set as text
// (textContent / DOM nodes), never parsed as HTML.
"use strict";

(() => {
  const REFRESH_MS = 2000;
  // The shift and the FN are read from the device, which answers between prints: ask it less often.
  const DEVICE_REFRESH_MS = 10000;
  const DAY = 86400;
  const FN_BLOCK_DAYS = 30;
  const LATEST = 20;
  const TOKEN_KEY = "kkt-api-token";
  const $ = (id) => document.getElementById(id);

  const state = {
    health: null,
    buffer: null,
    shift: null,
    fn: null,
    query: null,
    openSingleHit: false,
    selected: null,
    deviceReadAt: 0,
    deviceMark: null,
    busy: false,
    deviceBusy: false,
    again: false,
    timer: null,
  };
  // QR images by receipt id and size, kept across refreshes so that a row's image is not loaded again.
  const qrImages = new Map();

  class Unauthorized extends Error {}

  // -- The API -----------------------------------------------------------------------------------------------------

  function storedToken() {
    try {
      return localStorage.getItem(TOKEN_KEY) || "";
    } catch {
      return "";
    }
  }

  function authHeaders() {
    const token = storedToken();
    return token ? { Authorization: "Bearer " + token } : {};
  }

  async function api(path, method = "GET") {
    const response = await fetch(path, {
      method,
      headers: { Accept: "application/json", ...authHeaders() },
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

  function problem(answer) {
    const detail = answer.body && answer.body.detail;
    if (typeof detail === "string") return detail;
    if (Array.isArray(detail)) return detail.map((d) => d.msg).join("; ");
    return "HTTP " + answer.status;
  }

  // -- Small DOM helpers -------------------------------------------------------------------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") node.className = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  // A definition list from [term, value, class] rows; a missing value shows as a dash.
  function fill(target, rows) {
    target.replaceChildren(
      ...rows.flatMap(([term, value, cls]) => [
        el("dt", {}, term),
        el("dd", { class: cls || null }, value === null || value === undefined || value === "" ? "—" : value),
      ]),
    );
  }

  function badge(text, kind) {
    return el("span", { class: "badge " + (kind || text) }, text);
  }

  function pad(n) {
    return String(n).padStart(2, "0");
  }

  function time(epochSeconds) {
    if (epochSeconds === null || epochSeconds === undefined) return null;
    const d = new Date(epochSeconds * 1000);
    return (
      `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
      `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
    );
  }

  // An ISO time from the API, shown like every other time on the page: in the browser's time zone.
  function isoTime(text) {
    if (!text) return null;
    const ms = Date.parse(text);
    return Number.isNaN(ms) ? text : time(ms / 1000);
  }

  // The fiscal document's own time, as the KKT printed it (its time zone): it is part of the fiscal data.
  function fiscalTime(text) {
    return text ? text.replace("T", " ") : null;
  }

  function age(seconds) {
    if (seconds === null || seconds === undefined) return null;
    if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
    if (seconds < 3600) return `${(seconds / 60).toFixed(0)} min`;
    if (seconds < DAY) return `${(seconds / 3600).toFixed(1)} h`;
    return `${(seconds / DAY).toFixed(1)} days`;
  }

  function yesNo(value, good) {
    if (value === null || value === undefined) return null;
    return badge(value ? "yes" : "no", value === good ? "ok" : "bad");
  }

  function message(text, kind) {
    const box = $("message");
    box.textContent = text;
    box.className = "banner " + (kind || "info");
    box.hidden = false;
  }

  // -- QR images ---------------------------------------------------------------------------------------------------

  function qrUrl(id) {
    return `/v1/kkt/receipt/${encodeURIComponent(id)}/qr.svg`;
  }

  function qrImage(id, size) {
    const key = `${size}:${id}`;
    let img = qrImages.get(key);
    if (img) return img;
    img = el("img", { class: "qr " + size, alt: "QR code", "data-testid": "qr", "data-receipt-id": id });
    img.addEventListener("error", () => {
      img.classList.add("broken");
      setTimeout(() => qrImages.delete(key), 30000); // try again later (the endpoint may come back)
    });
    if (storedToken()) {
      // An <img> cannot send a header: fetch the image with the token and show it from memory.
      fetch(qrUrl(id), { headers: authHeaders() })
        .then((r) => (r.ok ? r.blob() : Promise.reject(new Error("HTTP " + r.status))))
        .then((blob) => {
          img.src = URL.createObjectURL(blob);
        })
        .catch(() => img.dispatchEvent(new Event("error")));
    } else {
      img.src = qrUrl(id);
    }
    qrImages.set(key, img);
    return img;
  }

  function forgetImages(keep) {
    for (const [key, img] of qrImages) {
      if (!keep.has(key.slice(key.indexOf(":") + 1))) {
        if (img.src.startsWith("blob:")) URL.revokeObjectURL(img.src);
        qrImages.delete(key);
      }
    }
  }

  function hasQr(receipt) {
    return Boolean(receipt.fiscal_doc && receipt.fiscal_doc.qr_code_data);
  }

  // -- The state at a glance ---------------------------------------------------------------------------------------

  function renderHealth(health) {
    const verdict = $("verdict");
    verdict.textContent = health.status;
    verdict.className = "verdict " + health.status;
    $("reasons").replaceChildren(...health.reasons.map((reason) => el("li", {}, reason)));
  }

  function renderBuffer(health, buffer) {
    const component = health.components.buffer;
    const percent = buffer.percent_full;
    $("buffer-fill").style.width = Math.min(100, percent) + "%";
    $("buffer-fill").className = "fill " + (component.status === "full" ? "bad" : percent >= 80 ? "warn" : "ok");
    fill($("buffer"), [
      ["unsynced", `${buffer.current_queued} of ${buffer.total_capacity} (${percent}%)`],
      ["refuses sales at", component.capacity],
      ["pending", buffer.pending],
      ["dead letters", buffer.dlq_size, buffer.dlq_size ? "bad" : null],
      ["synced", buffer.synced],
      ["print failures", buffer.failed],
    ]);
  }

  function deliveryVerdict(health) {
    const breaker = health.components.circuit_breaker;
    const ofd = health.components.ofd;
    if (ofd.sync_mode === "off") return ["off: no OFD configured", "bad"];
    if (ofd.sync_mode === "device") {
      if (ofd.last_exchange_ok === false) return ["by the KKT: its exchange status could not be read", "bad"];
      if (ofd.last_exchange_ok === null) return ["by the KKT: not polled yet", "unknown"];
      return ["by the KKT itself (tracked)", "ok"];
    }
    if (breaker.state === "OPEN") {
      return [`failing: circuit breaker open, next probe in ${age(breaker.retry_in_seconds)}`, "bad"];
    }
    if (breaker.state === "HALF_OPEN") return ["probing the OFD (circuit breaker half-open)", "warn"];
    if (ofd.last_exchange_ok === false) return ["failing: the last exchange with the OFD failed", "bad"];
    if (ofd.last_exchange_ok === null) return ["no exchange with the OFD yet", "unknown"];
    return ["delivering", "ok"];
  }

  function renderDelivery(health, buffer, fn) {
    const breaker = health.components.circuit_breaker;
    const ofd = health.components.ofd;
    const [text, kind] = deliveryVerdict(health);
    fill($("delivery"), [
      ["delivery", el("span", { class: "badge " + kind, "data-testid": "delivery-state" }, text)],
      ["network", ofd.status],
      [
        "circuit breaker",
        el(
          "span",
          { "data-testid": "breaker" },
          badge(breaker.state, breaker.state === "CLOSED" ? "ok" : "bad"),
          ` ${breaker.failure_count} failures in a row, opened ${breaker.times_opened}×`,
        ),
      ],
      [
        "last exchange",
        ofd.last_exchange_at ? `${time(ofd.last_exchange_at)} (${ofd.last_exchange_ok ? "ok" : "failed"})` : null,
      ],
      ["unsent in the buffer", buffer.pending + buffer.accepted + buffer.dlq_size],
      ["unsent in the FN", fn ? fn.unsent_count : null],
      ["OFD", ofd.url],
    ]);
    const seconds = buffer.oldest_unsynced_age_seconds;
    const fraction = seconds === null ? 0 : Math.min(1, seconds / (FN_BLOCK_DAYS * DAY));
    $("age-fill").style.width = fraction * 100 + "%";
    $("age-fill").className = "fill " + (fraction >= 1 ? "bad" : fraction >= 25 / 30 ? "warn" : "ok");
    $("age").textContent =
      seconds === null
        ? "nothing unsynced"
        : `${age(seconds)} old — ` +
          `${Math.max(0, FN_BLOCK_DAYS - seconds / DAY).toFixed(1)} days before the 30-day block`;
  }

  // With several KKTs (KKT_DEVICES), one row per device from health's devices component; hidden with one.
  function renderDevices(health) {
    const devices = health.components.devices;
    $("devices-panel").hidden = !devices;
    if (!devices) return;
    $("devices").replaceChildren(
      ...Object.entries(devices).map(([name, device]) => {
        let shiftText = "—";
        if (device.shift_open !== null) {
          shiftText = device.shift_open
            ? `${device.shift_expired ? "expired" : "open"} #${device.shift_number}`
            : `closed (last #${device.shift_number})`;
        }
        return el(
          "tr",
          { "data-testid": "device-" + name },
          el("td", {}, name + (device.primary ? " (primary)" : "")),
          el("td", {}, device.driver),
          el("td", {}, device.problem ? badge(device.problem, "bad") : badge("ok")),
          el("td", {}, shiftText),
          el("td", { class: "num" }, device.last_fd_number === null ? "—" : String(device.last_fd_number)),
          el("td", {}, device.fn_number || "—"),
        );
      }),
    );
  }

  function renderDevice(health, shift, fn) {
    const device = health.components.device;
    const rows = [
      ["status", device.problem ? badge(device.problem, "bad") : badge("ok")],
      ["online", yesNo(device.online, true)],
      ["paper", yesNo(device.paper, true)],
    ];
    let shiftText;
    if (device.shift_open === null) shiftText = null;
    else if (!device.shift_open) {
      shiftText = el("span", { "data-testid": "shift" }, badge("closed", "warn"), ` (last #${device.shift_number})`);
    }
    else {
      const since = shift && shift.open && shift.shift_number === device.shift_number ? isoTime(shift.opened_at) : null;
      shiftText = el(
        "span",
        { "data-testid": "shift" },
        badge(device.shift_expired ? "expired" : "open", device.shift_expired ? "bad" : "ok"),
        ` #${device.shift_number}` + (since ? ` since ${since}` : ""),
      );
    }
    rows.push(["shift", shiftText]);
    if (device.shift_open) rows.push(["shift expires", time(device.shift_expires_at)]);
    if (shift && shift.open && shift.shift_number === device.shift_number) {
      rows.push(["in this shift", `receipts: ${shift.receipts}, documents: ${shift.documents}`]);
    }
    rows.push(["FN", device.fn_number]);
    if (fn) {
      const daysLeft = Math.floor((Date.parse(fn.validity_date) - Date.now()) / (DAY * 1000));
      rows.push(["FN valid until", `${fn.validity_date} (${daysLeft} days)`, daysLeft <= 30 ? "bad" : null]);
      rows.push(["FFD", fn.ffd_version]);
      if (fn.first_unsent_at) {
        rows.push(["FN oldest unsent", `FD ${fn.first_unsent_fd_number} at ${isoTime(fn.first_unsent_at)}`]);
      }
    }
    if (device.fn_blocked) rows.push(["FN blocked", device.fn_blocked, "bad"]);
    if (device.fn_warnings.length) rows.push(["FN warnings", device.fn_warnings.join(", "), "warn"]);
    rows.push(["KKT", device.kkt_number]);
    rows.push(["last FD number", device.last_fd_number]);
    rows.push(["checked", time(device.checked_at)]);
    fill($("device"), rows);
  }

  // -- Documents ---------------------------------------------------------------------------------------------------

  function documentName(receipt) {
    if (receipt.document_type === "receipt" || receipt.document_type === "correction") {
      return `${receipt.document_type} · ${receipt.type}`;
    }
    return receipt.document_type.replace("_", " ");
  }

  function renderReceipts(answer) {
    const items = answer.items;
    $("receipts-title").textContent =
      answer.q === null ? "Latest documents" : `Search “${answer.q}”: ${items.length} found`;
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
        el("td", {}, documentName(receipt)),
        el("td", {}, badge(receipt.state)),
        el("td", { class: "num" }, receipt.total),
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

  async function renderDetail() {
    const id = state.selected;
    if (!id) return;
    const [found, events] = await Promise.all([
      api(`/v1/kkt/receipts?limit=10&q=${encodeURIComponent(id)}`),
      api(`/v1/kkt/receipt/${encodeURIComponent(id)}/events`),
    ]);
    if (id !== state.selected) return;
    const receipt = found.ok ? found.body.items.find((r) => r.receipt_id === id) : undefined;
    if (!receipt) {
      message(`Document ${id} is not in the buffer.`, "error");
      closeDetail();
      return;
    }
    const fiscal = receipt.fiscal_doc || {};
    const sync = receipt.sync;
    $("detail").hidden = false;
    $("detail").dataset.state = receipt.state;
    $("detail-id").textContent = id;
    fill($("detail-fiscal"), [
      ["document", documentName(receipt)],
      ["state", el("span", { "data-testid": "detail-state" }, badge(receipt.state))],
      ["total", receipt.total],
      ["POS", receipt.pos_id],
      ["idempotency key", el("code", {}, receipt.idempotency_key)],
      ["accepted", time(receipt.created_at)],
      ["FD number", fiscal.fiscal_doc_number],
      ["fiscal sign", fiscal.fiscal_sign],
      ["signed at", fiscalTime(fiscal.fiscal_datetime)],
      ["FN / KKT", fiscal.fn_number ? `${fiscal.fn_number} / ${fiscal.kkt_number}` : null],
      [
        "shift / receipt no.",
        fiscal.shift_number ? `${fiscal.shift_number} / ${fiscal.receipt_number ?? "—"}` : null,
      ],
      ["QR string", fiscal.qr_code_data ? el("code", { class: "wrap" }, fiscal.qr_code_data) : null],
      ["print error", receipt.print_error, "bad"],
      ["refund of", receipt.original_receipt_id ? el("code", {}, receipt.original_receipt_id) : null],
    ]);
    fill($("detail-sync"), [
      ["attempts", sync.attempts],
      ["last error", sync.last_error, sync.last_error ? "bad" : null],
      ["next attempt", time(sync.next_attempt_at)],
      ["OFD id", sync.ofd_id],
      ["OFD time", isoTime(sync.ofd_server_time)],
      ["synced", time(sync.synced_at)],
      ["HLC", receipt.hlc],
    ]);
    $("detail-qr").replaceChildren(hasQr(receipt) ? qrImage(id, "big") : el("span", { class: "muted" }, "no QR code"));
    $("detail-requeue").hidden = receipt.state !== "dlq";
    $("detail-events").replaceChildren(
      ...(events.ok ? events.body.items : []).map((event) =>
        el(
          "tr",
          {},
          el("td", {}, time(event.at)),
          el("td", {}, event.kind),
          el("td", {}, event.from_state || ""),
          el("td", {}, event.to_state || ""),
          el("td", {}, event.detail || ""),
        ),
      ),
    );
  }

  function select(id) {
    state.selected = id;
    for (const row of $("receipts").children) row.classList.toggle("selected", row.dataset.receiptId === id);
    renderDetail().catch(failed);
  }

  function closeDetail() {
    state.selected = null;
    $("detail").hidden = true;
    for (const row of $("receipts").children) row.classList.remove("selected");
  }

  function renderDlq(answer) {
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
              "code",
              { title: item.receipt_id, class: "link", onclick: () => select(item.receipt_id) },
              item.receipt_id.slice(0, 8),
            ),
          ),
          el("td", { class: "num" }, item.fd_number ?? "—"),
          el("td", { class: "num" }, (item.total_kop / 100).toFixed(2)),
          el("td", { class: "num" }, item.attempts),
          el("td", { class: "reason" }, item.reason),
          el(
            "td",
            {},
            el(
              "button",
              { type: "button", "data-testid": "requeue", onclick: guarded(() => requeue(item.receipt_id)) },
              "Requeue",
            ),
          ),
        ),
      ),
    );
  }

  // -- Actions (always POSTs) --------------------------------------------------------------------------------------

  async function requeue(id) {
    const answer = await api(`/v1/kkt/dlq/${encodeURIComponent(id)}/requeue`, "POST");
    if (answer.ok) message(`Document ${id} requeued: it is pending again.`, "ok");
    else message(`Requeue failed: ${problem(answer)}`, "error");
    refreshNow();
  }

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

  async function xReport() {
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

  async function zReport() {
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

  function guarded(action) {
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

  // -- Refreshing --------------------------------------------------------------------------------------------------

  function failed(error) {
    if (error instanceof Unauthorized) return;
    const banner = $("offline");
    banner.textContent = `The adapter does not answer (${error.message}); retrying every ${REFRESH_MS / 1000} s.`;
    banner.hidden = false;
  }

  function renderGlance() {
    if (!state.health || !state.buffer) return;
    renderHealth(state.health);
    renderBuffer(state.health, state.buffer);
    renderDelivery(state.health, state.buffer, state.fn);
    renderDevice(state.health, state.shift, state.fn);
    renderDevices(state.health);
  }

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
    const query = state.query ? `&q=${encodeURIComponent(state.query)}` : "";
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
    if (receipts.ok) renderReceipts(receipts.body);
    if (dlq.ok) renderDlq(dlq.body);
    await renderDetail();
    $("updated").textContent = "updated " + time(Date.now() / 1000).slice(11);
  }

  // One refresh at a time; a refresh asked for while one runs follows it at once.
  async function refreshNow() {
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

  function start() {
    $("x-report").addEventListener("click", guarded(xReport));
    $("z-report").addEventListener("click", guarded(zReport));
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
      qrImages.clear();
      refreshNow();
    });
    $("token-clear").addEventListener("click", () => {
      localStorage.removeItem(TOKEN_KEY);
      qrImages.clear();
      refreshNow();
    });
    refreshNow();
  }

  start();
})();
