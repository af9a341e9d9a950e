"""The table schema: each column's kind and its *public* domain.

A schema is the user's declaration of what is public about a table: category
lists, numeric bounds, date ranges, and optionally the row count. Generators may
use these values freely; anything missing is discovered from the data with
differential privacy and paid for. Values that ``privsynth schema infer`` read from
the data are listed in ``data_derived`` so a reviewer (and ``--strict``) can tell a
true public declaration from a draft copied out of the private data.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar

if TYPE_CHECKING:
    from privsynth.schema.constraints import Constraint

Kind = Literal["auto", "categorical", "numeric", "datetime", "identifier", "text"]
KINDS: tuple[Kind, ...] = ("auto", "categorical", "numeric", "datetime", "identifier", "text")
Granularity = Literal["year", "month", "day", "hour", "minute", "second"]
GRANULARITIES: tuple[Granularity, ...] = ("year", "month", "day", "hour", "minute", "second")

#: what a column is, privacy-wise (used by scrubbing and by the attacks of the evaluation)
Role = Literal["direct_identifier", "quasi_identifier", "sensitive", "free_text", "other"]
ROLES: tuple[Role, ...] = (
    "direct_identifier", "quasi_identifier", "sensitive", "free_text", "other",
)  # fmt: skip

S = TypeVar("S", bound="ColumnSpec")


@dataclass(frozen=True, kw_only=True)
class ColumnSpec:
    """What is public about one column. Subclasses add their kind's domain."""

    kind: ClassVar[Kind]
    #: fields whose values were read from the private data (not a public declaration);
    #: besides the dataclass fields this may name ``"kind"`` (a kind decided from values)
    data_derived: frozenset[str] = field(default=frozenset())
    #: whether missing values are allowed (they become their own category)
    nullable: bool = False
    #: kept so older schema files still load; it has no effect: missing or invalid cells
    #: of a non-nullable column are always imputed (failing on them would let one record
    #: decide whether a run fails)
    impute_missing: bool = False
    #: privacy role; a declared role overrides automatic column classification
    role: Role | None = None

    def missing_domain(self) -> list[str]:
        """Domain fields still unknown, to be discovered with DP (and paid for)."""
        return []

    def with_fields(self: S, **changes: Any) -> S:
        """A copy with ``changes`` applied."""
        return replace(self, **changes)

    @property
    def modelled(self) -> bool:
        """Whether generators model this column (identifiers and text are not)."""
        return True


@dataclass(frozen=True, kw_only=True)
class AutoSpec(ColumnSpec):
    """A column whose kind and domain privsynth discovers with DP (and pays for)."""

    kind: ClassVar[Kind] = "auto"

    def missing_domain(self) -> list[str]:
        return ["kind"]


@dataclass(frozen=True, kw_only=True)
class CategoricalSpec(ColumnSpec):
    """A column with a public list of categories (or a public code system); other values
    map to ``other_label``."""

    kind: ClassVar[Kind] = "categorical"
    categories: tuple[str, ...] | None = None
    #: label for values outside ``categories``; ``None`` (the default for a declared
    #: list) makes such values an error, so a typo in the list cannot go unnoticed
    other_label: str | None = None
    #: a public code system (``icd9cm``, ``icd10cm``, see
    #: :mod:`privsynth.domain.code_systems`) whose codes and hierarchy are the domain
    code_system: str | None = None

    def missing_domain(self) -> list[str]:
        return ["categories"] if self.categories is None else []


@dataclass(frozen=True, kw_only=True)
class NumericSpec(ColumnSpec):
    """A number with public bounds; values are clipped into them and binned."""

    kind: ClassVar[Kind] = "numeric"
    min: float | None = None
    max: float | None = None
    integer: bool = False
    #: number of bins for the model; ``None`` picks one (unit bins for small integer ranges)
    bins: int | None = None

    def missing_domain(self) -> list[str]:
        return [name for name in ("min", "max") if getattr(self, name) is None]


@dataclass(frozen=True, kw_only=True)
class DatetimeSpec(ColumnSpec):
    """A timestamp with public bounds (ISO 8601 strings) and a granularity."""

    kind: ClassVar[Kind] = "datetime"
    min: str | None = None
    max: str | None = None
    granularity: Granularity = "day"
    #: strftime/strptime format of the values; ``None`` means ISO 8601
    format: str | None = None
    bins: int | None = None

    def missing_domain(self) -> list[str]:
        return [name for name in ("min", "max") if getattr(self, name) is None]


@dataclass(frozen=True, kw_only=True)
class IdentifierSpec(ColumnSpec):
    """A direct identifier: never modelled; fresh random tokens in the output."""

    kind: ClassVar[Kind] = "identifier"

    @property
    def modelled(self) -> bool:
        return False


@dataclass(frozen=True, kw_only=True)
class TextSpec(ColumnSpec):
    """Free text: not modelled by tabular generators; dropped from their output."""

    kind: ClassVar[Kind] = "text"

    @property
    def modelled(self) -> bool:
        return False


SPEC_TYPES: Mapping[Kind, type[ColumnSpec]] = {
    "auto": AutoSpec,
    "categorical": CategoricalSpec,
    "numeric": NumericSpec,
    "datetime": DatetimeSpec,
    "identifier": IdentifierSpec,
    "text": TextSpec,
}


@dataclass(frozen=True)
class Schema:
    """An ordered mapping of column names to specs, plus table-level public facts."""

    columns: Mapping[str, ColumnSpec]
    #: public number of rows, if the user declares it (otherwise it is estimated privately)
    rows: int | None = None
    rows_data_derived: bool = False
    #: strings read as missing values in CSV input
    missing_values: tuple[str, ...] = ("",)
    #: column identifying the person whose rows ε protects together (``None``: a row);
    #: it is never modelled or output (see :mod:`privsynth.dp.units`)
    privacy_unit: str | None = None
    #: most rows kept per unit (``None``: the default, :data:`privsynth.dp.units.DEFAULT_MAX_ROWS`)
    max_rows_per_unit: int | None = None
    #: rules every synthetic record satisfies, honoured when sampling (post-processing,
    #: no privacy cost; see :mod:`privsynth.schema.constraints`)
    constraints: tuple[Constraint, ...] = ()

    def __post_init__(self) -> None:
        if self.constraints:
            from privsynth.schema.constraints import check_columns

            object.__setattr__(self, "constraints", tuple(self.constraints))
            check_columns(self.constraints, self)

    @classmethod
    def auto(cls, columns: list[str]) -> Schema:
        """A schema that declares nothing: every column is discovered with DP."""
        return cls(columns={name: AutoSpec() for name in columns})

    def __iter__(self) -> Iterator[str]:
        return iter(self.columns)

    def __getitem__(self, name: str) -> ColumnSpec:
        return self.columns[name]

    def data_derived_fields(self) -> list[str]:
        """``column.field`` names of every value read from the data, for warnings."""
        found = [f"{name}.{f}" for name, spec in self.columns.items() for f in spec.data_derived]
        if self.rows_data_derived and self.rows is not None:
            found.append("rows")
        return sorted(found)

    def needs_discovery(self) -> dict[str, list[str]]:
        """Columns whose domain is incomplete, with the missing fields."""
        missing = {name: spec.missing_domain() for name, spec in self.columns.items()}
        return {name: fields for name, fields in missing.items() if fields}

    def roles(self) -> dict[str, str]:
        """Column -> declared role (only columns that declare one): overrides PII
        classification of those columns."""
        return {name: spec.role for name, spec in self.columns.items() if spec.role}

    def modelled_columns(self) -> list[str]:
        """Columns a tabular generator models, in schema order."""
        return [name for name, spec in self.columns.items() if spec.modelled]
