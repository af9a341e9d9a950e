"""The PII benchmark's span metrics count what their docstring says they count."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

PII_BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "pii"


def _load(name: str) -> ModuleType:
    """Import a benchmarks/pii module under a unique name (``metrics`` is taken elsewhere)."""
    spec = importlib.util.spec_from_file_location(f"pii_bench_{name}", PII_BENCH / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


metrics = _load("metrics")
Span = metrics.Span


def _report(text: str, gold: list[object], predicted: list[object]) -> dict[str, object]:
    scores = metrics.Scores()
    scores.add_document(text, gold, predicted)
    report: dict[str, object] = scores.report()
    return report


def test_half_coverage_finds_a_gold_span_by_any_type() -> None:
    text = "Seen by John Smith today"
    gold = [Span(8, 18, "PERSON")]
    report = _report(text, gold, [Span(8, 12, "LOCATION"), Span(13, 14, "PERSON")])
    assert report["recall"] == 1.0  # 5 of 10 characters covered by the union
    assert report["recall_typed"] == 0.0  # the PERSON piece alone covers 1 of 10
    assert _report(text, gold, [Span(8, 12, "PERSON")])["recall"] == 0.0


def test_prediction_is_true_positive_when_mostly_inside_gold() -> None:
    text = "Call 555-123-4567 now please"
    gold = [Span(5, 17, "PHONE_NUMBER")]
    report = _report(text, gold, [Span(5, 17, "PHONE_NUMBER"), Span(13, 28, "PHONE_NUMBER")])
    assert report["precision"] == 0.5
    assert report["n_predicted"] == 2


def test_f2_weights_recall() -> None:
    assert metrics.f_beta(1.0, 0.5) == pytest.approx(5 * 0.5 / (4 + 0.5))
    assert metrics.f_beta(0.0, 0.0) == 0.0
    assert metrics.f_beta(None, 1.0) is None


def test_words_kept_counts_only_non_pii_words() -> None:
    text = "Jane Doe has mild asthma"
    gold = [Span(0, 8, "PERSON")]
    report = _report(text, gold, [Span(0, 8, "PERSON"), Span(13, 17, "PERSON")])
    assert report["non_pii_words"] == 3
    assert report["words_kept"] == pytest.approx(2 / 3)


def test_typed_scores_accept_neighbouring_place_types() -> None:
    text = "Admitted to Mercy General Hospital"
    gold = [Span(12, 34, "FACILITY")]
    report = _report(text, gold, [Span(12, 34, "ORGANIZATION")])
    assert report["recall_typed"] == 1.0
    assert report["precision_typed"] == 1.0
    assert not metrics.compatible("PERSON", "LOCATION")
    assert metrics.compatible("EMAIL_ADDRESS", "EMAIL")
