"""Policies as data: the built-in files load and judge; bad files fail with one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from privsynth.compliance.policy import PolicyError, builtin_policies, judge, load_policy, lookup

DOCUMENT = {
    "privacy": {
        "singling_out": {"risk": 0.01, "ci": [0.0, 0.03]},
        "linkability": {"risk": 0.2, "ci": [0.15, 0.25]},
        "attribute_inference": {"risk": 0.0, "ci": [0.0, 0.02]},
        "exact_copy_rate": {"value": 0.0},
        "membership_inference": {"auc": 0.51, "tpr_at_fpr": {"0.01": 0.012}},
    },
    "checks": {"residual_pii": {"PERSON": 0}, "safe_harbor": {"zip_violations": 0}},
}


def test_builtin_policies_load() -> None:
    names = builtin_policies()
    assert {"gdpr-anonymisation", "hipaa-safe-harbor", "hipaa-expert-determination"} <= set(names)
    for name in names:
        policy = load_policy(name)
        assert policy.criteria and all(c.citation for c in policy.criteria)
    assert load_policy("hipaa-expert-determination").requires_expert_signature
    assert any("(P) biometric" in a for a in load_policy("hipaa-safe-harbor").manual_attestations)


def test_judge_reads_paths_and_fails_closed() -> None:
    verdict = judge(load_policy("gdpr-anonymisation"), DOCUMENT)
    by_id = {c.id: c for c in verdict.criteria}
    assert by_id["singling-out"].passed and by_id["singling-out"].value == 0.03
    assert not by_id["linkability"].passed  # 0.25 > 0.09
    assert verdict.passed is False
    expert = judge(load_policy("hipaa-expert-determination"), DOCUMENT)
    dp = next(c for c in expert.criteria if c.id == "differential-privacy")
    assert dp.value is None and not dp.passed and "fails closed" in dp.note
    assert lookup(DOCUMENT, "privacy/membership_inference/tpr_at_fpr/0.01") == 0.012


def test_a_verdict_is_written_with_the_documented_keys() -> None:
    policy = load_policy("hipaa-expert-determination")
    written = judge(policy, DOCUMENT).to_dict()
    assert list(written) == ["name", "title", "description", "passed", "criteria",
                             "requires_expert_signature", "manual_attestations"]  # fmt: skip
    assert written["passed"] is False and written["requires_expert_signature"] is True
    assert written["manual_attestations"] == list(policy.manual_attestations)
    for criterion in written["criteria"]:
        assert list(criterion) == ["id", "metric", "value", "threshold", "direction", "passed",
                                   "citation", "description", "note", "power"]  # fmt: skip
    assert json.loads(json.dumps(written)) == written
    passing = {"privacy": {k: {"risk": 0.0, "ci": [0.0, 0.0], "value": 0.0}
                           for k in ("singling_out", "linkability", "attribute_inference",
                                     "exact_copy_rate")}}  # fmt: skip
    assert judge(load_policy("gdpr-anonymisation"), passing).passed  # every criterion met


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("name: x\n", "criteria"),
        ("name: x\ntitle: y\ncriteria: []\n", "criteria"),
        (
            "name: x\ntitle: y\ncriteria: [{id: a, metric: m, threshold: 1, direction: up, "
            "citation: c}]\n",
            "direction",
        ),
        (
            "name: x\ntitle: y\ncriteria: [{id: a, metric: m, threshold: high, direction: max, "
            "citation: c}]\n",
            "threshold",
        ),
        (
            "name: x\ntitle: y\ncriteria: [{id: a, metric: m, threshold: 1, direction: max}]\n",
            "citation",
        ),
        (
            "name: x\ntitle: y\ncriteria:\n  - {id: a, metric: m, threshold: 1, direction: max, "
            "citation: c}\n  - {id: a, metric: n, threshold: 1, direction: max, citation: c}\n",
            "repeats",
        ),
        ("name: [unclosed\n", "YAML"),
    ],
)
def test_bad_policy_files(tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert fragment in caught.value.one_line()


def test_unknown_policy_lists_the_builtin_ones() -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy("hipaa-safe-harbour")
    assert "hipaa-safe-harbor" in caught.value.one_line()


def test_a_wide_interval_is_reported_as_inconclusive_not_as_high_risk() -> None:
    document = {"privacy": {**DOCUMENT["privacy"], "linkability": {"risk": 0.05, "ci": [0, 0.4]}}}
    verdict = judge(load_policy("gdpr-anonymisation"), document)
    linkability = next(c for c in verdict.criteria if c.id == "linkability")
    assert not linkability.passed  # judged on the upper bound: fails closed
    assert linkability.note.startswith("inconclusive: the estimate 0.05")
    high = judge(load_policy("gdpr-anonymisation"), DOCUMENT)  # estimate 0.2 itself too high
    assert next(c for c in high.criteria if c.id == "linkability").note == ""
