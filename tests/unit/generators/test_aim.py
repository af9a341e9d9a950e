"""AIM: workload construction, the budget it spends (and where), its round limits, and
that a fitted model saves, loads and samples like MST's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from privsynth import Synthesizer
from privsynth.dp.ledger import Ledger
from privsynth.errors import ConfigurationError
from privsynth.generators.aim import AIM, _final_picks, _Round
from privsynth.generators.workload import build_workload

COLUMNS = ["age", "sex", "race", "income", "hours"]
FAST = {"iterations": 100, "round_iterations": 20, "scoring_rows": 5000}


def test_workload_weights_the_target_and_closes_downwards() -> None:
    workload = build_workload(COLUMNS, degree=3, target="income", target_weight=4.0)
    assert len(workload.cliques) == 10  # C(5, 3)
    assert workload.cliques[("age", "sex", "income")] == 5.0
    assert workload.cliques[("age", "sex", "race")] == 1.0
    candidates = workload.candidates()
    assert len(candidates) == 5 + 10 + 10  # every 1-, 2- and 3-way subset
    # a candidate's weight is its overlap with the workload: the target's pairs weigh more
    assert candidates[("sex", "income")] > candidates[("sex", "race")]


def test_a_capped_workload_keeps_the_target_and_is_the_same_for_the_same_header() -> None:
    columns = [f"c{i}" for i in range(30)]
    first = build_workload(columns, 3, target="c7", max_cliques=500)
    again = build_workload(columns, 3, target="c7", max_cliques=500)
    assert first == again and len(first.cliques) == 500
    assert sum("c7" in clique for clique in first.cliques) == 406  # C(29, 2), all kept


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_rounds": 0}, "max_rounds"),
        ({"time_budget": -1.0}, "time_budget"),
        ({"anneal_share": 1.0}, "anneal_share"),
        ({"iterations": 0}, "iteration"),
    ],
)
def test_bad_options_are_refused_when_built(options: dict[str, float], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        AIM(**options)  # type: ignore[arg-type]


def test_an_unknown_target_is_refused_before_the_ledger_is_touched(
    adult_frame: pd.DataFrame, adult_schema_path: Path, tmp_path: Path
) -> None:
    book = Ledger(tmp_path / "l.db")
    synthesizer = Synthesizer(
        "aim", epsilon=1.0, dataset="adult", ledger=book, schema=adult_schema_path,
        target="salary",
    )  # fmt: skip
    with pytest.raises(ConfigurationError, match="salary"):
        synthesizer.fit(adult_frame)
    assert book.runs() == [] and book.spends() == []


@pytest.fixture(scope="module")
def fitted(
    adult_frame: pd.DataFrame, adult_schema_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Synthesizer, Ledger, list[str]]:
    book = Ledger(tmp_path_factory.mktemp("aim") / "l.db")
    steps: list[str] = []
    synthesizer = Synthesizer(
        "aim", epsilon=1.0, dataset="adult", ledger=book, schema=adult_schema_path,
        target="income", max_rounds=2, **FAST,
    ).fit(adult_frame, progress=steps.append)  # fmt: skip
    return synthesizer, book, steps


def test_every_round_is_paid_through_the_ledger_and_the_budget_is_used_up(
    fitted: tuple[Synthesizer, Ledger, list[str]],
) -> None:
    synthesizer, book, steps = fitted
    spends = book.spends("adult")
    assert {s["mechanism"] for s in spends} <= set(AIM.costs)
    selections = [s for s in spends if s["purpose"].startswith("aim: selection")]
    measured = [s for s in spends if s["purpose"].startswith("aim: marginal")]
    assert 1 <= len(selections) == len(measured)
    # the last round spends what is left: nothing of the target is wasted
    assert 0.97 <= book.status("adult").spent_epsilon <= 1.0 + 1e-9
    rounds = [s for s in steps if s.startswith("AIM round")]
    assert len(rounds) == 2  # max_rounds
    # every marginal a round names was paid for, and nothing else was measured (how many
    # the last round takes from the leftover budget is covered by the _final_picks test;
    # here it depends on whether the noise was halved, which depends on the noise)
    named = [line.split(": measured ")[1].split(" with σ")[0].split(", ") for line in rounds]
    assert sum(len(cliques) for cliques in named) == len(measured)
    assert synthesizer.record is not None
    pairs = [s for s in spends if s["purpose"].startswith("aim: target pair")]
    assert len(pairs) == 14  # every (column, income) marginal, measured up front
    assert len(synthesizer.record.generator_params["selected"]) == len(measured) + len(pairs)


def test_the_model_samples_the_schema_and_round_trips_through_a_file(
    fitted: tuple[Synthesizer, Ledger, list[str]], tmp_path: Path
) -> None:
    synthesizer, _, _ = fitted
    data = synthesizer.sample(500, seed=3)
    assert len(data) == 500 and "income" in data.columns
    assert set(data["income"].dropna()) <= {">50K", "<=50K"}
    loaded = Synthesizer.load(synthesizer.save(tmp_path / "aim.privsynth"))
    pd.testing.assert_frame_equal(loaded.sample(300, seed=9), synthesizer.sample(300, seed=9))


@pytest.mark.slow
def test_a_time_budget_ends_the_rounds_early_and_spends_the_rest_at_once(
    adult_frame: pd.DataFrame, adult_schema_path: Path, tmp_path: Path
) -> None:
    book, steps = Ledger(tmp_path / "l.db"), []
    Synthesizer(
        "aim", epsilon=1.0, dataset="adult", ledger=book, schema=adult_schema_path,
        time_budget=1e-3, **FAST,
    ).fit(adult_frame.head(2000), progress=steps.append)  # fmt: skip
    assert len([s for s in steps if s.startswith("AIM round")]) <= 2
    measured = [s for s in book.spends("adult") if s["purpose"].startswith("aim: marginal")]
    assert 2 <= len(measured) <= 1 + 8  # the budget left is spread over several marginals
    assert book.status("adult").spent_epsilon >= 0.97


@pytest.mark.slow
def test_target_weighting_steers_the_selections_towards_the_target(
    adult_frame: pd.DataFrame, adult_schema_path: Path, tmp_path: Path
) -> None:
    shares = []
    for target in (None, "race"):
        book = Ledger(tmp_path / f"{target}.db")
        Synthesizer(
            "aim", epsilon=4.0, dataset="adult", ledger=book, schema=adult_schema_path,
            target=target, target_weight=50.0, target_pairs=False, max_rounds=6, **FAST,
        ).fit(adult_frame)  # fmt: skip
        picked = [s["purpose"] for s in book.spends("adult") if "aim: marginal" in s["purpose"]]
        shares.append(np.mean(["'race'" in purpose for purpose in picked]))
    # race is weakly tied to the other columns: picked rarely unless it is the target
    assert shares[1] > shares[0]
    assert shares[1] >= 0.8


@pytest.mark.slow
def test_two_picks_per_round_are_distinct_and_share_one_estimation(
    adult_frame: pd.DataFrame, adult_schema_path: Path, tmp_path: Path
) -> None:
    book, steps = Ledger(tmp_path / "l.db"), []
    Synthesizer(
        "aim", epsilon=1.0, dataset="adult", ledger=book, schema=adult_schema_path,
        max_rounds=3, picks_per_round=2, **FAST,
    ).fit(adult_frame.head(2000), progress=steps.append)  # fmt: skip
    selections = [s["purpose"] for s in book.spends("adult") if "selection" in s["purpose"]]
    rounds = [s for s in steps if s.startswith("AIM round")]
    assert len(selections) == 2 * len(rounds) >= 2
    assert all(p.endswith((".1", ".2")) for p in selections)
    for line in rounds:
        picked = line.split("measured ", 1)[1].split(" with σ")[0].split(", ")
        assert len(picked) == 2 and picked[0] != picked[1]
    assert 0.97 <= book.status("adult").spent_epsilon <= 1.0 + 1e-9


def test_a_budget_left_by_an_early_stop_is_spread_over_several_marginals() -> None:
    plan = _Round(sigma=10.0, epsilon=0.1)  # rho = 0.005 + 0.00125
    assert _final_picks(plan.rho * 1.5, plan, 1, 100) == 1  # the normal last round
    assert _final_picks(plan.rho * 5.2, plan, 1, 100) == 5
    assert _final_picks(plan.rho * 500, plan, 1, 100) == 8  # capped
    assert _final_picks(plan.rho * 500, plan, 1, 3) == 3  # no more than the candidates
