"""Drawing synthetic rows from a fitted model: codes from the generator, ``<other>``
counted or drawn again, values decoded inside public bounds, and the residual-PII scan.
All of it is post-processing of DP output: it spends nothing and may run any number
of times."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from privsynth.domain.codecs import Codes, ColumnCodec
from privsynth.domain.discovery import OTHER_LABEL
from privsynth.domain.suppressed import (
    SuppressedReport,
    count_suppressed,
    other_codes,
    resample_suppressed,
)
from privsynth.domain.table import build_codecs, decode_table
from privsynth.generators import ProgressCallback
from privsynth.pii.residual import ResidualReport, residual_scan
from privsynth.schema import Schema
from privsynth.schema.model import CategoricalSpec
from privsynth.synthesis.fitting import FittedModel


def draw(
    model: FittedModel,
    rows: int,
    rng: np.random.Generator,
    suppressed: str,
    progress: ProgressCallback,
) -> tuple[pd.DataFrame, SuppressedReport]:
    """``rows`` synthetic records, and how many hold a suppressed category."""
    codecs = build_codecs(model.schema)
    progress(f"sampling {rows} rows")
    codes = model.generator.sample(rows, rng)
    codes, report = _handle_suppressed(model, codes, codecs, suppressed, rng, progress)
    return decode_table(codes, model.schema, codecs, rows, rng), report


def _handle_suppressed(
    model: FittedModel,
    codes: dict[str, Codes],
    codecs: Mapping[str, ColumnCodec],
    suppressed: str,
    rng: np.random.Generator,
    progress: ProgressCallback,
) -> tuple[dict[str, Codes], SuppressedReport]:
    """Count, or draw again, the rows holding ``<other>``."""
    others = other_codes(codecs, OTHER_LABEL)
    if suppressed == "keep":
        return codes, count_suppressed(codes, others)
    progress("drawing rows with suppressed categories again")
    return resample_suppressed(codes, others, lambda n: model.generator.sample(n, rng), rng)


def scan(data: pd.DataFrame, schema: Schema) -> ResidualReport:
    """Counts of HIPAA identifier types still found in ``data``; values the schema
    lists as categories are public (or DP-released) and not counted."""
    return residual_scan(data, public_values=public_values(schema))


def public_values(schema: Schema) -> dict[str, frozenset[str]]:
    """Category lists of the (completed) schema: public or DP-released values."""
    return {
        name: frozenset(spec.categories or ())
        for name, spec in schema.columns.items()
        if isinstance(spec, CategoricalSpec)
    }
