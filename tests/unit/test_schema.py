"""Schema files: round trips, validation errors, data-derived marks and --strict."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from privsynth.errors import SchemaError
from privsynth.pipeline import resolve_schema
from privsynth.schema import (
    CategoricalSpec,
    DatetimeSpec,
    NumericSpec,
    Schema,
    dump_schema,
    load_schema,
    schema_from_dict,
)
from privsynth.schema.infer import infer_schema


def test_bundled_adult_schema_is_complete_and_public(adult_schema_path: Path) -> None:
    schema = load_schema(adult_schema_path)
    assert len(schema.columns) == 15
    assert schema.needs_discovery() == {}
    assert schema.data_derived_fields() == []
    assert isinstance(schema["age"], NumericSpec) and schema["age"].integer
    assert "?" in (schema["workclass"].categories or ())  # type: ignore[attr-defined]


def test_dump_and_load_round_trip(tmp_path: Path, adult_schema_path: Path) -> None:
    schema = load_schema(adult_schema_path)
    dump_schema(schema, tmp_path / "copy.yaml")
    again = load_schema(tmp_path / "copy.yaml")
    assert again == schema
    assert (tmp_path / "copy.yaml").read_text().startswith("# privsynth table schema")


def _columns(**columns: object) -> dict[str, object]:
    return {"version": 1, "columns": columns}


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        ({"version": 1}, "no `columns:`"),
        (_columns(), "declares no columns"),
        (_columns(a={"kind": "float"}), "needs a `kind`"),
        (_columns(a={"kind": "numeric", "min": 5, "max": 1}), "`min` must be smaller"),
        (_columns(a={"kind": "numeric", "min": float("nan"), "max": 1}), "finite number"),
        (_columns(a={"kind": "numeric", "bins": 0, "min": 0, "max": 1}), "`bins`"),
        (_columns(a={"kind": "categorical", "categories": ["x", "x"]}), "twice"),
        (_columns(a={"kind": "categorical", "categories": []}), "empty category list"),
        (_columns(a={"kind": "categorical", "colour": 1}), "unknown keys: colour"),
        (_columns(a={"kind": "datetime", "granularity": "week"}), "unknown granularity"),
        (_columns(a={"kind": "datetime", "min": "yesterday"}), "ISO 8601"),
        (_columns(a={"kind": "numeric", "data_derived": ["categories"]}), "data_derived"),
        ({"version": 2, "columns": {"a": {"kind": "text"}}}, "version"),
        ({"columns": {"a": {"kind": "text"}}, "rows": -3}, "positive integer"),
    ],
)
def test_malformed_schemas_are_refused_with_a_clear_message(
    document: dict[str, object], fragment: str
) -> None:
    with pytest.raises(SchemaError) as caught:
        schema_from_dict(document)
    assert fragment in caught.value.one_line()
    assert "\n" not in caught.value.one_line()


def test_too_many_categories_is_refused() -> None:
    document = _columns(a={"kind": "categorical", "categories": [str(i) for i in range(6000)]})
    with pytest.raises(SchemaError, match="limit"):
        schema_from_dict(document)


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("columns:\n  a: {kind: numeric\n")
    with pytest.raises(SchemaError, match="line"):
        load_schema(path)


def test_infer_marks_every_value_read_from_the_data(adult_frame: pd.DataFrame) -> None:
    drafted = infer_schema(adult_frame, min_count=10)
    age = drafted["age"]
    assert isinstance(age, NumericSpec)
    assert age.min == int(adult_frame["age"].astype(int).min())
    assert {"min", "max"} <= age.data_derived
    country = drafted["native-country"]
    assert isinstance(country, CategoricalSpec)
    assert "categories" in country.data_derived
    counts = adult_frame["native-country"].value_counts()
    rare = set(counts[counts < 10].index)
    assert rare and not rare & set(country.categories or ())
    assert country.other_label is not None  # rare values still have somewhere to go


def test_infer_detects_identifiers_text_and_dates() -> None:
    frame = pd.DataFrame(
        {
            "patient_id": [f"P{i:05d}" for i in range(50)],
            "note": ["patient reports mild pain after the fall yesterday"] * 50,
            "admitted": pd.date_range("2020-01-01", periods=50, freq="D").strftime("%Y-%m-%d"),
        }
    )
    drafted = infer_schema(frame)
    assert drafted["patient_id"].kind == "identifier"
    assert drafted["note"].kind == "text"
    admitted = drafted["admitted"]
    assert isinstance(admitted, DatetimeSpec)
    assert admitted.granularity == "day" and admitted.min is not None
    assert admitted.min.startswith("2020-01-01")


def test_strict_refuses_data_derived_entries(adult_frame: pd.DataFrame) -> None:
    drafted = infer_schema(adult_frame)
    columns = list(adult_frame.columns)
    with pytest.raises(SchemaError, match="--strict"):
        resolve_schema(drafted, columns, strict=True)
    resolved, warnings = resolve_schema(drafted, columns, strict=False)
    assert resolved.columns.keys() == drafted.columns.keys()
    assert len(warnings) == 1 and "age.min" in warnings[0]


def test_schema_and_input_columns_must_match(adult_schema_path: Path) -> None:
    schema = load_schema(adult_schema_path)
    columns = list(schema.columns)
    with pytest.raises(SchemaError, match="not in the input: age"):
        resolve_schema(schema, columns[1:], strict=False)
    with pytest.raises(SchemaError, match="missing from the schema: extra"):
        resolve_schema(schema, [*columns, "extra"], strict=False)


def test_no_schema_means_every_column_is_discovered() -> None:
    schema = Schema.auto(["a", "b"])
    assert schema.needs_discovery() == {"a": ["kind"], "b": ["kind"]}


def test_partial_schema_discovers_only_missing_fields(tmp_path: Path) -> None:
    path = tmp_path / "partial.yaml"
    path.write_text(
        yaml.safe_dump(
            _columns(
                age={"kind": "numeric", "min": 0},
                sex={"kind": "categorical", "categories": ["F", "M"]},
                city={"kind": "categorical"},
            )
        )
    )
    schema = load_schema(path)
    assert schema.needs_discovery() == {"age": ["max"], "city": ["categories"]}
