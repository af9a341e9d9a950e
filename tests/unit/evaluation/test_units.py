"""Evaluation with a privacy unit, on real data (UCI Adult) grouped into persons.

Adult has one row per person, so rows are grouped into synthetic persons of 1 to 8
rows under a ``patient_id`` column, as in encounter-level health data. Two generators
bracket what the person-level membership attack must tell apart:

* a *leaky* generator whose output contains every row of some training persons
  (plus rows of persons it never saw): those persons must be exposed;
* an *independent* generator whose output is real rows of other persons
  (``adult_holdout.csv``): the attack must read chance.

Without a privacy unit, the attack must give exactly what the row-level attack gave
before units existed (a frozen copy of that split is kept below).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from privsynth.compliance.audit import AuditInputs
from privsynth.errors import ConfigurationError, InputDataError, PrivsynthError
from privsynth.evaluation.data import EvaluationData
from privsynth.evaluation.distances import subsample
from privsynth.evaluation.membership import (
    MembershipInference,
    attack_scores,
    rows_of,
    summarise,
    unit_maximum,
)
from privsynth.evaluation.split import split_holdout

UNIT = "patient_id"
#: share of training persons whose rows the leaky generator copies
COPIED_SHARE = 0.3


# --------------------------------------------------------------------------- fixtures


def with_persons(frame: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """``frame`` with a ``patient_id`` column grouping consecutive rows into persons of
    1 to 8 rows (ids ``p0000``, ``p0001``, ...)."""
    sizes = np.random.default_rng(seed).integers(1, 9, size=len(frame))
    person = np.repeat(np.arange(len(sizes)), sizes)[: len(frame)]
    out = frame.copy()
    out.insert(0, UNIT, [f"p{i:04d}" for i in person])
    return out


@pytest.fixture(scope="module")
def people(adult_frame: pd.DataFrame) -> pd.DataFrame:
    return with_persons(adult_frame)


@pytest.fixture(scope="module")
def halves(people: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Training persons and holdout persons, half each (a large holdout gives the
    attack many non-member persons)."""
    return split_holdout(people, 0.5, privacy_unit=UNIT, seed=1)


@pytest.fixture(scope="module")
def others(adult_holdout_frame: pd.DataFrame) -> pd.DataFrame:
    """Real rows of persons in neither half: an independent generator's output."""
    frame = adult_holdout_frame
    return with_persons(frame, seed=2).assign(**{UNIT: lambda f: "other-" + f[UNIT]})


def leaky_output(train: pd.DataFrame, others: pd.DataFrame) -> tuple[pd.DataFrame, set[str]]:
    """Every row of a random :data:`COPIED_SHARE` of the training persons, and rows of
    persons never seen; with the copied persons' ids."""
    persons = train[UNIT].unique()
    rng = np.random.default_rng(4)
    copied = set(rng.choice(persons, size=round(COPIED_SHARE * len(persons)), replace=False))
    synthetic = pd.concat([train[train[UNIT].isin(copied)], others], ignore_index=True)
    return synthetic, copied


def attack(data: EvaluationData, max_targets: int = 5_000) -> dict[str, Any]:
    membership = MembershipInference()
    membership.max_targets = max_targets
    return membership.evaluate(data).to_dict()


# ----------------------------------------------------------------------------- split


def test_split_keeps_every_person_on_one_side(people: pd.DataFrame) -> None:
    train, holdout = split_holdout(people, 0.2, privacy_unit=UNIT, seed=3)
    persons = people[UNIT].nunique()
    assert not set(train[UNIT]) & set(holdout[UNIT])
    assert set(train[UNIT]) | set(holdout[UNIT]) == set(people[UNIT])
    assert len(train) + len(holdout) == len(people)
    assert abs(holdout[UNIT].nunique() - 0.2 * persons) <= 1
    for side in (train, holdout):  # row order (and index labels) kept
        assert side.index.is_monotonic_increasing
        pd.testing.assert_frame_equal(side, people.loc[side.index])
    again = split_holdout(people, 0.2, privacy_unit=UNIT, seed=3)[1]
    other = split_holdout(people, 0.2, privacy_unit=UNIT, seed=4)[1]
    assert again.index.equals(holdout.index)
    assert not other.index.equals(holdout.index)


def test_split_drops_rows_without_a_unit_id(people: pd.DataFrame) -> None:
    frame = people.copy()
    unknown = frame.index[::50]
    frame.loc[unknown, UNIT] = None
    train, holdout = split_holdout(frame, 0.3, privacy_unit=UNIT, seed=0)
    assert len(train) + len(holdout) == len(frame) - len(unknown)
    assert not (train.index.isin(unknown).any() or holdout.index.isin(unknown).any())
    assert not set(train[UNIT]) & set(holdout[UNIT])


def test_split_without_a_unit_splits_rows(adult_frame: pd.DataFrame) -> None:
    train, holdout = split_holdout(adult_frame, 0.25, seed=0)
    assert len(holdout) == round(0.25 * len(adult_frame))
    assert sorted([*train.index, *holdout.index]) == list(adult_frame.index)


@pytest.mark.parametrize("share", [0, 1, -0.1, 1.5, float("nan"), True, "0.2"])
def test_split_refuses_a_share_outside_0_1(people: pd.DataFrame, share: Any) -> None:
    with pytest.raises(ConfigurationError) as caught:
        split_holdout(people, share, privacy_unit=UNIT)
    assert caught.value.hint and "\n" not in caught.value.one_line()


def test_split_refuses_a_missing_column_and_too_few_units(people: pd.DataFrame) -> None:
    with pytest.raises(ConfigurationError, match="not in the table"):
        split_holdout(people, privacy_unit="person")
    one_person = people[people[UNIT] == people[UNIT].iloc[0]]
    with pytest.raises(InputDataError) as caught:
        split_holdout(one_person, privacy_unit=UNIT)
    _assert_quotes_no_cell(caught.value, one_person)
    with pytest.raises(InputDataError):
        split_holdout(people.iloc[:1])


# ---------------------------------------------------------------------- evaluation data


def test_build_refuses_persons_on_both_sides(people: pd.DataFrame) -> None:
    train, holdout = split_holdout(people, 0.3, seed=0)  # by row: persons straddle
    with pytest.raises(ConfigurationError) as caught:
        EvaluationData.build(train, train, holdout, privacy_unit=UNIT)
    message = caught.value.one_line()
    assert caught.value.hint and "split" in caught.value.hint
    assert not any(ch.isdigit() for ch in message)  # no ids, no counts
    _assert_quotes_no_cell(caught.value, people)
    EvaluationData.build(train, train, holdout)  # fine without a unit, as before


def test_build_keeps_unit_ids_aligned_and_out_of_the_columns(
    halves: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    train, holdout = halves
    train = train.copy()
    train.loc[train.index[::40], UNIT] = None
    data = EvaluationData.build(train, train, holdout, privacy_unit=UNIT, seed=1)
    assert UNIT not in data.kinds  # even though the synthetic table has it
    assert data.real_units is not None and data.holdout_units is not None
    kept = train[train[UNIT].notna()]
    assert len(data.real) == len(data.real_units) == len(kept)
    assert data.real_units.tolist() == kept[UNIT].tolist()
    assert data.real["age"].tolist() == kept["age"].astype(float).tolist()
    assert data.holdout is not None and len(data.holdout) == len(data.holdout_units)
    assert data.holdout_units.tolist() == holdout[UNIT].tolist()
    plain = EvaluationData.build(train, train.drop(columns=[UNIT]), holdout)
    assert plain.real_units is None and plain.privacy_unit is None


def test_build_refuses_a_unit_missing_from_a_table_or_used_as_a_role(
    halves: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    train, holdout = halves
    with pytest.raises(ConfigurationError, match="holdout table"):
        EvaluationData.build(train, train, holdout.drop(columns=[UNIT]), privacy_unit=UNIT)
    with pytest.raises(ConfigurationError, match="real table"):
        EvaluationData.build(train.drop(columns=[UNIT]), train, holdout, privacy_unit=UNIT)
    with pytest.raises(ConfigurationError, match="privacy unit column"):
        EvaluationData.build(train, train, holdout, target=UNIT, privacy_unit=UNIT)


# ------------------------------------------------------------------------ membership


def test_membership_counts_persons_and_reads_chance_for_an_independent_generator(
    halves: tuple[pd.DataFrame, pd.DataFrame], others: pd.DataFrame
) -> None:
    train, holdout = halves
    data = EvaluationData.build(train, others, holdout, privacy_unit=UNIT, seed=5)
    result = attack(data)
    held = holdout[UNIT].nunique()
    assert result["unit"] == UNIT
    assert result["reference"] == held // 2
    assert result["members"] == result["non_members"] == held - held // 2
    assert result["members"] < len(holdout) - held // 2  # persons, not rows
    for name in ("dcr", "domias"):
        assert abs(result["attacks"][name]["auc"] - 0.5) < 0.1, name
    assert abs(result["auc"] - 0.5) < 0.1


def test_membership_exposes_copied_persons(
    halves: tuple[pd.DataFrame, pd.DataFrame], others: pd.DataFrame
) -> None:
    train, holdout = halves
    synthetic, copied = leaky_output(train, others)
    data = EvaluationData.build(train, synthetic, holdout, privacy_unit=UNIT, seed=5)
    result = attack(data)
    dcr = result["attacks"]["dcr"]
    # a copied person's closest row is at distance 0; the others are at chance, so
    # the AUC is about 0.5 + COPIED_SHARE / 2 (0.63 measured)
    assert dcr["auc_ci"][0] > 0.55
    assert dcr["auc"] > 0.5 + COPIED_SHARE / 4
    assert dcr["tpr_at_fpr"]["0.01"] > COPIED_SHARE / 2
    assert result["auc"] >= dcr["auc"]
    assert len(copied) < train[UNIT].nunique()


def test_membership_max_targets_counts_persons(halves: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    train, holdout = halves
    data = EvaluationData.build(train, train, holdout, privacy_unit=UNIT, seed=0)
    result = attack(data, max_targets=50)
    assert result["members"] == result["non_members"] == 50
    assert result["attacks"]["dcr"]["auc"] > 0.95  # every member copied


def test_membership_needs_four_holdout_persons(
    halves: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    train, holdout = halves
    few = holdout[holdout[UNIT].isin(holdout[UNIT].unique()[:3])]
    assert len(few) >= 4  # enough rows, too few persons
    data = EvaluationData.build(train, train, few, privacy_unit=UNIT)
    with pytest.raises(InputDataError, match="4 holdout units"):
        attack(data)


def test_a_person_scores_their_best_row() -> None:
    codes = np.array([2, 0, 2, 1, 0, 2], dtype=np.intp)
    rows, groups = rows_of(codes, np.array([2, 0], dtype=np.intp))
    assert rows.tolist() == [0, 2, 5, 1, 4] and groups.tolist() == [0, 0, 0, 1, 1]
    scores = np.array([0.1, 0.7, 0.3, 0.2, 0.5])
    assert unit_maximum(scores, groups, 2).tolist() == [0.7, 0.5]


# ---------------------------------------------------------- without a unit: unchanged


def row_attack_before_units(data: EvaluationData, max_targets: int) -> dict[str, Any]:
    """The membership attack as it was before privacy units (frozen copy of its row
    split), for comparison."""
    rng = np.random.default_rng([data.seed, 11])
    holdout = data.require_holdout()
    order = rng.permutation(len(holdout))
    half = len(holdout) // 2
    reference, outside = holdout.iloc[order[:half]], holdout.iloc[order[half:]]
    n = min(len(outside), len(data.real), max_targets)
    members = data.real.iloc[subsample(len(data.real), n, rng)]
    non_members = outside.iloc[subsample(len(outside), n, rng)]
    targets = data.encoded(pd.concat([members, non_members], ignore_index=True))
    labels = np.r_[np.ones(len(members), bool), np.zeros(len(non_members), bool)]
    scores, bandwidths = attack_scores(
        targets, data.encoded(data.synthetic), data.encoded(reference), rng
    )
    attacks = {name: summarise(values, labels).to_dict() for name, values in scores.items()}
    attacks["domias"]["bandwidths"] = bandwidths
    best = max(attacks, key=lambda a: float(attacks[a]["auc"]))
    return {
        "auc": attacks[best]["auc"],
        "auc_ci": attacks[best]["auc_ci"],
        "tpr_at_fpr": attacks[best]["tpr_at_fpr"],
        "best_attack": best,
        "attacks": attacks,
        "members": len(members),
        "non_members": len(non_members),
        "reference": len(reference),
    }


@pytest.mark.parametrize(("seed", "max_targets"), [(0, 5_000), (3, 150)])
def test_without_a_unit_results_equal_the_row_attack(
    halves: tuple[pd.DataFrame, pd.DataFrame], seed: int, max_targets: int
) -> None:
    train, holdout = halves
    real = train.drop(columns=[UNIT]).iloc[:900]
    synthetic, _ = leaky_output(train, holdout.iloc[:300])
    data = EvaluationData.build(real, synthetic.iloc[:, 1:], holdout.iloc[:301], seed=seed)
    result = attack(data, max_targets)
    assert result.pop("unit") == "row"
    assert result == row_attack_before_units(data, max_targets)


def test_one_row_persons_equal_the_row_attack(halves: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    train, holdout = halves
    real, hold = train.iloc[:600].copy(), holdout.iloc[:250].copy()
    real[UNIT] = [f"r{i}" for i in range(len(real))]
    hold[UNIT] = [f"h{i}" for i in range(len(hold))]
    by_person = attack(EvaluationData.build(real, real, hold, privacy_unit=UNIT, seed=2))
    by_row = attack(EvaluationData.build(real.drop(columns=[UNIT]), real, hold, seed=2))
    assert (by_person.pop("unit"), by_row.pop("unit")) == (UNIT, "row")
    assert by_person == by_row


# -------------------------------------------------------------------------- API, audit


def test_api_and_audit_pass_the_unit_on(halves: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    from privsynth import api

    train, holdout = halves
    real, hold = train.iloc[:300], holdout.iloc[:300]
    inputs = AuditInputs(real=real, synthetic=real, holdout=hold, privacy_unit=UNIT)
    assert inputs.evaluation_data().privacy_unit == UNIT
    document = api.evaluate(real, real, hold, privacy_unit=UNIT, target="income")
    membership = document["privacy"]["membership_inference"]
    assert membership["unit"] == UNIT
    assert UNIT not in document["inputs"]["columns"]
    with pytest.raises(ConfigurationError):
        api.evaluate(real, real, pd.concat([hold, real.iloc[:5]]), privacy_unit=UNIT)


# ---------------------------------------------------------------------------- helpers


def _assert_quotes_no_cell(error: PrivsynthError, frame: pd.DataFrame) -> None:
    """The one-line message names no cell value of ``frame`` (ids above all)."""
    text = error.one_line()
    values = {str(v) for v in frame[UNIT].dropna().unique()}
    assert not any(value in text for value in values)
