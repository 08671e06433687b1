"""
=====================================================
Searching privacy hyper-parameters with GridSearchCV
=====================================================

A defense trades utility for privacy, and its hyper-parameters set the trade.
This example searches them with scikit-learn's
:class:`~sklearn.model_selection.GridSearchCV`, scoring every grid point by
its accuracy *and* by how much a membership-inference attack learns about its
training rows:

- :class:`~skprivacy.audit.AuditRecorder` wraps the model and remembers a
  sample of each fold's training rows (the members to attack);
- :func:`~skprivacy.audit.make_privacy_scorer` attacks them against the fold's
  held-out rows and returns utility and negated leakage metrics, so
  ``cv_results_`` keeps the whole privacy/utility front;
- :func:`~skprivacy.audit.privacy_refit` refits the most accurate setting whose
  leakage stays under a cap.

We search :class:`~skprivacy.CRLClassifier`'s ``alpha`` and ``center_weight``,
then :class:`~skprivacy.SmoothedClassifier`'s noise level ``sigma`` (audited
with a label-only attack, since an abstaining smoothed classifier releases
labels only), on a subsample of the bundled Adult data.

Set the environment variable ``SKPRIVACY_EXAMPLES_QUICK=1`` for a smaller run
(fewer rows, epochs and grid points), as the documentation build may do.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# Data
# ----
# The preprocessor (imputation, scaling, one-hot encoding) is fitted on Adult
# rows that the search never sees, so the search runs on a fixed numeric
# matrix.
import os
import time

import numpy as np

from skprivacy.datasets import load_adult, make_preprocessor

QUICK = os.environ.get("SKPRIVACY_EXAMPLES_QUICK", "0") not in ("", "0")
N_ROWS = 900 if QUICK else 2000
EPOCHS = 15 if QUICK else 40

adult = load_adult(as_frame=True)
rng = np.random.default_rng(0)
order = rng.permutation(len(adult.target))
search_rows, other_rows = order[:N_ROWS], order[N_ROWS:]
preprocessor = make_preprocessor(adult, drop=["fnlwgt"])
preprocessor.fit(adult.data.iloc[other_rows])
X = preprocessor.transform(adult.data.iloc[search_rows]).astype(np.float32)
y = adult.target[search_rows]
print(f"{X.shape[0]} rows, {X.shape[1]} features, {y.mean():.0%} positive")

# %%
# CRLClassifier: ``alpha`` x ``center_weight``
# --------------------------------------------
# ``alpha`` is the loss level that relaxed learning holds members at (higher:
# members look more like non-members); ``center_weight`` weighs the center
# term. The default attack of the scorer needs no reference model (the loss
# attack of Yeom et al.), so a grid point costs one pass over the audited rows.
#
# Each fold holds out a third of the rows, and the recorder remembers as many
# training rows, so each fold audits about ``N_ROWS // 3`` members against as
# many non-members. A TPR at a false-positive rate ``f`` needs at least
# ``10 / f`` non-members, so the ``"tpr"`` leakage is read at the lowest FPR
# of the ladder 0.1%, 0.2%, 0.5%, 1%, 2%, 5%, 10% that ``n_members`` resolve:
# 2% here (666 members; 1% would need 1,000), 5% in the quick run (300). The
# FPR is chosen once, from ``n_members``, so every fold reads the same one;
# the scorer reports it as ``mia_tpr_fpr``.
from sklearn.model_selection import GridSearchCV

from skprivacy import CRLClassifier
from skprivacy.audit import AuditRecorder, make_privacy_scorer, privacy_refit

scorer = make_privacy_scorer(
    attack="loss", leakage=("auc", "advantage", "tpr"), random_state=0
)
crl = AuditRecorder(
    CRLClassifier(hidden_units=(128, 64), max_epochs=EPOCHS, lr=3e-3, random_state=0),
    n_members=N_ROWS // 3,
    random_state=0,
)
grid = {
    "estimator__alpha": [0.05, 0.5] if QUICK else [0.05, 0.3, 0.5],
    "estimator__center_weight": [0.0, 1.0] if QUICK else [0.0, 0.1, 1.0],
}
crl_search = GridSearchCV(
    crl,
    grid,
    scoring=scorer,
    refit=privacy_refit(utility="accuracy", leakage="auc", max_leakage=0.55),
    cv=3,
)
start = time.perf_counter()
crl_search.fit(X, y)
n_points = len(crl_search.cv_results_["params"])
print(
    f"{n_points} grid points x 3 folds with the privacy scorer: "
    f"{time.perf_counter() - start:.1f} s (per fold: fit "
    f"{crl_search.cv_results_['mean_fit_time'].mean():.2f} s, utility and audit "
    f"{crl_search.cv_results_['mean_score_time'].mean():.2f} s)"
)

# %%
# Every metric of every grid point is in ``cv_results_``; the leakage columns
# are negated (greater is better in scikit-learn), so we flip them back.
import pandas as pd

results = pd.DataFrame(crl_search.cv_results_)
fpr = results["mean_test_mia_tpr_fpr"].iloc[0]
front = pd.DataFrame(
    {
        "alpha": results["param_estimator__alpha"],
        "center_weight": results["param_estimator__center_weight"],
        "accuracy": results["mean_test_accuracy"],
        "attack AUC": -results["mean_test_neg_mia_auc"],
        "advantage": -results["mean_test_neg_mia_advantage"],
        f"TPR@{fpr:.0%}FPR": -results["mean_test_neg_mia_tpr"],
    }
)
print(front.round(3).to_string(index=False))
print("chosen:", crl_search.best_params_)

# %%
# The refitted model carries the recorder's copy of its training rows: drop
# it before saving or deploying the model.
crl_search.best_estimator_.forget()
deployed = crl_search.best_estimator_.estimator_

# %%
# SmoothedClassifier: ``sigma``, audited from labels only
# -------------------------------------------------------
# With ``abstain=True`` the smoothed classifier releases a label or an
# abstention, so probability attacks do not apply; the label-noise attack
# counts how many noisy copies of a record keep its label (an abstention is
# never correct). The base network trains briefly, so scikit-learn's
# convergence warnings are silenced.
import warnings

from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from skprivacy import SmoothedClassifier

smoothed = AuditRecorder(
    SmoothedClassifier(
        MLPClassifier((128,), max_iter=EPOCHS, random_state=0),
        n_predict=50,
        abstain=True,
        alpha=0.05,
        random_state=0,
    ),
    n_members=N_ROWS // 4,
    random_state=0,
)
smoothed_search = GridSearchCV(
    smoothed,
    {"estimator__sigma": [0.05, 0.5] if QUICK else [0.02, 0.1, 0.4]},
    scoring=make_privacy_scorer(
        attack="label_noise", leakage=("auc", "advantage"), random_state=0
    ),
    refit=privacy_refit(utility="accuracy", leakage="auc", max_leakage=0.55),
    cv=3,
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    smoothed_search.fit(X, y)
smoothed_search.best_estimator_.forget()
smoothed_results = pd.DataFrame(smoothed_search.cv_results_)
print(
    pd.DataFrame(
        {
            "sigma": smoothed_results["param_estimator__sigma"],
            "accuracy": smoothed_results["mean_test_accuracy"],
            "attack AUC": -smoothed_results["mean_test_neg_mia_auc"],
        }
    )
    .round(3)
    .to_string(index=False)
)
print("chosen:", smoothed_search.best_params_)

# %%
# The privacy/utility front
# -------------------------
# Each point is a grid point (mean over the folds); the chosen settings are
# circled. Points up and to the left are better: more accurate, less exposed.
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6, 4))
for name, table, search, marker in (
    ("CRL", results, crl_search, "o"),
    ("smoothed (labels)", smoothed_results, smoothed_search, "s"),
):
    leak = -table["mean_test_neg_mia_auc"]
    acc = table["mean_test_accuracy"]
    ax.scatter(leak, acc, marker=marker, label=name)
    best = search.best_index_
    ax.scatter(leak[best], acc[best], s=200, facecolors="none", edgecolors="k")
ax.axvline(0.55, color="grey", linestyle="--", label="leakage cap")
ax.set_xlabel("membership attack AUC (lower: more private)")
ax.set_ylabel("accuracy")
ax.legend()
ax.set_title("Privacy/utility front on Adult")
fig.tight_layout()
plt.show()
