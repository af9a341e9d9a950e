"""Drawing synthetic rows from a fitted model: codes from the generator, ``<other>``
counted or drawn again, values decoded inside public bounds, the schema's constraints
honoured, and the residual-PII scan. All of it is post-processing of DP output: it
spends nothing, never reads the real data, and may run any number of times.

Constraints (:mod:`privsynth.schema.constraints`) are public rules, so enforcing them is
post-processing too: rows of the draw that break one are replaced by fresh rows from the
same model (a few rounds, each drawing more rows the more the model's rows are
rejected); rows still missing after that are taken from the rejected ones, repaired
where the constraint has a repair (a range clips), and dropped otherwise. The output is
the model's distribution conditioned on the constraints; the counts are reported."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
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
from privsynth.errors import SchemaError
from privsynth.generators import ProgressCallback
from privsynth.generators.base import no_progress
from privsynth.pii.residual import ResidualReport, residual_scan
from privsynth.schema import Schema
from privsynth.schema.constraints import Constraint, check_constraints, violations
from privsynth.schema.model import CategoricalSpec
from privsynth.synthesis.fitting import FittedModel
from privsynth.synthesis.records import ConstraintCount, ConstraintReport

#: rounds of fresh rows for the rows that break a constraint, before repair or drop
CONSTRAINT_ROUNDS = 20
#: the most fresh rows one round draws, as a multiple of the rows asked for
MAX_ROUND_FACTOR = 10
#: below this share of accepted rows, drawing again is given up as hopeless
MIN_ACCEPTANCE = 1e-3
#: a draw left with fewer than this share of the rows asked for is refused
MIN_KEPT_SHARE = 0.5

Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Drawn:
    """A draw: the rows, the suppressed categories, how the constraints were honoured."""

    data: pd.DataFrame
    suppressed: SuppressedReport
    #: ``None`` when the schema declares no constraint
    constraints: ConstraintReport | None = None


def draw_rows(
    model: FittedModel,
    rows: int,
    rng: np.random.Generator,
    suppressed: str,
    progress: ProgressCallback,
) -> Drawn:
    """``rows`` synthetic records that satisfy the schema's constraints (fewer only when
    some could be neither drawn again nor repaired: reported as dropped)."""
    schema = model.schema
    check_constraints(schema.constraints, schema, released=True)  # before drawing
    codecs = build_codecs(schema)
    progress(f"sampling {rows} rows")
    sampler = _Sampler(model, codecs, suppressed, rng)
    first, report = sampler.draw(rows, progress)
    if not schema.constraints:
        return Drawn(first.data, report)
    final, honoured = _Enforcer(sampler, rows).run(first, progress)
    if suppressed == "keep":
        report = count_suppressed(final.codes, other_codes(codecs, OTHER_LABEL))
    return Drawn(final.data, report, honoured)


@dataclass(frozen=True)
class _Batch:
    """Rows as codes and as decoded values, kept together."""

    codes: dict[str, Codes]
    data: pd.DataFrame

    def __len__(self) -> int:
        return len(self.data)

    def take(self, index: npt.NDArray[np.intp]) -> _Batch:
        codes = {name: np.asarray(values)[index] for name, values in self.codes.items()}
        return _Batch(codes, self.data.iloc[index].reset_index(drop=True))

    @staticmethod
    def join(batches: Sequence[_Batch]) -> _Batch:
        names = batches[0].codes
        codes = {name: np.concatenate([b.codes[name] for b in batches]) for name in names}
        return _Batch(codes, pd.concat([b.data for b in batches], ignore_index=True))


@dataclass(frozen=True)
class _Sampler:
    """Fresh rows from the model: codes, suppressed categories handled, decoded."""

    model: FittedModel
    codecs: Mapping[str, ColumnCodec]
    suppressed: str
    rng: np.random.Generator

    def draw(self, rows: int, progress: ProgressCallback) -> tuple[_Batch, SuppressedReport]:
        codes = self.model.generator.sample(rows, self.rng)
        codes, report = _handle_suppressed(
            self.model, codes, self.codecs, self.suppressed, self.rng, progress
        )
        data = decode_table(codes, self.model.schema, self.codecs, rows, self.rng)
        return _Batch(codes, data), report


@dataclass
class _Enforcer:
    """Rows that break a constraint: drawn again, else repaired, else dropped."""

    sampler: _Sampler
    rows: int
    #: rows drawn (the first draw and fresh ones), rows among them that broke nothing,
    #: and per constraint the rows that broke it
    drawn: int = 0
    accepted: int = 0
    broken: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))

    @property
    def schema(self) -> Schema:
        return self.sampler.model.schema

    @property
    def constraints(self) -> tuple[Constraint, ...]:
        return self.schema.constraints

    def check(self, batch: _Batch) -> Mask:
        """The (constraints x rows) violations of ``batch``, counted."""
        found = violations(self.constraints, batch.data, self.schema)
        if not len(self.broken):
            self.broken = np.zeros(len(self.constraints), np.int64)
        self.drawn += len(batch)
        self.accepted += int((~found.any(axis=0)).sum())
        self.broken += found.sum(axis=1)
        return found

    def run(self, first: _Batch, progress: ProgressCallback) -> tuple[_Batch, ConstraintReport]:
        found = self.check(first)
        bad = found.any(axis=0)
        kept = [first.take(np.flatnonzero(~bad))]
        fresh = self.redraw(int(bad.sum()), progress)
        missing = int(bad.sum()) - sum(len(b) for b in fresh)
        rejected = first.take(np.flatnonzero(bad))
        attempt = _repair_order(rejected, found[:, bad], self.constraints)[:missing]
        repaired, counts = self.repair(rejected.take(attempt), found[:, bad][:, attempt])
        final = _Batch.join([*kept, *fresh, repaired])
        self.refuse_if_short(len(final))
        report = ConstraintReport(
            declared=len(self.constraints),
            rows_rejected=int(bad.sum()),
            rows_redrawn=int(bad.sum()) - missing,
            rows_repaired=len(repaired),
            rows_dropped=missing - len(repaired),
            extra_rows_drawn=self.drawn - len(first),
            per_constraint=tuple(
                ConstraintCount(i, c.text, int(found[i].sum()), *counts[i])
                for i, c in enumerate(self.constraints)
            ),
        )
        return final, report

    def redraw(self, needed: int, progress: ProgressCallback) -> list[_Batch]:
        """Fresh rows that break no constraint, up to ``needed``."""
        found: list[_Batch] = []
        for round_ in range(CONSTRAINT_ROUNDS):
            hopeless = round_ > 0 and self.accepted < MIN_ACCEPTANCE * self.drawn
            if needed == 0 or hopeless:
                break
            rate = max(self.accepted / self.drawn, MIN_ACCEPTANCE)
            size = min(math.ceil(needed / rate * 1.1) + 16, MAX_ROUND_FACTOR * self.rows + 16)
            progress(f"drawing {size} rows again to honour the schema's constraints")
            batch, _ = self.sampler.draw(size, no_progress)
            good = np.flatnonzero(~self.check(batch).any(axis=0))[:needed]
            found.append(batch.take(good))
            needed -= len(good)
        return found

    def repair(self, batch: _Batch, broken: Mask) -> tuple[_Batch, list[tuple[int, int]]]:
        """``batch`` repaired where its constraints allow, rows still breaking one left
        out; per constraint, the rows it repaired and the rows dropped breaking it."""
        if not len(batch):
            return batch, [(0, 0)] * len(self.constraints)
        data = batch.data.copy()
        changed = np.zeros_like(broken)
        for i, constraint in enumerate(self.constraints):
            if broken[i].any():
                changed[i] = constraint.repair(data, self.schema, broken[i])
        still = violations(self.constraints, data, self.schema)
        valid = ~still.any(axis=0)
        counts = [
            (int((changed[i] & valid).sum()), int((still[i] & ~valid).sum()))
            for i in range(len(self.constraints))
        ]
        return _Batch(batch.codes, data).take(np.flatnonzero(valid)), counts

    def refuse_if_short(self, kept: int) -> None:
        if kept >= MIN_KEPT_SHARE * self.rows:
            return
        worst = int(np.argmax(self.broken))
        share = self.broken[worst] / max(self.drawn, 1)
        raise SchemaError(
            f"the schema's constraints reject almost every row the model draws: "
            f"constraint {worst} ({self.constraints[worst].text}) rejects {share:.0%} of them",
            hint="check that it can hold within the columns' bounds and categories, "
            "or remove it from the schema",
        )


def _repair_order(
    batch: _Batch, broken: Mask, constraints: Sequence[Constraint]
) -> npt.NDArray[np.intp]:
    """Rejected rows, those breaking only constraints that have a repair first."""
    fixable = np.array([c.repairable for c in constraints], dtype=bool)
    hopeless = broken[~fixable].sum(axis=0) if len(broken) else np.zeros(len(batch))
    return np.argsort(hopeless, kind="stable")


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
