// The state at a glance: the verdict and its reasons, the buffer, the OFD delivery with the 30-day line, the device
// and, with several KKTs, the devices table.

import { $, badge, el, fill, yesNo } from "./dom.js";
import { DAY, age, isoTime, time } from "./format.js";
import { state } from "./state.js";

const FN_BLOCK_DAYS = 30;

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

// Draw every card from what the page last read (nothing until health and the buffer have answered once).
export function renderGlance() {
  if (!state.health || !state.buffer) return;
  renderHealth(state.health);
  renderBuffer(state.health, state.buffer);
  renderDelivery(state.health, state.buffer, state.fn);
  renderDevice(state.health, state.shift, state.fn);
  renderDevices(state.health);
}
