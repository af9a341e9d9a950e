"""Run every registered metric and attack and assemble the evaluation document.

The document's top-level keys are stable (docs/evaluation.md): ``fidelity``,
``utility``, ``detection``, ``diversity``, ``privacy``; under ``privacy``:
``exact_copy_rate``, ``membership_inference``, ``singling_out``, ``linkability``,
``attribute_inference``. A measurement that cannot run (no target, no holdout) is
listed under ``skipped`` with the reason instead of failing the whole evaluation.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import ModuleType

from privsynth.errors import PrivsynthError
from privsynth.evaluation.base import ATTACKS, METRICS, MetricResult, PrivacyResult
from privsynth.evaluation.data import EvaluationData
from privsynth.evaluation.result import (
    SCHEMA_VERSION,
    SECTIONS,
    EvaluationInputs,
    EvaluationResult,
)

__all__ = ["DEFAULT_ATTACKS", "PRIVACY_METRICS", "SCHEMA_VERSION", "SECTIONS", "evaluate"]

#: metrics whose result is reported under ``privacy`` rather than their own section
PRIVACY_METRICS = ("exact_copy_rate",)
DEFAULT_ATTACKS = ("membership_inference", "singling_out", "linkability", "attribute_inference")

Progress = Callable[[str], None]


def load_builtin() -> tuple[ModuleType, ...]:
    """The built-in metric and attack modules, imported (importing registers them); a
    missing one is an ImportError, never a measurement silently absent from reports."""
    from privsynth.evaluation.builtin import MODULES

    return MODULES


def evaluate(
    data: EvaluationData,
    metrics: Sequence[str] | None = None,
    attacks: Sequence[str] | None = None,
    progress: Progress = lambda _: None,
) -> EvaluationResult:
    """The evaluation of ``data`` (all registered metrics and the default attacks unless
    names are given)."""
    load_builtin()
    found = _Found()
    for name in metrics if metrics is not None else METRICS.names():
        found.run(name, progress, functools.partial(_compute_metric, name, data))
    for name in attacks if attacks is not None else DEFAULT_ATTACKS:
        found.run(name, progress, functools.partial(_run_attack, name, data))
    sections = found.metrics
    return EvaluationResult(
        EvaluationInputs.of(data), fidelity=sections["fidelity"], utility=sections["utility"],
        detection=sections["detection"], diversity=sections["diversity"],
        privacy=found.privacy, skipped=found.skipped, seconds=found.seconds,
    )  # fmt: skip


def _compute_metric(name: str, data: EvaluationData) -> MetricResult:
    return METRICS.get(name)().compute(data)


def _run_attack(name: str, data: EvaluationData) -> PrivacyResult:
    return ATTACKS.get(name)().evaluate(data)


@dataclass
class _Found:
    """Results by section, skipped measurements and timings, in the order they ran."""

    metrics: dict[str, dict[str, MetricResult]] = field(
        default_factory=lambda: {name: {} for name in SECTIONS}
    )
    privacy: dict[str, PrivacyResult] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def run(self, name: str, progress: Progress, compute: Callable[[], PrivacyResult]) -> None:
        progress(f"evaluating {name}")
        started = time.monotonic()
        try:
            outcome = compute()
        except PrivsynthError as exc:
            self.skipped[name] = exc.one_line()
            return
        finally:
            self.seconds[name] = round(time.monotonic() - started, 3)
        if isinstance(outcome, MetricResult) and name in METRICS and name not in PRIVACY_METRICS:
            self.metrics[_section_of(name)][name] = outcome
        else:
            self.privacy[name] = outcome


def _section_of(name: str) -> str:
    section = getattr(METRICS.get(name), "section", "fidelity")
    return section if section in SECTIONS else "fidelity"
