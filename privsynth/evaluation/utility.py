"""Utility: does a model trained on synthetic rows work on real ones?

``tstr`` trains a gradient-boosting model on the synthetic table and tests it on real
records the generator never saw (train-synthetic-test-real), next to the same model
trained on the real table (train-real-test-real) as the ceiling. A table with no
target column cannot be scored: the metric raises :class:`ConfigurationError`, which
the report assembler lists under ``skipped``.

The feature encoding here (ordinal codes over the union of every table's categories,
fed to scikit-learn's native categorical support) is shared with ``detection``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.metrics import accuracy_score, f1_score, mean_absolute_error, r2_score, roc_auc_score
from threadpoolctl import threadpool_limits

from privsynth.errors import ConfigurationError, InputDataError
from privsynth.evaluation.base import METRICS, Metric, MetricResult
from privsynth.evaluation.data import EvaluationData, FloatMatrix

#: histogram gradient boosting treats at most this many categories per feature natively
MAX_CATEGORIES = 255
RANDOM_STATE = 0
HOLDOUT_SHARE = 0.2
#: OpenMP threads for model fits. Gradient boosting's threads spin at every barrier, so
#: on a machine whose cores are busy with other work two threads made a 2 s fit take
#: 30 s (measured on Adult, 2 cores, load 4); one thread is steady and fast enough.
MODEL_THREADS = 1


def model_threads() -> Any:
    """Context manager holding scikit-learn's OpenMP pool to ``MODEL_THREADS``."""
    return threadpool_limits(limits=MODEL_THREADS, user_api="openmp")


@dataclass(frozen=True)
class FeatureEncoder:
    """Ordinal codes per categorical column, fitted on the union of the tables'
    categories so a category seen only in one table still gets a stable code. Beyond
    the 255 most frequent categories of a column the rest become missing (the model's
    native limit); numeric columns pass through with NaN left for the model."""

    columns: list[str]
    codes: dict[str, dict[str, int]]

    @classmethod
    def fit(cls, data: EvaluationData, columns: list[str]) -> FeatureEncoder:
        tables = [data.real, data.synthetic] + ([data.holdout] if data.holdout is not None else [])
        codes = {}
        for column in columns:
            if data.kinds[column] == "categorical":
                counts = pd.concat([t[column] for t in tables]).value_counts()
                kept = sorted(counts.index[:MAX_CATEGORIES].astype(str))
                codes[column] = {label: i for i, label in enumerate(kept)}
        return cls(columns, codes)

    @property
    def categorical_mask(self) -> npt.NDArray[np.bool_]:
        return np.array([c in self.codes for c in self.columns], dtype=bool)

    def transform(self, frame: pd.DataFrame) -> FloatMatrix:
        """The columns as a float matrix: codes for categorical, values for numeric."""
        blocks = [
            frame[c].map(self.codes[c]).to_numpy(np.float64)
            if c in self.codes
            else frame[c].to_numpy(np.float64)
            for c in self.columns
        ]
        return np.column_stack(blocks) if blocks else np.zeros((len(frame), 0))


def trainable(x: FloatMatrix) -> FloatMatrix:
    """Training features with every all-missing column set to 0: scikit-learn's binning
    fails on a numeric feature missing in every training row (a generator that released
    none of a column's values gives one), and a constant carries the same nothing."""
    empty = np.isnan(x).all(axis=0)
    if not empty.any():
        return x
    filled = x.copy()
    filled[:, empty] = 0.0
    return filled


def classifier(mask: npt.NDArray[np.bool_]) -> HistGradientBoostingClassifier:
    """The shared model: sklearn defaults, native categoricals, fixed seed."""
    return HistGradientBoostingClassifier(
        categorical_features=mask if mask.any() else None, random_state=RANDOM_STATE
    )


def macro_auc(y_true: npt.NDArray[Any], scores: FloatMatrix, classes: list[str]) -> float:
    """One-vs-rest macro AUC over the classes that occur in ``y_true`` alongside some
    other class (for two classes this equals the ordinary binary AUC); 0.5 when no
    class qualifies."""
    aucs = []
    for k, label in enumerate(classes):
        positive = y_true == label
        if positive.any() and not positive.all():
            aucs.append(roc_auc_score(positive, scores[:, k]))
    return float(np.mean(aucs)) if aucs else 0.5


def _split(data: EvaluationData) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Real training rows and real test rows: all real rows and the holdout, or
    without a holdout a seeded 80/20 split of the real rows."""
    if data.holdout is not None and not data.holdout.empty:
        return data.real, data.holdout, "holdout"
    rng = np.random.default_rng(data.seed)
    n_test = max(1, round(HOLDOUT_SHARE * len(data.real)))
    test = np.zeros(len(data.real), dtype=bool)
    test[rng.permutation(len(data.real))[:n_test]] = True
    return data.real[~test], data.real[test], "real_split_20pct"


def _present(frame: pd.DataFrame, target: str) -> pd.DataFrame:
    return frame[frame[target].notna()]


def classification_scores(
    train: pd.DataFrame, test: pd.DataFrame, target: str, encoder: FeatureEncoder
) -> dict[str, float]:
    """AUC, accuracy and macro F1 of a model trained on ``train``; a training table with
    a single class yields that constant prediction (AUC 0.5) rather than an error."""
    classes = sorted(set(train[target]) | set(test[target]))
    y_test = test[target].to_numpy()
    scores = np.zeros((len(test), len(classes)))
    train_classes = sorted(set(train[target]))
    if len(train_classes) < 2:
        scores[:, classes.index(train_classes[0])] = 1.0
    else:
        model = classifier(encoder.categorical_mask)
        model.fit(trainable(encoder.transform(train)), train[target].to_numpy())
        probabilities = model.predict_proba(encoder.transform(test))
        for k, label in enumerate(model.classes_):
            scores[:, classes.index(label)] = probabilities[:, k]
    predicted = np.array(classes, dtype=object)[scores.argmax(axis=1)]
    return {
        "auc": macro_auc(y_test, scores, classes),
        "accuracy": float(accuracy_score(y_test, predicted)),
        "macro_f1": float(f1_score(y_test, predicted, average="macro", zero_division=0)),
    }


def regression_scores(
    train: pd.DataFrame, test: pd.DataFrame, target: str, encoder: FeatureEncoder
) -> dict[str, float]:
    """R² and MAE on the test rows whose target is present."""
    train, test = _present(train, target), _present(test, target)
    if train.empty or test.empty:
        raise InputDataError(
            f"no row has a value in target column {target!r} to train or test on",
            hint="check the target column of the synthetic and holdout tables",
        )
    mask = encoder.categorical_mask
    model = HistGradientBoostingRegressor(
        categorical_features=mask if mask.any() else None, random_state=RANDOM_STATE
    )
    model.fit(trainable(encoder.transform(train)), train[target].to_numpy(np.float64))
    predicted = model.predict(encoder.transform(test))
    y_test = test[target].to_numpy(np.float64)
    return {
        "r2": float(r2_score(y_test, predicted)),
        "mae": float(mean_absolute_error(y_test, predicted)),
    }


@METRICS.register("tstr")
class TrainSyntheticTestReal(Metric):
    """TSTR: the synthetic-trained model's score on real test rows. Classification
    (categorical target): value = macro one-vs-rest AUC; regression (numeric target):
    value = R² clipped to [-1, 1]. Details hold both TSTR and TRTR figures and
    ``ratio`` = TSTR / TRTR of the headline score (1 = no utility lost)."""

    name = "tstr"
    goal = "maximize"
    low = -1.0
    high = 1.0
    section = "utility"

    def compute(self, data: EvaluationData) -> MetricResult:
        target = data.target
        if target is None:
            raise ConfigurationError(
                "train-synthetic-test-real needs a target column",
                hint="pass `target` (the column a downstream model would predict)",
            )
        train_real, test, test_source = _split(data)
        features = [c for c in data.columns if c != target]
        encoder = FeatureEncoder.fit(data, features)
        task = "classification" if data.kinds[target] == "categorical" else "regression"
        scorer = classification_scores if task == "classification" else regression_scores
        headline = "auc" if task == "classification" else "r2"
        with model_threads():
            tstr = scorer(_present(data.synthetic, target), test, target, encoder)
            trtr = scorer(_present(train_real, target), test, target, encoder)
        value = float(np.clip(tstr[headline], self.low, self.high))
        ratio = tstr[headline] / trtr[headline] if trtr[headline] > 0 else None
        return self.result(
            value,
            task=task,
            target=target,
            headline=headline,
            tested_on=test_source,
            test_rows=len(test),
            tstr=tstr,
            trtr=trtr,
            ratio=ratio,
        )
