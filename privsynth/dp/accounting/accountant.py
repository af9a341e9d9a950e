"""Accountants compose privacy costs; a filter refuses spends beyond a limit.

The interface is deliberately small (as in Opacus): ``spend``, ``total``,
``epsilon``, and ``state_dict``/``load_state_dict`` so an accountant can be
persisted and resumed. Accountants are registered by name; ``"rdp"`` composes
Rényi curves on a shared grid of orders and converts with the tight
Balle et al. (2020) / Canonne-Kamath-Steinke (2020) bound.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

from privsynth.dp.accounting.costs import PrivacyCost, compose, from_dict
from privsynth.errors import BudgetExceededError
from privsynth.registry import Registry


@dataclass(frozen=True)
class Spend:
    """One recorded use of a mechanism: what it cost and what it was for."""

    purpose: str
    cost: PrivacyCost


class Accountant(ABC):
    """Composes the costs of every mechanism run against one dataset."""

    name: ClassVar[str]

    @abstractmethod
    def spend(self, cost: PrivacyCost, purpose: str = "") -> None:
        """Record that a mechanism with ``cost`` was run."""

    @property
    @abstractmethod
    def history(self) -> list[Spend]:
        """Every recorded spend, in order."""

    @abstractmethod
    def total(self) -> PrivacyCost:
        """The composed cost of the whole history."""

    def epsilon(self, delta: float) -> float:
        """Epsilon of the whole history at ``delta``."""
        return self.total().epsilon(delta)

    @abstractmethod
    def state_dict(self) -> dict[str, Any]:
        """A JSON-serialisable snapshot of the history."""

    @abstractmethod
    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the history from :meth:`state_dict` output."""


ACCOUNTANTS: Registry[type[Accountant]] = Registry("accountant")


@ACCOUNTANTS.register("rdp")
class RDPAccountant(Accountant):
    """Rényi-DP composition; zCDP, Gaussian and DP-SGD costs are all RDP curves."""

    name = "rdp"

    def __init__(self) -> None:
        self._history: list[Spend] = []

    def spend(self, cost: PrivacyCost, purpose: str = "") -> None:
        self._history.append(Spend(purpose, cost))

    @property
    def history(self) -> list[Spend]:
        return list(self._history)

    def total(self) -> PrivacyCost:
        return compose([item.cost for item in self._history])

    def state_dict(self) -> dict[str, Any]:
        spends = [{"purpose": s.purpose, **s.cost.to_dict()} for s in self._history]
        return {"accountant": self.name, "spends": spends}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._history = [Spend(item["purpose"], from_dict(item)) for item in state["spends"]]


class PrivacyFilter:
    """Lets spends through only while their composition stays within ``limit``.

    A run reserves its whole budget in the ledger as ``limit`` before it reads the
    data; the filter then guarantees that nothing the run does can exceed that
    reservation, whatever the generator's code does.
    """

    def __init__(self, limit: PrivacyCost, accountant: Accountant | None = None) -> None:
        self.limit = limit
        self.accountant = accountant or RDPAccountant()

    def charge(self, cost: PrivacyCost, purpose: str) -> None:
        """Record ``cost``, or raise before recording if it would exceed the limit."""
        after = self.accountant.total() + cost
        if not after.dominated_by(self.limit):
            raise BudgetExceededError(
                f"'{purpose}' would exceed this run's reserved privacy budget",
                hint="this is a bug in the generator's budget split; please report it",
            )
        self.accountant.spend(cost, purpose)

    def remaining_rho(self) -> float:
        """zCDP budget left, when the limit is a zCDP reservation."""
        return max(0.0, self.limit.rho() - self.accountant.total().rho())
