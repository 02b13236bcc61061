"""What goes on a fiscal document when the request leaves it out: the cashier (tags 1021, 1203) and the taxation
system (1055). Every driver applies the same rule, so a request prints the same way on any KKT.

- The cashier: the request's, else the configured one (``KKT_CASHIER_NAME``, ``KKT_CASHIER_INN``). A shift report has
  a cashier too (FFD 1.2 puts 1021 on the shift opening and closing reports).
- The taxation system: the request's, else the configured one (``KKT_TAXATION``), else the one system the KKT was
  registered with. A KKT registered with several needs each receipt to name one: without it the request is refused
  (:class:`~kkt_adapter.domain.errors.FieldRequired`, naming ``taxation`` and the registered choices).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Final, overload

from kkt_adapter.domain.correction import Correction
from kkt_adapter.domain.errors import FieldRequired
from kkt_adapter.domain.ffd_codes import TAXATION_CODES
from kkt_adapter.domain.receipt import Cashier, Receipt

#: The cashier named on documents whose request names none, unless ``KKT_CASHIER_NAME`` says otherwise.
DEFAULT_CASHIER_NAME: Final = "Кассир"
#: The configured cashier when nothing is configured.
DEFAULT_CASHIER: Final = Cashier(DEFAULT_CASHIER_NAME)
#: The code of the refusal when a KKT with several taxation systems gets a receipt that names none.
TAXATION_REQUIRED: Final = "taxation_required"


def registered_names(mask: int) -> tuple[str, ...]:
    """The API's names of the taxation systems in a tag 1055 bitmask, in the API's order."""
    return tuple(name for name, bit in TAXATION_CODES.items() if mask & bit)


@dataclass(frozen=True)
class FiscalDefaults:
    """The configured cashier (``None``: none is sent, the KKT uses its own) and taxation system (tag 1055 code)."""

    cashier: Cashier | None = DEFAULT_CASHIER
    taxation: int | None = None

    def cashier_for(self, given: Cashier | None) -> Cashier | None:
        """The cashier of a document: the request's, else the configured one."""
        return given if given is not None else self.cashier

    def taxation_for(self, given: int | None, registered: Callable[[], int]) -> int:
        """The taxation system of a receipt: ``given``, else the configured one, else the only one in the KKT's
        registration (``registered`` gives its tag 1055 bitmask, asked only when needed)."""
        if given is not None:
            return given
        if self.taxation is not None:
            return self.taxation
        mask = registered()
        names = registered_names(mask)
        if len(names) == 1:
            return TAXATION_CODES[names[0]]
        allowed = names or tuple(TAXATION_CODES)
        why = f"several ({', '.join(names)})" if names else f"none the adapter knows (tag 1055 = {mask})"
        raise FieldRequired(
            TAXATION_REQUIRED,
            f"taxation: the KKT is registered with {why} taxation systems; name one in the request's `taxation` "
            f"(or set KKT_TAXATION); allowed: {', '.join(allowed)}",
            field="taxation",
            allowed=allowed,
        )

    @overload
    def complete(self, request: Receipt, registered: Callable[[], int]) -> Receipt: ...
    @overload
    def complete(self, request: Correction, registered: Callable[[], int]) -> Correction: ...
    def complete(self, request: Receipt | Correction, registered: Callable[[], int]) -> Receipt | Correction:
        """The receipt or correction as printed: its cashier and taxation system filled in by these rules."""
        receipt = request.receipt if isinstance(request, Correction) else request
        filled = replace(
            receipt,
            cashier=self.cashier_for(receipt.cashier),
            taxation=self.taxation_for(receipt.taxation, registered),
        )
        return replace(request, receipt=filled) if isinstance(request, Correction) else filled


#: The defaults when nothing is configured: the default cashier, no taxation system.
DEFAULTS: Final = FiscalDefaults()
