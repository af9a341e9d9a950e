"""Score text scrubbers on REAL ICU nursing notes: PHI leaked vs non-PHI words kept (issue 11).

Data: ``/work/shared/data/clinical_notes_phi_dev/nursing_notes_phi_dev.jsonl`` (984 notes,
780 gold spans, GPL-2.0), read in place and never copied here. Metric: the leak measure of
its SOURCE.md, implemented in ``clinical_real_metric.py`` (case-insensitive whole-token
leaks; see there). Result files hold aggregates only; ``--errors N`` prints leaked spans
with context to the terminal and nowhere else. Target: recall >= 0.97, words kept >= 0.95.

Systems (comma-separated in ``--systems``):

* ``vanilla``: Presidio ``AnalyzerEngine`` on the offline spaCy sm model, default entities,
  one text at a time; each detected span (overlaps merged) becomes ``<TYPE>``;
* ``privsynth``: ``Scrubber(ScrubConfig(operator="tag")).scrub_texts``;
* ``privsynth-safe-harbor``: the same with ``policy="hipaa-safe-harbor"``;
* either privsynth system with ``:key=value`` options, passed to ``ScrubConfig`` or
  ``DetectorConfig`` (whichever has the field; tuples as ``a+b``), e.g.
  ``privsynth:mode=high_recall`` or ``privsynth:threshold=0.3:n_process=4``;
* ``philter``: philter-lite 0.6.0 (anchor only, its own venv), run by ``philter_anchor.py``
  in this same run when ``/tmp/philter-cache/<case>/`` holds no output for these notes yet
  (else read from there); timed-out notes count as not scrubbed.

Reproduce the result files (from the repository root; philter-lite runs inside the same
command, ~5-30 min per case, the first time)::

    for case in as-is upper lower; do
      .venv/bin/python benchmarks/pii/clinical_real.py --case $case --repeat 3 \\
          --systems all \\
          --out benchmarks/pii/results/clinical_real_$case.json
    done

``all`` is vanilla, ``privsynth:mode=precise``, ``privsynth:mode=high_recall``,
``privsynth-safe-harbor`` and ``philter``. Any one row: the same command with
``--systems <that system>``. Also reachable as
``benchmarks/pii/evaluate.py --dataset clinical-real [these options]``. Metric self-checks:
``.venv/bin/python -m doctest benchmarks/pii/clinical_real_metric.py``.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from clinical_real_data import CASES, NOTES, Case, Note, data_digest, load_notes, recase_all
from clinical_real_metric import ENTITY_TYPES, NoteScore, Tally, score_note, target, token_pattern

Scrub = Callable[[Sequence[str]], list[str]]
WARM_UP_TEXT = "Pt seen by Dr. Smith on 7/22, transferred from Boston; call pager 555-1234."
PRIVSYNTH_POLICIES = {"privsynth": "none", "privsynth-safe-harbor": "hipaa-safe-harbor"}
SYSTEMS = ("vanilla", *PRIVSYNTH_POLICIES, "philter")
DEFAULT_SYSTEMS = "vanilla,privsynth,privsynth-safe-harbor"
#: ``--systems all``: the anchors and every privsynth mode, in one run
ALL_SYSTEMS = (
    "vanilla,privsynth:mode=precise,privsynth:mode=high_recall,privsynth-safe-harbor,philter"
)
SHORT = {"RelativeProxyName": "RelProxyName"}


@dataclass(frozen=True)
class System:
    """A ready scrubber and the settings it runs with (recorded in the results)."""

    scrub: Scrub
    settings: dict[str, Any]


@dataclass(frozen=True)
class SystemSpec:
    """``base:key=value:...`` from the command line; ``label`` is the full spec."""

    label: str
    base: str
    options: dict[str, str]


def parse_system(spec: str) -> SystemSpec:
    """Split a system spec into its base name and options."""
    base, *pairs = spec.strip().split(":")
    if base not in SYSTEMS:
        raise SystemExit(f"unknown system {base!r}; choose from {', '.join(SYSTEMS)}")
    options: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"system option {pair!r} in {spec!r} is not key=value")
        options[key] = value
    if options and base not in PRIVSYNTH_POLICIES:
        raise SystemExit(f"{base!r} takes no options (only privsynth systems do)")
    return SystemSpec(spec.strip(), base, options)


# ------------------------------------------------------------------ vanilla Presidio


def tag_spans(text: str, results: Sequence[Any]) -> str:
    """``text`` with each detected span replaced by ``<TYPE>``; overlapping detections are
    merged into one span, typed by its highest-scoring (then longest) member."""
    ordered = sorted((r for r in results if r.end > r.start), key=lambda r: (r.start, -r.end))
    merged: list[tuple[int, int, Any]] = []
    for r in ordered:
        if merged and r.start < merged[-1][1]:
            start, end, best = merged[-1]
            if (r.score, r.end - r.start) > (best.score, best.end - best.start):
                best = r
            merged[-1] = (start, max(end, r.end), best)
        else:
            merged.append((r.start, r.end, r))
    pieces, position = [], 0
    for start, end, best in merged:
        pieces += [text[position:start], f"<{best.entity_type}>"]
        position = end
    return "".join([*pieces, text[position:]])


def vanilla_scrub() -> System:
    """Presidio one text at a time (``presidio_engine`` of evaluate.py)."""
    from evaluate import SPACY_MODEL, presidio_engine

    engine = presidio_engine()

    def scrub(texts: Sequence[str]) -> list[str]:
        return [tag_spans(text, engine.analyze(text=text, language="en")) for text in texts]

    return System(scrub, {"engine": "AnalyzerEngine", "model": SPACY_MODEL})


# ------------------------------------------------------------------ privsynth


def _convert(value: str, default: Any) -> Any:
    """A command-line string as the type of the field's default."""
    if isinstance(default, bool):
        if value.lower() not in ("true", "false", "1", "0"):
            raise SystemExit(f"expected true/false, got {value!r}")
        return value.lower() in ("true", "1")
    if isinstance(default, int | float):
        return type(default)(value)
    if isinstance(default, tuple):
        return tuple(v for v in value.split("+") if v)
    return value


def _field_defaults(cls: type) -> dict[str, Any]:
    """Field name -> default value (None when it has none) of a dataclass."""
    defaults = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            defaults[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            defaults[f.name] = f.default_factory()
        else:
            defaults[f.name] = None
    return defaults


def split_options(
    options: dict[str, str], scrub_cls: type, detector_cls: type
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Options as (ScrubConfig kwargs, DetectorConfig kwargs); unknown keys fail clearly."""
    scrub_fields, detector_fields = _field_defaults(scrub_cls), _field_defaults(detector_cls)
    scrub_fields.pop("detector", None)
    scrub_kwargs, detector_kwargs = {}, {}
    for key, value in options.items():
        if key in scrub_fields:
            scrub_kwargs[key] = _convert(value, scrub_fields[key])
        elif key in detector_fields:
            detector_kwargs[key] = _convert(value, detector_fields[key])
        else:
            known = ", ".join(sorted({*scrub_fields, *detector_fields}))
            raise SystemExit(
                f"option {key!r} is neither a ScrubConfig nor a DetectorConfig field "
                f"in this privsynth (fields: {known})"
            )
    return scrub_kwargs, detector_kwargs


def privsynth_scrub(policy: str, options: dict[str, str]) -> System:
    """privsynth's text scrubber with the tag operator (imported only when asked for)."""
    from evaluate import offline_presidio

    offline_presidio()
    from privsynth.errors import ConfigurationError
    from privsynth.pii.engine import DetectorConfig
    from privsynth.pii.scrub import Scrubber, ScrubConfig, ScrubReport

    scrub_kwargs, detector_kwargs = split_options(options, ScrubConfig, DetectorConfig)
    try:
        detector = DetectorConfig(**detector_kwargs)
        config = ScrubConfig(
            **{"operator": "tag", "policy": policy, **scrub_kwargs, "detector": detector}
        )
    except (ConfigurationError, TypeError, ValueError) as exc:
        raise SystemExit(f"invalid privsynth options {options}: {exc}") from None
    scrubber = Scrubber(config)

    def scrub(texts: Sequence[str]) -> list[str]:
        return list(scrubber.scrub_texts(texts, ScrubReport(config.policy, config.operator)))

    return System(scrub, {**_scalars(config), **_scalars(config.detector)})


def _scalars(config: Any) -> dict[str, Any]:
    """A config dataclass's scalar fields (its resolved settings, e.g. the default mode)."""
    return {
        f.name: getattr(config, f.name)
        for f in dataclasses.fields(config)
        if isinstance(getattr(config, f.name), str | int | float | bool)
    }


def make_scrub(spec: SystemSpec) -> System:
    """The scrub function of a (non-philter) system."""
    if spec.base == "vanilla":
        return vanilla_scrub()
    return privsynth_scrub(PRIVSYNTH_POLICIES[spec.base], spec.options)


def timed_scrub(scrub: Scrub, texts: Sequence[str], repeat: int) -> tuple[list[str], list[float]]:
    """Outputs and wall seconds of ``repeat`` passes, after one warm-up call."""
    scrub([WARM_UP_TEXT])
    outputs: list[str] = []
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        outputs = scrub(list(texts))
        timings.append(time.perf_counter() - started)
    return outputs, timings


# ------------------------------------------------------------------ philter (cached)


def philter_outputs(notes: Sequence[Note], case: Case) -> tuple[list[str], dict[str, Any]]:
    """philter's cached outputs (timed-out notes unscrubbed) and its timing summary."""
    from philter_anchor import PHILTER_PYTHON, cache_dir, load_cache, run

    cached = load_cache(case, data_digest())
    if cached is None and PHILTER_PYTHON.exists():  # run the anchor now, in its own venv
        print(f"philter: no cache for --case {case}; running philter-lite (~5-30 min)")
        run(case, timeout=60.0)
        cached = load_cache(case, data_digest())
    if cached is None:
        raise SystemExit(
            f"no philter cache for --case {case} in {cache_dir(case)} and no philter venv at "
            f"{PHILTER_PYTHON}; see benchmarks/pii/philter_anchor.py for its set-up"
        )
    missing = [note.name for note in notes if note.name not in cached.outputs]
    if missing:
        raise SystemExit(f"philter cache {cache_dir(case)} lacks {len(missing)} notes")
    outputs = [cached.outputs[note.name] for note in notes]
    timed_out = sum(output is None for output in outputs)
    seconds = sum(cached.seconds[note.name] for note in notes)
    ok = [n for n, out in zip(notes, outputs, strict=True) if out is not None]
    ok_seconds = sum(cached.seconds[note.name] for note in ok)
    print(f"philter: read from cache {cache_dir(case)} (finished {cached.manifest['finished']})")
    info = {
        "source": f"cache {cache_dir(case)}",
        "timed_out_notes": timed_out,
        "timeout_s": cached.manifest["timeout_s"],
        "seconds": seconds,
        "wall_seconds_incl_loads": cached.manifest["wall_seconds"],
        "chars_per_second_completed_notes": (
            sum(len(n.text) for n in ok) / ok_seconds if ok_seconds else None
        ),
        "philter_lite": cached.manifest["philter_lite"],
    }
    texts = [out if out is not None else n.text for n, out in zip(notes, outputs, strict=True)]
    return texts, info


# ------------------------------------------------------------------ scoring and output


def score_all(notes: Sequence[Note], outputs: Sequence[str]) -> tuple[Tally, list[NoteScore]]:
    """Per-note scores and their sum."""
    tally, scores = Tally(), []
    for note, output in zip(notes, outputs, strict=True):
        scores.append(score_note(note.text, note.spans, output))
        tally.add(scores[-1])
    return tally, scores


def run_system(
    spec: SystemSpec, notes: Sequence[Note], case: Case, repeat: int
) -> tuple[dict[str, Any], list[str], list[NoteScore]]:
    """Scrub, time and score one system: (aggregate report, outputs, per-note scores)."""
    characters = sum(len(note.text) for note in notes)
    if spec.base == "philter":
        outputs, extra = philter_outputs(notes, case)
        seconds = extra["seconds"]
    else:
        system = make_scrub(spec)
        outputs, timings = timed_scrub(system.scrub, [n.text for n in notes], repeat)
        seconds = statistics.median(timings)
        extra = {"timings": timings, "seconds": seconds, "settings": system.settings}
    tally, scores = score_all(notes, outputs)
    report = tally.report()
    report["chars_per_second"] = characters / seconds if seconds else None
    report.update(extra)
    return report, outputs, scores


def _context(text: str, start: int, end: int, width: int = 40) -> str:
    """``text[start:end]`` in brackets with ``width`` characters either side, one line."""
    left, right = text[max(0, start - width) : start], text[end : end + width]
    return f"...{left}[{text[start:end]}]{right}...".replace("\n", " ")


def print_leaks(
    label: str,
    notes: Sequence[Note],
    outputs: Sequence[str],
    scores: Sequence[NoteScore],
    count: int,
) -> None:
    """Up to ``count`` leaked spans (seeded sample): gold context, then where it remains."""
    leaks = [
        (note, output, span)
        for note, output, score in zip(notes, outputs, scores, strict=True)
        for span in score.leaked_spans
    ]
    shown = random.Random(0).sample(leaks, min(count, len(leaks)))
    print(f"\n{label}: {len(leaks)} leaked spans, showing {len(shown)} (terminal only)")
    for note, output, span in shown:
        print(
            f"  [{note.name}] {span.entity_type:<18} gold: "
            f"{_context(note.text, span.start, span.end)}"
        )
        found = token_pattern(target(note.text, span)).search(output)
        if found:
            print(f"  {'':<30}left: {_context(output, *found.span())}")


def _fmt(value: float | None, digits: int = 3) -> str:
    """A ratio for the table ('-' when undefined)."""
    return "-" if value is None else f"{value:.{digits}f}"


def print_table(results: dict[str, dict[str, Any]], case: Case) -> None:
    """Recall (leaked count) overall and per type, words kept, chars/s, per system."""
    if not results:
        return
    width = max(14, *(len(label) for label in results)) + 2
    head = ["recall", *ENTITY_TYPES, "words_kept", "chars/s", "leaked/counted"]
    print(f"\ncase {case}: recall (leaked spans)")
    print("system".ljust(width) + "".join(f"{SHORT.get(h, h):>15}" for h in head))
    first = next(iter(results.values()))
    counted = [str(first["per_type"][t]["counted"]) for t in ENTITY_TYPES]
    print("counted".ljust(width) + f"{first['counted']:>15}" + "".join(f"{c:>15}" for c in counted))
    for label, r in results.items():
        cells = [f"{_fmt(r['recall'])} ({r['leaked']})"]
        cells += [
            f"{_fmt(r['per_type'][t]['recall'])} ({r['per_type'][t]['leaked']})"
            for t in ENTITY_TYPES
        ]
        speed = f"{r['chars_per_second']:,.0f}" if r["chars_per_second"] else "-"
        cells += [_fmt(r["words_kept"]), speed, f"{r['leaked']}/{r['counted']}"]
        print(label.ljust(width) + "".join(f"{cell:>15}" for cell in cells))
    for label, r in results.items():
        if "timed_out_notes" in r:
            print(f"{label}: {r['timed_out_notes']} notes timed out (counted as not scrubbed)")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description="Leak recall and words kept on real notes.")
    parser.add_argument(
        "--systems", default=DEFAULT_SYSTEMS, help=f"from {', '.join(SYSTEMS)}, or all"
    )
    parser.add_argument("--case", choices=CASES, default="as-is")
    parser.add_argument("--repeat", type=int, default=1, help="timed passes (median reported)")
    parser.add_argument("--errors", type=int, default=0, metavar="N", help="print N leaks")
    parser.add_argument("--data", type=Path, default=NOTES)
    parser.add_argument("--limit", type=int, help="first N notes only (development)")
    parser.add_argument("--out", type=Path, help="JSON of aggregates (no text)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Score the requested systems, print the table and write the JSON report."""
    args = parse_args(argv)
    systems = ALL_SYSTEMS if args.systems == "all" else args.systems
    specs = [parse_system(s) for s in systems.split(",") if s.strip()]
    notes = recase_all(load_notes(args.data)[: args.limit], args.case)
    results: dict[str, dict[str, Any]] = {}
    for spec in specs:
        results[spec.label], outputs, scores = run_system(spec, notes, args.case, args.repeat)
        if args.errors:
            print_leaks(spec.label, notes, outputs, scores, args.errors)
    characters = sum(len(note.text) for note in notes)
    print(f"\n{args.data.name}: {len(notes)} notes, {characters:,} characters")
    print_table(results, args.case)
    output = {
        "dataset": "clinical_notes_phi_dev",
        "data_sha256": data_digest(args.data),
        "case": args.case,
        "n_notes": len(notes),
        "n_chars": characters,
        "n_gold_spans": sum(len(note.spans) for note in notes),
        "repeat": args.repeat,
        "limit": args.limit,
        "metric": "clinical_real_metric.py: case-insensitive whole-token leak recall; words kept",
        "environment": _environment(),
        "systems": results,
    }
    if args.out:
        args.out.write_text(json.dumps(output, indent=1) + "\n")
    return output


def _environment() -> dict[str, Any]:
    """Versions and machine (evaluate.environment), and which privsynth code was scored:
    HEAD plus a digest of the working tree's ``privsynth/pii`` sources (it may be dirty)."""
    from evaluate import environment

    root = Path(__file__).resolve().parents[2]
    digest = hashlib.sha256()
    for path in sorted((root / "privsynth" / "pii").rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    head = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "HEAD"], check=False, capture_output=True, text=True
    ).stdout.strip()
    return {**environment(), "git_head": head or None, "privsynth_pii_sha256": digest.hexdigest()}


if __name__ == "__main__":
    main()
