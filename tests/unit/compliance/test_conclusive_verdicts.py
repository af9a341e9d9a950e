"""Audits that reach a verdict (issue 16): on the demo's tables and policy, fresh rows
pass the GDPR criteria conclusively, while a copying generator and a weak one (real
rows with a little noise) fail, each with at least one risk whose whole 95% interval
lies above the threshold (a conclusive failure, not a wide interval). Every criterion
on an attack's interval carries its power calculation.

The tables are the demo's: the bundled Adult sample as training data, the 8,000-row
bundled holdout, quasi-identifiers and secret as in ``make demo``. "Fresh rows" are
real people the generator never saw: the holdout's last 2,000 rows, the first 6,000
kept as the holdout. Only the measurements the GDPR policy reads are run (the audit's
other sections, and its PII scan, do not bear on these criteria).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from privsynth.compliance.html import power_note
from privsynth.compliance.policy import PolicyVerdict, judge, load_policy
from privsynth.evaluation.base import ATTACKS, METRICS
from privsynth.evaluation.data import EvaluationData
from privsynth.evaluation.runner import load_builtin
from privsynth.schema import load_schema

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
QUASI_IDENTIFIERS = ["age", "sex", "race", "marital-status"]
RISKS = ("singling_out", "linkability", "attribute_inference")


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(EXAMPLES / name, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    held = _read("adult_holdout_8k.csv")
    return {
        "real": _read("adult_sample.csv"),
        "holdout": held.iloc[:6_000].reset_index(drop=True),
        "fresh": held.iloc[6_000:].reset_index(drop=True),
    }


def weak_copy(real: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Real rows with a little noise: ages and hours moved by up to a year / an hour,
    fnlwgt by ~1%, and 5% of the cells of six categorical columns swapped for another
    value of the column. Few rows stay exact copies."""
    out = real.copy()
    for column in ("age", "hours-per-week"):
        moved = out[column].astype(int) + rng.integers(-1, 2, len(out))
        out[column] = moved.clip(lower=1).astype(str)
    weights = out["fnlwgt"].astype(float) * (1 + rng.normal(0, 0.01, len(out)))
    out["fnlwgt"] = weights.round().astype(int).astype(str)
    for column in ("workclass", "education", "marital-status", "occupation", "relationship",
                   "native-country"):  # fmt: skip
        swap = rng.random(len(out)) < 0.05
        out.loc[swap, column] = rng.choice(real[column].unique(), int(swap.sum()))
    return out


def audit(tables: dict[str, pd.DataFrame], synthetic: pd.DataFrame) -> dict[str, Any]:
    """The privacy section the GDPR policy reads, and its verdict."""
    load_builtin()
    data = EvaluationData.build(
        tables["real"], synthetic, tables["holdout"],
        schema=load_schema(EXAMPLES / "adult_schema.yaml"), target="income",
        quasi_identifiers=QUASI_IDENTIFIERS, sensitive=["income"], seed=0,
    )  # fmt: skip
    privacy: dict[str, Any] = {
        "exact_copy_rate": METRICS.get("exact_copy_rate")().compute(data).to_dict()
    }
    for name in RISKS:
        privacy[name] = ATTACKS.get(name)().evaluate(data).to_dict()
    document = {"privacy": privacy}
    return {"privacy": privacy, "verdict": judge(load_policy("gdpr-anonymisation"), document)}


def conclusive_failures(verdict: PolicyVerdict) -> list[str]:
    """Criteria failed with the whole interval above the threshold."""
    return [
        c.id
        for c in verdict.criteria
        if not c.passed and c.power is not None and c.power["conclusive"]
    ]


@pytest.fixture(scope="module")
def fresh(tables: dict[str, pd.DataFrame]) -> dict[str, Any]:
    return audit(tables, tables["fresh"])


def test_fresh_rows_pass_conclusively_with_a_power_calculation(fresh: dict[str, Any]) -> None:
    verdict: PolicyVerdict = fresh["verdict"]
    assert verdict.passed, [(c.id, c.value, c.note) for c in verdict.criteria]
    for criterion in verdict.criteria:
        if criterion.id == "no-copies":
            assert criterion.power is None  # not an interval
            continue
        power = criterion.power
        assert power is not None and power["conclusive"] is True
        assert power["size_needed"] is not None and 0 < power["size_needed"] <= power["size"]
        assert power["power"] == 0.8
    inference = next(c for c in verdict.criteria if c.id == "inference").power
    assert inference is not None
    assert inference["grows_with"] == "holdout" and inference["size"] == 6_000


def test_every_training_and_holdout_record_is_attacked(
    fresh: dict[str, Any], tables: dict[str, pd.DataFrame]
) -> None:
    inference = fresh["privacy"]["attribute_inference"]["details"]["secrets"]["income"]
    assert inference["n_main"] == len(tables["real"])
    assert inference["n_control"] == len(tables["holdout"])
    linkability = fresh["privacy"]["linkability"]["details"]
    assert linkability["n_targets_main"] == len(tables["real"])
    assert linkability["n_targets_control"] == len(tables["holdout"])


def test_a_copying_generator_fails_conclusively(tables: dict[str, pd.DataFrame]) -> None:
    result = audit(tables, tables["real"].copy())
    verdict: PolicyVerdict = result["verdict"]
    assert not verdict.passed
    failed = conclusive_failures(verdict)
    assert {"singling-out", "linkability", "inference"} <= set(failed)
    assert not next(c for c in verdict.criteria if c.id == "no-copies").passed


def test_a_weak_generator_adding_a_little_noise_fails_conclusively(
    tables: dict[str, pd.DataFrame],
) -> None:
    synthetic = weak_copy(tables["real"], np.random.default_rng(0))
    copies = synthetic.merge(tables["real"].drop_duplicates(), how="inner")
    assert len(copies) < 0.5 * len(synthetic)  # mostly not exact copies any more
    verdict: PolicyVerdict = audit(tables, synthetic)["verdict"]
    assert not verdict.passed
    assert conclusive_failures(verdict), [(c.id, c.value, c.power) for c in verdict.criteria]


def test_an_inconclusive_criterion_states_the_holdout_that_would_settle_it() -> None:
    sample = {"main_trials": 10_000.0, "control_trials": 1_000.0, "grows_with": "holdout",
              "size": 1_000}  # fmt: skip
    inference = {"risk": 0.0, "ci": [0.0, 0.0929], "main_rate": 0.7, "control_rate": 0.7,
                 "details": {"sample": sample}}  # fmt: skip
    document = {"privacy": {"attribute_inference": inference}}
    verdict = judge(load_policy("gdpr-anonymisation"), document)
    criterion = next(c for c in verdict.criteria if c.id == "inference")
    assert not criterion.passed
    assert criterion.power is not None and criterion.power["conclusive"] is False
    needed = criterion.power["size_needed"]
    assert needed is not None and 2_000 < needed < 3_000  # 2.51 times the holdout
    assert f"about {needed:,} holdout records (now 1,000)" in criterion.note
    assert "now 1,000" in power_note(criterion.power)
    # the same rates from 100 training records: no holdout would settle it
    few = {**sample, "main_trials": 100.0}
    document["privacy"]["attribute_inference"]["details"]["sample"] = few
    verdict = judge(load_policy("gdpr-anonymisation"), document)
    criterion = next(c for c in verdict.criteria if c.id == "inference")
    assert criterion.power is not None and criterion.power["size_needed"] is None
    assert "no number of holdout records would" in criterion.note
