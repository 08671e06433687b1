"""
===================================================
CRL vs plain training, seen by the auditor
===================================================

:class:`~skprivacy.CRLClassifier` trains a network with Center-based Relaxed
Learning (Fang & Kim, 2024): the training loss is held near a level ``alpha``
instead of being driven to zero, and penultimate features are pulled towards
class centers, so members and non-members look alike. Here we train the same
network on Adult with plain cross-entropy (``crl=False``) and with CRL, and
audit both with :class:`~skprivacy.MembershipInferenceAuditor` using the loss
attack and RMIA with reference models, plotted with
:class:`~skprivacy.audit.MembershipInferenceDisplay`.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# Data
# ----
# Members (training rows), as many non-members, and a population the attacks
# calibrate on. The preprocessing is fitted on the population.
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.frozen import FrozenEstimator

from skprivacy import CRLClassifier, MembershipInferenceAuditor
from skprivacy.audit import MembershipInferenceDisplay
from skprivacy.datasets import load_adult, make_preprocessor

# Documented fast mode used by the documentation build in CI.
QUICK = os.environ.get("SKPRIVACY_EXAMPLES_QUICK") == "1"

adult = load_adult(as_frame=True)
n = 500 if QUICK else 1000
order = np.random.default_rng(0).permutation(len(adult.target))
members, non_members, population = order[:n], order[n : 2 * n], order[2 * n : 4 * n]
prep = make_preprocessor(adult, drop=["fnlwgt"]).fit(adult.data.iloc[population])
X = prep.transform(adult.data).astype(np.float32)
y = adult.target
pool = np.r_[members, non_members]
membership = np.r_[np.ones(n), np.zeros(n)]

# %%
# Train and audit
# ---------------
# ``crl=False`` is the same network and recipe with plain cross-entropy. The
# auditor retrains each recipe on random halves of the pool for its reference
# models (``n_references``).
fig, axes = plt.subplots(1, 2, figsize=(10, 4.5), sharey=True)
for ax, crl in zip(axes, (False, True), strict=True):
    name = "CRL" if crl else "plain"
    model = CRLClassifier(crl=crl, max_epochs=30 if QUICK else 60, random_state=0)
    model.fit(X[members], y[members])
    accuracy = model.score(X[non_members], y[non_members])
    print(
        f"{name}: train accuracy {model.score(X[members], y[members]):.3f}, "
        f"test accuracy {accuracy:.3f}"
    )
    for attack in ("loss", "rmia"):
        auditor = MembershipInferenceAuditor(
            FrozenEstimator(model),
            attack=attack,
            n_references=0 if attack == "loss" else 4,
            random_state=0,
        ).fit(X[pool], y[pool], X_population=X[population], y_population=y[population])
        scores = auditor.decision_function(X[pool], y[pool])
        MembershipInferenceDisplay.from_predictions(
            membership, scores, name=attack, ax=ax, histogram=False
        )
        report = auditor.audit(X[pool], y[pool], membership)
        print(
            f"  {attack}: AUC {report.metrics['auc']:.3f}, "
            f"TPR@1%FPR {report.metrics['tpr_at_0.01_fpr']:.3f}, "
            f"epsilon >= {report.metrics['epsilon_lower_bound']:.2f}"
        )
    # Both attacks share the axes: span every resolvable FPR, one chance line.
    ax.set(xlim=(1 / n, 1), ylim=(1 / n, 1.05))
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))
    ax.legend(unique.values(), unique.keys(), loc="lower right", fontsize=8)
    ax.set_title(f"{name} (test accuracy {accuracy:.3f})")
fig.tight_layout()
plt.show()

# %%
# Reading the result
# ------------------
# Curves nearer the diagonal leak less. CRL is an empirical defense: it has no
# formal guarantee, so the way to know what it buys on your data is exactly
# this audit, with reference-based attacks and at low FPR, not only the loss
# attack's AUC. Tune ``alpha`` (higher: more privacy, less accuracy) per task.
