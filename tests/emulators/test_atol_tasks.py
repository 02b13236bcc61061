"""The ATOL emulator's tasks over real HTTP with raw JSON: each task's result shape, the FFD 1.2 attributes as the
FN archive keeps them, exact ruble amounts, and the task errors (never a 500)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest
from atol_helpers import CASHIER_INN, error, position, post, result, results, run, sell, settled, shift, to_json

from kkt_clock import ManualClock
from kkt_emulators import MockAtolServer

FISCAL_PARAMS = {
    "fiscalDocumentNumber",
    "fiscalDocumentSign",
    "fiscalDocumentDateTime",
    "shiftNumber",
    "fnNumber",
    "registrationNumber",
    "fnsUrl",
}


@pytest.fixture
def atol() -> Iterator[tuple[httpx.Client, str]]:
    """A started emulator and a client for it."""
    with MockAtolServer(port=0) as server, httpx.Client(timeout=5.0) as http:
        yield http, server.url


def tlv(http: httpx.Client, url: str, number: int) -> dict[str, object]:
    """The document ``number`` read back from the FN archive."""
    return dict(result(http, url, {"type": "getFnDocument", "fiscalDocumentNumber": number})["documentTLV"])  # type: ignore[arg-type]


def test_sell_returns_the_documented_fiscal_params(atol: tuple[httpx.Client, str]) -> None:
    """A sale answers ``fiscalParams`` with FD number, sign, date-time, receipt and shift, FN, RN, total; not printed
    is false."""
    http, url = atol
    answer = result(http, url, sell())
    params = answer["fiscalParams"]
    assert set(params) == FISCAL_PARAMS | {"fiscalReceiptNumber", "total"}
    assert answer["warnings"] == {"notPrinted": False}
    assert params["fiscalDocumentNumber"] == 3  # registration 1, the shift opened by the sale 2
    assert (params["fiscalReceiptNumber"], params["shiftNumber"]) == (1, 1)
    assert params["total"] == Decimal("200.00")
    assert params["fiscalDocumentSign"].isdigit() and len(params["fnNumber"]) == 16
    assert params["fiscalDocumentDateTime"].endswith("+03:00")


def test_amounts_are_exact_decimals_both_ways(atol: tuple[httpx.Client, str]) -> None:
    """0.10 + 0.20 in rubles is 0.30 exactly: read as Decimal, kept in kopecks, written back as 0.30."""
    http, url = atol
    items = [position(price=Decimal("0.10"), quantity=1, amount=Decimal("0.10"))]
    items.append(position(name="Салфетка", price=Decimal("0.20"), quantity=1, amount=Decimal("0.20")))
    (entry,) = run(http, url, sell(items=items))
    assert entry["result"]["fiscalParams"]["total"] == Decimal("0.30")
    raw = http.get(f"{url}/api/v2/getRequestsQueueStatus")  # any answer: the number format is the same everywhere
    assert raw.status_code == 200
    document = tlv(http, url, entry["result"]["fiscalParams"]["fiscalDocumentNumber"])
    assert document["1020"] == Decimal("0.30") and document["1031"] == Decimal("0.30")


def test_more_than_two_decimals_is_the_task_error_and_prints_nothing(atol: tuple[httpx.Client, str]) -> None:
    """A price of 100.005 rubles is refused with code 13 naming the field; the FN counter does not move."""
    http, url = atol
    code, text = error(http, url, sell(items=[position(price=Decimal("100.005"))]))
    assert code == 13 and "items[0].price" in text
    assert result(http, url, {"type": "getFnStatus"})["fnStatus"]["fiscalDocumentNumber"] == 1


def test_ffd_attributes_reach_the_document_by_their_tags(atol: tuple[httpx.Client, str]) -> None:
    """VAT 22%, payment method and object, unit, taxation, operator, client and payments land on their FFD tags."""
    http, url = atol
    line = position(
        name="Линза",
        price=Decimal("150.50"),
        quantity=Decimal("1.5"),
        amount=Decimal("225.75"),
        tax={"type": "vat22"},
        paymentMethod="advance",
        paymentObject="service",
        measurementUnit="kilogram",
    )
    task = sell(items=[line], clientInfo={"emailOrPhone": "+79990000000"})
    task["payments"] = [{"type": "electronically", "sum": Decimal("200.00")}, {"type": "cash", "sum": Decimal("30")}]
    fd = result(http, url, task)["fiscalParams"]["fiscalDocumentNumber"]
    document = tlv(http, url, fd)
    assert document["fiscalDocumentType"] == "receipt"
    assert (document["1054"], document["1055"]) == (1, 1)
    assert (document["1021"], document["1203"]) == ("Иванов И.И.", CASHIER_INN)
    assert document["1008"] == "+79990000000"
    assert (document["1081"], document["1031"]) == (Decimal("200.00"), Decimal("25.75"))  # 4.25 of change in cash
    (item,) = document["1059"]  # type: ignore[misc]
    assert item["1199"] == 11 and item["1214"] == 3 and item["1212"] == 4 and item["2108"] == 11
    assert item["1023"] == Decimal("1.5") and item["1079"] == Decimal("150.50")


@pytest.mark.parametrize(
    ("tax", "code"),
    [
        *[("vat20", 1), ("vat10", 2), ("vat120", 3), ("vat110", 4), ("vat0", 5), ("none", 6), ("vat5", 7)],
        *[("vat7", 8), ("vat105", 9), ("vat107", 10), ("vat22", 11), ("vat122", 12)],
    ],
)
def test_every_vat_type_maps_to_its_1199_code(atol: tuple[httpx.Client, str], tax: str, code: int) -> None:
    """Each ``tax.type`` of the protocol becomes its FFD 1.2 VAT rate code (1199) in the document."""
    http, url = atol
    fd = result(http, url, sell(items=[position(tax={"type": tax})]))["fiscalParams"]["fiscalDocumentNumber"]
    assert tlv(http, url, fd)["1059"][0]["1199"] == code  # type: ignore[index]


@pytest.mark.parametrize(("kind", "operation"), [("sell", 1), ("sellReturn", 2), ("buy", 3), ("buyReturn", 4)])
def test_receipt_types_are_their_settlement_sign(atol: tuple[httpx.Client, str], kind: str, operation: int) -> None:
    """``sell``, ``sellReturn``, ``buy``, ``buyReturn`` print receipts with 1054 = 1, 2, 3, 4."""
    http, url = atol
    fd = result(http, url, sell(kind))["fiscalParams"]["fiscalDocumentNumber"]
    document = tlv(http, url, fd)
    assert (document["1000"], document["1054"]) == (3, operation)


def test_sell_correction_prints_a_correction_receipt_with_its_basis(atol: tuple[httpx.Client, str]) -> None:
    """``sellCorrection`` (FFD 1.2) prints document type 31 with its type (1173) and basis date and number (1174)."""
    http, url = atol
    task = sell("sellCorrection", correctionType="instruction", correctionBaseDate="2024.05.31")
    task["correctionBaseNumber"] = "ПР-17"
    answer = result(http, url, task)
    assert set(answer["fiscalParams"]) == FISCAL_PARAMS | {"fiscalReceiptNumber", "total"}
    document = tlv(http, url, answer["fiscalParams"]["fiscalDocumentNumber"])
    assert document["fiscalDocumentType"] == "receiptCorrection"
    assert (document["1000"], document["1173"]) == (31, 1)
    assert document["1174"] == {"1178": "2024-05-31", "1179": "ПР-17"}


def test_a_correction_by_instruction_without_its_number_is_refused(atol: tuple[httpx.Client, str]) -> None:
    """An instruction correction without ``correctionBaseNumber`` is the task error; nothing printed."""
    http, url = atol
    code, text = error(http, url, sell("sellCorrection", correctionType="instruction", correctionBaseDate="2024.05.31"))
    assert code == 13 and "1179" in text


def test_shift_tasks_and_their_errors(atol: tuple[httpx.Client, str]) -> None:
    """openShift and closeShift answer fiscalParams (closeShift with the receipts count); a second open is 83, a
    close with no shift 73, an X report with no shift 73."""
    http, url = atol
    opened = result(http, url, shift())
    assert set(opened["fiscalParams"]) == FISCAL_PARAMS
    assert error(http, url, shift())[0] == 83
    result(http, url, sell())
    assert result(http, url, {"type": "reportX"}) == {}
    closed = result(http, url, shift("closeShift"))["fiscalParams"]
    assert set(closed) == FISCAL_PARAMS | {"receiptsCount"}
    assert closed["receiptsCount"] == 1 and closed["fiscalDocumentNumber"] == 4
    assert error(http, url, shift("closeShift"))[0] == 73
    assert error(http, url, {"type": "reportX"})[0] == 73
    assert tlv(http, url, 4)["fiscalDocumentType"] == "closeShift"


def test_status_tasks_have_the_documented_shapes(atol: tuple[httpx.Client, str]) -> None:
    """getShiftStatus, getDeviceStatus, getFnInfo, getFnStatus, ofdExchangeStatus answer the protocol's objects."""
    http, url = atol
    assert result(http, url, {"type": "getShiftStatus"}) == {"shiftStatus": {"state": "closed", "number": 0}}
    result(http, url, sell())
    shift = result(http, url, {"type": "getShiftStatus"})["shiftStatus"]
    assert (shift["state"], shift["number"]) == ("opened", 1) and "expiredTime" in shift
    device = result(http, url, {"type": "getDeviceStatus"})["deviceStatus"]
    assert set(device) == {
        "currentDateTime",
        "shift",
        "blocked",
        "coverOpened",
        "paperPresent",
        "fiscal",
        "fnFiscal",
        "fnPresent",
        "cashDrawerOpened",
    }
    assert (device["shift"], device["paperPresent"], device["coverOpened"], device["blocked"]) == (
        "opened",
        True,
        False,
        False,
    )
    info = result(http, url, {"type": "getFnInfo"})["fnInfo"]
    assert info["ffdVersion"] == "1.2" and len(info["serial"]) == 16 and info["livePhase"] == "fiscalMode"
    warnings = {"memoryOverflow", "needReplacement", "ofdTimeout", "resourceExhausted", "criticalError"}
    assert set(info["warnings"]) == warnings
    status = result(http, url, {"type": "getFnStatus"})["fnStatus"]
    assert (status["fiscalDocumentNumber"], status["fiscalReceiptNumber"]) == (3, 1)
    exchange = result(http, url, {"type": "ofdExchangeStatus"})
    assert exchange["status"]["notSentCount"] == 3 and exchange["status"]["notSentFirstDocNumber"] == 1
    assert "notSentFirstDocDateTime" in exchange["status"] and set(exchange["errors"]) == {"fn", "network", "ofd"}


def test_continue_print_is_a_no_op_that_is_ready(atol: tuple[httpx.Client, str]) -> None:
    """``continuePrint`` answers ready with an empty result and prints nothing."""
    http, url = atol
    assert result(http, url, {"type": "continuePrint"}) == {}
    assert result(http, url, {"type": "getFnStatus"})["fnStatus"]["fiscalDocumentNumber"] == 1


def test_fn_document_of_an_unknown_number_is_the_task_error(atol: tuple[httpx.Client, str]) -> None:
    """``getFnDocument`` for a number not in the archive, or without a number, is a task error (13, 8)."""
    http, url = atol
    assert error(http, url, {"type": "getFnDocument", "fiscalDocumentNumber": 99})[0] == 13
    assert error(http, url, {"type": "getFnDocument"})[0] == 8


@pytest.mark.parametrize(
    ("task", "code", "field"),
    [
        ({"type": "dance"}, 11, "dance"),
        ({"kind": "sell"}, 8, "type"),
        (sell(items=[position(tax={"type": "vat18"})]), 13, "tax.type"),
        (sell(items=[position(paymentMethod="gift")]), 13, "paymentMethod"),
        (sell(items=[position(paymentObject="unicorn")]), 13, "paymentObject"),
        (sell(items=[position(measurementUnit="шт.")]), 13, "measurementUnit"),
        (sell(taxationType="envd"), 13, "taxationType"),
        (sell(items=[position(price="100")]), 13, "price"),
        ({**sell(), "items": [{k: v for k, v in position().items() if k != "amount"}]}, 8, "amount"),
        (sell(payments=[{"type": "barter", "sum": Decimal("200.00")}]), 13, "payments[0].type"),
        (sell(payments=[{"type": "cash", "sum": Decimal("150.00")}]), 66, "меньше итога"),
        (sell(total=Decimal("300.00")), 13, "total"),
        (sell(operator={"name": "Иванов", "vatin": "123"}), 13, "1203"),
    ],
)
def test_a_malformed_task_is_the_task_error_naming_the_field(
    atol: tuple[httpx.Client, str], task: dict[str, object], code: int, field: str
) -> None:
    """A task the driver would refuse is answered ``error`` with the code and the field (not a 500), printing
    nothing; the job's following task is ``interrupted`` (502)."""
    http, url = atol
    first, second = run(http, url, [task, {"type": "getFnStatus"}])
    assert first["status"] == "error" and first["error"]["code"] == code, first
    assert field in first["error"]["description"]
    assert second["status"] == "interrupted" and second["error"]["code"] == 502
    assert result(http, url, {"type": "getFnStatus"})["fnStatus"]["fiscalDocumentNumber"] == 1


def test_a_single_task_object_is_a_job_of_one_task(atol: tuple[httpx.Client, str]) -> None:
    """``request`` may be one task object instead of a list: one result."""
    http, url = atol
    (entry,) = settled(http, url, post(http, url, {"type": "getShiftStatus"}))
    assert entry["status"] == "ready"


def test_the_job_uuid_is_the_print_key_so_a_job_never_prints_twice(atol: tuple[httpx.Client, str]) -> None:
    """A job's sale is made once: its results read again give the same document, and the counter moved by one."""
    http, url = atol
    job = post(http, url, [sell()])
    first = settled(http, url, job)
    assert results(http, url, job) == first
    assert result(http, url, {"type": "getFnStatus"})["fnStatus"]["fiscalDocumentNumber"] == 3
    body = to_json({"uuid": job, "request": [sell()]})
    assert http.post(f"{url}/api/v2/requests", content=body).status_code == 409
    assert result(http, url, {"type": "getFnStatus"})["fnStatus"]["fiscalDocumentNumber"] == 3


def test_an_expired_shift_refuses_a_sale_with_68() -> None:
    """After 24 hours on the device's clock the shift is expired: a sale is 68, closeShift still works."""
    clock = ManualClock()
    with MockAtolServer(port=0, clock=clock) as server, httpx.Client(timeout=5.0) as http:
        result(http, server.url, sell())
        clock.advance(24 * 3600 + 1)
        assert result(http, server.url, {"type": "getShiftStatus"})["shiftStatus"]["state"] == "expired"
        code, _ = error(http, server.url, sell())
        assert code == 68
        assert result(http, server.url, shift("closeShift"))["fiscalParams"]["receiptsCount"] == 1
        assert result(http, server.url, sell())["fiscalParams"]["shiftNumber"] == 2


def test_an_internal_failure_is_a_task_error_and_the_queue_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """A device call that crashes (not a refusal) fails its task with code 6 instead of killing the worker; the next
    job runs."""
    with MockAtolServer(port=0) as server, httpx.Client(timeout=5.0) as http:

        def crash(*args: object, **kwargs: object) -> None:
            raise RuntimeError("disk on fire")

        monkeypatch.setattr(server.kkt, "print_receipt", crash)
        code, text = error(http, server.url, sell())
        assert code == 6 and "disk on fire" in text
        assert result(http, server.url, {"type": "getShiftStatus"})["shiftStatus"]["state"] == "closed"
