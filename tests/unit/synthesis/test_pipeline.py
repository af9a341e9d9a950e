"""The pipeline on real data: identifiers, text, Parquet, public row counts, run notes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from privsynth import Ledger, SynthesisConfig, run_synthesis
from privsynth.schema import IdentifierSpec, NumericSpec, Schema, TextSpec, load_schema


@pytest.fixture(scope="module")
def table_with_identifiers(adult_frame: pd.DataFrame) -> pd.DataFrame:
    frame = adult_frame[["age", "sex", "income"]].head(2000).copy()
    frame.insert(0, "patient_id", [f"MRN{i:07d}" for i in range(len(frame))])
    frame["note"] = "Patient seen in clinic, stable, follow up in two weeks."
    return frame


def test_identifiers_are_replaced_and_text_is_left_out(
    tmp_path: Path, table_with_identifiers: pd.DataFrame, adult_schema_path: Path
) -> None:
    full = load_schema(adult_schema_path)
    schema = Schema(
        {
            "patient_id": IdentifierSpec(),
            "age": NumericSpec(min=17, max=90, integer=True, data_derived=frozenset({"max"})),
            "sex": full["sex"],
            "income": full["income"],
            "note": TextSpec(),
        },
        rows=1234,
    )
    source = tmp_path / "patients.parquet"
    table_with_identifiers.to_parquet(source, index=False)
    ledger = Ledger(tmp_path / "ledger.db")
    result = run_synthesis(
        source,
        SynthesisConfig(
            epsilon=1.0,
            generator="mst",
            dataset="patients",
            seed=11,
            unsafe_seed=True,
            generator_options={"iterations": 200},
        ),
        schema=schema,
        ledger=ledger,
        output=tmp_path / "out.parquet",
    )
    written = pd.read_parquet(tmp_path / "out.parquet")
    assert list(written.columns) == ["patient_id", "age", "sex", "income"]
    assert len(written) == 1234  # the schema's public row count
    assert not set(written["patient_id"]) & set(table_with_identifiers["patient_id"])
    assert written["patient_id"].is_unique
    assert result.dataset == "patients"
    (run,) = ledger.runs("patients")
    notes = json.loads(run["notes"])
    assert notes["data_derived"] == ["age.max"]
    assert any("age.max" in warning for warning in notes["warnings"])
    assert notes["seeded"] is True


def test_identifier_values_never_reach_the_ledger_or_output(
    tmp_path: Path, table_with_identifiers: pd.DataFrame
) -> None:
    source = tmp_path / "visits.csv"
    table_with_identifiers.to_csv(source, index=False)
    ledger_path = tmp_path / "ledger.db"
    result = run_synthesis(
        source,
        SynthesisConfig(
            epsilon=2.0, generator="mst", dataset="visits", generator_options={"iterations": 200}
        ),
        ledger=ledger_path,
    )
    assert result.schema["patient_id"].kind == "identifier"  # discovered with DP
    assert 0 < result.discovery_epsilon < result.spent_epsilon
    assert result.schema["note"].kind in ("text", "categorical")
    identifiers = set(table_with_identifiers["patient_id"])
    assert not identifiers & set(result.data.astype(str).to_numpy().ravel())
    raw = ledger_path.read_bytes() + json.dumps(Ledger(ledger_path).runs()).encode()
    assert b"MRN0000" not in raw
