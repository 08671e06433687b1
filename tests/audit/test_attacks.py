"""What every registered membership attack shares: scikit-learn's validation."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import pytest
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError

from skprivacy.audit._attacks import ATTACKS


class _BadType:
    """A value no declared constraint accepts."""


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_every_parameter_is_declared(name):
    attack = ATTACKS[name]()
    assert set(attack._parameter_constraints) == set(attack.get_params(deep=False))


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_fit_validates_parameters_as_scikit_learn_does(name):
    attack = ATTACKS[name]()
    for param in attack._parameter_constraints:
        bad = clone(attack).set_params(**{param: _BadType()})
        # One error type and message for every attack and parameter; the
        # check runs before fit reads its argument.
        match = f"The '{param}' parameter of {type(attack).__name__} must be"
        with pytest.raises(InvalidParameterError, match=match):
            bad.fit(None)
