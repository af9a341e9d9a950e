"""The privacy unit on real hospital discharges (NY SPARCS): ε protects a person.

Persons are made by grouping real discharges (1-6 each). A neighbouring dataset adds
one patient with 50 discharges. A recording subclass of :class:`Mechanisms` keeps the
exact statistics each mechanism was given (a spy: the mechanisms still run), so the
test can check the property DP rests on: between the two datasets, every measured
statistic moves by no more than the sensitivity its noise was calibrated to.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

from privsynth import Ledger, SynthesisConfig, run_synthesis
from privsynth.domain.table import build_codecs, encode_columns
from privsynth.dp.accounting import PrivacyFilter
from privsynth.dp.accounting import costs as cost_of
from privsynth.dp.mechanisms import Mechanisms, NoisyCounts
from privsynth.dp.noise import NoiseSource
from privsynth.dp.units import DEFAULT_MAX_ROWS, PrivacyUnit
from privsynth.errors import BudgetExceededError, ConfigurationError
from privsynth.generators.mst import MST
from privsynth.schema import Schema, load_schema

K = 3
RHO = 0.5


class RecordingMechanisms(Mechanisms):
    """Mechanisms that also keep each Gaussian release's exact input and its L2 bound."""

    def __init__(self, rows_per_unit: int, seed: int) -> None:
        super().__init__(PrivacyFilter(cost_of.zcdp(RHO)), NoiseSource(seed), rows_per_unit)
        self.exact: dict[str, tuple[npt.NDArray[np.float64], float]] = {}

    def gaussian_counts(
        self, counts: npt.ArrayLike, rho: float, purpose: str, sensitivity: float = 1.0
    ) -> NoisyCounts:
        bound = sensitivity * self.rows_per_unit
        self.exact[purpose] = (np.asarray(counts, dtype=np.float64), bound)
        return super().gaussian_counts(counts, rho, purpose, sensitivity)


@pytest.fixture(scope="module")
def discharges(sparcs_frame: pd.DataFrame) -> pd.DataFrame:
    frame = sparcs_frame.head(1500).copy()
    sizes = np.random.default_rng(0).integers(1, 7, size=len(frame))
    owners = np.repeat(np.arange(len(frame)), sizes)[: len(frame)]
    frame.insert(0, "patient_id", [f"P{o:05d}" for o in owners])
    return frame


def _with_frequent_patient(frame: pd.DataFrame, rows: int = 50) -> pd.DataFrame:
    extra = frame.drop(columns="patient_id").sample(rows, random_state=1, replace=True)
    extra["los"] = "120"  # an extreme patient, to move the marginals as far as possible
    extra.insert(0, "patient_id", "P-FREQUENT")
    return pd.concat([frame, extra], ignore_index=True)


@pytest.fixture(scope="module")
def schema(sparcs_schema_path: Path) -> Schema:
    """The SPARCS schema without its long-label column."""
    schema = load_schema(sparcs_schema_path)
    return schema.__class__(
        {c: s for c, s in schema.columns.items() if c != "CCSR.Diagnosis.Description"}
    )


def _fit(frame: pd.DataFrame, rows_per_unit: int, schema: Schema) -> RecordingMechanisms:
    unit = PrivacyUnit.of("patient_id", rows_per_unit)
    rng = np.random.default_rng(5)
    bounded = unit.bound(frame.drop(columns="CCSR.Diagnosis.Description"), rng)
    table, _ = encode_columns(bounded.frame, build_codecs(schema), rng)
    mechanisms = RecordingMechanisms(rows_per_unit, seed=9)
    MST(iterations=20).fit(table, mechanisms, RHO)
    return mechanisms


def test_a_frequent_patient_moves_each_statistic_at_most_its_sensitivity(
    discharges: pd.DataFrame, schema: Schema
) -> None:
    before = _fit(discharges, K, schema).exact
    after = _fit(_with_frequent_patient(discharges), K, schema).exact
    compared = 0
    for purpose, (counts, bound) in before.items():
        if purpose not in after or after[purpose][0].shape != counts.shape:
            continue  # a 2-way marginal on another tree edge or compressed domain
        moved = float(np.linalg.norm(after[purpose][0] - counts))
        assert bound == K
        assert moved <= bound + 1e-9, purpose
        compared += 1
    assert compared >= 10  # every 1-way marginal at least
    # without the bound the same patient moves a marginal by far more than one row could
    unbounded_before = _fit(discharges, 1000, schema).exact
    unbounded_after = _fit(_with_frequent_patient(discharges), 1000, schema).exact
    los = "mst: 1-way marginal of 'los'"
    assert np.linalg.norm(unbounded_after[los][0] - unbounded_before[los][0]) == 50


def test_at_most_k_rows_per_patient_are_kept(discharges: pd.DataFrame) -> None:
    frame = _with_frequent_patient(discharges)
    bounded = PrivacyUnit.of("patient_id", K).bound(frame, np.random.default_rng(0))
    assert bounded.units is not None
    assert bounded.units.value_counts().max() == K
    assert (bounded.units == "P-FREQUENT").sum() == K
    assert "patient_id" not in bounded.frame.columns
    persons = frame["patient_id"].value_counts()
    assert len(bounded.frame) == int(np.minimum(persons, K).sum())


def test_rows_without_a_unit_id_are_left_out(discharges: pd.DataFrame) -> None:
    frame = discharges.copy()
    frame.loc[frame.index[:10], "patient_id"] = None
    bounded = PrivacyUnit.of("patient_id", 100).bound(frame, np.random.default_rng(0))
    assert len(bounded.frame) == len(frame) - 10


def test_invalid_unit_settings_are_refused() -> None:
    with pytest.raises(ConfigurationError):
        PrivacyUnit.of("patient_id", 0)
    with pytest.raises(ConfigurationError):
        PrivacyUnit.of(None, 3)
    assert PrivacyUnit.of("patient_id").max_rows == DEFAULT_MAX_ROWS
    assert PrivacyUnit.of(None).describe() == "per row"


def test_synthesis_per_patient_end_to_end(
    tmp_path: Path, discharges: pd.DataFrame, sparcs_schema_path: Path
) -> None:
    ledger = Ledger(tmp_path / "ledger.db")
    config = SynthesisConfig(
        epsilon=2.0, generator="mst", dataset="discharges", privacy_unit="patient_id",
        max_rows_per_unit=K, generator_options={"iterations": 100}, residual_scan=False,
    )  # fmt: skip
    result = run_synthesis(discharges, config, schema=sparcs_schema_path, ledger=ledger)
    assert "patient_id" not in result.data.columns
    assert list(result.data.columns) == [c for c in discharges.columns if c != "patient_id"]
    assert result.privacy_unit.describe() == f"per patient_id (at most {K} rows each)"
    (run,) = ledger.runs("discharges")
    assert (run["privacy_unit"], run["max_rows_per_unit"]) == ("patient_id", K)
    assert "per patient_id" in json.loads(run["notes"])["privacy_unit"]
    marginals = [s for s in ledger.spends("discharges") if "1-way marginal" in s["purpose"]]
    assert {json.loads(s["params"])["sensitivity"] for s in marginals} == {float(K)}
    assert ledger.budget("discharges").privacy_unit == "patient_id"
    assert 1.9 < ledger.status("discharges").spent_epsilon <= 2.0
    per_row = SynthesisConfig(
        epsilon=0.5, generator="mst", dataset="discharges", residual_scan=False
    )
    with pytest.raises(BudgetExceededError, match="accounted per patient_id"):
        run_synthesis(discharges, per_row, ledger=ledger)  # refused before reading
