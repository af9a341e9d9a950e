"""One smartnoise-synth fit for ``benchmarks/tabular.py``, run in the separate venv.

smartnoise-synth 1.0.8 cannot share the project's environment (see ``smartnoise_env.sh``), so
the harness runs each smartnoise fit as a child process of this script:

    /work/bench-sn-venv/bin/python benchmarks/smartnoise_tabular.py JOB.json

``JOB.json`` (written by ``tabular.py``) names the split's training CSV, the public column
spec (``columns``: per column ``kind`` "categorical" with ``categories`` and ``nullable``, or
"continuous" with ``lower``, ``upper`` and ``bins``), the synthesizer (``generator``: "mst",
"aim", ...), ε, δ, the seed, the synthesizer's options and the two output paths. The
transformer is fitted on that public spec, never on the rows, so smartnoise spends no ε on
preprocessing (the conversion is the one of ``smartnoise_mst.py --dataset sparcs``). The
script writes the synthetic rows (CSV) and a timing JSON (fit and sample seconds, CPU
seconds, δ, version); peak memory is measured by the parent from this process's rusage.
"""

from __future__ import annotations

import importlib.metadata
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from smartnoise_mst import sparcs_input, sparcs_transformer
from snsynth import Synthesizer


def fit_and_sample(job: dict[str, Any]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Fit on the job's training rows and sample as many rows; fit and sample timed apart."""
    np.random.seed(job["seed"])  # smartnoise and mbi draw from numpy's global RNG
    train = pd.read_csv(job["train"], dtype=str, keep_default_na=False)
    columns = job["columns"]
    data = sparcs_input(train, columns)
    transformer = sparcs_transformer(columns)
    synth = Synthesizer.create(
        job["generator"], epsilon=job["epsilon"], delta=job["delta"], **job["options"]
    )
    start, cpu = time.perf_counter(), time.process_time()
    synth.fit(data, transformer=transformer)
    fit_s, fit_cpu_s = time.perf_counter() - start, time.process_time() - cpu
    start = time.perf_counter()
    sample = pd.DataFrame(synth.sample(len(train)), columns=train.columns)
    timing = {
        "fit_s": fit_s,
        "fit_cpu_s": fit_cpu_s,
        "sample_s": time.perf_counter() - start,
        "delta": synth.delta,
        "version": f"smartnoise-synth {importlib.metadata.version('smartnoise-synth')}",
    }
    return sample, timing


def main(argv: list[str]) -> None:
    job = json.loads(Path(argv[0]).read_text())
    sample, timing = fit_and_sample(job)
    sample.to_csv(job["synthetic"], index=False)
    Path(job["timing"]).write_text(json.dumps(timing, indent=2) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
