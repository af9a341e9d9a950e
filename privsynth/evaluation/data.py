"""The three tables an evaluation compares, typed and encoded once for every metric.

``real`` is what the generator was trained on, ``synthetic`` what it produced, and
``holdout`` real records from the same population that it never saw: the control
group for every privacy attack. Columns are typed as numeric or categorical (from the
schema when given) and read cell by cell (:class:`_Reader`), so no cell's content can
change how the others are read or crash the evaluation; two shared views are built
lazily: a discretised view for marginals and scaled values with category codes for
distances.

With a privacy unit (a column such as ``patient_id``), privacy is stated per person,
so attacks must target persons: the unit ids of the real and holdout rows are kept
beside the frames (``real_units``, ``holdout_units``), and the unit column is never a
data column, since a generator trained with a unit never models or outputs it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from privsynth.cells import to_numbers
from privsynth.domain.codecs import parse_datetimes
from privsynth.errors import ConfigurationError, InputDataError
from privsynth.evaluation.distances import Rows
from privsynth.schema import CategoricalSpec, DatetimeSpec, NumericSpec, Schema

ColumnKind = Literal["numeric", "categorical"]
MISSING = "<missing>"
#: numeric columns are cut into this many quantile bins of the real data for marginals
MARGINAL_BINS = 10
FloatMatrix = npt.NDArray[np.float64]


def quantiles_of(values: FloatMatrix, q: npt.ArrayLike) -> FloatMatrix:
    """``np.quantile`` computed on ``values / 4`` and scaled back: the same bits for
    ordinary values (scaling by a power of two is exact), but no overflow when it
    interpolates between magnitudes near the float limit, such as ``1e308`` and
    ``-1e308`` in a hostile table (``np.quantile`` gives -inf there)."""
    result: FloatMatrix = np.quantile(values / 4.0, np.asarray(q, dtype=np.float64)) * 4.0
    return result


@dataclass
class EvaluationData:
    """Real training rows, synthetic rows, holdout rows, and what each column is."""

    real: pd.DataFrame
    synthetic: pd.DataFrame
    holdout: pd.DataFrame | None
    kinds: dict[str, ColumnKind]
    target: str | None = None
    quasi_identifiers: list[str] = field(default_factory=list)
    sensitive: list[str] = field(default_factory=list)
    seed: int = 0
    #: the column identifying the person behind each row (``None``: each row is a unit)
    privacy_unit: str | None = None
    #: unit id (as text) of each row of ``real``, same positions; ``None`` without a unit
    real_units: pd.Series | None = None
    #: unit id (as text) of each row of ``holdout``, same positions
    holdout_units: pd.Series | None = None

    @classmethod
    def build(
        cls,
        real: pd.DataFrame,
        synthetic: pd.DataFrame,
        holdout: pd.DataFrame | None = None,
        *,
        schema: Schema | None = None,
        target: str | None = None,
        quasi_identifiers: Sequence[str] | None = None,
        sensitive: Sequence[str] | None = None,
        seed: int = 0,
        privacy_unit: str | None = None,
    ) -> EvaluationData:
        """Check the tables against each other and type their shared columns.

        With ``privacy_unit``, rows without a unit id are left out of ``real`` and
        ``holdout`` (they cannot be attributed to a person, and synthesis never trains
        on them), and persons present in both tables are refused."""
        units = _Units.split(real, holdout, privacy_unit) if privacy_unit is not None else None
        if units is not None:
            real, holdout = units.real, units.holdout
        columns = _shared_columns(real, synthetic, holdout, schema, privacy_unit)
        readers = {c: _reader(c, real[c], schema) for c in columns}
        kinds = {c: reader.kind for c, reader in readers.items()}
        qis = list(quasi_identifiers or _roles(schema, "quasi_identifier", privacy_unit))
        secrets_ = list(sensitive or _roles(schema, "sensitive", privacy_unit))
        _check_roles([*qis, *secrets_, *([target] if target else [])], kinds, privacy_unit)
        return cls(
            real=_normalise(real, readers),
            synthetic=_normalise(synthetic, readers),
            holdout=_normalise(holdout, readers) if holdout is not None else None,
            kinds=kinds,
            target=target,
            quasi_identifiers=[q for q in qis if q in kinds],
            sensitive=[s for s in secrets_ if s in kinds],
            seed=seed,
            privacy_unit=privacy_unit,
            real_units=units.real_ids if units is not None else None,
            holdout_units=units.holdout_ids if units is not None else None,
        )

    @property
    def columns(self) -> list[str]:
        return list(self.kinds)

    @property
    def numeric_columns(self) -> list[str]:
        return [c for c, k in self.kinds.items() if k == "numeric"]

    @property
    def categorical_columns(self) -> list[str]:
        return [c for c, k in self.kinds.items() if k == "categorical"]

    def require_holdout(self) -> pd.DataFrame:
        """The holdout, or a clear error for metrics that need a control group."""
        if self.holdout is None or self.holdout.empty:
            raise ConfigurationError(
                "this measurement needs holdout records the generator never saw",
                hint="pass `holdout` (e.g. a random 20% kept out of training)",
            )
        return self.holdout

    @cached_property
    def bin_edges(self) -> dict[str, FloatMatrix]:
        """Quantile edges of the real data per numeric column (for marginals)."""
        edges = {}
        for column in self.numeric_columns:
            values = self.real[column].dropna().to_numpy(dtype=np.float64)
            quantiles = np.linspace(0, 1, MARGINAL_BINS + 1)
            cuts = np.unique(quantiles_of(values, quantiles)) if values.size else np.array([0.0])
            edges[column] = cuts
        return edges

    def discretised(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Every column as a small set of string labels (numeric: quantile bins)."""
        out = {}
        for column, kind in self.kinds.items():
            values = frame[column]
            if kind == "categorical":
                out[column] = values.astype(str)
                continue
            edges = self.bin_edges[column]
            index = np.searchsorted(edges[1:-1], values.to_numpy(dtype=np.float64), side="right")
            labels = pd.Series(index.astype(str), index=values.index)
            out[column] = labels.where(values.notna(), MISSING)
        return pd.DataFrame(out)

    @cached_property
    def _scales(self) -> dict[str, tuple[float, float]]:
        """Robust numeric ranges (1st-99th percentile of the real data)."""
        scales = {}
        for column in self.numeric_columns:
            values = self.real[column].dropna().to_numpy(dtype=np.float64)
            low, high = quantiles_of(values, [0.01, 0.99]) if values.size else (0.0, 1.0)
            scales[column] = (float(low), float(high) if high > low else float(low) + 1.0)
        return scales

    @cached_property
    def _categories(self) -> dict[str, list[str]]:
        tables = [self.real, self.synthetic] + ([self.holdout] if self.holdout is not None else [])
        return {
            c: sorted(set().union(*(set(t[c].astype(str)) for t in tables)))
            for c in self.categorical_columns
        }

    def encoded(self, frame: pd.DataFrame, columns: Sequence[str] | None = None) -> Rows:
        """Rows for distances: numeric scaled to ~[0, 1] (clipped; missing at -1) and
        categories as codes over the three tables' categories, a mismatch costing 1 in
        squared distance (as a one-hot scaled by 1/sqrt(2), without its memory). A
        category none of the tables holds gets one shared extra code."""
        names = list(columns or self.columns)
        numeric = [c for c in names if self.kinds[c] == "numeric"]
        categorical = [c for c in names if self.kinds[c] != "numeric"]
        values = np.zeros((len(frame), len(numeric)), dtype=np.float64)
        for j, column in enumerate(numeric):
            low, high = self._scales[column]
            quarter = frame[column].to_numpy(dtype=np.float64) / 4.0  # no overflow, same bits
            scaled = np.clip((quarter - low / 4.0) / (high / 4.0 - low / 4.0), -0.5, 1.5)
            values[:, j] = np.nan_to_num(scaled, nan=-1.0)
        codes = np.zeros((len(frame), len(categorical)), dtype=np.int64)
        for j, column in enumerate(categorical):
            categories = self._categories[column]
            found = pd.Categorical(frame[column].astype(str), categories=categories).codes
            codes[:, j] = np.where(found >= 0, found, len(categories))
        return Rows(values, codes, tuple(len(self._categories[c]) for c in categorical))


@dataclass(frozen=True)
class _Units:
    """The real and holdout rows that have a unit id, and those ids (as text, so that
    ``7`` and ``"7"`` are one person across tables), positions aligned."""

    real: pd.DataFrame
    holdout: pd.DataFrame | None
    real_ids: pd.Series
    holdout_ids: pd.Series | None

    @classmethod
    def split(cls, real: pd.DataFrame, holdout: pd.DataFrame | None, column: str) -> _Units:
        real, real_ids = _with_ids(real, column, "real")
        if holdout is None:
            return cls(real, None, real_ids, None)
        holdout, holdout_ids = _with_ids(holdout, column, "holdout")
        if holdout_ids.isin(real_ids).any():
            raise ConfigurationError(
                f"some {column!r} values are in both the real and the holdout table, so "
                "the privacy attacks would target persons who are on both sides",
                hint=f"split the data by {column!r} before training, so that every "
                "person's rows are all in training or all in the holdout",
            )
        return cls(real, holdout, real_ids, holdout_ids)


def _with_ids(frame: pd.DataFrame, column: str, table: str) -> tuple[pd.DataFrame, pd.Series]:
    """The rows of ``frame`` with a unit id, and their ids (as text, reset index)."""
    if column not in frame.columns:
        raise ConfigurationError(
            f"the privacy unit column {column!r} is not in the {table} table",
            hint="keep the unit column in the real and holdout tables, or drop the privacy unit",
        )
    ids = frame[column]
    present = ids.notna().to_numpy()
    if not present.any():
        raise InputDataError(
            f"no row of the {table} table has a {column!r} id",
            hint="check the privacy unit column, or drop the privacy unit",
        )
    return frame.loc[present], ids[present].astype(str).reset_index(drop=True)


def _check_roles(names: list[str], kinds: dict[str, ColumnKind], unit: str | None) -> None:
    """Every named target, quasi-identifier or sensitive column is a data column."""
    for name in names:
        if unit is not None and name == unit:
            raise ConfigurationError(
                f"the privacy unit column {unit!r} cannot be a target, quasi-identifier "
                "or sensitive column",
                hint="it identifies persons and is never evaluated; name data columns",
            )
        if name not in kinds:
            raise ConfigurationError(
                f"column {name!r} is not in all tables", hint="check the column names"
            )


def _shared_columns(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    holdout: pd.DataFrame | None,
    schema: Schema | None,
    unit: str | None = None,
) -> list[str]:
    if real.empty or synthetic.empty:
        raise InputDataError("real and synthetic tables must both have rows")
    modelled = set(schema.modelled_columns()) if schema is not None else None
    columns = [c for c in real.columns if c in synthetic.columns and c != unit]
    if holdout is not None:
        columns = [c for c in columns if c in holdout.columns]
    columns = [c for c in columns if modelled is None or c in modelled]
    if not columns:
        raise InputDataError(
            "the real, synthetic and holdout tables share no modelled column",
            hint="check that they come from the same schema",
        )
    return [str(c) for c in columns]


@dataclass(frozen=True)
class _Reader:
    """How one column's cells are read, decided once (from the schema, else from the
    real table) and applied to every table cell by cell, so that what a cell becomes
    never depends on the other cells of its table: numbers, dates (days since 1970; a
    strptime ``format``, ``None`` for ISO 8601, as the generators read them) or
    categories. A cell that does not parse, and an infinite number (no metric can place
    it), is missing."""

    kind: ColumnKind
    dates: bool = False
    format: str | None = None

    def read(self, values: pd.Series) -> pd.Series:
        if self.kind == "categorical":
            return values.astype("string").fillna(MISSING).astype(str)
        if self.dates:
            stamps = parse_datetimes(values, self.format)
            days = (stamps - pd.Timestamp(0)).dt.total_seconds() / 86_400.0
            return days.astype(np.float64)
        numbers = to_numbers(values).astype(np.float64)
        return numbers.where(np.isfinite(numbers))


def _reader(column: str, values: pd.Series, schema: Schema | None) -> _Reader:
    """The schema's kind, else: numbers when every present real cell is one, dates when
    98% of them are ISO 8601 dates, categories otherwise."""
    if schema is not None and column in schema.columns:
        spec = schema[column]
        if isinstance(spec, NumericSpec):
            return _Reader("numeric")
        if isinstance(spec, DatetimeSpec):
            return _Reader("numeric", dates=True, format=spec.format)
        if isinstance(spec, CategoricalSpec):
            return _Reader("categorical")
    counts = values.dropna().astype("string").value_counts()
    if counts.empty:
        return _Reader("categorical")
    texts = pd.Series(counts.index.to_numpy(dtype=object), dtype=object)
    if to_numbers(texts).notna().all():
        return _Reader("numeric")
    dates = parse_datetimes(texts, None).notna().to_numpy()
    share = counts.to_numpy()[dates].sum() / counts.sum()
    return _Reader("numeric", dates=True) if share >= 0.98 else _Reader("categorical")


def _normalise(frame: pd.DataFrame, readers: dict[str, _Reader]) -> pd.DataFrame:
    out = {column: reader.read(frame[column]) for column, reader in readers.items()}
    return pd.DataFrame(out).reset_index(drop=True)


def _roles(schema: Schema | None, role: str, unit: str | None) -> list[str]:
    """The schema's columns with ``role``, except the unit column (never evaluated)."""
    if schema is None:
        return []
    return [n for n, spec in schema.columns.items() if spec.role == role and n != unit]
