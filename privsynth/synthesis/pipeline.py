"""The synthesis pipeline: plan → admit → read → reserve → bound → discover → encode →
measure quality → fit → sample → decode → write → record spends.

Nothing is read before the ledger has admitted the run (budget, registration, privacy
unit). The file is then read without ever failing on a record's content, and its
keyed fingerprint goes into the atomic reservation, which refuses data already
registered under another name. From the reservation on, the run is paid for in full
even if it fails: whether it fails may depend on the data.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from privsynth.cells import canonical_frame, mark_missing
from privsynth.domain.codecs import Codes, ColumnCodec
from privsynth.domain.discovery import OTHER_LABEL, DiscoveryReport, discover
from privsynth.domain.suppressed import (
    SUPPRESSED_CHOICES,
    SuppressedReport,
    count_suppressed,
    other_codes,
    resample_suppressed,
)
from privsynth.domain.table import build_codecs, decode_table, encode_columns
from privsynth.dp.accounting import PrivacyCost, PrivacyFilter, compose
from privsynth.dp.accounting import costs as cost_of
from privsynth.dp.accounting.accountant import Spend
from privsynth.dp.accounting.rdp import rho_for_epsilon
from privsynth.dp.ledger import BudgetStatus, Ledger, check_budget_values, check_dataset_name
from privsynth.dp.mechanisms import Mechanisms
from privsynth.dp.noise import NoiseSource
from privsynth.dp.units import PrivacyUnit
from privsynth.errors import ConfigurationError, SchemaError
from privsynth.fingerprint import keyed_fingerprint
from privsynth.generators import GENERATORS, Generator, ProgressCallback
from privsynth.generators.base import no_progress
from privsynth.io import (
    TableRead,
    check_output_path,
    fingerprint,
    read_header,
    read_rows,
    write_table,
)
from privsynth.pii.columns import classify_header
from privsynth.pii.residual import ResidualReport, residual_scan
from privsynth.quality import QUALITY_SHARE, QualityCounts, QualityReport
from privsynth.quality import release as release_quality
from privsynth.schema import Schema, load_schema
from privsynth.schema.model import (
    AutoSpec,
    CategoricalSpec,
    ColumnSpec,
    IdentifierSpec,
)

#: default share of the zCDP budget spent on discovering incomplete domains
DISCOVERY_SHARE = 0.1
#: share of delta given to thresholded category discovery (the rest to the conversion)
DISCOVERY_DELTA_SHARE = 0.01
#: purpose of the spend that records that a seeded run's noise is no protection
SEEDED_RUN = "seeded noise: not private"


@dataclass(frozen=True)
class SynthesisConfig:
    """Everything a run needs besides the data; validated before anything is read."""

    epsilon: float
    delta: float | None = None
    generator: str = "mst"
    generator_options: dict[str, Any] = field(default_factory=dict)
    rows: int | None = None
    #: the ledger budget to charge: required (a budget belongs to a dataset)
    dataset: str | None = None
    #: seeds the noise: for tests only, and only with ``unsafe_seed`` (then ε = ∞)
    seed: int | None = None
    unsafe_seed: bool = False
    strict: bool = False
    discovery_share: float = DISCOVERY_SHARE
    #: share of the budget for the DP data-quality counts (0: no counts, no warnings)
    quality_share: float = QUALITY_SHARE
    #: column identifying a person; ε then protects all their rows (see privsynth.dp.units)
    privacy_unit: str | None = None
    max_rows_per_unit: int | None = None
    #: scan the synthetic output for residual PII (warnings with counts)
    residual_scan: bool = True
    #: ``keep`` the ``<other>`` of discovered categories, or ``resample`` those rows
    suppressed: str = "keep"

    def validate(self) -> None:
        check_budget_values(self.epsilon, self.delta if self.delta is not None else 1e-6)
        GENERATORS.get(self.generator)
        if self.rows is not None and (isinstance(self.rows, bool) or self.rows < 1):
            raise ConfigurationError(f"rows must be a positive integer, got {self.rows!r}")
        if not 0.0 < self.discovery_share < 1.0 or not 0.0 <= self.quality_share < 1.0:
            raise ConfigurationError("discovery_share and quality_share must be in [0, 1)")
        if self.discovery_share + self.quality_share >= 1.0:
            raise ConfigurationError("discovery_share + quality_share must leave budget to fit")
        if self.dataset is None:
            raise ConfigurationError(
                "a dataset name is required: the budget belongs to the data, not to a file",
                hint="pass dataset='NAME' (the CLI defaults to the input file's stem)",
            )
        check_dataset_name(self.dataset)
        if self.seed is not None and not self.unsafe_seed:
            raise ConfigurationError(
                "--seed makes the noise reproducible, so the run would not be private",
                hint="drop --seed; for tests add --unsafe-seed (recorded in the ledger as ε=∞)",
            )
        PrivacyUnit.of(self.privacy_unit, self.max_rows_per_unit)
        if self.suppressed not in SUPPRESSED_CHOICES:
            raise ConfigurationError(
                f"unknown handling of suppressed categories {self.suppressed!r}",
                hint=f"choose one of: {', '.join(SUPPRESSED_CHOICES)}",
            )


@dataclass
class SynthesisResult:
    """The synthetic table and a true account of what producing it cost."""

    data: pd.DataFrame
    run_id: str
    dataset: str
    epsilon: float
    delta: float
    #: ε of this run's spends (∞ for a seeded run)
    spent_epsilon: float
    status: BudgetStatus
    schema: Schema
    generator: str
    generator_params: dict[str, Any]
    discovery: DiscoveryReport
    warnings: list[str]
    seconds: float
    privacy_unit: PrivacyUnit = field(default_factory=PrivacyUnit)
    output: Path | None = None
    spends: list[Spend] = field(default_factory=list)
    residual: ResidualReport | None = None
    quality: QualityReport | None = None
    suppressed: SuppressedReport | None = None

    def unmodelled(self) -> dict[str, str]:
        """Columns left out of the model (identifier tokens, dropped text), and why."""
        return unmodelled_columns(self.schema, self.discovery)

    @property
    def discovery_epsilon(self) -> float:
        """Epsilon of the domain-discovery spends alone (0 when the schema was complete)."""
        found = [s.cost for s in self.spends if s.purpose.startswith("discover")]
        return compose(found).epsilon(self.delta) if found else 0.0


Source = pd.DataFrame | str | Path


def _columns_of(source: Source) -> list[str]:
    if isinstance(source, pd.DataFrame):
        return [str(c) for c in source.columns]
    return read_header(source)


def resolve_schema(
    schema: Schema | str | Path | None,
    columns: list[str],
    strict: bool,
    privacy_unit: str | None = None,
) -> tuple[Schema, list[str]]:
    """The schema to use (without the privacy-unit column) and warnings about
    data-derived entries (refused if strict). Reads only the header."""
    resolved = _load(schema, columns)
    unit = _unit_column(resolved, privacy_unit, columns)
    modelled = [c for c in columns if c != unit]
    _check_columns(resolved, modelled, unit)
    ordered = replace(resolved, columns={c: resolved[c] for c in modelled}, privacy_unit=unit)
    warnings = _identifier_warnings(ordered)
    derived = ordered.data_derived_fields()
    if derived and strict:
        raise SchemaError(
            f"--strict: schema values read from the data: {', '.join(derived)}",
            hint="replace them with public knowledge and remove their data_derived marks",
        )
    if derived:
        listed = ", ".join(derived)
        warnings.append(f"schema values read from the data are treated as public: {listed}")
    return ordered, warnings


def _load(schema: Schema | str | Path | None, columns: list[str]) -> Schema:
    if schema is None:
        return _auto_schema(columns)
    return schema if isinstance(schema, Schema) else load_schema(schema)


def _unit_column(schema: Schema, requested: str | None, columns: list[str]) -> str | None:
    if requested and schema.privacy_unit and requested != schema.privacy_unit:
        raise ConfigurationError(
            f"--privacy-unit {requested} contradicts the schema's privacy_unit "
            f"{schema.privacy_unit}",
            hint="use one of them",
        )
    unit = requested or schema.privacy_unit
    if unit is not None and unit not in columns:
        raise SchemaError(
            f"privacy unit column {unit!r} is not in the input",
            hint="name the column that identifies a person (e.g. patient_id)",
        )
    return unit


def _check_columns(schema: Schema, modelled: list[str], unit: str | None) -> None:
    unknown = [c for c in schema if c not in modelled and c != unit]
    if unknown:
        raise SchemaError(
            f"schema names columns not in the input: {', '.join(unknown)}",
            hint="fix the column names in the schema",
        )
    undeclared = [c for c in modelled if c not in schema.columns]
    if undeclared:
        raise SchemaError(
            f"input columns missing from the schema: {', '.join(undeclared)}",
            hint="declare them (kind: identifier drops a column; kind: auto discovers it)",
        )


def _auto_schema(columns: list[str]) -> Schema:
    """No schema: every column is discovered with DP; headers that name direct
    identifiers or free text are hints, which the values must confirm (a ``*_id`` column
    with few values is a code)."""
    specs: dict[str, ColumnSpec] = {}
    for name in columns:
        found = classify_header(name)
        role = found.role if found else None
        # a header is a hint: discovery decides identifiers and text from DP evidence
        specs[name] = AutoSpec(role=role)
    return Schema(specs)


def unmodelled_columns(schema: Schema, discovery: DiscoveryReport) -> dict[str, str]:
    """Each column the generator does not model, with the reason and the schema line
    that would change the decision."""
    found = {}
    for name, spec in schema.columns.items():
        if spec.modelled:
            continue
        what = "direct identifier: fresh tokens" if isinstance(spec, IdentifierSpec) else "text"
        why = discovery.kinds.get(name, "declared in the schema")
        found[name] = f"{what} ({why}); to model it: `{name}: {{kind: categorical}}`"
    return found


def unmodelled_warnings(schema: Schema, discovery: DiscoveryReport) -> list[str]:
    """A warning per column that discovery (not the user) left out of the model."""
    return [
        f"column {name!r} is not modelled: {reason}"
        for name, reason in unmodelled_columns(schema, discovery).items()
        if name in discovery.kinds
    ]


def _identifier_warnings(schema: Schema) -> list[str]:
    """Declared kinds win, but a modelled column whose header names a direct identifier
    deserves a second look."""
    flagged = []
    for name, spec in schema.columns.items():
        found = classify_header(name)
        if spec.modelled and spec.role is None and found and found.role == "direct_identifier":
            flagged.append(name)
    if not flagged:
        return []
    return [f"columns named like direct identifiers are modelled as declared: {', '.join(flagged)}"]


@dataclass(frozen=True)
class _Plan:
    """A run's budget and unit, fixed from the configuration and the header alone."""

    config: SynthesisConfig
    dataset: str
    delta: float
    schema: Schema
    unit: PrivacyUnit
    rho: float
    discovery_delta: float
    warnings: list[str]

    @property
    def limit(self) -> PrivacyCost:
        return cost_of.zcdp(self.rho, self.discovery_delta)


def _plan(
    source: Source, config: SynthesisConfig, schema: Schema | str | Path | None, book: Ledger
) -> _Plan:
    """Everything decided before the data is read."""
    assert config.dataset is not None  # validated
    delta = config.delta if config.delta is not None else book.budget(config.dataset).delta
    check_budget_values(config.epsilon, delta)
    resolved, warnings = resolve_schema(
        schema, _columns_of(source), config.strict, config.privacy_unit
    )
    rows_per_unit = config.max_rows_per_unit or resolved.max_rows_per_unit
    unit = PrivacyUnit.of(resolved.privacy_unit, rows_per_unit)
    discovery_delta = delta * DISCOVERY_DELTA_SHARE if resolved.needs_discovery() else 0.0
    rho = rho_for_epsilon(config.epsilon, delta - discovery_delta)
    return _Plan(config, config.dataset, delta, resolved, unit, rho, discovery_delta, warnings)


def run_synthesis(
    source: Source,
    config: SynthesisConfig,
    *,
    schema: Schema | str | Path | None = None,
    ledger: Ledger | str | Path | None = None,
    output: str | Path | None = None,
    progress: ProgressCallback = no_progress,
) -> SynthesisResult:
    """Synthesize ``source`` under ``config``, recording every spend in ``ledger``."""
    started = time.monotonic()
    config.validate()
    book = ledger if isinstance(ledger, Ledger) else Ledger(ledger)
    if output is not None:
        check_output_path(output)
    plan = _plan(source, config, schema, book)
    generator = _make_generator(config)
    progress("checking the privacy budget")
    book.admit(plan.dataset, plan.limit, plan.unit.column)  # before the data is read
    progress("reading data")
    read = _read(source)
    run_id = uuid.uuid4().hex
    book.reserve(
        plan.dataset, run_id, plan.limit, (config.epsilon, plan.delta), config.generator,
        {"options": config.generator_options, "rows": config.rows},
        fingerprint=keyed_fingerprint(read.frame, book.fingerprint_key()),
        privacy_unit=plan.unit.column, max_rows_per_unit=plan.unit.max_rows,
    )  # fmt: skip
    read = replace(read, frame=mark_missing(read.frame, plan.schema.missing_values))
    run = _Run(plan, generator, progress)
    try:
        data = run.execute(read, _source_name(source))
        _finish(run, data, output)
    except BaseException:
        book.commit(run_id, run.unbounded_spends(), failed=True, notes=run.notes())
        raise
    spends = run.filter.accountant.history + run.unbounded_spends()
    book.commit(run_id, spends, notes=run.notes())
    return run.result(data, run_id, book.status(plan.dataset), spends, output, started)


def _make_generator(config: SynthesisConfig) -> Generator:
    factory = GENERATORS.get(config.generator)
    try:
        return factory(**config.generator_options)
    except TypeError:
        names = ", ".join(sorted(config.generator_options))
        raise ConfigurationError(
            f"generator {config.generator!r} does not accept these options: {names}",
            hint="see its documentation for the options it takes",
        ) from None


def _read(source: Source) -> TableRead:
    """The table as canonical cells (only empty cells missing), read without failing on
    any record's content. The schema's other missing-value markers are applied after
    fingerprinting, so a schema cannot make the same data look new to the ledger."""
    if isinstance(source, pd.DataFrame):
        return TableRead(canonical_frame(source))
    return read_rows(source)


def _source_name(source: Source) -> str:
    return "the input frame" if isinstance(source, pd.DataFrame) else Path(source).name


def _finish(run: _Run, data: pd.DataFrame, output: str | Path | None) -> None:
    """Residual PII scan and the atomic write of the output."""
    if run.plan.config.residual_scan:
        run.progress("scanning the output for residual PII")
        run.residual = residual_scan(data, public_values=run.public_values())
        if run.residual.total:
            run.warnings.append(f"residual PII scan of the output: {run.residual.summary()}")
    if output is not None:
        run.progress("writing output")
        write_table(data, output)
        run.output_sha256 = fingerprint(output)  # lets an audit find this run


class _Run:
    """The data-touching part of one synthesis run."""

    def __init__(self, plan: _Plan, generator: Generator, progress: ProgressCallback) -> None:
        self.plan, self.schema, self.generator, self.progress = (
            plan,
            plan.schema,
            generator,
            progress,
        )
        self.filter = PrivacyFilter(plan.limit)
        self.warnings = list(plan.warnings)
        self.noise = NoiseSource(plan.config.seed)
        self.rng = self.noise.numpy_generator()
        self.mechanisms = Mechanisms(self.filter, self.noise, plan.unit.max_rows)
        self.discovery = DiscoveryReport()
        self.quality: QualityReport | None = None
        self.residual: ResidualReport | None = None
        self.output_sha256: str | None = None
        self.suppressed: SuppressedReport | None = None
        if plan.config.seed is not None:
            self.warnings.append("--seed makes the noise reproducible: this run is not private")

    def execute(self, read: TableRead, source_name: str) -> pd.DataFrame:
        config, rho = self.plan.config, self.plan.rho
        bounded = self.plan.unit.bound(read.frame, self.rng)
        frame = bounded.frame
        if self.schema.needs_discovery():
            self.progress("discovering domains with DP")
            self.schema, self.discovery = discover(
                frame, self.schema, self.mechanisms, rho * config.discovery_share,
                self.plan.discovery_delta, bounded.units,
            )  # fmt: skip
            self.warnings += self.discovery.warnings
            self.warnings += unmodelled_warnings(self.schema, self.discovery)
        codecs = build_codecs(self.schema)
        table, invalid = encode_columns(frame, codecs, self.rng)
        if config.quality_share > 0:
            self.progress("measuring data quality with DP")
            nullable = frozenset(name for name, codec in codecs.items() if codec.nullable)
            counts = _quality_counts(read, len(frame), invalid, nullable, self.plan.unit)
            self.quality = release_quality(
                counts, self.mechanisms, rho * config.quality_share, source_name
            )
            self.warnings += self.quality.warnings
        self.generator.fit(table, self.mechanisms, self.filter.remaining_rho(), self.progress)
        rows = config.rows or self.schema.rows or self.generator.estimated_rows
        self.progress(f"sampling {rows} rows")
        codes = self._suppressed(self.generator.sample(rows, self.rng), codecs)
        return decode_table(codes, self.schema, codecs, rows, self.rng)

    def _suppressed(
        self, codes: dict[str, Codes], codecs: Mapping[str, ColumnCodec]
    ) -> dict[str, Codes]:
        """Count, or draw again, the rows holding ``<other>`` (post-processing)."""
        others = other_codes(codecs, OTHER_LABEL)
        if self.plan.config.suppressed == "keep":
            self.suppressed = count_suppressed(codes, others)
            return codes
        self.progress("drawing rows with suppressed categories again")
        codes, self.suppressed = resample_suppressed(
            codes, others, lambda n: self.generator.sample(n, self.rng), self.rng
        )
        return codes

    def unbounded_spends(self) -> list[Spend]:
        """A seeded run's noise protects nothing: recorded as an infinite cost."""
        if self.plan.config.seed is None:
            return []
        return [Spend(SEEDED_RUN, cost_of.unbounded("the noise was seeded"))]

    def public_values(self) -> dict[str, frozenset[str]]:
        """Category lists of the (completed) schema: public or DP-released values."""
        return {
            name: frozenset(spec.categories or ())
            for name, spec in self.schema.columns.items()
            if isinstance(spec, CategoricalSpec)
        }

    def notes(self) -> dict[str, Any]:
        return {
            "warnings": self.warnings,
            "data_derived": self.schema.data_derived_fields(),
            "discovered": self.discovery.columns,
            "generator_params": self.generator.params(),
            "seeded": self.plan.config.seed is not None,
            "privacy_unit": self.plan.unit.describe(),
            "spends_made": [s.purpose for s in self.filter.accountant.history],
            "residual_pii": self.residual.to_dict() if self.residual else None,
            "output_sha256": self.output_sha256,
            "suppressed_rows": self.suppressed.rows_with_other if self.suppressed else None,
        }

    def result(
        self,
        data: pd.DataFrame,
        run_id: str,
        status: BudgetStatus,
        spends: list[Spend],
        output: str | Path | None,
        started: float,
    ) -> SynthesisResult:
        plan = self.plan
        return SynthesisResult(
            data=data, run_id=run_id, dataset=plan.dataset, epsilon=plan.config.epsilon,
            delta=plan.delta, spent_epsilon=compose([s.cost for s in spends]).epsilon(plan.delta),
            status=status, schema=self.schema, generator=plan.config.generator,
            generator_params=self.generator.params(), discovery=self.discovery,
            warnings=self.warnings, seconds=time.monotonic() - started, privacy_unit=plan.unit,
            output=Path(output) if output is not None else None, spends=spends,
            residual=self.residual, quality=self.quality, suppressed=self.suppressed,
        )  # fmt: skip


def _quality_counts(
    read: TableRead, rows: int, invalid: dict[str, int], nullable: frozenset[str], unit: PrivacyUnit
) -> QualityCounts:
    """Left-out rows are counted only per row: under a privacy unit they cannot be
    attributed to a person, so their count has no bounded sensitivity."""
    if not unit.is_row:
        return QualityCounts(rows, invalid, nullable=nullable)
    return QualityCounts(rows, invalid, read.malformed_rows, read.undecodable_rows, nullable)
