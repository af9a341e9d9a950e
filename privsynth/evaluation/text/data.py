"""The corpora a text evaluation compares, and what several metrics share, made once.

``real`` is the text the generator was trained on, ``synthetic`` what it produced,
``test`` real text it never saw (optional: the TRTR yardstick and the memorisation
control). Labels, when given, are one per document. Embeddings, the memorisation
index, the detection classifier and the TSTR classifiers are each computed once and
read by every metric that needs them (four memorisation metrics, one index).

Diversity grows with corpus size, so the lexical and Vendi comparisons use equal-size
samples: all documents of the smaller corpus and a seeded sample of as many from the
larger. Embedding metrics embed at most :data:`MAX_EMBEDDED` documents per corpus.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from privsynth.errors import ConfigurationError, InputDataError
from privsynth.evaluation.text.detection import TextDetection, detection_auc
from privsynth.evaluation.text.memorisation import Memorisation, measure_memorisation
from privsynth.evaluation.text.tokens import EncodedCorpus, encode
from privsynth.evaluation.text.utility import TextUtility, text_tstr

if TYPE_CHECKING:
    from privsynth.evaluation.text.embedder import FloatMatrix, SentenceEmbedder

#: documents per corpus that the embedding metrics embed at most (a seeded sample)
MAX_EMBEDDED = 2_000


def _sample(count: int, size: int, rng: np.random.Generator) -> list[int]:
    """``size`` sorted indices of ``range(count)`` (all of them when ``size >= count``)."""
    if size >= count:
        return list(range(count))
    return sorted(int(i) for i in rng.choice(count, size, replace=False))


@dataclass
class TextData:
    """The corpora, their labels, the embedder, and the shared computations."""

    real: list[str]
    synthetic: list[str]
    test: list[str] | None = None
    real_labels: list[object] | None = None
    synthetic_labels: list[object] | None = None
    test_labels: list[object] | None = None
    embedder: SentenceEmbedder | str | Path | None = None
    seed: int = 0

    @classmethod
    def build(
        cls,
        real: Sequence[str],
        synthetic: Sequence[str],
        test: Sequence[str] | None = None,
        *,
        real_labels: Sequence[object] | None = None,
        synthetic_labels: Sequence[object] | None = None,
        test_labels: Sequence[object] | None = None,
        embedder: SentenceEmbedder | str | Path | None = None,
        seed: int = 0,
    ) -> TextData:
        """Check the corpora are non-empty; every document is read as text."""
        if not real or not synthetic:
            raise InputDataError("the real and synthetic corpora must both have documents")
        return cls(
            real=[str(t) for t in real], synthetic=[str(t) for t in synthetic],
            test=[str(t) for t in test] if test else None,
            real_labels=list(real_labels) if real_labels is not None else None,
            synthetic_labels=list(synthetic_labels) if synthetic_labels is not None else None,
            test_labels=list(test_labels) if test_labels is not None else None,
            embedder=embedder, seed=seed,
        )  # fmt: skip

    def rng(self, salt: int) -> np.random.Generator:
        """A generator per use, so adding one metric does not shift another's samples."""
        return np.random.default_rng([self.seed, salt])

    @cached_property
    def equal_size(self) -> tuple[list[str], list[str]]:
        """Equal numbers of real and synthetic documents (the larger side sampled)."""
        size = min(len(self.real), len(self.synthetic))
        rng = self.rng(1)
        real = [self.real[i] for i in _sample(len(self.real), size, rng)]
        synthetic = [self.synthetic[i] for i in _sample(len(self.synthetic), size, rng)]
        return real, synthetic

    @cached_property
    def equal_size_encoded(self) -> tuple[EncodedCorpus, EncodedCorpus, int]:
        """The equal-size samples as word ids over one vocabulary (and its size), shared
        by the lexical metrics."""
        (real, synthetic), size = encode(*self.equal_size)
        return real, synthetic, size

    @cached_property
    def model(self) -> SentenceEmbedder:
        from privsynth.evaluation.text.embedder import resolve_embedder

        return resolve_embedder(self.embedder)

    @cached_property
    def _embedded(self) -> tuple[list[int], list[int]]:
        rng = self.rng(2)
        return (
            _sample(len(self.real), MAX_EMBEDDED, rng),
            _sample(len(self.synthetic), MAX_EMBEDDED, rng),
        )

    @cached_property
    def real_embeddings(self) -> FloatMatrix:
        return self.model.encode([self.real[i] for i in self._embedded[0]])

    @cached_property
    def synthetic_embeddings(self) -> FloatMatrix:
        return self.model.encode([self.synthetic[i] for i in self._embedded[1]])

    @cached_property
    def equal_size_embeddings(self) -> tuple[FloatMatrix, FloatMatrix]:
        """Equal numbers of real and synthetic embeddings (for the Vendi comparison)."""
        real, synthetic = self.real_embeddings, self.synthetic_embeddings
        size = min(len(real), len(synthetic))
        rng = self.rng(3)
        return real[_sample(len(real), size, rng)], synthetic[_sample(len(synthetic), size, rng)]

    @cached_property
    def truncated_share(self) -> float:
        """Share of the embedded documents longer than the model's window."""
        texts = [self.real[i] for i in self._embedded[0]]
        texts += [self.synthetic[i] for i in self._embedded[1]]
        return self.model.truncated_share(texts)

    @cached_property
    def memorisation(self) -> Memorisation:
        return measure_memorisation(self.real, self.synthetic)

    @cached_property
    def holdout_memorisation(self) -> Memorisation | None:
        """Real test text against the training text: how much real text the generator
        never saw shares with training anyway (boilerplate, stock phrases)."""
        return measure_memorisation(self.real, self.test) if self.test else None

    @cached_property
    def detection(self) -> TextDetection:
        return detection_auc(self.real, self.synthetic, seed=self.seed)

    @cached_property
    def utility(self) -> TextUtility:
        if self.synthetic_labels is None or (self.real_labels is None and not self.test_labels):
            raise ConfigurationError(
                "train-synthetic-test-real needs labels of the synthetic and real documents",
                hint="name the label column (`target`) or pass the labels",
            )
        synthetic = (self.synthetic, self.synthetic_labels)
        if self.test and self.test_labels is not None:
            real_train = (self.real, self.real_labels) if self.real_labels is not None else None
            return text_tstr(synthetic, (self.test, self.test_labels), real_train, seed=self.seed)
        assert self.real_labels is not None
        return text_tstr(synthetic, (self.real, self.real_labels), seed=self.seed)

    @property
    def tested_on(self) -> str:
        """Which real documents TSTR is tested on."""
        return "test" if self.test and self.test_labels is not None else "training"
