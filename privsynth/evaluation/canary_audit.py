"""Empirical privacy audit: a membership attack on a canary, turned into a lower bound on
epsilon (Jagielski, Ullman & Oprea 2020; Nasr et al. 2021; for synthetic data,
Annamalai, Ganev & De Cristofaro 2024).

A DP guarantee is a proof about the algorithm; a bug in the implementation (a spend
the accountant never sees, a preprocessing step that reads the data) silently voids it.
The audit checks the guarantee empirically: it trains the generator ``runs`` times on a
base table D and ``runs`` times on D' = D + a canary record, and asks how well an
attacker looking only at the synthetic output can tell the two worlds apart. Any
(epsilon, delta)-DP algorithm forces every test to satisfy
``TPR <= e^eps FPR + delta`` and ``1 - FPR <= e^eps (1 - TPR) + delta``, so observed
rates (with confidence bounds) give an epsilon that the algorithm provably exceeds if
the bounds hold. An ``eps_lower`` above the claimed epsilon is a bug (``violation``);
an ``eps_lower`` far below it says only that this attack is weak (audits of black-box
synthetic data are loose by nature), not that the algorithm is more private.

Every training run spends the full budget on the audit table: audits bypass the
dataset ledger and therefore **must run on public or stand-in data**, never on the
private table whose budget the ledger protects.

Choices, and why:

* The attack works in code space (the integer domain the generator models). Its score
  is the fraction of synthetic rows equal to the canary on every modelled column: the
  canary is chosen as a combination the base table does not contain, so without the
  canary the generator can only produce it by generalising. More synthetic rows than
  records (``synthetic_rows``) is free post-processing and cuts sampling noise.
* The threshold is chosen on a first share of the runs (``selection_runs``) and the
  rates are measured on the rest: choosing the best threshold on the same runs that
  are counted would overstate the bound (multiple testing), as in Annamalai et al.
* ``confidence`` is the joint level of the statement "epsilon >= eps_lower": each
  one-sided Clopper-Pearson bound (TPR below, FPR above) is taken at
  ``1 - (1 - confidence) / 2`` (union bound).
* ``canary_copies = k`` audits group privacy. Every run is rho-zCDP, so the claim
  checked is the zCDP group guarantee (k^2 rho-zCDP) converted at the same delta; the
  textbook ``(k eps, k e^((k - 1) eps) delta)`` is reported too, but its delta becomes
  vacuous after a few copies.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from privsynth.domain.codecs import Codes, ColumnCodec
from privsynth.domain.table import EncodedTable, build_codecs, encode_table
from privsynth.dp.accounting import PrivacyFilter
from privsynth.dp.accounting import costs as cost_of
from privsynth.dp.accounting.rdp import ORDERS, rdp_to_epsilon, rho_for_epsilon
from privsynth.dp.ledger import check_budget_values
from privsynth.dp.mechanisms import Mechanisms
from privsynth.dp.noise import NoiseSource
from privsynth.errors import ConfigurationError, InputDataError, SchemaError
from privsynth.generators import GENERATORS
from privsynth.schema import Schema

FloatArray = npt.NDArray[np.float64]
#: synthetic rows sampled per run, as a multiple of the base table's rows
SYNTHETIC_ROWS_FACTOR = 10


# --------------------------------------------------------------------------- statistics


def clopper_pearson_lower(successes: int, trials: int, confidence: float) -> float:
    """One-sided lower confidence bound on a binomial rate (exact, never too high)."""
    _check_counts(successes, trials, confidence)
    if successes == 0:
        return 0.0
    return float(stats.beta.ppf(1.0 - confidence, successes, trials - successes + 1))


def clopper_pearson_upper(successes: int, trials: int, confidence: float) -> float:
    """One-sided upper confidence bound on a binomial rate (exact, never too low)."""
    _check_counts(successes, trials, confidence)
    if successes == trials:
        return 1.0
    return float(stats.beta.ppf(confidence, successes + 1, trials - successes))


def _check_counts(successes: int, trials: int, confidence: float) -> None:
    if not 0 <= successes <= trials or trials < 1:
        raise ConfigurationError(
            f"need 0 <= successes <= trials, trials >= 1: {successes}/{trials}"
        )
    if not 0.0 < confidence < 1.0:
        raise ConfigurationError(f"confidence must be in (0, 1), got {confidence!r}")


def epsilon_from_rates(tpr: float, fpr: float, delta: float) -> float:
    """The smallest epsilon (>= 0) consistent with a test of these rates under
    (epsilon, delta)-DP: both inequalities of the hypothesis-testing view of DP
    (Kairouz, Oh & Viswanath 2015), each solved for epsilon."""
    candidates = [0.0]
    if fpr > 0 and tpr - delta > 0:
        candidates.append(math.log((tpr - delta) / fpr))
    if tpr < 1 and 1 - fpr - delta > 0:
        candidates.append(math.log((1 - fpr - delta) / (1 - tpr)))
    return max(candidates)


@dataclass(frozen=True)
class Bound:
    """Counts of one thresholded test and the epsilon lower bound they certify."""

    true_positives: int
    positives: int
    false_positives: int
    negatives: int
    tpr_lower: float
    fpr_upper: float
    epsilon: float

    @property
    def tpr(self) -> float:
        return self.true_positives / self.positives

    @property
    def fpr(self) -> float:
        return self.false_positives / self.negatives


def epsilon_lower_bound(
    true_positives: int,
    positives: int,
    false_positives: int,
    negatives: int,
    delta: float,
    confidence: float = 0.95,
) -> Bound:
    """eps_lower from counts: TPR bounded below and FPR above, each one-sided at
    ``1 - (1 - confidence) / 2`` so the joint statement holds at ``confidence``."""
    level = 1.0 - (1.0 - confidence) / 2.0
    tpr_lower = clopper_pearson_lower(true_positives, positives, level)
    fpr_upper = clopper_pearson_upper(false_positives, negatives, level)
    epsilon = epsilon_from_rates(tpr_lower, fpr_upper, delta)
    return Bound(
        true_positives, positives, false_positives, negatives, tpr_lower, fpr_upper, epsilon
    )


def _count_above(scores: FloatArray, threshold: float) -> int:
    return int(np.sum(scores > threshold))


def _smoothed_epsilon(
    without: FloatArray, with_: FloatArray, threshold: float, delta: float
) -> float:
    """Point estimate with half a success added (tie-break when no bound is positive)."""
    tpr = (_count_above(with_, threshold) + 0.5) / (with_.size + 1)
    fpr = (_count_above(without, threshold) + 0.5) / (without.size + 1)
    return epsilon_from_rates(tpr, fpr, delta)


def select_threshold(
    without: FloatArray, with_: FloatArray, delta: float, confidence: float
) -> float:
    """The threshold (attack says "canary present" when score > threshold) maximising
    the bound on these runs; a smoothed point estimate breaks ties, then the lowest
    threshold wins (it keeps the true positives of runs with a faint signal)."""
    candidates = np.unique(np.concatenate([without, with_]))

    def key(threshold: float) -> tuple[float, float, float]:
        bound = epsilon_lower_bound(
            _count_above(with_, threshold),
            with_.size,
            _count_above(without, threshold),
            without.size,
            delta,
            confidence,
        )
        return bound.epsilon, _smoothed_epsilon(without, with_, threshold, delta), -threshold

    return float(max(candidates.tolist(), key=key))


# --------------------------------------------------------------------------- the canary


def rare_canary(table: EncodedTable) -> dict[str, int]:
    """Each column's least frequent non-missing code in the base table (ties: the
    highest code, i.e. the top of numeric ranges): a record unlike the others whose
    full combination the base table almost surely lacks."""
    canary = {}
    for name, codec in table.codecs.items():
        usable = codec.size - 1 if codec.nullable and codec.size > 1 else codec.size
        counts = np.bincount(np.asarray(table.codes[name]), minlength=codec.size)[:usable]
        canary[name] = int(usable - 1 - np.argmin(counts[::-1]))
    return canary


def encode_canary(
    canary: pd.Series, codecs: Mapping[str, ColumnCodec], missing_values: tuple[str, ...]
) -> dict[str, int]:
    """Codes of a user-given canary row (every modelled column, values in the domain)."""
    absent = [name for name in codecs if name not in canary.index]
    if absent:
        raise ConfigurationError(
            f"the canary lacks modelled columns: {', '.join(absent)}",
            hint="give a value for every modelled column of the schema",
        )
    codes = {}
    for name, codec in codecs.items():
        value = canary[name]
        cell = None if isinstance(value, str) and value in missing_values else value
        codes[name] = int(codec.encode(pd.Series([cell], dtype=object))[0])
    return codes


def _with_canary(table: EncodedTable, canary: Mapping[str, int], copies: int) -> EncodedTable:
    """D' = D plus ``copies`` copies of the canary."""
    codes = {
        name: np.concatenate([np.asarray(values), np.full(copies, canary[name], dtype=np.int64)])
        for name, values in table.codes.items()
    }
    return EncodedTable(codes, table.codecs)


def canary_matches(codes: Mapping[str, Codes], canary: Mapping[str, int]) -> int:
    """Rows equal to the canary on every column."""
    hit: npt.NDArray[np.bool_] | None = None
    for name, value in canary.items():
        equal = np.asarray(codes[name]) == value
        hit = equal if hit is None else hit & equal
    return int(hit.sum()) if hit is not None else 0


def _canary_labels(canary: Mapping[str, int], codecs: Mapping[str, ColumnCodec]) -> dict[str, str]:
    return {name: codecs[name].labels()[code] for name, code in canary.items()}


# --------------------------------------------------------------------------- the runs


@dataclass(frozen=True)
class _Plan:
    """What every training run shares."""

    generator: str
    options: Mapping[str, Any]
    epsilon: float
    rho: float
    delta: float
    synthetic_rows: int
    canary: Mapping[str, int]


def _train_and_score(
    plan: _Plan, table: EncodedTable, noise: NoiseSource
) -> tuple[float, float, float]:
    """One run through the generator API with its own privacy filter: (score,
    epsilon the filter accounted, seconds)."""
    started = time.monotonic()
    generator = GENERATORS.get(plan.generator)(**plan.options)
    # a generator with its own Rényi curve (DP-SGD) plans the cost of the whole claim
    planned = generator.planned_cost(plan.epsilon, plan.delta, cost_of.zero_cost())
    guard = PrivacyFilter(cost_of.zcdp(plan.rho) if planned is None else planned)
    rho = guard.remaining_rho() if planned is None else 0.0
    generator.fit(table, Mechanisms(guard, noise), rho)
    codes = generator.sample(plan.synthetic_rows, noise.numpy_generator())
    score = canary_matches(codes, plan.canary) / plan.synthetic_rows
    spent = guard.accountant.total().epsilon(plan.delta) if guard.accountant.history else 0.0
    return score, spent, time.monotonic() - started


def _noise_sources(seed: int | None, count: int) -> list[NoiseSource]:
    """Fresh, independent randomness per run (reproducible only when seeded)."""
    if seed is None:
        return [NoiseSource() for _ in range(count)]
    children = np.random.SeedSequence(seed).spawn(count)
    return [NoiseSource(int(child.generate_state(1, np.uint64)[0] >> 1)) for child in children]


@dataclass
class _Runs:
    without: list[float] = field(default_factory=list)
    with_: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    spent: list[float] = field(default_factory=list)


def _run_all(
    plan: _Plan, base: EncodedTable, with_canary: EncodedTable, runs: int, seed: int | None
) -> _Runs:
    """Alternate the two worlds so drifts in machine load hit both alike."""
    out = _Runs()
    sources = _noise_sources(seed, 2 * runs)
    for index in range(runs):
        for table, scores, noise in (
            (base, out.without, sources[2 * index]),
            (with_canary, out.with_, sources[2 * index + 1]),
        ):
            score, spent, seconds = _train_and_score(plan, table, noise)
            scores.append(score)
            out.spent.append(spent)
            out.seconds.append(seconds)
    return out


# --------------------------------------------------------------------------- the result


@dataclass(frozen=True)
class AuditResult:
    """The audit's verdict: a lower bound on epsilon and how it was obtained."""

    generator: str
    epsilon: float
    delta: float
    canary_copies: int
    #: the guarantee checked, at ``delta``: epsilon itself for one canary copy, the
    #: zCDP group guarantee for k copies (see ``dp_group_claim`` for k * epsilon)
    claimed_epsilon: float
    #: (k eps, k e^((k-1) eps) delta): the textbook group claim, for information
    dp_group_claim: tuple[float, float]
    eps_lower: float
    #: eps_lower > claimed_epsilon: the implementation leaks more than it claims (a bug)
    violation: bool
    confidence: float
    runs: int
    selection_runs: int
    evaluation_runs: int
    threshold: float
    tpr: float
    fpr: float
    tpr_lower: float
    fpr_upper: float
    canary: dict[str, str]
    canary_in_base: int
    synthetic_rows: int
    #: largest epsilon any run's privacy filter recorded (0 if the generator never charged)
    accounted_epsilon: float
    seconds: float
    seconds_per_run: float
    first_run_seconds: float
    scores_without: list[float]
    scores_with: list[float]
    generator_options: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["dp_group_claim"] = list(self.dp_group_claim)
        return data

    def summary(self) -> str:
        """One line for logs and reports."""
        verdict = "VIOLATION" if self.violation else "consistent"
        return (
            f"{verdict}: eps_lower={self.eps_lower:.3f} vs claimed {self.claimed_epsilon:g} "
            f"(TPR {self.tpr:.2f}, bound >= {self.tpr_lower:.2f}; FPR {self.fpr:.2f}, bound "
            f"<= {self.fpr_upper:.2f}; {self.evaluation_runs}+{self.evaluation_runs} runs)"
        )


def _group_claim(epsilon: float, delta: float, copies: int, rho: float) -> float:
    """The guarantee for ``copies`` identical records, at the same delta.

    Every run is rho-zCDP (its filter enforces it), so a group of k is k^2 rho-zCDP
    (Bun & Steinke 2016, Prop. 1.9), converted at ``delta`` as the ledger converts.
    The (eps, delta)-DP route, (k eps, k e^((k-1) eps) delta), has a slightly smaller
    epsilon for k = 2 or 3 but its delta is vacuous by k ~ 10 at eps = 1; it is
    reported as ``dp_group_claim``."""
    if copies == 1:
        return epsilon
    return rdp_to_epsilon(ORDERS * rho * copies**2, delta)[0]


def _check_group_claim(plan: _Plan, copies: int) -> None:
    """The k^2 rho group claim holds for zCDP generators only: DP-SGD's subsampled
    Gaussian is not rho-zCDP at the rho of its (epsilon, delta)."""
    if copies == 1:
        return
    generator = GENERATORS.get(plan.generator)(**plan.options)
    if generator.planned_cost(plan.epsilon, plan.delta, cost_of.zero_cost()) is not None:
        raise ConfigurationError(
            f"a group audit (canary_copies={copies}) needs a zCDP generator; "
            f"{plan.generator!r} is not one",
            hint="audit it with canary_copies=1",
        )


def _dp_group_claim(epsilon: float, delta: float, copies: int) -> tuple[float, float]:
    """Group privacy of (eps, delta)-DP for ``copies`` records (Dwork & Roth, Thm 2.2)."""
    return copies * epsilon, copies * math.exp((copies - 1) * epsilon) * delta


def _warnings(
    claimed: float, bound: Bound, canary_in_base: int, accounted: float, eps: float
) -> list[str]:
    notes = ["every audit run spends the full budget: audit public or stand-in data only"]
    if bound.epsilon > claimed:
        notes.append(
            f"PRIVACY VIOLATION: eps_lower {bound.epsilon:.3f} exceeds the claimed "
            f"{claimed:g}; the implementation leaks more than it accounts for"
        )
    if canary_in_base:
        notes.append(f"the canary's combination occurs {canary_in_base} times in the base table")
    if accounted > eps * (1 + 1e-9):
        notes.append(f"a run's filter accounted epsilon {accounted:.3f} > {eps:g}")
    return notes


# --------------------------------------------------------------------------- entry point


def _check_arguments(
    epsilon: float, delta: float, runs: int, copies: int, confidence: float, selection: int
) -> None:
    check_budget_values(epsilon, delta)
    if isinstance(runs, bool) or not isinstance(runs, int) or runs < 2:
        raise ConfigurationError(f"runs must be an integer >= 2, got {runs!r}")
    if isinstance(copies, bool) or not isinstance(copies, int) or copies < 1:
        raise ConfigurationError(f"canary_copies must be an integer >= 1, got {copies!r}")
    if not 0.0 < confidence < 1.0:
        raise ConfigurationError(f"confidence must be in (0, 1), got {confidence!r}")
    if not 1 <= selection < runs:
        raise ConfigurationError(
            f"selection_runs must be between 1 and runs - 1, got {selection!r}",
            hint="some runs choose the threshold, the others measure the rates",
        )


def _encode_base(data: pd.DataFrame, schema: Schema) -> EncodedTable:
    """The base table in code space; the schema must be complete (no DP discovery)."""
    if schema.needs_discovery():
        missing = ", ".join(schema.needs_discovery())
        raise SchemaError(
            f"audits need a complete public schema; incomplete columns: {missing}",
            hint="declare every modelled column's domain",
        )
    absent = [c for c in schema.modelled_columns() if c not in data.columns]
    if absent:
        raise InputDataError(f"the data lacks schema columns: {', '.join(absent)}")
    if data.empty:
        raise InputDataError("the audit's base table has no rows")
    frame = data.replace(list(schema.missing_values), None)
    return encode_table(frame, build_codecs(schema), np.random.default_rng(0))


def audit_generator(
    data: pd.DataFrame,
    schema: Schema,
    *,
    generator: str = "mst",
    epsilon: float,
    delta: float,
    runs: int = 20,
    canary: pd.Series | None = None,
    canary_copies: int = 1,
    seed: int | None = None,
    generator_options: dict[str, Any] | None = None,
    confidence: float = 0.95,
    selection_runs: int | None = None,
    synthetic_rows: int | None = None,
) -> AuditResult:
    """Audit ``generator`` at (``epsilon``, ``delta``) on the public or stand-in table
    ``data``: ``runs`` trainings without and ``runs`` with the canary, the first
    ``selection_runs`` (default half) of each to choose the threshold, the rest to bound
    epsilon. ``seed`` makes every run reproducible (tests only)."""
    selection = runs // 2 if selection_runs is None else selection_runs
    _check_arguments(epsilon, delta, runs, canary_copies, confidence, selection)
    GENERATORS.get(generator)
    started = time.monotonic()
    base = _encode_base(data, schema)
    if canary is None:
        canary_codes = rare_canary(base)
    else:
        canary_codes = encode_canary(canary, base.codecs, schema.missing_values)
    rows = SYNTHETIC_ROWS_FACTOR * len(data) if synthetic_rows is None else synthetic_rows
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
        raise ConfigurationError(f"synthetic_rows must be a positive integer, got {rows!r}")
    options = dict(generator_options or {})
    plan = _Plan(
        generator, options, epsilon, rho_for_epsilon(epsilon, delta), delta, rows, canary_codes
    )
    _check_group_claim(plan, canary_copies)
    done = _run_all(plan, base, _with_canary(base, canary_codes, canary_copies), runs, seed)
    claimed = _group_claim(epsilon, delta, canary_copies, plan.rho)
    without, with_ = np.asarray(done.without), np.asarray(done.with_)
    threshold = select_threshold(without[:selection], with_[:selection], delta, confidence)
    bound = _evaluate(without[selection:], with_[selection:], threshold, delta, confidence)
    in_base = canary_matches(base.codes, canary_codes)
    accounted = max(done.spent)
    return AuditResult(
        generator=generator,
        epsilon=epsilon,
        delta=delta,
        canary_copies=canary_copies,
        claimed_epsilon=claimed,
        dp_group_claim=_dp_group_claim(epsilon, delta, canary_copies),
        eps_lower=bound.epsilon,
        violation=bound.epsilon > claimed,
        confidence=confidence,
        runs=runs,
        selection_runs=selection,
        evaluation_runs=runs - selection,
        threshold=threshold,
        tpr=bound.tpr,
        fpr=bound.fpr,
        tpr_lower=bound.tpr_lower,
        fpr_upper=bound.fpr_upper,
        canary=_canary_labels(canary_codes, base.codecs),
        canary_in_base=in_base,
        synthetic_rows=rows,
        accounted_epsilon=accounted,
        seconds=time.monotonic() - started,
        seconds_per_run=float(np.mean(done.seconds[1:] or done.seconds)),
        first_run_seconds=done.seconds[0],
        scores_without=done.without,
        scores_with=done.with_,
        generator_options=options,
        warnings=_warnings(claimed, bound, in_base, accounted, epsilon),
    )


def _evaluate(
    without: FloatArray, with_: FloatArray, threshold: float, delta: float, confidence: float
) -> Bound:
    """The bound on the evaluation runs (none of which chose the threshold)."""
    return epsilon_lower_bound(
        _count_above(with_, threshold),
        with_.size,
        _count_above(without, threshold),
        without.size,
        delta,
        confidence,
    )
