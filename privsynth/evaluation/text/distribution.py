"""How far the synthetic documents' embeddings lie from the real ones, as distributions.

* ``frechet_distance``: the Fréchet (2-Wasserstein) distance between Gaussians fitted to
  the real and the synthetic embeddings, ``|μr − μs|² + tr(Σr + Σs − 2 (Σr Σs)^½)``, as
  FID (Heusel et al. 2017) does for images and FBD/FED for text. 0 for equal Gaussian
  fits; it sees shifts in topic and in spread, not the shape beyond two moments, and it
  is biased upward for small samples (compare corpora of equal sizes).
* ``mauve_style``: a MAUVE-style score (our implementation of the method of Pillutla et
  al. 2021, "MAUVE: Measuring the Gap Between Neural Text and Human Text", not their
  package): the union of embeddings is reduced by PCA (90% of the variance) and
  quantised by seeded k-means into k ≈ n/10 clusters, giving histograms P (real) and Q
  (synthetic); along the divergence frontier of the mixtures R = λP + (1 − λ)Q the curve
  (exp(−c·KL(Q‖R)), exp(−c·KL(P‖R))), c = 5, is traced and its area is the score: 1 when
  P = Q, near 0 when they do not overlap. It penalises both synthetic text in regions
  real text never visits (KL(Q‖R)) and real regions the generator misses (KL(P‖R)).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from privsynth.errors import InputDataError
from privsynth.evaluation.text.classifiers import one_thread

if TYPE_CHECKING:
    from privsynth.evaluation.text.embedder import FloatMatrix, SentenceEmbedder

#: the scaling constant c of exp(−c·KL), as in the MAUVE paper
MAUVE_SCALING = 5.0
#: mixture weights λ along the divergence frontier (as in the MAUVE package)
MIXTURES = np.linspace(1e-6, 1 - 1e-6, 25)
#: share of the embeddings' variance kept by PCA before quantisation
PCA_VARIANCE = 0.9


def _moments(x: FloatMatrix, side: str) -> tuple[FloatMatrix, FloatMatrix]:
    if x.shape[0] < 2:
        raise InputDataError(f"the Fréchet distance needs at least 2 {side} documents")
    return x.mean(axis=0), np.cov(x, rowvar=False)


def _psd_sqrt(matrix: FloatMatrix) -> FloatMatrix:
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    root: FloatMatrix = (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T
    return root


def frechet_distance_embeddings(real: FloatMatrix, synthetic: FloatMatrix) -> float:
    """Fréchet distance between Gaussian fits of two sets of embeddings.

    ``tr((Σr Σs)^½)`` is computed as ``Σ √eig(Σr^½ Σs Σr^½)``, a symmetric positive
    semi-definite matrix, so singular covariances (fewer documents than dimensions)
    need no regularising offset and give no complex roundoff."""
    with one_thread():
        mean_r, cov_r = _moments(np.asarray(real, dtype=np.float64), "real")
        mean_s, cov_s = _moments(np.asarray(synthetic, dtype=np.float64), "synthetic")
        root = _psd_sqrt(cov_r)
        middle = np.linalg.eigvalsh(root @ cov_s @ root)
    cross = float(np.sqrt(np.clip(middle, 0.0, None)).sum())
    distance = float(((mean_r - mean_s) ** 2).sum() + np.trace(cov_r) + np.trace(cov_s))
    return max(distance - 2.0 * cross, 0.0)


def frechet_distance(
    real: Sequence[str], synthetic: Sequence[str], embedder: SentenceEmbedder | None = None
) -> float:
    """Fréchet distance between the embeddings of two corpora."""
    from privsynth.evaluation.text.embedder import resolve_embedder

    model = resolve_embedder(embedder)
    return frechet_distance_embeddings(model.encode(real), model.encode(synthetic))


def quantised_histograms(
    real: FloatMatrix, synthetic: FloatMatrix, seed: int = 0
) -> tuple[FloatMatrix, FloatMatrix]:
    """Cluster shares of the real and synthetic embeddings over k-means clusters of
    their union (PCA first), k = max(2, round(min(n_real, n_synthetic) / 10))."""
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA

    n_real, n_synthetic = len(real), len(synthetic)
    if min(n_real, n_synthetic) < 2:
        raise InputDataError("the MAUVE-style score needs at least 2 documents on each side")
    union = np.vstack([real, synthetic]).astype(np.float64)
    components = min(union.shape) - 1
    if components >= 2:
        with one_thread():
            reduced = PCA(n_components=components, random_state=seed).fit(union)
        keep = int(np.searchsorted(np.cumsum(reduced.explained_variance_ratio_), PCA_VARIANCE)) + 1
        union = reduced.transform(union)[:, : max(keep, 1)]
    clusters = max(2, round(min(n_real, n_synthetic) / 10))
    kmeans = KMeans(n_clusters=clusters, n_init=5, max_iter=500, random_state=seed)
    with one_thread():
        labels = kmeans.fit_predict(union)
    p = np.bincount(labels[:n_real], minlength=clusters) / n_real
    q = np.bincount(labels[n_real:], minlength=clusters) / n_synthetic
    return p.astype(np.float64), q.astype(np.float64)


def _kl(p: FloatMatrix, r: FloatMatrix) -> float:
    mask = p > 0
    return float((p[mask] * np.log(p[mask] / r[mask])).sum())


def mauve_area(p: FloatMatrix, q: FloatMatrix, scaling: float = MAUVE_SCALING) -> float:
    """Area under the divergence curve of histograms ``p`` (real) and ``q`` (synthetic).

    The curve is traced in the order of λ, from (1, 0) (R = Q) to (0, 1) (R = P); x
    falls and y rises along it, so the area is ``−∫ y dx`` in that order, with no
    sorting whose ties could cut corners (P = Q gives exactly 1)."""
    points = [(1.0, 0.0)]  # the frontier's end at λ → 0, as in the MAUVE package
    for weight in MIXTURES:
        mixture = weight * p + (1 - weight) * q
        points.append((np.exp(-scaling * _kl(q, mixture)), np.exp(-scaling * _kl(p, mixture))))
    points.append((0.0, 1.0))
    curve = np.asarray(points)
    return float(np.clip(-np.trapezoid(curve[:, 1], curve[:, 0]), 0.0, 1.0))


def mauve_style_embeddings(real: FloatMatrix, synthetic: FloatMatrix, seed: int = 0) -> float:
    """The MAUVE-style score of two sets of embeddings (1 = same distribution)."""
    p, q = quantised_histograms(real, synthetic, seed)
    return mauve_area(p, q)


def mauve_style(
    real: Sequence[str],
    synthetic: Sequence[str],
    embedder: SentenceEmbedder | None = None,
    seed: int = 0,
) -> float:
    """The MAUVE-style score of two corpora (our implementation; see the module)."""
    from privsynth.evaluation.text.embedder import resolve_embedder

    model = resolve_embedder(embedder)
    return mauve_style_embeddings(model.encode(real), model.encode(synthetic), seed)
