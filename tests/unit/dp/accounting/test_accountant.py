"""Costs, composition, persistence and the privacy filter."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from privsynth.dp.accounting import PrivacyFilter, RDPAccountant, compose, from_dict
from privsynth.dp.accounting import costs as cost_of
from privsynth.dp.accounting.accountant import ACCOUNTANTS
from privsynth.dp.accounting.rdp import rho_for_epsilon, zcdp_to_epsilon
from privsynth.dp.mechanisms import Mechanisms
from privsynth.dp.noise import NoiseSource
from privsynth.errors import BudgetExceededError, ConfigurationError

ALL_COSTS = [
    cost_of.gaussian(2.0, sensitivity=1.5, count=3),
    cost_of.zcdp(0.1, delta=1e-8),
    cost_of.exponential(0.5, count=2),
    cost_of.laplace(3.0),
    cost_of.subsampled_gaussian(1.1, 0.01, 500),
    cost_of.thresholded_gaussian(4.0, 1e-9),
]


@pytest.mark.parametrize("cost", ALL_COSTS, ids=lambda c: c.mechanism)
def test_costs_rebuild_from_their_json(cost: cost_of.PrivacyCost) -> None:
    again = from_dict(json.loads(json.dumps(cost.to_dict())))
    assert np.array_equal(again.rdp, cost.rdp)
    assert again.delta == cost.delta


def test_accountant_state_dict_round_trip() -> None:
    accountant = RDPAccountant()
    for cost in ALL_COSTS:
        accountant.spend(cost, purpose=f"use {cost.mechanism}")
    state = json.loads(json.dumps(accountant.state_dict()))
    restored = ACCOUNTANTS.get("rdp")()
    restored.load_state_dict(state)
    assert [s.purpose for s in restored.history] == [s.purpose for s in accountant.history]
    assert restored.epsilon(1e-5) == pytest.approx(accountant.epsilon(1e-5), rel=1e-12)


def test_gaussian_composition_is_zcdp() -> None:
    sigma, rounds, delta = 3.0, 40, 1e-6
    composed = compose([cost_of.gaussian(sigma)] * rounds)
    rho = rounds / (2 * sigma**2)
    assert composed.rho() == pytest.approx(rho)
    exact = zcdp_to_epsilon(rho, delta)
    assert exact <= composed.epsilon(delta) <= exact * 1.005


def test_matches_opacus_rdp_accountant_for_dp_sgd() -> None:
    from opacus import accountants as opacus  # a dev dependency: the reference

    sigma, rate, steps, delta = 1.1, 256 / 60_000, 60 * 235, 1e-5
    reference = opacus.RDPAccountant()
    reference.history = [(sigma, rate, steps)]
    theirs = reference.get_epsilon(delta)
    ours = cost_of.subsampled_gaussian(sigma, rate, steps).epsilon(delta)
    assert ours == pytest.approx(theirs, rel=0.005)  # same maths, different order grids


def test_additive_delta_is_subtracted_before_conversion() -> None:
    cost = cost_of.zcdp(0.05, delta=1e-7)
    assert cost.epsilon(1e-7) == math.inf
    plain = cost_of.zcdp(0.05)
    assert cost.epsilon(2e-7) == pytest.approx(plain.epsilon(1e-7))


def test_filter_refuses_before_recording() -> None:
    limit = cost_of.zcdp(rho_for_epsilon(1.0, 1e-6))
    guard = PrivacyFilter(limit)
    guard.charge(cost_of.gaussian(math.sqrt(1 / (2 * limit.rho() * 0.6))), "first")
    with pytest.raises(BudgetExceededError):
        guard.charge(cost_of.gaussian(math.sqrt(1 / (2 * limit.rho() * 0.6))), "second")
    assert [s.purpose for s in guard.accountant.history] == ["first"]
    assert guard.remaining_rho() == pytest.approx(0.4 * limit.rho(), rel=1e-6)


def test_mechanisms_charge_the_filter_and_never_exceed_it() -> None:
    guard = PrivacyFilter(cost_of.zcdp(0.5, delta=1e-9))
    mechanisms = Mechanisms(guard, NoiseSource(seed=3))
    released = mechanisms.gaussian_counts(np.array([10, 20, 30]), 0.2, "counts")
    assert released.values.shape == (3,)
    assert released.sigma >= math.sqrt(1 / 0.4)
    assert mechanisms.select([1.0, 5.0, 2.0], 0.1, "pick", sensitivity=1.0) in (0, 1, 2)
    keys = mechanisms.frequent_keys({"common": 500, "rare": 1}, 0.15, 1e-9, "keys")
    assert list(keys) == ["common"]
    with pytest.raises(BudgetExceededError):
        mechanisms.gaussian_counts(np.array([1]), 0.2, "one too many")
    assert guard.accountant.total().dominated_by(guard.limit)


def test_nonpositive_rho_is_a_configuration_error() -> None:
    mechanisms = Mechanisms(PrivacyFilter(cost_of.zcdp(1.0)), NoiseSource(seed=0))
    with pytest.raises(ConfigurationError):
        mechanisms.gaussian_counts(np.array([1]), 0.0, "nothing")
