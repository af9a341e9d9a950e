"""The synthesis pipeline: plan → reserve budget → read → discover → encode → fit →
sample → decode → write → record spends.

The budget is reserved in the ledger *before* the data is read. If the run stops
before any mechanism touched the data (e.g. a malformed file), the reservation is
released; once noise has been drawn, the spends made so far are recorded even if
the run fails later.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from privsynth.accounting import PrivacyFilter, compose
from privsynth.accounting import costs as cost_of
from privsynth.accounting.accountant import Spend
from privsynth.accounting.rdp import rho_for_epsilon
from privsynth.domain.discovery import DiscoveryReport, coerce_discovered, discover
from privsynth.domain.table import build_codecs, decode_table, encode_table
from privsynth.errors import ConfigurationError, InputDataError, SchemaError
from privsynth.generators import GENERATORS, Generator, ProgressCallback
from privsynth.generators.base import no_progress
from privsynth.io import check_output_path, fingerprint, read_header, read_table, write_table
from privsynth.ledger import BudgetStatus, Ledger, check_budget_values
from privsynth.mechanisms import Mechanisms
from privsynth.noise import NoiseSource
from privsynth.pii.columns import classify_header
from privsynth.pii.residual import ResidualReport, residual_scan
from privsynth.schema import Schema, load_schema
from privsynth.schema.model import (
    AutoSpec,
    CategoricalSpec,
    ColumnSpec,
    IdentifierSpec,
    TextSpec,
)

#: default share of the zCDP budget spent on discovering incomplete domains
DISCOVERY_SHARE = 0.1
#: share of delta given to thresholded category discovery (the rest to the conversion)
DISCOVERY_DELTA_SHARE = 0.01


@dataclass(frozen=True)
class SynthesisConfig:
    """Everything a run needs besides the data; validated before anything is read."""

    epsilon: float
    delta: float | None = None
    generator: str = "mst"
    generator_options: dict[str, Any] = field(default_factory=dict)
    rows: int | None = None
    dataset: str | None = None
    seed: int | None = None
    strict: bool = False
    discovery_share: float = DISCOVERY_SHARE
    #: scan the synthetic output for residual PII (warnings with counts)
    residual_scan: bool = True

    def validate(self) -> None:
        check_budget_values(self.epsilon, self.delta if self.delta is not None else 1e-6)
        GENERATORS.get(self.generator)
        if self.rows is not None and (isinstance(self.rows, bool) or self.rows < 1):
            raise ConfigurationError(f"rows must be a positive integer, got {self.rows!r}")
        if not 0.0 < self.discovery_share < 1.0:
            raise ConfigurationError("discovery_share must be between 0 and 1")


@dataclass
class SynthesisResult:
    """The synthetic table and a true account of what producing it cost."""

    data: pd.DataFrame
    run_id: str
    dataset: str
    epsilon: float
    delta: float
    spent_epsilon: float
    status: BudgetStatus
    schema: Schema
    generator: str
    generator_params: dict[str, Any]
    discovery: DiscoveryReport
    warnings: list[str]
    seconds: float
    output: Path | None = None
    spends: list[Spend] = field(default_factory=list)
    residual: ResidualReport | None = None

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
    schema: Schema | str | Path | None, columns: list[str], strict: bool
) -> tuple[Schema, list[str]]:
    """The schema to use and warnings about data-derived entries (refused if strict)."""
    if schema is None:
        return _auto_schema(columns), []
    resolved = schema if isinstance(schema, Schema) else load_schema(schema)
    unknown = [c for c in resolved if c not in columns]
    if unknown:
        raise SchemaError(
            f"schema names columns not in the input: {', '.join(unknown)}",
            hint="fix the column names in the schema",
        )
    undeclared = [c for c in columns if c not in resolved.columns]
    if undeclared:
        raise SchemaError(
            f"input columns missing from the schema: {', '.join(undeclared)}",
            hint="declare them (kind: identifier drops a column; kind: auto discovers it)",
        )
    ordered = Schema(
        {c: resolved[c] for c in columns},
        resolved.rows,
        resolved.rows_data_derived,
        resolved.missing_values,
    )
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


def _auto_schema(columns: list[str]) -> Schema:
    """No schema: headers that name direct identifiers or free text decide those columns
    (headers are metadata, so this costs no budget); the rest is discovered with DP."""
    specs: dict[str, ColumnSpec] = {}
    for name in columns:
        found = classify_header(name)
        role = found.role if found else None
        if role == "direct_identifier":
            specs[name] = IdentifierSpec(role=role)
        elif role == "free_text":
            specs[name] = TextSpec(role=role)
        else:
            specs[name] = AutoSpec(role=role)
    return Schema(specs)


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


def _plan(config: SynthesisConfig, delta: float, schema: Schema) -> tuple[float, float]:
    """(rho, additive delta) for the whole run, before any data is read."""
    discovery_delta = delta * DISCOVERY_DELTA_SHARE if schema.needs_discovery() else 0.0
    return rho_for_epsilon(config.epsilon, delta - discovery_delta), discovery_delta


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
    dataset = config.dataset or _default_dataset(source)
    delta = config.delta if config.delta is not None else book.budget(dataset).delta
    check_budget_values(config.epsilon, delta)
    if output is not None:
        check_output_path(output)
    resolved, warnings = resolve_schema(schema, _columns_of(source), config.strict)
    rho, discovery_delta = _plan(config, delta, resolved)
    generator = GENERATORS.get(config.generator)(**config.generator_options)
    run_id = uuid.uuid4().hex
    progress("reserving privacy budget")
    limit = cost_of.zcdp(rho, discovery_delta)
    book.reserve(
        dataset,
        run_id,
        limit,
        (config.epsilon, delta),
        config.generator,
        {"options": config.generator_options, "rows": config.rows},
    )
    run = _Run(config, resolved, generator, PrivacyFilter(limit), progress, warnings)
    try:
        data = run.execute(source, rho, discovery_delta)
        if config.residual_scan:
            progress("scanning the output for residual PII")
            run.residual = residual_scan(data, public_values=run.public_values())
            if run.residual.total:
                run.warnings.append(f"residual PII scan of the output: {run.residual.summary()}")
        if output is not None:
            progress("writing output")
            write_table(data, output)
            run.output_sha256 = fingerprint(output)  # lets an audit find this run
    except BaseException:
        _close_failed(book, run_id, run)
        raise
    book.commit(run_id, run.filter.accountant.history, notes=run.notes())
    spent = run.filter.accountant.total().epsilon(delta)
    return SynthesisResult(
        data=data,
        run_id=run_id,
        dataset=dataset,
        epsilon=config.epsilon,
        delta=delta,
        spent_epsilon=spent,
        status=book.status(dataset),
        schema=run.schema,
        generator=config.generator,
        generator_params=generator.params(),
        discovery=run.discovery,
        warnings=run.warnings,
        seconds=time.monotonic() - started,
        output=Path(output) if output is not None else None,
        spends=run.filter.accountant.history,
        residual=run.residual,
    )


def _close_failed(book: Ledger, run_id: str, run: _Run) -> None:
    history = run.filter.accountant.history
    if history:
        book.commit(run_id, history, failed=True, notes=run.notes())
    else:
        book.release(run_id)


def _default_dataset(source: Source) -> str:
    if isinstance(source, pd.DataFrame):
        return "default"
    return Path(source).stem


class _Run:
    """The data-touching part of one synthesis run."""

    def __init__(
        self,
        config: SynthesisConfig,
        schema: Schema,
        generator: Generator,
        privacy_filter: PrivacyFilter,
        progress: ProgressCallback,
        warnings: list[str],
    ) -> None:
        self.config, self.schema, self.generator = config, schema, generator
        self.filter, self.progress, self.warnings = privacy_filter, progress, list(warnings)
        self.noise = NoiseSource(config.seed)
        self.rng = self.noise.numpy_generator()
        self.mechanisms = Mechanisms(privacy_filter, self.noise)
        self.discovery = DiscoveryReport()
        self.residual: ResidualReport | None = None
        self.output_sha256: str | None = None
        if config.seed is not None:
            self.warnings.append("--seed makes the noise reproducible: use it for tests only")

    def execute(self, source: Source, rho: float, discovery_delta: float) -> pd.DataFrame:
        self.progress("reading data")
        frame = self._read(source)
        declared = [
            c for c in self.schema.modelled_columns() if not self.schema[c].missing_domain()
        ]
        encode_table(frame, self.schema, build_codecs(_subset(self.schema, declared)), self.rng)
        if self.schema.needs_discovery():
            self.progress("discovering domains with DP")
            share = rho * self.config.discovery_share
            self.schema, self.discovery = discover(
                frame, self.schema, self.mechanisms, share, discovery_delta
            )
            self.warnings += self.discovery.warnings
            frame = coerce_discovered(frame, self.schema, list(self.discovery.columns))
        codecs = build_codecs(self.schema)
        table = encode_table(frame, self.schema, codecs, self.rng)
        self.generator.fit(table, self.mechanisms, self.filter.remaining_rho(), self.progress)
        rows = self.config.rows or self.schema.rows or self.generator.estimated_rows
        self.progress(f"sampling {rows} rows")
        codes = self.generator.sample(rows, self.rng)
        return decode_table(codes, self.schema, codecs, rows, self.rng)

    def _read(self, source: Source) -> pd.DataFrame:
        if isinstance(source, pd.DataFrame):
            if source.empty:
                raise InputDataError("the input frame has no rows", hint="pass data rows")
            frame = source.copy()
            frame.columns = pd.Index([str(c) for c in frame.columns])
            return frame.replace(list(self.schema.missing_values), None)
        return read_table(source, self.schema.missing_values)

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
            "seeded": self.config.seed is not None,
            "residual_pii": self.residual.to_dict() if self.residual else None,
            "output_sha256": self.output_sha256,
        }


def _subset(schema: Schema, columns: list[str]) -> Schema:
    return Schema({c: schema[c] for c in columns}, schema.rows, False, schema.missing_values)
