"""Warning classes of skprivacy, so that users can filter them by kind.

Every warning skprivacy emits derives from :class:`SkprivacyWarning` (itself a
:class:`UserWarning`), as :mod:`sklearn.exceptions` does for scikit-learn::

    import warnings
    from skprivacy.exceptions import UnresolvedMetricWarning

    with warnings.catch_warnings():
        warnings.simplefilter("error", UnresolvedMetricWarning)
        ...  # a TPR the data cannot resolve now raises instead of turning NaN
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

__all__ = [
    "DPParameterWarning",
    "DataOverlapWarning",
    "DefenseConfigurationWarning",
    "DependentTrialsWarning",
    "ReferenceCalibrationWarning",
    "SkprivacyWarning",
    "SmallSampleWarning",
    "UnresolvedMetricWarning",
    "UntrainedReferenceWarning",
]


class SkprivacyWarning(UserWarning):
    """Base class of every warning skprivacy emits.

    Examples
    --------
    >>> import warnings
    >>> from skprivacy.exceptions import SkprivacyWarning, SmallSampleWarning
    >>> issubclass(SmallSampleWarning, SkprivacyWarning)
    True
    """


class UnresolvedMetricWarning(SkprivacyWarning):
    """A rate the data cannot resolve was requested; it is reported as NaN.

    A true-positive rate at false-positive rate ``fpr`` needs at least
    ``10 / fpr`` non-member trials: with fewer, the empirical FPR moves in steps
    coarser than ``fpr`` itself and the TPR read there is noise.

    Examples
    --------
    >>> from skprivacy.exceptions import UnresolvedMetricWarning
    >>> UnresolvedMetricWarning.__mro__[1].__name__
    'SkprivacyWarning'
    """


class DataOverlapWarning(SkprivacyWarning):
    """Records offered as non-members (or as population data) were trained on.

    Membership thresholds and population statistics assume the non-member
    records are exchangeable with records the model never saw; training rows
    among them break that assumption and understate the leakage.

    Also raised when audited records look like the auditor's pool (same shape)
    but none of them is found in it: records are matched by value, so they
    differ from the pool's (scaled, reordered columns, float32-rounded...), and
    they are scored as records no reference trained on although the
    references may have trained on them.

    Examples
    --------
    >>> from skprivacy.exceptions import DataOverlapWarning
    >>> issubclass(DataOverlapWarning, UserWarning)
    True
    """


class ReferenceCalibrationWarning(SkprivacyWarning):
    """A threshold or p-value was calibrated on reference models, not on data.

    Without population records (known non-members of the target), a
    membership auditor sets its decision threshold from the reference models,
    each attacked with the others on the records it did not train on. The
    false-positive rate of its decisions is then ``target_fpr`` only for a
    target exchangeable with the references (trained by the same recipe on a
    random half of the pool); for another target it can be higher. Records
    the target never saw, passed as the population, calibrate it for any
    target.

    Examples
    --------
    >>> from skprivacy.exceptions import ReferenceCalibrationWarning
    >>> issubclass(ReferenceCalibrationWarning, UserWarning)
    True
    """


class SmallSampleWarning(SkprivacyWarning):
    """Too few samples or trials for the requested statistical guarantee.

    For example a Monte Carlo sample size with which ``certify`` can never
    certify at the requested ``alpha``, or too few null scores to set a
    threshold at the requested false-positive rate.

    Examples
    --------
    >>> from skprivacy.exceptions import SmallSampleWarning
    >>> issubclass(SmallSampleWarning, UserWarning)
    True
    """


class UntrainedReferenceWarning(SkprivacyWarning):
    """A reference (shadow) model did no better than the majority class.

    Attacks calibrated on untrained references understate the leakage.

    Examples
    --------
    >>> from skprivacy.exceptions import UntrainedReferenceWarning
    >>> issubclass(UntrainedReferenceWarning, UserWarning)
    True
    """


class DefenseConfigurationWarning(SkprivacyWarning):
    """A defense's hyper-parameters make it inert or break training.

    For example a CRL ``alpha`` at or below the loss floor (the relaxed loss
    reduces to plain descent) or at or above the chance-level loss (training
    yields a constant predictor).

    Examples
    --------
    >>> from skprivacy.exceptions import DefenseConfigurationWarning
    >>> issubclass(DefenseConfigurationWarning, UserWarning)
    True
    """


class DependentTrialsWarning(SkprivacyWarning):
    """A bound for independent trials was applied to dependent ones.

    For example :func:`~skprivacy.audit.empirical_epsilon`'s Clopper-Pearson
    bound, which holds when each record comes from its own training run
    (multi-run auditing), applied to the members and non-members of one
    training run: their outcomes share the run's randomness, and the stated
    confidence does not hold.

    Examples
    --------
    >>> from skprivacy.exceptions import DependentTrialsWarning
    >>> issubclass(DependentTrialsWarning, UserWarning)
    True
    """


class DPParameterWarning(SkprivacyWarning):
    """A differential-privacy parameter weakens the guarantee it names.

    For example ``delta`` at or above ``1 / n_samples``: an
    (epsilon, delta)-DP mechanism may then publish a whole record outright.

    Examples
    --------
    >>> from skprivacy.exceptions import DPParameterWarning
    >>> issubclass(DPParameterWarning, UserWarning)
    True
    """
