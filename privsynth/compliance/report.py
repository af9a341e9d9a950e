"""Writing an audit to a folder: ``report.json`` (machine-readable, docs/compliance.md)
and ``report.html`` (one self-contained file with figures, opens offline)."""

from __future__ import annotations

from pathlib import Path

from privsynth.compliance.document import AuditDocument
from privsynth.evaluation.data import EvaluationData
from privsynth.io import atomic_path


def write_report(
    document: AuditDocument, data: EvaluationData, directory: str | Path
) -> tuple[Path, Path]:
    """Write both files atomically; return their paths."""
    from privsynth.compliance.figures import make_figures
    from privsynth.compliance.html import render_html

    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    json_path, html_path = folder / "report.json", folder / "report.html"
    with atomic_path(json_path) as temp:
        temp.write_text(document.to_json(), encoding="utf-8")
    html = render_html(document, make_figures(data, document))
    with atomic_path(html_path) as temp:
        temp.write_text(html, encoding="utf-8")
    return json_path, html_path
