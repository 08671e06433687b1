"""
=========================================
Audit any scikit-learn model in ten lines
=========================================

:class:`~skprivacy.MembershipInferenceAuditor` measures how much a fitted
classifier leaks about its training rows. It needs the model, a pool of records
from the same distribution (it trains *reference models* on random halves of
it, with the model's own recipe) and, to set its decision threshold without
membership labels, some records the model never saw.

Here the model is a random forest on the bundled German Credit data.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# The ten lines
# -------------
# Members are the forest's training rows; non-members are as many rows it never
# saw; both go into the pool (online attacks need every scored record there).
# The remaining rows are the population that calibrates the threshold.
import os

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import make_pipeline

from skprivacy import MembershipInferenceAuditor
from skprivacy.datasets import load_german_credit, make_preprocessor

# Documented fast mode used by the documentation build in CI.
QUICK = os.environ.get("SKPRIVACY_EXAMPLES_QUICK") == "1"

credit = load_german_credit(as_frame=True)
X, y = credit.data, credit.target
rng = np.random.default_rng(0)
order = rng.permutation(len(y))
members, non_members, population = order[:300], order[300:600], order[600:]

model = make_pipeline(make_preprocessor(credit), RandomForestClassifier(random_state=0))
model.fit(X.iloc[members], y[members])

pool = np.r_[members, non_members]
membership = np.r_[np.ones(300), np.zeros(300)]
auditor = MembershipInferenceAuditor(
    FrozenEstimator(model),
    attack="rmia",
    n_references=4 if QUICK else 8,
    random_state=0,
).fit(
    X.iloc[pool], y[pool], X_population=X.iloc[population], y_population=y[population]
)
report = auditor.audit(X.iloc[pool], y[pool], membership)

# %%
# What the report says
# --------------------
# The AUC comes with a bootstrap interval, the advantage with a held-out one
# (threshold chosen on one half, rates bounded on the other). With only 300
# non-members the TPR at 1% FPR is not resolved (it needs 1,000): it is NaN,
# with an ``UnresolvedMetricWarning``. ``epsilon_lower_bound`` measures leakage
# on this one training run; it is a guaranteed lower bound on the
# differential-privacy epsilon only for independent trials (multi-run audits).
for name in ("auc", "advantage", "tpr_at_0.01_fpr"):
    low, high = report.intervals[name]
    print(f"{name:16s} {report.metrics[name]:.3f}  95% CI [{low:.3f}, {high:.3f}]")
print(f"empirical epsilon (one run) {report.metrics['epsilon_lower_bound']:.2f}")
print("resolved:", report.resolved)
print(f"test accuracy {model.score(X.iloc[non_members], y[non_members]):.3f}")

# %%
# ``predict`` decides membership at 1% FPR with a threshold set on the
# population only; its realised rates:
print(
    f"predict: TPR {report.metrics['predict_tpr']:.3f}, "
    f"FPR {report.metrics['predict_fpr']:.3f}"
)

# %%
# The records the attack exposes most, and the plot
# --------------------------------------------------
print(report.vulnerable_records(5))
report.plot()
