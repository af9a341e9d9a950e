"""Sampling records from a fitted Private-PGM model with our own random generator.

mbi 1.1's ``MarkovRandomField.synthetic_data`` has two flaws for us. Its default
"round" method draws sibling columns from the same within-group ranks, which couples
columns the model treats as independent (tests/unit/generators/test_sampling.py);
its "sample" method is i.i.d. but draws from numpy's global generator, so seeding it
would change the caller's global random state. This module does what "sample" does,
with a local :class:`numpy.random.Generator`: forward sampling on the model's junction
tree, each column drawn given its already-sampled neighbours.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from mbi import MarkovRandomField, junction_tree, marginal_oracles

from privsynth.domain.codecs import Codes

FloatArray = npt.NDArray[np.float64]


def sample_model(model: MarkovRandomField, rows: int, rng: np.random.Generator) -> dict[str, Codes]:
    """``rows`` i.i.d. records from ``model``, as codes per column, drawn with ``rng`` only.

    Columns are visited in the reverse of the junction tree's elimination order (as in
    mbi), so when a column is drawn, the already drawn columns it shares a junction
    tree clique with separate it from all other drawn columns: drawing it from the
    model's marginal of those neighbours and itself, given their values, samples the
    joint distribution. (mbi takes neighbours from the model's own cliques: the same for
    MST's trees, but not exact when the model's graph has a chordless cycle.) The
    records are shuffled at the end, as mbi's come grouped by value."""
    domain = model.domain
    tree, elimination_order = junction_tree.make_junction_tree(domain, model.cliques)
    marginals = marginal_oracles.message_passing_stable(model.potentials.expand(list(tree.nodes)))
    cliques = [set(node) for node in tree.nodes]
    data: dict[str, Codes] = {}
    for column in elimination_order[::-1]:
        neighbours = set().union(*(clique for clique in cliques if column in clique))
        parents = [c for c in domain.attrs if c in data and c in neighbours]
        joint = np.asarray(marginals.project((*parents, column)).datavector(flatten=False))
        data[column] = _draw(joint.astype(np.float64), [data[p] for p in parents], rng.random(rows))
    order = rng.permutation(rows)
    return {c: data[c][order] for c in domain.attrs}


def _draw(joint: FloatArray, parents: Sequence[Codes], u: FloatArray) -> Codes:
    """Each record's value of ``joint``'s last axis given its ``parents``' values (the
    other axes, in order), by inverting the conditional CDF at ``u`` (one uniform per
    record). A cumulative sum a rounding short of 1 gives the last code, as in mbi."""
    size = joint.shape[-1]
    table = joint.reshape(-1, size)
    totals = table.sum(axis=1, keepdims=True)
    conditional = np.divide(table, totals, out=np.zeros_like(table), where=totals != 0)
    cdfs = conditional.cumsum(axis=1)
    configuration = (
        np.ravel_multi_index(tuple(parents), joint.shape[:-1])
        if parents
        else np.zeros(len(u), dtype=np.intp)
    )
    order = np.argsort(configuration, kind="stable")
    cuts = np.flatnonzero(np.diff(configuration[order])) + 1
    codes = np.empty(len(u), dtype=np.int64)
    for group in np.split(order, cuts) if len(order) else []:
        cdf = cdfs[configuration[group[0]]]
        codes[group] = np.searchsorted(cdf, u[group], side="right")
    np.minimum(codes, size - 1, out=codes)
    return codes
