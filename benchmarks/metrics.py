"""Utility metrics shared by the MST benchmarks.

This module is imported both by the project's own benchmark and by the isolated
smartnoise-synth virtualenv, so it depends only on numpy, pandas and scikit-learn and
must stay Python 3.11 compatible. Every synthesizer is scored by exactly this code, so a
difference in the numbers is a difference in the synthesizers, not in the scoring.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import OrdinalEncoder

RANDOM_STATE = 0
"""Fixed seed of the classifier, so that AUC differences come from the training data."""


def discretize(df: pd.DataFrame, numeric_bins: dict[str, np.ndarray]) -> pd.DataFrame:
    """Map numeric columns to bin indices and every other column to strings.

    Real and synthetic tables must be compared on the same cells; binning both with the
    same public edges (and giving categoricals one common type) guarantees that a value
    counts towards the same marginal cell whichever table it comes from. Values outside
    the edges fall into the first or last bin, and missing values stay missing.
    """
    out = pd.DataFrame(index=df.index)
    for col in df.columns:
        if col in numeric_bins:
            out[col] = _bin_indices(df[col], np.asarray(numeric_bins[col], dtype=float))
        else:
            out[col] = df[col].astype("string")
    return out


def _bin_indices(values: pd.Series, edges: np.ndarray) -> pd.Series:
    """Index of the bin [edges[i], edges[i+1]) holding each value, clipped to the range."""
    if edges.ndim != 1 or edges.size < 2:
        raise ValueError("bin edges need at least two values")
    numeric = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    idx = np.clip(np.searchsorted(edges, numeric, side="right") - 1, 0, edges.size - 2)
    result = pd.Series(idx, index=values.index, dtype="Int64")
    result[np.isnan(numeric)] = pd.NA
    return result


def mean_marginal_tvd(
    real: pd.DataFrame,
    synth: pd.DataFrame,
    way: int,
    max_marginals: int = 300,
    seed: int = 0,
) -> float:
    """Mean total-variation distance between real and synthetic `way`-way marginals.

    TVD is half the L1 distance between the normalized contingency tables. When there are
    more than `max_marginals` column subsets, a seeded random sample of them is scored so
    that the cost stays bounded and every run with the same seed scores the same subsets.
    Both frames should come from `discretize` with the same bins.
    """
    columns = list(real.columns)
    if set(columns) != set(synth.columns):
        raise ValueError("real and synthetic data must have the same columns")
    if not 1 <= way <= len(columns):
        raise ValueError(f"way must be between 1 and {len(columns)}, got {way}")
    subsets = _sample_subsets(columns, way, max_marginals, seed)
    return float(np.mean([_marginal_tvd(real, synth, cols) for cols in subsets]))


def _sample_subsets(
    columns: Sequence[str], way: int, max_marginals: int, seed: int
) -> list[tuple[str, ...]]:
    """All column subsets of size `way`, or a seeded sample of `max_marginals` of them."""
    subsets = list(itertools.combinations(columns, way))
    if len(subsets) <= max_marginals:
        return subsets
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(subsets), size=max_marginals, replace=False)
    return [subsets[i] for i in sorted(chosen)]


def _marginal_tvd(real: pd.DataFrame, synth: pd.DataFrame, cols: tuple[str, ...]) -> float:
    """TVD of one marginal; cells missing from one table count as probability zero."""
    p = real[list(cols)].value_counts(normalize=True, dropna=False)
    q = synth[list(cols)].value_counts(normalize=True, dropna=False)
    p, q = p.align(q, fill_value=0.0)
    return float(0.5 * np.abs(p.to_numpy() - q.to_numpy()).sum())


def tstr_auc(
    train_synth: pd.DataFrame, test_real: pd.DataFrame, target: str, positive: Hashable
) -> float:
    """ROC AUC on real test data of a classifier trained on (synthetic) training data.

    Train-synthetic-test-real measures whether the synthetic data keeps the relations a
    downstream model needs. Non-numeric features are ordinal-encoded with categories taken
    from the union of both frames (so no category is unknown at test time) and handled
    natively as categorical by the gradient-boosting model. Labels are compared as strings
    with `positive`, so 1 and "1" name the same class in integer and discretized frames.
    A training set holding a single class gives a constant predictor, scored 0.5.
    """
    features = [c for c in train_synth.columns if c != target]
    y_train = _labels(train_synth[target], positive)
    y_test = _labels(test_real[target], positive)
    if y_train.min() == y_train.max():
        return 0.5
    x_train, x_test, categorical = _encode(train_synth[features], test_real[features])
    model = HistGradientBoostingClassifier(
        categorical_features=categorical, random_state=RANDOM_STATE
    )
    model.fit(x_train, y_train)
    return float(roc_auc_score(y_test, model.predict_proba(x_test)[:, 1]))


def trtr_auc(
    train_real: pd.DataFrame, test_real: pd.DataFrame, target: str, positive: Hashable
) -> float:
    """Train-real-test-real AUC: the reference a perfect synthesizer would reach."""
    return tstr_auc(train_real, test_real, target, positive)


def _labels(values: pd.Series, positive: Hashable) -> np.ndarray:
    """Binary labels: 1 where the value (as a string) equals `positive`."""
    return (values.astype("string") == str(positive)).to_numpy(dtype=int)


def _encode(train: pd.DataFrame, test: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Float feature matrices plus the mask of the columns that are categorical."""
    categorical = np.array([not pd.api.types.is_numeric_dtype(train[c]) for c in train.columns])
    pairs = [
        _encode_column(train[c], test[c], bool(is_cat))
        for c, is_cat in zip(train.columns, categorical, strict=True)
    ]
    x_train = np.column_stack([a for a, _ in pairs])
    x_test = np.column_stack([b for _, b in pairs])
    return x_train, x_test, categorical


def _encode_column(
    train_col: pd.Series, test_col: pd.Series, is_categorical: bool
) -> tuple[np.ndarray, np.ndarray]:
    """One column as floats: category codes, or the numbers with missing values as NaN."""
    if not is_categorical:
        return _as_float(train_col), _as_float(test_col)
    encoder = _union_encoder(train_col, test_col)
    return _codes(encoder, train_col), _codes(encoder, test_col)


def _as_float(col: pd.Series) -> np.ndarray:
    """Numeric column as a float array (nullable NA becomes NaN)."""
    return col.astype("Float64").to_numpy(dtype=float, na_value=np.nan)


def _codes(encoder: OrdinalEncoder, col: pd.Series) -> np.ndarray:
    """Category codes of a column, its values compared as strings."""
    values = col.astype(str).to_numpy(dtype=object).reshape(-1, 1)
    return np.asarray(encoder.transform(values), dtype=float).ravel()


def _union_encoder(train_col: pd.Series, test_col: pd.Series) -> OrdinalEncoder:
    """Ordinal encoder that knows every category seen in either frame."""
    union = sorted(set(train_col.astype(str)) | set(test_col.astype(str)))
    encoder = OrdinalEncoder(categories=[union], dtype=float)
    return encoder.fit(np.array(union, dtype=object).reshape(-1, 1))


def summarize(
    runs: list[dict[str, float]], metrics: tuple[str, ...]
) -> dict[str, dict[str, float]]:
    """Mean and sample standard deviation (ddof=1 when there are several runs)."""
    summary = {}
    for key in metrics:
        values = np.array([run[key] for run in runs])
        std = float(values.std(ddof=1)) if values.size > 1 else 0.0
        summary[key] = {"mean": float(values.mean()), "std": std}
    return summary


def print_table(
    runs: list[dict[str, float]], summary: dict[str, dict[str, float]], metrics: tuple[str, ...]
) -> None:
    """Per-seed rows and a mean ± std row."""
    print(f"{'seed':>6} " + " ".join(f"{key:>16}" for key in metrics))
    for run in runs:
        print(f"{run['seed']:>6} " + " ".join(f"{run[key]:>16.4f}" for key in metrics))
    cells = [f"{summary[k]['mean']:.4f}±{summary[k]['std']:.4f}" for k in metrics]
    print(f"{'mean':>6} " + " ".join(f"{cell:>16}" for cell in cells))
