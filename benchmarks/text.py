"""DP text synthesis on real clinical notes: privsynth's text generator at several ε and
without DP, scored by the text metrics (TSTR, diversity, embedding distance,
memorisation, canaries).

    .venv/bin/python benchmarks/text.py --epsilons 4,8,inf --out benchmarks/results/text.json

Data: ../shared/data/mtsamples (CC0 per its SOURCE.md), de-duplicated on the transcription
(2,357 documents). Label: ``medical_specialty`` with the five largest specialties kept and
the rest ``Other`` (the list is written into the benchmark's schema as public knowledge:
specialty names are not private). Split: 20 % of the documents held out, stratified on
the label (seeded); the generator trains on the rest.

Canaries (Carlini et al. 2019): two fake secrets inserted at the start of training
documents before anything else runs: an SSN sentence in 1 document and a name +
diagnosis sentence in 10. After sampling, their verbatim reproductions in the synthetic
text are counted, and their exposure is measured with the trained model's likelihood.

A finite ε runs the whole product path (``Synthesizer`` with a text column conditioned on
the label, a fresh ledger): placeholders, DP-SGD, sampling, refill, residual scan, timed
end to end. ``inf`` runs the same steps with no noise and no clipping limit that matters
(the non-private reference, and with ``--overfit-epochs`` the canary power check).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SHARED = Path(os.environ.get("PRIVSYNTH_SHARED_DATA", "/work/shared/data"))
KEPT = 5
SSN_CANARY = "The patient's social security number is {ddd-dd-dddd}."
NAME_CANARY = "Mr. Quennington Zorblatt was diagnosed with {aaaaaaaa} syndrome."


def load_notes(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train and test documents with their (public) labels."""
    frame = pd.read_csv(SHARED / "mtsamples" / "mtsamples.csv.gz")
    frame = frame.dropna(subset=["transcription"]).drop_duplicates("transcription")
    top = frame.medical_specialty.value_counts().index[:KEPT]
    frame = frame.assign(
        specialty=np.where(frame.medical_specialty.isin(top), frame.medical_specialty, "Other"),
        transcription=frame.transcription.str.replace(r",\s+", ", ", regex=True),
    )[["specialty", "transcription"]]
    rng = np.random.default_rng(seed)
    test = frame.groupby("specialty", group_keys=False).apply(
        lambda g: g.sample(frac=0.2, random_state=int(rng.integers(2**31)))
    )
    return frame.drop(test.index).reset_index(drop=True), test.reset_index(drop=True)


def insert_canaries(train: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """The two canaries at the start of 1 and 10 training documents."""
    rng = np.random.default_rng(seed + 1000)
    ssn = f"{rng.integers(100, 900)}-{rng.integers(10, 99)}-{rng.integers(1000, 9999)}"
    word = "".join(str(rng.choice(list("bcdfghklmnprstvz"))) + str(rng.choice(list("aeiou")))
                   for _ in range(4))  # fmt: skip
    # all in documents of the largest specialty: one control prefix scores them all
    largest = np.flatnonzero(train.specialty.to_numpy() == train.specialty.mode()[0])
    chosen = rng.choice(largest, size=11, replace=False)
    texts = train.transcription.to_numpy(dtype=object).copy()
    texts[chosen[0]] = _filled(SSN_CANARY, ssn) + " " + texts[chosen[0]]
    for i in chosen[1:]:
        texts[i] = _filled(NAME_CANARY, word) + " " + texts[i]
    canaries = [
        {"name": "ssn_x1", "format": SSN_CANARY, "secret": ssn,
         "label": train.specialty[chosen[0]]},
        {"name": "name_diagnosis_x10", "format": NAME_CANARY, "secret": word,
         "label": train.specialty[chosen[1]]},
    ]  # fmt: skip
    return train.assign(transcription=texts), canaries


def _filled(fmt: str, secret: str) -> str:
    start, end = fmt.index("{"), fmt.index("}")
    return fmt[:start] + secret + fmt[end + 1 :]


def schema_yaml(labels: list[str], path: Path) -> Path:
    import yaml

    schema = {
        "columns": {
            "specialty": {"kind": "categorical", "categories": labels},
            "transcription": {"kind": "text"},
        }
    }
    path.write_text(yaml.safe_dump(schema))
    return path


def run_private(train: pd.DataFrame, epsilon: float, options: dict[str, Any], rows: int,
                work: Path) -> tuple[pd.DataFrame, Any, dict[str, float]]:  # fmt: skip
    """The product path: one Synthesizer run with a text column, timed end to end."""
    from privsynth.synthesis import Synthesizer

    data = work / "notes.csv"
    train.to_csv(data, index=False)
    schema = schema_yaml(sorted(train.specialty.unique()), work / "schema.yaml")
    started = time.monotonic()
    synthesizer = Synthesizer(
        "mst", epsilon=epsilon, dataset="notes", ledger=work / "ledger.db", schema=schema,
        text_column="transcription", condition_on=("specialty",), text_options=options,
    )  # fmt: skip
    synthesizer.fit(data, progress=lambda m: print("   ", m, flush=True))
    fitted = time.monotonic()
    synthetic = synthesizer.sample(rows, progress=lambda m: print("   ", m, flush=True))
    done = time.monotonic()
    model = synthesizer._fitted().text
    assert model is not None and synthesizer.report is not None
    split = synthesizer.report.epsilon_split
    timing = {"fit_s": fitted - started, "sample_s": done - fitted, "total_s": done - started,
              "epsilon_table": split[0] if split else 0.0,
              "epsilon_text": split[1] if split else 0.0}  # fmt: skip
    return synthetic, model.generator, timing


def run_nonprivate(train: pd.DataFrame, options: dict[str, Any], rows: int, seed: int,
                   scrub: bool = True) -> tuple[pd.DataFrame, Any, dict[str, float]]:  # fmt: skip
    """The same steps without noise (ε = ∞): placeholders (unless ``scrub`` is off),
    training, sampling, refill."""
    from privsynth.dp.accounting import PrivacyFilter
    from privsynth.dp.accounting import costs as cost_of
    from privsynth.dp.mechanisms import Mechanisms
    from privsynth.dp.noise import NoiseSource
    from privsynth.text.generator import TextGenerator
    from privsynth.text.placeholders import to_placeholders
    from privsynth.text.refill import refill

    started = time.monotonic()
    generator = TextGenerator(**options)
    # no noise to speak of (the accounting needs a positive sigma)
    generator.sigma, generator.count_sigma, generator.delta = 1e-4, 1e-6, 1e-5
    mechanisms = Mechanisms(PrivacyFilter(cost_of.unbounded("no DP: reference")), NoiseSource(None))
    texts = list(train.transcription)
    scrubbed = list(to_placeholders(texts).texts) if scrub else texts
    generator.fit(scrubbed, [f"specialty: {s}" for s in train.specialty], mechanisms,
                  lambda m: print("   ", m, flush=True))  # fmt: skip
    fitted = time.monotonic()
    rng = np.random.default_rng(seed)
    labels = rng.choice(train.specialty.to_numpy(), size=rows)
    texts = refill(generator.sample([f"specialty: {s}" for s in labels], rng), rng)
    done = time.monotonic()
    synthetic = pd.DataFrame({"specialty": labels, "transcription": texts})
    timing = {"fit_s": fitted - started, "sample_s": done - fitted, "total_s": done - started}
    return synthetic, generator, timing


def score(train: pd.DataFrame, test: pd.DataFrame, synthetic: pd.DataFrame, generator: Any,
          canaries: list[dict[str, Any]]) -> dict[str, Any]:  # fmt: skip
    from privsynth.evaluation.text.evaluate import evaluate_text
    from privsynth.evaluation.text.exposure import Canary

    found = [Canary(c["name"], c["format"], c["secret"]) for c in canaries]
    label = {c["name"]: f"specialty: {c['label']}" for c in canaries}

    def likelihood(texts: list[str]) -> list[float]:
        prefix = label[canaries[0]["name"]]
        return generator.log_likelihood(texts, [prefix] * len(texts))

    result = evaluate_text(
        list(train.transcription), list(synthetic.transcription), list(test.transcription),
        train_labels=list(train.specialty), synthetic_labels=list(synthetic.specialty),
        test_labels=list(test.specialty), canaries=found, log_likelihood=likelihood,
    )  # fmt: skip
    return result.to_dict()


def canary_draws(generator: Any, canaries: list[dict[str, Any]], count: int,
                 seed: int) -> dict[str, Any]:  # fmt: skip
    """``count`` extra documents after the canary documents' own prefix (the likeliest
    place for a leak), and how often each secret appears in them verbatim (in the text
    as generated, placeholders not yet refilled: a refilled surrogate is never a leak)."""
    prefix = f"specialty: {canaries[0]['label']}"
    rng = np.random.default_rng(seed + 7)
    started = time.monotonic()
    texts = generator.sample([prefix] * count, rng)
    found = {c["name"]: sum(c["secret"].lower() in t.lower() for t in texts) for c in canaries}
    return {"documents": count, "verbatim": found, "seconds": time.monotonic() - started}


def power_check(
    train: pd.DataFrame,
    canaries: list[dict[str, Any]],
    args: argparse.Namespace,
    options: dict[str, Any],
) -> list[dict[str, Any]]:
    """The canary test's power: a non-private model trained to overfit a small set that
    holds the canary documents must reproduce the canaries (else a 0 at ε=4 means
    nothing). Run with and without scrubbing: the scrubber removes the SSN before
    training, so only the unscrubbed model can leak it."""
    from privsynth.evaluation.text.exposure import canary_exposure

    marked = train.transcription.str.contains("Zorblatt|social security", regex=True)
    others = train[~marked].sample(args.power_documents - int(marked.sum()), random_state=0)
    small = pd.concat([train[marked], others]).reset_index(drop=True)
    entries = []
    for scrub in (False, True):
        print(f"== power check: {len(small)} docs, scrub={scrub}", flush=True)
        _, generator, timing = run_nonprivate(small, options, 8, args.seed, scrub=scrub)
        draws = canary_draws(generator, canaries, args.canary_samples or 1000, args.seed)
        prefix = f"specialty: {canaries[0]['label']}"

        def likelihood(texts: list[str], g: Any = generator, p: str = prefix) -> list[float]:
            return g.log_likelihood(texts, [p] * len(texts))  # type: ignore[no-any-return]

        exposure = {c["name"]: canary_exposure(c["format"], c["secret"], likelihood,
                                               name=c["name"]).to_dict()
                    for c in canaries}  # fmt: skip
        entries.append({"label": f"power-check{'' if scrub else '-unscrubbed'}",
                        "epsilon": "inf", "seed": args.seed, "options": options,
                        "train_documents": len(small), "params": generator.params(),
                        **timing, "canary_draws": draws, "exposure": exposure})  # fmt: skip
        print(json.dumps(entries[-1], default=str), flush=True)
    return entries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epsilons", default="4,8,inf")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rows", type=int, default=0, help="synthetic documents (0: as train)")
    parser.add_argument("--option", action="append", default=[], help="text option KEY=VALUE")
    parser.add_argument("--label", default="default", help="name of this configuration")
    parser.add_argument("--canary-samples", type=int, default=0, help="extra draws for canaries")
    parser.add_argument(
        "--power-check",
        action="store_true",
        help="overfit a non-private model on a small set with the canaries",
    )
    parser.add_argument("--power-documents", type=int, default=200)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/text.json")
    args = parser.parse_args()
    import yaml

    options = {k: yaml.safe_load(v) for k, v in (o.split("=", 1) for o in args.option)}
    if isinstance(options.get("model_options"), str):
        options["model_options"] = json.loads(options["model_options"])
    train, test = load_notes(args.seed)
    train, canaries = insert_canaries(train, args.seed)
    rows = args.rows or len(train)
    results = json.loads(args.out.read_text()) if args.out.is_file() else []
    if args.power_check:
        results += power_check(train, canaries, args, options)
        args.out.write_text(json.dumps(results, indent=1, default=str))
        return
    for text in args.epsilons.split(","):
        epsilon = math.inf if text == "inf" else float(text)
        print(f"== ε={text} {args.label}: {len(train)} train, {len(test)} test docs", flush=True)
        with tempfile.TemporaryDirectory() as work:
            if math.isinf(epsilon):
                synthetic, generator, timing = run_nonprivate(train, options, rows, args.seed)
            else:
                synthetic, generator, timing = run_private(
                    train, epsilon, options, rows, Path(work)
                )
        scores = score(train, test, synthetic, generator, canaries)
        if args.canary_samples:
            timing["canary_draws"] = canary_draws(generator, canaries, args.canary_samples, 0)
        entry = {"label": args.label, "epsilon": text, "seed": args.seed, "options": options,
                 "train_documents": len(train), "test_documents": len(test),
                 "params": generator.params(), **timing, "scores": scores}  # fmt: skip
        results.append(entry)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=1, default=str))
        print(json.dumps({k: v for k, v in entry.items() if k != "scores"}, default=str))
        print(json.dumps(scores.get("utility", scores), default=str)[:2000], flush=True)


if __name__ == "__main__":
    main()
