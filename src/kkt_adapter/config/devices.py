"""One KKT of ``KKT_DEVICES``: its name, its driver and that driver's own settings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints, model_validator


class DeviceConfig(BaseModel):
    """One KKT of ``KKT_DEVICES``: its name, its driver and that driver's settings (unset ones come from the
    single-device settings: ``KKT_EMULATOR_*`` for an emulated device, ``KKT_ATOL_*`` for an ATOL one)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
    driver: Literal["emulated", "mock", "atol", "shtrih"]
    # The emulated KKT.
    state_dir: Path | None = None
    print_delay_ms: int | None = Field(default=None, ge=0, le=60_000)
    fn_life_months: int | None = Field(default=None, ge=1, le=36)
    # An ATOL KKT through ATOL Web Requests.
    url: str | None = None
    device_id: str | None = None
    user: str | None = None
    password: SecretStr | None = None
    poll_interval: float | None = Field(default=None, gt=0, le=10)
    job_timeout: float | None = Field(default=None, gt=0, le=3_600)
    dialect: Literal["auto", "v2", "legacy"] | None = None
    # A Shtrih-M KKT over its native protocol (url: tcp://host:port or serial:///dev/...; password as for ATOL).
    protocol: Literal["auto", "v1", "v2"] | None = None

    @property
    def kind(self) -> Literal["emulated", "atol", "shtrih"]:
        """``emulated``, ``atol`` or ``shtrih`` (``mock`` is the emulated KKT's old name)."""
        return "emulated" if self.driver in ("emulated", "mock") else self.driver  # type: ignore[return-value]

    @model_validator(mode="after")
    def _fields_of_its_driver(self) -> DeviceConfig:
        takes = FIELDS_OF[self.kind]
        every = {name for names in FIELDS_OF.values() for name in names}
        wrong = sorted(name for name in every - set(takes) if getattr(self, name) is not None)
        if wrong:
            raise ValueError(f"{', '.join(wrong)} do not apply to driver {self.driver!r} (it takes {', '.join(takes)})")
        return self


#: The settings each kind of device takes in its ``KKT_DEVICES`` entry.
FIELDS_OF: dict[str, tuple[str, ...]] = {
    "emulated": ("state_dir", "print_delay_ms", "fn_life_months"),
    "atol": ("url", "device_id", "user", "password", "poll_interval", "job_timeout", "dialect"),
    "shtrih": ("url", "password", "protocol"),
}
