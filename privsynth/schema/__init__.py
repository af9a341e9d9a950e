"""Table schemas: column kinds and public domains (see :mod:`privsynth.schema.model`)."""

from privsynth.schema.io import dump_schema, load_schema, schema_from_dict, schema_to_dict
from privsynth.schema.model import (
    AutoSpec,
    CategoricalSpec,
    ColumnSpec,
    DatetimeSpec,
    IdentifierSpec,
    NumericSpec,
    Schema,
    TextSpec,
)

__all__ = [
    "AutoSpec",
    "CategoricalSpec",
    "ColumnSpec",
    "DatetimeSpec",
    "IdentifierSpec",
    "NumericSpec",
    "Schema",
    "TextSpec",
    "dump_schema",
    "load_schema",
    "schema_from_dict",
    "schema_to_dict",
]
