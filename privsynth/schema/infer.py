"""Draft a schema from the data for a human to review.

Everything this module decides from the data's *values* is marked ``data_derived``:
the column kind, ``nullable``, ``integer``, ``granularity``, bounds, category lists and
a suggested ``code_system`` (ICD-9-CM, ICD-10-CM: named from the values' pattern, with
no value listed). Headers are hints: a column named like an identifier is drafted as
one only when its values agree (many distinct values, or identifier-shaped ones); a
``*_id`` column of a few codes, or numbers that are codes, is categorical. A drafted
schema is *not* a public declaration until someone replaces those values with public
knowledge. What is not marked does not depend on the values: the roles (headers are
metadata), and the ``other_label`` every drafted categorical column gets. Categories
held by fewer than ``min_count`` records are left out of the draft so that blindly
accepting it does not publish rare values.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from privsynth.defaults import DEFAULT_MIN_COUNT
from privsynth.domain.code_systems import suggest_code_system
from privsynth.domain.codecs import parse_datetimes, parse_numbers
from privsynth.domain.discovery import (
    CODE_MAX_SHARE,
    CODE_MAX_VALUES,
    IDENTIFIER_LIKE,
    is_code_header,
)
from privsynth.schema.model import (
    CategoricalSpec,
    ColumnSpec,
    DatetimeSpec,
    IdentifierSpec,
    NumericSpec,
    Schema,
    TextSpec,
)

#: column names that suggest a direct identifier whatever the values look like
IDENTIFIER_NAME = re.compile(
    r"(^|[_\W])(id|uuid|guid|ssn|mrn|email|e-mail|phone|name|address|account)([_\W]|$)",
    re.IGNORECASE,
)
#: where a drafted categorical column puts values outside its categories; every drafted
#: categorical column gets it, so its presence says nothing about the data
OTHER_LABEL = "<other>"


def infer_schema(frame: pd.DataFrame, min_count: int = DEFAULT_MIN_COUNT) -> Schema:
    """A draft schema; every value taken from ``frame`` is marked data-derived. Each
    column's privacy role comes from its header (metadata, not data); whether a column
    named like an identifier is one is decided by its values (a ``*_id`` column of a few
    codes is categorical)."""
    from privsynth.pii.columns import classify_header

    columns = {}
    for name in frame:
        spec = infer_column(str(name), frame[name], min_count)
        found = classify_header(str(name))
        if found is not None and found.role == "direct_identifier":
            if isinstance(spec, IdentifierSpec):
                spec = spec.with_fields(role="direct_identifier")
        elif found is not None:
            spec = spec.with_fields(role=found.role)
        columns[str(name)] = spec
    return Schema(columns)


def infer_column(name: str, values: pd.Series, min_count: int) -> ColumnSpec:
    """The most plausible spec for one column (see module docstring)."""
    present = values.dropna()
    nullable = bool(values.isna().any())
    # the kind and ``nullable`` are decided from the values from here on
    marks = frozenset({"kind", "nullable"})
    if present.empty:
        derived = marks | {"categories", "other_label"}
        return CategoricalSpec(other_label=OTHER_LABEL, nullable=nullable, data_derived=derived)
    text = present.astype(str)
    if _identifier_shaped(text) or (IDENTIFIER_NAME.search(name) and _many_values(text)):
        return IdentifierSpec(nullable=nullable, data_derived=marks)
    system = suggest_code_system(text)
    if system is not None:  # a public code list: its codes are the domain, none listed here
        derived = marks | {"code_system"}
        return CategoricalSpec(code_system=system, nullable=nullable, data_derived=derived)
    numbers = pd.Series(parse_numbers(present), index=present.index)
    if numbers.notna().all() and not _numbers_are_codes(name, text):
        return _numeric(numbers, nullable, marks)
    # identifiers and text are not modelled, so ``nullable`` has no effect on them; it is
    # still the value read (and marked), as for every other kind decided from the values
    if text.str.split().str.len().mean() >= 5 and _many_values(text):
        return TextSpec(nullable=nullable, data_derived=marks)
    dates = parse_datetimes(text, None)
    if dates.notna().mean() >= 0.99 and numbers.isna().any():
        return _datetime(dates.dropna(), nullable, marks)
    if text.nunique() > 0.9 * len(text) and len(text) > 20:
        return IdentifierSpec(nullable=nullable, data_derived=marks)
    return _categorical(text, min_count, nullable, marks)


def _identifier_shaped(text: pd.Series) -> bool:
    """Most values look like e-mail addresses, SSNs, telephones, URLs or IPs."""
    return bool(text.str.strip().str.fullmatch(IDENTIFIER_LIKE).mean() > 0.5)


def _many_values(text: pd.Series) -> bool:
    """More distinct values than a code or label list has (as discovery decides)."""
    return bool(text.nunique() > min(CODE_MAX_VALUES, CODE_MAX_SHARE * len(text)))


def _numbers_are_codes(name: str, text: pd.Series) -> bool:
    """Numbers that are labels: a code-like header, or leading zeros ("02134")."""
    return is_code_header(name) or bool(text.str.fullmatch(r"0\d+").any())


def _numeric(numbers: pd.Series, nullable: bool, marks: frozenset[str]) -> NumericSpec:
    finite = numbers[np.isfinite(numbers)]  # "inf" parses, but bounds it cannot be
    if finite.empty:
        finite = pd.Series([0.0])
    integer = bool((finite == np.round(finite)).all())
    low, high = float(finite.min()), float(finite.max())
    if low == high:
        high = low + 1.0
    return NumericSpec(
        min=int(low) if integer else low,
        max=int(high) if integer else high,
        integer=integer,
        nullable=nullable,
        data_derived=marks | {"min", "max", "integer"},
    )


def _datetime(dates: pd.Series, nullable: bool, marks: frozenset[str]) -> DatetimeSpec:
    has_time = bool((dates.dt.normalize() != dates).any())
    return DatetimeSpec(
        min=dates.min().isoformat(),
        max=dates.max().isoformat(),
        granularity="second" if has_time else "day",
        nullable=nullable,
        data_derived=marks | {"min", "max", "granularity"},
    )


def _categorical(
    text: pd.Series, min_count: int, nullable: bool, marks: frozenset[str]
) -> CategoricalSpec:
    """Frequent values become the categories; ``categories`` is marked even when none
    is frequent (its absence then says that every value is rare)."""
    counts = text.value_counts()
    frequent = tuple(sorted(str(v) for v in counts[counts >= min_count].index))
    return CategoricalSpec(
        categories=frequent or None,
        other_label=OTHER_LABEL,
        nullable=nullable,
        # the label always comes with the kind, but the kind itself was read from the data
        data_derived=marks | {"categories", "other_label"},
    )
