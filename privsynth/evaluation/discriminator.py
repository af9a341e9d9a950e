"""Detection: can a classifier tell synthetic rows from real ones?

If it cannot (cross-validated AUC near 0.5) the synthetic table is, to that model,
indistinguishable from the real one. If it can, the features it leans on point at
the generator's artifacts (an impossible value range, a missing interaction), which
is why the details name the most useful features.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.inspection import permutation_importance
from sklearn.metrics import roc_auc_score

from privsynth.errors import InputDataError
from privsynth.evaluation.base import METRICS, Metric, MetricResult
from privsynth.evaluation.data import EvaluationData, FloatMatrix
from privsynth.evaluation.utility import FeatureEncoder, classifier, model_threads, trainable

#: rows taken from each table at most; more barely changes the AUC and costs time
MAX_ROWS_PER_TABLE = 20_000
FOLDS = 3
TOP_FEATURES = 5
PERMUTATION_REPEATS = 2
PERMUTATION_ROWS = 2_000


def balanced_sample(data: EvaluationData) -> tuple[pd.DataFrame, pd.DataFrame]:
    """As many real as synthetic rows (the smaller table's size, capped), drawn with
    ``data.seed``: with equal classes an AUC of 0.5 is exactly chance."""
    n = min(len(data.real), len(data.synthetic), MAX_ROWS_PER_TABLE)
    rng = np.random.default_rng(data.seed)
    real = data.real.iloc[rng.choice(len(data.real), n, replace=False)]
    synthetic = data.synthetic.iloc[rng.choice(len(data.synthetic), n, replace=False)]
    return real, synthetic


def top_features(
    model: Any, x: FloatMatrix, y: npt.NDArray[np.int64], columns: list[str], seed: int
) -> list[dict[str, Any]]:
    """The features whose shuffling costs the fitted model most AUC on held-out rows
    (permutation importance, which unlike split counts does not favour features with
    many distinct values). Scored on at most 2,000 rows: each feature and repeat costs a
    full prediction, and the ranking is stable well before that."""
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(y), min(len(y), PERMUTATION_ROWS), replace=False)
    found = permutation_importance(
        model, x[rows], y[rows], scoring="roc_auc", n_repeats=PERMUTATION_REPEATS, random_state=seed
    )
    order = np.argsort(found.importances_mean)[::-1][:TOP_FEATURES]
    return [{"column": columns[i], "importance": float(found.importances_mean[i])} for i in order]


def grouped_folds(
    rows: pd.DataFrame, y: npt.NDArray[np.int64], folds: int, seed: int
) -> npt.NDArray[np.int64]:
    """A fold number per row such that identical rows share a fold. Otherwise a record
    copied into the synthetic table sits in training with one label and in testing with
    the other, and the classifier's memory of it (not any difference between the
    tables) drives the AUC away from 0.5. Groups are dealt round-robin within three
    strata (only real, only synthetic, both), so each fold keeps the class balance."""
    groups, _ = pd.factorize(pd.util.hash_pandas_object(rows, index=False))
    n_groups = int(groups.max()) + 1
    synthetic = np.bincount(groups, weights=y, minlength=n_groups)
    size = np.bincount(groups, minlength=n_groups)
    stratum = np.where(synthetic == 0, 0, np.where(synthetic == size, 1, 2))
    order = np.random.default_rng(seed).permutation(n_groups)
    order = order[np.argsort(stratum[order], kind="stable")]
    fold_of_group = np.empty(n_groups, dtype=np.int64)
    fold_of_group[order] = np.arange(n_groups) % folds
    return fold_of_group[groups]


@METRICS.register("detection_auc")
class DetectionAUC(Metric):
    """3-fold cross-validated AUC of gradient boosting separating real from synthetic
    rows (folds stratified by label, identical rows kept in one fold), folded to
    ``max(auc, 1 - auc)``: 0.5 = indistinguishable (best), 1.0 = every row told apart.
    The raw AUC and each fold's are in the details."""

    name = "detection_auc"
    goal = "minimize"
    low = 0.5
    high = 1.0
    section = "detection"

    def compute(self, data: EvaluationData) -> MetricResult:
        real, synthetic = balanced_sample(data)
        encoder = FeatureEncoder.fit(data, data.columns)
        x = np.vstack([encoder.transform(real), encoder.transform(synthetic)])
        y = np.concatenate([np.zeros(len(real)), np.ones(len(synthetic))]).astype(np.int64)
        fold = grouped_folds(pd.concat([real, synthetic]), y, FOLDS, data.seed)
        with model_threads():
            aucs, features = self._cross_validate(encoder, x, y, fold, data)
        auc = float(np.mean(aucs))
        return self.result(
            max(auc, 1.0 - auc),
            raw_auc=auc,
            fold_aucs=aucs,
            rows_per_table=len(real),
            top_features=features,
            importance="permutation importance (AUC drop) on the first fold's held-out rows",
        )

    @staticmethod
    def _cross_validate(
        encoder: FeatureEncoder,
        x: FloatMatrix,
        y: npt.NDArray[np.int64],
        fold: npt.NDArray[np.int64],
        data: EvaluationData,
    ) -> tuple[list[float], list[dict[str, Any]]]:
        """Each fold's held-out AUC, and the first fold model's most useful features."""
        aucs, features = [], []
        for k in range(FOLDS):
            train, test = fold != k, fold == k
            if len(set(y[train])) < 2 or len(set(y[test])) < 2:
                continue  # too few rows for this fold to hold both tables
            model = classifier(encoder.categorical_mask).fit(trainable(x[train]), y[train])
            aucs.append(float(roc_auc_score(y[test], model.predict_proba(x[test])[:, 1])))
            if len(aucs) == 1:  # the first fold that ran
                features = top_features(model, x[test], y[test], data.columns, data.seed)
        if not aucs:
            raise InputDataError(
                "detection_auc needs more rows: no cross-validation fold holds rows of both tables",
                hint="evaluate tables of at least a few dozen rows",
            )
        return aucs, features
