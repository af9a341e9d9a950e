"""Run every registered metric and attack and assemble the evaluation document.

The document's top-level keys are stable (docs/evaluation.md): ``fidelity``,
``utility``, ``detection``, ``diversity``, ``privacy``; under ``privacy``:
``exact_copy_rate``, ``membership_inference``, ``singling_out``, ``linkability``,
``attribute_inference``. A measurement that cannot run (no target, no holdout) is
listed under ``skipped`` with the reason instead of failing the whole evaluation.
"""

from __future__ import annotations

import functools
import importlib
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

from privsynth.errors import PrivsynthError
from privsynth.evaluation.base import ATTACKS, METRICS, MetricResult, RiskResult
from privsynth.evaluation.data import EvaluationData

SCHEMA_VERSION = 1
BUILTIN_MODULES = ("fidelity", "utility", "discriminator", "diversity", "membership", "inference",
                   "wp29")  # fmt: skip
SECTIONS = ("fidelity", "utility", "detection", "diversity")
#: metrics whose result is reported under ``privacy`` rather than their own section
PRIVACY_METRICS = ("exact_copy_rate",)
DEFAULT_ATTACKS = ("membership_inference", "singling_out", "linkability", "attribute_inference")

Progress = Callable[[str], None]


def load_builtin() -> None:
    """Import the built-in metric and attack modules so they register themselves."""
    for name in BUILTIN_MODULES:
        importlib.import_module(f"privsynth.evaluation.{name}")


def evaluate(
    data: EvaluationData,
    metrics: Sequence[str] | None = None,
    attacks: Sequence[str] | None = None,
    progress: Progress = lambda _: None,
) -> dict[str, Any]:
    """The evaluation document for ``data`` (all registered metrics and the default
    attacks unless names are given)."""
    load_builtin()
    document: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "inputs": _inputs(data)}
    document.update({section: {} for section in (*SECTIONS, "privacy")})
    document["skipped"], document["seconds"] = {}, {}
    for name in metrics if metrics is not None else METRICS.names():
        _run(name, document, progress, functools.partial(_compute_metric, name, data))
    for name in attacks if attacks is not None else DEFAULT_ATTACKS:
        _run(name, document, progress, functools.partial(_run_attack, name, data))
    return document


def _compute_metric(name: str, data: EvaluationData) -> MetricResult:
    return METRICS.get(name)().compute(data)


def _run_attack(name: str, data: EvaluationData) -> RiskResult | dict[str, Any]:
    return ATTACKS.get(name)().evaluate(data)


def _run(
    name: str,
    document: dict[str, Any],
    progress: Progress,
    compute: Callable[[], MetricResult | RiskResult | dict[str, Any]],
) -> None:
    progress(f"evaluating {name}")
    started = time.monotonic()
    try:
        outcome = compute()
    except PrivsynthError as exc:
        document["skipped"][name] = exc.one_line()
        return
    finally:
        document["seconds"][name] = round(time.monotonic() - started, 3)
    _place(name, outcome, document)


def _place(
    name: str, outcome: MetricResult | RiskResult | dict[str, Any], document: dict[str, Any]
) -> None:
    if isinstance(outcome, MetricResult):
        section = "privacy" if name in PRIVACY_METRICS else _section_of(name)
        document[section][name] = clean(outcome.to_dict())
    elif isinstance(outcome, RiskResult):
        document["privacy"][name] = clean(outcome.to_dict())
    else:
        document["privacy"][name] = clean(outcome)


def _section_of(name: str) -> str:
    section = getattr(METRICS.get(name), "section", "fidelity")
    return section if section in SECTIONS else "fidelity"


def _inputs(data: EvaluationData) -> dict[str, Any]:
    return {
        "real_rows": len(data.real),
        "synthetic_rows": len(data.synthetic),
        "holdout_rows": len(data.holdout) if data.holdout is not None else 0,
        "columns": data.kinds,
        "target": data.target,
        "quasi_identifiers": data.quasi_identifiers,
        "sensitive": data.sensitive,
        "seed": data.seed,
    }


def clean(value: Any) -> Any:
    """JSON-safe: NaN and infinities become None, tuples lists, numpy scalars floats."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
