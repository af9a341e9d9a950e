"""The shared shapes of every metric and attack, so reports render any of them.

As in sdmetrics, a metric declares its goal (maximize or minimize) and its range; as in
anonymeter, an attack reports a risk with a confidence interval, measured against a
control set of real records the generator never saw and a naive baseline. Both plug
into name registries, so new ones are one decorator away.

Each result is a frozen dataclass whose ``to_dict()`` is its JSON form in the
evaluation document (docs/evaluation.md): what ``report.json`` and ``eval.json`` hold.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeAlias

from privsynth.registry import Registry

if TYPE_CHECKING:
    from privsynth.evaluation.data import EvaluationData

Goal = Literal["maximize", "minimize"]


def clean(value: Any) -> Any:
    """JSON-safe: NaN and infinities become None, tuples lists, numpy scalars floats."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class DictView:
    """Read access by JSON key (``result["auc"]``) for code written against the dict
    form of a result; new code reads the typed fields."""

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    def __getitem__(self, key: str) -> Any:
        return self.to_dict()[key]


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
        data: dict[str, Any] = clean(asdict(self))
        return data


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
        data: dict[str, Any] = clean(asdict(self))
        return data


@dataclass(frozen=True)
class RocCurve:
    """An ROC curve sampled on a fixed false-positive grid (aggregate rates only)."""

    fpr: tuple[float, ...]
    tpr: tuple[float, ...]


@dataclass(frozen=True)
class MembershipAttackResult:
    """One membership attack: its ROC AUC with a 95% interval, its true-positive rate at
    the reported false-positive rates (keys ``"0.01"``, ``"0.001"``) and its ROC curve;
    the density-ratio attack also reports its kernel bandwidths."""

    auc: float
    auc_ci: tuple[float, float]
    tpr_at_fpr: dict[str, float]
    roc: RocCurve
    bandwidths: dict[str, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "auc": self.auc,
            "auc_ci": list(self.auc_ci),
            "tpr_at_fpr": dict(self.tpr_at_fpr),
            "roc": {"fpr": list(self.roc.fpr), "tpr": list(self.roc.tpr)},
        }
        if self.bandwidths is not None:
            data["bandwidths"] = dict(self.bandwidths)
        cleaned: dict[str, Any] = clean(data)
        return cleaned


@dataclass(frozen=True)
class MembershipResult(DictView):
    """Membership inference: every attack's figures and the strongest one as headline,
    with how many member, non-member and reference units (persons, or rows) it used."""

    attacks: dict[str, MembershipAttackResult]
    best_attack: str
    unit: str
    members: int
    non_members: int
    reference: int

    @property
    def best(self) -> MembershipAttackResult:
        """The headline attack (highest AUC)."""
        return self.attacks[self.best_attack]

    @property
    def auc(self) -> float:
        return self.best.auc

    def to_dict(self) -> dict[str, Any]:
        best = self.best.to_dict()
        return {
            "auc": best["auc"],
            "auc_ci": best["auc_ci"],
            "tpr_at_fpr": best["tpr_at_fpr"],
            "best_attack": self.best_attack,
            "attacks": {name: attack.to_dict() for name, attack in self.attacks.items()},
            "unit": self.unit,
            "members": self.members,
            "non_members": self.non_members,
            "reference": self.reference,
        }


#: what a measurement reported under the document's ``privacy`` section can be
PrivacyResult: TypeAlias = MetricResult | RiskResult | MembershipResult


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
    def evaluate(self, data: EvaluationData) -> RiskResult | MembershipResult:
        """Run the attack; re-identification risks as :class:`RiskResult`, membership
        inference as :class:`MembershipResult`."""


METRICS: Registry[type[Metric]] = Registry("metric")
ATTACKS: Registry[type[Attack]] = Registry("attack")
