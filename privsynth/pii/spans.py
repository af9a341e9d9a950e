"""A detected PII span: what, where, how sure, and which recognizer found it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Detection:
    """``text[start:end]`` is an entity of ``entity_type`` (scores in [0, 1])."""

    start: int
    end: int
    entity_type: str
    score: float
    recognizer: str = ""

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise ValueError(f"invalid span [{self.start}, {self.end})")

    @property
    def length(self) -> int:
        return self.end - self.start

    def overlaps(self, other: Detection) -> bool:
        return self.start < other.end and other.start < self.end
