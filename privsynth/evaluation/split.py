"""Split a real table into training rows and a holdout the generator never sees.

Every privacy attack in the evaluation compares training records with holdout records,
so the holdout must be kept out *before* training. With a privacy unit (a column such
as ``patient_id`` identifying the person behind each row), the split is by person:
all of a person's rows land on the same side. A row-level split would put some of a
person's encounters in training and others in the holdout, and a membership attack
would then score "non-members" who were in fact trained on, hiding real leakage.

Rows whose unit id is missing are dropped from both sides: they cannot be attributed
to a person, so a row-level placement could split a person after all, and the
synthesis pipeline leaves them out of training anyway (:mod:`privsynth.dp.units`).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from privsynth.errors import ConfigurationError, InputDataError

#: the default share of units kept aside: a common choice, leaving most data for training
DEFAULT_HOLDOUT_SHARE = 0.2


def split_holdout(
    frame: pd.DataFrame,
    holdout_share: float = DEFAULT_HOLDOUT_SHARE,
    *,
    privacy_unit: str | None = None,
    seed: int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(train, holdout)``: a random ``holdout_share`` of the units (persons, or rows
    without ``privacy_unit``) in the holdout, the rest in training.

    The holdout gets ``round(share * units)`` units, at least one and at most all but
    one, so that both sides are usable. Rows keep their order and index labels within
    each side, so a row can be traced back to ``frame``; the unit column is kept (the
    pipeline and the evaluation need it). ``seed=None`` draws a fresh split."""
    _check_share(holdout_share)
    units = _unit_ids(frame, privacy_unit)
    present = units.notna().to_numpy()
    codes, uniques = pd.factorize(units[present])
    if len(uniques) < 2:
        what = f"persons with a {privacy_unit!r} id" if privacy_unit else "rows"
        raise InputDataError(
            f"a holdout split needs at least 2 {what}",
            hint="split a larger table",
        )
    rng = np.random.default_rng(seed)
    held = np.zeros(len(uniques), dtype=bool)
    held[rng.permutation(len(uniques))[: _holdout_units(len(uniques), holdout_share)]] = True
    kept = frame.loc[present]
    in_holdout = held[codes]
    return kept.loc[~in_holdout], kept.loc[in_holdout]


def _check_share(share: float) -> None:
    """Refuse shares that leave one side empty (or are not numbers at all)."""
    valid = isinstance(share, int | float) and not isinstance(share, bool)
    if not valid or not math.isfinite(share) or not 0.0 < share < 1.0:
        raise ConfigurationError(
            f"the holdout share must be a number strictly between 0 and 1, got {share!r}",
            hint="e.g. 0.2 keeps a random 20% of the persons (or rows) out of training",
        )


def _unit_ids(frame: pd.DataFrame, privacy_unit: str | None) -> pd.Series:
    """Each row's unit id; without a privacy unit, each row is its own unit."""
    if privacy_unit is None:
        return pd.Series(np.arange(len(frame)), index=frame.index)
    if privacy_unit not in frame.columns:
        raise ConfigurationError(
            f"the privacy unit column {privacy_unit!r} is not in the table",
            hint="name the column that identifies the person behind each row",
        )
    ids = frame[privacy_unit]
    if isinstance(ids, pd.DataFrame):
        raise InputDataError(
            f"the table has several columns named {privacy_unit!r}",
            hint="rename the duplicates",
        )
    return ids


def _holdout_units(units: int, share: float) -> int:
    """How many of ``units`` go to the holdout: the share, rounded, never 0 nor all."""
    return min(max(round(units * share), 1), units - 1)
