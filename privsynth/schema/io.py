"""Reading and writing schema YAML, with one-line errors for every malformed entry."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from privsynth.domain.code_systems import CODE_SYSTEMS
from privsynth.errors import SchemaError
from privsynth.io import atomic_path
from privsynth.schema.constraints import check_constraints, parse_constraints
from privsynth.schema.model import (
    GRANULARITIES,
    KINDS,
    ROLES,
    SPEC_TYPES,
    CategoricalSpec,
    ColumnSpec,
    DatetimeSpec,
    NumericSpec,
    Schema,
)

SCHEMA_VERSION = 1
#: more categories than this cannot be modelled; the column should be generalised
MAX_CATEGORIES = 5000
MAX_BINS = 1000
_TOP_LEVEL = {
    "version", "rows", "rows_data_derived", "missing_values", "privacy_unit",
    "max_rows_per_unit", "columns", "constraints",
}  # fmt: skip

_HEADER = """\
# privsynth table schema (version 1).
# Every value here is treated as PUBLIC: generators use it without spending privacy budget.
# Entries listed under `data_derived` were read from the private data by `privsynth schema
# infer`; review them, replace them with public knowledge, then delete the `data_derived` line.
# A run in strict mode refuses a schema that still has data-derived entries.
"""


def load_schema(path: str | Path) -> Schema:
    """Load and validate a schema file; errors name the column and field at fault."""
    file = Path(path)
    if not file.is_file():
        raise SchemaError(f"schema file {file} does not exist", hint="check the `schema` path")
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        raise SchemaError(
            f"schema file {file} is not valid UTF-8 YAML{line}", hint="fix its syntax"
        ) from None
    return schema_from_dict(raw, source=str(file))


def dump_schema(schema: Schema, path: str | Path) -> None:
    """Write ``schema`` as commented YAML, atomically (a failed write keeps the old file)."""
    text = _HEADER + yaml.dump(
        schema_to_dict(schema), Dumper=_Dumper, sort_keys=False, allow_unicode=True
    )
    with atomic_path(path) as temp:
        temp.write_text(text, encoding="utf-8")


class _Dumper(yaml.SafeDumper):
    """Safe YAML in which texts holding line breaks or control characters are written
    double-quoted, with escapes: other styles fold a NEL or U+2028 into a space."""


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.Node:
    style = None if text.isprintable() else '"'
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _represent_text)


def schema_to_dict(schema: Schema) -> dict[str, Any]:
    """A plain, YAML-ready representation of ``schema``."""
    out: dict[str, Any] = {"version": SCHEMA_VERSION}
    if schema.rows is not None:
        out["rows"] = schema.rows
        if schema.rows_data_derived:
            out["rows_data_derived"] = True
    if schema.missing_values != ("",):
        out["missing_values"] = list(schema.missing_values)
    if schema.privacy_unit is not None:
        out["privacy_unit"] = schema.privacy_unit
    if schema.max_rows_per_unit is not None:
        out["max_rows_per_unit"] = schema.max_rows_per_unit
    out["columns"] = {name: _spec_to_dict(spec) for name, spec in schema.columns.items()}
    if schema.constraints:
        out["constraints"] = [constraint.to_dict() for constraint in schema.constraints]
    return out


def _spec_to_dict(spec: ColumnSpec) -> dict[str, Any]:
    """Fields that differ from their default, and every field read from the data even
    when it equals the default (a reviewer must see the value that was read)."""
    entry: dict[str, Any] = {"kind": spec.kind}
    defaults = {f.name: f.default for f in dataclasses.fields(type(spec))}
    for f in dataclasses.fields(spec):
        value = getattr(spec, f.name)
        if f.name == "data_derived":
            continue
        if value == defaults[f.name] and f.name not in spec.data_derived:
            continue
        entry[f.name] = list(value) if isinstance(value, tuple) else value
    if spec.data_derived:
        entry["data_derived"] = sorted(spec.data_derived)
    return entry


def schema_from_dict(raw: Any, source: str = "schema", *, released: bool = False) -> Schema:
    """Validate a parsed YAML document and build a :class:`Schema`.

    ``released``: the completed schema of a fitted model, where DP discovery may have
    released no category of a column (all of it is ``<other>``); a user's declaration
    of an empty list is refused."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("columns"), Mapping):
        raise SchemaError(f"{source} has no `columns:` mapping", hint="see docs/schema.md")
    unknown = set(raw) - _TOP_LEVEL
    if unknown:
        raise SchemaError(f"{source} has unknown top-level keys: {', '.join(sorted(unknown))}")
    if raw.get("version", SCHEMA_VERSION) != SCHEMA_VERSION:
        raise SchemaError(f"{source} has version {raw.get('version')!r}; this release reads 1")
    if not raw["columns"]:
        raise SchemaError(f"{source} declares no columns", hint="list at least one column")
    columns = {
        str(name): _parse_column(str(name), entry, released)
        for name, entry in raw["columns"].items()
    }
    schema = Schema(
        columns=columns,
        rows=_parse_rows(raw.get("rows"), source),
        rows_data_derived=bool(raw.get("rows_data_derived", False)),
        missing_values=_parse_missing(raw.get("missing_values", [""]), source),
        privacy_unit=_parse_unit(raw.get("privacy_unit"), source),
        max_rows_per_unit=_parse_max_rows(raw.get("max_rows_per_unit"), source),
    )
    constraints = parse_constraints(raw.get("constraints"), source)
    try:
        check_constraints(constraints, schema, released=released)
    except SchemaError as exc:
        raise SchemaError(f"{source}: {exc.message}", hint=exc.hint) from None
    return dataclasses.replace(schema, constraints=constraints)


def _parse_missing(value: Any, source: str) -> tuple[str, ...]:
    if not isinstance(value, list) or any(isinstance(v, (list, dict)) for v in value):
        raise SchemaError(
            f"{source}: `missing_values` must be a list of texts", hint='e.g. ["", "NA"]'
        )
    return tuple(str(v) for v in value)


def _parse_unit(value: Any, source: str) -> str | None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise SchemaError(
            f"{source}: `privacy_unit` must name a column, got {value!r}",
            hint="e.g. privacy_unit: patient_id",
        )
    return value


def _parse_max_rows(value: Any, source: str) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise SchemaError(f"{source}: `max_rows_per_unit` must be a positive integer")
    return value


def _parse_rows(value: Any, source: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SchemaError(f"{source}: `rows` must be a positive integer, got {value!r}")
    return value


def _parse_column(name: str, entry: Any, released: bool = False) -> ColumnSpec:
    if not isinstance(entry, Mapping) or entry.get("kind") not in KINDS:
        raise SchemaError(
            f"column {name!r} needs a `kind`", hint=f"set kind to one of: {', '.join(KINDS)}"
        )
    spec_type = SPEC_TYPES[entry["kind"]]
    allowed = {f.name for f in dataclasses.fields(spec_type)} | {"kind"}
    unknown = set(entry) - allowed
    if unknown:
        raise SchemaError(
            f"column {name!r} has unknown keys: {', '.join(sorted(unknown))}",
            hint=f"a {entry['kind']} column accepts: {', '.join(sorted(allowed))}",
        )
    fields = {k: v for k, v in entry.items() if k != "kind"}
    derived = fields.pop("data_derived", [])
    # `kind` may be marked too: `schema infer` decides most kinds from the values
    markable = allowed - {"data_derived"}
    if not isinstance(derived, list) or not all(
        isinstance(d, str) and d in markable for d in derived
    ):
        raise SchemaError(
            f"column {name!r}: `data_derived` must list fields of that column",
            hint=f"a {entry['kind']} column's fields: {', '.join(sorted(markable))}",
        )
    fields["data_derived"] = frozenset(str(d) for d in derived)
    if "nullable" in fields and not isinstance(fields["nullable"], bool):
        raise SchemaError(f"column {name!r}: `nullable` must be true or false")
    if fields.get("role") is not None and fields["role"] not in ROLES:
        raise SchemaError(
            f"column {name!r}: unknown role {fields['role']!r}",
            hint=f"use one of: {', '.join(ROLES)}",
        )
    spec = spec_type(**_coerce(name, spec_type, fields))
    _validate(name, spec, released)
    return spec


def _coerce(name: str, spec_type: type[ColumnSpec], fields: dict[str, Any]) -> dict[str, Any]:
    if spec_type is CategoricalSpec and fields.get("categories") is not None:
        cats = fields["categories"]
        if not isinstance(cats, list) or any(isinstance(c, (list, dict)) for c in cats):
            raise SchemaError(f"column {name!r}: `categories` must be a list of values")
        fields["categories"] = tuple(str(c) for c in cats)
    if spec_type is DatetimeSpec:
        for key in ("min", "max"):
            if fields.get(key) is not None:
                fields[key] = str(fields[key])
    return fields


def _validate(name: str, spec: ColumnSpec, released: bool = False) -> None:
    if isinstance(spec, CategoricalSpec):
        _validate_categorical(name, spec, released)
    elif isinstance(spec, NumericSpec):
        _validate_numeric(name, spec)
    elif isinstance(spec, DatetimeSpec):
        _validate_datetime(name, spec)


def _validate_categorical(name: str, spec: CategoricalSpec, released: bool = False) -> None:
    if spec.code_system is not None and spec.code_system not in CODE_SYSTEMS:
        raise SchemaError(
            f"column {name!r}: unknown code_system {spec.code_system!r}",
            hint=f"use one of: {', '.join(CODE_SYSTEMS)}, or list `categories` instead",
        )
    if spec.categories is None:
        return
    if not spec.categories and not released:
        raise SchemaError(f"column {name!r} declares an empty category list")
    if len(set(spec.categories)) != len(spec.categories):
        raise SchemaError(f"column {name!r} lists a category twice", hint="remove duplicates")
    if len(spec.categories) > MAX_CATEGORIES:
        raise SchemaError(
            f"column {name!r} declares {len(spec.categories)} categories (limit {MAX_CATEGORIES})",
            hint="generalise it (e.g. to a prefix) or declare it `identifier` or `text`",
        )


def _validate_bins(name: str, bins: Any) -> None:
    if bins is not None and (isinstance(bins, bool) or not isinstance(bins, int)):
        raise SchemaError(f"column {name!r}: `bins` must be an integer")
    if bins is not None and not 1 <= bins <= MAX_BINS:
        raise SchemaError(f"column {name!r}: `bins` must be between 1 and {MAX_BINS}")


def _validate_numeric(name: str, spec: NumericSpec) -> None:
    for key in ("min", "max"):
        value = getattr(spec, key)
        ok = value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))
        if not ok or (value is not None and not math.isfinite(value)):
            raise SchemaError(f"column {name!r}: `{key}` must be a finite number")
    if spec.min is not None and spec.max is not None and spec.min > spec.max:
        raise SchemaError(f"column {name!r}: `min` must not exceed `max`")
    if not isinstance(spec.integer, bool):
        raise SchemaError(f"column {name!r}: `integer` must be true or false")
    _validate_bins(name, spec.bins)


def _validate_datetime(name: str, spec: DatetimeSpec) -> None:
    if spec.granularity not in GRANULARITIES:
        raise SchemaError(
            f"column {name!r}: unknown granularity {spec.granularity!r}",
            hint=f"use one of: {', '.join(GRANULARITIES)}",
        )
    bounds = []
    for key in ("min", "max"):
        value = getattr(spec, key)
        if value is None:
            continue
        try:
            bounds.append(pd.Timestamp(value))
        except (ValueError, TypeError):
            raise SchemaError(f"column {name!r}: `{key}` must be an ISO 8601 date") from None
    if len(bounds) == 2 and bounds[0] > bounds[1]:
        raise SchemaError(f"column {name!r}: `min` must not be later than `max`")
    _validate_bins(name, spec.bins)
