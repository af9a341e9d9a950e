"""The three tables an evaluation compares, typed and encoded once for every metric.

``real`` is what the generator was trained on, ``synthetic`` what it produced, and
``holdout`` real records from the same population that it never saw: the control
group for every privacy attack. Columns are typed as numeric or categorical (from the
schema when given), and two shared views are built lazily: a discretised view for
marginals and a scaled, one-hot view for distances.

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
from privsynth.errors import ConfigurationError, InputDataError
from privsynth.schema import CategoricalSpec, DatetimeSpec, NumericSpec, Schema

ColumnKind = Literal["numeric", "categorical"]
MISSING = "<missing>"
#: numeric columns are cut into this many quantile bins of the real data for marginals
MARGINAL_BINS = 10
FloatMatrix = npt.NDArray[np.float64]


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
        kinds = {c: _kind(c, real[c], schema) for c in columns}
        qis = list(quasi_identifiers or _roles(schema, "quasi_identifier", privacy_unit))
        secrets_ = list(sensitive or _roles(schema, "sensitive", privacy_unit))
        _check_roles([*qis, *secrets_, *([target] if target else [])], kinds, privacy_unit)
        return cls(
            real=_normalise(real, kinds),
            synthetic=_normalise(synthetic, kinds),
            holdout=_normalise(holdout, kinds) if holdout is not None else None,
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
                hint="pass --holdout (e.g. a random 20% kept out of training)",
            )
        return self.holdout

    @cached_property
    def bin_edges(self) -> dict[str, FloatMatrix]:
        """Quantile edges of the real data per numeric column (for marginals)."""
        edges = {}
        for column in self.numeric_columns:
            values = self.real[column].dropna().to_numpy(dtype=np.float64)
            quantiles = np.linspace(0, 1, MARGINAL_BINS + 1)
            cuts = np.unique(np.quantile(values, quantiles)) if values.size else np.array([0.0])
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
            low, high = np.quantile(values, [0.01, 0.99]) if values.size else (0.0, 1.0)
            scales[column] = (float(low), float(high) if high > low else float(low) + 1.0)
        return scales

    @cached_property
    def _categories(self) -> dict[str, list[str]]:
        tables = [self.real, self.synthetic] + ([self.holdout] if self.holdout is not None else [])
        return {
            c: sorted(set().union(*(set(t[c].astype(str)) for t in tables)))
            for c in self.categorical_columns
        }

    def encoded(self, frame: pd.DataFrame, columns: Sequence[str] | None = None) -> FloatMatrix:
        """Rows as vectors for distances: numeric scaled to ~[0, 1] (clipped), categorical
        one-hot scaled by 1/sqrt(2) so that a mismatch costs 1 in Euclidean distance."""
        blocks = []
        for column in columns or self.columns:
            if self.kinds[column] == "numeric":
                low, high = self._scales[column]
                values = frame[column].to_numpy(dtype=np.float64)
                scaled = np.clip((values - low) / (high - low), -0.5, 1.5)
                blocks.append(np.nan_to_num(scaled, nan=-1.0)[:, None])
            else:
                categories = self._categories[column]
                codes = pd.Categorical(frame[column].astype(str), categories=categories).codes
                one_hot = np.zeros((len(frame), len(categories)), dtype=np.float64)
                valid = codes >= 0
                one_hot[np.flatnonzero(valid), codes[valid]] = 1.0 / np.sqrt(2.0)
                blocks.append(one_hot)
        return np.hstack(blocks) if blocks else np.zeros((len(frame), 0))


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


def _kind(column: str, values: pd.Series, schema: Schema | None) -> ColumnKind:
    if schema is not None and column in schema.columns:
        spec = schema[column]
        if isinstance(spec, NumericSpec | DatetimeSpec):
            return "numeric"
        if isinstance(spec, CategoricalSpec):
            return "categorical"
    present = values.dropna()
    if not len(present):
        return "categorical"
    if to_numbers(present).notna().all():
        return "numeric"
    dates = pd.to_datetime(present.astype(str), errors="coerce", format="ISO8601")
    return "numeric" if dates.notna().mean() >= 0.98 else "categorical"


def _as_number(values: pd.Series) -> pd.Series:
    """Numbers as floats; dates (ISO or as written) as days since 1970."""
    numbers = to_numbers(values)
    if numbers.notna().sum() >= values.notna().sum() * 0.5:
        return numbers.astype(np.float64)
    stamps = pd.to_datetime(values, errors="coerce", format="mixed")
    return ((stamps - pd.Timestamp(0)).dt.total_seconds() / 86_400.0).astype(np.float64)


def _normalise(frame: pd.DataFrame, kinds: dict[str, ColumnKind]) -> pd.DataFrame:
    out: dict[str, pd.Series] = {}
    for column, kind in kinds.items():
        if kind == "numeric":
            out[column] = _as_number(frame[column])
        else:
            out[column] = frame[column].astype("string").fillna(MISSING).astype(str)
    return pd.DataFrame(out).reset_index(drop=True)


def _roles(schema: Schema | None, role: str, unit: str | None) -> list[str]:
    """The schema's columns with ``role``, except the unit column (never evaluated)."""
    if schema is None:
        return []
    return [n for n, spec in schema.columns.items() if spec.role == role and n != unit]
