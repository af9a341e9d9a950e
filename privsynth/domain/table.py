"""A table as integer codes over a public domain: what generators consume and emit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from privsynth.domain.codecs import (
    INVALID,
    CategoricalCodec,
    Codes,
    ColumnCodec,
    DatetimeCodec,
    NumericCodec,
)
from privsynth.domain.hierarchy import HierarchicalCodec
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
    if isinstance(spec, CategoricalSpec) and spec.code_system:
        return HierarchicalCodec(name, spec.code_system, spec.categories or (), nullable)
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


def encode_columns(
    frame: pd.DataFrame, codecs: Mapping[str, ColumnCodec], rng: np.random.Generator
) -> tuple[EncodedTable, dict[str, int]]:
    """Encode the modelled columns, and count each column's invalid cells.

    A cell the domain cannot represent (:data:`~privsynth.domain.codecs.INVALID`)
    becomes the null code of a nullable column, else a random code (imputation): one
    malformed record can never fail a run. The counts are exact, hence private; the
    pipeline releases them only with noise (:mod:`privsynth.quality`)."""
    codes, invalid = {}, {}
    for name, codec in codecs.items():
        encoded = codec.encode(frame[name])
        bad = encoded == INVALID
        invalid[name] = int(bad.sum())
        if invalid[name]:
            encoded[bad] = _replacements(codec, invalid[name], rng)
        codes[name] = encoded
    return EncodedTable(codes, codecs), invalid


def _replacements(codec: ColumnCodec, count: int, rng: np.random.Generator) -> Codes:
    if codec.nullable:
        return np.full(count, codec.size - 1, dtype=np.int64)
    return rng.integers(0, codec.size, count).astype(np.int64)


def encode_table(
    frame: pd.DataFrame, codecs: Mapping[str, ColumnCodec], rng: np.random.Generator
) -> EncodedTable:
    """Encode the modelled columns (see :func:`encode_columns`)."""
    return encode_columns(frame, codecs, rng)[0]


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
