"""report.json is unchanged for a fixed input: the proof that typing the evaluation and
audit results (issue 13) changed no key, no nesting, no value type and no number.

The fixed input involves no DP noise: the first 1,200 rows of the bundled Adult sample as
training data, 600 rows of the bundled holdout, and a "synthetic" table drawn with numpy's
frozen ``RandomState`` stream (950 other holdout rows, resampled, plus 50 training rows
copied, so that copies and attacks have something to find). The ledger is written through
its API with a fixed run id, fixed spends and a fixed fingerprint key, so every ledger
figure, fingerprint and verdict is fixed too.

Volatile fields (timings, timestamps, package versions, the ledger's path) are replaced by
placeholders before comparing. Floats are compared to 1e-7 relative (another CPU or BLAS
may differ in the last bits); keys, key order, nesting, types and every other value exactly.
The page's visible text (every section, number and label of report.html) is compared too.

After a deliberate change of a measurement, a policy or the page, regenerate the goldens
and review their diff::

    PRIVSYNTH_UPDATE_GOLDEN=1 .venv/bin/pytest tests/unit/compliance/test_report_golden.py
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import privsynth
from privsynth.cells import canonical_frame
from privsynth.compliance.audit import AuditInputs, run_audit
from privsynth.compliance.policy import load_policy
from privsynth.compliance.report import write_report
from privsynth.dp.accounting import costs
from privsynth.dp.accounting.accountant import Spend
from privsynth.dp.ledger import Ledger
from privsynth.fingerprint import KEY_ENV_VAR, keyed_fingerprint
from privsynth.io import fingerprint
from privsynth.schema import load_schema

ROOT = Path(__file__).resolve().parents[3]
GOLDEN = ROOT / "tests" / "data"
UPDATE = os.environ.get("PRIVSYNTH_UPDATE_GOLDEN") == "1"
KEY = "5f" * 32
DATASET = "golden-adult"
RUN_ID = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
POLICIES = ("gdpr-anonymisation", "hipaa-expert-determination", "hipaa-safe-harbor")
OPTIONS: dict[str, Any] = {
    "target": "income",
    "quasi_identifiers": ["age", "sex", "race", "marital-status"],
    "sensitive": ["income"],
    "seed": 5,
}
TIMESTAMP, VERSION, SECONDS, LEDGER_PATH = "<timestamp>", "<version>", "<seconds>", "<ledger>"
RELATIVE = 1e-7


@dataclass
class Golden:
    report: dict[str, Any]
    evaluation: dict[str, Any]
    page: list[str]


def tables() -> dict[str, pd.DataFrame]:
    """Training, holdout and the deterministic "synthetic" table."""
    examples = ROOT / "examples"
    real = pd.read_csv(examples / "adult_sample.csv", dtype=str, keep_default_na=False)
    held = pd.read_csv(examples / "adult_holdout.csv", dtype=str, keep_default_na=False)
    real, holdout, pool = real.iloc[:1200], held.iloc[:600], held.iloc[600:]
    stream = np.random.RandomState(13)  # frozen stream: the same draws on every numpy
    drawn = pool.iloc[stream.randint(0, len(pool), 950)]
    copied = real.iloc[stream.choice(len(real), 50, replace=False)]
    synthetic = pd.concat([drawn, copied], ignore_index=True)
    return {"real": real.reset_index(drop=True), "holdout": holdout, "synthetic": synthetic}


def write_ledger(path: Path, real: pd.DataFrame, synthetic: Path) -> Ledger:
    """A ledger whose one run made ``synthetic`` (found by its output fingerprint)."""
    ledger = Ledger(path)
    ledger.set_budget(DATASET, epsilon=5.0, delta=1e-6)
    ledger.reserve(
        DATASET, RUN_ID, costs.zcdp(0.05, 1e-7), (1.0, 1e-6), "mst",
        {"options": {}, "rows": None},
        fingerprint=keyed_fingerprint(canonical_frame(real), ledger.fingerprint_key()),
    )  # fmt: skip
    spends = [
        Spend("discover domain of 'education'", costs.thresholded_gaussian(40.0, 1e-8)),
        Spend("discover domain of 'occupation'", costs.thresholded_gaussian(40.0, 1e-8)),
        Spend("1-way marginals", costs.gaussian(25.0, count=15)),
        Spend("select 2-way marginal 1", costs.exponential(0.02)),
        Spend("select 2-way marginal 2", costs.exponential(0.02)),
        Spend("measure 2-way marginals", costs.gaussian(30.0, count=14)),
    ]
    notes = {"generator_params": {"degree": 2, "iterations": 300}, "seeded": False,
             "output_sha256": fingerprint(synthetic)}  # fmt: skip
    ledger.commit(RUN_ID, spends, notes=notes)
    ledger.record_artifact(RUN_ID, "output", synthetic, fingerprint(synthetic))  # lineage
    return ledger


@pytest.fixture(scope="module")
def produced(tmp_path_factory: pytest.TempPathFactory) -> Golden:
    """The audit (report.json and report.html, as written) and the evaluation document."""
    folder = tmp_path_factory.mktemp("golden")
    frames = tables()
    synthetic_path = folder / "synthetic.csv"
    frames["synthetic"].to_csv(synthetic_path, index=False)
    schema = load_schema(ROOT / "examples" / "adult_schema.yaml")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(KEY_ENV_VAR, KEY)
        ledger = write_ledger(folder / "ledger.db", frames["real"], synthetic_path)
        inputs = AuditInputs(
            real=frames["real"], synthetic=frames["synthetic"], holdout=frames["holdout"],
            schema=schema, sources={"synthetic": synthetic_path}, ledger=ledger,
            dataset=DATASET, **OPTIONS,
        )  # fmt: skip
        document, data = run_audit(inputs, [load_policy(name) for name in POLICIES])
        json_path, html_path = write_report(document, data, folder / "report")
    report = json.loads(json_path.read_text(encoding="utf-8"))
    evaluation = privsynth.evaluate(
        frames["real"], frames["synthetic"], frames["holdout"], schema=schema, **OPTIONS
    ).to_dict()
    page = visible_text(html_path.read_text(encoding="utf-8"), report)
    return Golden(stable_report(report), stable_evaluation(evaluation), page)


# --- volatile fields ------------------------------------------------------------------


def stable_evaluation(document: dict[str, Any]) -> dict[str, Any]:
    """The document with each timing replaced by a placeholder (keys kept)."""
    stable = json.loads(json.dumps(document, allow_nan=False))
    stable["seconds"] = dict.fromkeys(stable["seconds"], SECONDS)
    return stable


def stable_report(report: dict[str, Any]) -> dict[str, Any]:
    """report.json with timings, timestamps, versions and the ledger path as placeholders."""
    stable = stable_evaluation(report)
    provenance = stable["provenance"]
    provenance["generated_at"] = TIMESTAMP
    provenance["versions"] = dict.fromkeys(provenance["versions"], VERSION)
    privacy = provenance["privacy"]
    privacy["ledger"] = LEDGER_PATH
    privacy["run"]["created_at"] = privacy["run"]["finished_at"] = TIMESTAMP
    for spend in privacy["run_spends"]:
        spend["created_at"] = TIMESTAMP
    return stable


class _Text(HTMLParser):
    """The page's text nodes (whitespace normalised), outside <style>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.nodes: list[str] = []
        self._style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._style = False

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if text and not self._style:
            self.nodes.append(text)


def visible_text(html: str, report: dict[str, Any]) -> list[str]:
    """Every text node of the page, volatile values (the report's own) as placeholders."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    provenance = report["provenance"]
    run = provenance["privacy"]["run"]
    exact = {
        provenance["generated_at"]: TIMESTAMP,
        provenance["privacy"]["ledger"]: LEDGER_PATH,
        run["created_at"]: TIMESTAMP,
        run["finished_at"]: TIMESTAMP,
        **{version: VERSION for version in provenance["versions"].values()},
    }
    footer = f"privsynth {provenance['versions']['privsynth']}."
    inside = {provenance["generated_at"]: TIMESTAMP, footer: f"privsynth {VERSION}."}
    nodes = []
    for found in parser.nodes:
        node = exact.get(found, found)
        for value, placeholder in inside.items():
            node = node.replace(value, placeholder)
        nodes.append(node)
    return nodes


# --- comparison -------------------------------------------------------------------------


def differences(actual: Any, expected: Any, path: str = "") -> list[str]:
    """Where ``actual`` departs from ``expected``: type, key order, length or value."""
    where = path or "/"
    if type(actual) is not type(expected):
        return [f"{where}: {type(actual).__name__} != {type(expected).__name__}"]
    if isinstance(expected, dict):
        if list(actual) != list(expected):
            return [f"{where}: keys {list(actual)} != {list(expected)}"]
        return [d for k in expected for d in differences(actual[k], expected[k], f"{path}/{k}")]
    if isinstance(expected, list):
        if len(actual) != len(expected):
            return [f"{where}: length {len(actual)} != {len(expected)}"]
        pairs = zip(actual, expected, strict=True)
        return [d for i, (a, e) in enumerate(pairs) for d in differences(a, e, f"{path}/{i}")]
    if isinstance(expected, float):
        same = math.isclose(actual, expected, rel_tol=RELATIVE, abs_tol=1e-12)
        return [] if same else [f"{where}: {actual!r} != {expected!r}"]
    return [] if actual == expected else [f"{where}: {actual!r} != {expected!r}"]


def golden(name: str, produced: Any) -> Any:
    """The stored golden ``name`` (written from ``produced`` when updating)."""
    path = GOLDEN / name
    if UPDATE:
        path.write_text(json.dumps(produced, indent=2, ensure_ascii=False) + "\n", "utf-8")
    return json.loads(path.read_text(encoding="utf-8"))


def test_report_json_is_unchanged(produced: Golden) -> None:
    expected = golden("golden_report.json", produced.report)
    assert differences(produced.report, expected) == []


def test_the_evaluation_document_is_unchanged(produced: Golden) -> None:
    expected = golden("golden_evaluation.json", produced.evaluation)
    assert differences(produced.evaluation, expected) == []
    audit_part = {key: produced.report[key] for key in expected}
    assert differences(audit_part, expected) == []  # the audit embeds the same evaluation


def test_the_page_shows_the_same_text(produced: Golden) -> None:
    expected = golden("golden_report_text.json", produced.page)
    assert produced.page == expected


def test_the_comparison_can_fail() -> None:
    document = {"a": {"b": [1, 0.5, True]}, "c": None}
    assert differences(document, json.loads(json.dumps(document))) == []
    assert differences({"a": {"b": [1, 0.5000001, True]}, "c": None}, document)
    assert differences({"a": {"b": [1.0, 0.5, True]}, "c": None}, document)  # int -> float
    assert differences({"a": {"b": [1, 0.5, 1]}, "c": None}, document)  # bool -> int
    assert differences({"c": None, "a": {"b": [1, 0.5, True]}}, document)  # key order
