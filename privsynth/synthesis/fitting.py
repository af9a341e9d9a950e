"""The data-touching part of a run: bound each person's rows, discover undeclared
domains, encode, count data-quality problems and fit the generator, every release
charged to one privacy filter. What it leaves behind (:class:`FittedModel`) is DP
output or public, so sampling from it is free post-processing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from privsynth.cells import canonical_frame
from privsynth.domain.codecs import ColumnCodec
from privsynth.domain.discovery import DiscoveryReport, discover
from privsynth.domain.table import EncodedTable, build_codecs, encode_columns
from privsynth.dp.accounting import PrivacyFilter
from privsynth.dp.accounting import costs as cost_of
from privsynth.dp.accounting.accountant import Spend
from privsynth.dp.mechanisms import Mechanisms
from privsynth.dp.noise import NoiseSource
from privsynth.dp.units import PrivacyUnit
from privsynth.errors import ConfigurationError
from privsynth.generators import GENERATORS, Generator, ProgressCallback
from privsynth.io import TableRead, read_rows
from privsynth.quality import QualityCounts, QualityReport
from privsynth.quality import release as release_quality
from privsynth.schema import Schema
from privsynth.synthesis.config import SEEDED_RUN, SynthesisConfig
from privsynth.synthesis.plan import Plan, Source, unmodelled_warnings
from privsynth.synthesis.text_part import FittedText, fit_text
from privsynth.text.generator import TextGenerator
from privsynth.warnings import (
    DataQualityWarning,
    DiscoveryWarning,
    NotPrivateWarning,
    PrivsynthWarning,
)


@dataclass
class FittedModel:
    """A fitted generator and the completed schema it samples into: all DP output or
    public knowledge, so it may be sampled, saved and shared freely."""

    generator: Generator
    schema: Schema
    #: rows drawn when the caller does not say: the configured rows, the schema's
    #: declared row count, or the generator's noisy estimate
    default_rows: int
    #: the free-text column and its trained text generator, if the run has one
    text: FittedText | None = None

    @property
    def codecs(self) -> dict[str, ColumnCodec]:
        """How the schema's modelled columns map to codes."""
        return build_codecs(self.schema)

    @property
    def tabular(self) -> bool:
        """False when the text column is all there is (no tabular generator was fitted)."""
        return any(spec.modelled for spec in self.schema.columns.values())


def not_private_message(name: str) -> str:
    """The warning for a run with a generator that has no formal privacy guarantee."""
    return (
        f"generator {name} has no formal privacy guarantee: a baseline, not for release "
        "(the ledger records ε = ∞ for this run, which exhausts the dataset's budget)"
    )


def make_generator(config: SynthesisConfig) -> Generator:
    """The configured generator, with a clear error for options it does not take (and,
    for one that needs an optional package, for a missing package: raised by its
    constructor, before any ledger is opened or data read)."""
    factory = GENERATORS.get(config.generator)
    try:
        return factory(**config.generator_options)
    except TypeError:
        names = ", ".join(sorted(config.generator_options))
        raise ConfigurationError(
            f"generator {config.generator!r} does not accept these options: {names}",
            hint="see its documentation for the options it takes",
        ) from None


def read_source(source: Source) -> TableRead:
    """The table as canonical cells (only empty cells missing), read without failing on
    any record's content. The schema's other missing-value markers are applied after
    fingerprinting, so a schema cannot make the same data look new to the ledger."""
    if isinstance(source, pd.DataFrame):
        return TableRead(canonical_frame(source))
    return read_rows(source)


def source_name(source: Source) -> str:
    """How messages name the input (never its content)."""
    return "the input frame" if isinstance(source, pd.DataFrame) else Path(source).name


class Fit:
    """One fit: every access to the rows goes through :attr:`mechanisms`, which charges
    :attr:`filter` (limited to the plan's reservation) before it draws noise."""

    def __init__(
        self,
        plan: Plan,
        generator: Generator,
        progress: ProgressCallback,
        text: TextGenerator | None = None,
    ) -> None:
        self.plan, self.generator, self.progress, self.text = plan, generator, progress, text
        self.schema = plan.schema
        self.filter = PrivacyFilter(plan.limit)
        self.warnings: list[PrivsynthWarning] = list(plan.warnings)
        self.noise = NoiseSource(plan.config.seed)
        self.rng = self.noise.numpy_generator()
        self.mechanisms = Mechanisms(self.filter, self.noise, plan.unit.max_rows)
        self.discovery = DiscoveryReport()
        self.quality: QualityReport | None = None
        if plan.config.seed is not None:
            self.warnings.append(
                NotPrivateWarning("`seed` makes the noise reproducible: this run is not private")
            )
        if not generator.private:
            self.warnings.append(NotPrivateWarning(not_private_message(generator.name)))

    def execute(self, read: TableRead, name: str) -> FittedModel:
        """Fit on ``read``; the model and the completed schema."""
        config, rho = self.plan.config, self.plan.rho
        bounded = self.plan.unit.bound(read.frame, self.rng)
        if self.schema.needs_discovery():
            self.progress("discovering domains with DP")
            self.schema, self.discovery = discover(
                bounded.frame, self.schema, self.mechanisms, rho * config.discovery_share,
                self.plan.discovery_delta, bounded.units,
            )  # fmt: skip
            self.warnings += [DiscoveryWarning(text) for text in self.discovery.warnings]
            self.warnings += unmodelled_warnings(self.schema, self.discovery)
        codecs = build_codecs(self.schema)
        table, invalid = encode_columns(bounded.frame, codecs, self.rng)
        if config.quality_share > 0:
            self.progress("measuring data quality with DP")
            nullable = frozenset(name for name, codec in codecs.items() if codec.nullable)
            counts = quality_counts(read, len(bounded.frame), invalid, nullable, self.plan.unit)
            self.quality = release_quality(
                counts, self.mechanisms, rho * config.quality_share, name
            )
            self.warnings += [DataQualityWarning(text) for text in self.quality.warnings]
        if table.codecs:
            self.generator.fit(table, self.mechanisms, self._generator_rho(), self.progress)
        fitted_text = self._fit_text(bounded.frame, bounded.units, codecs, table)
        rows = config.rows or self.schema.rows or self._estimated_rows(fitted_text)
        return FittedModel(self.generator, self.schema, rows, fitted_text)

    def _generator_rho(self) -> float:
        """What the tabular generator may spend: the rest of the zCDP reservation, or of
        the tabular share when a text column takes the rest."""
        if self.plan.text_cost is None:
            return self.filter.remaining_rho()
        return max(0.0, self.plan.tabular_rho - self.filter.accountant.total().rho())

    def _fit_text(
        self,
        frame: pd.DataFrame,
        units: pd.Series | None,
        codecs: dict[str, ColumnCodec],
        table: EncodedTable,
    ) -> FittedText | None:
        config = self.plan.config
        if self.text is None or config.text_column is None:
            return None
        return fit_text(
            self.text, config.text_column, config.condition_on, (frame, units),
            (codecs, table.codes), self.mechanisms, self.progress,
        )  # fmt: skip

    def _estimated_rows(self, text: FittedText | None) -> int:
        if text is not None and not any(s.modelled for s in self.schema.columns.values()):
            return text.generator.estimated_documents
        return self.generator.estimated_rows

    @property
    def spends(self) -> list[Spend]:
        """Every spend made (and, for a seeded run, its unbounded cost)."""
        return self.filter.accountant.history + self.unbounded_spends()

    def unbounded_spends(self) -> list[Spend]:
        """What protects nothing, recorded as an infinite cost: a seeded run's noise, and
        a generator without a formal privacy guarantee (a baseline)."""
        found = []
        if self.plan.config.seed is not None:
            found.append(Spend(SEEDED_RUN, cost_of.unbounded("the noise was seeded")))
        if not self.generator.private:
            name = self.generator.name
            reason = f"generator {name} has no formal privacy guarantee"
            found.append(
                Spend(f"no formal privacy guarantee: generator {name}", cost_of.unbounded(reason))
            )
        return found

    def notes(self) -> dict[str, Any]:
        """What the ledger keeps about the run besides its spends (no data values)."""
        return {
            "warnings": [str(w) for w in self.warnings],
            "data_derived": self.schema.data_derived_fields(),
            "discovered": self.discovery.columns,
            "generator_params": self.generator.params(),
            "seeded": self.plan.config.seed is not None,
            "private": self.generator.private,
            "privacy_unit": self.plan.unit.describe(),
            "spends_made": [s.purpose for s in self.filter.accountant.history],
            **({"text_generator_params": self.text.params()} if self.text else {}),
        }


def quality_counts(
    read: TableRead, rows: int, invalid: dict[str, int], nullable: frozenset[str], unit: PrivacyUnit
) -> QualityCounts:
    """Left-out rows are counted only per row: under a privacy unit they cannot be
    attributed to a person, so their count has no bounded sensitivity."""
    if not unit.is_row:
        return QualityCounts(rows, invalid, nullable=nullable)
    return QualityCounts(rows, invalid, read.malformed_rows, read.undecodable_rows, nullable)
