"""The fiscal defaults' settings: ``KKT_CASHIER_NAME``, ``KKT_CASHIER_INN`` and ``KKT_TAXATION``, checked by the same
rules as the request's fields and handed to the drivers as one ``FiscalDefaults``."""

from __future__ import annotations

import pytest

from kkt_adapter.config import ConfigError, fiscal_defaults, load_settings
from kkt_adapter.domain.fiscal_defaults import DEFAULT_CASHIER_NAME
from kkt_adapter.domain.receipt import Cashier


def test_nothing_set_is_the_default_cashier_and_no_taxation() -> None:
    """Unset: the cashier ``Кассир``, no INN, the taxation system left to the KKT's registration."""
    defaults = fiscal_defaults(load_settings({}, env_file=None))
    assert (defaults.cashier, defaults.taxation) == (Cashier(DEFAULT_CASHIER_NAME), None)


@pytest.mark.parametrize(
    ("env", "cashier", "taxation"),
    [
        (
            {"KKT_CASHIER_NAME": " Петрова П.П. ", "KKT_CASHIER_INN": "500100732259"},
            Cashier("Петрова П.П.", "500100732259"),
            None,
        ),
        ({"KKT_CASHIER_NAME": "  "}, None, None),
        ({"KKT_TAXATION": "usn_income_expense"}, Cashier(DEFAULT_CASHIER_NAME), 4),
        ({"KKT_TAXATION": "patent"}, Cashier(DEFAULT_CASHIER_NAME), 32),
    ],
    ids=["name and INN", "blank name: none sent", "usn_income_expense", "patent"],
)
def test_the_settings_become_the_drivers_defaults(
    env: dict[str, str], cashier: Cashier | None, taxation: int | None
) -> None:
    """The name is stripped (blank: no cashier), the INN kept, the taxation system by the API's name as its code."""
    defaults = fiscal_defaults(load_settings(env, env_file=None))
    assert (defaults.cashier, defaults.taxation) == (cashier, taxation)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"KKT_CASHIER_INN": "500100732258"}, "KKT_CASHIER_INN"),
        ({"KKT_CASHIER_NAME": "x" * 65}, "KKT_CASHIER_NAME"),
        ({"KKT_CASHIER_NAME": "Кассир\t1"}, "KKT_CASHIER_NAME"),
        ({"KKT_TAXATION": "usn"}, "KKT_TAXATION"),
    ],
    ids=["wrong INN check digit", "65 characters", "a tab", "unknown taxation"],
)
def test_a_wrong_value_stops_the_start_naming_the_variable(env: dict[str, str], named: str) -> None:
    """A wrong cashier or taxation system is a ``ConfigError`` naming its variable."""
    with pytest.raises(ConfigError, match=named):
        load_settings(env, env_file=None)
