"""What a run decides before it reads a single row: the schema (from the header and
the user's declarations), the privacy unit, and the zCDP budget that the ledger must
admit. Warnings found here depend only on the header and the schema."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from privsynth.domain.discovery import DiscoveryReport
from privsynth.dp.accounting import PrivacyCost
from privsynth.dp.accounting import costs as cost_of
from privsynth.dp.accounting.rdp import rho_for_epsilon
from privsynth.dp.ledger import Ledger, check_budget_values
from privsynth.dp.units import PrivacyUnit
from privsynth.errors import ConfigurationError, SchemaError
from privsynth.generators import Generator
from privsynth.io import read_header
from privsynth.pii.columns import classify_header
from privsynth.schema import Schema, load_schema
from privsynth.schema.constraints import check_constraints
from privsynth.schema.model import AutoSpec, ColumnSpec, IdentifierSpec
from privsynth.synthesis.config import DISCOVERY_DELTA_SHARE, SynthesisConfig
from privsynth.synthesis.text_part import declare_text_column
from privsynth.text.generator import TextGenerator
from privsynth.warnings import (
    DataDerivedSchemaWarning,
    IdentifierColumnWarning,
    PrivsynthWarning,
    UnmodelledColumnWarning,
)

#: what a run reads: a frame, or a CSV/Parquet file
Source = pd.DataFrame | str | Path
#: a schema as given by the user: loaded, a YAML path, or none (discover everything)
SchemaSource = Schema | str | Path | None


def columns_of(source: Source) -> list[str]:
    """The header only."""
    if isinstance(source, pd.DataFrame):
        return [str(c) for c in source.columns]
    return read_header(source)


def resolve_schema(
    schema: SchemaSource,
    columns: list[str],
    strict: bool,
    privacy_unit: str | None = None,
) -> tuple[Schema, list[str]]:
    """The schema to use (without the privacy-unit column) and warnings about
    data-derived entries (refused if strict). Reads only the header."""
    resolved, found = _resolve(schema, columns, strict, privacy_unit)
    return resolved, [str(w) for w in found]


def _resolve(
    schema: SchemaSource, columns: list[str], strict: bool, privacy_unit: str | None
) -> tuple[Schema, list[PrivsynthWarning]]:
    resolved = _load(schema, columns)
    unit = _unit_column(resolved, privacy_unit, columns)
    modelled = [c for c in columns if c != unit]
    _check_columns(resolved, modelled, unit)
    ordered = replace(resolved, columns={c: resolved[c] for c in modelled}, privacy_unit=unit)
    found = _identifier_warnings(ordered)
    derived = ordered.data_derived_fields()
    if derived and strict:
        raise SchemaError(
            f"`strict`: schema values read from the data: {', '.join(derived)}",
            hint="replace them with public knowledge and remove their data_derived marks",
        )
    if derived:
        listed = ", ".join(derived)
        found.append(
            DataDerivedSchemaWarning(
                f"schema values read from the data are treated as public: {listed}"
            )
        )
    return ordered, found


def _load(schema: SchemaSource, columns: list[str]) -> Schema:
    if schema is None:
        return _auto_schema(columns)
    return schema if isinstance(schema, Schema) else load_schema(schema)


def _unit_column(schema: Schema, requested: str | None, columns: list[str]) -> str | None:
    if requested and schema.privacy_unit and requested != schema.privacy_unit:
        raise ConfigurationError(
            f"`privacy_unit` {requested} contradicts the schema's privacy_unit "
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
        specs[name] = AutoSpec(role=found.role if found else None)
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


def unmodelled_warnings(
    schema: Schema, discovery: DiscoveryReport
) -> list[UnmodelledColumnWarning]:
    """A warning per column that discovery (not the user) left out of the model."""
    return [
        UnmodelledColumnWarning(f"column {name!r} is not modelled: {reason}")
        for name, reason in unmodelled_columns(schema, discovery).items()
        if name in discovery.kinds
    ]


def _identifier_warnings(schema: Schema) -> list[PrivsynthWarning]:
    """Declared kinds win, but a modelled column whose header names a direct identifier
    deserves a second look."""
    flagged = []
    for name, spec in schema.columns.items():
        found = classify_header(name)
        if spec.modelled and spec.role is None and found and found.role == "direct_identifier":
            flagged.append(name)
    if not flagged:
        return []
    listed = ", ".join(flagged)
    return [
        IdentifierColumnWarning(
            f"columns named like direct identifiers are modelled as declared: {listed}"
        )
    ]


@dataclass(frozen=True)
class Plan:
    """A run's budget and unit, fixed from the configuration and the header alone."""

    config: SynthesisConfig
    dataset: str
    delta: float
    schema: Schema
    unit: PrivacyUnit
    rho: float
    discovery_delta: float
    warnings: list[PrivsynthWarning]
    #: what the generator will charge, when it is not a zCDP share (DP-SGD); the run
    #: then reserves the zCDP share spent before it plus exactly this cost
    generator_cost: PrivacyCost | None = None
    #: what the text generator will charge after the tabular part (a text column)
    text_cost: PrivacyCost | None = None

    @property
    def modelled_columns(self) -> list[str]:
        """The columns the generator will model, as far as header and schema tell."""
        return [name for name, spec in self.schema.columns.items() if spec.modelled]

    @property
    def prefix_rho(self) -> float:
        """The zCDP spent before the generator runs: discovery and data-quality counts."""
        shares = self.config.quality_share
        if self.schema.needs_discovery():
            shares += self.config.discovery_share
        return self.rho * shares

    @property
    def tabular_rho(self) -> float:
        """The zCDP budget of everything but the text: discovery, quality counts and the
        tabular generator (with a text column, what ``text_share`` leaves; without
        modelled columns besides the text, only the counts)."""
        if self.config.text_column is None:
            return self.rho
        if not self.modelled_columns:
            return self.prefix_rho
        share = self.config.text_share_for(len(self.modelled_columns))
        return self.rho * (1.0 - share)

    @property
    def limit(self) -> PrivacyCost:
        """The most this run may spend: what the ledger admits and reserves."""
        if self.text_cost is not None:
            tabular = cost_of.zcdp(self.tabular_rho, self.discovery_delta)
            return cost_of.sequence_of([tabular, self.text_cost])
        if self.generator_cost is None:
            return cost_of.zcdp(self.rho, self.discovery_delta)
        prefix = cost_of.zcdp(self.prefix_rho, self.discovery_delta)
        return cost_of.sequence_of([prefix, self.generator_cost])

    def with_generator(self, generator: Generator) -> Plan:
        """This plan, reserving what ``generator`` says it will charge (if not zCDP)."""
        generator.check_columns(self.modelled_columns)
        if generator.rows_only and not self.unit.is_row:
            raise ConfigurationError(
                f"generator {generator.name!r} protects single rows, not a privacy unit with "
                "several rows",
                hint="use a marginal generator (mst, aim) with `privacy_unit`",
            )
        prefix = cost_of.zcdp(self.prefix_rho, self.discovery_delta)
        planned = generator.planned_cost(self.config.epsilon, self.delta, prefix)
        if planned is not None and self.config.text_column is not None:
            raise ConfigurationError(
                f"a text column needs a marginal tabular generator, not {generator.name!r}",
                hint="use auto, mst or aim for the table's other columns",
            )
        return replace(self, generator_cost=planned)

    def with_text(self, text: TextGenerator) -> Plan:
        """This plan, reserving the text generator's cost after the tabular part."""
        before = cost_of.zcdp(self.tabular_rho, self.discovery_delta)
        planned = text.planned_cost(self.config.epsilon, self.delta, before)
        return replace(self, text_cost=planned)


def make_plan(source: Source, config: SynthesisConfig, schema: SchemaSource, book: Ledger) -> Plan:
    """Everything decided before the data is read."""
    assert config.dataset is not None  # validated
    delta = config.delta if config.delta is not None else book.budget(config.dataset).delta
    check_budget_values(config.epsilon, delta)
    resolved, found = _resolve(schema, columns_of(source), config.strict, config.privacy_unit)
    if config.text_column is not None:
        resolved = declare_text_column(resolved, config.text_column, config.condition_on)
    check_constraints(resolved.constraints, resolved)  # a typo fails before ε is spent
    rows_per_unit = config.max_rows_per_unit or resolved.max_rows_per_unit
    unit = PrivacyUnit.of(resolved.privacy_unit, rows_per_unit)
    discovery_delta = delta * DISCOVERY_DELTA_SHARE if resolved.needs_discovery() else 0.0
    rho = rho_for_epsilon(config.epsilon, delta - discovery_delta)
    return Plan(config, config.dataset, delta, resolved, unit, rho, discovery_delta, found)
