"""Linkability risk (the Article 29 Working Party's second criterion).

Each target's columns are split into two disjoint sets; the attacker finds the nearest
synthetic records with each set (Gower distance) and links the two halves when the
same synthetic record is among both neighbour lists. Linking training records more
often than holdout records means the synthetic table re-joins what was split.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from privsynth.errors import ConfigurationError
from privsynth.evaluation.base import ATTACKS, Attack, RiskResult
from privsynth.evaluation.data import EvaluationData
from privsynth.evaluation.distances import Gower, IndexArray, Rows, nearest_neighbours
from privsynth.evaluation.stats import risk_from_rates
from privsynth.evaluation.wp29.predicates import BoolArray

#: the most training (main) and holdout (control) records attacked, each: every record
#: of tables up to that size (the holdout's size sets the interval's width), a bounded
#: cost beyond
DEFAULT_TARGETS = 10_000


@ATTACKS.register("linkability")
class Linkability(Attack):
    """Linkability risk: can the synthetic table re-join two halves of a record?

    The columns are split into two disjoint sets ``aux_cols`` (default: the
    quasi-identifiers against the rest, else the first half of the columns against the
    second). For each target the ``n_neighbors`` nearest synthetic records are found with
    each set; a link is a synthetic record in both lists. Targets are up to
    ``n_attacks`` training records (main) and up to as many holdout records (control),
    by default all of them; the baseline draws both neighbour lists at random."""

    name = "linkability"

    def __init__(
        self,
        n_attacks: int = DEFAULT_TARGETS,
        n_neighbors: int = 1,
        aux_cols: tuple[Sequence[str], Sequence[str]] | None = None,
        confidence: float = 0.95,
        seed: int | None = None,
    ) -> None:
        if n_attacks < 1 or n_neighbors < 1:
            raise ConfigurationError("n_attacks and n_neighbors must be positive")
        self.n_attacks = n_attacks
        self.n_neighbors = n_neighbors
        self.aux_cols = aux_cols
        self.confidence = confidence
        self.seed = seed

    def split(self, data: EvaluationData) -> tuple[list[str], list[str]]:
        """The two column sets the attacker holds."""
        if self.aux_cols is not None:
            first, second = (list(cols) for cols in self.aux_cols)
        elif data.quasi_identifiers and len(data.quasi_identifiers) < len(data.columns):
            first = list(data.quasi_identifiers)
            second = [c for c in data.columns if c not in first]
        else:
            half = len(data.columns) // 2
            first, second = data.columns[:half], data.columns[half:]
        unknown = sorted(c for c in [*first, *second] if c not in data.kinds)
        if unknown:
            raise ConfigurationError(
                f"linkability columns not in all tables: {unknown}", hint="check aux_cols"
            )
        if not first or not second or set(first) & set(second):
            raise ConfigurationError(
                "linkability needs two non-empty, disjoint column sets",
                hint="pass aux_cols=(columns_a, columns_b) or use at least two columns",
            )
        return first, second

    def evaluate(self, data: EvaluationData) -> RiskResult:
        holdout = data.require_holdout()
        first, second = self.split(data)
        rng = np.random.default_rng(data.seed if self.seed is None else self.seed)
        synthetic = data.synthetic.iloc[rng.permutation(len(data.synthetic))]
        k = min(self.n_neighbors, len(synthetic))
        main, control = (
            frame.iloc[rng.choice(len(frame), min(self.n_attacks, len(frame)), replace=False)]
            for frame in (data.real, holdout)
        )
        (main_a, control_a), (main_b, control_b) = (
            gower_neighbours(data, columns, synthetic, [main, control], k)
            for columns in (first, second)
        )
        n_main = int(np.count_nonzero(_linked(main_a, main_b)))
        n_control = int(np.count_nonzero(_linked(control_a, control_b)))
        random_a, random_b = (_random_neighbours(len(synthetic), len(main), k, rng) for _ in "ab")
        n_baseline = int(np.count_nonzero(_linked(random_a, random_b)))
        estimate = risk_from_rates(
            n_main, len(main), n_control, len(control), n_baseline / len(main), self.confidence
        )
        details = {
            "aux_cols": [first, second],
            "n_neighbors": k,
            "n_attacks_requested": self.n_attacks,
            "n_targets_main": len(main),
            "n_targets_control": len(control),
            "n_success_main": n_main,
            "n_success_control": n_control,
            "n_success_baseline": n_baseline,
            "distance": "gower: |x - y| / range per numeric column + 1 per categorical mismatch",
            "confidence_level": self.confidence,
            "sample": estimate.sample("holdout", len(holdout)),
        }
        return estimate.to_result(self.name, len(main), **details)


def gower_neighbours(
    data: EvaluationData,
    columns: list[str],
    synthetic: pd.DataFrame,
    targets: list[pd.DataFrame],
    k: int,
) -> list[IndexArray]:
    """Indices (into ``synthetic``'s row order) of each target's ``k`` nearest synthetic
    records by :class:`~privsynth.evaluation.distances.Gower` distance over ``columns``,
    numeric ranges taken over the synthetic and all target rows. Ties go to the earlier
    synthetic row; the caller shuffles the synthetic rows once, so ties are broken at
    random but the same way for both column sets."""
    frames = [synthetic, *targets]
    numeric = [c for c in columns if data.kinds[c] == "numeric"]
    categorical = [c for c in columns if data.kinds[c] != "numeric"]
    # halved: exact, so distances keep their bits, and no range overflows near 1e308
    raw = [f[numeric].to_numpy(dtype=np.float64).reshape(len(f), -1) / 2.0 for f in frames]
    codes = [np.zeros((len(f), len(categorical)), dtype=np.int64) for f in frames]
    for j, column in enumerate(categorical):
        categories = sorted(set().union(*(set(f[column]) for f in frames)))
        for coded, frame in zip(codes, frames, strict=True):
            coded[:, j] = pd.Categorical(frame[column], categories=categories).codes
    gower = Gower.over(*raw)
    reference = Rows(raw[0], codes[0])
    return [
        nearest_neighbours(Rows(values, coded), reference, k, metric=gower)[1]
        for values, coded in zip(raw[1:], codes[1:], strict=True)
    ]


def _random_neighbours(n_syn: int, n: int, k: int, rng: np.random.Generator) -> IndexArray:
    """``k`` distinct random synthetic indices per attack (the baseline's guesses)."""
    picks = rng.integers(0, n_syn, (n, k))
    while k > 1:
        ordered = np.sort(picks, axis=1)
        repeated = (ordered[:, 1:] == ordered[:, :-1]).any(axis=1)
        if not repeated.any():
            break
        picks[repeated] = rng.integers(0, n_syn, (int(repeated.sum()), k))
    return picks.astype(np.intp)


def _linked(first: IndexArray, second: IndexArray) -> BoolArray:
    """Whether each target's two neighbour lists share a synthetic record."""
    shared: BoolArray = (first[:, :, None] == second[:, None, :]).any(axis=(1, 2))
    return shared
