"""What the API answers about its devices, for its OpenAPI description: each device as routing sees it, the shift
and its X and Z reports, and the fiscal drive."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from kkt_adapter.api.responses import MoneyText, OpenModel


class DeviceShiftOut(OpenModel):
    open: bool | None
    number: int | None
    expired: bool | None
    expires_at: float | None


class DeviceFnOut(OpenModel):
    number: str | None
    unsent_count: int | None
    first_unsent_at: str | None
    warnings: list[str]


class DeviceRefusalOut(OpenModel):
    code: str
    reason: str
    at: float


class DeviceOut(OpenModel):
    """One device as routing and the operator see it."""

    name: str
    primary: bool
    driver: Literal["emulated", "atol", "shtrih"]
    usable: bool
    problem: str | None
    faults: list[str] = Field(description="offline, paper_out, fn_blocked, shift_expired, or the last refusal's code.")
    shift: DeviceShiftOut
    fn: DeviceFnOut
    last_document: dict[str, int | None]
    last_refusal: DeviceRefusalOut | None
    skipped_until: float | None = Field(
        description="Sales naming no device go to the others first until then (it refused one)."
    )
    checked_at: float | None


class DevicesOut(OpenModel):
    """Every device behind the adapter, the primary first."""

    primary: str
    devices: list[DeviceOut]


class TotalsOut(OpenModel):
    by_operation: dict[str, MoneyText]
    count_by_operation: dict[str, int]
    by_payment: dict[str, MoneyText]


class ShiftOut(OpenModel):
    shift_number: int | None
    open: bool
    opened_at: str | None
    expires_at: str | None
    expired: bool
    receipts: int
    documents: int
    totals: TotalsOut


class XReportOut(ShiftOut):
    report: Literal["X"]
    fiscal: Literal[False]


class _ShiftDocOut(OpenModel):
    fiscal_doc_number: int
    fiscal_sign: str
    fiscal_datetime: str
    fn_number: str
    kkt_number: str
    shift_number: int


class ShiftOpenedOut(_ShiftDocOut):
    status: Literal["opened"]


class ZReportOut(_ShiftDocOut):
    status: Literal["closed"]
    report: Literal["Z"]
    receipts: int
    documents: int
    totals: TotalsOut


class FnOut(OpenModel):
    fn_number: str
    validity_date: str | None
    ffd_version: str
    documents_count: int
    unsent_count: int
    first_unsent_fd_number: int | None
    first_unsent_at: str | None
    warnings: list[Literal["replace_soon", "resource_exhausted", "memory_nearly_full", "ofd_timeout"]]
    blocked: str | None = Field(description="Why the drive refuses documents now, or null.")
