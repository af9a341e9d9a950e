"""Schema constraints honoured when sampling: rows breaking one are drawn again, then
repaired or dropped; the counts are reported; nothing is read or spent."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from privsynth import Synthesizer
from privsynth.errors import SchemaError
from privsynth.schema import Schema
from privsynth.schema.constraints import parse_constraints, violations
from privsynth.schema.model import CategoricalSpec, DatetimeSpec, NumericSpec
from privsynth.synthesis import drawing
from privsynth.synthesis.drawing import draw_rows
from privsynth.synthesis.fitting import FittedModel
from privsynth.synthesis.records import ConstraintReport

ROWS = 400
RULES = [
    {"compare": "discharge_date >= admission_date"},
    {"range": {"column": "los", "min": 0, "max": 20}},
    {"if": "payer == 'Medicare'", "then": "age >= 65"},
    {
        "fixed_combinations": {
            "columns": ["state", "county"],
            "allowed": [["NY", "Kings"], ["NY", "Queens"], ["NJ", "Essex"]],
        }
    },
]
COLUMNS = {
    "admission_date": DatetimeSpec(min="2020-01-01", max="2020-12-31"),
    "discharge_date": DatetimeSpec(min="2020-01-01", max="2021-01-31"),
    "los": NumericSpec(min=0, max=60, integer=True),
    "age": NumericSpec(min=0, max=99, integer=True),
    "payer": CategoricalSpec(categories=("Medicare", "Private", "Self")),
    "state": CategoricalSpec(categories=("NY", "NJ")),
    "county": CategoricalSpec(categories=("Kings", "Queens", "Essex")),
}


def _frame() -> pd.DataFrame:
    """A small admissions table that satisfies every rule (the model does not know it)."""
    rng = np.random.default_rng(0)
    admitted = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 330, ROWS), unit="D")
    los = rng.integers(0, 21, ROWS)
    payer = rng.choice(["Medicare", "Private", "Self"], ROWS)
    age = np.where(payer == "Medicare", rng.integers(65, 99, ROWS), rng.integers(0, 99, ROWS))
    place = rng.choice(["NY|Kings", "NY|Queens", "NJ|Essex"], ROWS)
    return pd.DataFrame(
        {
            "admission_date": admitted.strftime("%Y-%m-%d"),
            "discharge_date": (admitted + pd.to_timedelta(los, unit="D")).strftime("%Y-%m-%d"),
            "los": los.astype(str),
            "age": age.astype(str),
            "payer": payer,
            "state": [p.split("|")[0] for p in place],
            "county": [p.split("|")[1] for p in place],
        }
    )


def _schema(rules: list[dict[str, object]]) -> Schema:
    return Schema(COLUMNS, rows=ROWS, constraints=parse_constraints(rules))


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> Synthesizer:
    ledger = tmp_path_factory.mktemp("ledger") / "ledger.db"
    synthesizer = Synthesizer(
        "mst", epsilon=1.0, dataset="admissions", ledger=ledger, schema=_schema(RULES),
        unsafe_seed=11, iterations=100, residual_scan=False,
    )  # fmt: skip
    return synthesizer.fit(_frame())


def _model(synthesizer: Synthesizer) -> FittedModel:
    return synthesizer._fitted()


def _unconstrained(model: FittedModel) -> FittedModel:
    return dataclasses.replace(model, schema=dataclasses.replace(model.schema, constraints=()))


def _broken(data: pd.DataFrame, schema: Schema) -> np.ndarray:
    return violations(schema.constraints, data, schema)


def test_the_model_breaks_the_rules_when_they_are_not_enforced(fitted: Synthesizer) -> None:
    model = _model(fitted)
    free = draw_rows(_unconstrained(model), 2000, np.random.default_rng(1), "keep", print)
    assert free.constraints is None
    broken = _broken(free.data, model.schema)
    assert broken.any(axis=1).all()  # each rule is broken by some rows: the tests can fail


def test_sampled_rows_satisfy_every_constraint_and_spend_nothing(fitted: Synthesizer) -> None:
    book = fitted._ledger()
    before = (book.runs(), book.spends(), book.status("admissions").spent_epsilon)
    for rows, seed in ((10, 1), (1500, 2), (3000, None)):
        data = fitted.sample(rows, seed=seed)
        assert len(data) == rows
        assert not _broken(data, fitted.schema).any()
    assert (book.runs(), book.spends(), book.status("admissions").spent_epsilon) == before


def test_the_report_counts_what_became_of_the_first_draws_rows(fitted: Synthesizer) -> None:
    model = _model(fitted)
    drawn = draw_rows(model, 2000, np.random.default_rng(5), "keep", print)
    first = draw_rows(_unconstrained(model), 2000, np.random.default_rng(5), "keep", print)
    report = drawn.constraints
    assert isinstance(report, ConstraintReport)
    expected = _broken(first.data, model.schema)  # the same first draw, not filtered
    assert [c.rejected for c in report.per_constraint] == expected.sum(axis=1).tolist()
    assert report.rows_rejected == int(expected.any(axis=0).sum()) > 0
    assert report.rows_redrawn == report.rows_rejected  # all replaced by fresh rows
    assert report.rows_repaired == report.rows_dropped == 0
    assert report.extra_rows_drawn >= report.rows_redrawn
    assert [c.text for c in report.per_constraint][:2] == [
        "discharge_date >= admission_date",
        "0 <= los <= 20",
    ]
    assert [c.index for c in report.per_constraint] == [0, 1, 2, 3]
    assert report.describe() == f"4 declared; {report.rows_redrawn:,} rows re-drawn, 0 repaired"
    # rows that broke nothing are kept as drawn
    kept = first.data[~expected.any(axis=0)].reset_index(drop=True)
    pd.testing.assert_frame_equal(drawn.data.head(len(kept)), kept)


def test_without_redraws_ranges_are_repaired_and_other_rows_dropped(
    fitted: Synthesizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(drawing, "CONSTRAINT_ROUNDS", 0)
    monkeypatch.setattr(drawing, "MIN_KEPT_SHARE", 0.0)  # most rows break a rule here
    model = _model(fitted)
    drawn = draw_rows(model, 2000, np.random.default_rng(5), "keep", print)
    report = drawn.constraints
    assert report is not None and report.rows_redrawn == 0
    assert report.rows_repaired > 0 and report.rows_dropped > 0
    assert report.rows_repaired + report.rows_dropped == report.rows_rejected
    assert len(drawn.data) == 2000 - report.rows_dropped
    assert not _broken(drawn.data, model.schema).any()
    per = {c.text: c for c in report.per_constraint}
    assert per["0 <= los <= 20"].repaired == report.rows_repaired
    assert per["discharge_date >= admission_date"].repaired == 0
    assert drawn.data["los"].max() == 20  # clipped to the bound, not dropped
    assert f"{report.rows_dropped:,} dropped" in report.describe()


def test_seeded_draws_with_constraints_are_reproducible(fitted: Synthesizer) -> None:
    pd.testing.assert_frame_equal(fitted.sample(500, seed=9), fitted.sample(500, seed=9))


def test_a_constraint_no_row_can_meet_is_a_clear_error_and_spends_nothing(
    fitted: Synthesizer,
) -> None:
    model = _model(fitted)
    rules = [*RULES, {"compare": "age > 120"}]
    hopeless = dataclasses.replace(
        model, schema=dataclasses.replace(model.schema, constraints=parse_constraints(rules))
    )
    book = fitted._ledger()
    before = (book.runs(), book.spends())
    with pytest.raises(SchemaError) as caught:
        draw_rows(hopeless, 300, np.random.default_rng(0), "keep", print)
    line = caught.value.one_line()
    assert "constraint 4 (age > 120) rejects 100% of them" in line
    assert "--" not in line
    assert (book.runs(), book.spends()) == before


def test_a_saved_model_keeps_its_constraints(fitted: Synthesizer, tmp_path: Path) -> None:
    path = fitted.save(tmp_path / "admissions.privsynth")
    loaded = Synthesizer.load(path)
    assert loaded.schema.constraints == fitted.schema.constraints
    assert [c.text for c in loaded.schema.constraints][2] == "if payer == 'Medicare' then age >= 65"
    data = loaded.sample(1000, seed=3)
    assert len(data) == 1000 and not _broken(data, loaded.schema).any()


def test_constraints_on_a_missing_column_are_refused_before_anything_is_read(
    tmp_path: Path,
) -> None:
    with pytest.raises(SchemaError, match="column 'weight', not in the schema"):
        Synthesizer(
            "mst", epsilon=1.0, dataset="x", ledger=tmp_path / "l.db",
            schema=_schema([{"compare": "weight > 0"}]),
        )  # fmt: skip
    assert not (tmp_path / "l.db").exists()


def test_the_sample_summary_prints_one_constraints_line(fitted: Synthesizer) -> None:
    from privsynth.cli import console, views
    from privsynth.synthesis.records import SampleReport

    fitted.sample(50, seed=1)
    report = fitted.last_sample
    assert report is not None and fitted.record is not None
    counts = ConstraintReport(declared=4, rows_rejected=412, rows_redrawn=412)
    with console.out.capture() as captured:
        views.sample_summary(
            fitted.record, dataclasses.replace(report, constraints=counts), 50, fitted._ledger()
        )
    assert "4 declared; 412 rows re-drawn, 0 repaired" in captured.get()
    with console.out.capture() as captured:
        views.sample_summary(
            fitted.record, dataclasses.replace(report, constraints=None), 50, fitted._ledger()
        )
    assert "declared" not in captured.get()
    assert SampleReport(1, report.suppressed, None).constraints is None


def test_sample_reports_how_its_constraints_were_honoured(fitted: Synthesizer) -> None:
    data = fitted.sample(2000, seed=3)
    report = fitted.last_sample
    assert report is not None and report.constraints is not None
    assert report.constraints.declared == len(fitted.schema.constraints)
    assert report.constraints.rows_rejected > 0  # the unconstrained model breaks them
    assert report.constraints.rows_redrawn + report.constraints.rows_repaired > 0
    assert len(data) + report.constraints.rows_dropped == 2000
