"""The text evaluation end to end: ``evaluate_text``, the ``text`` section that
``privsynth.evaluate`` / ``audit`` (and ``--text-column`` on the command line) add, the
policies' text criteria, and the report page, on real clinical notes.

Tables are cut from tests/data/mtsamples_sample.csv (CC0): a note's specialty (the
label and tabular target), its length in words, and its transcription (the text
column). Training notes 0-49, holdout notes 50-64; the "synthetic" table is either other
real notes (65-79: a generator that learned the population and copied nobody) or copies
of training notes (a generator that memorised). Only the first 80 notes are used, so
they are embedded once per process.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from cli_inprocess import Cli

import privsynth
from privsynth.compliance.policy import Criterion, Policy, PolicyError, judge, load_policy
from privsynth.errors import ConfigurationError
from privsynth.evaluation.text import Canary, evaluate_text
from privsynth.evaluation.text.tokens import words

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "mtsamples_sample.csv"
TEXT, LABEL = "transcription", "medical_specialty"
CANARY = Canary("ssn", "my SSN is {ddd-dd-dddd}", "281-64-3307")


@pytest.fixture(scope="module")
def notes() -> pd.DataFrame:
    frame = pd.read_csv(SAMPLE).iloc[:80][[LABEL, TEXT]].reset_index(drop=True)
    frame.insert(1, "words", frame[TEXT].map(lambda t: len(str(t).split())))
    return frame


@pytest.fixture(scope="module")
def tables(notes: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return {
        "real": notes.iloc[:50].reset_index(drop=True),
        "holdout": notes.iloc[50:65].reset_index(drop=True),
        "fresh": notes.iloc[65:80].reset_index(drop=True),
        "copies": notes.iloc[:15].reset_index(drop=True),
    }


def _phrases(texts: pd.Series, n: int = 5) -> set[str]:
    """Every run of n words of the texts (what must never reach a result or report)."""
    found = set()
    for text in texts:
        w = words(str(text))
        found.update(" ".join(w[i : i + n]) for i in range(len(w) - n + 1))
    return found


def _leaks(document: str, texts: pd.Series) -> list[str]:
    lowered = " ".join(document.lower().split())
    return [phrase for phrase in _phrases(texts) if phrase in lowered]


def test_evaluate_text_fills_every_section(tables: dict[str, pd.DataFrame]) -> None:
    real, holdout, fresh = tables["real"], tables["holdout"], tables["fresh"]
    synthetic = [*fresh[TEXT], CANARY.text]
    result = evaluate_text(
        list(real[TEXT]), synthetic, list(holdout[TEXT]), train_labels=list(real[LABEL]),
        synthetic_labels=[*fresh[LABEL], "Surgery"], test_labels=list(holdout[LABEL]),
        canaries=[CANARY],
    )  # fmt: skip
    assert result.skipped == {}
    for section in ("lexical", "embedding", "detection", "utility", "memorisation"):
        assert result.section(section), section
        for found in result.section(section).values():
            assert found.low <= found.value <= found.high, found.name
    assert result.inputs.model == "all-MiniLM-L6-v2" and result.inputs.test_documents == 15
    assert result.canaries["ssn"].verbatim == 1 and result.canaries["ssn"].exposure is None
    tstr = result.metric("text_tstr")
    assert tstr is not None and tstr.details["tested_on"] == "test"
    memorised = result.metric("unique_training_8gram_share")
    assert memorised is not None and memorised.details["holdout_share"] is not None
    document = json.dumps(result.to_dict(), allow_nan=False)
    assert CANARY.secret not in document and not _leaks(document, real[TEXT])


def test_what_cannot_run_is_skipped_with_the_reason(tables: dict[str, pd.DataFrame]) -> None:
    real, fresh = tables["real"], tables["fresh"]
    result = evaluate_text(list(real[TEXT]), list(fresh[TEXT]), embedder="/no/such/model")
    assert "labels" in result.skipped["text_tstr"]
    for name in ("vendi_score", "frechet_distance", "mauve_style"):
        assert "not a local sentence-transformers directory" in result.skipped[name]
    assert result.metric("distinct_2") is not None and result.metric("longest_training_match")
    assert result.to_dict()["inputs"]["model"] is None


def test_evaluate_with_a_text_column_adds_the_text_section(
    tables: dict[str, pd.DataFrame],
) -> None:
    result = privsynth.evaluate(
        tables["real"], tables["fresh"], tables["holdout"], target=LABEL, text_column=TEXT
    )
    document = result.to_dict()
    assert list(document)[-3:] == ["text", "skipped", "seconds"]
    assert set(result.inputs.columns) == {LABEL, "words"}  # the text is not a tabular column
    text = document["text"]
    assert text["inputs"]["column"] == TEXT and text["inputs"]["label"] == LABEL
    assert text["utility"]["text_tstr"]["details"]["trtr"] is not None
    assert not _leaks(json.dumps(document), tables["real"][TEXT])


@pytest.mark.parametrize(
    ("column", "target", "drop", "message"),
    [
        ("notes", LABEL, None, "not in the real table"),
        (TEXT, TEXT, None, "cannot also be the target"),
        (TEXT, None, [LABEL, "words"], "no column besides the text column"),
    ],
)
def test_a_bad_text_column_is_one_line(
    tables: dict[str, pd.DataFrame],
    column: str,
    target: str | None,
    drop: list[str] | None,
    message: str,
) -> None:
    real = tables["real"].drop(columns=drop) if drop else tables["real"]
    with pytest.raises(ConfigurationError, match=message):
        privsynth.evaluate(real, tables["fresh"], target=target, text_column=column)


def test_audit_fails_a_memorising_generator_on_its_text(
    tables: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    result = privsynth.audit(
        tables["real"], tables["copies"], tables["holdout"], policies=["gdpr-anonymisation"],
        output=tmp_path, target=LABEL, quasi_identifiers=[LABEL, "words"], text_column=TEXT,
    )  # fmt: skip
    (policy,) = result.document.policies
    criterion = next(c for c in policy.criteria if c.id == "text-record-phrases")
    assert criterion.value is not None and criterion.value > 0.5 and not criterion.passed
    assert result.to_dict()["text"]["memorisation"]
    assert result.html_path is not None
    page = result.html_path.read_text(encoding="utf-8")
    for shown in ("Free text", "Longest run of words shared with one training document",
                  "free text", "Memorisation (counts only"):  # fmt: skip
        assert shown in page
    assert not _leaks(page, tables["real"][TEXT])


def _policy(*criteria: Criterion) -> Policy:
    return Policy("p", "P", "", criteria)


def test_a_text_criterion_is_not_applicable_without_text() -> None:
    text = Criterion("t", "text/detection/text_detection_auc/value", 0.7, "max", "c",
                     applies_when="text")  # fmt: skip
    tabular = Criterion("c", "privacy/exact_copy_rate/value", 0.01, "max", "c")
    without = {"privacy": {"exact_copy_rate": {"value": 0.0}}}
    verdict = judge(_policy(tabular, text), without)
    assert [c.id for c in verdict.criteria] == ["c"] and verdict.passed
    with_text: dict[str, Any] = {**without, "text": {"detection": {}}}
    verdict = judge(_policy(tabular, text), with_text)  # applies: an absent value fails
    assert [c.id for c in verdict.criteria] == ["c", "t"] and not verdict.passed
    with_text["text"]["detection"] = {"text_detection_auc": {"value": 0.55}}
    assert judge(_policy(tabular, text), with_text).passed


def test_policies_read_applies_when(tmp_path: Path) -> None:
    gdpr = load_policy("gdpr-anonymisation")
    assert [c.id for c in gdpr.criteria if c.applies_when == "text"] == ["text-record-phrases"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: bad\ntitle: Bad\ncriteria:\n  - {id: a, metric: text/x, threshold: 1, "
        "direction: max, citation: c, applies_when: [text]}\n",
        encoding="utf-8",
    )
    with pytest.raises(PolicyError, match="applies_when"):
        load_policy(bad)


def test_the_cli_evaluates_and_audits_a_text_column(
    cli: Cli, tables: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    paths = {}
    for name in ("real", "holdout", "fresh", "copies"):
        paths[name] = tmp_path / f"{name}.csv"
        tables[name].to_csv(paths[name], index=False)
    policy = tmp_path / "text.yaml"
    policy.write_text(
        "name: text-only\ntitle: Text\ncriteria:\n"
        "  - {id: reproductions, metric: text/memorisation/max_training_8gram_reproductions/value,"
        " threshold: 0, direction: max, citation: c, applies_when: text}\n",
        encoding="utf-8",
    )
    common = ["--real", paths["real"], "--holdout", paths["holdout"], "--target", LABEL,
              "--text-column", TEXT]  # fmt: skip
    done = cli("evaluate", *common, "--synthetic", paths["fresh"], "-o", tmp_path / "e.json")
    assert done.code == 0, done.stderr
    evaluation = json.loads((tmp_path / "e.json").read_text(encoding="utf-8"))
    assert evaluation["text"]["inputs"]["synthetic_documents"] == 15
    done = cli("audit", *common, "--synthetic", paths["copies"], "--policy", policy,
               "-o", tmp_path / "report")  # fmt: skip
    assert done.code == 5, done.stderr  # copies reproduce training 8-grams: the policy fails
    report = json.loads((tmp_path / "report" / "report.json").read_text(encoding="utf-8"))
    (criterion,) = report["policies"][0]["criteria"]
    assert criterion["value"] > 0 and not criterion["passed"]
