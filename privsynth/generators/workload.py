"""Workloads of marginal queries: which marginals the synthetic data should preserve,
and how much each matters. Built from the public column list alone.

AIM (McKenna et al. 2022) scores a candidate marginal ``r`` by how much it overlaps
the workload: ``w_r = sum over workload cliques s of c_s * |r ∩ s|``. Giving the
cliques that contain a *target* column a larger ``c_s`` steers the budget towards the
structure a model predicting that column needs.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from privsynth.errors import ConfigurationError

Clique = tuple[str, ...]


@dataclass(frozen=True)
class Workload:
    """Weighted marginal queries over public column names."""

    cliques: dict[Clique, float]

    def candidates(self) -> dict[Clique, float]:
        """The downward closure of the workload (every non-empty subset of a workload
        clique), each with its AIM weight ``sum_s c_s |r ∩ s|``."""
        closure: set[Clique] = set()
        for clique in self.cliques:
            for size in range(1, len(clique) + 1):
                closure.update(itertools.combinations(clique, size))
        return {r: self._weight(r) for r in sorted(closure, key=lambda r: (len(r), r))}

    def _weight(self, candidate: Clique) -> float:
        members = set(candidate)
        return float(sum(c * len(members.intersection(s)) for s, c in self.cliques.items()))


def build_workload(
    columns: Sequence[str],
    degree: int = 3,
    target: str | None = None,
    target_weight: float = 1.0,
    max_cliques: int = 1000,
) -> Workload:
    """All ``degree``-way marginals (all of them of lower degree when there are fewer
    columns), ``1 + target_weight`` for those containing ``target``.

    With more than ``max_cliques`` cliques, those with the target are kept and the rest
    are a sample drawn with a seed derived from the column names: public, and the same
    for every run on the same header."""
    if degree < 1:
        raise ConfigurationError(f"a workload needs marginals of degree >= 1, got {degree}")
    if target is not None and target not in columns:
        raise ConfigurationError(
            f"target column {target!r} is not modelled",
            hint="name one of the modelled columns as the target, or leave it unset",
        )
    if target_weight < 0:
        raise ConfigurationError(f"`target_weight` must be >= 0, got {target_weight}")
    width = min(degree, len(columns))
    cliques = list(itertools.combinations(columns, width))
    if len(cliques) > max_cliques:
        cliques = _public_subset(cliques, columns, target, max_cliques)
    return Workload(
        {s: 1.0 + (target_weight if target is not None and target in s else 0.0) for s in cliques}
    )


def _public_subset(
    cliques: list[Clique], columns: Sequence[str], target: str | None, limit: int
) -> list[Clique]:
    with_target = [s for s in cliques if target is not None and target in s]
    others = [s for s in cliques if target is None or target not in s]
    room = max(0, limit - len(with_target))
    digest = hashlib.sha256("\x1f".join(columns).encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
    chosen = rng.choice(len(others), size=min(room, len(others)), replace=False)
    return with_target[:limit] + [others[i] for i in sorted(chosen)]
