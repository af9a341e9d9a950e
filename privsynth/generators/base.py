"""The generator interface: fit on an encoded table within a zCDP budget, then sample.

Generators receive only integer codes over a public domain and a
:class:`~privsynth.dp.mechanisms.Mechanisms` object through which every access to the
private data must go; they never see raw values, never account for privacy
themselves, and whatever they keep after ``fit`` is DP post-processing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from privsynth.domain.codecs import Codes
from privsynth.domain.table import EncodedTable
from privsynth.dp.accounting import PrivacyCost
from privsynth.dp.mechanisms import Mechanisms
from privsynth.errors import ConfigurationError
from privsynth.registry import Registry

#: called with a short description of each step as it starts
ProgressCallback = Callable[[str], None]


def no_progress(_: str) -> None:
    """A progress callback that ignores updates."""


@dataclass
class GeneratorState:
    """A fitted generator as plain JSON values and numeric arrays: what a saved model
    holds, so that loading one never runs code (no pickle)."""

    values: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, npt.NDArray[Any]] = field(default_factory=dict)


class Generator(ABC):
    """A differentially private synthetic data generator for encoded tables."""

    name: ClassVar[str]
    #: the cost types (names in :data:`privsynth.dp.accounting.costs.MECHANISMS`) its
    #: ``fit`` may spend through ``mechanisms``: declared so that a ledger can rebuild
    #: every spend, and checked by the tests
    costs: ClassVar[tuple[str, ...]] = ()
    #: False for baselines that read the data without noise: a run with one records an
    #: unbounded spend (ε = ∞) and is labelled "no formal privacy guarantee" everywhere
    private: ClassVar[bool] = True
    #: True when its analysis protects single rows only (DP-SGD's subsampling, external
    #: libraries): a privacy unit with several rows per person is refused before admission
    rows_only: ClassVar[bool] = False

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

    def planned_cost(
        self, epsilon: float, delta: float, spent_before: PrivacyCost
    ) -> PrivacyCost | None:
        """What ``fit`` will charge, for generators whose cost is not a zCDP share.

        ``None`` (the default, marginal methods): the run reserves a zCDP budget and
        ``fit`` gets what is left of it as ``rho``. A generator with another Rényi curve
        (DP-SGD's subsampled Gaussian) returns the cost it will charge, calibrated from
        public parameters so that ``spent_before + cost`` is (``epsilon``, ``delta``)-DP;
        the run then reserves exactly that composition. Called before the data is read.
        """
        return None

    def check_columns(self, columns: list[str]) -> None:
        """Refuse options that name columns the run will not model (e.g. a target),
        before the ledger or the data is touched. ``columns``: the modelled columns as
        far as the header and the schema tell."""
        return None

    def params(self) -> dict[str, Any]:
        """Hyper-parameters, recorded in the ledger and the report."""
        return {}

    def state_dict(self) -> GeneratorState:
        """The fitted model, for saving (DP output: safe to share)."""
        raise ConfigurationError(f"generator {self.name!r} cannot be saved yet")

    @classmethod
    def from_state_dict(cls, state: GeneratorState) -> Generator:
        """A fitted generator rebuilt from :meth:`state_dict`'s output."""
        raise ConfigurationError(f"generator {cls.name!r} cannot be loaded")


GENERATORS: Registry[Callable[..., Generator]] = Registry("generator")
