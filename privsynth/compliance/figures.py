"""The report's figures: self-contained PNGs drawn from aggregates, never from records.

Every figure is drawn with matplotlib's object API on the Agg canvas (no pyplot, so no
global figure registry and no display backend) and returned as a ``data:`` URI, so the
HTML report opens offline. Figures read the typed audit document's aggregates, except
the marginal comparisons, which count the evaluation's discretised real and synthetic
columns under these rules:

* a category (or numeric bin) held by fewer than :data:`MIN_CELL` real rows is merged
  into :data:`SUPPRESSED`; only its count is used, its label never leaves this module;
* numeric columns are shown by quantile-bin index of the real data, never by bin edges
  (edges are order statistics, i.e. real records' values, and the extremes are the
  smallest and largest real values);
* labels present only in the synthetic data are suppressed too (the real count is 0).

A measurement that was skipped (or free-form ``details`` of an unexpected shape) gives no
figure, not an error.
"""

from __future__ import annotations

import base64
import io
import math
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FormatStrFormatter

from privsynth.compliance.policy import finite_number
from privsynth.evaluation.base import clean
from privsynth.evaluation.data import MISSING, EvaluationData

if TYPE_CHECKING:
    from privsynth.compliance.document import AuditDocument
    from privsynth.evaluation.base import MetricResult
    from privsynth.evaluation.result import EvaluationResult

#: categories (and numeric bins) with fewer real rows than this are never named
MIN_CELL = 10
#: the bar that collects every suppressed category
SUPPRESSED = "other (suppressed)"
#: the bar that collects categories beyond :data:`MAX_BARS` (each held by >= MIN_CELL rows)
OVERFLOW = "all other categories"
MISSING_LABEL = "missing"
MAX_MARGINAL_COLUMNS = 8
MAX_BARS = 16
MAX_HEATMAP_COLUMNS = 25
DPI = 110
REAL_COLOUR, SYNTHETIC_COLOUR = "#0072B2", "#E69F00"  # Okabe-Ito: colour-blind safe
ATTACK_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7")
THRESHOLD_COLOUR = "#C0392B"
RISKS = (
    ("singling_out", "Singling out"),
    ("linkability", "Linkability"),
    ("attribute_inference", "Attribute inference"),
)


@dataclass(frozen=True)
class Marginal:
    """One column's real and synthetic shares per shown label (labels passed MIN_CELL)."""

    column: str
    kind: str
    labels: tuple[str, ...]
    real: tuple[float, ...]
    synthetic: tuple[float, ...]


def make_figures(data: EvaluationData, document: AuditDocument) -> dict[str, str]:
    """Figure name -> PNG data URI, for every figure whose inputs were measured.

    Names: ``privacy_risks``, ``membership_roc``, ``dcr_histogram``,
    ``correlation_difference`` and ``marginal/<column>`` (one per shown column)."""
    figures: dict[str, str] = {}
    evaluation = document.evaluation
    with _style():
        built = {
            "privacy_risks": _risk_figure(document),
            "membership_roc": _roc_figure(evaluation),
            "dcr_histogram": _dcr_figure(evaluation),
            "correlation_difference": _correlation_figure(evaluation),
        }
        for name, figure in built.items():
            if figure is not None:
                figures[name] = _to_uri(figure)
        for marginal in marginals(data, evaluation):
            figures[f"marginal/{marginal.column}"] = _to_uri(_marginal_figure(marginal))
    return figures


@contextmanager
def _style() -> Iterator[None]:
    """One house style for the duration only (rcParams are restored afterwards)."""
    with matplotlib.rc_context({
        "font.family": "DejaVu Sans",  # bundled with matplotlib: no system or web fonts
        "font.size": 9,
        "axes.titlesize": 10,
        "axes.labelsize": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "legend.fontsize": 8,
        "legend.frameon": False,
    }):  # fmt: skip
        yield


def _new_figure(width: float, height: float) -> Figure:
    """A figure bound to its own Agg canvas: no pyplot, no GUI backend, fixed size."""
    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _to_uri(figure: Figure) -> str:
    """The figure as a base64 PNG data URI; the figure is cleared afterwards."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # a column name in a script the bundled font lacks draws as boxes: not an error
        warnings.filterwarnings("ignore", message="Glyph .* missing", category=UserWarning)
        figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    figure.clear()
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


# --- reading free-form details defensively (skipped measurements are simply absent) --


def _details(result: MetricResult | None) -> dict[str, Any]:
    """A metric's details in their JSON form (empty when the metric was skipped)."""
    details: dict[str, Any] = clean(result.details) if result is not None else {}
    return details


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _numbers(value: Any) -> list[float] | None:
    """A list of finite numbers, or None if anything in it is not one."""
    if not isinstance(value, list) or not value:
        return None
    found = [finite_number(v) for v in value]
    return None if any(v is None for v in found) else [v for v in found if v is not None]


# --- marginals ------------------------------------------------------------------------


def marginal_columns(data: EvaluationData, evaluation: EvaluationResult) -> list[str]:
    """The columns worth a marginal plot, most important first: the target, sensitive
    columns and quasi-identifiers (what the privacy criteria are about), then the
    features the real-vs-synthetic detector relied on, then the worst-matched columns."""
    inputs = evaluation.inputs
    ordered: list[Any] = [inputs.target or data.target]
    ordered += list(inputs.sensitive or data.sensitive)
    ordered += list(inputs.quasi_identifiers or data.quasi_identifiers)
    features = _details(evaluation.detection.get("detection_auc")).get("top_features")
    ordered += [f.get("column") for f in features or [] if isinstance(f, dict)]
    distances = _mapping(_details(evaluation.fidelity.get("column_distance")).get("columns"))
    ordered += sorted(
        distances, key=lambda c: -(finite_number(_mapping(distances[c]).get("value")) or 0.0)
    )
    ordered += data.columns
    chosen = list(dict.fromkeys(c for c in ordered if isinstance(c, str) and c in data.kinds))
    return chosen[:MAX_MARGINAL_COLUMNS]


def marginals(data: EvaluationData, evaluation: EvaluationResult) -> list[Marginal]:
    """The suppressed marginal tables that the figures plot (exposed for tests)."""
    columns = marginal_columns(data, evaluation)
    if not columns:
        return []
    real = data.discretised(data.real)
    synthetic = data.discretised(data.synthetic)
    return [_marginal(data, column, real[column], synthetic[column]) for column in columns]


def _marginal(data: EvaluationData, column: str, real: pd.Series, synthetic: pd.Series) -> Marginal:
    """Shares per label that at least MIN_CELL real rows hold; the rest merged, unnamed."""
    kind = data.kinds[column]
    real_counts, synthetic_counts = real.value_counts(), synthetic.value_counts()
    kept = _order([str(k) for k, n in real_counts.items() if n >= MIN_CELL], kind, real_counts)
    shown, overflow = kept[:MAX_BARS], kept[MAX_BARS:]
    groups = [([label], _display(label, kind)) for label in shown]
    if overflow:
        groups.append((overflow, OVERFLOW))
    labels = [name for _, name in groups]
    real_shares = [_count(real_counts, members) / len(real) for members, _ in groups]
    synthetic_shares = [_count(synthetic_counts, members) / len(synthetic) for members, _ in groups]
    real_rest = len(real) - _count(real_counts, kept)
    synthetic_rest = len(synthetic) - _count(synthetic_counts, kept)
    if real_rest or synthetic_rest:
        labels.append(SUPPRESSED)
        real_shares.append(real_rest / len(real))
        synthetic_shares.append(synthetic_rest / len(synthetic))
    return Marginal(column, kind, tuple(labels), tuple(real_shares), tuple(synthetic_shares))


def _count(counts: pd.Series, members: Sequence[str]) -> int:
    """Rows holding any of ``members`` (labels are the discretised strings)."""
    return int(counts[counts.index.isin(list(members))].sum())


def _order(labels: list[str], kind: str, counts: pd.Series) -> list[str]:
    """Numeric bins low to high (missing last); categories by real frequency."""
    if kind == "numeric":
        bins = sorted((label for label in labels if label != MISSING), key=int)
        return bins + [label for label in labels if label == MISSING]
    return sorted(labels, key=lambda label: (-int(counts[label]), label))


def _display(label: str, kind: str) -> str:
    """Numeric bins by index (1 = lowest real-data quantile bin), never by edge value."""
    if label == MISSING:
        return MISSING_LABEL
    return str(int(label) + 1) if kind == "numeric" else label


def _marginal_figure(marginal: Marginal) -> Figure:
    """Grouped bars: numeric bins left to right, categories as horizontal bars."""
    figure = _new_figure(6.0, 3.6)
    axes = figure.add_subplot()
    positions = np.arange(len(marginal.labels))
    width = 0.4
    if marginal.kind == "numeric":
        axes.bar(positions - width / 2, marginal.real, width, label="real", color=REAL_COLOUR)
        axes.bar(positions + width / 2, marginal.synthetic, width, label="synthetic",
                 color=SYNTHETIC_COLOUR)  # fmt: skip
        axes.set_xticks(positions, marginal.labels, rotation=30 if len(positions) > 10 else 0,
                        ha="right" if len(positions) > 10 else "center")  # fmt: skip
        axes.set_xlabel("quantile bin of the real data (1 = lowest)")
        axes.set_ylabel("share of rows")
    else:
        axes.barh(positions - width / 2, marginal.real, width, label="real", color=REAL_COLOUR)
        axes.barh(positions + width / 2, marginal.synthetic, width, label="synthetic",
                  color=SYNTHETIC_COLOUR)  # fmt: skip
        axes.set_yticks(positions, [_shorten(label) for label in marginal.labels])
        axes.invert_yaxis()
        axes.set_xlabel("share of rows")
        if _skewed(marginal):
            axes.set_xscale("log")
            axes.xaxis.set_major_formatter(FormatStrFormatter("%g"))
            axes.set_xlabel("share of rows (log scale: a few categories dominate)")
    axes.set_title(f"{_shorten(marginal.column, 40)}: real vs synthetic")
    axes.legend(loc="best")
    return figure


def _skewed(marginal: Marginal) -> bool:
    """Whether linear bars would hide the typical category next to a dominant one."""
    shares = sorted(share for share in marginal.real if share > 0)
    return len(shares) > 2 and shares[-1] / shares[len(shares) // 2] > 50


def _shorten(text: str, limit: int = 28) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- correlations -------------------------------------------------------------------


def _correlation_figure(evaluation: EvaluationResult) -> Figure | None:
    """Heatmap of |real - synthetic| pairwise association (Pearson, Cramér's V, η)."""
    details = _details(evaluation.fidelity.get("correlation_difference"))
    difference = _mapping(details.get("difference"))
    columns = [str(c) for c in difference][:MAX_HEATMAP_COLUMNS]
    if len(columns) < 2:
        return None
    matrix = np.array(
        [[finite_number(_mapping(difference[a]).get(b)) for b in columns] for a in columns],
        dtype=np.float64,
    )  # None -> nan: drawn blank
    matrix = np.abs(matrix)
    top = float(np.nanmax(matrix)) if np.isfinite(matrix).any() else 0.0
    size = min(4.0 + 0.28 * len(columns), 9.0)
    figure = _new_figure(size + 1.2, size)
    axes = figure.add_subplot()
    image = axes.imshow(matrix, cmap="Reds", vmin=0.0, vmax=max(0.25, top), aspect="equal")
    ticks = np.arange(len(columns))
    labels = [_shorten(c, 20) for c in columns]
    axes.set_xticks(ticks, labels, rotation=60, ha="right", rotation_mode="anchor")
    axes.set_yticks(ticks, labels)
    axes.spines[:].set_visible(False)
    if len(columns) <= 12:
        _annotate(axes, matrix, max(0.25, top))
    figure.colorbar(image, ax=axes, shrink=0.8, label="|real − synthetic| association")
    axes.set_title("Pairwise association: difference between real and synthetic")
    return figure


def _annotate(axes: Axes, matrix: np.ndarray[Any, np.dtype[np.float64]], top: float) -> None:
    """Cell values, in white on dark cells so they stay legible."""
    for (row, col), value in np.ndenumerate(matrix):
        if math.isfinite(value) and row != col:
            colour = "white" if value > 0.6 * top else "black"
            axes.text(col, row, f"{value:.2f}", ha="center", va="center", fontsize=7,
                      color=colour)  # fmt: skip


# --- privacy --------------------------------------------------------------------------


def _dcr_figure(evaluation: EvaluationResult) -> Figure | None:
    """Distances from each synthetic row to its closest training and holdout row."""
    histogram = _mapping(_details(evaluation.diversity.get("dcr")).get("histogram"))
    edges = _numbers(histogram.get("edges"))
    train, holdout = _numbers(histogram.get("train")), _numbers(histogram.get("holdout"))
    if edges is None or train is None or holdout is None:
        return None
    if not len(train) == len(holdout) == len(edges) - 1 or sum(train) <= 0 or sum(holdout) <= 0:
        return None
    figure = _new_figure(6.0, 3.4)
    axes = figure.add_subplot()
    axes.stairs(np.array(train) / sum(train), edges, label="to training rows",
                color=REAL_COLOUR, linewidth=1.8)  # fmt: skip
    axes.stairs(np.array(holdout) / sum(holdout), edges, label="to holdout rows",
                color=SYNTHETIC_COLOUR, linewidth=1.8, linestyle="--")  # fmt: skip
    axes.set_xlabel("distance to the closest record (scaled units)")
    axes.set_ylabel("share of synthetic rows")
    axes.set_title("Distance to closest record: training vs holdout")
    axes.legend(loc="best")
    return figure


def _roc_figure(evaluation: EvaluationResult) -> Figure | None:
    """Membership-inference ROC curves, linear and log-log (the low-FPR regime)."""
    membership = evaluation.membership
    curves = []
    for name, attack in membership.attacks.items() if membership is not None else ():
        fpr, tpr = _numbers(list(attack.roc.fpr)), _numbers(list(attack.roc.tpr))
        if fpr is not None and tpr is not None and len(fpr) == len(tpr) >= 2:
            curves.append((name, fpr, tpr, finite_number(attack.auc)))
    if not curves:
        return None
    figure = _new_figure(9.0, 3.8)
    linear, logarithmic = figure.subplots(1, 2)
    for index, (name, fpr, tpr, auc) in enumerate(curves):
        label = f"{name} (AUC {auc:.3f})" if auc is not None else name
        colour = ATTACK_COLOURS[index % len(ATTACK_COLOURS)]
        linear.plot(fpr, tpr, label=label, color=colour, linewidth=1.6)
        points = [(f, t) for f, t in zip(fpr, tpr, strict=True) if f > 0 and t > 0]
        if points:
            logarithmic.plot(*zip(*points, strict=True), label=label, color=colour, linewidth=1.6)
    for axes, low in ((linear, 0.0), (logarithmic, 1e-3)):
        axes.plot([low, 1], [low, 1], color="grey", linestyle=":", label="chance")
        axes.set_xlabel("false-positive rate")
        axes.set_ylabel("true-positive rate")
    linear.set(xlim=(0, 1), ylim=(0, 1), title="Membership inference ROC")
    logarithmic.set(xscale="log", yscale="log", xlim=(1e-3, 1), ylim=(1e-3, 1),
                    title="Low false-positive region (log-log)")  # fmt: skip
    for axis in (logarithmic.xaxis, logarithmic.yaxis):
        axis.set_major_formatter(FormatStrFormatter("%g"))  # 0.001, not mathtext 10^-3
    linear.legend(loc="lower right")
    return figure


def _risk_figure(document: AuditDocument) -> Figure | None:
    """Each WP29 risk with its 95% interval and the thresholds policies set for it."""
    rows = []
    for key, label in RISKS:
        risk = document.evaluation.risk(key)
        if risk is None:
            continue
        value, interval = finite_number(risk.risk), _numbers(list(risk.ci))
        if value is not None and interval is not None and len(interval) == 2:
            rows.append((label, value, interval, _thresholds(document, key)))
    if not rows:
        return None
    figure = _new_figure(6.0, 1.5 + 0.6 * len(rows))
    axes = figure.add_subplot()
    right = max(*(row[2][1] for row in rows), *(t for row in rows for t in row[3]), 0.1)
    for index, (_, value, (low, high), thresholds) in enumerate(rows):
        error = [[max(value - low, 0.0)], [max(high - value, 0.0)]]
        axes.errorbar([value], [index], xerr=error, fmt="o", color=REAL_COLOUR, capsize=4,
                      label="risk, 95% interval" if index == 0 else "_nolegend_")  # fmt: skip
        axes.annotate(f"{value:.3f} [{low:.3f}, {high:.3f}]", (high, index), xytext=(6, 6),
                      textcoords="offset points", fontsize=8)  # fmt: skip
        for threshold in thresholds:
            label = "policy threshold" if index == 0 else "_nolegend_"
            axes.vlines(threshold, index - 0.35, index + 0.35, color=THRESHOLD_COLOUR,
                        linewidth=2, label=label)  # fmt: skip
    axes.set_yticks(range(len(rows)), [row[0] for row in rows])
    axes.set_xlim(-0.02 * right, right * 1.3)
    axes.set_ylim(len(rows) - 0.5, -0.5)
    axes.set_xlabel("risk (excess attack success on training over holdout records)")
    axes.set_title("Re-identification risks (anonymeter method)")
    figure.legend(loc="outside lower center", ncols=2)
    return figure


def _thresholds(document: AuditDocument, key: str) -> list[float]:
    """Distinct thresholds that the judged policies apply to this risk."""
    found = {
        criterion.threshold
        for policy in document.policies
        for criterion in policy.criteria
        if criterion.metric.startswith(f"privacy/{key}/") and math.isfinite(criterion.threshold)
    }
    return sorted(found)
