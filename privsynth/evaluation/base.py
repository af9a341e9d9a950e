"""The shared shapes of every metric and attack, so reports render any of them.

As in sdmetrics, a metric declares its goal (maximize or minimize) and its range; as in
anonymeter, an attack reports a risk with a confidence interval, measured against a
control set of real records the generator never saw and a naive baseline. Both plug
into name registries, so new ones are one decorator away.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from privsynth.registry import Registry

if TYPE_CHECKING:
    from privsynth.evaluation.data import EvaluationData

Goal = Literal["maximize", "minimize"]


@dataclass(frozen=True)
class MetricResult:
    """One number with what it means: which way is better and what it can range over."""

    name: str
    value: float
    goal: Goal
    low: float
    high: float
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RiskResult:
    """An attack's success turned into a risk, anonymeter-style.

    ``risk = (main - control) / (1 - control)`` where ``main`` is the attack's success
    rate on training records and ``control`` on holdout records it could not have
    learned from; ``baseline`` is a naive guesser's rate (an attack not beating it is
    not evidence of anything)."""

    name: str
    risk: float
    ci: tuple[float, float]
    main_rate: float
    control_rate: float
    baseline_rate: float
    n_attacks: int
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ci"] = list(self.ci)
        return data


class Metric(ABC):
    """A fidelity, utility, detection or diversity measurement."""

    name: ClassVar[str]
    goal: ClassVar[Goal]
    low: ClassVar[float] = 0.0
    high: ClassVar[float] = 1.0
    #: the report section it belongs to: fidelity, utility, detection, diversity
    section: ClassVar[str]

    @abstractmethod
    def compute(self, data: EvaluationData) -> MetricResult:
        """Measure ``data``."""

    def result(self, value: float, **details: Any) -> MetricResult:
        """A result carrying this metric's declared goal and range."""
        return MetricResult(self.name, float(value), self.goal, self.low, self.high, details)


class Attack(ABC):
    """A privacy attack evaluated on training records against a holdout control."""

    name: ClassVar[str]

    @abstractmethod
    def evaluate(self, data: EvaluationData) -> RiskResult | dict[str, Any]:
        """Run the attack; risks as :class:`RiskResult`, membership as a dict of rates."""


METRICS: Registry[type[Metric]] = Registry("metric")
ATTACKS: Registry[type[Attack]] = Registry("attack")
