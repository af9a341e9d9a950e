"""The whole evaluation: stable keys, and the sanity check every privacy claim rests on —
a generator that copies its training data is flagged, DP MST at small epsilon is not."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from privsynth import SynthesisConfig, run_synthesis
from privsynth.evaluation.data import EvaluationData
from privsynth.evaluation.runner import evaluate
from privsynth.schema import Schema, load_schema

QIS = ["age", "sex", "race", "marital-status", "native-country"]


@pytest.fixture(scope="module")
def schema(adult_schema_path: Path) -> Schema:
    return load_schema(adult_schema_path)


@pytest.fixture(scope="module")
def holdout() -> pd.DataFrame:
    path = Path(__file__).resolve().parents[3] / "examples" / "adult_holdout.csv"
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _evaluate(real: pd.DataFrame, synthetic: pd.DataFrame, holdout: pd.DataFrame, schema: Schema):  # type: ignore[no-untyped-def]
    data = EvaluationData.build(
        real, synthetic, holdout, schema=schema, target="income",
        quasi_identifiers=QIS, sensitive=["income"], seed=1,
    )  # fmt: skip
    return evaluate(data)


def test_copying_generator_is_flagged(
    adult_frame: pd.DataFrame, holdout: pd.DataFrame, schema: Schema
) -> None:
    document = _evaluate(adult_frame, adult_frame.copy(), holdout, schema)
    privacy = document["privacy"]
    assert privacy["exact_copy_rate"]["value"] == 1.0
    assert privacy["membership_inference"]["auc"] > 0.9
    assert privacy["membership_inference"]["tpr_at_fpr"]["0.01"] > 0.5
    assert privacy["singling_out"]["ci"][0] > 0.0
    assert privacy["attribute_inference"]["ci"][0] > 0.05  # coarse QIs: ties blunt it
    for key in ("fidelity", "utility", "detection", "diversity", "privacy", "skipped"):
        assert key in document
    for key in ("singling_out", "linkability", "attribute_inference"):
        assert set(privacy[key]) >= {"risk", "ci"}
    assert json.loads(json.dumps(document, allow_nan=False)) == document


def test_dp_mst_at_small_epsilon_is_not_flagged(
    tmp_path: Path, adult_frame: pd.DataFrame, holdout: pd.DataFrame, schema: Schema
) -> None:
    config = SynthesisConfig(
        epsilon=1.0, residual_scan=False, dataset="adult", seed=3, unsafe_seed=True
    )
    synthetic = run_synthesis(adult_frame, config, schema=schema, ledger=tmp_path / "l.db").data
    document = _evaluate(adult_frame, synthetic.astype(str), holdout, schema)
    privacy = document["privacy"]
    assert privacy["exact_copy_rate"]["value"] < 0.05  # a few common rows recur by chance
    assert privacy["membership_inference"]["auc"] < 0.6
    assert privacy["singling_out"]["risk"] < 0.1
    assert privacy["attribute_inference"]["risk"] < 0.1
    assert document["utility"]["tstr"]["value"] > 0.65  # still useful
    assert document["fidelity"]["marginal_tvd_2way"]["value"] < 0.15


def test_cli_writes_the_document(tmp_path: Path, adult_path: Path, adult_schema_path: Path) -> None:
    holdout = adult_path.parent / "adult_holdout.csv"
    output = tmp_path / "eval.json"
    command = [
        sys.executable, "-m", "privsynth.cli.main", "evaluate", "--real", str(adult_path),
        "--synthetic", str(holdout), "--holdout", str(holdout), "--schema",
        str(adult_schema_path), "-o", str(output),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    document = json.loads(output.read_text())
    assert "tstr" in document["skipped"]  # no --target
    assert "attribute_inference" in document["skipped"]  # no sensitive column or target
    assert "membership inference AUC" in done.stdout
