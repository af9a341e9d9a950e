"""Documents -> text with typed, per-document numbered PHI placeholders (``<PERSON_2>``).

The first stage of DP text synthesis: a language model trained with DP-SGD must never
see a name, yet it should learn *where* names, dates and phone numbers stand and when
two mentions are the same person. So every span privsynth's high-recall detector finds
(the mode the scrubber uses for clinical notes under Safe Harbor: PHI recall 0.98 on
real nursing notes, docs/pii.md) becomes ``<TYPE_k>``: TYPE from a small public set
(:data:`PLACEHOLDER_TYPES`) and k numbering the document's distinct values of that
type in order of first appearance, so "Dr. Smith ... Smith" is ``Dr. <PERSON_1> ...
<PERSON_1>``. Values are compared as :func:`privsynth.pii.surrogates.normalize` and
its date parser compare them, titles and credentials aside. k stops at
:data:`MAX_INDEX`: the tenth and later values of a type share index 9, so the whole
placeholder vocabulary (:func:`all_placeholders`) fits a tokenizer as single tokens.

Titles, credentials and the words around an age ("74 YO") stay outside the
placeholder: they are no identifier, and they teach the model the context. Text that
already looks like a placeholder (or anything :func:`find_tags` would take for one) is
defused by turning its ``<`` into ``‹``, so :mod:`privsynth.text.refill` can never
confuse it with a real placeholder. The corpus summary holds counts only, never values.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from privsynth.errors import ConfigurationError, InputDataError
from privsynth.pii import entities as E
from privsynth.pii.spans import Detection
from privsynth.pii.surrogates import _SUFFIX_RE, _TITLE_RE, find_dates, normalize

#: the public placeholder types; OTHER holds words masked only because they are not
#: known to be safe, and quasi-identifiers (nationality, occupation)
PLACEHOLDER_TYPES: Final[tuple[str, ...]] = (
    "PERSON", "DATE", "AGE", "LOCATION", "ORGANIZATION", "PHONE", "EMAIL", "ID", "URL", "OTHER",
)  # fmt: skip
#: the largest index k: later distinct values of a type reuse it
MAX_INDEX: Final = 9
#: the character a literal ``<`` of a placeholder-like string in the input becomes
NEUTRAL_BRACKET: Final = "‹"

#: every detector entity type -> its placeholder type
ENTITY_TYPES: Final[Mapping[str, str]] = {
    E.PERSON: "PERSON",
    E.DATE_TIME: "DATE",
    E.AGE: "AGE",
    E.LOCATION: "LOCATION",
    E.STREET_ADDRESS: "LOCATION",
    E.US_ZIP_CODE: "LOCATION",
    E.FACILITY: "ORGANIZATION",
    E.ORGANIZATION: "ORGANIZATION",
    E.PHONE_NUMBER: "PHONE",
    E.EMAIL_ADDRESS: "EMAIL",
    E.URL: "URL",
    E.IP_ADDRESS: "URL",
    E.US_SSN: "ID",
    E.MEDICAL_RECORD_NUMBER: "ID",
    E.HEALTH_PLAN_NUMBER: "ID",
    E.ACCOUNT_NUMBER: "ID",
    E.NPI: "ID",
    E.DEA_NUMBER: "ID",
    E.US_DRIVER_LICENSE: "ID",
    E.US_PASSPORT: "ID",
    E.CREDIT_CARD: "ID",
    E.IBAN_CODE: "ID",
    E.US_BANK_NUMBER: "ID",
    E.DEVICE_ID: "ID",
    "ID": "ID",  # long digit runs of the high-recall note patterns
    E.NRP: "OTHER",
    E.OCCUPATION: "OTHER",
    "POSSIBLE_PHI": "OTHER",  # a word the high-recall mode does not know to be safe
}
#: a placeholder of the public vocabulary, exactly: groups 1 (type) and 2 (index)
PLACEHOLDER_PATTERN: Final = re.compile(rf"<({'|'.join(PLACEHOLDER_TYPES)})_([1-9])>")

#: anything that starts like a tag; :func:`find_tags` decides which ones are
_TAG_CANDIDATE: Final = re.compile(
    r"<[ \t]*/?(?P<name>[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z][A-Za-z0-9]*)*)?"
    r"(?:_(?P<index>\d*))?[ \t]*(?P<close>>)?"
)
#: types whose values are words: adjacent spans of one of them form one value
_WORD_TYPES: Final = frozenset({"PERSON", "LOCATION", "ORGANIZATION", "OTHER"})
#: the detector entity whose normalisation each placeholder type borrows
_NORMALISED_AS: Final[Mapping[str, str]] = {"PHONE": E.PHONE_NUMBER, "ID": E.MEDICAL_RECORD_NUMBER}
_TRIMMED: Final = " \t\r\n,;:"
_DIGITS: Final = re.compile(r"\d+")
_GAP: Final = re.compile(r"[ \t]*")
#: what tells a URL from two sentences written without a space between them
_URL_MARK: Final = re.compile(
    r"://|^www\.|@|[A-Za-z0-9-]{2,}\.(?:com|org|net|edu|gov|info|biz)(?:/|$)", re.IGNORECASE
)
#: a word as the high-recall mode sees one
_WORD: Final = re.compile(r"[A-Za-z][A-Za-z']*[A-Za-z]|[A-Za-z]{2}")


def all_placeholders() -> list[str]:
    """Every placeholder string, type by type (``<PERSON_1>`` ... ``<OTHER_9>``): the
    tokens to add to a language model's vocabulary."""
    return [f"<{kind}_{k}>" for kind in PLACEHOLDER_TYPES for k in range(1, MAX_INDEX + 1)]


def placeholder_type(name: str) -> str | None:
    """The placeholder type a tag name stands for (a type, in any case, or a detector
    entity such as ``PHONE_NUMBER``); None when it names neither."""
    upper = name.upper()
    if upper in PLACEHOLDER_TYPES:
        return upper
    return ENTITY_TYPES.get(upper)


@dataclass(frozen=True)
class Tag:
    """Something in a text that is, or is meant to be, a placeholder.

    ``kind`` is None when the name is no known type (``<FOO_1>``, ``<b>``, a bare ``<``
    at the end); ``index`` is None when no number follows the type."""

    start: int
    end: int
    kind: str | None
    index: int | None
    well_formed: bool


def find_tags(text: str) -> list[Tag]:
    """Placeholders and placeholder-like strings in ``text``, left to right: closed tags
    (``<PERSON_1>``, ``<FOO>``, ``</b>``), a type or an underscore form left open (``<PERSON_1 ``,
    ``<DATE_``), and whatever starts with ``<`` at the very end (a sample cut off there).
    ``<5`` or ``< 90`` in prose is none of these."""
    tags = []
    end_of_text = len(text.rstrip())
    for match in _TAG_CANDIDATE.finditer(text):
        name, index, closed = match.group("name"), match.group("index"), match.group("close")
        kind = placeholder_type(name) if name else None
        is_tag = (
            bool(closed and (name or index is not None))
            or index is not None
            or kind is not None
            or bool(name and "_" in name)
            or match.end() >= end_of_text
        )
        if is_tag:
            number = int(index) if index else None
            exact = PLACEHOLDER_PATTERN.fullmatch(match.group(0)) is not None
            tags.append(Tag(match.start(), match.end(), kind, number, exact))
    return tags


def neutralise(text: str) -> tuple[str, int]:
    """``text`` with the ``<`` of every placeholder-like string turned into ``‹`` (same
    length, so detection offsets still apply), and how many there were."""
    tags = find_tags(text)
    if not tags:
        return text, 0
    chars = list(text)
    for tag in tags:
        chars[tag.start] = NEUTRAL_BRACKET
    return "".join(chars), len(tags)


class SpanDetector(Protocol):
    """What :func:`to_placeholders` needs of a detector (``TextDetector``, ``PIIDetector``)."""

    def iter_analyze(self, texts: Iterable[str]) -> Iterator[list[Detection]]: ...


@dataclass(frozen=True)
class PlaceholderCorpus:
    """Placeholder texts and a summary made of counts only (safe to log or publish)."""

    texts: tuple[str, ...]
    #: placeholders written, per type (every type present, zeros included)
    counts: Mapping[str, int]
    #: distinct values per type, summed over documents
    distinct: Mapping[str, int]
    #: documents with at least one placeholder
    documents_with_phi: int
    #: values that got index MAX_INDEX although another value of their type had it
    capped: int = 0
    #: placeholder-like strings of the input defused (``<`` -> ``‹``)
    neutralised: int = 0

    def summary(self) -> dict[str, Any]:
        """JSON-ready counts: no value, no text."""
        return {
            "documents": len(self.texts),
            "documents_with_phi": self.documents_with_phi,
            "placeholders": {kind: self.counts.get(kind, 0) for kind in PLACEHOLDER_TYPES},
            "distinct_values": {kind: self.distinct.get(kind, 0) for kind in PLACEHOLDER_TYPES},
            "capped": self.capped,
            "neutralised": self.neutralised,
        }


@dataclass(frozen=True)
class _Span:
    """A detected span after typing and trimming: ``text[start:end]`` is one value."""

    start: int
    end: int
    kind: str
    score: float


def _union(detections: Iterable[Detection]) -> list[Detection]:
    """Overlapping detections merged into one span covering all of them, typed as the
    most confident one: every character any detector flagged must be masked."""
    merged: list[Detection] = []
    for d in sorted(detections, key=lambda d: (d.start, -d.end)):
        if merged and d.start < merged[-1].end:
            last = merged[-1]
            best = last if (last.score, last.entity_type != "POSSIBLE_PHI") >= (
                d.score, d.entity_type != "POSSIBLE_PHI"
            ) else d  # fmt: skip
            merged[-1] = Detection(last.start, max(last.end, d.end), best.entity_type, best.score)
        else:
            merged.append(d)
    return merged


def _trim(text: str, d: Detection) -> _Span | None:
    """The value inside a detection: no surrounding blanks or list punctuation, a
    person without title or credentials, an age as its number."""
    kind = ENTITY_TYPES.get(d.entity_type, "OTHER")
    start, end = d.start, d.end
    while start < end and text[start] in _TRIMMED:
        start += 1
    while end > start and text[end - 1] in _TRIMMED:
        end -= 1
    if kind == "PERSON":
        start, end = _person_core(text, start, end)
    elif kind == "AGE" and (number := _DIGITS.search(text, start, end)):
        start, end = number.span()
    return _Span(start, end, kind, d.score) if end > start else None


def _person_core(text: str, start: int, end: int) -> tuple[int, int]:
    """``start, end`` narrowed to the name between a title and credentials, unless
    nothing would be left ("Dr." alone stays masked)."""
    span = text[start:end]
    title = _TITLE_RE.match(span)
    core_start = start + (title.end() if title else 0)
    suffix = _SUFFIX_RE.search(text, core_start, end)
    core_end = suffix.start() if suffix else end
    if core_end > core_start and any(c.isalpha() for c in text[core_start:core_end]):
        return core_start, core_end
    return start, end


def value_key(kind: str, value: str) -> str:
    """The form two spellings of one value share within a document: dates by the day
    they name ("7/22/2019" == "July 22, 2019"), numbers by their digits, words
    case-folded with blanks collapsed, names without title or possessive."""
    if kind == "DATE":
        days = []
        for found in find_dates(value):
            anchor = found.anchor()
            days.append(f"{found.year}-{anchor:%m-%d}" if anchor else f"{found.year}")
        if days:
            return "|".join(days)
    key = normalize(_NORMALISED_AS.get(kind, kind), value)
    if kind == "PERSON":
        key = key.removesuffix("'s").removesuffix("’s")
    return key


def _looks_wrong(text: str, d: Detection) -> bool:
    """A URL or street address the recognizers found in run-together note text ("down.Pt",
    "peep.sa", "SHIFT...PR", "VIA NGT. PT IS A DNR"): a URL with no scheme, "www.", "@" or
    common top-level domain; an address without a single digit."""
    value = text[d.start : d.end]
    if d.entity_type == E.URL:
        return _URL_MARK.search(value) is None
    return d.entity_type == E.STREET_ADDRESS and not any(c.isdigit() for c in value)


def _rechecked(text: str, d: Detection) -> list[Detection]:
    """What the high-recall rules mask inside a span that :func:`_looks_wrong`: words not
    known to be safe, and dates, phones and long numbers."""
    from privsynth.pii.high_recall import POSSIBLE_PHI, is_safe_word
    from privsynth.pii.note_patterns import pattern_spans

    value = text[d.start : d.end]
    found = [
        Detection(d.start + m.start(), d.start + m.end(), POSSIBLE_PHI, 0.5)
        for m in _WORD.finditer(value)
        if not is_safe_word(m.group(0))
    ]
    found += [Detection(d.start + a, d.start + b, kind, 0.5) for a, b, kind in pattern_spans(value)]
    return found


def _spans(text: str, detections: Iterable[Detection]) -> list[_Span]:
    """Typed, trimmed values; a masked word that equals a name, place or organisation
    found elsewhere in the text takes that type; adjacent word values join."""
    checked: list[Detection] = []
    for d in detections:
        checked += _rechecked(text, d) if _looks_wrong(text, d) else [d]
    spans = [s for d in _union(checked) if (s := _trim(text, d)) is not None]
    known = _known_words(text, spans)

    def retyped(s: _Span) -> _Span:
        if s.kind != "OTHER":
            return s
        kind = known.get(value_key("OTHER", text[s.start : s.end]), "OTHER")
        return _Span(s.start, s.end, kind, s.score)

    return _join_adjacent(text, [retyped(s) for s in spans])


def _known_words(text: str, spans: Iterable[_Span]) -> dict[str, str]:
    """Keys of the names, places and organisations found -> their type, and each word of
    a person's name -> PERSON ("Smith" alone is the "John Smith" found elsewhere)."""
    known: dict[str, str] = {}
    for s in spans:
        if s.kind in _WORD_TYPES and s.kind != "OTHER":
            key = value_key(s.kind, text[s.start : s.end])
            known.setdefault(key, s.kind)
            if s.kind == "PERSON":
                for word in key.split():
                    known.setdefault(word.strip(",."), "PERSON")
    return known


def _join_adjacent(text: str, spans: list[_Span]) -> list[_Span]:
    """ "John" + "Smith" -> "John Smith": word values of one type with only blanks between
    are one value (one placeholder, one surrogate)."""
    joined: list[_Span] = []
    for s in spans:
        last = joined[-1] if joined else None
        if (
            last is not None
            and s.kind == last.kind
            and s.kind in _WORD_TYPES
            and _GAP.fullmatch(text, last.end, s.start)
        ):
            joined[-1] = _Span(last.start, s.end, s.kind, max(last.score, s.score))
        else:
            joined.append(s)
    return joined


class _Numbering:
    """Indices of one document's values, per type, in order of first appearance.

    A person named in full and by surname alone ("John Smith" ... "Smith", or the other
    way round) keeps one index, as long as that surname names one person so far."""

    def __init__(self) -> None:
        self.indices: dict[str, dict[str, int]] = {}
        self.issued: Counter[str] = Counter()
        self.surnames: dict[str, int] = {}
        self.full_names: set[int] = set()  # person indices already tied to a full name
        self.capped = 0

    def index(self, kind: str, key: str) -> int:
        """The index of ``key`` among the document's values of ``kind``."""
        seen = self.indices.setdefault(kind, {})
        if key not in seen:
            linked = self._linked_person(key) if kind == "PERSON" else None
            seen[key] = linked if linked is not None else self._new(kind)
            if kind == "PERSON":
                self._remember_person(key, seen[key])
        return seen[key]

    def _new(self, kind: str) -> int:
        self.issued[kind] += 1
        if self.issued[kind] > MAX_INDEX:
            self.capped += 1
        return min(self.issued[kind], MAX_INDEX)

    def _linked_person(self, key: str) -> int | None:
        words = key.split()
        surname = _surname(words)
        found = self.surnames.get(surname)
        if found is None:
            return None
        if len(words) == 1 or found not in self.full_names:
            return found
        return None

    def _remember_person(self, key: str, index: int) -> None:
        words = key.split()
        self.surnames.setdefault(_surname(words), index)
        if len(words) > 1:
            self.full_names.add(index)

    def distinct(self) -> Counter[str]:
        """Distinct values per type, as numbered before capping (a surname and the full
        name it was linked to count once)."""
        return Counter(self.issued)


def _surname(words: list[str]) -> str:
    """The surname of a case-folded name: the first word of "smith, john", else the last."""
    if len(words) > 1 and words[0].endswith(","):
        return words[0].rstrip(",")
    return words[-1].strip(",.") if words else ""


@dataclass
class _Tally:
    """Counts gathered over the corpus."""

    counts: Counter[str] = field(default_factory=Counter)
    distinct: Counter[str] = field(default_factory=Counter)
    with_phi: int = 0
    capped: int = 0
    neutralised: int = 0

    def add(self, other: _Tally) -> None:
        """Counts of another part of the corpus added to these."""
        self.counts.update(other.counts)
        self.distinct.update(other.distinct)
        self.with_phi += other.with_phi
        self.capped += other.capped
        self.neutralised += other.neutralised


def placeholder_text(text: str, detections: Iterable[Detection]) -> str:
    """One document with its detected values (``detections`` in ``text``) replaced by
    numbered placeholders: for a detector of one's own, or spans known in advance."""
    return _placeholder_text(text, detections, _Tally())


def _placeholder_text(text: str, detections: Iterable[Detection], tally: _Tally) -> str:
    safe, defused = neutralise(text)
    tally.neutralised += defused
    numbering = _Numbering()
    pieces: list[str] = []
    position = 0
    for span in _spans(text, detections):
        key = value_key(span.kind, text[span.start : span.end])
        pieces += [safe[position : span.start], f"<{span.kind}_{numbering.index(span.kind, key)}>"]
        tally.counts[span.kind] += 1
        position = span.end
    pieces.append(safe[position:])
    tally.distinct.update(numbering.distinct())
    tally.capped += numbering.capped
    tally.with_phi += bool(numbering.indices)
    return "".join(pieces)


def default_detector() -> SpanDetector:
    """The scrubber's best-recall free-text detector (``high_recall`` mode: spaCy's
    tokenizer through ``nlp.pipe`` in batches, Presidio, the high-recall rules)."""
    from privsynth.pii.text_detection import TextDetector

    return TextDetector("high_recall")


def _checked(documents: Sequence[str]) -> Sequence[str]:
    if isinstance(documents, str):
        raise InputDataError(
            "expected a sequence of documents, got one string", hint="pass [text] for one text"
        )
    for number, document in enumerate(documents):
        if not isinstance(document, str):
            raise InputDataError(
                f"document {number} is {type(document).__name__}, not text",
                hint="convert missing values to '' or drop them first",
            )
    return documents


_WORKER: dict[str, SpanDetector] = {}  # one detector per worker process, loaded once
_CHUNK: Final = 32  # documents per unit of work in a worker


def _start_worker() -> None:
    _WORKER["detector"] = default_detector()


def _chunk_in_worker(chunk: Sequence[str]) -> tuple[list[str], _Tally]:
    tally = _Tally()
    found = _WORKER["detector"].iter_analyze(chunk)
    return [_placeholder_text(t, d, tally) for t, d in zip(chunk, found, strict=True)], tally


def _in_workers(texts: Sequence[str], n_process: int, tally: _Tally) -> Iterator[str]:
    """Detection and placeholders in ``n_process`` processes, results in order.

    The whole per-document work goes to the workers: the detector's own ``n_process``
    would leave the high-recall rules (a quarter of the time) in this process, and was
    measured slower than one process on two cores."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    chunks = [texts[i : i + _CHUNK] for i in range(0, len(texts), _CHUNK)]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(n_process, context, _start_worker) as pool:
        for out, part in pool.map(_chunk_in_worker, chunks):
            tally.add(part)
            yield from out


def to_placeholders(
    documents: Sequence[str], detector: SpanDetector | None = None, *, n_process: int = 1
) -> PlaceholderCorpus:
    """Every document with its PHI replaced by ``<TYPE_k>`` placeholders.

    ``detector``: anything with ``iter_analyze`` (default: :func:`default_detector`).
    ``n_process`` > 1 runs the default detector in that many worker processes (spawned:
    a script calling this needs the ``if __name__ == "__main__":`` guard)."""
    if n_process < 1:
        raise ConfigurationError(f"n_process must be positive, got {n_process}", hint="use 1")
    if n_process > 1 and detector is not None:
        raise ConfigurationError(
            "n_process applies to the default detector only",
            hint="pass detector=None, or give your detector its own worker processes",
        )
    texts = _checked(documents)
    tally = _Tally()
    if n_process > 1 and len(texts) > _CHUNK:
        out = tuple(_in_workers(texts, n_process, tally))
    else:
        detector = detector if detector is not None else default_detector()
        found = detector.iter_analyze(texts)
        out = tuple(_placeholder_text(t, d, tally) for t, d in zip(texts, found, strict=True))
    zeros = dict.fromkeys(PLACEHOLDER_TYPES, 0)
    return PlaceholderCorpus(
        texts=out,
        counts={**zeros, **tally.counts},
        distinct={**zeros, **tally.distinct},
        documents_with_phi=tally.with_phi,
        capped=tally.capped,
        neutralised=tally.neutralised,
    )
