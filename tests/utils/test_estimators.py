# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier, VotingClassifier
from sklearn.linear_model import LogisticRegression

from skprivacy.utils._estimators import set_random_states


def test_one_random_state_gets_the_seed_whatever_the_user_set():
    for model in (LogisticRegression(), LogisticRegression(random_state=3)):
        assert set_random_states(clone(model), 11).random_state == 11


def test_parts_of_one_model_get_independent_seeds():
    # Two forests voting: with one shared seed they would draw the same
    # bootstrap samples and feature subsets, unlike the recipe unseeded.
    vote = VotingClassifier(
        [("a", RandomForestClassifier(random_state=1)), ("b", RandomForestClassifier())]
    )
    seeded = set_random_states(clone(vote), 11)
    seeds = {seeded.get_params()[f"{k}__random_state"] for k in ("a", "b")}
    assert len(seeds) == 2 and all(isinstance(s, int) for s in seeds)
    # A function of the seed only: the same seed gives the same seeds.
    again = set_random_states(clone(vote).set_params(a__random_state=5), 11)
    assert (
        again.get_params()["a__random_state"] == seeded.get_params()["a__random_state"]
    )
    other = set_random_states(clone(vote), 12)
    assert (
        other.get_params()["a__random_state"] != seeded.get_params()["a__random_state"]
    )
