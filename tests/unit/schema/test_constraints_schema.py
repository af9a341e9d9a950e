"""Schema constraints: parsed from YAML, checked against the columns, written back the
same, and evaluated row by row (missing values break nothing)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from privsynth.errors import SchemaError
from privsynth.schema import Schema, dump_schema, load_schema, schema_from_dict, schema_to_dict
from privsynth.schema.constraints import (
    Compare,
    Conditional,
    FixedCombinations,
    Range,
    parse_constraint,
    parse_constraints,
    violations,
)
from privsynth.schema.model import CategoricalSpec, NumericSpec

COLUMNS: dict[str, Any] = {
    "admitted": {"kind": "datetime", "min": "2020-01-01", "max": "2020-12-31"},
    "discharged": {"kind": "datetime", "min": "2020-01-01", "max": "2021-01-31"},
    "los": {"kind": "numeric", "min": 0, "max": 400, "integer": True},
    "age": {"kind": "numeric", "min": 0, "max": 99},
    "payer": {"kind": "categorical", "categories": ["Medicare", "Private", "Black and White"]},
    "severity": {"kind": "categorical", "categories": ["low", "mid", "high"]},
    "state": {"kind": "categorical", "categories": ["NY", "NJ"]},
    "county": {"kind": "categorical", "categories": ["Kings", "Queens", "Essex"]},
    "patient": {"kind": "identifier"},
    "note": {"kind": "text"},
    "region": {"kind": "auto"},
}
CONSTRAINTS: list[dict[str, Any]] = [
    {"compare": "discharged >= admitted"},
    {"range": {"column": "los", "min": 0, "max": 365}},
    {"if": "payer == 'Medicare' and state in ['NY']", "then": "age >= 65"},
    {"if": "payer == 'Black and White'", "then": "severity > 'low'"},
    {
        "fixed_combinations": {
            "columns": ["state", "county"],
            "allowed": [["NY", "Kings"], ["NY", "Queens"], ["NJ", "Essex"]],
        }
    },
    {"compare": "admitted > '2020-03-01'"},
]


def _schema(
    constraints: list[Any] | None = None, *, released: bool = False, **extra: Any
) -> Schema:
    raw = {"columns": COLUMNS, "constraints": CONSTRAINTS if constraints is None else constraints}
    return schema_from_dict({**raw, **extra}, released=released)


def test_each_kind_is_parsed_with_its_text() -> None:
    schema = _schema()
    kinds = [type(c) for c in schema.constraints]
    assert kinds == [Compare, Range, Conditional, Conditional, FixedCombinations, Compare]
    assert [c.text for c in schema.constraints] == [
        "discharged >= admitted",
        "0 <= los <= 365",
        "if payer == 'Medicare' and state in ['NY'] then age >= 65",
        "if payer == 'Black and White' then severity > 'low'",
        "(state, county) in 3 allowed combinations",
        "admitted > '2020-03-01'",
    ]


def test_yaml_and_dict_round_trips_keep_the_constraints(tmp_path: Path) -> None:
    schema = _schema()
    assert schema_to_dict(schema)["constraints"] == CONSTRAINTS
    assert schema_from_dict(schema_to_dict(schema)) == schema
    dump_schema(schema, tmp_path / "schema.yaml")
    text = (tmp_path / "schema.yaml").read_text(encoding="utf-8")
    assert "constraints:" in text and "discharged >= admitted" in text
    assert load_schema(tmp_path / "schema.yaml") == schema
    assert "constraints" not in schema_to_dict(_schema([]))


def test_yaml_written_by_hand_is_read(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(
        "columns:\n"
        "  a: {kind: numeric, min: 0, max: 10}\n"
        "  b: {kind: numeric, min: 0, max: 10}\n"
        "  `odd name`: {kind: numeric, min: 0, max: 10}\n".replace("`odd name`", '"odd name"')
        + "constraints:\n"
        "  - compare: a <= b\n"
        "  - compare: '`odd name` != -1.5e0'\n"
        "  - range: {column: b, max: 5}\n",
        encoding="utf-8",
    )
    schema = load_schema(tmp_path / "s.yaml")
    assert [c.text for c in schema.constraints] == ["a <= b", "`odd name` != -1.5e0", "b <= 5"]


BAD = [
    ({"compare": "discharged >= nowhere"}, "column 'nowhere', not in the schema"),
    ({"compare": "discharged => admitted"}, "cannot read 'discharged => admitted'"),
    ({"compare": "discharged >= los"}, "compares datetime column 'discharged' with numeric"),
    ({"compare": "los >= '3'"}, "compares numeric column 'los' with a text"),
    ({"compare": "admitted >= 5"}, "not a quoted date"),
    ({"compare": "admitted >= 'soon'"}, "not a quoted date"),
    ({"compare": "payer == 'Medicaid'"}, "'Medicaid' is not a category of column 'payer'"),
    ({"compare": "payer < state"}, "whose category lists differ"),
    ({"compare": "1 < 2"}, "compares no column"),
    ({"compare": "age >= 18 or age < 1"}, "expected the end of the comparison"),
    ({"compare": "age in 1, 2"}, "expected a list in brackets"),
    ({"compare": "patient == 'x'"}, "names identifier column 'patient'"),
    ({"compare": "note == 'x'"}, "names text column 'note'"),
    ({"compare": 3}, "`compare` must be a comparison in quotes"),
    ({"range": {"column": "payer", "min": 0}}, "`range` needs a numeric column"),
    ({"range": {"column": "los"}}, "needs `min`, `max` or both"),
    ({"range": {"column": "los", "min": 5, "max": 1}}, "`min` above `max`"),
    ({"range": {"column": "los", "min": "0"}}, "bounds must be finite numbers"),
    ({"if": "age >= los", "then": "age > 1"}, "must compare a column with a constant"),
    ({"if": "payer == 'Medicare'"}, "has keys if"),
    ({"unique": "patient"}, "has keys unique"),
    ({"fixed_combinations": {"columns": ["state"], "allowed": [["NY"]]}}, "two or more"),
    (
        {"fixed_combinations": {"columns": ["state", "county"], "allowed": [["NY"]]}},
        "combinations of 2 values each",
    ),
    (
        {"fixed_combinations": {"columns": ["state", "los"], "allowed": [["NY", 1]]}},
        "column 'los' is numeric, not categorical",
    ),
    (
        {"fixed_combinations": {"columns": ["state", "county"], "allowed": [["NY", "Bronx"]]}},
        "'Bronx' is not a category of column 'county'",
    ),
    ("discharged >= admitted", "must be a mapping"),
]


@pytest.mark.parametrize(("entry", "message"), BAD, ids=[m for _, m in BAD])
def test_bad_constraints_are_one_line_schema_errors(entry: Any, message: str) -> None:
    with pytest.raises(SchemaError) as caught:
        _schema([{"compare": "discharged >= admitted"}, entry])
    line = caught.value.one_line()
    assert message in line
    assert "\n" not in line and "--" not in line
    assert caught.value.hint  # every refusal says how to fix it or names the field


def test_constraints_must_be_a_list() -> None:
    with pytest.raises(SchemaError, match="`constraints` must be a list"):
        _schema({"compare": "a > b"})  # type: ignore[arg-type]


def test_the_privacy_unit_cannot_be_constrained() -> None:
    with pytest.raises(SchemaError, match="the privacy unit"):
        _schema([{"compare": "region == 'x'"}], privacy_unit="region")


def test_a_released_schema_accepts_categories_discovery_did_not_release() -> None:
    entry = [{"compare": "payer != 'Medicaid'"}]
    with pytest.raises(SchemaError):
        _schema(entry)
    assert _schema(entry, released=True).constraints[0].text == "payer != 'Medicaid'"


def test_auto_columns_are_checked_once_their_kind_is_known() -> None:
    assert _schema([{"compare": "region > los"}]).constraints  # kind unknown yet
    declared = {**COLUMNS, "region": {"kind": "categorical", "categories": ["a"]}}
    with pytest.raises(SchemaError, match="compares categorical column 'region'"):
        schema_from_dict({"columns": declared, "constraints": [{"compare": "region > los"}]})


def test_a_python_schema_refuses_unknown_columns() -> None:
    constraints = parse_constraints([{"compare": "a >= b"}])
    with pytest.raises(SchemaError, match="column 'b', not in the schema"):
        Schema({"a": NumericSpec(min=0, max=1)}, constraints=constraints)
    with pytest.raises(SchemaError, match="must be Constraint objects"):
        Schema({"a": NumericSpec()}, constraints=("a >= 0",))  # type: ignore[arg-type]


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "admitted": ["2020-02-01", "2020-05-01", None, "2020-06-01"],
            "discharged": ["2020-01-01", "2020-05-02", "2020-01-01", "2020-06-01"],
            "los": pd.array([400, 3, None, -1], dtype="Int64"),
            "age": [70.0, 30.0, np.nan, 5.0],
            "payer": ["Medicare", "Medicare", "Black and White", None],
            "severity": ["low", "high", "low", "mid"],
            "state": ["NY", "NY", "NJ", "NJ"],
            "county": ["Kings", "Essex", "Essex", None],
            "patient": ["p1", "p2", "p3", "p4"],
            "region": ["x", "y", "z", "w"],
        }
    )


def test_violations_row_by_row_and_missing_values_break_nothing() -> None:
    schema = _schema()
    found = violations(schema.constraints, _frame(), schema)
    assert found.astype(int).tolist() == [
        [1, 0, 0, 0],  # discharged before admitted; row 2 has no admission date
        [1, 0, 0, 1],  # los 400 and -1; row 2 is missing
        [0, 1, 0, 0],  # Medicare in NY aged 30
        [0, 0, 1, 0],  # 'Black and White' with severity low (order of the list)
        [0, 1, 0, 0],  # (NY, Essex); row 3 misses its county
        [1, 0, 0, 0],  # admitted before March
    ]


def test_range_repair_clips_and_keeps_whole_numbers() -> None:
    schema = _schema()
    frame = _frame()
    rule = schema.constraints[1]
    assert rule.repairable and not schema.constraints[0].repairable
    changed = rule.repair(frame, schema, rule.violations(frame, schema))
    assert changed.tolist() == [True, False, False, True]
    assert frame["los"].dtype == "Int64"
    assert frame["los"].tolist()[:2] + frame["los"].tolist()[3:] == [365, 3, 0]
    assert not rule.violations(frame, schema).any()


def test_datetime_columns_compare_in_their_declared_format() -> None:
    columns = {
        "a": CategoricalSpec(categories=("x",)),
        "d": {"kind": "datetime", "format": "%m/%d/%Y", "min": "2020-01-01", "max": "2021-12-31"},
    }
    schema = schema_from_dict(
        {
            "columns": {"a": {"kind": "categorical", "categories": ["x"]}, "d": columns["d"]},
            "constraints": [{"compare": "d < '2021-01-01'"}],
        }
    )
    frame = pd.DataFrame({"a": ["x"] * 3, "d": ["12/31/2020", "01/02/2021", None]})
    assert violations(schema.constraints, frame, schema)[0].tolist() == [False, True, False]


def test_parse_constraint_builds_one_rule_for_python_schemas() -> None:
    rule = parse_constraint({"if": "state not in ['NJ']", "then": "county != 'Essex'"})
    assert isinstance(rule, Conditional)
    assert rule.text == "if state not in ['NJ'] then county != 'Essex'"
    assert parse_constraint(rule.to_dict()) == rule
