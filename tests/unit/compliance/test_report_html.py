"""The compliance report: complete, self-contained, escaped, and free of real records.

One real audit on a small slice of the bundled Adult sample (7 columns, 1,500 rows,
synthesized with ε = 1 through a real ledger) into which canaries were planted: a
name-like category held by 3 rows and a distinctive number in a numeric column. Neither
may reach report.html or report.json, while common categories do reach the figures.
"""

from __future__ import annotations

import base64
import json
import re
import sys
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import matplotlib
import pandas as pd
import pytest

from privsynth.compliance import figures as figures_module
from privsynth.compliance.audit import AuditInputs, run_audit
from privsynth.compliance.document import AuditDocument
from privsynth.compliance.figures import (
    MIN_CELL,
    SUPPRESSED,
    make_figures,
    marginal_columns,
    marginals,
)
from privsynth.compliance.html import EXPERT_NOTICE, render_html
from privsynth.compliance.policy import load_policy
from privsynth.compliance.report import write_report
from privsynth.dp.ledger import Ledger
from privsynth.evaluation.data import EvaluationData
from privsynth.synthesis import SynthesisConfig, run_synthesis

COLUMNS = ["age", "workclass", "education", "sex", "race", "hours-per-week", "income"]
NAME_CANARY = "Zebediah Quuxworth"
NUMBER_CANARY = "987654.321"
POLICIES = ("gdpr-anonymisation", "hipaa-expert-determination", "hipaa-safe-harbor")
DATASET = "canary-adult"
VOID = {"meta", "img", "br", "hr", "link", "input", "col", "source", "wbr"}


class Page(HTMLParser):
    """Collects what the tests look at, and checks that every element is closed in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self._inside: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        self.tags.append((tag, found))
        if tag not in VOID:
            self.stack.append(tag)
        if found.get("id"):
            self._inside[found["id"]] = []

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def attrs(self, tag: str) -> list[dict[str, str]]:
        return [a for t, a in self.tags if t == tag]


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def element_text(html: str, element_id: str) -> str:
    match = re.search(rf'<(\w+)[^>]*\bid="{element_id}"[^>]*>(.*?)</\1>', html, re.S)
    assert match, element_id
    return re.sub(r"<[^>]+>", "", match.group(2))


@pytest.fixture(scope="module")
def real(adult_frame: pd.DataFrame) -> pd.DataFrame:
    table = adult_frame[COLUMNS].head(1500).copy()
    table.loc[table.index[:3], "workclass"] = NAME_CANARY  # 3 < MIN_CELL rows
    table.loc[table.index[3:6], "age"] = NUMBER_CANARY  # the real maximum of a numeric column
    return table


@dataclass
class Audit:
    document: AuditDocument
    data: EvaluationData
    folder: Path
    #: what write_report's make_figures call returned, and matplotlib's rcParams around it
    figures: dict[str, str] = field(default_factory=dict)
    rc_before: dict[str, Any] = field(default_factory=dict)
    rc_after: dict[str, Any] = field(default_factory=dict)


def rc_params() -> dict[str, Any]:
    return dict(matplotlib.rcParams.items())


@pytest.fixture(scope="module")
def audit(real: pd.DataFrame, adult_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Audit:
    """A real synthesis (ledger, DP) and audit; the report written with write_report."""
    folder = tmp_path_factory.mktemp("report")
    holdout = pd.read_csv(adult_path.parent / "adult_holdout.csv", dtype=str,
                          keep_default_na=False)[COLUMNS].head(800)  # fmt: skip
    ledger = Ledger(folder / "ledger.db")
    config = SynthesisConfig(epsilon=1, generator="mst", residual_scan=False, dataset=DATASET)
    result = run_synthesis(real, config, ledger=ledger)
    inputs = AuditInputs(
        real=real, synthetic=result.data, holdout=holdout, target="income",
        quasi_identifiers=["age", "sex", "race"], sensitive=["income"], ledger=ledger,
        dataset=DATASET, run_id=result.run_id,
    )  # fmt: skip
    document, data = run_audit(inputs, [load_policy(name) for name in POLICIES])
    captured = Audit(document, data, folder / "out")

    def spy(data: EvaluationData, document: AuditDocument) -> dict[str, str]:
        captured.rc_before = rc_params()
        captured.figures = make_figures(data, document)
        captured.rc_after = rc_params()
        return captured.figures

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(figures_module, "make_figures", spy)
        write_report(document, data, captured.folder)
    assert captured.figures, "write_report did not call make_figures"
    return captured


@pytest.fixture(scope="module")
def html(audit: Audit) -> str:
    return (audit.folder / "report.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def report_json(audit: Audit) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((audit.folder / "report.json").read_text(encoding="utf-8"))
    return loaded


def test_both_files_are_written_and_the_page_is_well_formed(html: str) -> None:
    page = parse(html)
    assert html.startswith("<!DOCTYPE html>")
    assert page.errors == [] and page.stack == []
    assert [t for t, _ in page.tags].count("h1") == 1
    ids = [a["id"] for _, a in page.tags if "id" in a]
    assert len(ids) == len(set(ids)), "duplicate ids"
    for anchor in (a["href"][1:] for a in page.attrs("a") if a.get("href", "").startswith("#")):
        assert anchor in ids, anchor


def test_every_figure_is_embedded_as_an_image(
    audit: Audit,
    html: str,
) -> None:
    document, data, made = audit.document, audit.data, audit.figures
    expected = {"privacy_risks", "membership_roc", "dcr_histogram", "correlation_difference"}
    assert expected <= set(made)
    assert {f"marginal/{c}" for c in marginal_columns(data, document.evaluation)} <= set(made)
    sources = [a["src"] for a in parse(html).attrs("img")]
    assert sorted(sources) == sorted(made.values())
    for source in sources:
        assert source.startswith("data:image/png;base64,")
        assert base64.b64decode(source.split(",", 1)[1]).startswith(b"\x89PNG\r\n\x1a\n")


def test_the_page_loads_nothing_from_the_network(html: str) -> None:
    page = parse(html)
    assert not page.attrs("script") and not page.attrs("link") and not page.attrs("iframe")
    for tag, attrs in page.tags:
        for name in ("src", "href", "action", "srcset", "poster", "data"):
            value = attrs.get(name, "")
            assert not re.match(r"\s*(https?:)?//", value, re.I), (tag, name, value[:80])
    style = "".join(re.findall(r"<style>(.*?)</style>", html, re.S))
    assert "url(" not in style and "@import" not in style and "@font-face" not in style
    csp = [a["content"] for a in page.attrs("meta") if a.get("http-equiv")]
    assert csp and "default-src 'none'" in csp[0] and "img-src data:" in csp[0]
    # hyperlinks in text would be allowed; the report has none at all
    assert "http://" not in html and "https://" not in html


def test_the_verdict_matches_the_document(audit: Audit, html: str) -> None:
    document = audit.document
    verdict = element_text(html, "verdict")
    assert verdict.startswith("PASSED" if document.passed else "FAILED")
    assert f'data-passed="{str(document.passed).lower()}"' in html
    for policy in document.policies:
        badge = re.search(rf'id="policy-{policy.name}"><h3>[^<]*<span class="badge (\w+)"', html)
        assert badge and badge.group(1) == ("pass" if policy.passed else "fail")
        section = element_text(html, f"policy-{policy.name}")
        for criterion in policy.criteria:
            assert criterion.id in section and criterion.metric in section
        for attestation in policy.manual_attestations:
            assert attestation in section
        assert (EXPERT_NOTICE in section) == policy.requires_expert_signature
    assert html.count(EXPERT_NOTICE) == 1  # only hipaa-expert-determination requires it


def test_the_page_states_what_is_guaranteed(audit: Audit, html: str) -> None:
    privacy = audit.document.provenance.privacy
    assert privacy is not None and privacy.run is not None
    guarantees = element_text(html, "guarantees")
    assert "Automated PII detection can miss identifiers" in guarantees
    assert privacy.epsilon == pytest.approx(1.0, rel=1e-3)
    assert "ε = 1, δ = 1e-06" in guarantees and DATASET in guarantees
    assert "The bound protects each row" in guarantees  # the privacy unit is stated
    provenance = element_text(html, "provenance")
    assert privacy.run["run_id"] in provenance
    assert "discover domain of …" in provenance  # spends grouped, column names elided
    for digest in audit.document.provenance.fingerprints.values():
        assert digest in provenance


def test_canaries_never_reach_the_report(audit: Audit, real: pd.DataFrame) -> None:
    # the canaries are live: a rare category, and the real maximum (a bin edge) of age
    assert (real["workclass"] == NAME_CANARY).sum() == 3 < MIN_CELL
    assert audit.data.bin_edges["age"][-1] == float(NUMBER_CANARY)
    folder = audit.folder
    for path in (folder / "report.html", folder / "report.json"):
        text = path.read_text(encoding="utf-8")
        assert NAME_CANARY not in text and "Quuxworth" not in text, path.name
        assert NUMBER_CANARY not in text and "987654" not in _without_images(text), path.name


def test_rare_categories_are_suppressed_and_common_ones_shown(
    audit: Audit, real: pd.DataFrame
) -> None:
    document, data = audit.document, audit.data
    shown = {m.column: m for m in marginals(data, document.evaluation)}
    assert {"workclass", "age", "income", "sex"} <= set(shown)
    workclass = shown["workclass"]
    assert "Private" in workclass.labels and SUPPRESSED in workclass.labels
    assert NAME_CANARY not in workclass.labels
    counts = real["workclass"].value_counts()
    for label in workclass.labels:
        assert label == SUPPRESSED or counts[label] >= MIN_CELL, label
    # the generator's "<other>" bucket exists only in the synthetic data: suppressed too
    assert {"<=50K", ">50K"} <= set(shown["income"].labels) <= {"<=50K", ">50K", SUPPRESSED}
    bins = [label for label in shown["age"].labels if label != SUPPRESSED]
    assert bins == [str(i) for i in range(1, len(audit.data.bin_edges["age"]))]  # indexes only
    for marginal in shown.values():
        assert not any("987654" in label or "Quuxworth" in label for label in marginal.labels)
    for marginal in shown.values():
        assert sum(marginal.real) == pytest.approx(1.0)
        assert sum(marginal.synthetic) == pytest.approx(1.0)


def test_report_json_keeps_its_schema(audit: Audit, report_json: dict[str, Any]) -> None:
    assert report_json == json.loads(json.dumps(audit.document.to_dict()))  # what was written
    assert isinstance(report_json["passed"], bool)
    for section in ("fidelity", "utility", "detection", "diversity", "privacy", "skipped"):
        assert isinstance(report_json[section], dict), section
    assert {"fingerprints", "privacy", "versions", "generated_at"} <= set(report_json["provenance"])
    assert {"residual_pii", "safe_harbor"} <= set(report_json["checks"])
    assert [p["name"] for p in report_json["policies"]] == list(POLICIES)
    for policy in report_json["policies"]:
        assert isinstance(policy["passed"], bool)
        for criterion in policy["criteria"]:
            assert {"id", "metric", "value", "threshold", "passed", "citation"} <= set(criterion)
    assert report_json["passed"] == all(p["passed"] for p in report_json["policies"])


def test_every_document_string_is_escaped(audit: Audit) -> None:
    hostile = "<script>alert(1)</script>"
    document = audit.document
    first = document.policies[0]
    criteria = (replace(first.criteria[0], citation=f'"><img src=x onerror={hostile}>'),
                *first.criteria[1:])  # fmt: skip
    policy = replace(first, title=hostile, criteria=criteria, manual_attestations=(hostile,))
    evaluation = replace(
        document.evaluation,
        skipped={"tstr": hostile},
        inputs=replace(document.evaluation.inputs, columns={hostile: "numeric"}),
    )
    hostile_document = replace(
        document, policies=(policy, *document.policies[1:]), evaluation=evaluation
    )
    page = render_html(hostile_document, {"marginal/" + hostile: "javascript:alert(1)"})
    assert "<script" not in page and "onerror=" not in page.replace("onerror=&lt;", "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'src="javascript:' not in page and 'src="data:,"' in page  # refused, not loaded
    assert parse(page).errors == []


def test_skipped_measurements_give_no_figure_and_are_listed(
    audit: Audit,
) -> None:
    document, data = audit.document, audit.data
    evaluation = document.evaluation
    fidelity = {k: v for k, v in evaluation.fidelity.items() if k != "correlation_difference"}
    stripped = replace(
        document,
        evaluation=replace(
            evaluation,
            privacy={},
            diversity={},
            fidelity=fidelity,
            skipped={"dcr": "this measurement needs holdout records"},
        ),
        provenance=replace(document.provenance, privacy=None),
    )
    figures = make_figures(data, stripped)
    assert figures and all(name.startswith("marginal/") for name in figures)
    page = render_html(stripped, figures)
    assert "this measurement needs holdout records" in element_text(page, "skipped")
    assert "no differential-privacy claim" in element_text(page, "guarantees")
    assert "Membership inference" not in element_text(page, "metrics")
    assert parse(page).errors == []


def test_a_page_without_policies_or_a_matched_run_says_so(audit: Audit) -> None:
    document = audit.document
    privacy = document.provenance.privacy
    assert privacy is not None
    unmatched = replace(privacy, run=None, run_match=None, run_spends=[], default_budget=True)
    bare = replace(
        document, policies=(), provenance=replace(document.provenance, privacy=unmatched)
    )
    page = render_html(bare, {})
    assert element_text(page, "verdict").startswith("PASSED: all 0 policies")
    assert "No policy was judged." in element_text(page, "policies")
    assert "the default budget: none was set" in element_text(page, "guarantees")
    provenance = element_text(page, "provenance")
    assert "No ledger run matched" in provenance and "Run id" not in provenance
    assert "No figure could be drawn" in element_text(page, "figures")
    assert parse(page).errors == []


def test_figures_leave_matplotlib_state_alone(audit: Audit) -> None:
    assert audit.rc_after == audit.rc_before
    if "matplotlib.pyplot" in sys.modules:  # imported elsewhere: no figure may be left open
        import matplotlib.pyplot as plt

        assert plt.get_fignums() == []


def _without_images(text: str) -> str:
    """Base64 payloads are random-looking text; a short digit run may occur by chance."""
    return re.sub(r"data:image/[a-z+]+;base64,[A-Za-z0-9+/=]+", "", text)
