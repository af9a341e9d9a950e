"""The PII detector: spaCy NER + Presidio's and our recognizers, in batches.

Built once and reused: the spaCy pipeline runs through ``nlp.pipe`` over batches
(optionally in several processes) without its dependency parser, which nothing here
needs; Presidio then runs its pattern and context logic on the precomputed NLP
artifacts, and :mod:`privsynth.pii.filters` removes implausible spans and merges
overlaps; :mod:`privsynth.pii.propagation` then finds the other mentions of the
names found. ALL-CAPS texts are analysed by the model in lower case (same offsets),
where it is far less prone to calling every header an organisation.
"""

from __future__ import annotations

import atexit
import bisect
import functools
import multiprocessing
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from privsynth.errors import ConfigurationError
from privsynth.pii import entities as E
from privsynth.pii.filters import drop_allowed, is_plausible, merge_overlaps, model_view
from privsynth.pii.nlp import DEFAULT_MODEL, NER_PIPES, load_nlp_engine, to_artifacts
from privsynth.pii.propagation import propagate
from privsynth.pii.spans import Detection


@dataclass(frozen=True)
class DetectorConfig:
    """What to look for and how; loadable from YAML (``privsynth scrub --config``)."""

    model: str = DEFAULT_MODEL
    entities: tuple[str, ...] = E.DEFAULT_ENTITIES
    threshold: float = 0.4
    #: (entity, terms) pairs always reported as that entity (e.g. local clinic names)
    deny_list: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: terms never reported (e.g. drug or device names the model mistakes for names)
    allow_list: tuple[str, ...] = ()
    #: texts per ``nlp.pipe`` batch (128 measured ~8% faster than spaCy's 32 on short texts)
    batch_size: int = 128
    n_process: int = 1
    #: run spaCy's statistical NER (names, places, dates by context); without it only the
    #: pattern and lexicon recognizers run, about 3x faster. ``None``: on, except in the
    #: scrubber's high-recall mode, which masks every word not known to be safe anyway
    ner: bool | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.threshold <= 1.0:
            raise ConfigurationError(f"threshold must be in [0, 1], got {self.threshold!r}")
        if self.batch_size < 1 or self.n_process < 1:
            raise ConfigurationError("batch_size and n_process must be positive")

    @classmethod
    def from_file(cls, path: str | Path) -> DetectorConfig:
        """Load a YAML file with any of the fields above."""
        try:
            raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
            raise ConfigurationError(
                f"cannot read PII config {path} ({type(exc).__name__})"
            ) from None
        unknown = set(raw) - set(cls.__dataclass_fields__)
        if unknown:
            raise ConfigurationError(f"unknown PII config keys: {', '.join(sorted(unknown))}")
        raw["entities"] = tuple(raw.get("entities", E.DEFAULT_ENTITIES))
        raw["allow_list"] = tuple(raw.get("allow_list", ()))
        raw["deny_list"] = tuple((k, tuple(v)) for k, v in raw.get("deny_list", {}).items())
        return cls(**raw)


def _recognizers(config: DetectorConfig) -> list[Any]:
    """The default recognizers, plus one deny-list recognizer per configured entity."""
    from presidio_analyzer import PatternRecognizer

    from privsynth.pii.recognizers import default_recognizers

    found = default_recognizers()
    for entity, terms in config.deny_list:
        found.append(PatternRecognizer(supported_entity=entity, deny_list=list(terms)))
    return found


def _cached_registry() -> Any:
    """A recognizer registry that remembers which recognizers serve which entities
    (Presidio recomputes this for every text, a sixth of its analysis time)."""
    from presidio_analyzer import RecognizerRegistry

    class CachedRegistry(RecognizerRegistry):
        def __init__(self) -> None:
            super().__init__(supported_languages=["en"])
            self.memo: dict[tuple[Any, ...], Any] = {}

        def add_recognizer(self, recognizer: Any) -> None:
            self.memo.clear()
            super().add_recognizer(recognizer)

        def get_recognizers(self, language: str, entities: Any = None, all_fields: bool = False,
                            ad_hoc_recognizers: Any = None) -> Any:  # fmt: skip
            if ad_hoc_recognizers:
                return super().get_recognizers(language, entities, all_fields, ad_hoc_recognizers)
            key = (language, tuple(entities or ()), all_fields)
            if key not in self.memo:
                found = super().get_recognizers(language, entities, all_fields)
                # Presidio returns a set's order, which changes with the hash seed, and of
                # two equal results (type, span, score) the first found survives: a fixed
                # order, spaCy's NER last so that a specific recognizer wins such ties
                self.memo[key] = sorted(
                    found, key=lambda r: (r.name == "SpacyRecognizer", r.name, r.supported_entities)
                )
            return self.memo[key]

    return CachedRegistry()


def _in_place_enhancer() -> Any:
    """Presidio's context enhancer without its deep copy of every result.

    The analyzer hands the enhancer a list it discards afterwards, so the defensive
    ``copy.deepcopy`` (results, explanations, metadata: a tenth of analysis time) buys
    nothing; the results are updated in place instead."""
    from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer

    class SharedResults(list[Any]):
        def __deepcopy__(self, memo: dict[int, Any]) -> list[Any]:
            return list(self)

    class InPlaceContextEnhancer(LemmaContextAwareEnhancer):
        def enhance_using_context(self, text: str, raw_results: list[Any], nlp_artifacts: Any,
                                  recognizers: list[Any], context: Any = None) -> Any:  # fmt: skip
            shared = SharedResults(raw_results)
            return super().enhance_using_context(text, shared, nlp_artifacts, recognizers, context)

        def _extract_surrounding_words(self, nlp_artifacts: Any, word: str, start: int) -> Any:
            if not nlp_artifacts.tokens:
                return [""]
            index = _TokenIndex.of(nlp_artifacts)
            position = index.token_at(start)
            before = index.keywords_from(position, self.context_prefix_count + 1, -1)
            after = index.keywords_from(position, self.context_suffix_count + 1, 1)
            return list(set(before + after))

    return InPlaceContextEnhancer()


class _TokenIndex:
    """Presidio's context lookup in linear time: its enhancer finds a result's token by
    scanning every token, and tests each neighbour against a *list* of all keywords, so
    a text with many findings took quadratic time (seconds for one long note)."""

    def __init__(self, nlp_artifacts: Any) -> None:
        tokens, starts = nlp_artifacts.tokens, nlp_artifacts.tokens_indices
        self.ends = [start + len(token) for token, start in zip(tokens, starts, strict=True)]
        self.lemmas = [lemma.lower() for lemma in nlp_artifacts.lemmas]
        self.keywords = frozenset(nlp_artifacts.keywords)

    @classmethod
    def of(cls, nlp_artifacts: Any) -> _TokenIndex:
        """Built once per text (kept on its artifacts)."""
        found = getattr(nlp_artifacts, "_privsynth_index", None)
        if found is None:
            found = cls(nlp_artifacts)
            nlp_artifacts._privsynth_index = found
        return found

    def token_at(self, start: int) -> int:
        """The first token that ends after ``start`` (Presidio's rule), or the last."""
        return min(bisect.bisect_right(self.ends, start), len(self.ends) - 1)

    def keywords_from(self, index: int, count: int, step: int) -> list[str]:
        """Up to ``count`` keyword lemmas from token ``index`` on, in direction ``step``."""
        found: list[str] = []
        while 0 <= index < len(self.lemmas) and len(found) < count:
            if self.lemmas[index] in self.keywords:
                found.append(self.lemmas[index])
            index += step
        return found


@functools.cache
def _analyzer(config: DetectorConfig) -> Any:
    from presidio_analyzer import AnalyzerEngine

    nlp_engine = load_nlp_engine(config.model)
    registry = _cached_registry()
    for recognizer in _recognizers(config):
        registry.add_recognizer(recognizer)
    return AnalyzerEngine(
        registry=registry,
        nlp_engine=nlp_engine,
        supported_languages=["en"],
        default_score_threshold=config.threshold,
        context_aware_enhancer=_in_place_enhancer(),
    )


class PIIDetector:
    """Finds PII in texts. Build once (models load lazily on first use) and reuse."""

    def __init__(self, config: DetectorConfig | None = None) -> None:
        self.config = config or DetectorConfig()
        self._allow = frozenset(term.casefold() for term in self.config.allow_list)
        self._entities: list[str] | None = None
        self._pool: ProcessPoolExecutor | None = None

    @property
    def _engine(self) -> Any:
        return _analyzer(replace(self.config, ner=None, n_process=1))  # one engine for all

    def analyze(self, text: str) -> list[Detection]:
        """PII spans in one text."""
        return self.analyze_batch([text])[0]

    def analyze_batch(self, texts: Sequence[str]) -> list[list[Detection]]:
        """PII spans in each text, processing the texts in batches."""
        return list(self.iter_analyze(texts))

    def iter_analyze(self, texts: Iterable[str]) -> Iterator[list[Detection]]:
        """Like :meth:`analyze_batch`, streaming (for large files); with ``n_process`` > 1
        chunks of texts are analysed in worker processes, results kept in order."""
        if self.config.n_process > 1:
            for results in self._workers().map(_analyze_chunk, _chunks(texts)):
                yield from results
            return
        yield from self._iter_serial(texts)

    def _workers(self) -> ProcessPoolExecutor:
        """Worker processes, started once per detector (each loads the models once)."""
        if self._pool is None:
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(
                self.config.n_process, context, _start_worker, (self.config,)
            )
            atexit.register(self._pool.shutdown, cancel_futures=True)
        return self._pool

    def close(self) -> None:
        """Stop the worker processes, if any."""
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def _iter_serial(self, texts: Iterable[str]) -> Iterator[list[Detection]]:
        engine = self._engine
        nlp = engine.nlp_engine.nlp["en"]
        originals: list[str] = []

        def prepared() -> Iterator[str]:
            for text in texts:
                originals.append(text)
                yield model_view(text)

        wanted = NER_PIPES if self.config.ner is not False else ()
        disabled = [pipe for pipe in nlp.pipe_names if pipe not in wanted]
        with nlp.select_pipes(disable=disabled):
            docs = nlp.pipe(
                prepared(), batch_size=self.config.batch_size, n_process=self.config.n_process
            )
            for index, doc in enumerate(docs):
                yield self._detect(originals[index], doc)
                originals[index] = ""  # do not keep texts alive longer than needed

    def _detect(self, text: str, doc: Any) -> list[Detection]:
        engine = self._engine
        artifacts = to_artifacts(doc, engine.nlp_engine)
        if self._entities is None:  # only those some recognizer supports (no warnings)
            supported = set(engine.get_supported_entities("en"))
            self._entities = [e for e in self.config.entities if e in supported]
        results = engine.analyze(
            text=text,
            language="en",
            entities=self._entities,
            nlp_artifacts=artifacts,
            score_threshold=self.config.threshold,
        )
        detections = [
            Detection(
                r.start, r.end, r.entity_type, float(r.score),
                str(r.recognition_metadata.get("recognizer_name", "")),
            )
            for r in results
            if r.end > r.start
        ]  # fmt: skip
        plausible = [d for d in detections if is_plausible(text, d)]
        found = merge_overlaps(drop_allowed(text, plausible, self._allow))
        mentions = drop_allowed(text, propagate(text, found), self._allow)
        return sorted(found + mentions) if mentions else found


_WORKER: dict[str, PIIDetector] = {}  # one detector per worker process, loaded once
#: a worker's unit of work: this many texts or characters, whichever comes first (by
#: characters too, so a few long clinical notes still spread over all workers)
_CHUNK_TEXTS = 64
_CHUNK_CHARS = 16_000


def _start_worker(config: DetectorConfig) -> None:
    _WORKER["detector"] = PIIDetector(replace(config, n_process=1))


def _analyze_chunk(chunk: list[str]) -> list[list[Detection]]:
    return _WORKER["detector"].analyze_batch(chunk)


def _chunks(texts: Iterable[str]) -> Iterator[list[str]]:
    chunk: list[str] = []
    characters = 0
    for text in texts:
        chunk.append(text)
        characters += len(text)
        if len(chunk) == _CHUNK_TEXTS or characters >= _CHUNK_CHARS:
            yield chunk
            chunk, characters = [], 0
    if chunk:
        yield chunk
