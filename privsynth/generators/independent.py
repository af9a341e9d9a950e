"""Independent marginals: the DP floor that shows what modelling structure buys.

Each column's 1-way marginal is released once with discrete Gaussian noise (the zCDP
budget split evenly over the columns), clipped at zero and normalised; records are
drawn column by column, independently. It is differentially private, so its output is
as releasable as MST's, but it keeps no relation between columns: a generator that
does not beat it on 2-way fidelity has learnt nothing from its structure.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from privsynth.domain.codecs import Codes
from privsynth.domain.table import EncodedTable
from privsynth.dp.mechanisms import Mechanisms
from privsynth.errors import ConfigurationError
from privsynth.generators.base import (
    GENERATORS,
    Generator,
    GeneratorState,
    ProgressCallback,
    no_progress,
)
from privsynth.generators.marginals import estimate_total, marginal_counts

FloatArray = npt.NDArray[np.float64]


@GENERATORS.register("independent")
class Independent(Generator):
    """Every column drawn from its own noisy 1-way marginal (no relation between columns)."""

    name = "independent"
    costs = ("gaussian",)

    def __init__(self) -> None:
        self.probabilities: dict[str, FloatArray] = {}
        self._total = 1.0

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
        sizes = table.sizes
        if not sizes:
            raise ConfigurationError("the independent generator needs at least one modelled column")
        progress("measuring 1-way marginals")
        released = []
        for column in sizes:
            counts = marginal_counts(table.codes, sizes, [column])
            noisy = mechanisms.gaussian_counts(
                counts, rho / len(sizes), f"independent: 1-way marginal of {column!r}"
            )
            self.probabilities[column] = _distribution(noisy.values)
            released.append(noisy)
        self._total = estimate_total(released)

    def sample(self, rows: int, rng: np.random.Generator) -> dict[str, Codes]:
        if not self.probabilities:
            raise RuntimeError("Independent.sample called before fit")
        return {
            column: rng.choice(p.size, size=rows, p=p).astype(np.int64)
            for column, p in self.probabilities.items()
        }

    def state_dict(self) -> GeneratorState:
        """The normalised noisy marginals and the noisy row estimate (DP output)."""
        if not self.probabilities:
            raise ConfigurationError("the independent generator is not fitted: nothing to save")
        columns = list(self.probabilities)
        arrays: dict[str, npt.NDArray[Any]] = {
            f"p.{i}": self.probabilities[c] for i, c in enumerate(columns)
        }
        return GeneratorState({"columns": columns, "total": self._total}, arrays)

    @classmethod
    def from_state_dict(cls, state: GeneratorState) -> Independent:
        generator = cls()
        generator._total = float(state.values["total"])
        for i, column in enumerate(state.values["columns"]):
            generator.probabilities[str(column)] = _distribution(state.arrays[f"p.{i}"])
        return generator


def _distribution(values: npt.NDArray[Any]) -> FloatArray:
    """A probability vector from noisy counts: clipped at zero and normalised (uniform
    when nothing is left), so it is valid whatever the noise did."""
    clipped = np.maximum(np.asarray(values, dtype=np.float64), 0.0)
    if clipped.ndim != 1 or clipped.size == 0:
        raise ValueError("a marginal must be a non-empty vector")
    total = clipped.sum()
    if not np.isfinite(total) or total <= 0:
        return np.full(clipped.size, 1.0 / clipped.size)
    normalised: FloatArray = clipped / total
    return normalised
