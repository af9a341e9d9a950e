"""The ``dpsgd`` generator: DP-SGD (Opacus) on a MADE network, accounted in the ledger
exactly as planned, saved without pickle, importable without torch."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from privsynth import Synthesizer
from privsynth.dp.accounting import costs as cost_of
from privsynth.dp.accounting.costs import compose, from_dict
from privsynth.dp.ledger import Ledger
from privsynth.errors import ConfigurationError
from privsynth.generators import GENERATORS
from privsynth.generators.dpsgd import DPSGD
from privsynth.generators.dpsgd.made import Architecture, _column_logits, one_hot

#: small and quick: one epoch (100 steps) of a narrow network on 1,000 rows
QUICK = {"epochs": 1, "hidden": [32], "threads": 1}


def _fit(frame: pd.DataFrame, schema: Path, book: Ledger, **options: Any) -> Synthesizer:
    return Synthesizer(
        "dpsgd", epsilon=1, dataset="d", ledger=book, schema=schema, **(QUICK | options)
    ).fit(frame)


@pytest.fixture(scope="module")
def fitted(
    adult_frame: pd.DataFrame, adult_schema_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Synthesizer, Ledger]:
    book = Ledger(tmp_path_factory.mktemp("dpsgd") / "l.db")
    return _fit(adult_frame.head(1000), adult_schema_path, book), book


def test_registered_and_declares_its_costs() -> None:
    assert GENERATORS.get("dpsgd") is DPSGD
    assert set(DPSGD.costs) <= set(cost_of.MECHANISMS)


def test_fits_and_samples_end_to_end(
    fitted: tuple[Synthesizer, Ledger], adult_frame: pd.DataFrame
) -> None:
    synthesizer, _ = fitted
    rows = synthesizer.sample(300, seed=1)
    assert list(rows.columns) == list(adult_frame.columns)
    assert len(rows) == 300
    assert set(rows["income"]) <= {"<=50K", ">50K"}
    estimate = synthesizer._fitted().generator.estimated_rows
    assert abs(estimate - 1000) < 500  # a Gaussian count with σ ≈ 45 at ε = 1


def test_ledger_holds_exactly_the_planned_spends(fitted: tuple[Synthesizer, Ledger]) -> None:
    synthesizer, book = fitted
    params = synthesizer._fitted().generator.params()
    [run] = book.runs("d")
    delta = float(run["delta"])
    rows = book.spends("d")
    spends = [
        from_dict({"mechanism": s["mechanism"], "params": json.loads(s["params"])}) for s in rows
    ]
    purposes = [s["purpose"] for s in rows]
    reservation = from_dict(json.loads(run["reservation"]))
    total = compose(spends)
    assert total.epsilon(delta) <= 1.0 + 1e-9
    assert reservation.epsilon(delta) <= 1.0 + 1e-9
    assert total.dominated_by(reservation)
    [training] = [s for s in spends if s.mechanism == "subsampled_gaussian"]
    assert training.params == {
        "sigma": params["sigma"], "sample_rate": params["sample_rate"], "steps": params["steps"]
    }  # fmt: skip
    assert params["steps"] == 100  # ceil(1 epoch / q = 0.01)
    count = spends[purposes.index("dpsgd: row count")]
    assert count.mechanism == "gaussian"
    assert count.params["sigma"] >= params["count_sigma"]
    assert purposes.index("dpsgd: training") < purposes.index("dpsgd: row count")


def test_progress_reports_steps_only_never_values_from_the_rows(
    adult_frame: pd.DataFrame, adult_schema_path: Path, tmp_path: Path
) -> None:
    steps: list[str] = []
    Synthesizer(
        "dpsgd", epsilon=1, dataset="d", ledger=tmp_path / "l.db", schema=adult_schema_path,
        **QUICK,
    ).fit(adult_frame.head(300), progress=steps.append)  # fmt: skip
    training = [s for s in steps if s.startswith("dpsgd:")]
    assert training, steps
    assert all(re.fullmatch(r"dpsgd: epoch \d+/\d+, \d+/\d+ steps", s) for s in training)


def test_opacus_accountant_agrees_with_ours(fitted: tuple[Synthesizer, Ledger]) -> None:
    """Opacus's RDP accountant, stepped by its optimizer, against our curve of the same
    steps: the same analysis on different grids of orders (ours is finer, so lower)."""
    params = fitted[0]._fitted().generator.params()
    [run] = fitted[1].runs("d")
    ours = cost_of.subsampled_gaussian(
        params["sigma"], params["sample_rate"], params["steps"]
    ).epsilon(float(run["delta"]))
    theirs = params["opacus_epsilon"]
    assert theirs * 0.95 <= ours <= theirs * 1.01


def test_planned_cost_is_calibrated_to_epsilon() -> None:
    generator = DPSGD(epochs=3, sample_rate=0.02)
    before = cost_of.zcdp(0.002)
    planned = generator.planned_cost(1.0, 1e-6, before)
    assert planned is not None
    epsilon = (before + planned).epsilon(1e-6)
    assert 0.99 <= epsilon <= 1.0 + 1e-9
    assert from_dict(planned.to_dict()).rdp == pytest.approx(planned.rdp)
    assert generator.steps == 150


def test_saved_model_samples_identically(
    fitted: tuple[Synthesizer, Ledger], tmp_path: Path
) -> None:
    synthesizer, _ = fitted
    loaded = Synthesizer.load(synthesizer.save(tmp_path / "m.privsynth"))
    pd.testing.assert_frame_equal(loaded.sample(200, seed=4), synthesizer.sample(200, seed=4))
    assert loaded._fitted().generator.params() == synthesizer._fitted().generator.params()


def test_a_unit_with_several_rows_is_refused_before_the_ledger_is_touched(
    adult_frame: pd.DataFrame, adult_schema_path: Path, tmp_path: Path
) -> None:
    frame = adult_frame.head(300).assign(person=[str(i // 2) for i in range(300)])
    book = Ledger(tmp_path / "l.db")
    with pytest.raises(ConfigurationError, match="single rows"):
        _fit(frame, adult_schema_path, book, privacy_unit="person", max_rows_per_unit=2)
    assert book.runs("d") == [] and book.spends("d") == []


@pytest.mark.parametrize(
    "options",
    [{"epoch": 2}, {"sample_rate": 1.5}, {"device": "tpu"}, {"hidden": [0]}, {"order": "x"}],
)
def test_bad_options_are_clean_configuration_errors(
    options: dict[str, Any], tmp_path: Path
) -> None:
    with pytest.raises(ConfigurationError):
        Synthesizer("dpsgd", epsilon=1, dataset="d", ledger=tmp_path / "l.db", **options)


def test_made_is_autoregressive() -> None:
    """Column j's logits never depend on column j or any later column."""
    arch = Architecture((3, 5, 2, 4), (16, 16))
    rng = np.random.default_rng(0)
    weights = {k: v + rng.normal(0, 0.1, v.shape).astype(np.float32) for k, v in
               arch.initial_weights(rng).items()}  # fmt: skip
    masked = {**weights}
    for name, mask in arch.masks().items():
        masked[f"{name}.weight"] = weights[f"{name}.weight"] * mask
    codes = np.stack([rng.integers(0, s, 50) for s in arch.sizes], axis=1)
    for j in range(len(arch.sizes)):
        changed = codes.copy()
        changed[:, j:] = 0
        logits = _column_logits(arch, masked, one_hot(arch, codes), j)
        again = _column_logits(arch, masked, one_hot(arch, changed), j)
        np.testing.assert_allclose(logits, again, rtol=1e-6)


def test_importable_and_sampling_without_torch() -> None:
    code = (
        "import sys; sys.modules['torch'] = None; sys.modules['opacus'] = None\n"
        "import numpy as np\n"
        "from privsynth.generators.dpsgd import DPSGD, _training_module\n"
        "from privsynth.errors import ConfigurationError\n"
        "try:\n    _training_module()\nexcept ConfigurationError as e:\n"
        "    assert 'privsynth[dpsgd]' in e.hint, e.hint\nelse:\n    raise SystemExit(1)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_empty_poisson_batches_take_noise_only_steps() -> None:
    """20 rows at q = 0.01: most batches are empty; each is still a (noisy) step."""
    from privsynth.generators.dpsgd import training

    arch = Architecture((3, 4), (8,))
    rng = np.random.default_rng(1)
    codes = np.stack([rng.integers(0, s, 20) for s in arch.sizes], axis=1)
    plan = training.TrainingPlan(1.0, 0.01, 30, 1.0, 1e-2, 0.2, "cpu", 1e-6)
    start = arch.initial_weights(rng)
    done: list[int] = []
    result = training.train(arch, start, codes, plan, (1, 2), done.append)
    assert result.steps_taken == 30
    assert done == [30]
    assert not np.allclose(result.weights["out.bias"], start["out.bias"])  # noise moved it
    assert result.opacus_epsilon > 0
