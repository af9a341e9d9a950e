"""Constraints: rules every synthetic record must satisfy, declared in the schema.

A constraint is public (the user writes it, like a category list), so honouring it is
post-processing of the generator's DP output: records that break one are drawn again,
repaired or dropped when sampling (:mod:`privsynth.synthesis.drawing`), never by
looking at the real data. This module says what a constraint is, reads one from its
YAML form, checks it against the schema's columns and kinds, finds the rows of a
synthetic frame that break it, and repairs them where a repair exists.

Kinds (YAML, under the schema's top-level ``constraints:`` list)::

    - compare: "discharge_date >= admission_date"
    - range: {column: los, min: 0, max: 365}
    - if: "payer == 'Medicare' and state in ['NY', 'NJ']"
      then: "age >= 18"
    - fixed_combinations: {columns: [state, county], allowed: [[NY, Kings], [NY, Queens]]}

A comparison is ``operand op operand`` with ``op`` one of ``>= > <= < == !=``, or
``column in [c1, c2]`` / ``column not in [...]``; an operand is a column name (written
in backquotes when it is not a plain word) or a constant: a number, or a quoted text
(``'Medicare'``, ``'2020-01-01'`` for a datetime column). Numeric and datetime columns
compare as numbers and times; categorical columns compare by value with ``==``, ``!=``,
``in``, and by their declared category order with ``<``, ``>``, ``<=``, ``>=``.

A row whose value is missing in a column a comparison needs is not a violation of it
(nor is a category order comparison with a value outside the list); an ``if`` with a
missing value does not apply.
"""

from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

from privsynth.errors import SchemaError
from privsynth.schema.model import (
    AutoSpec,
    CategoricalSpec,
    ColumnSpec,
    DatetimeSpec,
    NumericSpec,
)

if TYPE_CHECKING:
    from privsynth.schema.model import Schema

Mask: TypeAlias = npt.NDArray[np.bool_]
Floats: TypeAlias = npt.NDArray[np.float64]
Operator = Literal[">=", ">", "<=", "<", "==", "!=", "in", "not in"]
ORDERING: Final = (">=", ">", "<=", "<")
_COMPARE: Final[Mapping[str, Callable[[Any, Any], Any]]] = {
    ">=": np.greater_equal, ">": np.greater, "<=": np.less_equal, "<": np.less,
    "==": np.equal, "!=": np.not_equal,
}  # fmt: skip
_KEYWORDS: Final = frozenset({"in", "not", "and", "or"})
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_TOKEN = re.compile(
    r"""\s*(?:
      (?P<op>>=|<=|==|!=|>|<)
    | (?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)
    | '(?P<squote>[^']*)'
    | "(?P<dquote>[^"]*)"
    | `(?P<name>[^`]+)`
    | (?P<punct>[\[\],])
    | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
    )""",
    re.VERBOSE,
)
_SYNTAX_HINT = "write e.g. \"age >= 18\", \"payer == 'Medicare'\" or \"state in ['NY', 'NJ']\""
_EPOCH: Final = pd.Timestamp(0, tz="UTC")


# operands and comparisons ---------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A column named in a comparison."""

    name: str

    def render(self) -> str:
        plain = _WORD.fullmatch(self.name) and self.name not in _KEYWORDS
        return self.name if plain else f"`{self.name}`"


@dataclass(frozen=True)
class Constant:
    """A constant: a number (``number`` set) or a quoted text."""

    text: str
    number: float | None = None

    def render(self) -> str:
        if self.number is not None:
            return self.text
        return f'"{self.text}"' if "'" in self.text else f"'{self.text}'"


Operand: TypeAlias = Column | Constant


@dataclass(frozen=True)
class Comparison:
    """``left op right``; with ``in`` / ``not in``, ``right`` is a list of constants."""

    left: Operand
    op: Operator
    right: Operand | tuple[Constant, ...]

    def render(self) -> str:
        if isinstance(self.right, tuple):
            right = "[" + ", ".join(c.render() for c in self.right) + "]"
        else:
            right = self.right.render()
        return f"{self.left.render()} {self.op} {right}"

    def columns(self) -> tuple[str, ...]:
        sides = (self.left, self.right)
        return tuple(s.name for s in sides if isinstance(s, Column))


# the constraint kinds -------------------------------------------------------------------


class Constraint(ABC):
    """A rule every synthetic record must satisfy."""

    @property
    @abstractmethod
    def text(self) -> str:
        """The rule in one line, for reports and messages (the user's own schema text)."""

    @abstractmethod
    def columns(self) -> tuple[str, ...]:
        """The columns the rule reads."""

    @abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """The YAML/JSON form, read back by :func:`parse_constraint`."""

    @abstractmethod
    def check(self, schema: Schema, released: bool) -> None:
        """Refuse (:class:`SchemaError`) a rule the columns' kinds cannot satisfy."""

    @abstractmethod
    def violations(self, frame: pd.DataFrame, schema: Schema) -> Mask:
        """Rows of ``frame`` that break the rule."""

    @property
    def repairable(self) -> bool:
        """Whether :meth:`repair` can change a row that breaks the rule."""
        return False

    def repair(self, frame: pd.DataFrame, schema: Schema, rows: Mask) -> Mask:
        """Change the ``rows`` of ``frame`` (in place) that break the rule so that they
        no longer do, where a repair exists; the rows changed."""
        return np.zeros(len(frame), dtype=bool)


@dataclass(frozen=True)
class Compare(Constraint):
    """``{compare: "discharge_date >= admission_date"}``."""

    comparison: Comparison

    @property
    def text(self) -> str:
        return self.comparison.render()

    def columns(self) -> tuple[str, ...]:
        return self.comparison.columns()

    def to_dict(self) -> dict[str, Any]:
        return {"compare": self.text}

    def check(self, schema: Schema, released: bool) -> None:
        _check_comparison(self.comparison, schema, released, self.text)

    def violations(self, frame: pd.DataFrame, schema: Schema) -> Mask:
        holds, known = evaluate(self.comparison, frame, schema)
        return known & ~holds


@dataclass(frozen=True)
class Range(Constraint):
    """``{range: {column: los, min: 0, max: 365}}`` on a numeric column; repaired by
    clipping into the range."""

    column: str
    min: float | None = None
    max: float | None = None

    @property
    def text(self) -> str:
        name = Column(self.column).render()
        if self.min is not None and self.max is not None:
            return f"{self.min:g} <= {name} <= {self.max:g}"
        return f"{name} >= {self.min:g}" if self.min is not None else f"{name} <= {self.max:g}"

    def columns(self) -> tuple[str, ...]:
        return (self.column,)

    def to_dict(self) -> dict[str, Any]:
        bounds = {k: v for k, v in (("min", self.min), ("max", self.max)) if v is not None}
        return {"range": {"column": self.column, **bounds}}

    def check(self, schema: Schema, released: bool) -> None:
        if not isinstance(schema[self.column], NumericSpec | AutoSpec):
            raise SchemaError(
                f"constraint {self.text!r}: `range` needs a numeric column",
                hint="use `compare` for datetime and categorical columns",
            )

    def violations(self, frame: pd.DataFrame, schema: Schema) -> Mask:
        values = _numbers(frame, schema, self.column)
        low = -math.inf if self.min is None else self.min
        high = math.inf if self.max is None else self.max
        with np.errstate(invalid="ignore"):
            return np.asarray((values < low) | (values > high), dtype=bool)

    @property
    def repairable(self) -> bool:
        return True

    def repair(self, frame: pd.DataFrame, schema: Schema, rows: Mask) -> Mask:
        series = frame[self.column]
        integer = pd.api.types.is_integer_dtype(series.dtype)
        low = -math.inf if self.min is None else self.min
        high = math.inf if self.max is None else self.max
        if integer:  # whole numbers inside the range
            low, high = _whole(low, math.ceil), _whole(high, math.floor)
        values = _numbers(frame, schema, self.column)
        fixed = np.clip(values, low, high)
        changed = rows & ~np.isnan(values) & (fixed != values)
        new = pd.Series(fixed, index=frame.index)
        if integer:
            new = new.round().astype(series.dtype)
        frame[self.column] = series.where(~changed, new)
        return np.asarray(changed, dtype=bool)


def _whole(bound: float, rounding: Callable[[float], int]) -> float:
    return bound if math.isinf(bound) else float(rounding(bound))


@dataclass(frozen=True)
class Conditional(Constraint):
    """``{if: "payer == 'Medicare'", then: "age >= 18"}``: the ``if`` comparisons (joined
    by ``and``) each compare a column with a constant."""

    conditions: tuple[Comparison, ...]
    then: Comparison

    @property
    def text(self) -> str:
        return f"if {self.condition_text} then {self.then.render()}"

    @property
    def condition_text(self) -> str:
        return " and ".join(c.render() for c in self.conditions)

    def columns(self) -> tuple[str, ...]:
        found = [n for c in (*self.conditions, self.then) for n in c.columns()]
        return tuple(dict.fromkeys(found))

    def to_dict(self) -> dict[str, Any]:
        return {"if": self.condition_text, "then": self.then.render()}

    def check(self, schema: Schema, released: bool) -> None:
        for condition in (*self.conditions, self.then):
            _check_comparison(condition, schema, released, self.text)

    def violations(self, frame: pd.DataFrame, schema: Schema) -> Mask:
        applies = np.ones(len(frame), dtype=bool)
        for condition in self.conditions:
            holds, known = evaluate(condition, frame, schema)
            applies &= holds & known
        holds, known = evaluate(self.then, frame, schema)
        return applies & known & ~holds


@dataclass(frozen=True)
class FixedCombinations(Constraint):
    """``{fixed_combinations: {columns: [state, county], allowed: [[NY, Kings], ...]}}``:
    the categorical columns together only take the listed combinations."""

    names: tuple[str, ...]
    allowed: tuple[tuple[str, ...], ...]

    @property
    def text(self) -> str:
        names = ", ".join(Column(n).render() for n in self.names)
        return f"({names}) in {len(self.allowed)} allowed combinations"

    def columns(self) -> tuple[str, ...]:
        return self.names

    def to_dict(self) -> dict[str, Any]:
        allowed = [list(combination) for combination in self.allowed]
        return {"fixed_combinations": {"columns": list(self.names), "allowed": allowed}}

    def check(self, schema: Schema, released: bool) -> None:
        for position, name in enumerate(self.names):
            spec = schema[name]
            if not isinstance(spec, CategoricalSpec | AutoSpec):
                raise SchemaError(
                    f"constraint {self.text!r}: column {name!r} is {spec.kind}, not categorical",
                    hint="fixed combinations apply to categorical columns",
                )
            for combination in self.allowed:
                _check_category(spec, name, combination[position], released, self.text)

    def violations(self, frame: pd.DataFrame, schema: Schema) -> Mask:
        part = frame[list(self.names)]
        known = np.asarray(part.notna().all(axis=1).to_numpy(), dtype=bool)
        allowed = set(self.allowed)
        rows = part.itertuples(index=False, name=None)
        inside = np.fromiter((tuple(map(str, r)) in allowed for r in rows), bool, len(part))
        return np.asarray(known & ~inside, dtype=bool)


# evaluation -----------------------------------------------------------------------------


def violations(constraints: Sequence[Constraint], frame: pd.DataFrame, schema: Schema) -> Mask:
    """A (constraints × rows) matrix: which row breaks which constraint."""
    found = np.zeros((len(constraints), len(frame)), dtype=bool)
    for i, constraint in enumerate(constraints):
        found[i] = constraint.violations(frame, schema)
    return found


def evaluate(comparison: Comparison, frame: pd.DataFrame, schema: Schema) -> tuple[Mask, Mask]:
    """Per row: whether ``comparison`` holds, and whether it is known (no missing value)."""
    name = comparison.columns()[0]
    spec = schema[name]
    by_label = isinstance(spec, CategoricalSpec | AutoSpec) and comparison.op not in ORDERING
    vector = _labels if by_label else _numbers
    left = _side(comparison.left, spec, frame, schema, vector)
    if isinstance(comparison.right, tuple):
        choices = [_side(c, spec, frame, schema, vector)[0] for c in comparison.right]
        holds = np.isin(left, np.asarray(choices, dtype=left.dtype))
        known = ~pd.isna(left)
        return (~holds if comparison.op == "not in" else holds), np.asarray(known, dtype=bool)
    right = _side(comparison.right, spec, frame, schema, vector)
    left, right = np.broadcast_arrays(left, right)
    known = ~(pd.isna(left) | pd.isna(right))
    with np.errstate(invalid="ignore"):
        holds = np.asarray(_COMPARE[comparison.op](left, right), dtype=bool)
    return holds & known, np.asarray(known, dtype=bool)


Vector = Callable[[pd.DataFrame, "Schema", str], npt.NDArray[Any]]


def _side(
    operand: Operand, spec: ColumnSpec, frame: pd.DataFrame, schema: Schema, vector: Vector
) -> npt.NDArray[Any]:
    """A column's values, or a constant read the way the compared column is read."""
    if isinstance(operand, Column):
        return vector(frame, schema, operand.name)
    if vector is _labels:
        return np.asarray([operand.text], dtype=object)
    return np.asarray([_constant_number(spec, operand)], dtype=np.float64)


def _labels(frame: pd.DataFrame, schema: Schema, name: str) -> npt.NDArray[Any]:
    values = frame[name].astype(object).to_numpy()
    missing = pd.isna(values)
    values[~missing] = [str(v) for v in values[~missing]]
    values[missing] = None
    return values


def _numbers(frame: pd.DataFrame, schema: Schema, name: str) -> Floats:
    """Numbers (NaN when missing): numeric values, datetimes in seconds since 1970 (UTC),
    categories by their position in the column's list."""
    spec, series = schema[name], frame[name]
    if isinstance(spec, DatetimeSpec):
        stamps = pd.to_datetime(series, format=spec.format or "ISO8601", errors="coerce", utc=True)
        return np.asarray(((stamps - _EPOCH) / pd.Timedelta(seconds=1)).to_numpy(), dtype=float)
    if isinstance(spec, CategoricalSpec):
        positions = {c: float(i) for i, c in enumerate(spec.categories or ())}
        return np.asarray(series.map(positions).to_numpy(dtype=float, na_value=np.nan))
    numbers = pd.to_numeric(series, errors="coerce")
    return np.asarray(numbers.to_numpy(dtype=float, na_value=np.nan), dtype=np.float64)


def _constant_number(spec: ColumnSpec, constant: Constant) -> float:
    if isinstance(spec, DatetimeSpec):
        return float((_timestamp(constant.text) - _EPOCH) / pd.Timedelta(seconds=1))
    if isinstance(spec, CategoricalSpec):
        categories = list(spec.categories or ())
        return float(categories.index(constant.text)) if constant.text in categories else math.nan
    return math.nan if constant.number is None else constant.number


def _timestamp(text: str) -> pd.Timestamp:
    stamp = pd.Timestamp(text)
    if pd.isna(stamp):  # e.g. 'NaT'
        raise ValueError(text)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


# checks against the schema --------------------------------------------------------------


def check_constraints(
    constraints: Sequence[Constraint], schema: Schema, *, released: bool = False
) -> None:
    """Refuse constraints on unknown or unmodelled columns, or that the columns' kinds
    cannot satisfy; ``released``: the completed schema of a fitted model (categories
    that DP discovery did not release are not typos)."""
    check_columns(constraints, schema)
    for constraint in constraints:
        constraint.check(schema, released)


def check_columns(constraints: Sequence[Constraint], schema: Schema) -> None:
    """Every constraint is one and names columns the generator models."""
    for constraint in constraints:
        if not isinstance(constraint, Constraint):
            raise SchemaError(
                f"schema constraints must be Constraint objects, got {type(constraint).__name__}",
                hint="build them with privsynth.schema.constraints.parse_constraint",
            )
        for name in constraint.columns():
            _check_column(constraint, name, schema)


def _check_column(constraint: Constraint, name: str, schema: Schema) -> None:
    if name not in schema.columns or name == schema.privacy_unit:
        what = "the privacy unit, never output" if name in schema.columns else "not in the schema"
        raise SchemaError(
            f"constraint {constraint.text!r} names column {name!r}, {what}",
            hint="name a column declared under `columns:`",
        )
    if not schema[name].modelled:
        raise SchemaError(
            f"constraint {constraint.text!r} names {schema[name].kind} column {name!r}",
            hint="constraints apply to categorical, numeric and datetime columns",
        )


def _check_comparison(comparison: Comparison, schema: Schema, released: bool, text: str) -> None:
    sides = [comparison.left] + (
        list(comparison.right) if isinstance(comparison.right, tuple) else [comparison.right]
    )
    columns = [schema[s.name] for s in sides if isinstance(s, Column)]
    ordering = comparison.op in ORDERING
    if len(columns) == 2:
        _check_pair(comparison.columns(), columns[0], columns[1], ordering, text)
        return
    name, spec = comparison.columns()[0], columns[0]
    if ordering:
        _check_ordered(spec, name, text)
    for side in sides:
        if isinstance(side, Constant):
            _check_constant(spec, name, side, released, text)


def _check_pair(
    names: tuple[str, ...], first: ColumnSpec, second: ColumnSpec, ordering: bool, text: str
) -> None:
    if "auto" in (first.kind, second.kind):
        return
    if first.kind != second.kind:
        raise SchemaError(
            f"constraint {text!r} compares {first.kind} column {names[0]!r} with "
            f"{second.kind} column {names[1]!r}",
            hint="compare columns of the same kind",
        )
    if ordering and isinstance(first, CategoricalSpec) and isinstance(second, CategoricalSpec):
        _check_ordered(first, names[0], text)
        if first.categories != second.categories:
            raise SchemaError(
                f"constraint {text!r} orders columns {names[0]!r} and {names[1]!r}, "
                "whose category lists differ",
                hint="order categorical columns only when they list the same categories",
            )


def _check_ordered(spec: ColumnSpec, name: str, text: str) -> None:
    if isinstance(spec, CategoricalSpec) and not spec.categories:
        raise SchemaError(
            f"constraint {text!r} orders categorical column {name!r}, which lists no categories",
            hint="declare its categories in order, or compare with == / != / in",
        )


def _check_constant(
    spec: ColumnSpec, name: str, constant: Constant, released: bool, text: str
) -> None:
    if isinstance(spec, NumericSpec) and constant.number is None:
        raise SchemaError(
            f"constraint {text!r} compares numeric column {name!r} with a text",
            hint="compare it with a number (no quotes)",
        )
    if isinstance(spec, DatetimeSpec):
        _check_date(name, constant, text)
    if isinstance(spec, CategoricalSpec):
        _check_category(spec, name, constant.text, released, text)


def _check_date(name: str, constant: Constant, text: str) -> None:
    try:
        ok = constant.number is None and _timestamp(constant.text) is not None
    except (ValueError, TypeError):
        ok = False
    if not ok:
        raise SchemaError(
            f"constraint {text!r} compares datetime column {name!r} with "
            f"{constant.render()}, which is not a quoted date",
            hint="write an ISO 8601 date in quotes, e.g. '2020-01-31'",
        )


def _check_category(spec: ColumnSpec, name: str, value: str, released: bool, text: str) -> None:
    """A value compared with a declared category list must be in it (a typo otherwise);
    a released list may lack categories that DP discovery did not release."""
    if not isinstance(spec, CategoricalSpec) or spec.categories is None or released:
        return
    if value not in spec.categories and value != spec.other_label:
        raise SchemaError(
            f"constraint {text!r}: {value!r} is not a category of column {name!r}",
            hint="use a value listed in the column's `categories`",
        )


# parsing --------------------------------------------------------------------------------


def parse_constraints(raw: Any, source: str = "schema") -> tuple[Constraint, ...]:
    """The schema's ``constraints:`` list (absent: none)."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise SchemaError(
            f"{source}: `constraints` must be a list", hint="write one `- ...` entry per rule"
        )
    return tuple(
        parse_constraint(entry, f"{source}: constraints[{i}]") for i, entry in enumerate(raw)
    )


def parse_constraint(raw: Any, where: str = "constraint") -> Constraint:
    """One constraint from its YAML/JSON form (see the module docstring)."""
    if not isinstance(raw, Mapping):
        raise SchemaError(f"{where} must be a mapping", hint=_KINDS_HINT)
    keys = set(raw)
    if keys == {"if", "then"}:
        return _conditional(raw["if"], raw["then"], where)
    if len(keys) != 1 or not keys <= set(_PARSERS):
        raise SchemaError(
            f"{where} has keys {', '.join(sorted(map(str, keys))) or 'none'}", hint=_KINDS_HINT
        )
    (kind,) = keys
    return _PARSERS[kind](raw[kind], where)


_KINDS_HINT = (
    "write one of: compare: ..., range: {...}, if: ... with then: ..., fixed_combinations: {...}"
)


def _compare(raw: Any, where: str) -> Constraint:
    return Compare(_comparison(_text(raw, where, "compare"), where))


def _conditional(condition: Any, then: Any, where: str) -> Constraint:
    text = _text(condition, where, "if")
    parts: list[list[Token]] = [[]]
    for token in _tokens(text, where):
        if token == ("keyword", "and"):
            parts.append([])
        else:
            parts[-1].append(token)
    conditions = tuple(_from_tokens(part, text, where) for part in parts)
    for found in conditions:
        if len(found.columns()) != 1:
            raise SchemaError(
                f"{where}: the `if` part {found.render()!r} must compare a column with a constant",
                hint="write e.g. \"payer == 'Medicare'\"; put column comparisons under `then`",
            )
    return Conditional(conditions, _comparison(_text(then, where, "then"), where))


_RANGE_HINT = "e.g. {column: los, min: 0, max: 365}"


def _range(raw: Any, where: str) -> Constraint:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("column"), str):
        raise SchemaError(f"{where}: `range` needs a `column`", hint=_RANGE_HINT)
    unknown = ", ".join(sorted(map(str, set(raw) - {"column", "min", "max"})))
    if unknown:
        raise SchemaError(f"{where}: `range` has unknown keys: {unknown}", hint=_RANGE_HINT)
    bounds = [raw.get("min"), raw.get("max")]
    for bound in bounds:
        finite = isinstance(bound, int | float) and math.isfinite(bound)
        if bound is not None and (isinstance(bound, bool) or not finite):
            raise SchemaError(f"{where}: `range` bounds must be finite numbers", hint=_RANGE_HINT)
    low, high = bounds
    if low is None and high is None:
        raise SchemaError(f"{where}: `range` needs `min`, `max` or both", hint=_RANGE_HINT)
    if low is not None and high is not None and low > high:
        raise SchemaError(f"{where}: `range` has `min` above `max`", hint="swap them")
    return Range(raw["column"], low, high)


def _fixed(raw: Any, where: str) -> Constraint:
    hint = "e.g. {columns: [state, county], allowed: [[NY, Kings], [NY, Queens]]}"
    if not isinstance(raw, Mapping) or set(raw) != {"columns", "allowed"}:
        raise SchemaError(f"{where}: `fixed_combinations` needs `columns` and `allowed`", hint=hint)
    names, allowed = raw["columns"], raw["allowed"]
    if not _scalars(names) or len(names) < 2 or len(set(map(str, names))) != len(names):
        raise SchemaError(
            f"{where}: `fixed_combinations` needs two or more distinct `columns`", hint=hint
        )
    rows = allowed if isinstance(allowed, list) else None
    if not rows or not all(_scalars(r) and len(r) == len(names) for r in rows):
        raise SchemaError(
            f"{where}: `allowed` must list combinations of {len(names)} values each", hint=hint
        )
    combinations = tuple(dict.fromkeys(tuple(map(str, r)) for r in rows))
    return FixedCombinations(tuple(map(str, names)), combinations)


def _scalars(values: Any) -> bool:
    return isinstance(values, list) and all(
        isinstance(v, str | int | float) and not isinstance(v, bool) for v in values
    )


def _text(raw: Any, where: str, key: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise SchemaError(f"{where}: `{key}` must be a comparison in quotes", hint=_SYNTAX_HINT)
    return raw


_PARSERS: Final[Mapping[str, Callable[[Any, str], Constraint]]] = {
    "compare": _compare,
    "range": _range,
    "fixed_combinations": _fixed,
}


def parse_comparison(text: str, where: str = "constraint") -> Comparison:
    """``"age >= 18"``, ``"payer == 'Medicare'"``, ``"state in ['NY', 'NJ']"``."""
    return _comparison(text, where)


def _comparison(text: str, where: str) -> Comparison:
    return _from_tokens(_tokens(text, where), text, where)


def _from_tokens(tokens: list[Token], text: str, where: str) -> Comparison:
    reader = _Reader(tokens, text, where)
    left = reader.operand()
    op = reader.operator()
    right: Operand | tuple[Constant, ...]
    right = reader.constants() if op in ("in", "not in") else reader.operand()
    reader.end()
    found = Comparison(left, op, right)
    if not found.columns():
        raise SchemaError(f"{where}: {text!r} compares no column", hint=_SYNTAX_HINT)
    if op in ("in", "not in") and not isinstance(left, Column):
        raise SchemaError(
            f"{where}: {text!r}: `{op}` needs a column on its left", hint=_SYNTAX_HINT
        )
    return found


Token = tuple[str, str]


def _tokens(text: str, where: str) -> list[Token]:
    found: list[Token] = []
    position, end = 0, len(text.rstrip())
    while position < end:
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise SchemaError(
                f"{where}: cannot read {text!r} from character {position + 1}", hint=_SYNTAX_HINT
            )
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind == "word" and value in _KEYWORDS:
            kind = "keyword"
        found.append((kind, value))
        position = match.end()
    return found


class _Reader:
    """Reads operands, an operator and constant lists from a comparison's tokens."""

    def __init__(self, tokens: list[Token], text: str, where: str) -> None:
        self.tokens, self.text, self.where, self.at = tokens, text, where, 0

    def _fail(self, expected: str) -> SchemaError:
        return SchemaError(
            f"{self.where}: cannot read {self.text!r}: expected {expected}", hint=_SYNTAX_HINT
        )

    def _next(self, expected: str) -> Token:
        if self.at >= len(self.tokens):
            raise self._fail(expected)
        self.at += 1
        return self.tokens[self.at - 1]

    def operand(self) -> Operand:
        kind, value = self._next("a column or a constant")
        if kind in ("word", "name"):
            return Column(value)
        if kind == "number":
            return Constant(value, float(value))
        if kind in ("squote", "dquote"):
            return Constant(value)
        raise self._fail("a column or a constant")

    def operator(self) -> Operator:
        kind, value = self._next("an operator (>=, >, <=, <, ==, !=, in, not in)")
        if kind == "op":
            return value  # type: ignore[return-value]
        if (kind, value) == ("keyword", "in"):
            return "in"
        if (kind, value) == ("keyword", "not") and self._next("in") == ("keyword", "in"):
            return "not in"
        raise self._fail("an operator (>=, >, <=, <, ==, !=, in, not in)")

    def constants(self) -> tuple[Constant, ...]:
        if self._next("[") != ("punct", "["):
            raise self._fail("a list in brackets")
        found: list[Constant] = []
        while True:
            constant = self.operand()
            if not isinstance(constant, Constant):
                raise self._fail("constants in the list")
            found.append(constant)
            token = self._next("] or ,")
            if token == ("punct", "]"):
                return tuple(found)
            if token != ("punct", ","):
                raise self._fail("] or ,")

    def end(self) -> None:
        if self.at != len(self.tokens):
            raise self._fail("the end of the comparison (join conditions with `and` under `if`)")
