"""
===========================================
From the bundled Adult data to a classifier
===========================================

Load the UCI Adult census data bundled with skprivacy, turn it into a numeric
design matrix with :func:`~skprivacy.datasets.make_preprocessor`, fit a
classifier on the original training split and look at how it behaves on the
sensitive attributes that privacy audits slice by.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# Load the data
# -------------
# ``as_frame=True`` gives a DataFrame with categorical columns; missing values
# (``?`` in the source) are NaN. ``sensitive_features`` names the protected
# attributes.
from skprivacy.datasets import load_adult

adult = load_adult(as_frame=True)
print(adult.frame.shape)
print("sensitive:", adult.sensitive_features)
print("rows with a missing value:", int(adult.data.isna().any(axis=1).sum()))

# %%
# Preprocess and fit
# ------------------
# The recipe imputes and scales numerical columns and one-hot encodes
# categorical ones; ``fnlwgt`` is a census sampling weight, not a property of the
# person, so we drop it.
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from skprivacy.datasets import make_preprocessor

train = adult.split == "train"
model = make_pipeline(
    make_preprocessor(adult, drop=["fnlwgt"]), LogisticRegression(max_iter=1000)
)
model.fit(adult.data[train], adult.target[train])
print(f"train accuracy {model.score(adult.data[train], adult.target[train]):.3f}")
print(f"test accuracy  {model.score(adult.data[~train], adult.target[~train]):.3f}")

# %%
# Accuracy per group of a sensitive attribute
# -------------------------------------------
# Audits report results per group because a model can expose or fail one group
# more than another.
import matplotlib.pyplot as plt
import pandas as pd

test = adult.frame[~train].assign(pred=model.predict(adult.data[~train]))
per_group = (
    test.assign(correct=test["pred"] == test["income"])
    .groupby("sex", observed=True)["correct"]
    .mean()
)
print(per_group)

fig, ax = plt.subplots(figsize=(4, 3))
pd.Series(per_group).plot.bar(ax=ax, color=["tab:orange", "tab:blue"])
ax.set_ylabel("test accuracy")
ax.set_ylim(0.5, 1.0)
ax.set_title("Logistic regression on Adult, by sex")
fig.tight_layout()
plt.show()
