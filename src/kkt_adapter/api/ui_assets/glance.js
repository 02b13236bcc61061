// The state at a glance, in a store's words: the verdict and every problem with what to do, the buffer, the link
// to the OFD with the 30-day line, the device and, with several KKTs, the devices table. Engineers' details (the
// breaker, the network state, the OFD's URL, raw numbers) sit in folds.

import { $, badge, el, fill, fold, yesNo } from "./dom.js";
import { DAY, age, date, isoTime, since, time } from "./format.js";
import { guarded } from "./refreshing.js";
import { xReport, zReport } from "./reports.js";
import { state } from "./state.js";
import { T } from "./texts.js";

const FN_BLOCK_DAYS = 30;

// One problem of health in the page's language, from its code; a code the page does not know shows the adapter's
// own sentence.
export function problemText(code, params, fallback) {
  const say = T.problems[code];
  if (!say) return fallback || code;
  const helpers = { device: T.theDevice, age, problem: (c, p) => problemText(c, p, p.detail) };
  return say(params || {}, helpers);
}

function renderHealth(health) {
  const verdict = $("verdict");
  verdict.textContent = T.verdict[health.status] || health.status;
  verdict.className = "verdict " + health.status;
  verdict.dataset.status = health.status;
  const problems = health.problems || [];
  $("reasons").replaceChildren(
    ...problems.map((problem, i) =>
      el(
        "li",
        { class: problem.severity, "data-code": problem.code },
        problemText(problem.code, problem.params, health.reasons[i]),
      ),
    ),
  );
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

// "OFD connection: yes / no since 14:02" and its colour.
function ofdLink(health) {
  const breaker = health.components.circuit_breaker;
  const ofd = health.components.ofd;
  if (ofd.sync_mode === "off") return [T.deliveryOff, "bad"];
  if (ofd.sync_mode === "device") {
    if (ofd.last_exchange_ok === false) return [T.deliveryDeviceUnread, "bad"];
    if (ofd.last_exchange_ok === null) return [T.deliveryDeviceNotPolled, "unknown"];
    return [T.deliveryDevice, "ok"];
  }
  const down = breaker.state === "OPEN" || ofd.last_exchange_ok === false;
  if (down) return [ofd.last_success_at ? T.ofdLinkDownSince(since(ofd.last_success_at)) : T.ofdLinkDown, "bad"];
  if (breaker.state === "HALF_OPEN") return [T.ofdLinkChecking, "warn"];
  if (ofd.last_exchange_ok === null) return [T.ofdLinkNotYet, "unknown"];
  return [T.ofdLinkUp, "ok"];
}

function renderDelivery(health, buffer, fn) {
  const breaker = health.components.circuit_breaker;
  const ofd = health.components.ofd;
  const [text, kind] = ofdLink(health);
  const waiting = buffer.pending + buffer.accepted + buffer.dlq_size;
  fill($("delivery"), [
    [T.ofdLink, el("span", { class: "badge " + kind, "data-testid": "delivery-state", "data-kind": kind }, text)],
    [T.waitingDocuments, el("span", { "data-testid": "waiting" }, String(waiting)), waiting ? "warn" : null],
    [T.lastDelivered, time(ofd.last_success_at)],
    [T.unsentInFn, fn ? fn.unsent_count : null],
  ]);
  $("delivery-more").replaceChildren(
    fold(
      T.engineerDetails,
      [
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
        [T.ofd, ofd.url],
      ],
      "delivery-details",
    ),
  );
  const seconds = buffer.oldest_unsynced_age_seconds;
  const fraction = seconds === null ? 0 : Math.min(1, seconds / (FN_BLOCK_DAYS * DAY));
  $("age-fill").style.width = fraction * 100 + "%";
  $("age-fill").className = "fill " + (fraction >= 1 ? "bad" : fraction >= 25 / 30 ? "warn" : "ok");
  $("age").textContent =
    seconds === null
      ? T.nothingUnsynced
      : T.oldestAge(age(seconds), Math.max(0, Math.floor(FN_BLOCK_DAYS - seconds / DAY)));
}

// A device's trouble in a word or two, from health's problems about it (``null``: it prints).
function deviceTrouble(health, name) {
  for (const problem of health.problems || []) {
    const about = problem.params && problem.params.device;
    if (problem.code.startsWith("device_") && (about === name || about === null)) return T.deviceFaults[problem.code];
    if (problem.code === "no_device_can_print") {
      const one = problem.params.devices.find((d) => d.device === name);
      if (one) return T.deviceFaults[one.code] || one.detail;
    }
  }
  return null;
}

function troubleBadge(health, name, problem) {
  if (!problem) return badge(T.ok, "ok");
  return badge(deviceTrouble(health, name) || problem, "bad");
}

let drawnDevices = null;

// With several KKTs (KKT_DEVICES), one row per device from health's devices component; hidden with one.
function renderDevices(health) {
  const devices = health.components.devices;
  $("devices-panel").hidden = !devices;
  if (!devices) return;
  // Drawn again only when a device changed, so that its buttons keep the keyboard's focus between refreshes.
  const mark = JSON.stringify([devices, health.problems, T.pageTitle]);
  if (mark === drawnDevices) return;
  drawnDevices = mark;
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
        { "data-testid": "device-" + name, "data-device": name },
        el("td", {}, name + (device.primary ? T.primary : "")),
        el("td", {}, device.driver),
        el("td", {}, troubleBadge(health, name, device.problem)),
        el("td", {}, shiftText),
        el("td", { class: "num" }, device.last_fd_number === null ? "—" : String(device.last_fd_number)),
        el("td", {}, device.fn_number || "—"),
        el(
          "td",
          { class: "actions" },
          el(
            "button",
            { type: "button", "data-testid": "x-" + name, "aria-label": T.xReportFor(name), onclick: guarded(() => xReport(name)) },
            T.xShort,
          ),
          el(
            "button",
            {
              type: "button",
              class: "danger",
              "data-testid": "z-" + name,
              "aria-label": T.zReportFor(name),
              onclick: guarded(() => zReport(name)),
            },
            T.zShort,
          ),
        ),
      );
    }),
  );
}

function shiftText(device, shift) {
  if (device.shift_open === null) return null;
  if (!device.shift_open) {
    return el("span", { "data-testid": "shift" }, badge(T.closed, "warn"), T.shiftLast(device.shift_number));
  }
  const from = shift && shift.open && shift.shift_number === device.shift_number ? isoTime(shift.opened_at) : null;
  return el(
    "span",
    { "data-testid": "shift" },
    badge(device.shift_expired ? T.expired : T.open, device.shift_expired ? "bad" : "ok"),
    T.shiftNumber(device.shift_number, from),
  );
}

function renderDevice(health, shift, fn) {
  const device = health.components.device;
  const primary = Object.entries(health.components.devices || {}).find(([, one]) => one.primary);
  const rows = [
    [T.status, troubleBadge(health, primary ? primary[0] : null, device.problem)],
    [T.online, yesNo(device.online, true)],
    [T.paper, yesNo(device.paper, true)],
    [T.shift, shiftText(device, shift)],
  ];
  if (device.shift_open) rows.push([T.shiftExpires, time(device.shift_expires_at)]);
  if (shift && shift.open && shift.shift_number === device.shift_number) {
    rows.push([T.inThisShift, T.shiftCounts(shift.receipts, shift.documents)]);
  }
  const more = [[T.fn, device.fn_number]];
  if (fn) {
    const daysLeft = Math.floor((Date.parse(fn.validity_date) - Date.now()) / (DAY * 1000));
    rows.push([T.fnValidUntil, T.fnValidity(date(fn.validity_date), daysLeft), daysLeft <= 30 ? "bad" : null]);
    more.push([T.ffd, fn.ffd_version]);
    if (fn.first_unsent_at) {
      rows.push([T.fnOldestUnsent, T.fnOldestUnsentAt(fn.first_unsent_fd_number, isoTime(fn.first_unsent_at))]);
    }
  }
  if (device.fn_blocked) rows.push([T.fnBlocked, device.fn_blocked, "bad"]);
  more.push([T.kkt, device.kkt_number], [T.lastFdNumber, device.last_fd_number], [T.checked, time(device.checked_at)]);
  if (device.fn_warnings.length) more.push([T.fnWarnings, device.fn_warnings.join(", ")]);
  fill($("device"), rows);
  $("device-more").replaceChildren(fold(T.engineerDetails, more, "device-details"));
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
