"""Bad data never fails a run on one record, and is reported only with DP counts.

Real data (UCI Adult) with defects written into it: a declared category list that misses
a common value, a Latin-1 file, ragged rows. Runs use the real pipeline and a real ledger.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from privsynth import Ledger, SynthesisConfig, run_synthesis
from privsynth.dp.accounting import PrivacyFilter
from privsynth.dp.accounting import costs as cost_of
from privsynth.dp.ledger import FAILED_RUN
from privsynth.dp.mechanisms import Mechanisms
from privsynth.dp.noise import NoiseSource
from privsynth.errors import InputDataError
from privsynth.quality import QualityCounts, release
from privsynth.schema import CategoricalSpec, NumericSpec, Schema

COLUMNS = ["age", "sex", "race", "income"]


def _schema(sex: tuple[str, ...] = ("Female", "Male")) -> Schema:
    return Schema(
        {
            "age": NumericSpec(min=17, max=90, integer=True),
            "sex": CategoricalSpec(categories=sex),
            "race": CategoricalSpec(
                categories=("Amer-Indian-Eskimo", "Asian-Pac-Islander", "Black", "Other", "White")
            ),
            "income": CategoricalSpec(categories=("<=50K", ">50K")),
        }
    )


def _config(dataset: str, **options: object) -> SynthesisConfig:
    return SynthesisConfig(
        epsilon=1.0, generator="mst", dataset=dataset, residual_scan=False,
        generator_options={"iterations": 50}, **options,  # type: ignore[arg-type]
    )  # fmt: skip


@pytest.fixture(scope="module")
def adult4(adult_frame: pd.DataFrame) -> pd.DataFrame:
    return adult_frame[COLUMNS].head(3000).reset_index(drop=True)


def test_a_category_list_that_misses_a_common_value_is_a_noisy_warning(
    tmp_path: Path, adult4: pd.DataFrame
) -> None:
    """The review's oracle: declaring `sex: [Female]` used to fail with the exact number
    of other values and the first row, and release the reservation. Now the run
    succeeds, is charged, and says roughly how many values did not fit."""
    ledger = Ledger(tmp_path / "ledger.db")
    result = run_synthesis(adult4, _config("adult4"), schema=_schema(("Female",)), ledger=ledger)
    (warning,) = [w for w in result.warnings if "'sex'" in w]
    assert "DP estimate" in warning
    males = int((adult4["sex"] == "Male").sum())
    noisy = int(re.search(r"about ([\d,]+)", warning).group(1).replace(",", ""))  # type: ignore[union-attr]
    assert abs(noisy - males) < 6 * result.quality.sigma  # type: ignore[union-attr]
    assert str(males) not in warning or noisy == males
    assert set(result.data["sex"]) == {"Female"}  # never emitted as a new label
    (run,) = ledger.runs("adult4")
    assert run["status"] == "committed"
    assert any(s["purpose"] == "data quality counts" for s in ledger.spends("adult4"))


def test_clean_data_raises_no_warning(tmp_path: Path, adult4: pd.DataFrame) -> None:
    result = run_synthesis(adult4, _config("clean"), schema=_schema(), ledger=tmp_path / "l.db")
    assert not [w for w in result.warnings if "DP estimate" in w]
    assert result.quality is not None and result.quality.invalid.keys() == set(COLUMNS)


def test_a_latin1_file_is_refused_by_a_dp_decision_and_charged(
    tmp_path: Path, adult4: pd.DataFrame
) -> None:
    source = tmp_path / "latin1.csv"
    frame = adult4.copy()
    frame["race"] = frame["race"].str.replace("Other", "Autre-é", regex=False)
    frame.loc[frame.index % 4 != 0, "sex"] = "Féminin"  # 3 rows in 4 now hold Latin-1 bytes
    source.write_bytes(frame.to_csv(index=False).encode("latin-1"))
    ledger = Ledger(tmp_path / "ledger.db")
    with pytest.raises(InputDataError) as caught:
        run_synthesis(source, _config("latin1"), schema=_schema(), ledger=ledger)
    assert "DP estimate" in caught.value.one_line()
    assert "iconv" in caught.value.one_line()
    (run,) = ledger.runs("latin1")
    assert run["status"] == "failed"
    assert [s["purpose"] for s in ledger.spends("latin1")] == [FAILED_RUN]
    assert ledger.status("latin1").spent_epsilon == pytest.approx(1.0, rel=1e-3)


def test_ragged_rows_are_left_out_and_counted_with_noise(
    tmp_path: Path, adult4: pd.DataFrame
) -> None:
    lines = adult4.to_csv(index=False).splitlines()
    lines[1:400] = [line + ",extra" for line in lines[1:400]]
    source = tmp_path / "ragged.csv"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_synthesis(source, _config("ragged"), schema=_schema(), ledger=tmp_path / "l.db")
    (warning,) = [w for w in result.warnings if "number of fields" in w]
    assert "DP estimate" in warning
    assert result.quality is not None
    assert abs(result.quality.rows["malformed_rows"] - 399) < 6 * result.quality.sigma


def test_exact_counts_only_under_debug_and_never_in_the_ledger(
    tmp_path: Path, adult4: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRIVSYNTH_DEBUG", "1")
    ledger = Ledger(tmp_path / "ledger.db")
    result = run_synthesis(adult4, _config("dbg"), schema=_schema(("Female",)), ledger=ledger)
    assert result.quality is not None
    (line,) = result.quality.debug
    males = int((adult4["sex"] == "Male").sum())
    assert "NOT PRIVATE" in line and f"'sex': {males}" in line
    assert f"'sex': {males}" not in json.dumps(ledger.runs("dbg"))
    monkeypatch.delenv("PRIVSYNTH_DEBUG")
    quiet = run_synthesis(adult4, _config("dbg"), schema=_schema(("Female",)), ledger=ledger)
    assert quiet.quality is not None and quiet.quality.debug == []


def test_quality_share_zero_spends_nothing_and_says_nothing(
    tmp_path: Path, adult4: pd.DataFrame
) -> None:
    ledger = Ledger(tmp_path / "ledger.db")
    config = _config("silent", quality_share=0.0)
    result = run_synthesis(adult4, config, schema=_schema(("Female",)), ledger=ledger)
    assert result.quality is None
    assert not any("DP estimate" in w for w in result.warnings)
    assert not any(s["purpose"] == "data quality counts" for s in ledger.spends("silent"))


def test_one_row_moves_the_quality_counts_within_their_sensitivity() -> None:
    counts = QualityCounts(rows=100, invalid={"a": 3, "b": 0, "c": 7})
    # a row that is invalid in every column, or a left-out row: both within the bound
    worst = QualityCounts(rows=101, invalid={"a": 4, "b": 1, "c": 8})
    left_out = QualityCounts(rows=100, invalid={"a": 3, "b": 0, "c": 7}, malformed_rows=1)
    for neighbour in (worst, left_out):
        moved = np.linalg.norm(neighbour.vector() - counts.vector())
        assert moved <= counts.sensitivity + 1e-12
    mechanisms = Mechanisms(PrivacyFilter(cost_of.zcdp(0.1)), NoiseSource(1))
    report = release(counts, mechanisms, 0.01, "t.csv")
    (spend,) = mechanisms.filter.accountant.history
    assert spend.cost.params["sensitivity"] == pytest.approx(2.0)
    assert report.sigma >= 2.0 / np.sqrt(2 * 0.01)
