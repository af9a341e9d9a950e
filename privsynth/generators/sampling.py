"""Sampling records from a fitted Private-PGM model with our own random generator."""

from __future__ import annotations

import numpy as np
from mbi import MarkovRandomField

from privsynth.domain.codecs import Codes


def sample_model(model: MarkovRandomField, rows: int, rng: np.random.Generator) -> dict[str, Codes]:
    """``rows`` i.i.d. records from ``model``.

    mbi's default "round" method draws sibling columns from the same within-group ranks,
    which couples columns the model treats as independent (tests/unit/test_sampling.py);
    "sample" draws each record independently. mbi uses numpy's global generator, so it is
    seeded from ``rng`` here and restored afterwards."""
    saved = np.random.get_state()
    np.random.seed(int(rng.integers(0, 2**32 - 1)))
    try:
        data = model.synthetic_data(rows=rows, method="sample")
    finally:
        np.random.set_state(saved)
    order = rng.permutation(rows)  # mbi emits records grouped by value
    columns = data.to_dict()
    return {c: np.asarray(columns[c], dtype=np.int64)[order] for c in data.domain}
