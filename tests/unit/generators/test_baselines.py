"""Baselines: the DP independent-marginals floor, and generators without a formal privacy
guarantee (SDV), which the ledger records as ε = ∞ and every surface labels."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_inprocess import Cli

from privsynth import Synthesizer
from privsynth.compliance.html import _ledger_facts
from privsynth.compliance.provenance import privacy_from_ledger
from privsynth.dp.ledger import Ledger
from privsynth.errors import BudgetExceededError, ConfigurationError
from privsynth.generators import GENERATORS, optional
from privsynth.generators.independent import Independent
from privsynth.warnings import NotPrivateWarning

COLUMNS = ["workclass", "education", "sex", "race", "income"]


@pytest.fixture(scope="module")
def small(adult_frame: pd.DataFrame) -> pd.DataFrame:
    return adult_frame.head(1500).reset_index(drop=True)


class NoNoise(Independent):
    """A stand-in for a non-private baseline that needs no optional package."""

    name = "baseline-test"
    private = False


@pytest.fixture
def baseline() -> Iterator[str]:
    GENERATORS.register(NoNoise.name)(NoNoise)
    yield NoNoise.name
    GENERATORS.unregister(NoNoise.name)


def test_independent_runs_end_to_end_within_epsilon_and_saves(
    small: pd.DataFrame, adult_schema_path: Path, tmp_path: Path
) -> None:
    synthesizer = Synthesizer(
        "independent", epsilon=1, dataset="d", ledger=tmp_path / "l.db", schema=adult_schema_path
    ).fit(small)
    out = synthesizer.sample(400, seed=3)
    assert list(out.columns) == list(small.columns) and len(out) == 400
    book = Ledger(tmp_path / "l.db")
    assert book.status("d").spent_epsilon <= 1.0 + 1e-9
    mine = [s for s in book.spends("d") if s["purpose"].startswith("independent:")]
    assert len(mine) == len(synthesizer.schema.modelled_columns())
    assert {s["mechanism"] for s in mine} == set(Independent.costs)
    assert synthesizer.record is not None and synthesizer.record.private
    (run,) = book.runs("d")
    assert '"private": true' in run["notes"]
    loaded = Synthesizer.load(synthesizer.save(tmp_path / "m.privsynth"))
    pd.testing.assert_frame_equal(loaded.sample(200, seed=4), synthesizer.sample(200, seed=4))
    assert loaded.record is not None and loaded.record.private


def test_independent_keeps_each_marginal_and_no_relation(
    small: pd.DataFrame, adult_schema_path: Path, tmp_path: Path
) -> None:
    out = Synthesizer(
        "independent", epsilon=4, dataset="d", ledger=tmp_path / "l.db", schema=adult_schema_path
    ).fit(small).sample(6000, seed=1)  # fmt: skip
    real = small["sex"].value_counts(normalize=True)
    fake = out["sex"].value_counts(normalize=True).reindex(real.index, fill_value=0)
    assert float((real - fake).abs().sum()) < 0.06
    # sex and relationship are strongly dependent in Adult; independent sampling is not
    table = pd.crosstab(out["sex"], out["relationship"], normalize=True)
    expected = np.outer(table.sum(axis=1), table.sum(axis=0))
    assert float(np.abs(table.to_numpy() - expected).sum()) < 0.05


def test_a_baseline_records_infinite_epsilon_and_says_so(
    baseline: str, small: pd.DataFrame, adult_schema_path: Path, tmp_path: Path
) -> None:
    book = Ledger(tmp_path / "l.db")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", NotPrivateWarning)
        synthesizer = Synthesizer(
            baseline, epsilon=1, dataset="d", ledger=book, schema=adult_schema_path
        ).fit(small)
    texts = [str(w.message) for w in caught if issubclass(w.category, NotPrivateWarning)]
    assert any(
        t.startswith(f"generator {baseline} has no formal privacy guarantee: a baseline, not for")
        and "exhausts the dataset's budget" in t
        for t in texts
    )
    record = synthesizer.record
    assert record is not None and not record.private and math.isinf(record.spent_epsilon)
    assert math.isinf(book.status("d").spent_epsilon)
    unbounded = [s for s in book.spends("d") if s["mechanism"] == "unbounded"]
    assert [s["purpose"] for s in unbounded] == [
        f"no formal privacy guarantee: generator {baseline}"
    ]
    (run,) = book.runs("d")
    assert '"private": false' in run["notes"]
    loaded = Synthesizer.load(synthesizer.save(tmp_path / "m.privsynth"))
    assert loaded.record is not None and not loaded.record.private
    with pytest.raises(BudgetExceededError):  # ε = ∞ exhausted the dataset's budget
        Synthesizer("independent", epsilon=1, dataset="d", ledger=book,
                    schema=adult_schema_path).fit(small)  # fmt: skip


def test_the_cli_summary_and_the_report_facts_label_a_baseline(
    baseline: str, cli: Cli, small: pd.DataFrame, adult_schema_path: Path, tmp_path: Path
) -> None:
    data, ledger = tmp_path / "visits.csv", tmp_path / "l.db"
    small.to_csv(data, index=False)
    done = cli(
        "synthesize", data, "-e", "1", "--generator", baseline, "--schema", adult_schema_path,
        "--ledger", ledger, "-o", tmp_path / "out.csv", "-q",
    )  # fmt: skip
    assert done.code == 0, done.stderr
    summary = " ".join(done.stdout.split())
    assert f"∞: NOT PRIVATE (no formal privacy guarantee: baseline generator {baseline}" in summary
    assert "no formal privacy guarantee: a baseline, not for release" in done.stderr
    book = Ledger(ledger)
    (run,) = book.runs("visits")
    privacy = privacy_from_ledger(book, "visits", run["run_id"])
    assert privacy.baseline_generator == baseline
    facts = dict((label, value) for label, value, _ in _ledger_facts(privacy))
    assert facts["Formal privacy guarantee"] == f"none (baseline generator {baseline})"


def test_a_dp_run_has_no_baseline_label(
    small: pd.DataFrame, adult_schema_path: Path, tmp_path: Path
) -> None:
    book = Ledger(tmp_path / "l.db")
    synthesizer = Synthesizer(
        "independent", epsilon=1, dataset="d", ledger=book, schema=adult_schema_path
    ).fit(small)
    assert synthesizer.record is not None
    privacy = privacy_from_ledger(book, "d", synthesizer.record.run_id)
    assert privacy.baseline_generator is None
    assert "Formal privacy guarantee" not in [label for label, _, _ in _ledger_facts(privacy)]


def test_sdv_missing_is_one_line_before_the_ledger_is_touched(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(optional, "installed", lambda name: False)
    for name in ("sdv:gaussian_copula", "sdv:ctgan"):
        with pytest.raises(ConfigurationError) as error:
            Synthesizer(name, epsilon=1, dataset="d", ledger=tmp_path / "l.db")
        assert "pip install 'privsynth[sdv]'" in (error.value.hint or "")
        assert "\n" not in error.value.one_line()
    assert not (tmp_path / "l.db").exists()


def test_sdv_generators_are_baselines_that_cannot_be_saved() -> None:
    for name in ("sdv:gaussian_copula", "sdv:ctgan"):
        factory = GENERATORS.get(name)
        assert factory.private is False and factory.costs == ()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("name", "options"), [("sdv:gaussian_copula", {}), ("sdv:ctgan", {"epochs": 1})]
)
def test_sdv_baselines_fit_sample_and_record_infinite_epsilon(
    name: str,
    options: dict[str, int],
    small: pd.DataFrame,
    adult_schema_path: Path,
    tmp_path: Path,
) -> None:
    pytest.importorskip("sdv")
    book = Ledger(tmp_path / "l.db")
    frame = small[COLUMNS]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        synthesizer = Synthesizer(
            name, epsilon=1, dataset="d", ledger=book, quality_share=0.0, **options
        ).fit(frame)
        out = synthesizer.sample(100, seed=2)
    assert list(out.columns) == COLUMNS and len(out) == 100
    assert synthesizer.record is not None and not synthesizer.record.private
    assert math.isinf(book.status("d").spent_epsilon)
    with pytest.raises(ConfigurationError, match="cannot be saved"):
        synthesizer.save(tmp_path / "m.privsynth")
