"""The Article 29 Working Party criteria: singling out and linkability risks.

Opinion 05/2014 of the Article 29 Working Party (WP216) asks of an anonymised dataset
that no one can *single out* an individual, *link* records of one individual, or *infer*
their attributes. Giomi et al. ("A Unified Framework for Quantifying Privacy Risk in
Synthetic Data", PoPETs 2023, the anonymeter paper) turn the first two into attacks that
use only the synthetic table, scored on training records (main) against holdout records
the generator never saw (control) and a random-guess baseline:
``risk = (main - control) / (1 - control)`` with its MOVER-R interval built from the
Wilson intervals of both rates (:func:`privsynth.evaluation.stats.risk_from_rates`,
shared by every attack).

The package follows that methodology (the facts of anonymeter 1.1, not its code), one
concept per module:

* :mod:`.predicates`: conditions and their conjunctions, as arrays (never query
  strings, so column names may hold spaces, dashes or keywords);
* :mod:`.index`: which rows each predicate matches, as packed bitsets;
* :mod:`.candidates`: the predicates the attacker and the baseline try;
* :mod:`.curve`: matching success counts on tables of different sizes;
* :mod:`.singling_out`, :mod:`.linkability`: the attacks, registered in
  :data:`~privsynth.evaluation.base.ATTACKS` on import (linkability's neighbours come
  from :mod:`privsynth.evaluation.distances`).

Results carry counts and settings, never record values.
"""

from privsynth.evaluation.wp29.linkability import Linkability
from privsynth.evaluation.wp29.predicates import OPERATORS
from privsynth.evaluation.wp29.singling_out import DEFAULT_ATTACKS, SinglingOut

__all__ = ["DEFAULT_ATTACKS", "OPERATORS", "Linkability", "SinglingOut"]
