"""
=================================================
Certified predictions and certified accuracy
=================================================

:class:`~skprivacy.SmoothedClassifier` turns any classifier into a randomized
smoothing classifier whose predictions come with a certified l2 radius: with
probability at least ``1 - alpha`` the smoothed prediction does not change for
any input within that radius. The certified-accuracy curve shows, for each
radius r, the fraction of test rows whose certified prediction is correct *and*
certified at radius at least r.

The base model here is a small neural network on the numerical features of
Adult, standardized so that the radius is in standard deviations.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# Data and base model
# -------------------
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from skprivacy import SmoothedClassifier
from skprivacy.certify import CertifiedAccuracyDisplay, certified_accuracy_curve
from skprivacy.datasets import load_adult

# Documented fast mode used by the documentation build in CI.
QUICK = os.environ.get("SKPRIVACY_EXAMPLES_QUICK") == "1"

adult = load_adult(as_frame=True)
numerical = ["age", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
X = adult.data[numerical].to_numpy(float)
X_train, X_test, y_train, y_test = train_test_split(
    X, adult.target, train_size=2000, test_size=200 if QUICK else 500, random_state=0
)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
base = MLPClassifier((64,), max_iter=300, random_state=0)

# %%
# Smooth and certify at two noise levels
# --------------------------------------
# ``fit`` trains the base model on noisy copies of the data (``n_augment``
# copies per row). ``certify`` draws ``n0`` samples to pick the class and ``n``
# fresh ones for the Clopper-Pearson bound. Larger ``sigma`` certifies larger
# radii but blurs the decision boundary.
n = 1_000 if QUICK else 10_000
fig, ax = plt.subplots(figsize=(6, 4))
for sigma in (0.25, 0.5):
    smoothed = SmoothedClassifier(
        base, sigma=sigma, n=n, n_augment=4, random_state=0
    ).fit(X_train, y_train)
    labels, radii = smoothed.certify(X_test)
    abstained = np.mean(labels == smoothed.abstain_label_)
    grid, accuracy = certified_accuracy_curve(
        y_test, labels, radii, radius_grid=np.array([0, 0.25, 0.5, 1.0])
    )
    print(f"sigma={sigma}: abstains on {abstained:.1%}; certified accuracy", end=" ")
    print(", ".join(f"r={r:g}: {a:.3f}" for r, a in zip(grid, accuracy, strict=True)))
    CertifiedAccuracyDisplay.from_predictions(
        y_test, labels, radii, name=f"sigma={sigma}", ax=ax
    )

base_accuracy = base.fit(X_train, y_train).score(X_test, y_test)
ax.axhline(base_accuracy, color="gray", linestyle=":", label="base model, no noise")
ax.legend()
ax.set_title("Certified accuracy on Adult (numerical features)")
plt.show()

# %%
# Reading the curve
# -----------------
# At radius 0 the curve is the accuracy of the certified predictions (an
# abstention counts as wrong). The largest radius that ``n`` samples can
# certify is ``sigma * Phi^-1(alpha ** (1 / n))``: with ``n=1000`` and
# ``alpha=0.001`` that is 2.46 sigma, so more samples are needed for larger
# radii. The certificate covers the noised columns only, in the units of
# ``feature_scale`` (here standard deviations, since the data are standardized).
