"""Canary exposure (Carlini et al. 2019, "The Secret Sharer: Evaluating and Testing
Unintended Memorization in Neural Networks").

A canary is a sentence with a random secret ("my SSN is 123-45-6789") inserted into the
training text before training. If the trained model ranks the inserted secret above
the other fillings of the same format, it memorised it. With ``|S|`` the number of
possible fillings and ``rank`` the secret's rank among them by the model's likelihood,
``exposure = log2 |S| − log2 rank``: 0 when the secret is no more likely than a typical
filling, ``log2 |S|`` when it is the most likely of all.

Ranking the whole space is infeasible (10^9 SSNs), so ``R`` fillings are drawn at
random (seeded, without replacement, never the secret) and scored:

* ``exposure``: the secret's rank among the sample (1 + candidates strictly more
  likely; ties go to the secret, the conservative side), extrapolated to the space as
  ``rank × |S| / R``; it cannot exceed ``log2 R``, the resolution of R draws. When
  ``R`` covers the space, every filling is scored and the rank is exact.
* ``exposure_fit``: Carlini et al.'s extrapolation (section 4.3): a skew-normal
  distribution fitted to the candidates' log-likelihoods gives the share ``p`` of the
  space more likely than the secret, and ``rank = max(1, p · |S|)``; it can resolve
  exposures beyond ``log2 R``, as far as the fitted tail is trusted.

The model is a callable ``log_likelihood(texts) -> list[float]`` the generator
provides. Results hold exposures and counts only, never the secret or the canary text.

A canary format has one slot in braces, each character a placeholder: ``d`` a digit,
``a`` a lowercase letter, ``A`` an uppercase letter; any other character is literal
("{ddd-dd-dddd}" has 10^9 fillings).
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from privsynth.errors import ConfigurationError
from privsynth.evaluation.base import clean

LogLikelihood = Callable[[list[str]], Sequence[float]]
ALPHABETS = {
    "d": string.digits,
    "a": string.ascii_lowercase,
    "A": string.ascii_uppercase,
}
_SLOT = re.compile(r"\{([^{}]*)\}")
#: candidates scored per call of the likelihood function
BATCH = 256


@dataclass(frozen=True)
class CanaryFormat:
    """A canary sentence with one random slot: ``prefix + filling + suffix``."""

    prefix: str
    pattern: str
    suffix: str

    @classmethod
    def parse(cls, text: str) -> CanaryFormat:
        slots = list(_SLOT.finditer(text))
        if len(slots) != 1 or not any(c in ALPHABETS for c in slots[0].group(1)):
            raise ConfigurationError(
                "a canary format needs exactly one {slot} with at least one placeholder",
                hint="e.g. 'my SSN is {ddd-dd-dddd}' (d digit, a letter, A capital)",
            )
        slot = slots[0]
        return cls(text[: slot.start()], slot.group(1), text[slot.end() :])

    @property
    def radices(self) -> list[int]:
        return [len(ALPHABETS[c]) for c in self.pattern if c in ALPHABETS]

    @property
    def space_size(self) -> int:
        return math.prod(self.radices)

    def matches(self, filling: str) -> bool:
        """Whether ``filling`` is one of this format's fillings."""
        return len(filling) == len(self.pattern) and all(
            char in ALPHABETS[p] if p in ALPHABETS else char == p
            for char, p in zip(filling, self.pattern, strict=True)
        )

    def fill(self, filling: str) -> str:
        """The canary sentence with ``filling`` in its slot."""
        return self.prefix + filling + self.suffix

    def filling(self, index: int) -> str:
        """The ``index``-th filling (mixed radix, last placeholder fastest)."""
        digits = []
        for radix in reversed(self.radices):
            index, digit = divmod(index, radix)
            digits.append(digit)
        chars = iter(reversed(digits))
        return "".join(ALPHABETS[p][next(chars)] if p in ALPHABETS else p for p in self.pattern)

    def index(self, filling: str) -> int:
        value = 0
        for char, p in zip(filling, self.pattern, strict=True):
            if p in ALPHABETS:
                value = value * len(ALPHABETS[p]) + ALPHABETS[p].index(char)
        return value

    def candidates(self, secret: str, count: int, seed: int) -> list[str]:
        """``count`` distinct random fillings other than ``secret`` (all of them when the
        space is no larger), seeded."""
        space = self.space_size
        if count >= space - 1:
            return [self.filling(i) for i in range(space) if i != self.index(secret)]
        rng = np.random.default_rng([seed, 7])
        if space < 2**62:
            drawn = rng.choice(space - 1, size=count, replace=False)
            skip = self.index(secret)
            return [self.filling(int(i) + (int(i) >= skip)) for i in drawn]
        found: dict[str, None] = {}  # a space this large has (almost) no repeats
        while len(found) < count:
            filling = "".join(
                ALPHABETS[p][int(rng.integers(len(ALPHABETS[p])))] if p in ALPHABETS else p
                for p in self.pattern
            )
            if filling != secret:
                found[filling] = None
        return list(found)


@dataclass(frozen=True)
class Canary:
    """A canary inserted in the training text: its format and the secret filling."""

    name: str
    format: str
    secret: str

    @property
    def text(self) -> str:
        """The inserted sentence (never reported)."""
        return CanaryFormat.parse(self.format).fill(self.secret)


@dataclass(frozen=True)
class CanaryExposure:
    """A canary's exposure by sample rank and by skew-normal fit (bits), and how it was
    measured: the space's size in bits, candidates scored, the secret's sample rank."""

    name: str
    exposure: float
    exposure_fit: float | None
    space_bits: float
    candidates: int
    rank: int
    exact: bool

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = clean(asdict(self))
        return data


def _scores(texts: list[str], log_likelihood: LogLikelihood) -> np.ndarray[Any, Any]:
    values: list[float] = []
    for start in range(0, len(texts), BATCH):
        chunk = texts[start : start + BATCH]
        found = [float(v) for v in log_likelihood(chunk)]
        if len(found) != len(chunk):
            raise ConfigurationError(
                "log_likelihood returned a different number of scores than texts",
                hint="return one log-likelihood per text, in order",
            )
        values.extend(found)
    return np.asarray(values, dtype=np.float64)


def fitted_tail(candidates: np.ndarray[Any, Any], secret: float) -> float | None:
    """Share of fillings more likely than ``secret`` under a skew-normal fitted to the
    candidates' log-likelihoods (a normal when the skew fit fails); None if they are
    all equal."""
    from scipy import stats

    if candidates.size < 3 or float(np.std(candidates)) == 0.0:
        return None
    try:
        shape, location, scale = stats.skewnorm.fit(candidates)
        tail = float(stats.skewnorm.sf(secret, shape, location, scale))
    except (ValueError, RuntimeError, FloatingPointError):
        tail = math.nan
    if not math.isfinite(tail):
        tail = float(stats.norm.sf(secret, np.mean(candidates), np.std(candidates)))
    return tail


def canary_exposure(
    canary: CanaryFormat | str,
    secret: str,
    log_likelihood: LogLikelihood,
    *,
    candidates: int = 1000,
    seed: int = 0,
    name: str = "canary",
) -> CanaryExposure:
    """The exposure of ``secret`` (the filling inserted in training) under the model."""
    form = canary if isinstance(canary, CanaryFormat) else CanaryFormat.parse(canary)
    if not form.matches(secret):
        raise ConfigurationError(
            f"the secret of canary {name!r} does not fit its format",
            hint="give the filling of the slot only, one character per placeholder",
        )
    if candidates < 1:
        raise ConfigurationError("canary exposure needs at least one candidate")
    drawn = form.candidates(secret, candidates, seed)
    scores = _scores([form.fill(secret), *(form.fill(f) for f in drawn)], log_likelihood)
    secret_score, others = scores[0], scores[1:]
    space, sampled = form.space_size, len(drawn)
    rank = 1 + int((others > secret_score).sum())
    exact = sampled >= space - 1
    bits = math.log2(space)
    estimated = rank if exact else min(max(rank * space / sampled, 1.0), space)
    tail = fitted_tail(others, secret_score)
    fitted = None if tail is None else bits - math.log2(min(max(tail * space, 1.0), space))
    return CanaryExposure(
        name=name, exposure=bits - math.log2(estimated), exposure_fit=fitted,
        space_bits=bits, candidates=sampled, rank=rank, exact=exact,
    )  # fmt: skip


def verbatim_count(canary_text: str, synthetic_texts: Sequence[str]) -> int:
    """Occurrences of ``canary_text`` in the synthetic texts (runs of whitespace match
    any whitespace)."""
    needle = " ".join(canary_text.split())
    if not needle:
        return 0
    return sum(" ".join(text.split()).count(needle) for text in synthetic_texts)
