"""MST on real data (a 4-column slice of Adult): budget use, structure, sampling."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import privsynth
from privsynth.domain.table import build_codecs, encode_table
from privsynth.dp.accounting import PrivacyFilter
from privsynth.dp.accounting import costs as cost_of
from privsynth.dp.mechanisms import Mechanisms
from privsynth.dp.noise import NoiseSource
from privsynth.generators import GENERATORS
from privsynth.generators.mst import MST
from privsynth.schema import Schema, load_schema

COLUMNS = ["age", "sex", "race", "income"]


@pytest.fixture(scope="module")
def small_schema(adult_schema_path: Path) -> Schema:
    full = load_schema(adult_schema_path)
    return Schema({c: full[c] for c in COLUMNS})


@pytest.fixture(scope="module")
def small_frame(adult_frame: pd.DataFrame) -> pd.DataFrame:
    return adult_frame[COLUMNS].copy()


def test_mst_spends_exactly_its_plan_and_samples_the_domain(
    small_frame: pd.DataFrame, small_schema: Schema
) -> None:
    codecs = build_codecs(small_schema)
    rng = np.random.default_rng(0)
    table = encode_table(small_frame, codecs, rng)
    rho = 0.05
    guard = PrivacyFilter(cost_of.zcdp(rho))
    generator = GENERATORS.get("mst")(iterations=200)
    assert isinstance(generator, MST)
    generator.fit(table, Mechanisms(guard, NoiseSource(1)), rho)
    purposes = [s.purpose for s in guard.accountant.history]
    assert sum("1-way" in p for p in purposes) == len(COLUMNS)
    assert sum("tree edge" in p for p in purposes) == len(COLUMNS) - 1
    assert sum("2-way" in p for p in purposes) == len(COLUMNS) - 1
    spent = guard.accountant.total().rho()
    assert rho * 0.99 <= spent <= rho * (1 + 1e-9)
    tree_columns = {c for edge in generator.tree for c in edge}
    assert tree_columns == set(COLUMNS)
    assert abs(generator.estimated_rows - len(small_frame)) < 0.05 * len(small_frame)
    codes = generator.sample(1000, rng)
    for column, codec in codecs.items():
        assert codes[column].shape == (1000,)
        assert codes[column].min() >= 0 and codes[column].max() < codec.size


def test_mst_recovers_a_strong_dependency(small_frame: pd.DataFrame, small_schema: Schema) -> None:
    frame = small_frame.copy()
    frame["income"] = np.where(frame["sex"] == "Male", ">50K", "<=50K")  # deterministic link
    codecs = build_codecs(small_schema)
    rng = np.random.default_rng(1)
    table = encode_table(frame, codecs, rng)
    generator = MST(iterations=300)
    generator.fit(table, Mechanisms(PrivacyFilter(cost_of.zcdp(1.0)), NoiseSource(2)), 1.0)
    assert ("sex", "income") in generator.tree or ("income", "sex") in generator.tree
    codes = generator.sample(2000, rng)
    agree = np.mean(codes["sex"] == codes["income"])  # Female=0/<=50K=0, Male=1/>50K=1
    assert agree > 0.95


def test_python_api_records_the_run(
    tmp_path: Path, small_frame: pd.DataFrame, small_schema: Schema
) -> None:
    ledger = privsynth.Ledger(tmp_path / "ledger.db")
    schema = tmp_path / "schema.yaml"
    privsynth.schema.dump_schema(small_schema, schema)

    def synthesize(book: privsynth.Ledger, seed: int | None = None) -> pd.DataFrame:
        return privsynth.synthesize(
            small_frame, epsilon=1.0, generator="mst", schema=schema, dataset="adult4", ledger=book,
            seed=seed, unsafe_seed=seed is not None, iterations=200,
        )  # fmt: skip

    synthetic = synthesize(ledger)
    assert list(synthetic.columns) == COLUMNS
    assert set(synthetic["sex"]) <= {"Female", "Male"}
    assert synthetic["age"].between(17, 90).all()
    assert ledger.status("adult4").spent_epsilon == pytest.approx(1.0, rel=1e-3)
    synthesize(ledger)
    assert ledger.status("adult4").spent_epsilon < 2.0  # RDP composition beats summing
    seeded = [synthesize(privsynth.Ledger(tmp_path / f"seeded{i}.db"), seed=5) for i in (1, 2)]
    pd.testing.assert_frame_equal(*seeded)  # seeded runs are reproducible, and not private:
    assert privsynth.Ledger(tmp_path / "seeded1.db").status("adult4").spent_epsilon == math.inf
