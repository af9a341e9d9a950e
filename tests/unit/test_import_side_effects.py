"""Importing privsynth, and using it, changes nothing process-wide (issue 13).

A library shares its process with its user's code: importing privsynth used to set
``XLA_FLAGS`` for the whole process, patch tldextract's extractor, and sampling seeded
numpy's global generator. In a fresh interpreter, this imports every privsynth module
and fits and samples a small MST model, then checks that the environment, numpy's
global random state and tldextract's module-level extractor are as they were.

The third-party packages privsynth imports are imported before the snapshot: what they
do on import is theirs (JAX sets ``TF_CPP_MIN_LOG_LEVEL`` and ``TPU_SKIP_MDS_QUERY``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import ast, importlib, importlib.util, json, os, pkgutil, sys
from pathlib import Path

package = Path(importlib.util.find_spec("privsynth").submodule_search_locations[0])
dependencies = set()
for path in package.rglob("*.py"):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            dependencies.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            dependencies.add(node.module)
for name in sorted(dependencies):
    top = name.partition(".")[0]
    if top != "privsynth" and top not in sys.stdlib_module_names:
        try:
            importlib.import_module(name)
        except ImportError:
            pass  # an optional dependency that is not installed

import numpy as np
import tldextract

def snapshot():
    state = np.random.get_state()
    return {
        "environ": dict(os.environ),
        "numpy_state": [state[0], state[1].tolist(), *state[2:]],
        "extract": id(tldextract.extract),
        "extractor": id(tldextract.tldextract.TLD_EXTRACTOR),
        "extractor_loaded": tldextract.tldextract.TLD_EXTRACTOR._extractor is not None,
    }

before = snapshot()
import privsynth
modules = [m.name for m in pkgutil.walk_packages(privsynth.__path__, "privsynth.")]
for name in modules:
    importlib.import_module(name)
after_import = snapshot()

import pandas as pd
from privsynth.domain.table import build_codecs, encode_table
from privsynth.dp.accounting import PrivacyFilter, costs
from privsynth.dp.mechanisms import Mechanisms
from privsynth.dp.noise import NoiseSource
from privsynth.generators.mst import MST
from privsynth.schema import Schema, load_schema

examples = Path(sys.argv[1])
columns = ["age", "sex", "race", "income"]
full = load_schema(examples / "adult_schema.yaml")
schema = Schema({c: full[c] for c in columns})
frame = pd.read_csv(examples / "adult_sample.csv", dtype=str, keep_default_na=False)[columns]
rng = np.random.default_rng(0)
table = encode_table(frame.head(500), build_codecs(schema), rng)
mst = MST(iterations=20)
mst.fit(table, Mechanisms(PrivacyFilter(costs.zcdp(1.0)), NoiseSource(1)), 1.0)
sampled = mst.sample(200, rng)
after_use = snapshot()
print(json.dumps({
    "modules": len(modules), "sampled": {c: len(v) for c, v in sampled.items()},
    "before": before, "after_import": after_import, "after_use": after_use,
}))
"""


@pytest.mark.slow  # starts a fresh interpreter
def test_importing_and_sampling_change_nothing_process_wide() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(ROOT / "examples")],
        capture_output=True, text=True, check=False, cwd=ROOT, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["modules"] > 50  # the whole package was walked
    assert report["sampled"] == {"age": 200, "sex": 200, "race": 200, "income": 200}
    before = report["before"]
    assert not before["extractor_loaded"]
    for stage in ("after_import", "after_use"):
        after = report[stage]
        changed = {
            k for k in before["environ"].keys() | after["environ"].keys()
            if before["environ"].get(k) != after["environ"].get(k)
        }  # fmt: skip
        assert not changed, f"{stage}: environment variables changed: {sorted(changed)}"
        assert after["numpy_state"] == before["numpy_state"], f"{stage}: numpy's global RNG"
        assert after["extract"] == before["extract"], f"{stage}: tldextract.extract patched"
        assert after["extractor"] == before["extractor"], f"{stage}: TLD_EXTRACTOR replaced"
        assert not after["extractor_loaded"], f"{stage}: tldextract's global extractor used"
