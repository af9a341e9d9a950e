"""The generator interface: fit on an encoded table within a zCDP budget, then sample.

Generators receive only integer codes over a public domain and a
:class:`~privsynth.dp.mechanisms.Mechanisms` object through which every access to the
private data must go; they never see raw values, never account for privacy
themselves, and whatever they keep after ``fit`` is DP post-processing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from privsynth.domain.codecs import Codes
from privsynth.domain.table import EncodedTable
from privsynth.dp.mechanisms import Mechanisms
from privsynth.registry import Registry

#: called with a short description of each step as it starts
ProgressCallback = Callable[[str], None]


def no_progress(_: str) -> None:
    """A progress callback that ignores updates."""


class Generator(ABC):
    """A differentially private synthetic data generator for encoded tables."""

    name: ClassVar[str]

    @abstractmethod
    def fit(
        self,
        table: EncodedTable,
        mechanisms: Mechanisms,
        rho: float,
        progress: ProgressCallback = no_progress,
    ) -> None:
        """Learn a model of ``table`` spending at most ``rho`` (zCDP) via ``mechanisms``."""

    @abstractmethod
    def sample(self, rows: int, rng: np.random.Generator) -> dict[str, Codes]:
        """``rows`` synthetic records as codes (pure post-processing of the fitted model)."""

    @property
    @abstractmethod
    def estimated_rows(self) -> int:
        """The model's private (noisy) estimate of the number of records."""

    def params(self) -> dict[str, Any]:
        """Hyper-parameters, recorded in the ledger and the report."""
        return {}


GENERATORS: Registry[Callable[..., Generator]] = Registry("generator")
