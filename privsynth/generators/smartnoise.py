"""smartnoise-synth's MST and AIM, selectable as ``smartnoise:mst`` and ``smartnoise:aim``
when ``snsynth`` is importable. It is never a dependency (smartnoise-synth 1.0.8 pins
``opacus<0.15``): install it in a separate environment with
``benchmarks/smartnoise_env.sh``, or alongside privsynth without its dependencies.

The adapter decodes nothing: smartnoise gets the encoded table's integer codes as
categorical columns with a transformer fitted on the *public* domain (every code
``0..size-1``), so its preprocessor spends no ε and learns nothing from the rows.

Accounting. smartnoise's MST and AIM are zCDP: they turn their (ε, δ) into ρ with
``snsynth.utils.cdp_rho`` (OpenDP's optimal zCDP → approximate-DP conversion, Canonne,
Kamath & Steinke 2020). The adapter gives smartnoise the largest ε whose ρ under that
formula (at smartnoise's δ) fits the ρ the generator receives, and charges privsynth's
filter ``zcdp(ρ_sn)`` through :meth:`~privsynth.dp.mechanisms.Mechanisms.external`
*before* smartnoise sees the rows. The noise is then smartnoise's own: OpenDP's
floating-point Gaussian sampler and numpy's non-cryptographic global generator (its
exponential mechanisms), not privsynth's exact samplers; its correctness is
smartnoise's. smartnoise's MST also uses the exact row count as its model's total (it
treats the number of rows as public); the adapter's own row estimate is released by
privsynth with a small share of ρ. Fitted models cannot be saved.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import io
import math
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np

from privsynth.domain.codecs import Codes
from privsynth.domain.table import EncodedTable
from privsynth.dp.accounting import costs as cost_of
from privsynth.dp.mechanisms import Mechanisms
from privsynth.errors import ConfigurationError
from privsynth.generators.base import GENERATORS, Generator, ProgressCallback, no_progress
from privsynth.generators.marginals import marginal_counts
from privsynth.generators.optional import import_optional, require

INSTALL_HINT = (
    "smartnoise-synth is never installed with privsynth: create its environment with "
    "benchmarks/smartnoise_env.sh, or install smartnoise-synth without its dependencies"
)
#: smartnoise's default δ for MST and AIM: only a parameter of its ε → ρ conversion here
#: (privsynth records the ρ itself), so its value does not weaken the guarantee
SMARTNOISE_DELTA = 1e-9
#: ρ is given to smartnoise with this relative margin, so that OpenDP's numerics (which
#: agree with :func:`cdp_rho` to ~1e-13) never make it spend more than it was given
MARGIN = 1e-9
NOTE = (
    "noise drawn by smartnoise-synth (OpenDP floating-point Gaussian, numpy's global "
    "non-cryptographic generator), not by privsynth's exact samplers"
)

RhoOf = Callable[[float, float], float]


def cdp_delta(rho: float, epsilon: float) -> float:
    """δ of a ρ-zCDP mechanism at ``epsilon`` (Canonne, Kamath & Steinke 2020, Prop. 12;
    private-pgm's ``cdp2adp.cdp_delta``, as OpenDP computes it)."""
    if rho <= 0:
        return 0.0
    low, high = 1.01, (epsilon + 1.0) / (2.0 * rho) + 2.0
    for _ in range(200):
        alpha = (low + high) / 2.0
        slope = (2.0 * alpha - 1.0) * rho - epsilon + math.log1p(-1.0 / alpha)
        low, high = (alpha, high) if slope < 0 else (low, alpha)
        if high - low <= 1e-12 * high:
            break
    alpha = (low + high) / 2.0
    exponent = (alpha - 1.0) * (alpha * rho - epsilon) + alpha * math.log1p(-1.0 / alpha)
    return min(1.0, math.exp(min(exponent, 700.0)) / (alpha - 1.0))


def cdp_rho(epsilon: float, delta: float) -> float:
    """smartnoise's ``cdp_rho``: the largest ρ whose ρ-zCDP implies (ε, δ)-DP."""
    low, high = 0.0, epsilon + 1.0
    for _ in range(200):
        middle = (low + high) / 2.0
        low, high = (middle, high) if cdp_delta(middle, epsilon) <= delta else (low, middle)
        if high - low <= 1e-13 * high:
            break
    return low


def smartnoise_epsilon(rho: float, delta: float = SMARTNOISE_DELTA) -> float:
    """The ε to give smartnoise so that its ρ (``cdp_rho(ε, delta)``) is at most ``rho``:
    the smallest ε at which ``rho``-zCDP is (ε, ``delta``)-DP, for ``rho`` less the margin."""
    if not rho > 0 or not math.isfinite(rho) or not 0 < delta < 1:
        raise ConfigurationError(f"smartnoise needs a positive ρ and δ in (0, 1), got {rho!r}")
    target = rho * (1.0 - MARGIN)
    low, high = 0.0, target + 2.0 * math.sqrt(target * math.log(1.0 / delta))
    for _ in range(200):
        middle = (low + high) / 2.0
        low, high = (low, middle) if cdp_delta(target, middle) <= delta else (middle, high)
        if high - low <= 1e-13 * high:
            break
    return high


def require_snsynth() -> None:
    """Refuse early (before a ledger is touched or data read) when snsynth is missing."""
    require(
        "snsynth",
        "the smartnoise generators need smartnoise-synth (snsynth), which is not installed",
        INSTALL_HINT,
    )


def _snsynth(name: str) -> Any:
    require_snsynth()
    return import_optional(name, "snsynth", INSTALL_HINT)


class Smartnoise(Generator):
    """A smartnoise-synth synthesizer on the encoded codes, charged before it runs."""

    rows_only = True

    costs: ClassVar[tuple[str, ...]] = ("zcdp",)
    #: the name in smartnoise's ``Synthesizer.create``
    synthesizer: ClassVar[str]

    def __init__(self, smartnoise_delta: float = SMARTNOISE_DELTA, **options: Any) -> None:
        require_snsynth()
        delta = smartnoise_delta
        if not isinstance(delta, float) or not 0 < delta < 1:
            raise ConfigurationError(f"`smartnoise_delta` must be in (0, 1), got {delta!r}")
        self.delta, self.options = delta, options
        self.epsilon_sn = 0.0
        self.rho_sn = 0.0
        self._model: Any = None
        self._columns: list[str] = []
        self._total = 1.0

    def params(self) -> dict[str, Any]:
        return {
            "smartnoise": self.synthesizer, "epsilon_sn": self.epsilon_sn,
            "delta_sn": self.delta, "rho_sn": self.rho_sn, "noise": NOTE, **self.options,
        }  # fmt: skip

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
        self._columns = list(table.codecs)
        if not self._columns:
            raise ConfigurationError(f"generator {self.name!r} needs at least one modelled column")
        if mechanisms.rows_per_unit != 1:
            raise ConfigurationError(
                f"generator {self.name!r} protects single rows, not a privacy unit with up to "
                f"{mechanisms.rows_per_unit} rows",
                hint="use a marginal generator (mst, aim) with `privacy_unit`",
            )
        utils = _snsynth("snsynth.utils")
        rho = self._before(table, mechanisms, rho)
        self.epsilon_sn, self.rho_sn = _budget(rho, self.delta, utils.cdp_rho)
        mechanisms.external(cost_of.zcdp(self.rho_sn), f"{self.name}: smartnoise's own noise")
        progress(f"fitting smartnoise's {self.synthesizer} (ε={self.epsilon_sn:.4g})")
        frame = {f"c{i}": np.asarray(table.codes[c]) for i, c in enumerate(self._columns)}
        self._model = _fit(self.synthesizer, frame, table.sizes, self._fit_options())
        self._after()

    def _before(self, table: EncodedTable, mechanisms: Mechanisms, rho: float) -> float:
        """Releases before smartnoise runs; the ρ left for it."""
        return rho

    def _after(self) -> None:
        """The row estimate, from the fitted model (DP when smartnoise estimated it)."""
        self._total = float(self._model.synthesizer.total)

    def _fit_options(self) -> dict[str, Any]:
        return {"epsilon": self.epsilon_sn, "delta": self.delta, **self.options}

    def sample(self, rows: int, rng: np.random.Generator) -> dict[str, Codes]:
        """smartnoise's sample, drawn with numpy's global generator seeded from ``rng``;
        the global state is restored afterwards."""
        if self._model is None:
            raise RuntimeError(f"{type(self).__name__}.sample called before fit")
        state = np.random.get_state()
        np.random.seed(int(rng.integers(2**32)))
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                drawn = self._model.sample(rows)
        finally:
            np.random.set_state(state)
        table = drawn.to_numpy() if hasattr(drawn, "to_numpy") else [tuple(r) for r in drawn]
        values = np.asarray(table, dtype=np.int64).reshape(rows, len(self._columns))
        return {c: values[:, i].copy() for i, c in enumerate(self._columns)}


@GENERATORS.register("smartnoise:mst")
class SmartnoiseMST(Smartnoise):
    """smartnoise-synth's MST. It uses the exact row count as its model's total, so the
    row estimate is released here first with ``count_share`` of ρ."""

    name = "smartnoise:mst"
    synthesizer = "mst"
    costs = ("zcdp", "gaussian")

    def __init__(
        self, smartnoise_delta: float = SMARTNOISE_DELTA, count_share: float = 0.01
    ) -> None:
        if not isinstance(count_share, float) or not 0 < count_share < 0.5:
            raise ConfigurationError(f"`count_share` must be in (0, 0.5), got {count_share!r}")
        super().__init__(smartnoise_delta)
        self.count_share = count_share

    def params(self) -> dict[str, Any]:
        return {**super().params(), "count_share": self.count_share}

    def _before(self, table: EncodedTable, mechanisms: Mechanisms, rho: float) -> float:
        first = self._columns[0]
        counts = marginal_counts(table.codes, table.sizes, [first]).sum(keepdims=True)
        noisy = mechanisms.gaussian_counts(
            counts, rho * self.count_share, f"{self.name}: number of rows"
        )
        self._total = max(1.0, float(noisy.values[0]))
        return rho * (1.0 - self.count_share)

    def _after(self) -> None:
        """The row estimate was released before the fit (smartnoise's total is exact)."""


@GENERATORS.register("smartnoise:aim")
class SmartnoiseAIM(Smartnoise):
    """smartnoise-synth's AIM (its model's total is estimated from noisy marginals)."""

    name = "smartnoise:aim"
    synthesizer = "aim"

    def __init__(
        self,
        smartnoise_delta: float = SMARTNOISE_DELTA,
        max_model_size: float = 80,
        degree: int = 2,
        max_cells: int = 10000,
    ) -> None:
        options = {"max_model_size": max_model_size, "degree": degree, "max_cells": max_cells}
        super().__init__(smartnoise_delta, **options)


def _budget(rho: float, delta: float, rho_of: RhoOf) -> tuple[float, float]:
    """(ε for smartnoise, the ρ smartnoise will spend with it by its own ``rho_of``),
    the ρ at most ``rho`` (ε nudged down if smartnoise's numerics disagree)."""
    epsilon = smartnoise_epsilon(rho, delta)
    for _ in range(8):
        spent = float(rho_of(epsilon, delta))
        if spent <= rho:
            return epsilon, spent
        epsilon *= 1.0 - 1e-6
    raise ConfigurationError(f"smartnoise's ρ for ε={epsilon:g} does not fit ρ={rho:g}")


def _fit(
    synthesizer: str, frame: Mapping[str, Codes], sizes: Mapping[str, int], options: dict[str, Any]
) -> Any:
    """A smartnoise synthesizer fitted on ``frame`` (codes under neutral names), with a
    transformer fitted on the public domain only (its preprocessor spends nothing)."""
    pandas = importlib.import_module("pandas")
    base = _snsynth("snsynth")
    table = _snsynth("snsynth.transform.table")
    label = _snsynth("snsynth.transform.label")
    size_list = list(sizes.values())
    codes = np.arange(max(size_list))
    public = pandas.DataFrame(
        {name: np.minimum(codes, size - 1) for name, size in zip(frame, size_list, strict=True)}
    )
    transformer = table.TableTransformer([label.LabelTransformer(nullable=False) for _ in frame])
    transformer.fit(public)
    model = base.Synthesizer.create(synthesizer, **options)
    with contextlib.redirect_stdout(io.StringIO()):  # AIM prints its progress
        model.fit(pandas.DataFrame(dict(frame)), transformer=transformer, preprocessor_eps=0.0)
    if model.epsilon != options["epsilon"]:
        raise ConfigurationError("smartnoise's preprocessor spent ε although the domain is public")
    return model
