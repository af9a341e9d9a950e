"""The audit as one self-contained HTML page for a privacy officer or an IRB.

One file, opened offline: inline CSS, figures as ``data:`` images, no script, no web
font, and a Content-Security-Policy that forbids every network load, so the page cannot
fetch anything even if a figure or string were malformed. The page is a jinja2 template
(``templates/report.html.j2``) with autoescaping: every string from the document is
escaped; this module only formats numbers and prepares the views the template loops over.

The page renders an allow-list of aggregates from the typed audit document (verdicts,
criteria, metric values, risks, counts, column names and kinds, fingerprints, versions,
ledger figures), never free-form ``details``, so nothing a metric might put there by
mistake reaches the reader. It prints cleanly (print CSS: no backgrounds lost, no broken
rows).
"""

from __future__ import annotations

import base64
import functools
import json
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import jinja2

from privsynth.compliance.document import DOCUMENT_VERSION, AuditDocument
from privsynth.compliance.figures import MIN_CELL
from privsynth.compliance.policy import finite_number
from privsynth.compliance.provenance import LedgerPrivacy
from privsynth.evaluation.base import MetricResult, clean
from privsynth.evaluation.result import SCHEMA_VERSION, SECTIONS

TITLE = "Synthetic data: privacy compliance report"
EXPERT_NOTICE = (
    "An expert must still review and sign this determination; this report supplies their evidence."
)
PII_CAVEAT = (
    "Automated PII detection can miss identifiers: a clean scan is necessary, not sufficient. "
    "A person must still review the columns, especially free text and unusual codes."
)
CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'none'"
)
RISKS = (
    ("singling_out", "Singling out"),
    ("linkability", "Linkability"),
    ("attribute_inference", "Attribute inference"),
)
CONTENTS = (
    ("policies", "Policies and criteria"),
    ("guarantees", "What is and is not guaranteed"),
    ("figures", "Figures"),
    ("metrics", "Measurements"),
    ("skipped", "Skipped measurements"),
    ("provenance", "Provenance"),
)
#: figures shown at the top of the page, next to the verdict
GLANCE_FIGURES = ("privacy_risks",)
#: figure name -> (section, caption); marginals are captioned per column
CAPTIONS = {
    "privacy_risks": (
        "privacy",
        "Risk of each Article 29 WP attack (excess success on training records over holdout "
        "records), with its 95% interval; red marks are the thresholds the policies apply.",
    ),
    "membership_roc": (
        "privacy",
        "Membership inference: can an attacker tell training records from holdout records "
        "using the synthetic data? The dotted diagonal is chance; the log-log panel shows the "
        "low false-positive regime, where an attack on a few individuals would show.",
    ),
    "dcr_histogram": (
        "privacy",
        "Distance from each synthetic row to its closest training row and to its closest "
        "holdout row. Overlapping curves mean the generator did not stay closer to the records "
        "it was trained on.",
    ),
    "correlation_difference": (
        "fidelity",
        "Absolute difference between real and synthetic pairwise association (Pearson for "
        "numeric pairs, Cramér's V for categorical pairs, correlation ratio for mixed pairs).",
    ),
}
MARGINAL_NOTE = (
    f"Most important columns (target, sensitive columns, quasi-identifiers, then the columns "
    f"that best tell real from synthetic). Categories held by fewer than {MIN_CELL} real rows are "
    f"merged into “other (suppressed)” and never named; numeric columns are cut into quantile "
    f"bins of the real data and shown by bin number, not by value."
)
LABELS = {
    "column_distance": "Per-column distance (TVD / KS)",
    "marginal_tvd_2way": "2-way marginal distance (TVD)",
    "marginal_tvd_3way": "3-way marginal distance (TVD)",
    "correlation_difference": "Pairwise association difference",
    "coverage": "Coverage of real categories and ranges",
    "tstr": "Train synthetic, test real",
    "detection_auc": "Real-vs-synthetic detection AUC",
    "alpha_precision": "α-precision (synthetic rows in the real support)",
    "beta_recall": "β-recall (real support covered)",
    "dcr": "Distance to closest record (share closer to training)",
    "nndr": "Nearest-neighbour distance ratio",
    "exact_copy_rate": "Exact copies of training rows",
    **{f"distinct_{n}": f"Distinct {n}-grams (share)" for n in (1, 2, 3)},
    **{f"distinct_{n}_relative": f"Distinct {n}-grams, synthetic / real" for n in (1, 2, 3)},
    **{f"entropy_{n}": f"{n}-gram entropy (bits)" for n in (1, 2, 3)},
    **{f"entropy_{n}_relative": f"{n}-gram entropy, synthetic / real" for n in (1, 2, 3)},
    "vendi_score": "Vendi score (effective number of distinct documents)",
    "vendi_score_relative": "Vendi score, synthetic / real",
    "frechet_distance": "Fréchet distance of sentence embeddings",
    "mauve_style": "MAUVE-style divergence-frontier score",
    "text_detection_auc": "Real-vs-synthetic text detection AUC",
    "text_tstr": "Train on synthetic text, test on real (macro-F1)",
    "longest_training_match": "Longest run of words shared with one training document",
    "training_8gram_share": "Synthetic 8-grams found in training text",
    "unique_training_8gram_share": "Synthetic 8-grams unique to one training document",
    "distinct_training_8grams_reproduced": "Distinct training 8-grams reproduced",
    "max_training_8gram_reproductions": "Most reproductions of one training 8-gram",
    "unique_training_8grams_reproduced": "Distinct record-unique 8-grams reproduced",
    "max_unique_training_8gram_reproductions": "Most reproductions of one record-unique 8-gram",
}
#: the sections of the text evaluation, with their headings on the page
TEXT_SECTIONS = (
    ("lexical", "Lexical diversity"),
    ("embedding", "Sentence embeddings"),
    ("detection", "Detection"),
    ("utility", "Utility"),
    ("memorisation", "Memorisation (counts only: no reproduced text is shown)"),
)
TEXT_NOTE = (
    "Memorisation compares the synthetic documents with the training documents word for "
    "word; real holdout documents compared the same way show how much text the notes share "
    "anyway (templates, stock phrases)."
)
_DATA_URI = re.compile(r"^data:image/(?:png|jpeg|gif|webp|svg\+xml);base64,[A-Za-z0-9+/=]+$")


def render_html(document: AuditDocument, figures: dict[str, str]) -> str:
    """The whole report page for an audit ``document`` and its ``figures``."""
    evaluation = document.evaluation
    ledger = document.provenance.privacy
    context = {
        "doc": document,
        "ev": evaluation,
        "ledger": ledger,
        "baseline": ledger.baseline_generator if ledger is not None else None,
        "copies": evaluation.metric("exact_copy_rate"),
        "risks": [(label, r) for key, label in RISKS if (r := evaluation.risk(key)) is not None],
        "header_facts": _header_facts(document),
        "glance_figures": [_figure(n, figures[n]) for n in GLANCE_FIGURES if n in figures],
        "figure_groups": _figure_groups(figures),
        "pii_found": [(e, n) for e, n in sorted(document.checks.residual_pii.items()) if n != 0],
        "pii_clean": [e for e, n in sorted(document.checks.residual_pii.items()) if n == 0],
        "columns": _columns(document),
        "text": evaluation.text,
        "text_sections": TEXT_SECTIONS,
        "text_facts": _text_facts(document),
        "text_note": TEXT_NOTE,
        "ledger_facts": _ledger_facts(ledger) if ledger is not None else [],
        "spends": _spends(ledger.run_spends) if ledger is not None else [],
        "sections": SECTIONS,
        "contents": CONTENTS,
        "title": TITLE,
        "csp": CSP,
        "expert_notice": EXPERT_NOTICE,
        "pii_caveat": PII_CAVEAT,
        "min_cell": MIN_CELL,
        "document_version": DOCUMENT_VERSION,
        "schema_version": SCHEMA_VERSION,
    }
    return _environment().get_template("report.html.j2").render(context)


@functools.cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("privsynth.compliance", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    environment.filters.update(
        fmt=fmt, fmt_epsilon=fmt_epsilon, slug=slug, label=lambda n: LABELS.get(n, n),
        goal=goal, metric_note=metric_note, unit=unit, bound=bound, power_note=power_note,
    )  # fmt: skip
    return environment


def power_note(power: dict[str, Any] | None) -> str:
    """A criterion's power calculation in words (empty where none applies)."""
    if not power:
        return ""
    what = "holdout records" if power.get("grows_with") == "holdout" else "attacks"
    size = f"{power.get('size'):,} {what}"
    if power.get("conclusive"):
        return f"conclusive: the 95% interval lies on one side of the threshold ({size})"
    needed = power.get("size_needed")
    if needed is None:
        return f"inconclusive; no number of {what} would settle it at the observed rates"
    return f"inconclusive; about {needed:,} {what} (now {power.get('size'):,}) would settle it"


# --- numbers and names ----------------------------------------------------------------


def fmt(value: Any, digits: int = 3) -> str:
    """Numbers to a few significant digits; anything else as text; absent (None, NaN,
    infinite: null in report.json) as a dash."""
    if isinstance(value, float) and not math.isfinite(value):
        value = None
    number = finite_number(value)
    if number is None:
        return "—" if value is None else str(value)
    if number == int(number) and abs(number) < 1e9:
        return f"{int(number):,}"
    return f"{number:.{digits}g}" if abs(number) < 1e-3 else f"{number:.{digits + 1}g}"


def fmt_epsilon(value: Any) -> str:
    """ε rounded up (to 3 decimals): a privacy claim must never be understated."""
    number = finite_number(value)
    return fmt(value) if number is None else f"{math.ceil(number * 1000 - 1e-9) / 1000:g}"


def bound(value: Any) -> str:
    """A range bound: as :func:`fmt`, and an infinite bound as ∞ (counts, distances)."""
    if isinstance(value, float) and math.isinf(value):
        return "∞" if value > 0 else "−∞"
    return fmt(value)


def slug(value: object) -> str:
    """An id-safe form of a name (for anchors)."""
    return re.sub(r"[^a-z0-9]+", "-", str(value).lower()).strip("-") or "policy"


def unit(privacy_unit: str) -> str:
    """Who the differential-privacy bound protects."""
    if not privacy_unit or privacy_unit == "row":
        return "each row (a person with several rows is protected less)"
    return f"each {privacy_unit} (all their rows together)"


def goal(result: MetricResult) -> str:
    """Which way is better, or the ideal value when the metric declares one."""
    ideal = finite_number(clean(result.details).get("ideal"))
    if ideal is not None:
        return f"{fmt(ideal)} is ideal"
    if result.name == "detection_auc":
        return "lower is better (0.5 = indistinguishable)"
    return {"minimize": "lower is better", "maximize": "higher is better"}.get(
        result.goal, result.goal
    )


def metric_note(result: MetricResult) -> str:
    """A few named aggregates worth a reader's eye (never raw details)."""
    details: dict[str, Any] = clean(result.details)
    if result.name in TEXT_NOTES:
        return TEXT_NOTES[result.name](details)
    if result.name == "tstr":
        headline = str(details.get("headline") or "")
        trtr = details.get("trtr")
        real = trtr.get(headline) if isinstance(trtr, dict) else None
        return (
            f"{headline} on {details.get('target')}: trained on real {fmt(real)}, "
            f"ratio {fmt(details.get('ratio'))}"
        )
    if result.name == "detection_auc":
        found = details.get("top_features")
        features = [f.get("column") for f in found or [] if isinstance(f, dict)]
        return "relies most on: " + ", ".join(str(f) for f in features[:5] if f)
    if result.name == "exact_copy_rate":
        return f"holdout rate {fmt(details.get('holdout_rate'))} (a baseline for chance copies)"
    return ""


def _text_tstr_note(details: dict[str, Any]) -> str:
    tstr, trtr = details.get("tstr") or {}, details.get("trtr") or {}
    return (
        f"accuracy {fmt(tstr.get('accuracy'))} (majority-class floor "
        f"{fmt(details.get('majority_baseline'))}); trained on real: macro-F1 "
        f"{fmt(trtr.get('macro_f1'))}, ratio {fmt(details.get('ratio'))}"
    )


def _holdout_note(details: dict[str, Any]) -> str:
    return (
        f"holdout (real, never trained on) {fmt(details.get('holdout_share'))}; "
        f"excess {fmt(details.get('excess_over_holdout'))}"
    )


def _longest_note(details: dict[str, Any]) -> str:
    mine, control = details.get("per_document") or {}, details.get("holdout") or {}
    return (
        f"per document: median {fmt(mine.get('median'))}, 95th percentile "
        f"{fmt(mine.get('p95'))}; holdout median {fmt(control.get('median'))}, 95th "
        f"percentile {fmt(control.get('p95'))}"
    )


def _real_note(details: dict[str, Any]) -> str:
    return f"real text {fmt(details.get('real'))}"


def _ratio_note(details: dict[str, Any]) -> str:
    return f"synthetic {fmt(details.get('synthetic'))}, real {fmt(details.get('real'))}"


def _truncated_note(details: dict[str, Any]) -> str:
    share = fmt(details.get("truncated_share"))
    return f"{share} of the documents were longer than the model's window (their start embedded)"


#: the notes of the text metrics (named aggregates only, never a document or n-gram)
TEXT_NOTES: dict[str, Callable[[dict[str, Any]], str]] = {
    "text_tstr": _text_tstr_note,
    "training_8gram_share": _holdout_note,
    "unique_training_8gram_share": _holdout_note,
    "longest_training_match": _longest_note,
    "vendi_score": _real_note,
    **{f"{kind}_{n}": _real_note for kind in ("distinct", "entropy") for n in (1, 2, 3)},
    **{f"{kind}_{n}_relative": _ratio_note for kind in ("distinct", "entropy") for n in (1, 2, 3)},
    "vendi_score_relative": _ratio_note,
    "frechet_distance": _truncated_note,
}


# --- views the template loops over ----------------------------------------------------


def _text_facts(document: AuditDocument) -> list[str]:
    """What the text evaluation compared: counts and the model, never a document."""
    text = document.evaluation.text
    if text is None:
        return []
    inputs = text.inputs
    facts = [
        f"column “{inputs.column}”" if inputs.column else "",
        f"{fmt(inputs.real_documents)} real training documents",
        f"{fmt(inputs.synthetic_documents)} synthetic documents",
        f"{fmt(inputs.test_documents)} holdout documents",
        f"labels from “{inputs.label}”" if inputs.label else "",
        f"{fmt(inputs.missing_texts)} missing texts left out" if inputs.missing_texts else "",
        f"sentence embeddings by {inputs.model}" if inputs.model else "",
    ]
    return [fact for fact in facts if fact]


def _header_facts(document: AuditDocument) -> list[str]:
    """When and which data: row counts and the dataset's name only."""
    inputs, ledger = document.evaluation.inputs, document.provenance.privacy
    facts = [
        f"generated {document.provenance.generated_at or 'at an unknown time'}",
        f"dataset {ledger.dataset}" if ledger is not None and ledger.dataset else "",
        f"{fmt(inputs.real_rows)} real training rows",
        f"{fmt(inputs.synthetic_rows)} synthetic rows",
        f"{fmt(inputs.holdout_rows)} holdout rows",
    ]
    return [fact for fact in facts if fact]


@dataclass(frozen=True)
class FigureView:
    name: str
    source: str
    caption: str


@dataclass(frozen=True)
class FigureGroup:
    title: str
    figures: list[FigureView]
    css: str = "stack"
    note: str = ""


def _figure_groups(figures: dict[str, str]) -> list[FigureGroup]:
    """Privacy figures, then fidelity, then marginals; figures this page does not know
    go last. The glance figures are shown at the top instead."""
    shown = {k: v for k, v in figures.items() if k not in GLANCE_FIGURES}
    privacy = [n for n, (section, _) in CAPTIONS.items() if section == "privacy" and n in shown]
    fidelity = [n for n, (section, _) in CAPTIONS.items() if section == "fidelity" and n in shown]
    marginal = [n for n in shown if n.startswith("marginal/")]
    other = [n for n in shown if n not in {*privacy, *fidelity, *marginal}]
    groups = [
        FigureGroup("Privacy", [_figure(n, shown[n]) for n in privacy]),
        FigureGroup("Fidelity", [_figure(n, shown[n]) for n in fidelity]),
        FigureGroup(
            "Column distributions, real vs synthetic",
            [_figure(n, shown[n]) for n in marginal],
            css="grid",
            note=MARGINAL_NOTE,
        ),
        FigureGroup("Other figures", [_figure(n, shown[n]) for n in other]),
    ]
    return [group for group in groups if group.figures]


def _figure(name: str, source: str) -> FigureView:
    caption = CAPTIONS.get(name, ("", ""))[1]
    if name.startswith("marginal/"):
        caption = f"Real vs synthetic share of rows per category of “{name[9:]}”."
    return FigureView(name, _image_source(source), caption or name)


def _image_source(source: str) -> str:
    """A data URI for the figure: PNG URIs as given, inline SVG encoded as a data URI
    (an ``<img>`` cannot run script); anything else is refused (shown as broken)."""
    if _DATA_URI.match(source):
        return source
    if source.lstrip().startswith(("<svg", "<?xml")):
        return "data:image/svg+xml;base64," + base64.b64encode(source.encode()).decode("ascii")
    return "data:,"


def _columns(document: AuditDocument) -> list[tuple[str, str, str, str, str]]:
    """Column names, kinds and evaluation roles: never category lists or bounds."""
    inputs = document.evaluation.inputs
    schema = document.provenance.schema
    declared: dict[str, Any] = schema.get("columns", {}) if schema is not None else {}
    text = document.evaluation.text
    free_text = {text.inputs.column: "free text"} if text and text.inputs.column else {}
    evaluated = {**inputs.columns, **free_text}
    names = list(dict.fromkeys([*declared, *evaluated]))
    roles: dict[str, list[str]] = {name: [] for name in names}
    found = (
        (inputs.quasi_identifiers, "quasi-identifier"),
        (inputs.sensitive, "sensitive"),
        ((inputs.target or "",), "target"),
    )
    for columns, role in found:
        for name in filter(None, columns):
            roles.setdefault(name, []).append(role)
    return [
        (
            name,
            str(declared.get(name, {}).get("kind") or "—"),
            evaluated.get(name) or "not evaluated",
            ", ".join(roles[name]),
            "yes" if "<data-derived" in json.dumps(declared.get(name), default=str) else "",
        )
        for name in names
    ]


def _ledger_facts(ledger: LedgerPrivacy) -> list[tuple[str, object, bool]]:
    """The ledger's figures and, if one matched, the run that made the synthetic data:
    (label, value, shown as code)."""
    facts: list[tuple[str, object, bool]] = [
        ("Dataset", ledger.dataset, False),
        ("Ledger", ledger.ledger, False),
        ("Runs recorded", fmt(ledger.runs), False),
        ("ε spent (composed)", fmt_epsilon(ledger.epsilon), False),
        ("δ", fmt(ledger.delta_budget), False),
        ("ε budget", fmt_epsilon(ledger.budget_epsilon), False),
        ("ε protects", unit(ledger.privacy_unit), False),
        ("Real data is the data the ledger accounted", _matched(ledger.real_data_in_ledger), False),
    ]
    run, notes = ledger.run, ledger.run_notes
    if run:
        facts += [
            ("Run id", run.get("run_id"), True),
            ("Run found by", ledger.run_match or "unknown", False),
            ("Generator", run.get("generator"), False),
            ("Generator parameters", _generator_params(notes), True),
            ("Status", run.get("status"), False),
            (
                "Run target ε, δ",
                f"{fmt_epsilon(run.get('epsilon'))}, {fmt(run.get('delta'))}",
                False,
            ),
            ("Started", run.get("created_at"), False),
            ("Finished", run.get("finished_at"), False),
            ("Seeded noise", _seeded(notes), False),
        ]
    if ledger.baseline_generator is not None:
        guarantee = f"none (baseline generator {ledger.baseline_generator})"
        facts.append(("Formal privacy guarantee", guarantee, False))
    return facts


def _matched(found: bool | None) -> str:
    if found is None:
        return "unknown (fingerprint withheld)"
    return "yes (keyed fingerprint recorded by a run)" if found else "no fingerprint match"


def _generator_params(notes: dict[str, Any] | None) -> str:
    return "unknown" if notes is None else json.dumps(notes.get("generator_params"), sort_keys=True)


def _seeded(notes: dict[str, Any] | None) -> str:
    seeded = notes.get("seeded") if notes is not None else None
    if seeded is True:
        return "yes (reproducible noise: for tests only)"
    return "no" if seeded is False else "unknown"


@dataclass(frozen=True)
class SpendGroup:
    purpose: str
    mechanism: str
    count: int
    rho: float
    delta: float


def _spends(spends: Iterable[dict[str, Any]]) -> list[SpendGroup]:
    """Spends grouped by purpose pattern (quoted names and trailing counters elided) and
    mechanism, with summed zCDP ρ and δ."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for spend in spends:
        purpose = re.sub(r"'[^']*'|\"[^\"]*\"", "…", str(spend.get("purpose", "")))
        purpose = re.sub(r"\s+\d+$", "", purpose)
        groups.setdefault((purpose, str(spend.get("mechanism", ""))), []).append(spend)
    return [
        SpendGroup(
            purpose,
            mechanism,
            len(members),
            sum(finite_number(s.get("rho")) or 0.0 for s in members),
            sum(finite_number(s.get("delta")) or 0.0 for s in members),
        )
        for (purpose, mechanism), members in groups.items()
    ]
