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
from privsynth.evaluation import builtin
from privsynth.evaluation.base import ATTACKS, METRICS, MembershipResult, RiskResult
from privsynth.evaluation.data import EvaluationData
from privsynth.evaluation.result import EvaluationResult
from privsynth.evaluation.runner import DEFAULT_ATTACKS, evaluate, load_builtin
from privsynth.schema import Schema, load_schema

QIS = ["age", "sex", "race", "marital-status", "native-country"]


@pytest.fixture(scope="module")
def schema(adult_schema_path: Path) -> Schema:
    return load_schema(adult_schema_path)


@pytest.fixture(scope="module")
def holdout() -> pd.DataFrame:
    path = Path(__file__).resolve().parents[3] / "examples" / "adult_holdout.csv"
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _evaluate(
    real: pd.DataFrame, synthetic: pd.DataFrame, holdout: pd.DataFrame, schema: Schema
) -> EvaluationResult:
    data = EvaluationData.build(
        real, synthetic, holdout, schema=schema, target="income",
        quasi_identifiers=QIS, sensitive=["income"], seed=1,
    )  # fmt: skip
    return evaluate(data)


def test_copying_generator_is_flagged(
    adult_frame: pd.DataFrame, holdout: pd.DataFrame, schema: Schema
) -> None:
    document = _evaluate(adult_frame, adult_frame.copy(), holdout, schema)
    copies, membership = document.metric("exact_copy_rate"), document.membership
    singling_out, inference = document.risk("singling_out"), document.risk("attribute_inference")
    assert copies is not None and copies.value == 1.0
    assert membership is not None and membership.auc > 0.9
    assert membership.best.tpr_at_fpr["0.01"] > 0.5
    assert singling_out is not None and singling_out.ci[0] > 0.0
    assert inference is not None and inference.ci[0] > 0.05  # coarse QIs: ties blunt it
    written = document.to_dict()
    assert list(written) == ["schema_version", "inputs", "fidelity", "utility", "detection",
                             "diversity", "privacy", "skipped", "seconds"]  # fmt: skip
    assert list(written["privacy"]) == ["exact_copy_rate", *DEFAULT_ATTACKS]
    for key in ("singling_out", "linkability", "attribute_inference"):
        assert set(written["privacy"][key]) >= {"risk", "ci"}
    assert written["privacy"]["membership_inference"]["auc"] == membership.auc
    assert json.loads(json.dumps(written, allow_nan=False)) == written


def test_dp_mst_at_small_epsilon_is_not_flagged(
    tmp_path: Path, adult_frame: pd.DataFrame, holdout: pd.DataFrame, schema: Schema
) -> None:
    config = SynthesisConfig(
        epsilon=1.0, generator="mst", residual_scan=False, dataset="adult", seed=3, unsafe_seed=True
    )
    synthetic = run_synthesis(adult_frame, config, schema=schema, ledger=tmp_path / "l.db").data
    document = _evaluate(adult_frame, synthetic.astype(str), holdout, schema).to_dict()
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


def test_builtin_measurements_register_by_explicit_import() -> None:
    assert load_builtin() == builtin.MODULES
    assert {module.__name__.rsplit(".", 1)[-1] for module in builtin.MODULES} == {
        "fidelity", "utility", "discriminator", "diversity", "membership", "inference", "wp29",
    }  # fmt: skip
    assert set(DEFAULT_ATTACKS) <= set(ATTACKS.names())
    documented = {"column_distance", "marginal_tvd_2way", "marginal_tvd_3way", "coverage",
                  "correlation_difference", "tstr", "detection_auc", "exact_copy_rate", "dcr",
                  "nndr", "alpha_precision", "beta_recall"}  # fmt: skip
    assert documented <= set(METRICS.names())


def test_results_are_typed_and_placed_by_section(adult_frame: pd.DataFrame) -> None:
    real, synthetic = adult_frame.iloc[:300], adult_frame.iloc[300:600]
    data = EvaluationData.build(real, synthetic, adult_frame.iloc[600:900], seed=2)
    names = ["coverage", "exact_copy_rate", "tstr", "no_such_metric"]
    document = evaluate(data, metrics=names, attacks=["membership_inference", "linkability"])
    assert list(document.fidelity) == ["coverage"]
    assert document.utility == {} and document.detection == {} and document.diversity == {}
    assert list(document.privacy) == ["exact_copy_rate", "membership_inference", "linkability"]
    assert isinstance(document.membership, MembershipResult)
    assert document.membership.unit == "row"
    assert isinstance(document.risk("linkability"), RiskResult)
    assert document.risk("membership_inference") is None  # not a risk
    assert set(document.skipped) == {"tstr", "no_such_metric"}  # no target; unknown name
    assert "unknown metric 'no_such_metric'" in document.skipped["no_such_metric"]
    assert set(document.seconds) == {*names, "membership_inference", "linkability"}
    assert document.inputs.real_rows == 300 and document.inputs.seed == 2
    written = document.to_dict()
    assert written["inputs"]["quasi_identifiers"] == list(document.inputs.quasi_identifiers)
    assert document["privacy"] == written["privacy"]  # read access for dict-form callers
