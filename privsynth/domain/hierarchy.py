"""Coded columns through their public hierarchy: rare codes reach the model as parents.

A column declared with a code system (``code_system: icd9cm``, see
:mod:`privsynth.domain.code_systems`) is modelled over a set of nodes of the system's
tree: every chapter (public), plus the codes and categories released with DP by
discovery (:func:`release_nodes`) or listed in the schema. Each value is encoded as its
deepest modelled ancestor: ``250.83`` stays ``250.83`` when it was released, else
becomes ``250``, else its chapter ``240-279``. No value is ever ``<other>``; a value that
is no code of the system is an invalid cell (null or imputed, and counted with DP by the
quality report). Decoding is the identity: the output holds the node, a generalisation
of the real code, never an invented one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from privsynth.domain.code_systems import CodeSystem, code_system
from privsynth.domain.codecs import INVALID, CategoricalCodec, Codes
from privsynth.dp.mechanisms import Mechanisms


def node_domain(system: CodeSystem, released: Iterable[str]) -> tuple[str, ...]:
    """The modelled nodes: the released (or declared) ones and every chapter."""
    nodes = {system.node(label) for label in released}
    return tuple(sorted(nodes | set(system.chapters())))


def release_nodes(
    values: pd.Series,
    units: pd.Series | None,
    system: CodeSystem,
    mechanisms: Mechanisms,
    budget: tuple[float, float],
    purpose: str,
) -> tuple[str, ...]:
    """Codes and categories frequent enough to release, by thresholded DP counts.

    Two releases, each with half of the ``(rho, delta)`` budget: the codes as written,
    then their categories, so a category whose codes are each rare can still be
    released. Each counts privacy units (one unit counts once per key, at each level),
    which is what set release needs; values that are no code are left out."""
    rho, delta = budget
    codes = _normalised(values, system)
    category = _category_of(system)
    categories = [None if code is None else category(code) for code in codes]
    released: set[str] = set()
    for level, keys in (("codes", codes), ("categories", categories)):
        counts = _unit_counts(keys, units)
        found = mechanisms.frequent_keys(counts, rho / 2, delta / 2, f"{purpose} ({level})")
        released |= set(found)
    return tuple(sorted(released))


def _normalised(values: pd.Series, system: CodeSystem) -> list[str | None]:
    """Each cell's normalised code (None: missing, or no code of the system)."""
    cache: dict[str, str | None] = {}
    found: list[str | None] = []
    for value, present in zip(values.tolist(), values.notna().tolist(), strict=True):
        if not present:
            found.append(None)
            continue
        text = str(value)
        if text not in cache:
            cache[text] = system.normalise(text)
        found.append(cache[text])
    return found


def _category_of(system: CodeSystem) -> Callable[[str], str]:
    def category(code: str) -> str:
        """The level-1 ancestor of a code (a category is its own)."""
        if system.level(code) <= 1:
            return code
        return next(a for a in system.ancestors(code) if system.level(a) == 1)

    return category


def _unit_counts(keys: list[str | None], units: pd.Series | None) -> dict[str, int]:
    """How many units hold each key (rows, without a privacy unit)."""
    frame = pd.DataFrame({"key": keys})
    if units is not None:
        frame["unit"] = units.astype(str).to_numpy()
        frame = frame.dropna().drop_duplicates()
    found = frame["key"].dropna().value_counts()
    return {str(key): int(count) for key, count in found.items()}


class HierarchicalCodec(CategoricalCodec):
    """Codes of a code system, each encoded as its deepest modelled ancestor."""

    def __init__(self, name: str, system: str, nodes: Iterable[str], nullable: bool) -> None:
        self.system = code_system(system)
        super().__init__(name, list(node_domain(self.system, nodes)), None, nullable)

    def encode(self, values: pd.Series) -> Codes:
        missing = values.isna().to_numpy()
        texts = values.astype("string")
        positions = {text: self._position(text) for text in texts.dropna().unique()}
        codes = np.array(texts.map(positions).fillna(INVALID), dtype=np.int64)
        return self._finish(codes, missing)

    def _position(self, text: str) -> int:
        code = self.system.normalise(str(text))
        if code is None:
            return INVALID
        for node in (code, *self.system.ancestors(code)):
            if node in self._index:
                return self._index[node]
        return INVALID  # unreachable: every chapter is modelled
