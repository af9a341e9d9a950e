"""A table as integer codes over a public domain: what generators consume and emit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from privsynth.domain.codecs import (
    CategoricalCodec,
    Codes,
    ColumnCodec,
    DatetimeCodec,
    NumericCodec,
)
from privsynth.errors import SchemaError
from privsynth.schema.model import (
    CategoricalSpec,
    ColumnSpec,
    DatetimeSpec,
    IdentifierSpec,
    NumericSpec,
    Schema,
)


def codec_for(name: str, spec: ColumnSpec) -> ColumnCodec:
    """The codec of a complete spec (its domain fully public)."""
    if spec.missing_domain():
        missing = ", ".join(spec.missing_domain())
        raise SchemaError(f"column {name!r} has no public {missing}", hint="declare it")
    nullable = spec.nullable
    if isinstance(spec, CategoricalSpec):
        return CategoricalCodec(name, list(spec.categories or ()), spec.other_label, nullable)
    if isinstance(spec, NumericSpec):
        assert spec.min is not None and spec.max is not None
        return NumericCodec(name, spec.min, spec.max, spec.integer, spec.bins, nullable)
    if isinstance(spec, DatetimeSpec):
        assert spec.min is not None and spec.max is not None
        low, high = pd.Timestamp(spec.min), pd.Timestamp(spec.max)
        return DatetimeCodec(name, low, high, spec.granularity, spec.format, spec.bins, nullable)
    raise SchemaError(f"column {name!r} of kind {spec.kind} is not modelled")


@dataclass(frozen=True)
class EncodedTable:
    """Integer codes for the modelled columns, with the codecs that define them."""

    codes: Mapping[str, Codes]
    codecs: Mapping[str, ColumnCodec]

    @property
    def sizes(self) -> dict[str, int]:
        """Domain size of each column (public)."""
        return {name: codec.size for name, codec in self.codecs.items()}


def build_codecs(schema: Schema) -> dict[str, ColumnCodec]:
    """Codecs for every modelled column of a complete schema."""
    return {name: codec_for(name, schema[name]) for name in schema.modelled_columns()}


def encode_table(
    frame: pd.DataFrame, schema: Schema, codecs: Mapping[str, ColumnCodec], rng: np.random.Generator
) -> EncodedTable:
    """Encode the modelled columns; missing cells of ``impute_missing`` columns become
    random codes (so a few unexpected blanks never fail a run)."""
    codes = {}
    for name, codec in codecs.items():
        values = frame[name]
        missing = values.isna().to_numpy()
        if schema[name].impute_missing and missing.any():
            encoded = rng.integers(0, codec.size, len(values)).astype(np.int64)
            encoded[~missing] = codec.encode(values[~missing])
        else:
            encoded = codec.encode(values)
        codes[name] = encoded
    return EncodedTable(codes, codecs)


def decode_table(
    codes: Mapping[str, Codes],
    schema: Schema,
    codecs: Mapping[str, ColumnCodec],
    rows: int,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Values for sampled codes, in schema order; identifiers get fresh random tokens,
    text columns are left out (tabular generators do not model them)."""
    columns: dict[str, pd.Series] = {}
    for name, spec in schema.columns.items():
        if name in codecs:
            columns[name] = codecs[name].decode(np.asarray(codes[name]), rng).reset_index(drop=True)
        elif isinstance(spec, IdentifierSpec):
            tokens = rng.integers(0, 2**63 - 1, rows, dtype=np.int64)
            columns[name] = pd.Series([f"{t:016x}" for t in tokens], dtype=object)
    return pd.DataFrame(columns)
