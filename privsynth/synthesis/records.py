"""What a fit cost and where a model came from, what a draw produced, and the
combined result of a one-shot run. Everything here is DP output or public."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from privsynth import __version__
from privsynth.domain.discovery import DiscoveryReport
from privsynth.domain.suppressed import SuppressedReport
from privsynth.dp.accounting import compose
from privsynth.dp.accounting.accountant import Spend
from privsynth.dp.ledger import BudgetStatus
from privsynth.dp.units import PrivacyUnit
from privsynth.errors import InputDataError
from privsynth.pii.residual import ResidualReport
from privsynth.quality import QualityReport
from privsynth.schema import Schema
from privsynth.synthesis.plan import unmodelled_columns


@dataclass(frozen=True)
class FitRecord:
    """The ledger entry a fitted model descends from: saved with the model, so that a
    sample made anywhere can be traced to the spend that paid for it."""

    dataset: str
    run_id: str
    #: the run's target (ε, δ) and the ε its spends compose to (∞ for a seeded run)
    epsilon: float
    delta: float
    spent_epsilon: float
    generator: str
    generator_params: dict[str, Any]
    privacy_unit: str | None
    max_rows_per_unit: int
    seeded: bool
    #: False when the generator has no formal privacy guarantee (a baseline: ε = ∞)
    private: bool = True
    #: the text part: ``column``, ``condition_on``, ``generator`` and its ``params``
    text: dict[str, Any] | None = None
    fitted_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    privsynth_version: str = __version__

    @property
    def unit(self) -> PrivacyUnit:
        """Whose privacy the spend protects."""
        return PrivacyUnit(self.privacy_unit, self.max_rows_per_unit)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe (an infinite ε is written as ``"inf"``)."""
        data = asdict(self)
        if math.isinf(self.spent_epsilon):
            data["spent_epsilon"] = "inf"
        return data

    @classmethod
    def from_dict(cls, raw: Any, source: str) -> FitRecord:
        """The record read back from a model file; malformed entries are refused."""
        if not isinstance(raw, dict):
            raise InputDataError(f"{source}: its privacy record is missing")
        try:
            values = dict(raw)
            values["spent_epsilon"] = float(values["spent_epsilon"])
            record = cls(**values)
        except (KeyError, TypeError, ValueError):
            raise InputDataError(
                f"{source}: its privacy record is malformed",
                hint="save the model again with this version of privsynth",
            ) from None
        return record


#: purposes of the text generator's spends start with this
TEXT_SPEND = "text:"


@dataclass
class FitReport:
    """A fit's account: its record, the itemised spends, and what it found."""

    record: FitRecord
    status: BudgetStatus
    spends: list[Spend]
    schema: Schema
    discovery: DiscoveryReport
    quality: QualityReport | None
    #: warning messages (also issued through :mod:`warnings` as PrivsynthWarning)
    warnings: list[str]
    seconds: float
    #: why the generator was picked, when the user left the choice to privsynth
    generator_choice: str | None = None

    @property
    def generator_line(self) -> str:
        """The generator's name, and why it was picked if privsynth picked it."""
        if self.generator_choice is None:
            return self.record.generator
        return f"{self.record.generator} (picked automatically: {self.generator_choice})"

    @property
    def discovery_epsilon(self) -> float:
        """Epsilon of the domain-discovery spends alone (0 when the schema was complete)."""
        found = [s.cost for s in self.spends if s.purpose.startswith("discover")]
        return compose(found).epsilon(self.record.delta) if found else 0.0

    @property
    def epsilon_split(self) -> tuple[float, float] | None:
        """(ε of the table's spends, ε of the text model's spends), each alone at the
        run's δ (together they compose to the run's ε, which is less than their sum);
        ``None`` for a run without a text column."""
        text = [s.cost for s in self.spends if s.purpose.startswith(TEXT_SPEND)]
        if not text:
            return None
        table = [s.cost for s in self.spends if not s.purpose.startswith(TEXT_SPEND)]
        delta = self.record.delta
        return (compose(table).epsilon(delta) if table else 0.0, compose(text).epsilon(delta))

    def split_line(self) -> str | None:
        """The split for a summary, e.g. ``table 1.9, text 3.4 (together 4)``."""
        split = self.epsilon_split
        if split is None:
            return None
        return (
            f"table {split[0]:.3g}, text {split[1]:.3g} (each alone at δ; together "
            f"{self.record.spent_epsilon:.4g})"
        )

    def unmodelled(self) -> dict[str, str]:
        """Columns left out of the model (identifier tokens, dropped text), and why."""
        found = unmodelled_columns(self.schema, self.discovery)
        return {k: v for k, v in found.items() if k != self.text_column}

    @property
    def text_column(self) -> str | None:
        return None if self.record.text is None else str(self.record.text["column"])


@dataclass(frozen=True)
class ConstraintCount:
    """What one schema constraint did to a draw: rows of the first draw that broke it,
    and of those, the rows repaired by it and the rows dropped while breaking it."""

    #: position in ``schema.constraints`` (from 0)
    index: int
    text: str
    rejected: int = 0
    repaired: int = 0
    dropped: int = 0


@dataclass(frozen=True)
class ConstraintReport:
    """How a draw honoured the schema's constraints (post-processing, free): the rows of
    the first draw that broke one were replaced by fresh rows from the model
    (``rows_redrawn``), else repaired (``rows_repaired``), else dropped (``rows_dropped``)."""

    declared: int
    rows_rejected: int = 0
    rows_redrawn: int = 0
    rows_repaired: int = 0
    rows_dropped: int = 0
    #: fresh rows drawn from the model in all, including those rejected in turn
    extra_rows_drawn: int = 0
    per_constraint: tuple[ConstraintCount, ...] = ()

    def describe(self) -> str:
        """One line for the run summary."""
        text = (
            f"{self.declared} declared; {self.rows_redrawn:,} rows re-drawn, "
            f"{self.rows_repaired:,} repaired"
        )
        return text + (f", {self.rows_dropped:,} dropped" if self.rows_dropped else "")


@dataclass
class SampleReport:
    """One draw of synthetic rows: post-processing, free."""

    rows: int
    suppressed: SuppressedReport
    residual: ResidualReport | None
    output: Path | None = None
    output_sha256: str | None = None
    #: whether the output was linked to its run in the ledger (lineage)
    recorded: bool = False
    #: how the schema's constraints were honoured (``None``: the schema declares none)
    constraints: ConstraintReport | None = None


@dataclass
class SynthesisResult:
    """The synthetic table and a true account of what producing it cost."""

    data: pd.DataFrame
    fit: FitReport
    sample: SampleReport

    @property
    def run_id(self) -> str:
        return self.fit.record.run_id

    @property
    def dataset(self) -> str:
        return self.fit.record.dataset

    @property
    def epsilon(self) -> float:
        return self.fit.record.epsilon

    @property
    def delta(self) -> float:
        return self.fit.record.delta

    @property
    def spent_epsilon(self) -> float:
        """ε of this run's spends (∞ for a seeded run)."""
        return self.fit.record.spent_epsilon

    @property
    def status(self) -> BudgetStatus:
        return self.fit.status

    @property
    def schema(self) -> Schema:
        return self.fit.schema

    @property
    def generator(self) -> str:
        return self.fit.record.generator

    @property
    def generator_params(self) -> dict[str, Any]:
        return self.fit.record.generator_params

    @property
    def discovery(self) -> DiscoveryReport:
        return self.fit.discovery

    @property
    def discovery_epsilon(self) -> float:
        return self.fit.discovery_epsilon

    @property
    def warnings(self) -> list[str]:
        found = list(self.fit.warnings)
        if self.sample.residual is not None and self.sample.residual.total:
            found.append(residual_message(self.sample.residual))
        return found

    @property
    def seconds(self) -> float:
        return self.fit.seconds

    @property
    def privacy_unit(self) -> PrivacyUnit:
        return self.fit.record.unit

    @property
    def output(self) -> Path | None:
        return self.sample.output

    @property
    def spends(self) -> list[Spend]:
        return self.fit.spends

    @property
    def residual(self) -> ResidualReport | None:
        return self.sample.residual

    @property
    def quality(self) -> QualityReport | None:
        return self.fit.quality

    @property
    def suppressed(self) -> SuppressedReport:
        return self.sample.suppressed

    def unmodelled(self) -> dict[str, str]:
        """Columns left out of the model (identifier tokens, dropped text), and why."""
        return self.fit.unmodelled()


def residual_message(residual: ResidualReport) -> str:
    """The warning text for residual PII found in an output (counts only)."""
    return f"residual PII scan of the output: {residual.summary()}"
