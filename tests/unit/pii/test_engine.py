"""The detector: configuration, allow/deny lists, offline model loading, parallelism."""

from __future__ import annotations

from pathlib import Path

import pytest

from privsynth.errors import ConfigurationError
from privsynth.pii.engine import DetectorConfig, PIIDetector

TEXTS = [
    "Seen by Dr. Maria Lopez on 07/22/2019; call 617-555-0199.",
    "PATIENT NAME: ROBERT JOHNSON. MRN: 00481932.",
    "No identifiers in this sentence about aspirin 81 mg daily.",
] * 30


def _found(text: str, detector: PIIDetector) -> list[tuple[str, str]]:
    return [(text[d.start : d.end], d.entity_type) for d in detector.analyze(text)]


def test_parallel_workers_give_the_same_results_in_order() -> None:
    serial = PIIDetector().analyze_batch(TEXTS)
    parallel = PIIDetector(DetectorConfig(n_process=2))
    try:
        assert parallel.analyze_batch(TEXTS) == serial
    finally:
        parallel.close()
    assert serial[2] == []


def test_allow_and_deny_lists(tmp_path: Path) -> None:
    config = tmp_path / "pii.yaml"
    config.write_text(
        "threshold: 0.4\nallow_list: [Robert Johnson]\n"
        "deny_list: {FACILITY: [Lakeside Family Practice]}\n",
        encoding="utf-8",
    )
    detector = PIIDetector(DetectorConfig.from_file(config))
    text = "Robert Johnson was referred to Lakeside Family Practice."
    found = _found(text, detector)
    assert ("Lakeside Family Practice", "FACILITY") in found
    assert not any(span == "Robert Johnson" for span, _ in found)


def test_unknown_model_is_a_clear_error() -> None:
    detector = PIIDetector(DetectorConfig(model="en_core_web_does_not_exist"))
    with pytest.raises(ConfigurationError) as caught:
        detector.analyze("text")
    assert "never downloads" in caught.value.one_line()


@pytest.mark.parametrize(
    "content", ["threshold: 2\n", "colour: red\n", "batch_size: 0\n", "deny_list: [oops\n"]
)
def test_bad_config_files_are_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "pii.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigurationError):
        DetectorConfig.from_file(path)
