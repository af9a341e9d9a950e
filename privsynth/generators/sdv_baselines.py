"""Non-private SDV baselines (``sdv:gaussian_copula``, ``sdv:ctgan``): the quality a
generator reaches when it reads the data without noise.

They carry **no formal privacy guarantee**: a run with one records an unbounded spend
(ε = ∞) in the ledger, which exhausts the dataset's budget, and every surface labels it
a baseline, not for release. SDV 2.x is licensed BUSL-1.1, so it is an optional extra
(``pip install 'privsynth[sdv]'``), imported only when a baseline is fitted.

The model sees the encoded table only: every column's integer codes, declared
categorical through SDV's ``Metadata`` (no sdtype detection, so no column becomes a
faked PII type), under neutral names ``c0, c1, ...``. SDV configures its loggers when
it is imported and copies a logger configuration into the user's data folder
(``~/.local/share/sdv``); privsynth imports it with that folder pointed at a temporary
directory, so nothing is written there and SDV's file logging stays off in this process.
SDV and CTGAN draw from numpy's and torch's global generators. A fitted baseline cannot
be saved: SDV saves models with pickle, which privsynth never loads.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from privsynth.domain.codecs import Codes
from privsynth.domain.table import EncodedTable
from privsynth.dp.mechanisms import Mechanisms
from privsynth.errors import ConfigurationError
from privsynth.generators.base import GENERATORS, Generator, ProgressCallback, no_progress
from privsynth.generators.optional import import_optional, require

INSTALL_HINT = "install the optional extra: pip install 'privsynth[sdv]' (SDV is BUSL-1.1)"


def require_sdv() -> None:
    """Refuse early (before a ledger is touched) when SDV is not installed."""
    require("sdv", "the SDV baselines need SDV, which is not installed", INSTALL_HINT)


@contextmanager
def _private_data_home() -> Iterator[None]:
    """``XDG_DATA_HOME`` pointed at a temporary folder while SDV is first imported, so its
    logger configuration is not copied into the user's data folder."""
    saved = os.environ.get("XDG_DATA_HOME")
    with tempfile.TemporaryDirectory(prefix="privsynth-sdv-") as home:
        os.environ["XDG_DATA_HOME"] = home
        try:
            yield
        finally:
            if saved is None:
                os.environ.pop("XDG_DATA_HOME", None)
            else:
                os.environ["XDG_DATA_HOME"] = saved


def _sdv_module(name: str) -> Any:
    """An SDV module, imported lazily (see :func:`_private_data_home`)."""
    require_sdv()
    with _private_data_home():
        return import_optional(name, "SDV", INSTALL_HINT)


class SDVBaseline(Generator):
    """An SDV single-table synthesizer fitted on the encoded codes, without noise."""

    private = False
    costs = ()
    #: the SDV class in ``sdv.single_table``
    synthesizer_class: ClassVar[str]

    def __init__(self) -> None:
        require_sdv()
        self._model: Any = None
        self._columns: list[str] = []
        self._rows = 1

    def options(self) -> dict[str, Any]:
        """Keyword arguments for the SDV synthesizer."""
        return {}

    def params(self) -> dict[str, Any]:
        return {"sdv_synthesizer": self.synthesizer_class, "private": False, **self.options()}

    @property
    def estimated_rows(self) -> int:
        """The exact number of rows fitted on (a baseline has nothing to protect it)."""
        return self._rows

    def fit(
        self,
        table: EncodedTable,
        mechanisms: Mechanisms,
        rho: float,
        progress: ProgressCallback = no_progress,
    ) -> None:
        self._columns = list(table.codecs)
        if not self._columns:
            raise ConfigurationError(f"generator {self.name!r} needs at least one modelled column")
        metadata_module = _sdv_module("sdv.metadata")
        single_table = _sdv_module("sdv.single_table")
        names = _neutral_names(self._columns)
        frame = pd.DataFrame({names[c]: np.asarray(table.codes[c]) for c in self._columns})
        metadata = metadata_module.Metadata.load_from_dict(_metadata(list(frame.columns)))
        progress(f"fitting SDV's {self.synthesizer_class} (no formal privacy guarantee)")
        model = getattr(single_table, self.synthesizer_class)(metadata, **self.options())
        model.fit({"table": frame})
        self._model, self._rows = model, max(1, len(frame))

    def sample(self, rows: int, rng: np.random.Generator) -> dict[str, Codes]:
        """Rows from SDV (which draws from numpy's and torch's global generators; ``rng``
        is not used)."""
        if self._model is None:
            raise RuntimeError(f"{type(self).__name__}.sample called before fit")
        drawn = self._model.sample(num_rows=rows)
        if isinstance(drawn, dict):  # multi-table shaped results
            drawn = next(iter(drawn.values()))
        names = _neutral_names(self._columns)
        return {c: drawn[names[c]].to_numpy().astype(np.int64) for c in self._columns}


@GENERATORS.register("sdv:gaussian_copula")
class SDVGaussianCopula(SDVBaseline):
    """SDV's Gaussian copula: a non-private baseline."""

    name = "sdv:gaussian_copula"
    synthesizer_class = "GaussianCopulaSynthesizer"


@GENERATORS.register("sdv:ctgan")
class SDVCTGAN(SDVBaseline):
    """SDV's CTGAN, small by default (10 epochs): a non-private baseline."""

    name = "sdv:ctgan"
    synthesizer_class = "CTGANSynthesizer"

    def __init__(self, epochs: int = 10, batch_size: int = 500) -> None:
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise ConfigurationError(f"`epochs` must be a positive integer, got {epochs!r}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 10:
            raise ConfigurationError(f"`batch_size` must be an integer ≥ 10, got {batch_size!r}")
        super().__init__()
        self.epochs = epochs
        self.batch_size = batch_size - batch_size % 10  # CTGAN's pac of 10 must divide it

    def options(self) -> dict[str, Any]:
        return {"epochs": self.epochs, "batch_size": self.batch_size}


def _neutral_names(columns: list[str]) -> dict[str, str]:
    """Column name -> ``c<i>``: SDV infers nothing from our names."""
    return {column: f"c{i}" for i, column in enumerate(columns)}


def _metadata(names: list[str]) -> dict[str, Any]:
    """SDV 2.0 metadata declaring every column categorical (no detection)."""
    columns = {name: {"sdtype": "categorical"} for name in names}
    return {"METADATA_SPEC_VERSION": "V1", "tables": {"table": {"columns": columns}}}
