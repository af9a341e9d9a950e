"""Schema files: round trips, validation errors, data-derived marks and --strict."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest
import yaml

from privsynth.errors import SchemaError
from privsynth.schema import (
    CategoricalSpec,
    ColumnSpec,
    DatetimeSpec,
    IdentifierSpec,
    NumericSpec,
    Schema,
    TextSpec,
    dump_schema,
    load_schema,
    schema_from_dict,
    schema_to_dict,
)
from privsynth.schema.infer import OTHER_LABEL, infer_column, infer_schema
from privsynth.synthesis import resolve_schema


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
        (_columns(a={"kind": "numeric", "min": 5, "max": 1}), "`min` must not exceed"),
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
            "note": [
                f"patient reports mild pain after fall number {i} yesterday" for i in range(50)
            ],
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
    with pytest.raises(SchemaError, match="`strict`"):
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


# --- what `schema infer` reads from the values is marked ----------------------------

#: the column of ``adult_sample.csv`` that the tests below rewrite
VARIED = "hours-per-week"


def _variants(original: pd.Series) -> dict[str, list[object]]:
    """Versions of one column that differ only in their values (same header)."""
    n = len(original)
    ints = original.tolist()
    return {
        "integers": ints,
        "shifted integers": [str(int(v) + 1) for v in ints],
        "floats": [f"{v}.5" for v in ints],
        "one missing": [None, *ints[1:]],
        "all missing": [None] * n,
        "frequent text": [f"h{v}" for v in ints],
        "frequent text, one missing": [None, *(f"h{v}" for v in ints[1:])],
        "all rare text": [f"r{i // 2}" for i in range(n)],
        "long text": [f"worked {v} hours in week {i} of the year" for i, v in enumerate(ints)],
        "unique codes": [f"c{i:06d}" for i in range(n)],
        "dates": pd.date_range("2001-01-01", periods=n, freq="D").strftime("%Y-%m-%d").tolist(),
        "timestamps": pd.date_range("2001-01-01", periods=n, freq="h")
        .strftime("%Y-%m-%dT%H:%M:%S")
        .tolist(),
        "timestamps, one missing": [
            None,
            *pd.date_range("2001-01-01", periods=n - 1, freq="h").strftime("%Y-%m-%dT%H:%M:%S"),
        ],
    }


def _differences(a: ColumnSpec, b: ColumnSpec) -> set[str]:
    """Fields (and ``kind``) whose values differ between two specs of one column."""
    changed = {"kind"} if a.kind != b.kind else set()
    shared = {f.name for f in dataclasses.fields(a)} & {f.name for f in dataclasses.fields(b)}
    shared.discard("data_derived")
    return changed | {f for f in shared if getattr(a, f) != getattr(b, f)}


def test_infer_marks_every_field_that_depends_on_the_values(adult_frame: pd.DataFrame) -> None:
    variants = _variants(adult_frame[VARIED])
    drafts = {
        label: infer_schema(adult_frame.assign(**{VARIED: pd.Series(values, dtype=object)}))
        for label, values in variants.items()
    }
    kinds = {label: drafted[VARIED].kind for label, drafted in drafts.items()}
    assert set(kinds.values()) == {"numeric", "categorical", "text", "identifier", "datetime"}
    for label, drafted in drafts.items():  # the other columns are untouched
        assert dict(drafted.columns, **{VARIED: None}) == dict(
            drafts["integers"].columns, **{VARIED: None}
        ), label
    for first, a in drafts.items():
        for second, b in drafts.items():
            changed = _differences(a[VARIED], b[VARIED])
            unmarked = changed - (a[VARIED].data_derived & b[VARIED].data_derived)
            assert not unmarked, f"{first} vs {second}: {sorted(unmarked)} not marked"


def test_infer_marks_kind_nullable_integer_and_granularity() -> None:
    n = 40
    frame = pd.DataFrame(
        {
            "count": [str(i % 7) for i in range(n)],
            "ratio": [f"{i / 3:.2f}" if i else None for i in range(n)],
            "day": pd.date_range("2020-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
            "colour": ["red", "green"] * (n // 2),
        }
    )
    drafted = infer_schema(frame)
    assert drafted["count"] == NumericSpec(
        min=0,
        max=6,
        integer=True,
        nullable=False,
        data_derived=frozenset({"kind", "nullable", "integer", "min", "max"}),
    )
    ratio = drafted["ratio"]
    assert isinstance(ratio, NumericSpec) and ratio.nullable and not ratio.integer
    assert ratio.data_derived == {"kind", "nullable", "integer", "min", "max"}
    day = drafted["day"]
    assert isinstance(day, DatetimeSpec) and day.granularity == "day"
    assert day.data_derived == {"kind", "nullable", "granularity", "min", "max"}
    assert drafted["colour"].data_derived == {"kind", "nullable", "categories", "other_label"}
    assert "count.kind" in drafted.data_derived_fields()
    assert "count.nullable" in drafted.data_derived_fields()


def test_drafted_categoricals_always_have_an_other_label(adult_frame: pd.DataFrame) -> None:
    # min_count=1: no value is rare, yet out-of-domain values still have somewhere to go
    for min_count in (1, 10):
        drafted = infer_schema(adult_frame, min_count=min_count)
        categoricals = [s for s in drafted.columns.values() if isinstance(s, CategoricalSpec)]
        assert categoricals
        assert all(spec.other_label == OTHER_LABEL for spec in categoricals)
        # the label comes with every drafted categorical, but the kind that brings it was
        # read from the data (one stray text cell turns a numeric column categorical)
        assert all("other_label" in spec.data_derived for spec in categoricals)


def test_all_rare_and_all_missing_columns_still_mark_what_was_read() -> None:
    rare = infer_column("colour", pd.Series([f"v{i // 2}" for i in range(30)]), min_count=10)
    missing = infer_column("colour", pd.Series([None] * 30, dtype=object), min_count=10)
    for spec in (rare, missing):
        assert isinstance(spec, CategoricalSpec) and spec.categories is None
        assert spec.other_label == OTHER_LABEL
        assert spec.data_derived == {"kind", "nullable", "categories", "other_label"}
    assert not rare.nullable and missing.nullable


def test_identifier_headers_are_confirmed_by_the_values() -> None:
    """Issue 12: a header is a hint; the values decide (and the kind is marked)."""
    n = 30
    marks = frozenset({"kind", "nullable"})
    frame = pd.DataFrame(
        {
            "email": [f"person{i}@example.org" for i in range(n)],
            "ssn": ["123-45-6789", None] * (n // 2),  # shaped like an identifier
            "code": [f"c{i:04d}" for i in range(n)],  # unique values
        }
    )
    drafted = infer_schema(frame)
    assert drafted["email"] == IdentifierSpec(role="direct_identifier", data_derived=marks)
    assert drafted["ssn"] == IdentifierSpec(
        role="direct_identifier", nullable=True, data_derived=marks
    )
    assert drafted["code"] == IdentifierSpec(data_derived=marks)
    assert infer_column("order_id", frame["code"], min_count=10).kind == "identifier"
    few = pd.Series(["3", "1", "2"] * n)
    assert infer_column("admission_type_id", few, min_count=10).kind == "categorical"
    text = infer_column("remarks", pd.Series([f"one two three four {i}" for i in range(n)]), 10)
    assert text == TextSpec(data_derived=marks)


def test_strict_refuses_a_data_derived_kind(tmp_path: Path, adult_frame: pd.DataFrame) -> None:
    drafted = infer_schema(adult_frame)
    columns = list(adult_frame.columns)
    # a reviewer replaced every drafted value with public knowledge except the kind of age
    reviewed = Schema(
        {
            name: spec.with_fields(data_derived=frozenset({"kind"} if name == "age" else ()))
            for name, spec in drafted.columns.items()
        }
    )
    with pytest.raises(SchemaError, match=r"`strict`.*age\.kind") as caught:
        resolve_schema(reviewed, columns, strict=True)
    assert "age.min" not in caught.value.one_line()
    _, warnings = resolve_schema(reviewed, columns, strict=False)
    assert any("age.kind" in w for w in warnings)
    # the same, read back from YAML
    path = tmp_path / "reviewed.yaml"
    dump_schema(reviewed, path)
    assert load_schema(path).data_derived_fields() == ["age.kind"]
    with pytest.raises(SchemaError, match=r"age\.kind"):
        resolve_schema(path, columns, strict=True)


def test_yaml_accepts_kind_as_a_data_derived_entry() -> None:
    document = _columns(
        a={"kind": "numeric", "min": 0, "max": 1, "data_derived": ["kind"]},
        b={"kind": "text", "data_derived": ["kind"]},
    )
    schema = schema_from_dict(document)
    assert schema["a"].data_derived == {"kind"}
    assert schema.data_derived_fields() == ["a.kind", "b.kind"]
    for bad in (["kinds"], [["kind"]], "kind"):
        with pytest.raises(SchemaError, match="data_derived"):
            schema_from_dict(_columns(a={"kind": "text", "data_derived": bad}))


def test_dump_writes_data_derived_defaults_and_round_trips(tmp_path: Path) -> None:
    n = 40
    frame = pd.DataFrame(
        {
            "ratio": [f"{i / 3:.2f}" for i in range(n)],
            "day": pd.date_range("2020-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
            "rare": [f"v{i}" for i in range(n // 2)] * 2,
            "empty": pd.Series([None] * n, dtype=object),
        }
    )
    drafted = infer_schema(frame)
    written = schema_to_dict(drafted)["columns"]
    # values equal to their defaults are written when they were read from the data
    assert written["ratio"]["nullable"] is False and written["ratio"]["integer"] is False
    assert written["day"]["granularity"] == "day"
    assert written["rare"]["categories"] is None and written["rare"]["other_label"] == OTHER_LABEL
    assert "bins" not in written["ratio"]  # not read from the data: left at its default
    for entry in written.values():
        assert set(entry["data_derived"]) <= set(entry)
    path = tmp_path / "draft.yaml"
    dump_schema(drafted, path)
    assert "nullable: false" in path.read_text()
    again = load_schema(path)
    assert again == drafted
    assert {name: spec.data_derived for name, spec in again.columns.items()} == {
        name: spec.data_derived for name, spec in drafted.columns.items()
    }


def test_public_schema_omits_a_data_derived_kind(adult_frame: pd.DataFrame) -> None:
    from privsynth.compliance.provenance import public_schema

    drafted = infer_schema(adult_frame)
    rendered = public_schema(drafted)
    omitted = "<data-derived, omitted>"
    age = rendered["columns"]["age"]
    assert age["kind"] == omitted and age["min"] == omitted and age["nullable"] == omitted
    assert age["role"] == "quasi_identifier"  # from the header: public
    assert rendered["columns"]["workclass"]["other_label"] == omitted


def test_code_system_round_trips_and_unknown_names_are_refused(tmp_path: Path) -> None:
    schema = Schema(
        columns={
            "diag_1": CategoricalSpec(code_system="icd9cm", nullable=True),
            "dx": CategoricalSpec(code_system="icd10cm", categories=("E11.9", "I10")),
            "sex": CategoricalSpec(categories=("F", "M")),
        }
    )
    dump_schema(schema, tmp_path / "codes.yaml")
    written = yaml.safe_load((tmp_path / "codes.yaml").read_text())["columns"]
    assert written["diag_1"] == {"kind": "categorical", "nullable": True, "code_system": "icd9cm"}
    assert "code_system" not in written["sex"]  # the default (none) is not written
    assert load_schema(tmp_path / "codes.yaml") == schema
    with pytest.raises(SchemaError) as caught:
        schema_from_dict(_columns(d={"kind": "categorical", "code_system": "icd11"}))
    assert caught.value.one_line() == (
        "column 'd': unknown code_system 'icd11' "
        "(fix: use one of: icd10cm, icd9cm, or list `categories` instead)"
    )
    with pytest.raises(SchemaError, match="unknown keys: code_system"):
        schema_from_dict(_columns(n={"kind": "numeric", "code_system": "icd9cm"}))
