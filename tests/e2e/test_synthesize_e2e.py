"""End to end through the real CLI on the bundled Adult sample (slow: full 15-column MST)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from privsynth import Ledger

pytestmark = pytest.mark.slow
CLI = [sys.executable, "-m", "privsynth.cli.main"]


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, check=False)


def _tvd(real: pd.Series, synthetic: pd.Series) -> float:
    p = real.astype(str).value_counts(normalize=True)
    q = synthetic.astype(str).value_counts(normalize=True)
    return 0.5 * float(p.sub(q, fill_value=0).abs().sum())


def test_headline_run_without_schema_keeps_rare_values_out(
    tmp_path: Path, adult_frame: pd.DataFrame
) -> None:
    data = adult_frame.copy()
    data.loc[data.index[0], "native-country"] = "Atlantis-Canary"  # one record only
    data.loc[data.index[1], "occupation"] = "Canary-Occupation"
    source = tmp_path / "adult.csv"
    data.to_csv(source, index=False)
    output, ledger = tmp_path / "synthetic.parquet", tmp_path / "ledger.db"
    done = _run(
        "synthesize", source, "--epsilon", "2", "--generator", "mst", "-o", output,
        "--ledger", ledger,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "ε spent by this run" in done.stdout
    synthetic = pd.read_parquet(output)
    assert list(synthetic.columns) == list(data.columns)
    text = synthetic.astype(str).to_numpy().ravel()
    assert "Atlantis-Canary" not in text and "Canary-Occupation" not in text
    assert abs(len(synthetic) - len(data)) < 0.05 * len(data)  # DP estimate of the row count
    for column in ("sex", "race", "relationship", "income"):
        assert _tvd(data[column], synthetic[column]) < 0.1, column
    age = pd.to_numeric(synthetic["age"])
    assert age.between(0, 200).all() and abs(age.mean() - data["age"].astype(int).mean()) < 3
    purposes = [s["purpose"] for s in Ledger(ledger).spends("adult")]
    assert any(p.startswith("discover") for p in purposes)
    assert Ledger(ledger).status("adult").spent_epsilon == pytest.approx(2.0, rel=1e-3)


def test_public_schema_run_keeps_relations(
    tmp_path: Path, adult_path: Path, adult_schema_path: Path, adult_frame: pd.DataFrame
) -> None:
    output, ledger = tmp_path / "synthetic.csv", tmp_path / "ledger.db"
    done = _run(
        "synthesize",
        adult_path,
        "--epsilon",
        "2",
        "--generator",
        "mst",
        "--schema",
        adult_schema_path,
        "--strict",
        "-n",
        "3000",
        "-o",
        output,
        "--ledger",
        ledger,
        "-q",
    )
    assert done.returncode == 0, done.stderr
    synthetic = pd.read_csv(output, dtype=str, keep_default_na=False)
    assert len(synthetic) == 3000
    purposes = [s["purpose"] for s in Ledger(ledger).spends("adult_sample")]
    assert not any(p.startswith("discover") for p in purposes)  # nothing to discover
    real_link = (adult_frame["relationship"] == "Husband") & (adult_frame["sex"] == "Male")
    synth_link = (synthetic["relationship"] == "Husband") & (synthetic["sex"] == "Male")
    husbands = synthetic["relationship"] == "Husband"
    assert synth_link.sum() / max(husbands.sum(), 1) > 0.9  # husbands are male
    assert abs(synth_link.mean() - real_link.mean()) < 0.05
    gains = pd.to_numeric(synthetic["capital-gain"])
    assert (gains == 0).mean() > 0.8  # the point mass at zero survives binning
    assert np.all(gains.between(0, 99999))
    shown = _run("budget", "show", "adult_sample", "--ledger", ledger, "--json")
    assert shown.returncode == 0, shown.stderr
    (entry,) = json.loads(shown.stdout)
    assert entry["spent_epsilon"] == pytest.approx(2.0, rel=1e-3)
    assert sum("mst: tree edge" in s["purpose"] for s in entry["spends"]) == 14
