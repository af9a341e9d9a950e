"""AIM (McKenna, Mullins, Sheldon & Miklau, VLDB 2022): an adaptive, iterative
mechanism for workload-aware synthetic data on Private-PGM.

1. Every 1-way marginal is measured with Gaussian noise ``σ₀`` and rare codes are merged
   (as in MST). The budget is planned for ``rounds + d`` equal steps (paper: 16d).
2. Each round, the exponential mechanism picks the candidate marginal (the workload's
   downward closure) that the current model gets most wrong, scored
   ``w_r (‖M_r(D) − M_r(p̂)‖₁ − √(2/π) σ n_r)``: weighted by workload overlap and
   penalised by the noise its measurement would add. Only candidates that keep the
   model's junction tree under a size that grows with the budget spent are eligible.
3. The chosen marginal is measured with Gaussian noise σ and the model re-estimated,
   warm-started from the previous potentials (no rebuild from scratch).
4. When a measurement barely moved the model, σ halves and ε doubles (annealing). When
   what is left cannot pay for two more rounds, the last round spends all of it.

Unlike the reference code, candidates are scored against one sample of the current
model per round (exact marginals of arbitrary cliques would need one variable
elimination, and one XLA compilation, per candidate), and ``max_rounds`` /
``time_budget`` bound the number of rounds: the remaining budget then goes to one
final measurement, so a time limit never wastes ε. Stopping early depends only on the
noisy measurements and the clock, never on the data directly.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from mbi import Domain, LinearMeasurement, MarkovRandomField, estimation

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
from privsynth.generators.sampling import sample_model
from privsynth.generators.workload import Clique, build_workload

_NOISE_PENALTY = math.sqrt(2.0 / math.pi)  # E|N(0, σ²)| / σ
#: seconds of adaptive rounds before the rest of the budget goes to one last measurement
#: (``None``: no limit; then the rounds end only when the budget does)
DEFAULT_TIME_BUDGET = 35.0
#: the most marginals the last round measures when a limit ends the rounds early
_MAX_FINAL_PICKS = 8


@dataclass
class _Round:
    """The noise of the next measurement and selection (zCDP: 1/(2σ²) and ε²/8)."""

    sigma: float
    epsilon: float

    @property
    def rho(self) -> float:
        return 1.0 / (2.0 * self.sigma**2) + self.epsilon**2 / 8.0


@dataclass
class _State:
    """What a fit accumulates: codes, measurements, the current model, the spend."""

    codes: dict[str, Codes]
    sizes: dict[str, int]
    rho: float
    used: float = 0.0
    measurements: list[LinearMeasurement] = field(default_factory=list)
    released: list[NoisyCounts] = field(default_factory=list)
    measured: list[Clique] = field(default_factory=list)
    model: MarkovRandomField | None = None
    exact: dict[Clique, np.ndarray] = field(default_factory=dict)

    @property
    def left(self) -> float:
        return max(0.0, self.rho - self.used)

    def real(self, clique: Clique) -> np.ndarray:
        """Exact counts of a marginal, computed once per fit."""
        if clique not in self.exact:
            self.exact[clique] = marginal_counts(self.codes, self.sizes, clique).astype(float)
        return self.exact[clique]


@GENERATORS.register("aim")
class AIM(Generator):
    """Adaptive workload-aware marginals + Private-PGM; the target column option weights
    the marginals a model predicting it needs."""

    name = "aim"
    costs = ("gaussian", "exponential")

    def __init__(
        self,
        target: str | None = None,
        target_weight: float = 4.0,
        degree: int = 3,
        max_rounds: int | None = None,
        time_budget: float | None = DEFAULT_TIME_BUDGET,
        max_model_mb: float = 20.0,
        max_workload: int = 1000,
        iterations: int = 3000,
        round_iterations: int = 250,
        anneal_share: float = 0.9,
        scoring_rows: int = 50_000,
        target_pairs: bool = True,
        compress_sigmas: float = 3.0,
        picks_per_round: int = 1,
    ) -> None:
        _check_options({k: v for k, v in locals().items() if k in _OPTIONS})
        self.target, self.target_weight, self.degree = target, target_weight, degree
        self.max_rounds, self.time_budget, self.max_model_mb = max_rounds, time_budget, max_model_mb
        self.max_workload, self.iterations = max_workload, iterations
        self.round_iterations, self.anneal_share = round_iterations, anneal_share
        self.scoring_rows, self.target_pairs = scoring_rows, target_pairs
        self.compress_sigmas, self.picks_per_round = compress_sigmas, picks_per_round
        self._fitted: PGMModel | None = None
        self.selected: list[Clique] = []

    def params(self) -> dict[str, Any]:
        return {
            "target": self.target, "target_weight": self.target_weight, "degree": self.degree,
            "max_rounds": self.max_rounds, "time_budget": self.time_budget,
            "max_model_mb": self.max_model_mb, "max_workload": self.max_workload,
            "iterations": self.iterations, "round_iterations": self.round_iterations,
            "anneal_share": self.anneal_share, "scoring_rows": self.scoring_rows,
            "target_pairs": self.target_pairs, "compress_sigmas": self.compress_sigmas,
            "picks_per_round": self.picks_per_round,
            "selected": [list(c) for c in self.selected],
        }  # fmt: skip

    @property
    def estimated_rows(self) -> int:
        return max(1, round(self._fitted.total)) if self._fitted else 1

    def check_columns(self, columns: list[str]) -> None:
        if self.target is not None and self.target not in columns:
            raise ConfigurationError(
                f"AIM's target column {self.target!r} is not among the modelled columns",
                hint="name a modelled column as the target, or leave it unset",
            )

    # fitting -----------------------------------------------------------------------------

    def fit(
        self,
        table: EncodedTable,
        mechanisms: Mechanisms,
        rho: float,
        progress: ProgressCallback = no_progress,
    ) -> None:
        columns = list(table.codecs)
        if not columns:
            raise ConfigurationError("AIM needs at least one modelled column")
        workload = build_workload(
            columns, self.degree, self.target, self.target_weight, self.max_workload
        )
        rounds = self.max_rounds or 15 * len(columns)
        pairs = self._target_pairs(columns)
        steps = rounds + len(columns) + len(pairs)
        plan = _Round(
            math.sqrt(steps / (2.0 * self.anneal_share * rho)),
            math.sqrt(8.0 * (1.0 - self.anneal_share) * rho / steps),
        )
        progress("measuring 1-way marginals")
        state, compressions = self._measure_one_way(table, mechanisms, rho, plan.sigma)
        for pair in pairs:
            self._measure(state, pair, mechanisms, plan.sigma, "target pair")
        state.model = self._estimate(state, compressions, self.round_iterations)
        if len(columns) > 1:
            candidates = workload.candidates()
            rng = mechanisms.noise.derive("aim: scoring samples").numpy_generator()
            self._rounds(state, compressions, candidates, mechanisms, plan, rounds, rng, progress)
        progress("estimating the graphical model")
        model = self._estimate(state, compressions, self.iterations)
        self._fitted = PGMModel(model, compressions, estimate_total(state.released))

    def _target_pairs(self, columns: list[str]) -> list[Clique]:
        """With a target, each (column, target) marginal is measured up front: every
        feature's link to the target, whatever the adaptive rounds pick later."""
        if self.target is None or not self.target_pairs:
            return []
        return [(c, self.target) for c in columns if c != self.target]

    def _measure_one_way(
        self, table: EncodedTable, mechanisms: Mechanisms, rho: float, sigma: float
    ) -> tuple[_State, dict[str, Compression]]:
        share = min(1.0 / (2.0 * sigma**2), rho / len(table.sizes))
        released = measure_one_way(table, mechanisms, share, "aim")
        compressions = {
            column: Compression.capped(noisy.values, noisy.sigma, self.compress_sigmas, 0.05)
            for column, noisy in released.items()
        }
        codes = {c: compressions[c].compress(table.codes[c]) for c in table.codecs}
        state = _State(codes, {c: compressions[c].size for c in codes}, rho)
        state.used = share * len(table.sizes)
        for column, noisy in released.items():
            state.measurements.append(one_way_measurement(column, noisy, compressions[column]))
            state.released.append(noisy)
            state.measured.append((column,))
        return state, compressions

    def _estimate(
        self, state: _State, compressions: dict[str, Compression], iterations: int
    ) -> MarkovRandomField:
        domain = Domain(list(compressions), [compressions[c].size for c in compressions])
        warm = state.model.potentials if state.model is not None else None
        return estimation.mirror_descent(
            domain, state.measurements, known_total=estimate_total(state.released),
            potentials=warm, iters=iterations,
        )  # fmt: skip

    def _rounds(
        self,
        state: _State,
        compressions: dict[str, Compression],
        candidates: dict[Clique, float],
        mechanisms: Mechanisms,
        plan: _Round,
        rounds: int,
        rng: np.random.Generator,
        progress: ProgressCallback,
    ) -> None:
        started, done = time.monotonic(), 0
        picks = min(self.picks_per_round, len(candidates))
        while state.left > 1e-12 * state.rho:
            done += 1
            final = self._is_final(state, plan, done, rounds, time.monotonic() - started)
            count = picks
            if final:
                count = _final_picks(state.left, plan, picks, len(candidates))
                plan = self._final_round(state.left / count)
            estimates = self._estimates(state, rng)
            chosen = self._pick(state, candidates, estimates, mechanisms, plan, done, count)
            state.model = self._estimate(state, compressions, self.round_iterations)
            names = ", ".join(" x ".join(clique) for clique in chosen)
            progress(
                f"AIM round {done}: measured {names} with σ={plan.sigma:.3g} "
                f"({state.used / state.rho:.0%} of the budget spent)"
            )
            if final:
                break
            if all(self._settled(state, clique, estimates(clique), plan) for clique in chosen):
                plan = _Round(plan.sigma / 2.0, plan.epsilon * 2.0)

    def _pick(
        self,
        state: _State,
        candidates: dict[Clique, float],
        estimates: Callable[[Clique], np.ndarray],
        mechanisms: Mechanisms,
        plan: _Round,
        done: int,
        picks: int,
    ) -> list[Clique]:
        """``picks`` distinct candidates, each selected and measured against the same
        model (one estimation per round however many are picked; each candidate's error
        is computed once per round)."""
        errors: dict[Clique, float] = {}

        def error(clique: Clique) -> float:
            if clique not in errors:
                errors[clique] = float(np.abs(state.real(clique) - estimates(clique)).sum())
            return errors[clique]

        chosen: list[Clique] = []
        for pick in range(picks):
            label = f"{done}" if picks == 1 else f"{done}.{pick + 1}"
            clique = self._select(state, candidates, error, mechanisms, plan, label, chosen)
            self._measure(state, clique, mechanisms, plan.sigma, f"marginal {label}")
            chosen.append(clique)
        return chosen

    @staticmethod
    def _settled(state: _State, clique: Clique, before: np.ndarray, plan: _Round) -> bool:
        """Whether measuring ``clique`` barely moved the model (then noise halves)."""
        assert state.model is not None
        after = np.asarray(state.model.project(clique).datavector())
        return bool(np.abs(after - before).sum() <= _NOISE_PENALTY * plan.sigma * before.size)

    def _is_final(
        self, state: _State, plan: _Round, done: int, rounds: int, elapsed: float
    ) -> bool:
        """The last round: the budget cannot pay two more, or a limit is reached."""
        if state.left < 2.0 * self.picks_per_round * plan.rho or done >= rounds:
            return True
        if self.time_budget is None or done < 2:
            return False
        per_round = elapsed / (done - 1)
        return elapsed + 2.0 * per_round > self.time_budget

    def _final_round(self, left: float) -> _Round:
        spend = left * (1.0 - 1e-9)  # floating point slack below the reservation
        return _Round(
            math.sqrt(1.0 / (2.0 * self.anneal_share * spend)),
            math.sqrt(8.0 * (1.0 - self.anneal_share) * spend),
        )

    def _estimates(self, state: _State, rng: np.random.Generator) -> Callable[[Clique], np.ndarray]:
        """The current model's marginals, from one sample scaled to its total."""
        assert state.model is not None
        rows = self.scoring_rows
        sample = sample_model(state.model, rows, rng)
        scale = float(state.model.total) / rows

        def estimate(clique: Clique) -> np.ndarray:
            return marginal_counts(sample, state.sizes, clique) * scale

        return estimate

    def _select(
        self,
        state: _State,
        candidates: dict[Clique, float],
        error: Callable[[Clique], float],
        mechanisms: Mechanisms,
        plan: _Round,
        label: str,
        chosen: list[Clique],
    ) -> Clique:
        """One candidate by the exponential mechanism, among those not ``chosen`` yet in
        this round that keep the model (with them) within its size limit."""
        eligible = self._eligible(state, candidates, chosen)
        scores = [
            candidates[c] * (error(c) - _NOISE_PENALTY * plan.sigma * _cells(state.sizes, c))
            for c in eligible
        ]
        sensitivity = max(candidates[c] for c in eligible)
        choice = mechanisms.select(
            scores, plan.epsilon**2 / 8.0, f"aim: selection {label}", sensitivity=sensitivity
        )
        state.used += plan.epsilon**2 / 8.0
        return eligible[choice]

    def _eligible(
        self, state: _State, candidates: dict[Clique, float], chosen: list[Clique]
    ) -> list[Clique]:
        """Candidates not ``chosen`` in this round whose own marginal fits the size allowed
        so far, ``max_model_mb`` times the share of the budget spent (public). Unlike the
        reference, the junction tree that a candidate would create is not sized: one
        triangulation per candidate per round cost more than the rest of the round."""
        limit_cells = self.max_model_mb * 2**20 / 8 * state.used / state.rho
        left = [c for c in candidates if c not in chosen]
        eligible = [c for c in left if _cells(state.sizes, c) <= limit_cells]
        return eligible or [min(left, key=lambda c: _cells(state.sizes, c))]

    def _measure(
        self, state: _State, clique: Clique, mechanisms: Mechanisms, sigma: float, purpose: str
    ) -> None:
        rho = 1.0 / (2.0 * sigma**2)
        named = " x ".join(map(repr, clique))
        noisy = mechanisms.gaussian_counts(state.real(clique), rho, f"aim: {purpose} of {named}")
        state.used += rho
        state.measurements.append(measurement(noisy.values, clique, noisy.sigma))
        state.released.append(noisy)
        state.measured.append(clique)
        self.selected.append(clique)

    # sampling and saving -----------------------------------------------------------------

    def sample(self, rows: int, rng: np.random.Generator) -> dict[str, Codes]:
        if self._fitted is None:
            raise RuntimeError("AIM.sample called before fit")
        return self._fitted.sample(rows, rng)

    def state_dict(self) -> GeneratorState:
        """The options, the selected marginals and the fitted model (all DP output)."""
        if self._fitted is None:
            raise ConfigurationError("AIM has not been fitted: nothing to save")
        state = self._fitted.state()
        state.values.update(self.params())
        return state

    @classmethod
    def from_state_dict(cls, state: GeneratorState) -> AIM:
        options = {k: state.values[k] for k in _OPTIONS}
        aim = cls(**options)
        aim.selected = [tuple(str(c) for c in clique) for clique in state.values["selected"]]
        aim._fitted = PGMModel.from_state(state)
        return aim


_OPTIONS = (
    "target", "target_weight", "degree", "max_rounds", "time_budget", "max_model_mb",
    "max_workload", "iterations", "round_iterations", "anneal_share", "scoring_rows",
    "target_pairs", "compress_sigmas", "picks_per_round",
)  # fmt: skip


def _final_picks(left: float, plan: _Round, picks: int, candidates: int) -> int:
    """Marginals measured in the last round: when a limit stops the rounds with much of
    the budget left, it is spread over up to :data:`_MAX_FINAL_PICKS` marginals (as many
    rounds as it would have paid for) rather than spent on one."""
    rounds_left = int(left // plan.rho) if plan.rho > 0 else 1
    return max(1, min(max(picks, rounds_left), _MAX_FINAL_PICKS, candidates))


def _cells(sizes: dict[str, int], clique: Clique) -> int:
    return int(np.prod([sizes[c] for c in clique]))


#: (option, smallest allowed value, whether it must be whole, whether None is allowed)
_LIMITS: tuple[tuple[str, float, bool, bool], ...] = (
    ("target_weight", 0.0, False, False), ("degree", 1, True, False),
    ("max_rounds", 1, True, True), ("time_budget", 1e-9, False, True),
    ("max_model_mb", 1e-9, False, False), ("max_workload", 1, True, False),
    ("iterations", 1, True, False), ("round_iterations", 1, True, False),
    ("anneal_share", 1e-9, False, False), ("scoring_rows", 100, True, False),
    ("compress_sigmas", 0.0, False, False), ("picks_per_round", 1, True, False),
)  # fmt: skip


def _check_options(options: dict[str, Any]) -> None:
    """Every numeric option a number in range (read from the command line as text)."""
    for name, low, whole, optional in _LIMITS:
        value = options[name]
        if value is None and optional:
            continue
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or (whole and not isinstance(value, int)) or not value >= low:
            kind = "a whole number" if whole else "a number"
            bound = "above 0" if low == 1e-9 else f"of at least {low:g}"
            raise ConfigurationError(f"AIM's `{name}` must be {kind} {bound}")
    if not options["anneal_share"] < 1.0:
        raise ConfigurationError("AIM's `anneal_share` must be below 1")
    if options["target"] is not None and not isinstance(options["target"], str):
        raise ConfigurationError("AIM's `target` must be a column name")
