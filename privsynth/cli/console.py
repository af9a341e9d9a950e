"""Console output: a live progress display and summaries (rich), on stderr/stdout."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from privsynth.cli.flags import for_cli
from privsynth.dp.ledger import BudgetStatus, Ledger

if TYPE_CHECKING:
    from pathlib import Path

    from privsynth.compliance.document import AuditDocument
    from privsynth.evaluation.base import RiskResult
    from privsynth.evaluation.result import EvaluationResult
    from privsynth.pii.scrub import ScrubReport
    from privsynth.synthesis import FitRecord, SynthesisResult
    from privsynth.synthesis.records import FitReport

out = Console()
err = Console(stderr=True)
for _console in (out, err):
    if not _console.is_terminal:  # logs and pipes: do not wrap at 80 columns
        _console.width = 200


@contextmanager
def progress_display(enabled: bool = True) -> Iterator[Callable[[str], None]]:
    """A callback that shows each pipeline step with a spinner and elapsed time; the
    display disappears when the run ends, so an error stays a single line."""
    if not enabled:
        yield lambda _: None
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        current: list[TaskID] = []

        def step(description: str) -> None:
            if current:
                bar.update(current[-1], completed=1, total=1)
            current.append(bar.add_task(description, total=None))

        yield step
        if current:
            bar.update(current[-1], completed=1, total=1)


def warn(message: str) -> None:
    err.print(f"[yellow]warning:[/] {message}", highlight=False, soft_wrap=True)


def synthesis_summary(result: SynthesisResult, ledger: Ledger) -> None:
    """Rows, epsilon spent, epsilon remaining, time, and where things were written."""
    table = Table(title="privsynth synthesize", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    rows = [
        ("output", str(result.output) if result.output else "(not written)"),
        ("rows", f"{len(result.data):,}"),
        ("generator", result.fit.generator_line),
        ("dataset", result.dataset),
        ("run id", result.run_id),
        ("ε spent by this run", spent_text(result.fit.record)),
        *_split_rows(result.fit),
        ("privacy unit", result.privacy_unit.describe()),
        ("domain discovery", _discovery_line(result)),
        ("dataset budget", _budget_line(result.status)),
        ("ledger", str(ledger.path)),
        ("time", f"{result.seconds:.1f} s"),
    ]
    if result.suppressed and result.suppressed.rows_with_other:
        rows.append(
            ("suppressed categories", for_cli(result.suppressed.describe(len(result.data))))
        )
    for name, reason in result.unmodelled().items():
        rows.append((f"not modelled: {name}", reason))
    for key, value in rows:
        table.add_row(key, value)
    out.print(table)


def _split_rows(report: FitReport) -> list[tuple[str, str]]:
    """The table/text split of a run with a text column (none otherwise)."""
    line = report.split_line()
    return [] if line is None else [("ε split", line)]


def spent_text(record: FitRecord) -> str:
    """The ε a run spent against its target (∞, loudly, for a seeded run or a baseline
    generator without a formal privacy guarantee)."""
    if not record.private:
        return (
            f"∞: NOT PRIVATE (no formal privacy guarantee: baseline generator "
            f"{record.generator}; not for release; target was {record.epsilon:g})"
        )
    if math.isinf(record.spent_epsilon):
        return f"∞: NOT PRIVATE (seeded noise; target was {record.epsilon:g})"
    return f"{record.spent_epsilon:.4g} (target {record.epsilon:g}, δ={record.delta:g})"


def _discovery_line(result: SynthesisResult) -> str:
    if not result.discovery.columns:
        return "none (the schema declared every domain)"
    return (
        f"{len(result.discovery.columns)} columns discovered with DP, "
        f"ε={result.discovery_epsilon:.3g} of the run's ε on its own"
    )


def _budget_line(status: BudgetStatus) -> str:
    default = " [default budget: set one with `privsynth budget set`]" * status.budget.is_default
    return status.describe() + default


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "∞" if math.isinf(value) else f"{value:.4g}"
    return str(value)


def budget_table(ledger: Ledger, datasets: list[str]) -> None:
    """One row per dataset: budget, spent, remaining, runs."""
    table = Table(title=f"privacy ledger {ledger.path}", title_justify="left")
    headers = ("dataset", "ε budget", "δ budget", "ε spent", "ε remaining", "unit", "runs")
    for header in headers:
        table.add_column(header)
    for dataset in datasets:
        status = ledger.status(dataset)
        runs = ledger.runs(dataset)
        budget = f"{status.budget.epsilon:g}" + (" (default)" if status.budget.is_default else "")
        table.add_row(
            dataset,
            budget,
            f"{status.budget.delta:g}",
            _fmt(status.spent_epsilon),
            _fmt(status.remaining_epsilon),
            status.budget.privacy_unit or "row",
            str(len(runs)),
        )
    out.print(table)
    if ledger.requires_registration:
        out.print("this ledger refuses datasets without a budget (require_registered)")


def runs_table(ledger: Ledger, dataset: str, spends: bool) -> None:
    """The runs of one dataset and, optionally, every itemised spend."""
    table = Table(title=f"runs of {dataset!r}", title_justify="left")
    headers = ("started (UTC)", "run id", "status", "generator", "ε target", "δ", "unit", "spends")
    for header in headers:
        table.add_column(header)
    items = ledger.spends(dataset)
    for run in ledger.runs(dataset):
        count = sum(1 for s in items if s["run_id"] == run["run_id"])
        table.add_row(
            run["created_at"],
            run["run_id"][:12],
            run["status"],
            run["generator"],
            _fmt(run["epsilon"]),
            f"{run['delta']:g}",
            _run_unit(run),
            str(count),
        )
    out.print(table)
    if spends:
        _spends_table(items)


def _run_unit(run: dict[str, Any]) -> str:
    if not run.get("privacy_unit"):
        return "row"
    return f"{run['privacy_unit']} (≤{run.get('max_rows_per_unit')} rows)"


def _spends_table(items: list[dict[str, Any]]) -> None:
    table = Table(title="spends", title_justify="left")
    for header in ("time (UTC)", "run id", "purpose", "mechanism", "parameters", "ρ (zCDP)", "δ"):
        table.add_column(header)
    for item in items:
        table.add_row(
            item["created_at"],
            item["run_id"][:12],
            item["purpose"],
            item["mechanism"],
            item["params"],
            _fmt(item["rho"]),
            f"{item['delta']:g}",
        )
    out.print(table)


def ledger_json(ledger: Ledger, datasets: list[str]) -> None:
    """Budgets, composed spend, runs and itemised spends as JSON (for pipelines and audits)."""
    document = []
    for dataset in datasets:
        status = ledger.status(dataset)
        document.append(
            {
                "dataset": dataset,
                "budget": {
                    "epsilon": status.budget.epsilon,
                    "delta": status.budget.delta,
                    "default": status.budget.is_default,
                    "privacy_unit": status.budget.privacy_unit,
                },
                "spent_epsilon": status.spent_epsilon,
                "remaining_epsilon": status.remaining_epsilon,
                "runs": ledger.runs(dataset),
                "spends": ledger.spends(dataset),
            }
        )
    out.print_json(json.dumps(document, default=str))


def scrub_summary(report: ScrubReport, output: Path, report_path: Path) -> None:
    """Counts per entity type and what happened to each column (never values)."""
    data = report.to_dict()
    table = Table(title=f"privsynth scrub -> {output}", title_justify="left")
    table.add_column("entity")
    table.add_column("found", justify="right")
    for entity, count in sorted(data["total"].items(), key=lambda item: -item[1]):
        table.add_row(entity, str(count))
    out.print(table)
    for column in data["columns"]:
        if column["role"] != "other" or column["action"] != "kept":
            out.print(f"  {column['column']}: {column['role']} -> {column['action']}")
    for note in data["notes"]:
        warn(note)
    out.print(f"report: {report_path}  ({data['records']} records, policy {data['policy']})")


def _number_line(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:.4g}"


def _risk_line(risk: RiskResult | None) -> str:
    if risk is None or not math.isfinite(risk.risk):
        return "-"
    low, high = risk.ci
    return f"{risk.risk:.3f} [{low:.3f}, {high:.3f}]"


def evaluation_summary(document: EvaluationResult, output: Path) -> None:
    """The headline figures of an evaluation."""
    table = Table(title=f"privsynth evaluate -> {output}", title_justify="left")
    for header in ("measure", "value"):
        table.add_column(header)
    membership = document.membership
    rows = [
        ("mean 2-way marginal TVD", document.metric("marginal_tvd_2way")),
        ("TSTR (AUC or R²)", document.metric("tstr")),
        ("real-vs-synthetic detection AUC", document.metric("detection_auc")),
        ("exact copies of training rows", document.metric("exact_copy_rate")),
    ]
    for name, result in rows:
        table.add_row(name, _number_line(result.value if result is not None else None))
    table.add_row("membership inference AUC", _number_line(membership.auc if membership else None))
    table.add_row("singling-out risk [95% CI]", _risk_line(document.risk("singling_out")))
    table.add_row("linkability risk [95% CI]", _risk_line(document.risk("linkability")))
    table.add_row(
        "attribute-inference risk [95% CI]", _risk_line(document.risk("attribute_inference"))
    )
    out.print(table)
    for name, reason in document.skipped.items():
        warn(f"{name} skipped: {reason}")


def audit_summary(document: AuditDocument, html_path: Path, json_path: Path) -> None:
    """Each policy's verdict and its failed criteria."""
    for policy in document.policies:
        verdict = "[green]PASSED[/]" if policy.passed else "[red]FAILED[/]"
        out.print(f"{verdict} {policy.title}")
        for criterion in (c for c in policy.criteria if not c.passed):
            shown = "not measured" if criterion.value is None else f"{criterion.value:.4g}"
            bound = "<=" if criterion.direction == "max" else ">="
            out.print(f"    {criterion.id}: {shown} (needs {bound} {criterion.threshold:g})")
            if criterion.note:
                out.print(f"      {criterion.note}", style="dim")
        if policy.requires_expert_signature:
            out.print("    an expert must still review and sign this determination")
    out.print(f"report: {html_path}  json: {json_path}")
