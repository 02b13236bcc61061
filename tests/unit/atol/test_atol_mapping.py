"""The ATOL JSON-task mapping, pure: the adapter's receipts as tasks, ATOL's answers as the adapter's values, ATOL's
error codes as the adapter's errors; explicit tables, no I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from kkt_adapter.devices.atol import results, status, tasks, wire
from kkt_adapter.devices.atol.errors import ProtocolError, device_error
from kkt_adapter.domain.correction import Correction
from kkt_adapter.domain.errors import DeviceRefused, DeviceRejectedReceipt, DeviceUnavailable, ShiftConflict
from kkt_adapter.domain.receipt import Cashier, Item, Payment, Receipt

GS = "\x1d"
MARK = f"0104606203098187215Hk,U<T{GS}93dGVz"


def _receipt(**changes: Any) -> Receipt:
    values: dict[str, Any] = {
        "pos_id": "till-1",
        "operation": "sale",
        "items": (
            Item("Оправа", 10_000, Decimal(2), 20_000, 1),
            Item(
                "Сыр",
                45_050,
                Decimal("0.5"),
                22_525,
                11,
                payment_method=1,
                payment_object=33,
                measure=11,
                mark_code=MARK,
            ),
        ),
        "payments": (Payment("cash", 10_000), Payment("card", 32_525)),
        "cashier": Cashier("Иванов И.И.", "500100732259"),
        "customer_contact": "+79990000000",
        "taxation": 2,
    }
    return Receipt(**(values | changes))


def test_a_sale_becomes_a_sell_task_with_every_ffd12_attribute() -> None:
    """A sale maps to ``sell`` with taxation, cashier (operator), customer (clientInfo), lines with their codes by
    ATOL's names, the marking code as imcParams, payments by kind, and exact ruble amounts."""
    task = tasks.receipt_task(_receipt())
    assert task == {
        "type": "sell",
        "taxationType": "usnIncome",
        "electronically": False,
        "operator": {"name": "Иванов И.И.", "vatin": "500100732259"},
        "clientInfo": {"emailOrPhone": "+79990000000"},
        "items": [
            {
                "type": "position",
                "name": "Оправа",
                "price": Decimal("100.00"),
                "quantity": Decimal(2),
                "amount": Decimal("200.00"),
                "measurementUnit": "piece",
                "paymentMethod": "fullPayment",
                "paymentObject": "commodity",
                "tax": {"type": "vat20"},
            },
            {
                "type": "position",
                "name": "Сыр",
                "price": Decimal("450.50"),
                "quantity": Decimal("0.5"),
                "amount": Decimal("225.25"),
                "measurementUnit": "kilogram",
                "paymentMethod": "fullPrepayment",
                "paymentObject": "commodityWithMarking",
                "tax": {"type": "vat22"},
                "imcParams": {
                    "imcType": "auto",
                    "imc": "MDEwNDYwNjIwMzA5ODE4NzIxNUhrLFU8VB05M2RHVno=",
                    "itemEstimatedStatus": "itemPieceSold",
                    "imcModeProcessing": 0,
                },
            },
        ],
        "payments": [{"type": "cash", "sum": Decimal("100.00")}, {"type": "electronically", "sum": Decimal("325.25")}],
        "total": Decimal("425.25"),
    }


def test_amounts_are_written_to_the_wire_digit_for_digit() -> None:
    """The serialized task carries ``200.00`` and ``0.5`` as JSON numbers, never a float's rounding."""
    text = wire.dumps(tasks.receipt_task(_receipt()))
    assert '"amount":200.00' in text
    assert '"quantity":0.5' in text
    assert '"total":425.25' in text
    assert wire.loads(text)["total"] == Decimal("425.25")


def test_the_wire_refuses_a_binary_float() -> None:
    """A float never reaches the KKT: serializing one is an error."""
    with pytest.raises(TypeError, match="float"):
        wire.dumps({"sum": 0.1})


def test_a_refund_becomes_sell_return_and_its_marked_line_a_returned_piece() -> None:
    """A refund is ``sellReturn``; its marked line says itemPieceReturn; a receipt without options has none."""
    task = tasks.receipt_task(_receipt(operation="refund", cashier=None, customer_contact=None, taxation=None))
    assert task["type"] == "sellReturn"
    assert task["items"][1]["imcParams"]["itemEstimatedStatus"] == "itemPieceReturn"
    assert {"operator", "clientInfo", "taxationType"}.isdisjoint(task)


@pytest.mark.parametrize(
    ("vat_code", "name"),
    [
        (1, "vat20"),
        (2, "vat10"),
        (3, "vat120"),
        (4, "vat110"),
        (5, "vat0"),
        (6, "none"),
        (7, "vat5"),
        (8, "vat7"),
        (9, "vat105"),
        (10, "vat107"),
        (11, "vat22"),
        (12, "vat122"),
    ],
)
def test_each_vat_code_has_its_atol_tax_type(vat_code: int, name: str) -> None:
    """Tag 1199 codes map to ATOL's tax types, the 22% rates and calculated rates included."""
    item = Item("x", 100, Decimal(1), 100, vat_code)
    assert tasks.position(item, refund=False)["tax"] == {"type": name}


@pytest.mark.parametrize(
    ("kind", "atol"),
    [
        ("cash", "cash"),
        ("card", "electronically"),
        ("electronic", "electronically"),
        ("prepaid", "prepaid"),
        ("credit", "credit"),
        ("provision", "other"),
    ],
)
def test_each_payment_kind_has_its_atol_payment_type(kind: Any, atol: str) -> None:
    """Payment kinds map to ATOL's payment types (a counter-provision, tag 1217, is ATOL's ``other``)."""
    task = tasks.receipt_task(_receipt(items=(Item("x", 100, Decimal(1), 100, 1),), payments=(Payment(kind, 100),)))
    assert task["payments"] == [{"type": atol, "sum": Decimal("1.00")}]


def test_a_correction_becomes_sell_correction_with_its_basis() -> None:
    """A correction by order maps to ``sellCorrection`` with its type, basis date and number, and 1192."""
    correction = Correction(_receipt(), "instruction", date(2024, 5, 31), "ФНС-77/1", "1494325660")
    task = tasks.correction_task(correction)
    assert task["type"] == "sellCorrection"
    assert task["correctionType"] == "instruction"
    assert task["correctionBaseDate"] == "2024.05.31"
    assert task["correctionBaseNumber"] == "ФНС-77/1"
    assert task["additionalAttribute"] == "1494325660"
    assert task["total"] == Decimal("425.25")
    refund = tasks.correction_task(Correction(_receipt(operation="refund"), "self", date(2024, 5, 31)))
    assert refund["type"] == "sellReturnCorrection"
    assert "correctionBaseNumber" not in refund


@pytest.mark.parametrize(
    ("wire_value", "kop"),
    [(Decimal("390.75"), 39_075), (100, 10_000), (Decimal("0.1"), 10), ("12.30", 1_230), (Decimal(0), 0)],
)
def test_rubles_become_kopecks_exactly(wire_value: Any, kop: int) -> None:
    """Amounts read from ATOL (Decimal, int, text) convert to kopecks exactly."""
    assert results.kopecks(wire_value) == kop


@pytest.mark.parametrize("wire_value", [Decimal("1.005"), True, None, "abc", [1]])
def test_an_amount_that_is_not_whole_kopecks_is_refused(wire_value: Any) -> None:
    """More than two decimals, or not a number, is a protocol error: never rounded."""
    with pytest.raises(ProtocolError):
        results.kopecks(wire_value)


SELL_RESULT = wire.loads(
    '{"fiscalParams": {"fiscalDocumentNumber": 71, "fiscalDocumentSign": "1494325660",'
    ' "fiscalDocumentDateTime": "2018-03-06T13:52:00+03:00", "fiscalReceiptNumber": 1, "shiftNumber": 12,'
    ' "fnNumber": "9999078900000961", "registrationNumber": "0000000001002292", "total": 390.75,'
    ' "fnsUrl": "www.nalog.gov.ru"}, "warnings": {"notPrinted": false}}'
)


def test_a_sell_result_becomes_the_adapters_fiscal_result_with_its_qr() -> None:
    """ATOL's sell result maps to every field of the fiscal result, the total in kopecks, the FNS QR string built
    from the fiscal data as the emulated KKT builds it."""
    fiscal = results.fiscal_result(SELL_RESULT, task_type="sell")
    assert fiscal.fiscal_doc_number == 71
    assert fiscal.fiscal_sign == "1494325660"
    assert fiscal.fiscal_datetime == "2018-03-06T13:52:00+03:00"
    assert (fiscal.fn_number, fiscal.kkt_number) == ("9999078900000961", "0000000001002292")
    assert (fiscal.shift_number, fiscal.receipt_number, fiscal.total_kop, fiscal.doc_type) == (12, 1, 39_075, 3)
    assert fiscal.qr_code_data == "t=20180306T1352&s=390.75&fn=9999078900000961&i=71&fp=1494325660&n=1"
    assert fiscal.document["1054"] == 1
    assert fiscal.document["1020"] == 39_075


def test_a_refund_correction_result_is_a_document_31_with_operation_2() -> None:
    """``sellReturnCorrection`` makes a correction (31) whose QR says operation 2."""
    fiscal = results.fiscal_result(SELL_RESULT, task_type="sellReturnCorrection")
    assert fiscal.doc_type == 31
    assert fiscal.qr_code_data.endswith("&n=2")


def test_a_shift_report_result_has_no_total_and_no_qr() -> None:
    """An opening report's result has no total, receipt number or QR; FN and registration come from what the
    driver knew when the result leaves them out."""
    answer = {
        "fiscalParams": {
            "fiscalDocumentNumber": 5,
            "fiscalDocumentSign": "77",
            "fiscalDocumentDateTime": "2026-11-29T09:00:00+03:00",
            "shiftNumber": 3,
        }
    }
    fiscal = results.fiscal_result(answer, task_type="openShift", known=results.Identity("FN1", "REG1"))
    assert (fiscal.doc_type, fiscal.total_kop, fiscal.qr_code_data, fiscal.receipt_number) == (2, 0, "", 0)
    assert (fiscal.fn_number, fiscal.kkt_number) == ("FN1", "REG1")


def test_a_document_read_back_from_the_fn_maps_by_its_tags() -> None:
    """``getFnDocument``'s documentTLV (tags by number) maps to the same fiscal result a print gives."""
    tlv = {
        "documentTLV": {
            "1000": 3,
            "1040": 71,
            "1077": "1494325660",
            "1012": "2018-03-06T13:52:00+03:00",
            "1038": 12,
            "1042": 1,
            "1041": "9999078900000961",
            "1037": "0000000001002292",
            "1020": Decimal("390.75"),
            "1054": 2,
        }
    }
    fiscal = results.document_result(tlv)
    assert fiscal.qr_code_data == "t=20180306T1352&s=390.75&fn=9999078900000961&i=71&fp=1494325660&n=2"
    assert (fiscal.doc_type, fiscal.total_kop, fiscal.receipt_number) == (3, 39_075, 1)
    by_name = results.document_result(
        {
            "documentTLV": {
                "fiscalDocumentType": "closeShift",
                "1040": 9,
                "1077": 5,
                "1012": "2026-11-29T21:00:00",
                "1038": 3,
            }
        }
    )
    assert (by_name.doc_type, by_name.qr_code_data) == (5, "")


def test_both_dialects_results_read_alike() -> None:
    """v2's ``error: {code, description}`` and the older server's flat ``errorCode`` give the same task results."""
    v2 = results.task_results({"results": [{"status": "error", "error": {"code": 44, "description": "Нет бумаги"}}]})
    legacy = results.task_results(
        {"results": [{"status": "error", "errorCode": 44, "errorDescription": "Нет бумаги", "result": None}]}
    )
    assert v2 == legacy == (results.TaskResult("error", 44, "Нет бумаги", None),)


@pytest.mark.parametrize("body", [{}, {"results": []}, {"results": [{"result": {}}]}, [1]])
def test_a_job_answer_without_statuses_is_a_protocol_error(body: Any) -> None:
    """No results, or a result without its status, is never taken as a success."""
    with pytest.raises(ProtocolError):
        results.task_results(body)


R = results.TaskResult


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([R("ready")], "ready"),
        ([R("wait")], "wait"),
        ([R("ready"), R("inProgress")], "inProgress"),
        ([R("ready"), R("blocked")], "blocked"),
        ([R("ready"), R("error", 44, "Нет бумаги"), R("interrupted", 502)], "error"),
        ([R("ready", 0, "Ошибок нет")], "ready"),
        ([R("canceled", 503)], "error"),
        ([R("error", None, "")], "error"),
    ],
)
def test_a_jobs_state_comes_from_every_tasks_status(statuses: list[results.TaskResult], expected: str) -> None:
    """The job is ready only when every task is; running, blocked and failed tasks decide it first."""
    assert results.job_status(statuses) == expected


def test_the_failed_task_is_the_one_that_failed_not_the_interrupted_rest() -> None:
    """After a failure the remaining tasks read ``interrupted``: the error reported is the first real one."""
    job = [R("interrupted", 502), R("error", 45, "Крышка открыта")]
    assert results.failure(job) == R("error", 45, "Крышка открыта")


def test_a_result_is_never_taken_without_its_status() -> None:
    """Reading a task's result demands its ``ready`` status."""
    with pytest.raises(ProtocolError, match="not ready"):
        results.ready_result([R("error", 44, "", {"fiscalParams": {}})], 0)


@pytest.mark.parametrize(
    ("code", "kind", "name"),
    [
        (1, DeviceUnavailable, "offline"),
        (2, DeviceUnavailable, "offline"),
        (3, DeviceUnavailable, "offline"),
        (4, DeviceUnavailable, "offline"),
        (241, DeviceUnavailable, "offline"),
        (44, DeviceRefused, "paper_out"),
        (45, DeviceRefused, "cover_open"),
        (46, DeviceRefused, "printer_fault"),
        (55, DeviceRefused, "busy"),
        (66, DeviceRejectedReceipt, "not_fully_paid"),
        (8, DeviceRejectedReceipt, "missing_parameter"),
        (11, DeviceRejectedReceipt, "not_supported"),
        (13, DeviceRejectedReceipt, "invalid_parameter"),
        (16, DeviceRejectedReceipt, "invalid_sum"),
        (47, DeviceRefused, "printer_fault"),
        (68, DeviceRefused, "shift_expired"),
        (141, DeviceRefused, "shift_expired"),
        (73, ShiftConflict, "shift_not_open"),
        (83, ShiftConflict, "shift_already_open"),
        (115, DeviceRefused, "fn_exchange_error"),
        (118, DeviceRefused, "fn_fault"),
        (120, DeviceRefused, "fn_expired"),
        (121, DeviceRefused, "fn_archive_full"),
        (137, DeviceRefused, "fn_ofd_timeout_30_days"),
        (140, DeviceRefused, "fn_ofd_timeout_30_days"),
        (139, DeviceRefused, "fn_unsent_documents"),
        (999, DeviceRefused, "atol_error_999"),
    ],
)
def test_each_atol_error_code_maps_to_the_adapters_error(code: int, kind: type[DeviceRefused], name: str) -> None:
    """Every code that matters has its adapter error and code, carrying the device's text and its number."""
    error = device_error(code, "Текст устройства")
    assert type(error) is kind
    assert error.code == name
    assert error.reason == f"Текст устройства (ATOL error {code})"


def test_shift_expired_keeps_the_code_the_fiscalizer_closes_the_shift_on() -> None:
    """The fiscalizer's auto policy closes an expired shift on code ``shift_expired``: both ATOL codes give it."""
    assert {device_error(68, "").code, device_error(141, "").code} == {"shift_expired"}


FN_INFO = {
    "fnInfo": {
        "serial": "9999078900000961",
        "validityDate": "2027-02-01T00:00:00+03:00",
        "ffdVersion": "1.2",
        "warnings": {"needReplacement": True, "memoryOverflow": False, "ofdTimeout": True},
    }
}
FN = {"fnStatus": {"fiscalDocumentNumber": 120, "fiscalReceiptNumber": 7}}


def test_fn_status_reads_unsent_documents_warnings_and_the_30_day_block() -> None:
    """Unsent count, first unsent number and date, warnings by the adapter's names; a first unsent document older
    than 30 days is the OFD block."""
    ofd = {
        "status": {
            "notSentCount": 3,
            "notSentFirstDocNumber": 118,
            "notSentFirstDocDateTime": "2026-10-01T10:00:00+03:00",
        }
    }
    fn = status.fn_status(FN_INFO, FN, ofd, now=datetime(2026, 11, 29, tzinfo=UTC))
    assert (fn.fn_number, fn.validity_date, fn.ffd_version, fn.documents_count) == (
        "9999078900000961",
        "2027-02-01",
        "1.2",
        120,
    )
    assert (fn.unsent_count, fn.first_unsent_fd_number, fn.first_unsent_at) == (3, 118, "2026-10-01T10:00:00+03:00")
    assert fn.warnings == ("replace_soon", "ofd_timeout")
    assert fn.blocked == "fn_ofd_timeout_30_days"
    recent = status.fn_status(FN_INFO, FN, ofd, now=datetime(2026, 10, 20, tzinfo=UTC))
    assert recent.blocked is None


def test_fn_status_with_nothing_unsent_and_an_expired_fn() -> None:
    """No unsent documents means no first number or date; a validity date passed is the FN expired."""
    ofd = {"status": {"notSentCount": 0, "notSentFirstDocNumber": 0, "notSentFirstDocDateTime": "2000-01-01T00:00:00"}}
    fn = status.fn_status(FN_INFO, FN, ofd, now=datetime(2027, 3, 1, tzinfo=UTC))
    assert (fn.unsent_count, fn.first_unsent_fd_number, fn.first_unsent_at) == (0, None, None)
    assert fn.blocked == "fn_expired"


def test_the_z_report_totals_come_from_the_fn_counters_of_close_shift() -> None:
    """closeShift's receiptsCount, fnTotals and fnQuantityCounters become the Z report's totals, net by payment."""
    answer = wire.loads(
        '{"fiscalParams": {"fiscalDocumentNumber": 30, "shiftNumber": 4, "receiptsCount": 3,'
        ' "fnTotals": {"receipts": {"sell": {"sum": 500.50, "payments": {"cash": 300.25, "electronically": 200.25}},'
        ' "sellReturn": {"sum": 100, "payments": {"cash": 100}}}},'
        ' "fnQuantityCounters": {"receipts": {"sell": 2, "sellReturn": 1}}}}'
    )
    report = status.closed_shift_report(answer)
    assert (report.shift_number, report.open, report.receipts, report.documents) == (4, False, 3, 5)
    assert report.totals_by_operation == {"sale": 50_050, "refund": 10_000}
    assert report.counts_by_operation == {"sale": 2, "refund": 1}
    assert report.totals_by_payment == {"cash": 20_025, "electronic": 20_025, "prepaid": 0, "credit": 0, "provision": 0}


def test_the_open_shift_report_reads_state_number_expiry_and_receipts() -> None:
    """getShiftStatus and getFnStatus give the shift's state, number, expiry and receipts so far."""
    shift = {"shiftStatus": {"state": "expired", "number": 12, "expiredTime": "2026-11-29T09:00:00+03:00"}}
    report = status.shift_report(shift, FN)
    assert (report.open, report.expired, report.shift_number, report.receipts) == (True, True, 12, 7)
    assert report.expires_at == "2026-11-29T09:00:00+03:00"
    closed = status.shift_report({"shiftStatus": {"state": "closed", "number": 12}}, FN)
    assert (closed.open, closed.receipts, closed.expires_at) == (False, 0, None)
