"""The optional smartnoise-synth adapter: refused early without snsynth, ε → ρ conversion
matching smartnoise's own, and (slow, where the separate smartnoise venv exists) a real
run through privsynth's ledger."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from privsynth import Synthesizer
from privsynth.errors import ConfigurationError
from privsynth.generators import GENERATORS, optional
from privsynth.generators.smartnoise import cdp_rho, smartnoise_epsilon

ROOT = Path(__file__).resolve().parents[3]
SN_SITE = Path("/work/bench-sn-venv/lib/python3.11/site-packages")

#: snsynth.utils.cdp_rho(epsilon, delta), computed with smartnoise-synth 1.0.8 and
#: OpenDP 0.14.2 in the venv made by benchmarks/smartnoise_env.sh:
#:   /work/bench-sn-venv/bin/python -c "from snsynth.utils import cdp_rho; \
#:       print(repr(cdp_rho(1.0, 1e-9)))"
OPENDP = [
    (0.1, 1e-9, 0.00017713844718502084),
    (1.0, 1e-9, 0.01497305767358852),
    (1.0, 1e-6, 0.024355970359538362),
    (3.0, 1e-9, 0.12058242891101993),
    (10.0, 1e-5, 1.7826956163289505),
]


@pytest.mark.parametrize("name", ["smartnoise:mst", "smartnoise:aim"])
def test_without_snsynth_selection_fails_in_one_line_before_the_ledger(
    name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(optional, "installed", lambda module: False)
    with pytest.raises(ConfigurationError) as error:
        Synthesizer(name, epsilon=1, dataset="d", ledger=tmp_path / "l.db")
    assert "smartnoise_env.sh" in (error.value.hint or "")
    assert "\n" not in error.value.one_line()
    assert not (tmp_path / "l.db").exists()


def test_registration_does_not_import_snsynth() -> None:
    code = "import sys, privsynth.generators as g; g.GENERATORS.get('smartnoise:aim'); "
    code += "print('snsynth' in sys.modules, 'opendp' in sys.modules, 'sdv' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False", "False"]


def test_declared_costs_are_zcdp() -> None:
    assert GENERATORS.get("smartnoise:aim").costs == ("zcdp",)  # type: ignore[attr-defined]
    assert GENERATORS.get("smartnoise:mst").costs == ("zcdp", "gaussian")  # type: ignore[attr-defined]


@pytest.mark.parametrize(("epsilon", "delta", "expected"), OPENDP)
def test_cdp_rho_matches_smartnoise(epsilon: float, delta: float, expected: float) -> None:
    assert cdp_rho(epsilon, delta) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("rho", [1e-4, 0.01, 0.0244, 0.5, 3.0])
@pytest.mark.parametrize("delta", [1e-9, 1e-6])
def test_the_epsilon_given_to_smartnoise_spends_at_most_rho(rho: float, delta: float) -> None:
    epsilon = smartnoise_epsilon(rho, delta)
    spent = cdp_rho(epsilon, delta)
    assert spent <= rho
    assert spent >= rho * (1 - 1e-6)  # and nothing much is left unused
    assert cdp_rho(epsilon * 1.001, delta) > rho  # the largest such ε (to 0.1%)


def test_the_conversion_agrees_with_the_reference_values() -> None:
    for epsilon, delta, rho in OPENDP:
        assert smartnoise_epsilon(rho, delta) == pytest.approx(epsilon, rel=1e-6)


SCRIPT = """
import json, sys
sys.path.append(sys.argv[1])  # snsynth and its deps, after privsynth's own packages
import pandas as pd
from privsynth import Synthesizer
from privsynth.dp.ledger import Ledger
columns = ["workclass", "sex", "race", "income"]
frame = pd.read_csv(sys.argv[2], dtype=str, keep_default_na=False)[columns].head(1500)
found = {}
for name in ("smartnoise:mst", "smartnoise:aim"):
    book = Ledger(sys.argv[3] + name.replace(":", "_") + ".db")
    s = Synthesizer(name, epsilon=1.0, dataset="d", ledger=book, quality_share=0.0)
    out = s.fit(frame).sample(300, seed=1)
    found[name] = {
        "columns": list(out.columns), "rows": len(out),
        "spent": book.status("d").spent_epsilon,
        "spends": [(x["purpose"], x["mechanism"], x["rho"]) for x in book.spends("d")],
        "params": s.record.generator_params,
        "known": all(set(out[c]) <= set(frame[c]) | {"<other>"} for c in columns),
    }
print(json.dumps(found))
"""


@pytest.mark.slow
@pytest.mark.skipif(not SN_SITE.is_dir(), reason="no venv from benchmarks/smartnoise_env.sh")
def test_smartnoise_runs_through_the_ledger(adult_path: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(SN_SITE), str(adult_path), str(tmp_path) + "/"],
        capture_output=True, text=True, timeout=1200, cwd=ROOT, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    for run in found.values():
        assert run["columns"] == ["workclass", "sex", "race", "income"] and run["rows"] == 300
        assert run["known"]  # real categories, or <other> for those discovery suppressed
        assert 0.99 < run["spent"] <= 1.0 + 1e-9
        external = [s for s in run["spends"] if s[1] == "zcdp"]
        assert len(external) == 1 and math.isclose(external[0][2], run["params"]["rho_sn"])
        assert cdp_rho(run["params"]["epsilon_sn"], 1e-9) == pytest.approx(external[0][2])
    assert [s[1] for s in found["smartnoise:mst"]["spends"]][-2:] == ["gaussian", "zcdp"]
