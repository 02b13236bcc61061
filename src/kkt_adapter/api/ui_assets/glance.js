// The state at a glance: the verdict and its reasons, the buffer, the OFD delivery with the 30-day line, the device
// and, with several KKTs, the devices table.

import { $, badge, el, fill, yesNo } from "./dom.js";
import { DAY, age, date, isoTime, time } from "./format.js";
import { state } from "./state.js";
import { T } from "./texts.js";

const FN_BLOCK_DAYS = 30;

function renderHealth(health) {
  const verdict = $("verdict");
  verdict.textContent = T.verdict[health.status] || health.status;
  verdict.className = "verdict " + health.status;
  verdict.dataset.status = health.status;
  $("reasons").replaceChildren(...health.reasons.map((reason) => el("li", {}, reason)));
}

function renderBuffer(health, buffer) {
  const component = health.components.buffer;
  const percent = buffer.percent_full;
  $("buffer-fill").style.width = Math.min(100, percent) + "%";
  $("buffer-fill").className = "fill " + (component.status === "full" ? "bad" : percent >= 80 ? "warn" : "ok");
  fill($("buffer"), [
    [T.unsynced, T.unsyncedOf(buffer.current_queued, buffer.total_capacity, percent)],
    [T.refusesSalesAt, component.capacity],
    [T.pending, buffer.pending],
    [T.deadLetters, buffer.dlq_size, buffer.dlq_size ? "bad" : null],
    [T.synced, buffer.synced],
    [T.printFailures, buffer.failed],
  ]);
}

function deliveryVerdict(health) {
  const breaker = health.components.circuit_breaker;
  const ofd = health.components.ofd;
  if (ofd.sync_mode === "off") return [T.deliveryOff, "bad"];
  if (ofd.sync_mode === "device") {
    if (ofd.last_exchange_ok === false) return [T.deliveryDeviceUnread, "bad"];
    if (ofd.last_exchange_ok === null) return [T.deliveryDeviceNotPolled, "unknown"];
    return [T.deliveryDevice, "ok"];
  }
  if (breaker.state === "OPEN") {
    return [T.deliveryBreakerOpen(age(breaker.retry_in_seconds)), "bad"];
  }
  if (breaker.state === "HALF_OPEN") return [T.deliveryProbing, "warn"];
  if (ofd.last_exchange_ok === false) return [T.deliveryLastFailed, "bad"];
  if (ofd.last_exchange_ok === null) return [T.deliveryNoExchange, "unknown"];
  return [T.delivering, "ok"];
}

function renderDelivery(health, buffer, fn) {
  const breaker = health.components.circuit_breaker;
  const ofd = health.components.ofd;
  const [text, kind] = deliveryVerdict(health);
  fill($("delivery"), [
    [T.delivery, el("span", { class: "badge " + kind, "data-testid": "delivery-state" }, text)],
    [T.network, ofd.status],
    [
      T.circuitBreaker,
      el(
        "span",
        { "data-testid": "breaker" },
        badge(breaker.state, breaker.state === "CLOSED" ? "ok" : "bad"),
        T.breakerCounts(breaker.failure_count, breaker.times_opened),
      ),
    ],
    [
      T.lastExchange,
      ofd.last_exchange_at ? T.lastExchangeAt(time(ofd.last_exchange_at), ofd.last_exchange_ok) : null,
    ],
    [T.unsentInBuffer, buffer.pending + buffer.accepted + buffer.dlq_size],
    [T.unsentInFn, fn ? fn.unsent_count : null],
    [T.ofd, ofd.url],
  ]);
  const seconds = buffer.oldest_unsynced_age_seconds;
  const fraction = seconds === null ? 0 : Math.min(1, seconds / (FN_BLOCK_DAYS * DAY));
  $("age-fill").style.width = fraction * 100 + "%";
  $("age-fill").className = "fill " + (fraction >= 1 ? "bad" : fraction >= 25 / 30 ? "warn" : "ok");
  $("age").textContent =
    seconds === null
      ? T.nothingUnsynced
      : T.oldestAge(age(seconds), Math.max(0, FN_BLOCK_DAYS - seconds / DAY).toFixed(1));
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
          ? T.shiftOpenShort(device.shift_expired ? T.expired : T.open, device.shift_number)
          : T.shiftClosedShort(device.shift_number);
      }
      return el(
        "tr",
        { "data-testid": "device-" + name },
        el("td", {}, name + (device.primary ? T.primary : "")),
        el("td", {}, device.driver),
        el("td", {}, device.problem ? badge(device.problem, "bad") : badge(T.ok, "ok")),
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
    [T.status, device.problem ? badge(device.problem, "bad") : badge(T.ok, "ok")],
    [T.online, yesNo(device.online, true)],
    [T.paper, yesNo(device.paper, true)],
  ];
  let shiftText;
  if (device.shift_open === null) shiftText = null;
  else if (!device.shift_open) {
    shiftText = el("span", { "data-testid": "shift" }, badge(T.closed, "warn"), T.shiftLast(device.shift_number));
  }
  else {
    const since = shift && shift.open && shift.shift_number === device.shift_number ? isoTime(shift.opened_at) : null;
    shiftText = el(
      "span",
      { "data-testid": "shift" },
      badge(device.shift_expired ? T.expired : T.open, device.shift_expired ? "bad" : "ok"),
      T.shiftNumber(device.shift_number, since),
    );
  }
  rows.push([T.shift, shiftText]);
  if (device.shift_open) rows.push([T.shiftExpires, time(device.shift_expires_at)]);
  if (shift && shift.open && shift.shift_number === device.shift_number) {
    rows.push([T.inThisShift, T.shiftCounts(shift.receipts, shift.documents)]);
  }
  rows.push([T.fn, device.fn_number]);
  if (fn) {
    const daysLeft = Math.floor((Date.parse(fn.validity_date) - Date.now()) / (DAY * 1000));
    rows.push([T.fnValidUntil, T.fnValidity(date(fn.validity_date), daysLeft), daysLeft <= 30 ? "bad" : null]);
    rows.push([T.ffd, fn.ffd_version]);
    if (fn.first_unsent_at) {
      rows.push([T.fnOldestUnsent, T.fnOldestUnsentAt(fn.first_unsent_fd_number, isoTime(fn.first_unsent_at))]);
    }
  }
  if (device.fn_blocked) rows.push([T.fnBlocked, device.fn_blocked, "bad"]);
  if (device.fn_warnings.length) rows.push([T.fnWarnings, device.fn_warnings.join(", "), "warn"]);
  rows.push([T.kkt, device.kkt_number]);
  rows.push([T.lastFdNumber, device.last_fd_number]);
  rows.push([T.checked, time(device.checked_at)]);
  fill($("device"), rows);
}

// Draw every card from what the page last read (nothing until health and the buffer have answered once).
export function renderGlance() {
  if (!state.health || !state.buffer) return;
  renderHealth(state.health);
  renderBuffer(state.health, state.buffer);
  renderDelivery(state.health, state.buffer, state.fn);
  renderDevice(state.health, state.shift, state.fn);
  renderDevices(state.health);
}
