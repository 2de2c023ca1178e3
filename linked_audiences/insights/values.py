"""Warehouse values as JSON has them, for every insight's ``to_dict`` and the exports."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any


def plain(value: Any) -> Any:
    """Dates and times as ISO text; a DECIMAL as an integer when it is whole, else a float
    (warehouses hand back NUMERIC sums as Decimal); anything else as it is."""
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value
