"""A fitted Private-PGM model with its code compressions: what MST and AIM keep after
``fit``, sample from and save (as JSON values and numeric arrays, never pickle)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jax.numpy as jnp
import numpy as np
import numpy.typing as npt
from mbi import CliqueVector, Domain, Factor, MarkovRandomField

from privsynth.domain.codecs import Codes
from privsynth.generators.base import GeneratorState
from privsynth.generators.marginals import Compression
from privsynth.generators.sampling import sample_model

_PARTS = ("potentials", "marginals")


@dataclass
class PGMModel:
    """A graphical model over compressed codes; all of it derived from noisy measurements."""

    model: MarkovRandomField
    compressions: dict[str, Compression]
    #: the private (noisy) estimate of the number of records
    total: float

    def sample(self, rows: int, rng: np.random.Generator) -> dict[str, Codes]:
        """``rows`` records as original (uncompressed) codes."""
        compressed = sample_model(self.model, rows, rng)
        return {c: comp.decompress(compressed[c], rng) for c, comp in self.compressions.items()}

    def state(self) -> GeneratorState:
        """The compressions, the cliques and the model's potentials and marginals."""
        columns = list(self.compressions)
        arrays: dict[str, npt.NDArray[Any]] = {}
        for i, column in enumerate(columns):
            arrays[f"kept.{i}"] = self.compressions[column].kept
            arrays[f"merged.{i}"] = self.compressions[column].merged
        cliques = {}
        for part in _PARTS:
            vector: CliqueVector = getattr(self.model, part)
            cliques[part] = [list(clique) for clique in vector.cliques]
            for j, clique in enumerate(vector.cliques):
                arrays[f"{part}.{j}"] = np.asarray(vector.arrays[clique].values)
        values = {
            "columns": columns, "total": self.total,
            "model_total": float(self.model.total), "cliques": cliques,
        }  # fmt: skip
        return GeneratorState(values, arrays)

    @classmethod
    def from_state(cls, state: GeneratorState) -> PGMModel:
        """Rebuilt from :meth:`state`; shapes that do not fit the domain are refused."""
        values, arrays = state.values, state.arrays
        columns = [str(c) for c in values["columns"]]
        compressions = {
            column: Compression.from_parts(arrays[f"kept.{i}"], arrays[f"merged.{i}"])
            for i, column in enumerate(columns)
        }
        domain = Domain(columns, [compressions[c].size for c in columns])
        vectors = {
            part: _clique_vector(domain, values["cliques"][part], arrays, part) for part in _PARTS
        }
        model = MarkovRandomField(
            potentials=vectors["potentials"], marginals=vectors["marginals"],
            total=float(values["model_total"]),
        )  # fmt: skip
        return cls(model, compressions, float(values["total"]))


def _clique_vector(
    domain: Domain, cliques: list[list[str]], arrays: Mapping[str, npt.NDArray[Any]], part: str
) -> CliqueVector:
    """Factors over ``cliques`` from saved arrays; a shape that does not fit the domain
    is refused."""
    factors = {}
    for j, names in enumerate(cliques):
        clique = tuple(str(n) for n in names)
        sub = domain.project(clique)
        values = np.asarray(arrays[f"{part}.{j}"], dtype=np.float64)
        if values.shape != sub.shape:
            raise ValueError(f"{part} of {clique} has shape {values.shape}, not {sub.shape}")
        factors[clique] = Factor(sub, jnp.asarray(values))
    return CliqueVector(domain, list(factors), factors)
