"""The ATOL driver against a scripted fake of Web Requests (``httpx.MockTransport``): every task, every error
mapping, lost replies, resends, ``inProgress`` and ``blocked`` jobs, attempts after a refusal, ``find_by_key``, auth
and both dialects. The clock is manual and ``sleep`` advances it: no test waits on wall time."""

from __future__ import annotations

import base64
from datetime import date
from decimal import Decimal

import pytest

from kkt_adapter.devices.atol import AtolDriver, AtolOutcomeUnknown, WebRequestsTransport, job_uuid
from kkt_adapter.domain.correction import Correction
from kkt_adapter.domain.errors import DeviceRefused, DeviceRejectedReceipt, DeviceUnavailable, ShiftConflict
from kkt_adapter.domain.receipt import Cashier, Item, Payment, Receipt
from kkt_clock import ManualClock

from .fake_server import FN_NUMBER, REG_NUMBER, FakeWebRequests

SALE = Receipt(
    pos_id="till-1",
    operation="sale",
    items=(Item("Оправа", 15_025, Decimal(2), 30_050, 1),),
    payments=(Payment("cash", 30_050),),
    cashier=Cashier("Иванов И.И."),
    taxation=1,
)
REFUND = Receipt(pos_id="till-1", operation="refund", items=SALE.items, payments=SALE.payments)


class Sleeps:
    """``sleep`` for the driver: records each delay and moves the manual clock by it."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        self.clock.advance(seconds)


def make(
    server: FakeWebRequests,
    *,
    dialect: str = "auto",
    user: str | None = None,
    password: str | None = None,
    timeout: float = 5.0,
) -> tuple[AtolDriver, Sleeps]:
    clock = ManualClock()
    sleeps = Sleeps(clock)
    transport = WebRequestsTransport(
        "http://kkt.test:16732",
        user=user,
        password=password,
        dialect=dialect,  # type: ignore[arg-type]
        transport=server.transport(),
    )
    return AtolDriver(transport, clock=clock, sleep=sleeps, poll_interval=0.1, job_timeout=timeout), sleeps


@pytest.fixture
def server() -> FakeWebRequests:
    return FakeWebRequests()


@pytest.mark.parametrize("dialect", ["v2", "legacy"])
def test_a_sale_prints_once_and_maps_its_fiscal_data(dialect: str) -> None:
    """In either dialect (detected), a sale is one ``sell`` job under the key's attempt-0 uuid, and its result is
    the document's fiscal data with the total in kopecks and the QR string."""
    server = FakeWebRequests(dialect=dialect)
    driver, _ = make(server)
    result = driver.print_receipt(SALE, idempotency_key="k1")
    assert server.printing_jobs == ["sell"]
    assert job_uuid("k1", 0) in server.jobs
    assert (result.fiscal_doc_number, result.fn_number, result.kkt_number) == (1, FN_NUMBER, REG_NUMBER)
    assert (result.total_kop, result.doc_type, result.receipt_number, result.shift_number) == (30_050, 3, 1, 5)
    assert result.qr_code_data == f"t=20261129T1201&s=300.50&fn={FN_NUMBER}&i=1&fp=3000000001&n=1"
    sent = server.jobs[job_uuid("k1", 0)].tasks[0]
    assert sent["total"] == Decimal("300.50")
    assert sent["operator"] == {"name": "Иванов И.И."}


def test_the_dialect_can_be_set_instead_of_detected(server: FakeWebRequests) -> None:
    """``legacy`` set explicitly speaks ``/requests`` without asking ``serverInfo``."""
    server.dialect = "legacy"
    driver, _ = make(server, dialect="legacy")
    driver.print_receipt(SALE, idempotency_key="k")
    assert len(server.documents) == 1


def test_a_repeated_key_returns_the_document_and_prints_nothing(server: FakeWebRequests) -> None:
    """A second print of the same key (a restarted adapter: a new driver) hits 409 and reads the existing job."""
    first, _ = make(server)
    printed = first.print_receipt(SALE, idempotency_key="k")
    again, _ = make(server)
    assert again.print_receipt(SALE, idempotency_key="k") == printed
    assert len(server.documents) == 1


def test_refund_and_correction_print_their_tasks(server: FakeWebRequests) -> None:
    """A refund is ``sellReturn`` (QR operation 2), a correction ``sellCorrection`` (document 31)."""
    driver, _ = make(server)
    refund = driver.print_receipt(REFUND, idempotency_key="r")
    correction = driver.print_correction(Correction(SALE, "self", date(2026, 11, 1)), idempotency_key="c")
    assert server.printing_jobs == ["sellReturn", "sellCorrection"]
    assert refund.qr_code_data.endswith("&n=2")
    assert (correction.doc_type, correction.total_kop) == (31, 30_050)


def test_shifts_close_with_totals_and_open_with_a_report(server: FakeWebRequests) -> None:
    """closeShift gives the Z report and its totals; openShift the opening report; each refuses the wrong state."""
    driver, _ = make(server)
    driver.print_receipt(SALE, idempotency_key="s")
    z, report = driver.close_shift(idempotency_key="z")
    assert (z.doc_type, z.fiscal_doc_number, report.receipts, report.totals_by_operation) == (5, 2, 1, {"sale": 30_050})
    with pytest.raises(ShiftConflict) as closed:
        driver.close_shift(idempotency_key="z2")
    assert closed.value.code == "shift_not_open"
    opening = driver.open_shift(idempotency_key="o")
    assert (opening.doc_type, opening.shift_number, opening.qr_code_data) == (2, 6, "")
    with pytest.raises(ShiftConflict) as opened:
        driver.open_shift(idempotency_key="o2")
    assert opened.value.code == "shift_already_open"
    assert "(ATOL error 83)" in opened.value.reason


def test_status_queries_map_shift_fn_and_device(server: FakeWebRequests) -> None:
    """shift_report, fn_status and state come from getShiftStatus, getFnInfo/getFnStatus/ofdExchangeStatus and
    getDeviceStatus; no document is printed by them."""
    driver, _ = make(server)
    driver.print_receipt(SALE, idempotency_key="a")
    server.unsent = 1
    shift = driver.shift_report()
    assert (shift.open, shift.shift_number, shift.receipts) == (True, 5, 1)
    fn = driver.fn_status()
    assert (fn.fn_number, fn.documents_count, fn.unsent_count, fn.first_unsent_fd_number) == (FN_NUMBER, 1, 1, 1)
    assert fn.warnings == ("replace_soon",)
    state = driver.state()
    assert (state.online, state.paper, state.shift_open, state.last_fd_number) == (True, True, True, 1)
    assert (state.fn_number, state.kkt_number) == (FN_NUMBER, REG_NUMBER)
    driver.print_x_report()
    driver.acknowledge([1])
    assert server.printing_jobs == ["sell"]


def test_the_journal_reads_documents_back_from_the_fn(server: FakeWebRequests) -> None:
    """journal(after_fd, limit) reads each FD with getFnDocument, in order, without keys."""
    driver, _ = make(server)
    for key in ("a", "b", "c"):
        driver.print_receipt(SALE, idempotency_key=key)
    entries = driver.journal(after_fd=1, limit=5)
    assert [entry.result.fiscal_doc_number for entry in entries] == [2, 3]
    assert {entry.key for entry in entries} == {None}
    assert entries[0].result.qr_code_data.endswith("&i=2&fp=3000000002&n=1")
    assert driver.journal(after_fd=3, limit=5) == []


@pytest.mark.parametrize(
    ("code", "kind", "name"),
    [
        (44, DeviceRefused, "paper_out"),
        (45, DeviceRefused, "cover_open"),
        (46, DeviceRefused, "printer_fault"),
        (55, DeviceRefused, "busy"),
        (68, DeviceRefused, "shift_expired"),
        (141, DeviceRefused, "shift_expired"),
        (73, ShiftConflict, "shift_not_open"),
        (120, DeviceRefused, "fn_expired"),
        (121, DeviceRefused, "fn_archive_full"),
        (137, DeviceRefused, "fn_ofd_timeout_30_days"),
        (140, DeviceRefused, "fn_ofd_timeout_30_days"),
        (117, DeviceRefused, "fn_state_error"),
        (2, DeviceUnavailable, "offline"),
        (241, DeviceUnavailable, "offline"),
        (66, DeviceRejectedReceipt, "not_fully_paid"),
    ],
)
def test_a_refused_job_raises_the_mapped_error_with_the_devices_text(
    server: FakeWebRequests, code: int, kind: type[DeviceRefused], name: str
) -> None:
    """A job that ended ``error`` raises the adapter's error for its code, with the device's text; nothing printed."""
    server.refuse.append((code, "Текст ККТ"))
    driver, _ = make(server)
    with pytest.raises(kind) as refused:
        driver.print_receipt(SALE, idempotency_key="k")
    assert type(refused.value) is kind
    assert (refused.value.code, refused.value.reason) == (name, f"Текст ККТ (ATOL error {code})")
    assert server.documents == []


def test_after_a_refusal_the_same_key_prints_under_the_next_attempt(server: FakeWebRequests) -> None:
    """A refused attempt is final for its uuid: the retry of the same key is attempt 1, printed once; find_by_key
    then finds it past the refused attempt."""
    server.refuse.append((44, "Нет бумаги"))
    driver, _ = make(server)
    with pytest.raises(DeviceRefused):
        driver.print_receipt(SALE, idempotency_key="k")
    printed = driver.print_receipt(SALE, idempotency_key="k")
    assert set(server.jobs) >= {job_uuid("k", 0), job_uuid("k", 1)}
    assert len(server.documents) == 1
    assert driver.print_receipt(SALE, idempotency_key="k") == printed
    assert len(server.documents) == 1
    assert driver.find_by_key("k") == printed


def test_the_device_not_connected_at_post_is_unavailable(server: FakeWebRequests) -> None:
    """A 409 for a job that does not exist (device not connected) is DeviceUnavailable: nothing was queued."""
    server.disconnected = True
    driver, _ = make(server)
    with pytest.raises(DeviceUnavailable, match="Нет связи с ККТ"):
        driver.print_receipt(SALE, idempotency_key="k")
    assert server.jobs == {}


def test_a_server_that_refuses_connections_is_unavailable(server: FakeWebRequests) -> None:
    """Connection refused: nothing was sent, so DeviceUnavailable (the caller may retry)."""
    driver, _ = make(server, dialect="v2")
    server.down = True
    with pytest.raises(DeviceUnavailable, match="not reachable"):
        driver.print_receipt(SALE, idempotency_key="k")


def test_a_lost_reply_on_post_resends_the_same_uuid_and_reads_the_job(server: FakeWebRequests) -> None:
    """The job was created but its answer dropped: the resend of the same uuid gets 409 and reads the result;
    exactly one document."""
    server.lose_post = 1
    driver, _ = make(server)
    result = driver.print_receipt(SALE, idempotency_key="k")
    assert server.posts == 3  # the fn counter's query, the lost POST, its resend
    assert (result.fiscal_doc_number, len(server.documents)) == (1, 1)


def test_a_lost_reply_on_post_then_a_refusal_is_still_the_refusal(server: FakeWebRequests) -> None:
    """Our own job (409 after our lost POST) ended in error: the refusal is raised, not a move to attempt 1."""
    driver, _ = make(server)
    driver.fn_status()
    server.lose_post, server.refuse = 1, [(44, "Нет бумаги")]
    with pytest.raises(DeviceRefused, match="Нет бумаги"):
        driver.print_receipt(SALE, idempotency_key="k")
    assert job_uuid("k", 1) not in server.jobs


def test_a_lost_reply_on_get_polls_again(server: FakeWebRequests) -> None:
    """A dropped GET answer is asked again; the job's result comes through, one document."""
    server.lose_get = 2
    driver, _ = make(server)
    assert driver.print_receipt(SALE, idempotency_key="k").fiscal_doc_number == 1
    assert len(server.documents) == 1


def test_in_progress_is_polled_at_once_then_with_growing_delays_capped(server: FakeWebRequests) -> None:
    """A job inProgress for 9 polls is read at once, then after 1 ms doubling up to the poll interval."""
    driver, sleeps = make(server)
    driver.fn_status()
    server.in_progress = 9
    gets = server.gets
    driver.print_receipt(SALE, idempotency_key="k")
    assert server.gets - gets == 10
    assert sleeps.delays[-9:] == [0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.1, 0.1]


def test_a_job_running_past_the_timeout_is_outcome_unknown(server: FakeWebRequests) -> None:
    """Still inProgress at the overall timeout: AtolOutcomeUnknown (not a refusal); find_by_key raises too while it
    runs, and returns the document once it is ready."""
    driver, _ = make(server, timeout=1.0)
    driver.fn_status()
    server.in_progress = 10_000
    with pytest.raises(AtolOutcomeUnknown, match="still inProgress"):
        driver.print_receipt(SALE, idempotency_key="k")
    with pytest.raises(AtolOutcomeUnknown):
        driver.find_by_key("k")
    server.jobs[job_uuid("k", 0)].running_polls = 0
    found = driver.find_by_key("k")
    assert found is not None
    assert (found.fiscal_doc_number, found.doc_type, found.total_kop) == (1, 3, 30_050)


def test_blocked_with_the_document_printed_resolves_ready_once(server: FakeWebRequests) -> None:
    """A job blocked for some polls, then resolved by the server as printed: its result, exactly one document,
    and no second POST for it."""
    server.block = (True, 4, False)
    driver, _ = make(server)
    result = driver.print_receipt(SALE, idempotency_key="k")
    assert (result.fiscal_doc_number, len(server.documents), server.printing_jobs) == (1, 1, ["sell"])


def test_blocked_without_the_document_resolves_as_not_printed_and_the_retry_prints_once(
    server: FakeWebRequests,
) -> None:
    """A job blocked then resolved as not printed is DeviceUnavailable (nothing printed); the retry of the key
    prints under attempt 1: one document in all."""
    server.block = (False, 4, False)
    driver, _ = make(server)
    with pytest.raises(DeviceUnavailable):
        driver.print_receipt(SALE, idempotency_key="k")
    assert server.documents == []
    driver.print_receipt(SALE, idempotency_key="k")
    assert len(server.documents) == 1


@pytest.mark.parametrize(("printed", "says"), [(True, "grew from 0 to 1"), (False, "still 0")])
def test_a_job_still_blocked_at_the_timeout_says_what_the_fn_counter_shows(
    server: FakeWebRequests, printed: bool, says: str
) -> None:
    """Blocked past the timeout: outcome unknown, the FN's document number read against its value before the job,
    never a resend; once the server resolves the job, find_by_key gives the document or None."""
    driver, _ = make(server, timeout=2.0)
    server.block = (printed, 0, True)
    with pytest.raises(AtolOutcomeUnknown, match=says):
        driver.print_receipt(SALE, idempotency_key="k")
    assert server.printing_jobs == ["sell"]
    with pytest.raises(AtolOutcomeUnknown, match="blocked"):
        driver.find_by_key("k")
    server.jobs[job_uuid("k", 0)].block_forever = False
    found = driver.find_by_key("k")
    assert (found is not None) is printed
    assert len(server.documents) == int(printed)


def test_find_by_key_of_a_key_never_sent_is_none(server: FakeWebRequests) -> None:
    """No job under the key's first uuid: nothing was printed."""
    driver, _ = make(server)
    assert driver.find_by_key("never") is None


def test_find_by_key_of_refused_attempts_only_is_none(server: FakeWebRequests) -> None:
    """Every attempt ended in error: nothing was printed."""
    server.refuse = [(44, "Нет бумаги"), (45, "Крышка открыта")]
    driver, _ = make(server)
    for _ in range(2):
        with pytest.raises(DeviceRefused):
            driver.print_receipt(SALE, idempotency_key="k")
    assert driver.find_by_key("k") is None


def test_find_by_key_reads_a_refund_as_a_refund(server: FakeWebRequests) -> None:
    """The job's result is completed from the FN's document: a refund's QR says operation 2."""
    first, _ = make(server)
    printed = first.print_receipt(REFUND, idempotency_key="r")
    fresh, _ = make(server)
    assert fresh.find_by_key("r") == printed


def test_basic_auth_is_sent_and_never_shown(server: FakeWebRequests) -> None:
    """With a user and password, every request carries Basic auth; the transport's repr shows no password."""
    server.user, server.password = "cashier", "s3cret"
    driver, _ = make(server, user="cashier", password="s3cret")
    driver.print_receipt(SALE, idempotency_key="k")
    expected = "Basic " + base64.b64encode(b"cashier:s3cret").decode()
    assert set(server.auth_headers) == {expected}
    assert "s3cret" not in repr(driver.transport)


def test_a_wrong_password_is_unavailable_and_names_the_settings(server: FakeWebRequests) -> None:
    """401: nothing queued; the error names the settings to check and not the password."""
    server.user, server.password = "cashier", "s3cret"
    driver, _ = make(server, user="cashier", password="wrong")
    with pytest.raises(DeviceUnavailable, match="KKT_ATOL_USER") as refused:
        driver.print_receipt(SALE, idempotency_key="k")
    assert "wrong" not in refused.value.reason
    assert server.jobs == {}


def test_a_status_read_from_a_server_that_is_down_is_unavailable(server: FakeWebRequests) -> None:
    """Asking the state of a server that refuses connections (the dialect not yet known) is DeviceUnavailable."""
    server.down = True
    driver, _ = make(server)
    with pytest.raises(DeviceUnavailable, match="not reachable"):
        driver.state()
