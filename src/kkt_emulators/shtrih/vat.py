"""VAT rates on the wire: the row of the KKT's table 6 that an FF46h operation names, and the FFD rate code (1199)
each row stands for.

Rows 1..6 are the classic 20 %, 10 %, 0 %, no VAT, 20/120, 10/110; rows 11 and 12 are 22 % and 22/122 (shtrih-m/
fr_drv_ng issue #328). Rows 7..10 as 5 %, 7 %, 5/105, 7/107 are NOT CONFIRMED by a public source (docs/hardware.md).
Table 17 field 71: ``1`` (the default) turns row 1 (20 %) into 22 % from 2026-01-01; ``2`` prints the row sent.
"""

from __future__ import annotations

from datetime import date

#: FFD rate code (1199) of each table-6 row.
CODE_OF_ROW = {1: 1, 2: 2, 3: 5, 4: 6, 5: 3, 6: 4, 7: 7, 8: 8, 9: 9, 10: 10, 11: 11, 12: 12}
VAT_22_FROM = date(2026, 1, 1)


def vat_code(row: int, *, mode: int, today: date) -> int | None:
    """The 1199 code a row is recorded with on ``today`` under table 17 field 71 = ``mode``; None if no such row."""
    code = CODE_OF_ROW.get(row)
    if code is None:
        return None
    if mode == 1 and today >= VAT_22_FROM:
        return {1: 11, 3: 12}.get(code, code)
    return code
