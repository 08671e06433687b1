"""
===================================================
Auditing a differential-privacy claim in one run
===================================================

A network trained with DP-SGD comes with the epsilon its accountant computed:
an *upper* bound on what it leaks, valid only if the implementation and the
analysis are right. :class:`~skprivacy.audit.DPAuditor` measures the other
side, a *lower* bound on epsilon, by inserting canaries into training, each
with probability 1/2, and guessing from the trained model which ones were
used (Steinke, Nasr & Jagielski, NeurIPS 2023: one training run suffices).

We audit two networks with the same architecture and training code: one
trained with DP-SGD at a small epsilon, and the same network without
clipping or noise (no DP at all).
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# Data and canaries
# -----------------
# The canaries are made from records held out of training: each is a
# synthetic record far outside the data with a random label
# (``"out_of_distribution"``, see :func:`~skprivacy.audit.make_canaries`), so
# a model that memorises it gives it a visibly lower loss. A canary that
# duplicated a training record could not be audited and would be refused.
import os
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from sklearn.datasets import make_classification

from skprivacy.audit import DPAuditDisplay, DPAuditor
from skprivacy.defense import DPSGDClassifier
from skprivacy.exceptions import DPParameterWarning

# Documented fast mode used by the documentation build in CI.
QUICK = os.environ.get("SKPRIVACY_EXAMPLES_QUICK") == "1"

X, y = make_classification(1200, 50, n_informative=6, flip_y=0.05, random_state=1)
X = X.astype(np.float32)
X_train, y_train = X[:400], y[:400]
X_pool, y_pool = X[400:800], y[400:800]
X_test, y_test = X[800:], y[800:]

# %%
# Two recipes
# -----------
# The private network reaches epsilon = 1 (at delta = 1 / (10 n)) by adding
# noise to clipped per-example gradients. The non-private one is the same
# class with ``noise_multiplier=0`` and clipping out of reach: its accountant
# honestly reports an infinite epsilon (it warns about it; silenced here).
recipes = {
    "DP-SGD, epsilon = 1": DPSGDClassifier(
        hidden_units=(128,),
        max_epochs=10,
        batch_size=64,
        optimizer=torch.optim.SGD,
        lr=0.5,
        target_epsilon=1.0,
    ),
    "no DP": DPSGDClassifier(
        hidden_units=(128,),
        max_epochs=30,
        batch_size=64,
        optimizer=torch.optim.SGD,
        lr=0.5,
        noise_multiplier=0.0,
        max_grad_norm=1e3,
    ),
}

# %%
# One training run each
# ---------------------
# ``fit`` trains the recipe once on the training data plus every canary with
# probability 1/2, and scores each canary with the loss attack. ``audit``
# guesses "in" for the lowest-loss canaries and "out" for the highest, and
# turns the number of right guesses into a lower bound on epsilon at 95%
# confidence.
auditors, rows = {}, {}
for name, recipe in recipes.items():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DPParameterWarning)
        # Opacus' RDP accountant notes that zero noise has no useful order.
        warnings.filterwarnings("ignore", message="Optimal order")
        auditor = DPAuditor(
            recipe,
            canaries="out_of_distribution",
            n_canaries=300 if QUICK else 1000,
            random_state=0,
        ).fit(X_train, y_train, X_canary=X_pool, y_canary=y_pool)
        report = auditor.audit(X_test, y_test)
    auditors[name] = auditor
    rows[name] = report.to_frame()["value"]
table = pd.DataFrame(rows).T
table[["accountant_epsilon", "one_run_epsilon", "delta", "n_canaries", "test_accuracy"]]

# %%
# How to read the bounds
# ----------------------
# A lower bound *above* the accountant's epsilon would prove the claim false
# (a bug in the training code or in the accounting), with 95% confidence.
#
# A lower bound of **0** means this attack, with these canaries, found no
# evidence of leakage: it is *consistent* with the claim and says nothing
# about how tight the claim is. The true epsilon of the DP-SGD model may be
# anywhere between 0 and its accountant's value; black-box audits of DP-SGD
# are known to stay far below it.
#
# The network without DP, trained by the same code, shows a positive bound
# from a single run: the canaries it memorised are recognisable, so it is
# provably not DP at that epsilon. This is the audit's use: it catches
# recipes that leak more than they claim, and checks that the attack is
# strong enough to see leakage where there is some.
for name, auditor in auditors.items():
    bound = table.loc[name, "one_run_epsilon"]
    claim = auditor.accountant_epsilon_
    if bound > claim:
        verdict = "the claim is false"
    elif np.isinf(claim):
        delta = table.loc[name, "delta"]
        verdict = f"no privacy claimed; provably not ({bound:.2f}, {delta:.1g})-DP"
    else:
        verdict = "consistent with the claim; says nothing about its tightness"
    print(f"{name}: accountant {claim:.3g}, lower bound {bound:.2f}: {verdict}")

# %%
# The bound against the number of canaries
# ----------------------------------------
# :class:`~skprivacy.audit.DPAuditDisplay` recomputes the bound on the first
# canaries only. Where the curve flattens, more canaries would not help; a
# stronger attack or stronger canaries would. The dashed line is the
# accountant's epsilon (the DP-SGD one; the other is infinite).
fig, ax = plt.subplots(figsize=(6, 4))
for name, auditor in auditors.items():
    DPAuditDisplay.from_estimator(auditor, name=name, ax=ax)
ax.set_title("One-run DP audit, loss attack")
plt.show()
