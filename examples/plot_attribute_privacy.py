"""
===========================================================
Attribute privacy of a recommendation, with and without RP
===========================================================

A recommendation that depends mainly on a sensitive attribute reveals it: here a
treatment is recommended essentially when BMI is above a threshold, so an
adversary who knows a person's other features and sees the recommendation learns
on which side of the threshold their BMI lies.

We measure this leak for three releases of the same model:

* the plain model's label;
* the label of a :class:`~skprivacy.SmoothedClassifier` with noise on BMI
  (robust privacy, Jin et al. 2026), at two noise levels;
* the label through k-ary randomized response
  (:class:`~skprivacy.defense.RandomizedResponseClassifier`), an
  epsilon-local-DP baseline.

Two measures: the label-only attack of
:class:`~skprivacy.audit.AttributeInferenceAttack` (success within 2 BMI
points, always beside the best guess from the prior alone), and the
:func:`~skprivacy.certify.compatible_intervals` of BMI values that give the
same release.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# Data and model
# --------------
# :func:`~skprivacy.datasets.make_recommendation` draws BMI from a truncated
# normal on [15, 50] and makes the label depend mainly on it. The adversary's
# prior over BMI is learnt from auxiliary data (``X_aux``), and the attack
# targets are training rows.
import os
import warnings

import matplotlib.pyplot as plt
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skprivacy import SmoothedClassifier
from skprivacy.audit import AttributeInferenceAttack
from skprivacy.certify import compatible_intervals
from skprivacy.datasets import make_recommendation
from skprivacy.defense import RandomizedResponseClassifier

# Documented fast mode used by the documentation build in CI.
QUICK = os.environ.get("SKPRIVACY_EXAMPLES_QUICK") == "1"

data = make_recommendation(4000, noise=0.3, random_state=0)
X, y = data.data, data.target
X_train, y_train = X[:2000], y[:2000]
X_test, y_test = X[2000:3000], y[2000:3000]
X_aux = X[3000:]
targets = X_train[: 150 if QUICK else 400]
domain = data.sensitive_domain  # (15, 50)
bins = 35  # one bin per BMI point

# A nonlinear base model: with a linear one, smoothing would not change the
# decision rule and nothing could widen. (Its 500 epochs are enough here; we
# silence the convergence warning.)
warnings.simplefilter("ignore", ConvergenceWarning)
base = make_pipeline(
    StandardScaler(), MLPClassifier((32, 32), max_iter=500, random_state=0)
)
releases = {"plain": base.fit(X_train, y_train)}
bmi_std = X_train[:, 0].std()
for sigma in (0.25, 0.75):
    releases[f"smoothed, sigma={sigma}"] = SmoothedClassifier(
        base,
        sigma=sigma,
        noise_features=[0],  # noise on BMI only
        feature_scale="std",  # sigma in standard deviations of BMI
        n_augment=4,
        n_predict=100 if QUICK else 500,
        random_state=0,
    ).fit(X_train, y_train)
releases["randomized response, eps=1"] = RandomizedResponseClassifier(
    base, epsilon=1.0, random_state=0
).fit(X_train, y_train)

# %%
# Attack and compatible intervals
# -------------------------------
rows = []
for name, release in releases.items():
    attack = AttributeInferenceAttack(
        release, 0, domain=domain, bins=bins, tolerance=2.0
    ).fit(X_aux)
    result = attack.evaluate(targets)
    intervals = compatible_intervals(release, targets, 0, domain=domain, grid=bins)
    rows.append(
        (
            name,
            release.score(X_test, y_test),
            result.success_rate_within_tolerance,
            result.prior_success_rate_within_tolerance,
            intervals.median_measure,
        )
    )

print(f"{'release':28s} {'acc':>6s} {'attack':>7s} {'prior':>6s} {'median |C|':>10s}")
for name, acc, success, prior, measure in rows:
    print(f"{name:28s} {acc:6.3f} {success:7.3f} {prior:6.3f} {measure:10.1f}")
print(f"(BMI standard deviation in the training data: {bmi_std:.1f})")

# %%
# The privacy/utility picture
# ---------------------------
# A release leaks only what the attack gains over the prior-only guess (dashed
# line). The compatible interval is the set of BMI values (in BMI points) that
# would have produced the same release: wider means the release says less.
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
for name, acc, success, _, measure in rows:
    left.scatter(acc, success, s=60, label=name)
    right.barh(name, measure)
left.axhline(rows[0][3], color="gray", linestyle="--", label="prior-only guess")
left.set_xlabel("test accuracy")
left.set_ylabel("attack success (within 2 BMI points)")
left.legend(fontsize=8)
right.set_xlabel("median compatible-set measure (BMI points)")
fig.tight_layout()
plt.show()

# %%
# What is guaranteed
# ------------------
# The attack and the compatible intervals are measurements. The guarantees are:
# the smoothed release's certified radius R (``certify``) means the label cannot
# change while BMI moves by less than ``sigma * std * Phi^-1(pA)`` (with
# probability ``1 - alpha``); randomized response caps any attack's success at
# ``e**epsilon`` times the prior-only success. See the user guide.
