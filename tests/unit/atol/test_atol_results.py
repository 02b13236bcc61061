"""The ATOL JSON-task mapping of answers, pure: a task's result as the adapter's fiscal result, a job's state from its
tasks' statuses, ATOL's error codes as the adapter's errors; explicit tables, no I/O."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from kkt_adapter.devices.atol import results, wire
from kkt_adapter.devices.atol.errors import ProtocolError, device_error
from kkt_adapter.domain.errors import DeviceRefused, DeviceRejectedReceipt, DeviceUnavailable, ShiftConflict

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
