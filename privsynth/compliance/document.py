"""Reading an audit document defensively: it is JSON-shaped data (possibly from a
file), so every lookup tolerates a missing key or a value of the wrong type."""

from __future__ import annotations

import math
from typing import Any


def mapping(value: Any) -> dict[str, Any]:
    """``value`` if it is a dict, else an empty one."""
    return value if isinstance(value, dict) else {}


def items(value: Any) -> list[Any]:
    """``value`` if it is a list, else an empty one."""
    return value if isinstance(value, list) else []


def at(document: dict[str, Any], *keys: str) -> Any:
    """The value under nested ``keys``; None if any level is missing."""
    node: Any = document
    for key in keys:
        node = mapping(node).get(key)
    return node


def finite_number(value: Any) -> float | None:
    """``value`` as a float if it is a finite number (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None
