"""The ledger alone under SIGKILL, many times a second: eight processes reserve and commit
small runs in a loop until the budget refuses them, and are killed at random moments,
inside transactions as often as not. The ledger must stay sound and within budget, and
every reservation a killed process made must still count.

The workers load the ledger's modules only (not the pipeline), so a process starts in a
fraction of a second and many transactions are interrupted in the test's time."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fault_tools import integrity

from privsynth.dp.accounting import costs
from privsynth.dp.accounting.rdp import rho_for_epsilon
from privsynth.dp.ledger import Ledger

pytestmark = pytest.mark.slow

DELTA = 1e-6
BUDGET_EPSILON = 1.0
#: each run reserves this share of the budget's rho: the last round is refused
RUN_SHARE = 1 / 250
WORKERS = 8
ROUNDS = 3

_WORKER = r"""
import importlib.util, sys, types
spec = importlib.util.find_spec("privsynth")
package = types.ModuleType("privsynth")
package.__path__ = list(spec.submodule_search_locations)
sys.modules["privsynth"] = package

from privsynth.dp.accounting.accountant import Spend
from privsynth.dp.accounting.costs import zcdp
from privsynth.errors import BudgetExceededError
from privsynth.dp.ledger import Ledger

path, worker, rho = sys.argv[1], sys.argv[2], float(sys.argv[3])
book = Ledger(path)
for j in range(100000):
    run_id = f"{worker}-{j}"
    try:
        book.reserve("adult", run_id, zcdp(rho), (1.0, 1e-6), "test", {})
    except BudgetExceededError:
        print("refused", run_id, flush=True)
        break
    print("reserved", run_id, flush=True)
    book.commit(run_id, [Spend("half", zcdp(rho / 2))], failed=j % 5 == 0)
    print("committed", run_id, flush=True)
"""


def _start(path: Path, worker: str, rho: float, out: Path) -> subprocess.Popen[bytes]:
    with out.open("wb") as handle:
        return subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(path), worker, repr(rho)],
            stdout=handle,
            stderr=subprocess.STDOUT,
        )


def _said(out: Path, word: str) -> set[str]:
    return {
        line.split()[1]
        for line in out.read_text("utf-8").splitlines()
        if line.startswith(word + " ") and len(line.split()) == 2
    }


def test_sigkill_inside_ledger_transactions_keeps_it_sound(tmp_path: Path) -> None:
    seed = random.SystemRandom().randrange(1 << 30)
    chance = random.Random(seed)
    path = tmp_path / "ledger.db"
    Ledger(path).set_budget("adult", BUDGET_EPSILON, DELTA)
    rho = rho_for_epsilon(BUDGET_EPSILON, DELTA) * RUN_SHARE
    killed: set[str] = set()
    outs: list[Path] = []
    for round_ in range(ROUNDS):
        procs = {}
        for w in range(WORKERS):
            name = f"r{round_}w{w}"
            outs.append(tmp_path / f"{name}.out")
            procs[name] = _start(path, name, rho, outs[-1])
        deadline = time.monotonic() + 60
        moments = {name: time.monotonic() + chance.uniform(0.3, 3.0) for name in procs}
        while any(p.poll() is None for p in procs.values()):
            assert time.monotonic() < deadline, f"workers hang (seed {seed})"
            for name, moment in moments.items():
                if time.monotonic() >= moment and procs[name].poll() is None:
                    os.kill(procs[name].pid, signal.SIGKILL)
                    procs[name].wait()
                    killed.add(name)
            time.sleep(0.005)
        for name, process in procs.items():
            text = (tmp_path / f"{name}.out").read_text("utf-8")
            assert process.returncode in (0, -signal.SIGKILL), (name, text[-500:])
            assert "Traceback" not in text, text[-2000:]

    assert integrity(path) == (["ok"], []), f"seed {seed}"
    book = Ledger(path)
    runs = {r["run_id"]: r for r in book.runs("adult")}
    reserved = set().union(*(_said(o, "reserved") for o in outs))
    committed = set().union(*(_said(o, "committed") for o in outs))
    refused = set().union(*(_said(o, "refused") for o in outs))
    assert reserved <= runs.keys() and not refused & runs.keys(), f"seed {seed}"
    for run_id in committed:
        assert runs[run_id]["status"] in ("committed", "failed"), run_id
    for run_id, run in runs.items():
        if run["status"] == "reserved":  # only a killed worker leaves one open
            assert run_id.split("-")[0] in killed, run_id
            assert run_id not in committed, run_id
    status = book.status("adult")
    assert status.spent_epsilon <= BUDGET_EPSILON * (1 + 1e-9), f"seed {seed}"
    open_runs = [r for r in runs.values() if r["status"] == "reserved"]
    held = costs.zcdp(rho * len(open_runs)).epsilon(DELTA) if open_runs else 0.0
    assert status.spent_epsilon >= held * (1 - 1e-9)
    assert killed, f"no worker was killed (seed {seed})"
