"""A table's free-text column, synthesized by the DP text generator.

Fit: each document is scrubbed to typed placeholders (``<PERSON_1>``; defence in depth,
not the guarantee), prefixed with the public labels of its row's condition columns
(e.g. ``medical specialty: radiology``) and the text generator is trained with DP-SGD
(the guarantee). With a privacy unit, one document per person is kept (the first of the
rows the unit bound kept, an order that depends only on that person's rows), so the
document-level guarantee protects the person. Sample: the prefixes come from the
synthetic rows, so the text follows the synthetic table; placeholders are refilled with
consistent Faker surrogates, and the residual-PII scan reads the text *before* the
refill (a surrogate is no leak; a name the model wrote itself may be).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from privsynth.domain.codecs import ColumnCodec
from privsynth.dp.mechanisms import Mechanisms
from privsynth.errors import SchemaError
from privsynth.generators.base import ProgressCallback, no_progress
from privsynth.schema import Schema
from privsynth.schema.model import AutoSpec, CategoricalSpec, TextSpec
from privsynth.text.generator import TextGenerator

#: conditions are separated like this in a control prefix
_JOIN = "; "
#: the most condition combinations that get a control code each
MAX_CONDITIONS = 1024


def declare_text_column(schema: Schema, column: str, condition_on: Sequence[str]) -> Schema:
    """``schema`` with ``column`` as free text (it must be in the input and not declared
    as another kind) and the condition columns checked: modelled, not the text."""
    spec = schema.columns.get(column)
    if spec is None:
        raise SchemaError(
            f"text column {column!r} is not in the input",
            hint="name a column of the header with `text_column`",
        )
    if not isinstance(spec, AutoSpec | TextSpec):
        raise SchemaError(
            f"text column {column!r} is declared as {spec.kind} in the schema",
            hint=f"declare it `{column}: {{kind: text}}`",
        )
    columns = dict(schema.columns)
    columns[column] = TextSpec(role=spec.role)
    for name in condition_on:
        found = columns.get(name)
        if isinstance(found, AutoSpec) and found.modelled:  # a condition is categorical
            columns[name] = CategoricalSpec(role=found.role)
    declared = replace(schema, columns=columns)
    for name in condition_on:
        found = declared.columns.get(name)
        if found is None or name == column or not found.modelled:
            raise SchemaError(
                f"condition column {name!r} is not a modelled column of the input",
                hint="condition on a categorical column the tabular model synthesizes",
            )
        if not isinstance(found, AutoSpec | CategoricalSpec):
            raise SchemaError(
                f"condition column {name!r} is {found.kind}, not categorical",
                hint=f"declare it `{name}: {{kind: categorical}}`",
            )
    return declared


def prefixes(codecs: Mapping[str, ColumnCodec], codes: Mapping[str, Any]) -> list[str]:
    """The control prefix of every row: public labels of its condition codes."""
    if not codecs:
        return [""] * len(next(iter(codes.values()), []))
    parts = []
    for name, codec in codecs.items():
        labels = np.asarray(codec.labels(), dtype=object)
        parts.append([f"{name.replace('_', ' ')}: {label}" for label in labels[codes[name]]])
    return [_JOIN.join(row) for row in zip(*parts, strict=True)]


def condition_space(codecs: Mapping[str, ColumnCodec]) -> list[str] | None:
    """Every prefix the condition columns' public labels can make (``None`` when there
    are none or more than :data:`MAX_CONDITIONS`): the text model's control codes."""
    sizes = [len(codec.labels()) for codec in codecs.values()]
    if not sizes or math.prod(sizes) > MAX_CONDITIONS:
        return None
    grids = np.meshgrid(*[np.arange(n) for n in sizes], indexing="ij")
    codes = {name: grid.ravel() for name, grid in zip(codecs, grids, strict=True)}
    return prefixes(codecs, codes)


@dataclass
class FittedText:
    """The trained text generator and where its text goes (DP output and public names)."""

    column: str
    condition_on: tuple[str, ...]
    generator: TextGenerator

    def draw(
        self,
        frame: pd.DataFrame,
        codecs: dict[str, ColumnCodec],
        rng: np.random.Generator,
        progress: ProgressCallback = no_progress,
    ) -> list[str]:
        """One document with placeholders per row of ``frame`` (synthetic rows), each
        conditioned on that row's condition columns."""
        chosen = {name: codecs[name] for name in self.condition_on}
        codes = {name: np.asarray(codec.encode(frame[name])) for name, codec in chosen.items()}
        conditions = prefixes(chosen, codes) if chosen else [""] * len(frame)
        total = len(conditions)
        progress(f"text: writing {total} documents")
        step = max(1, total // 10)

        def report(done: int) -> None:
            if done % step < 64 or done == total:
                progress(f"text: {done}/{total} documents")

        return self.generator.sample(conditions, rng, report)


def training_documents(
    frame: pd.DataFrame, column: str, units: pd.Series | None
) -> tuple[list[str], np.ndarray]:
    """The documents to train on and the rows they come from: every row's text (a
    missing text is an empty document), one row per person under a privacy unit."""
    keep = np.ones(len(frame), dtype=bool) if units is None else ~units.duplicated().to_numpy()
    texts = frame[column].to_numpy(dtype=object)[keep]
    documents = ["" if not isinstance(t, str) else t for t in texts]
    return documents, np.flatnonzero(keep)


def fit_text(
    generator: TextGenerator,
    column: str,
    condition_on: tuple[str, ...],
    source: tuple[pd.DataFrame, pd.Series | None],
    conditions: tuple[Mapping[str, ColumnCodec], Mapping[str, Any]],
    mechanisms: Mechanisms,
    progress: ProgressCallback = no_progress,
) -> FittedText:
    """Scrub, prefix and train (the generator charges its planned cost)."""
    from privsynth.text.placeholders import to_placeholders

    documents, rows = training_documents(source[0], column, source[1])
    progress("text: replacing PII in the documents with placeholders")
    scrubbed = list(to_placeholders(documents).texts)
    codecs, codes = conditions
    chosen = {name: codecs[name] for name in condition_on}
    picked = {name: np.asarray(codes[name])[rows] for name in condition_on}
    labels = prefixes(chosen, picked) if chosen else [""] * len(rows)
    generator.fit(scrubbed, labels, mechanisms, progress, condition_space(chosen))
    return FittedText(column, condition_on, generator)
