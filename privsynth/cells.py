"""Canonical cell text: every input cell becomes a string (or missing) on its own.

Privacy needs parsing that is *row-independent*: what one cell turns into must not
depend on the other rows, or the discovered domain (category labels, kinds) would
depend on all records together. pandas breaks this: one missing value turns an
integer column into floats, so every label changes from ``"1"`` to ``"1.0"``. CSV
input is read as text cell by cell; DataFrames and Parquet columns are converted
here, value by value, with one rule per Python type:

* missing (``None``, NaN, ``pd.NA``, NaT) → missing;
* integers and integral floats → decimal digits (``1``, ``1.0`` and ``Decimal("1.00")``
  all give ``"1"``); other floats → shortest round-trip text (``"2.5"``);
* booleans → ``"True"``/``"False"``; dates and times → ISO 8601; bytes → UTF-8 text;
* strings stay as they are.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import numbers
import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

#: floats at or above this magnitude keep their exponent form (digits would be noise)
_INTEGRAL_LIMIT = 1e16


def canonical_cell(value: Any) -> str | None:
    """The text of one cell, or ``None`` when it is missing."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool | np.bool_):
        return "True" if value else "False"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real | decimal.Decimal):
        return _number_text(value)
    if isinstance(value, dt.date | dt.time | pd.Timestamp):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _number_text(value: numbers.Real | decimal.Decimal) -> str | None:
    if isinstance(value, decimal.Decimal):
        if value.is_nan():
            return None
        if value.is_finite() and value == value.to_integral_value():
            return str(int(value))
        return str(value)
    number = float(value)
    if math.isnan(number):
        return None
    if math.isfinite(number) and number.is_integer() and abs(number) < _INTEGRAL_LIMIT:
        return str(int(number))
    return str(value)


def canonical_column(values: Iterable[Any]) -> pd.Series:
    """A column of canonical cell texts (object dtype, ``None`` for missing)."""
    return pd.Series([canonical_cell(v) for v in values], dtype=object)


def canonical_frame(frame: pd.DataFrame, missing_values: Sequence[str] = ("",)) -> pd.DataFrame:
    """Every cell of ``frame`` as canonical text; ``missing_values`` become missing.

    Column names become strings; the index is reset (row positions carry no meaning)."""
    columns = {
        str(name): canonical_column(frame.iloc[:, position].tolist())
        for position, name in enumerate(frame.columns)
    }
    out = pd.DataFrame(columns, index=pd.RangeIndex(len(frame)))
    return mark_missing(out, missing_values)


def mark_missing(frame: pd.DataFrame, missing_values: Sequence[str]) -> pd.DataFrame:
    """``frame`` with every cell equal to one of ``missing_values`` set to missing."""
    markers = list(missing_values)
    if not markers or frame.empty:
        return frame
    return frame.mask(frame.isin(markers), None)


#: what counts as a number in a cell: decimal digits with an optional sign, point and
#: exponent, or inf / nan (as pandas reads them); nothing else ("1_000", "0x1f", "½")
_NUMBER_TEXT = re.compile(
    r"\s*[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan)\s*", re.IGNORECASE
)


def to_numbers(values: pd.Series) -> pd.Series:
    """Floats from cells, one cell at a time; NaN where a cell is no number.

    Replaces ``pd.to_numeric(..., errors="coerce")``, which crashes the interpreter
    (pandas 2.3, a segmentation fault) on texts such as ``"3e3365979074702"``: a crash
    that depends on one cell's content would be both a failure and an oracle. Each
    distinct text is parsed once by Python's ``float`` (huge exponents give inf or 0)."""
    if pd.api.types.is_bool_dtype(values):
        return values.astype("float64")
    if pd.api.types.is_numeric_dtype(values):
        return values.astype("float64")
    text = values.astype("string")
    parsed = {cell: _number(cell) for cell in text.dropna().unique()}
    return pd.Series(
        text.map(parsed).to_numpy(dtype=np.float64, na_value=np.nan), index=values.index
    )


def _number(cell: str) -> float:
    return float(cell) if _NUMBER_TEXT.fullmatch(cell) else math.nan
