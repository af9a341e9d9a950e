"""The evaluator never crashes on a table's content, and its fast paths are exact.

Issue 12: a synthetic table holding texts such as ``"3e3365979074702"`` crashed the
interpreter (``pd.to_numeric`` segfaults on it in pandas 2.3), and one mixing date
offsets crashed date parsing; whether a run failed depended on one cell. Here the
whole evaluation runs, in process and through the CLI, on tables seeded with such
texts, and must give a complete, finite document.

The scale work (issue 12) replaced the one-hot distance matrix, the per-pair
association loop and the all-pairs Gower search with faster equivalents; each is
checked here against the plain computation it replaces.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from cli_inprocess import Cli
from scipy.spatial.distance import cdist
from scipy.special import logsumexp

from privsynth.evaluation import fidelity
from privsynth.evaluation.data import EvaluationData
from privsynth.evaluation.distances import (
    Gower,
    MatchCounter,
    Rows,
    kde_and_nearest,
    nearest_neighbours,
)
from privsynth.evaluation.runner import evaluate

QIS = ["age", "sex", "race", "marital-status"]
#: texts that broke parsers: a segfault of pd.to_numeric, overflows, mixed offsets
HOSTILE = [
    "3e3365979074702", "1e999", "-1e999", "1e308", "-1e308", "nan", "NaN", "inf", "-inf",
    "Infinity", "0x1f", "1_000", "½", "２０２０-01-01", "2020-01-01T00:00:00+05:00",
    "2020-01-01T03:00:00-02:00", "99999-01-01", "9999-99-99", "1" * 400, "\u0000", " ",
]  # fmt: skip


#: hostile texts that still read as numbers (as inf, or finite but huge)
NUMBER_LIKE = ["3e3365979074702", "1e999", "-1e999", "1e308", "-1e308", "inf", "-inf"]


def _hex_tokens(rng: np.random.Generator, n: int) -> list[str]:
    """Random hex tokens (digit-e-digits ones among them read as huge exponents)."""
    digits = np.array(list("0123456789abcdef"))
    tokens = ["".join(rng.choice(digits, 15)) for _ in range(n)]
    tokens += [f"{rng.integers(1, 10)}e{rng.integers(10**12, 10**15)}" for _ in range(n)]
    return tokens


def _with_dates(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    days = rng.integers(0, 3650, len(frame))
    dates = (pd.Timestamp("2015-01-01") + pd.to_timedelta(days, unit="D")).strftime("%Y-%m-%d")
    return frame.assign(visit=list(dates))


def _spoiled(
    frame: pd.DataFrame, rng: np.random.Generator, share: float, pool: list[str]
) -> pd.DataFrame:
    """``frame`` with about ``share`` of every column's cells replaced from ``pool``."""
    out = frame.copy()
    for column in out.columns:
        hit = np.flatnonzero(rng.random(len(out)) < share)
        out.loc[out.index[hit], column] = rng.choice(np.array(pool, dtype=object), len(hit))
    return out


@pytest.fixture(scope="module")
def tables(adult_frame: pd.DataFrame, adult_holdout_frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Real, holdout and synthetic Adult rows with a date column. The synthetic table
    has 15% hostile cells in every column and a numeric column without any number; the
    real one 1% of texts that still read as numbers (huge or infinite ones), so that
    its numeric columns stay numeric."""
    rng = np.random.default_rng(12)
    sample, held = adult_frame, adult_holdout_frame
    tokens = _hex_tokens(rng, 40)
    numeric_looking = NUMBER_LIKE + [t for t in tokens if "e" in t and t.replace("e", "").isdigit()]
    real = _spoiled(_with_dates(sample.iloc[:600], rng), rng, 0.01, numeric_looking)
    synthetic = _spoiled(_with_dates(sample.iloc[600:1200], rng), rng, 0.15, HOSTILE + tokens)
    synthetic["capital-loss"] = "<other>"  # a numeric column with no number left (as MST gives)
    return {"real": real, "synthetic": synthetic, "holdout": _with_dates(held.iloc[:300], rng)}


def _assert_sane(document: dict[str, Any]) -> None:
    """Every measurement ran, and every number is finite and inside its range."""
    assert document["skipped"] == {}
    assert json.loads(json.dumps(document, allow_nan=False)) == document
    for section in ("fidelity", "utility", "detection", "diversity"):
        for result in document[section].values():
            assert result["low"] <= result["value"] <= result["high"], result["name"]
    privacy = document["privacy"]
    for name in ("singling_out", "linkability", "attribute_inference"):
        low, high = privacy[name]["ci"]
        assert 0.0 <= low <= privacy[name]["risk"] <= high <= 1.0, name
    assert 0.0 <= privacy["membership_inference"]["auc"] <= 1.0


def test_the_evaluation_survives_hostile_cells(tables: dict[str, pd.DataFrame]) -> None:
    data = EvaluationData.build(
        tables["real"], tables["synthetic"], tables["holdout"], target="income",
        quasi_identifiers=QIS, sensitive=["income"], seed=3,
    )  # fmt: skip
    assert data.kinds["age"] == data.kinds["visit"] == "numeric"
    assert data.kinds["education"] == "categorical"
    for frame in (data.real, data.synthetic):
        numbers = frame[data.numeric_columns].to_numpy(dtype=np.float64)
        assert not np.isinf(numbers).any()  # infinite cells are missing
    assert data.synthetic["age"].isna().sum() > 0.1 * len(data.synthetic)
    _assert_sane(evaluate(data).to_dict())


def test_the_cli_survives_hostile_cells(
    cli: Cli, tables: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    paths = {name: tmp_path / f"{name}.csv" for name in tables}
    for name, frame in tables.items():
        frame.to_csv(paths[name], index=False)
    output = tmp_path / "eval.json"
    done = cli(
        "evaluate", "--real", paths["real"], "--synthetic", paths["synthetic"],
        "--holdout", paths["holdout"], "--target", "income",
        "--quasi-identifiers", ",".join(QIS), "--sensitive", "income", "-o", output,
    )  # fmt: skip
    assert done.code == 0, done.stderr[-2000:]
    _assert_sane(json.loads(output.read_text()))


def test_a_cell_is_read_the_same_whatever_the_other_rows(tables: dict[str, pd.DataFrame]) -> None:
    """Appending mostly non-numeric rows used to switch a numeric column to date
    parsing (and mixed offsets crashed it): each cell must be read on its own."""
    real, holdout = tables["real"], tables["holdout"]
    clean = holdout.iloc[:200].reset_index(drop=True)
    noise = pd.DataFrame({c: ["2020-01-01T00:00:00+05:00", "Jan 5", "x"] * 100 for c in clean})
    alone = EvaluationData.build(real, clean, holdout).synthetic
    mixed = EvaluationData.build(real, pd.concat([clean, noise]), holdout).synthetic
    pd.testing.assert_frame_equal(mixed.iloc[: len(clean)], alone)
    assert alone["age"].notna().all()


# ------------------------------------------------------------------ exact fast paths


def _rows(rng: np.random.Generator, n: int) -> Rows:
    """Rows with a common category, a mostly-one category and a long tail, so both
    the one-hot and the scattered paths of the search are used."""
    codes = np.column_stack(
        [
            rng.integers(0, 3, n),
            np.where(rng.random(n) < 0.7, 0, rng.integers(1, 60, n)),
            rng.integers(0, 400, n),
        ]
    )
    return Rows(rng.random((n, 3)), codes, (3, 60, 400))


def _one_hot(rows: Rows) -> np.ndarray:
    blocks = [rows.numeric]
    for j, size in enumerate(rows.sizes):
        block = np.zeros((len(rows), size))
        block[np.arange(len(rows)), rows.codes[:, j]] = 1.0 / math.sqrt(2.0)
        blocks.append(block)
    return np.hstack(blocks)


def test_coded_rows_match_the_one_hot_distances() -> None:
    rng = np.random.default_rng(5)
    queries, reference = _rows(rng, 150), _rows(rng, 1500)
    reference.codes[:4] = queries.codes[:4]
    reference.numeric[:4] = queries.numeric[:4]
    distances, indices = nearest_neighbours(queries, reference, 3, chunk_elements=40_000)
    full = cdist(_one_hot(queries), _one_hot(reference))  # every pair, plain Euclidean
    assert np.allclose(distances, np.sort(full, axis=1)[:, :3], atol=1e-12)
    assert np.array_equal(full[np.arange(150), indices[:, 0]], full.min(axis=1))
    assert np.all(distances[:4, 0] == 0.0)


def test_coded_densities_match_the_one_hot_densities() -> None:
    rng = np.random.default_rng(6)
    queries, reference = _rows(rng, 60), _rows(rng, 800)
    h = np.array([0.4, 1.0])
    density, nearest = kde_and_nearest(queries, reference, h)
    sq = cdist(_one_hot(queries), _one_hot(reference), "sqeuclidean")
    width = reference.width
    for j, bandwidth in enumerate(h):
        expected = logsumexp(-sq / (2 * bandwidth**2), axis=1) - np.log(800)
        expected -= 0.5 * width * np.log(2 * np.pi * bandwidth**2)
        assert np.allclose(density[:, j], expected, atol=1e-4)
    assert np.allclose(nearest, np.sqrt(sq.min(axis=1)))


def test_match_counts_are_exact() -> None:
    rng = np.random.default_rng(7)
    queries, reference = _rows(rng, 90).codes, _rows(rng, 700).codes
    queries[0, 2] = 10_000  # a category the reference never saw
    counts = MatchCounter(reference).matches(queries)
    expected = (queries[:, None, :] == reference[None, :, :]).sum(axis=2)
    assert np.array_equal(counts, expected)


def _gower_brute_force(
    t_num: np.ndarray, t_codes: np.ndarray, s_num: np.ndarray, s_codes: np.ndarray, k: int
) -> np.ndarray:
    spans = np.full(t_num.shape[1], 4.0)
    distance = np.zeros((len(t_num), len(s_num)))
    for j in range(t_num.shape[1]):
        diff = np.abs(t_num[:, j, None] - s_num[None, :, j]) / spans[j]
        t_missing, s_missing = np.isnan(t_num[:, j])[:, None], np.isnan(s_num[:, j])[None, :]
        distance += np.where(t_missing | s_missing, np.where(t_missing & s_missing, 0, 1), diff)
    distance += (t_codes[:, None, :] != s_codes[None, :, :]).sum(axis=2)
    return np.argsort(distance, axis=1, kind="stable")[:, :k]  # ties to the lower index


@pytest.mark.parametrize("seed", range(12))
def test_pruned_gower_search_matches_brute_force(seed: int) -> None:
    """Integer values make many exact ties: the lower synthetic index must win them."""
    rng = np.random.default_rng(seed)
    n_t, n_s, p, c = rng.integers(1, 120), rng.integers(3, 2500), seed % 4, seed % 5

    def numbers(n: int) -> np.ndarray:
        x = rng.integers(0, 5, (n, p)).astype(np.float64)
        x[rng.random((n, p)) < 0.1] = np.nan
        return x

    def codes(n: int) -> np.ndarray:
        return rng.integers(0, 1 + seed * 3, (n, c))

    t_num, s_num, t_codes, s_codes = numbers(n_t), numbers(n_s), codes(n_t), codes(n_s)
    k = 1 + seed % 3
    queries, reference, gower = Rows(t_num, t_codes), Rows(s_num, s_codes), Gower(np.full(p, 4.0))
    expected = _gower_brute_force(t_num, t_codes, s_num, s_codes, k)
    # excluding nothing by position skips the category-group pass: both paths are checked
    for exclude in (None, np.full(n_t, -1)):
        found = nearest_neighbours(queries, reference, k, metric=gower, exclude=exclude)[1]
        assert np.array_equal(found, expected)


def test_association_matrix_matches_pairwise_measures(tables: dict[str, pd.DataFrame]) -> None:
    data = EvaluationData.build(tables["real"], tables["synthetic"], tables["holdout"])
    matrix = fidelity.association_matrix(data, data.synthetic)
    columns, kinds = data.columns, dict(data.kinds)
    for i, a in enumerate(columns):
        for j, b in enumerate(columns[i + 1 :], start=i + 1):
            expected = fidelity.association(data.synthetic, kinds, a, b)
            assert matrix[i, j] == pytest.approx(expected, abs=1e-12), (a, b)
