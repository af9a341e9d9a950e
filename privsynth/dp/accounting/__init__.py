"""Privacy accounting: costs, composition, conversion to (epsilon, delta)."""

from privsynth.dp.accounting.accountant import ACCOUNTANTS, Accountant, PrivacyFilter, RDPAccountant
from privsynth.dp.accounting.costs import MECHANISMS, PrivacyCost, compose, from_dict

__all__ = [
    "ACCOUNTANTS",
    "MECHANISMS",
    "Accountant",
    "PrivacyCost",
    "PrivacyFilter",
    "RDPAccountant",
    "compose",
    "from_dict",
]
