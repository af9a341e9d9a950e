"""The generator registry is the extension point: a generator fits and samples encoded
data, spends only through ``mechanisms`` and only the cost types it declares, saves its
state without pickle, and never touches the ledger; Synthesizer does the rest."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from privsynth import Synthesizer
from privsynth.domain.codecs import Codes
from privsynth.domain.table import EncodedTable
from privsynth.dp.accounting.costs import MECHANISMS
from privsynth.dp.ledger import Ledger
from privsynth.dp.mechanisms import Mechanisms
from privsynth.generators import GENERATORS, Generator
from privsynth.generators.base import GeneratorState, ProgressCallback, no_progress
from privsynth.generators.marginals import marginal_counts
from privsynth.generators.mst import MST


class IndependentMarginals(Generator):
    """Each column drawn from its own noisy 1-way marginal (a minimal plug-in)."""

    name = "independent-test"
    costs = ("gaussian",)

    def __init__(self) -> None:
        self.probabilities: dict[str, np.ndarray] = {}
        self.total = 1.0

    def fit(
        self,
        table: EncodedTable,
        mechanisms: Mechanisms,
        rho: float,
        progress: ProgressCallback = no_progress,
    ) -> None:
        for column, size in table.sizes.items():
            counts = marginal_counts(table.codes, table.sizes, [column])
            noisy = mechanisms.gaussian_counts(counts, rho / len(table.sizes), f"1-way {column}")
            clipped = np.maximum(noisy.values, 0.0) + 1e-9
            self.probabilities[column] = clipped / clipped.sum()
            self.total = max(1.0, float(noisy.values.sum()))
            assert size == counts.size

    def sample(self, rows: int, rng: np.random.Generator) -> dict[str, Codes]:
        return {
            column: rng.choice(p.size, size=rows, p=p).astype(np.int64)
            for column, p in self.probabilities.items()
        }

    @property
    def estimated_rows(self) -> int:
        return round(self.total)

    def state_dict(self) -> GeneratorState:
        columns = list(self.probabilities)
        arrays = {f"p.{i}": self.probabilities[c] for i, c in enumerate(columns)}
        return GeneratorState({"columns": columns, "total": self.total}, arrays)

    @classmethod
    def from_state_dict(cls, state: GeneratorState) -> IndependentMarginals:
        generator = cls()
        generator.total = float(state.values["total"])
        for i, column in enumerate(state.values["columns"]):
            generator.probabilities[str(column)] = state.arrays[f"p.{i}"]
        return generator

    def params(self) -> dict[str, Any]:
        return {}


@pytest.fixture
def registered() -> Iterator[str]:
    GENERATORS.register(IndependentMarginals.name)(IndependentMarginals)
    yield IndependentMarginals.name
    GENERATORS.unregister(IndependentMarginals.name)


def test_a_plugged_in_generator_runs_saves_and_is_accounted(
    registered: str, adult_frame: pd.DataFrame, adult_schema_path: Path, tmp_path: Path
) -> None:
    book = Ledger(tmp_path / "l.db")
    synthesizer = Synthesizer(
        registered, epsilon=1.0, dataset="adult", ledger=book, schema=adult_schema_path
    ).fit(adult_frame)
    spends = book.spends("adult")
    assert {s["mechanism"] for s in spends} <= set(IndependentMarginals.costs)
    assert book.status("adult").spent_epsilon <= 1.0 + 1e-9
    loaded = Synthesizer.load(synthesizer.save(tmp_path / "m.privsynth"))
    pd.testing.assert_frame_equal(loaded.sample(200, seed=4), synthesizer.sample(200, seed=4))


def test_mst_spends_only_the_cost_types_it_declares(
    adult_frame: pd.DataFrame, adult_schema_path: Path, tmp_path: Path
) -> None:
    book = Ledger(tmp_path / "l.db")
    Synthesizer(
        "mst", epsilon=1.0, dataset="adult", ledger=book, schema=adult_schema_path,
        iterations=50, quality_share=0.0,
    ).fit(adult_frame.head(1500))  # fmt: skip
    used = {s["mechanism"] for s in book.spends("adult")}
    assert used and used <= set(MST.costs)
    assert all(name in MECHANISMS for name in MST.costs)
