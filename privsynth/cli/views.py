"""Console summaries of fitting, sampling and lineage (aggregates and ledger facts only)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.table import Table

from privsynth.cli import console
from privsynth.cli.flags import for_cli
from privsynth.dp.ledger import Ledger

if TYPE_CHECKING:
    from privsynth.synthesis import FitRecord, FitReport, RunLineage, SampleReport


def _print_rows(title: str, rows: list[tuple[str, str]]) -> None:
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    for key, value in rows:
        table.add_row(key, value)
    console.out.print(table)


def fit_summary(report: FitReport, model: Path, ledger: Ledger) -> None:
    """What the fit spent and where the model went."""
    record = report.record
    rows = [
        ("model", str(model)),
        ("generator", report.generator_line),
        ("dataset", record.dataset),
        ("run id", record.run_id),
        ("ε spent by this run", console.spent_text(record)),
        *([("ε split", report.split_line() or "")] if report.epsilon_split else []),
        ("privacy unit", record.unit.describe()),
        ("dataset budget", report.status.describe()),
        ("ledger", str(ledger.path)),
        ("time", f"{report.seconds:.1f} s"),
    ]
    rows += [(f"not modelled: {name}", why) for name, why in report.unmodelled().items()]
    rows.append(("next", f"privsynth sample {model} -n ROWS -o synthetic.csv (spends nothing)"))
    _print_rows("privsynth fit", rows)


def sample_summary(record: FitRecord, report: SampleReport, rows: int, ledger: Ledger) -> None:
    """Rows drawn, the run that paid for the model, and whether the output was linked."""
    linked = "linked to the run" if report.recorded else "not linked (the run is not in it)"
    lines = [
        ("output", str(report.output)),
        ("rows", f"{rows:,}"),
        ("ε spent by this draw", "0 (post-processing of a DP model)"),
        ("model's run", f"{record.run_id} ({record.dataset}, {console.spent_text(record)})"),
        ("ledger", f"{ledger.path}: {linked}"),
    ]
    if report.suppressed.rows_with_other:
        lines.append(("suppressed categories", for_cli(report.suppressed.describe(rows))))
    if report.constraints is not None:
        lines.append(("constraints", report.constraints.describe()))
    _print_rows("privsynth sample", lines)


def lineage_table(found: list[RunLineage], subject: str, ledger: Ledger) -> None:
    """One row per run and per file made from it."""
    if not found:
        console.out.print(f"no run in the ledger {ledger.path} read {subject}")
        return
    table = Table(title=f"lineage of {subject} [ledger {ledger.path}]", title_justify="left")
    for header in ("run id", "dataset", "status", "created (UTC)", "ε", "made", "path"):
        table.add_column(header)
    for item in found:
        run = item.run
        first = (run["run_id"][:12], run["dataset"], run["status"], run["created_at"])
        epsilon = f"{run['epsilon']:g}"
        if not item.artifacts:
            table.add_row(*first, epsilon, "-", "-")
        for artifact in item.artifacts:
            table.add_row(*first, epsilon, artifact["kind"], artifact["path"])
            first = ("", "", "", "")
            epsilon = ""
    console.out.print(table)
