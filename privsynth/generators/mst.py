"""MST (McKenna, Miklau & Sheldon 2021): 1-way marginals, a maximum spanning tree of
informative 2-way marginals chosen with the exponential mechanism, Private-PGM.

Budget split (zCDP): ``split[0]`` for the 1-way marginals, ``split[1]`` for tree
selection (one exponential mechanism per edge), ``split[2]`` for the 2-way
marginals on the tree. Codes whose noisy 1-way count is below 3σ are merged before
selection, as in the reference implementation.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import numpy as np
from mbi import Domain, estimation

from privsynth.domain.codecs import Codes
from privsynth.domain.table import EncodedTable
from privsynth.dp.mechanisms import Mechanisms, NoisyCounts
from privsynth.errors import ConfigurationError
from privsynth.generators.base import (
    GENERATORS,
    Generator,
    GeneratorState,
    ProgressCallback,
    no_progress,
)
from privsynth.generators.marginals import (
    Compression,
    estimate_total,
    marginal_counts,
    measure_one_way,
    measurement,
    one_way_measurement,
)
from privsynth.generators.pgm_model import PGMModel

Edge = tuple[str, str]


@GENERATORS.register("mst")
class MST(Generator):
    """Maximum-spanning-tree marginals + graphical-model estimation (NIST 2018 winner)."""

    name = "mst"
    costs = ("gaussian", "exponential")

    def __init__(
        self, iterations: int = 1000, split: tuple[float, float, float] = (1 / 3, 1 / 3, 1 / 3)
    ) -> None:
        if iterations < 1:
            raise ConfigurationError("MST needs at least one estimation iteration")
        if len(split) != 3 or min(split) <= 0 or abs(sum(split) - 1.0) > 1e-9:
            raise ConfigurationError(
                "MST's budget split must be three positive shares summing to 1"
            )
        self.iterations = iterations
        self.split = split
        self._fitted: PGMModel | None = None
        self._compressions: dict[str, Compression] = {}
        self._total = 1.0
        self.tree: list[Edge] = []

    def params(self) -> dict[str, Any]:
        return {"iterations": self.iterations, "split": list(self.split), "tree": self.tree}

    @property
    def estimated_rows(self) -> int:
        return max(1, round(self._total))

    def fit(
        self,
        table: EncodedTable,
        mechanisms: Mechanisms,
        rho: float,
        progress: ProgressCallback = no_progress,
    ) -> None:
        columns = list(table.codecs)
        if not columns:
            raise ConfigurationError("MST needs at least one modelled column")
        shares = self.split if len(columns) > 1 else (1.0, 0.0, 0.0)
        progress("measuring 1-way marginals")
        one_way = self._measure_one_way(table, mechanisms, rho * shares[0])
        codes = {c: self._compressions[c].compress(table.codes[c]) for c in columns}
        sizes = {c: self._compressions[c].size for c in columns}
        measurements = [
            one_way_measurement(c, r, self._compressions[c]) for c, r in one_way.items()
        ]
        released = list(one_way.values())
        if len(columns) > 1:
            progress("selecting the tree of 2-way marginals")
            self.tree = self._select_tree(codes, sizes, one_way, mechanisms, rho * shares[1])
            progress("measuring 2-way marginals")
            two_way = self._measure_two_way(codes, sizes, mechanisms, rho * shares[2])
            measurements += [measurement(r.values, e, r.sigma) for e, r in two_way.items()]
            released += list(two_way.values())
        progress("estimating the graphical model")
        self._total = estimate_total(released)
        domain = Domain(columns, [sizes[c] for c in columns])
        model = estimation.mirror_descent(
            domain, measurements, known_total=self._total, iters=self.iterations
        )
        self._fitted = PGMModel(model, dict(self._compressions), self._total)

    def _measure_one_way(
        self, table: EncodedTable, mechanisms: Mechanisms, rho: float
    ) -> dict[str, NoisyCounts]:
        released = measure_one_way(table, mechanisms, rho / len(table.sizes), "mst")
        for column, noisy in released.items():
            threshold = 3.0 * noisy.sigma
            self._compressions[column] = Compression.from_noisy(noisy.values, threshold)
        return released

    def _select_tree(
        self,
        codes: Mapping[str, Codes],
        sizes: Mapping[str, int],
        one_way: Mapping[str, NoisyCounts],
        mechanisms: Mechanisms,
        rho: float,
    ) -> list[Edge]:
        """Kruskal's algorithm where each edge is picked by the exponential mechanism,
        scored by how badly independence explains the pair (L1, sensitivity 1)."""
        columns = list(codes)
        total = estimate_total(list(one_way.values()))
        independent = {c: _distribution(self._compressions[c], one_way[c]) for c in columns}
        scores = {}
        for a, b in itertools.combinations(columns, 2):
            expected = total * np.outer(independent[a], independent[b]).ravel()
            actual = marginal_counts(codes, sizes, [a, b])
            scores[(a, b)] = float(np.abs(actual - expected).sum())
        component = {c: c for c in columns}
        tree: list[Edge] = []
        for step in range(len(columns) - 1):
            candidates = [e for e in scores if _find(component, e[0]) != _find(component, e[1])]
            choice = mechanisms.select(
                [scores[e] for e in candidates],
                rho / (len(columns) - 1),
                f"mst: tree edge {step + 1}",
                sensitivity=1.0,
            )
            a, b = candidates[choice]
            component[_find(component, a)] = _find(component, b)
            tree.append((a, b))
        return tree

    def _measure_two_way(
        self,
        codes: Mapping[str, Codes],
        sizes: Mapping[str, int],
        mechanisms: Mechanisms,
        rho: float,
    ) -> dict[Edge, NoisyCounts]:
        return {
            edge: mechanisms.gaussian_counts(
                marginal_counts(codes, sizes, edge),
                rho / len(self.tree),
                f"mst: 2-way marginal of {edge[0]!r} x {edge[1]!r}",
            )
            for edge in self.tree
        }

    def sample(self, rows: int, rng: np.random.Generator) -> dict[str, Codes]:
        if self._fitted is None:
            raise RuntimeError("MST.sample called before fit")
        return self._fitted.sample(rows, rng)

    def state_dict(self) -> GeneratorState:
        """Hyper-parameters, the tree, the compressions and the model's potentials and
        marginals: all derived from noisy measurements."""
        if self._fitted is None:
            raise ConfigurationError("MST has not been fitted: nothing to save")
        state = self._fitted.state()
        state.values.update(self.params())
        return state

    @classmethod
    def from_state_dict(cls, state: GeneratorState) -> MST:
        values = state.values
        mst = cls(int(values["iterations"]), tuple(values["split"]))
        mst.tree = [(str(a), str(b)) for a, b in values["tree"]]
        mst._fitted = PGMModel.from_state(state)
        mst._compressions = mst._fitted.compressions
        mst._total = mst._fitted.total
        return mst


def _distribution(compression: Compression, released: NoisyCounts) -> np.ndarray:
    """A probability vector on the compressed domain from noisy counts."""
    values, _ = compression.compress_noisy(released.values)
    clipped = np.maximum(values, 0.0)
    total = clipped.sum()
    return clipped / total if total > 0 else np.full(values.size, 1.0 / values.size)


def _find(component: dict[str, str], column: str) -> str:
    while component[column] != column:
        column = component[column]
    return column
