"""The privacy ledger on real SQLite files: budgets, reservations, spends, failures.

No mocks: every test opens a real ledger file under ``tmp_path``; the concurrency
test races real OS processes against one file.
"""

from __future__ import annotations

import json
import math
import os
import random
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from privsynth.dp.accounting import compose
from privsynth.dp.accounting import costs as cost_of
from privsynth.dp.accounting.accountant import Spend
from privsynth.dp.accounting.rdp import rho_for_epsilon
from privsynth.dp.ledger import (
    DEFAULT_DELTA,
    DEFAULT_EPSILON,
    ENV_VAR,
    FAILED_RUN,
    Budget,
    Ledger,
    default_ledger_path,
)
from privsynth.errors import BudgetExceededError, ConfigurationError, LedgerError
from privsynth.fingerprint import KEY_ENV_VAR, key_path

DELTA = 1e-6
TARGET = (1.0, DELTA)


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(tmp_path / "ledger.db")


def _rows(book: Ledger) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return book.runs(), book.spends()


def _reserve(book: Ledger, dataset: str, run_id: str, limit: cost_of.PrivacyCost) -> None:
    book.reserve(dataset, run_id, limit, TARGET, "mst", {"rows": None})


def _spends() -> list[Spend]:
    return [
        Spend("1-way marginal of 'age'", cost_of.gaussian(sigma=20.0)),
        Spend("tree edge 1", cost_of.exponential(epsilon=0.1)),
        Spend("row count", cost_of.laplace(scale=50.0)),
        Spend("discover domain of 'sex'", cost_of.thresholded_gaussian(sigma=30.0, delta=1e-9)),
    ]


# budgets -----------------------------------------------------------------------------


def test_default_budget_is_reported_as_default(ledger: Ledger) -> None:
    assert ledger.budget("adult") == Budget(DEFAULT_EPSILON, DEFAULT_DELTA, is_default=True)
    assert (DEFAULT_EPSILON, DEFAULT_DELTA) == (10.0, 1e-6)
    status = ledger.status("adult")
    assert status.budget.is_default
    assert status.spent_epsilon == 0.0
    assert status.remaining_epsilon == 10.0
    assert ledger.datasets() == []


def test_set_budget_then_change_it(ledger: Ledger) -> None:
    ledger.set_budget("adult", 2.0, 1e-5)
    assert ledger.budget("adult") == Budget(2.0, 1e-5, is_default=False)
    ledger.set_budget("adult", 3.5, 1e-7)
    assert ledger.budget("adult") == Budget(3.5, 1e-7, is_default=False)
    assert ledger.budget("other").is_default
    assert ledger.datasets() == ["adult"]
    # the budget is persisted, not cached in the object
    assert Ledger(ledger.path).budget("adult") == Budget(3.5, 1e-7, is_default=False)


@pytest.mark.parametrize(
    ("epsilon", "delta"),
    [
        (0.0, 1e-6),
        (-1.0, 1e-6),
        (math.nan, 1e-6),
        (math.inf, 1e-6),
        (-math.inf, 1e-6),
        (1.0, 0.0),
        (1.0, -1e-6),
        (1.0, math.nan),
        (1.0, math.inf),
        (1.0, 1.0),
        (1.0, 1.5),
    ],
)
def test_invalid_budget_is_refused(ledger: Ledger, epsilon: float, delta: float) -> None:
    ledger.set_budget("adult", 2.0, 1e-6)
    with pytest.raises(ConfigurationError):
        ledger.set_budget("adult", epsilon, delta)
    assert ledger.budget("adult") == Budget(2.0, 1e-6)


# reservations and spends ---------------------------------------------------------------


def test_reservation_counts_in_status(ledger: Ledger) -> None:
    limit = cost_of.zcdp(rho_for_epsilon(1.0, DELTA))
    returned = ledger.reserve("adult", "run-1", limit, TARGET, "mst", {"rows": 10})
    status = ledger.status("adult")
    assert status.spent_epsilon == pytest.approx(limit.epsilon(DELTA))
    assert 0.99 < status.spent_epsilon <= 1.0
    assert returned.spent_epsilon == pytest.approx(status.spent_epsilon)
    (run,) = ledger.runs("adult")
    assert run["run_id"] == "run-1"
    assert run["status"] == "reserved"
    assert (run["epsilon"], run["delta"], run["generator"]) == (1.0, DELTA, "mst")
    assert json.loads(run["params"]) == {"rows": 10}
    assert json.loads(run["reservation"]) == limit.to_dict()
    assert ledger.spends() == []
    assert ledger.status("other").spent_epsilon == 0.0


def test_commit_replaces_reservation_with_itemised_spends(ledger: Ledger) -> None:
    reserved = cost_of.zcdp(rho_for_epsilon(2.0, DELTA), 1e-8)
    _reserve(ledger, "adult", "run-1", reserved)
    spends = _spends()
    ledger.commit("run-1", spends, notes={"seeded": False})

    (run,) = ledger.runs()
    assert run["status"] == "committed"
    assert run["finished_at"] is not None
    assert json.loads(run["notes"]) == {"seeded": False}
    rows = ledger.spends("adult")
    assert [r["purpose"] for r in rows] == [s.purpose for s in spends]
    assert [r["mechanism"] for r in rows] == [s.cost.mechanism for s in spends]
    for row, spend in zip(rows, spends, strict=True):
        assert row["run_id"] == "run-1"
        assert json.loads(row["params"]) == dict(spend.cost.params)
        assert row["rho"] == pytest.approx(spend.cost.rho())
        assert row["delta"] == spend.cost.delta

    # the reservation no longer counts: only the (smaller) actual spends do
    actual = compose([s.cost for s in spends]).epsilon(DELTA)
    status = ledger.status("adult")
    assert status.spent_epsilon == pytest.approx(actual)
    assert status.spent_epsilon < reserved.epsilon(DELTA)
    assert status.spent_delta == pytest.approx(1e-9)


def test_commit_without_open_reservation_is_an_error(ledger: Ledger) -> None:
    with pytest.raises(LedgerError):
        ledger.commit("never-reserved", _spends())
    _reserve(ledger, "adult", "run-1", cost_of.zcdp(0.01))
    ledger.commit("run-1", _spends())
    before = _rows(ledger)
    with pytest.raises(LedgerError):
        ledger.commit("run-1", _spends())
    assert _rows(ledger) == before


def test_failed_run_keeps_its_whole_reservation(ledger: Ledger) -> None:
    """Whether a run fails can depend on the data, so a failure is paid in full: the
    reservation is recorded as spent, not only the mechanisms that ran before it."""
    reservation = cost_of.zcdp(rho_for_epsilon(1.0, DELTA), 1e-8)
    _reserve(ledger, "adult", "run-1", reservation)
    ledger.commit("run-1", [], failed=True, notes={"spends_made": ["1-way marginal of 'age'"]})
    (run,) = ledger.runs()
    assert run["status"] == "failed"
    assert [r["purpose"] for r in ledger.spends()] == [FAILED_RUN]
    assert ledger.status("adult").spent_epsilon == pytest.approx(reservation.epsilon(DELTA))
    assert not hasattr(ledger, "release")  # a reservation is never handed back


def test_failed_seeded_run_also_records_its_unbounded_cost(ledger: Ledger) -> None:
    _reserve(ledger, "adult", "run-1", cost_of.zcdp(0.01))
    seeded = Spend("seeded noise: not private", cost_of.unbounded("the noise was seeded"))
    ledger.commit("run-1", [seeded], failed=True)
    assert [r["purpose"] for r in ledger.spends()] == [FAILED_RUN, seeded.purpose]
    assert math.isinf(ledger.status("adult").spent_epsilon)
    with pytest.raises(BudgetExceededError):
        _reserve(ledger, "adult", "run-2", cost_of.zcdp(1e-6))


def test_same_content_under_another_name_is_refused(ledger: Ledger) -> None:
    ledger.reserve("visits", "run-1", cost_of.zcdp(0.01), TARGET, "mst", {}, fingerprint="fp-1")
    ledger.reserve("visits", "run-2", cost_of.zcdp(0.01), TARGET, "mst", {}, fingerprint="fp-1")
    before = _rows(ledger)
    with pytest.raises(BudgetExceededError) as caught:
        ledger.reserve("copy", "run-3", cost_of.zcdp(0.01), TARGET, "mst", {}, fingerprint="fp-1")
    assert "'visits'" in caught.value.one_line()
    assert "`dataset=visits`" in caught.value.one_line()
    assert _rows(ledger) == before
    ledger.reserve("other", "run-4", cost_of.zcdp(0.01), TARGET, "mst", {}, fingerprint="fp-2")


def test_registration_can_be_required(ledger: Ledger) -> None:
    ledger.set_setting("require_registered", "true")
    assert ledger.requires_registration
    with pytest.raises(BudgetExceededError) as caught:
        _reserve(ledger, "new", "run-1", cost_of.zcdp(0.01))
    assert "`Ledger.set_budget('new', epsilon=E)`" in caught.value.one_line()
    assert ledger.runs() == []
    ledger.set_budget("new", 3.0, DELTA)
    _reserve(ledger, "new", "run-1", cost_of.zcdp(0.01))
    with pytest.raises(ConfigurationError):
        ledger.set_setting("no_such_setting", "1")


def test_a_dataset_keeps_its_privacy_unit(ledger: Ledger) -> None:
    ledger.set_budget("visits", 5.0, DELTA, privacy_unit="patient_id")
    assert ledger.budget("visits").privacy_unit == "patient_id"
    assert "per patient_id" in ledger.status("visits").describe()
    with pytest.raises(BudgetExceededError, match="accounted per patient_id"):
        _reserve(ledger, "visits", "run-1", cost_of.zcdp(0.01))  # a per-row run
    ledger.reserve(
        "visits", "run-1", cost_of.zcdp(0.01), TARGET, "mst", {},
        privacy_unit="patient_id", max_rows_per_unit=3,
    )  # fmt: skip
    (run,) = ledger.runs("visits")
    assert (run["privacy_unit"], run["max_rows_per_unit"]) == ("patient_id", 3)
    with pytest.raises(ConfigurationError):
        ledger.set_budget("visits", 5.0, DELTA, privacy_unit="member_id")
    # without a budget, the first run fixes the unit
    ledger.reserve("claims", "run-2", cost_of.zcdp(0.01), TARGET, "mst", {}, privacy_unit="mid")
    assert ledger.budget("claims").privacy_unit == "mid"
    with pytest.raises(BudgetExceededError):
        _reserve(ledger, "claims", "run-3", cost_of.zcdp(0.01))
    # a per-row dataset refuses per-person runs too: one dataset, one unit
    _reserve(ledger, "rows", "run-4", cost_of.zcdp(0.01))
    with pytest.raises(BudgetExceededError, match="accounted per row"):
        ledger.reserve("rows", "run-5", cost_of.zcdp(0.01), TARGET, "mst", {}, privacy_unit="m")
    # raising a budget keeps the unit its runs protect
    ledger.set_budget("claims", 20.0, DELTA)
    assert ledger.budget("claims") == Budget(20.0, DELTA, privacy_unit="mid")


def test_a_ledger_without_its_key_is_refused_not_silently_rekeyed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A copied ledger whose key file stayed behind would otherwise get a fresh key and
    stop recognising registered data under another name."""
    monkeypatch.delenv(KEY_ENV_VAR, raising=False)
    ledger = Ledger(tmp_path / "a" / "ledger.db")
    key = ledger.fingerprint_key()
    assert ledger.fingerprint_key() == key
    moved = tmp_path / "b" / "ledger.db"
    moved.parent.mkdir()
    moved.write_bytes(ledger.path.read_bytes())
    with pytest.raises(LedgerError, match="fingerprint key"):
        Ledger(moved).fingerprint_key()
    assert not key_path(moved).exists()
    monkeypatch.setenv(KEY_ENV_VAR, key.hex())
    assert Ledger(moved).fingerprint_key() == key  # the custodian supplies it


def test_old_ledgers_gain_the_new_columns(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(
            "CREATE TABLE budgets (dataset TEXT PRIMARY KEY, epsilon REAL NOT NULL, "
            "delta REAL NOT NULL, updated_at TEXT NOT NULL);"
            "INSERT INTO budgets VALUES ('adult', 4.0, 1e-6, '2026-01-01');"
        )
    conn.close()
    book = Ledger(path)
    assert book.budget("adult") == Budget(4.0, 1e-6)
    book.reserve("adult", "r", cost_of.zcdp(0.01), TARGET, "mst", {}, fingerprint="fp")
    assert book.runs("adult")[0]["fingerprint"] == "fp"


def test_reservation_over_budget_is_refused_and_changes_nothing(ledger: Ledger) -> None:
    ledger.set_budget("adult", 1.0, DELTA)
    _reserve(ledger, "adult", "run-1", cost_of.zcdp(rho_for_epsilon(0.6, DELTA)))
    ledger.commit("run-1", [Spend("marginal", cost_of.gaussian(sigma=8.0))])  # ε≈0.55
    _reserve(ledger, "adult", "run-2", cost_of.zcdp(rho_for_epsilon(0.2, DELTA)))
    # 0.9 alone fits the budget of 1, but composed with what is spent it comes to ≈1.1
    before_rows = _rows(ledger)
    before_status = ledger.status("adult")

    with pytest.raises(BudgetExceededError) as excinfo:
        _reserve(ledger, "adult", "run-3", cost_of.zcdp(rho_for_epsilon(0.9, DELTA)))

    assert _rows(ledger) == before_rows
    assert ledger.status("adult") == before_status
    assert "run-3" not in {r["run_id"] for r in ledger.runs()}
    message = excinfo.value.one_line()
    assert "'adult'" in message
    assert "spent" in message
    assert "remaining" in message
    assert excinfo.value.exit_code == 3


def test_reservation_that_exactly_fills_the_budget_fits(ledger: Ledger) -> None:
    ledger.set_budget("adult", 1.0, DELTA)
    _reserve(ledger, "adult", "run-1", cost_of.zcdp(rho_for_epsilon(1.0, DELTA)))
    assert ledger.status("adult").spent_epsilon <= 1.0
    with pytest.raises(BudgetExceededError):
        _reserve(ledger, "adult", "run-2", cost_of.zcdp(1e-6))


def test_totals_compose_with_rdp_not_by_summing(ledger: Ledger) -> None:
    rho = rho_for_epsilon(1.0, DELTA)
    _reserve(ledger, "two", "a", cost_of.zcdp(rho))
    _reserve(ledger, "two", "b", cost_of.zcdp(rho))
    _reserve(ledger, "one", "c", cost_of.zcdp(2 * rho))
    two_runs = ledger.status("two").spent_epsilon
    assert two_runs == pytest.approx(ledger.status("one").spent_epsilon, rel=1e-12)
    assert two_runs == pytest.approx(cost_of.zcdp(2 * rho).epsilon(DELTA), rel=1e-12)
    sum_of_epsilons = 2 * cost_of.zcdp(rho).epsilon(DELTA)
    assert two_runs < sum_of_epsilons - 0.3  # about 1.45 against 2.0


# the file itself -----------------------------------------------------------------------


def test_corrupt_ledger_file_is_a_ledger_error(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    path.write_bytes(random.Random(0).randbytes(8192))
    with pytest.raises(LedgerError) as excinfo:
        Ledger(path).status("adult")
    assert str(path) in excinfo.value.one_line()
    assert excinfo.value.exit_code == 4


def test_directory_as_ledger_path_is_a_ledger_error(tmp_path: Path) -> None:
    with pytest.raises(LedgerError):
        Ledger(tmp_path)


def test_ledger_path_below_a_regular_file_is_a_ledger_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    with pytest.raises(LedgerError):
        Ledger(blocker / "ledger.db")


@pytest.mark.parametrize(
    ("mechanism", "params"),
    [
        pytest.param("gaussian", "not json", id="params-not-json"),
        pytest.param("from-a-newer-version", "{}", id="unknown-mechanism"),
    ],
)
def test_inconsistent_ledger_row_is_a_ledger_error(
    ledger: Ledger, mechanism: str, params: str
) -> None:
    _reserve(ledger, "adult", "run-1", cost_of.zcdp(0.01))
    ledger.commit("run-1", _spends()[:1])
    with sqlite3.connect(ledger.path) as conn:
        conn.execute(
            "INSERT INTO spends (run_id, dataset, created_at, purpose, mechanism, params, rho, "
            "delta) VALUES ('run-1', 'adult', '2024-01-01', 'x', ?, ?, 0.1, 0.0)",
            (mechanism, params),
        )
    conn.close()
    with pytest.raises(LedgerError):
        ledger.status("adult")


def test_env_var_sets_default_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "from-env" / "book.db"
    monkeypatch.setenv(ENV_VAR, str(target))
    assert default_ledger_path() == target
    book = Ledger()
    assert book.path == target
    assert target.is_file()
    book.set_budget("adult", 2.0, DELTA)
    assert Ledger(target).budget("adult") == Budget(2.0, DELTA)


def test_default_path_without_env_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_ledger_path() == tmp_path / "xdg" / "privsynth" / "ledger.db"


def test_new_ledger_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "new-dir" / "ledger.db"
    Ledger(path).set_budget("adult", 1.0, DELTA)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


# concurrency ---------------------------------------------------------------------------

# Each worker is a fresh Python process. It loads privsynth's submodules without running
# privsynth/__init__.py, which imports the whole pipeline (JAX, pandas, mbi) and costs
# several CPU-seconds per process; the ledger code it runs is the installed one.
_WORKER = r"""
import importlib.util, sys, time, types
from pathlib import Path

spec = importlib.util.find_spec("privsynth")
package = types.ModuleType("privsynth")
package.__path__ = list(spec.submodule_search_locations)
sys.modules["privsynth"] = package

from privsynth.dp.accounting.costs import zcdp
from privsynth.errors import BudgetExceededError
from privsynth.dp.ledger import Ledger

path, dataset, rho, ready, go, run_id = sys.argv[1:]
limit = zcdp(float(rho))
Path(ready).touch()
deadline = time.monotonic() + 300
while not Path(go).exists():
    if time.monotonic() > deadline:
        print("timeout")
        sys.exit(1)
    time.sleep(0.001)
try:
    Ledger(path).reserve(dataset, run_id, limit, (1.0, 1e-6), "test", {})
except BudgetExceededError:
    print("refused")
else:
    print("reserved")
"""


def test_concurrent_reservations_never_overspend(tmp_path: Path) -> None:
    workers = 8
    # The brief's budget of epsilon 3.5 admits floor(10.04) = 10 zCDP runs of epsilon 1,
    # more than 8 workers; 2.5 admits 5, so some workers must be refused.
    budget_epsilon = 2.5
    rho1 = rho_for_epsilon(1.0, DELTA)
    k = math.floor(rho_for_epsilon(budget_epsilon, DELTA) / rho1)
    assert 0 < k < workers

    path = tmp_path / "ledger.db"
    Ledger(path).set_budget("adult", budget_epsilon, DELTA)
    go = tmp_path / "go"
    procs = []
    for i in range(workers):
        args = [str(path), "adult", repr(rho1), str(tmp_path / f"ready-{i}"), str(go), f"w{i}"]
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", _WORKER, *args],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    try:
        deadline = time.monotonic() + 300
        while not all((tmp_path / f"ready-{i}").exists() for i in range(workers)):
            assert all(p.poll() is None for p in procs), "a worker died before the race"
            assert time.monotonic() < deadline, "workers did not start"
            time.sleep(0.01)
        go.touch()
        results = [p.communicate(timeout=300) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()

    for p, (_, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err
    outcomes = [out.strip() for out, _ in results]
    assert sorted(outcomes) == sorted(["reserved"] * k + ["refused"] * (workers - k))

    book = Ledger(path)
    runs = book.runs("adult")
    reserved_ids = {f"w{i}" for i, o in enumerate(outcomes) if o == "reserved"}
    assert {r["run_id"] for r in runs} == reserved_ids
    assert all(r["status"] == "reserved" for r in runs)
    spent = book.status("adult").spent_epsilon
    assert spent <= budget_epsilon
    assert spent == pytest.approx(cost_of.zcdp(k * rho1).epsilon(DELTA))
    assert os.path.getsize(path) > 0
