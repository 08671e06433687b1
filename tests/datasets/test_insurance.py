"""Tests of load_medical_insurance (generated fixture files) and make_insurance_like."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom, chisquare, kstest, truncnorm

from skprivacy.datasets import load_medical_insurance, make_insurance_like
from skprivacy.datasets._insurance import (
    BMI_MEAN,
    BMI_RANGE,
    BMI_STD,
    CHILDREN_P,
    COLUMNS,
    P_MALE,
    P_SMOKER,
)

ROWS = [
    (19, "female", 27.9, 0, "yes", "southwest", 16884.924),
    (18, "male", 33.77, 1, "no", "southeast", 1725.5523),
    (28, "male", 33.0, 3, "no", "southeast", 4449.462),
    (33, "male", 22.705, 0, "no", "northwest", 21984.47061),
    (32, "male", 28.88, 0, "no", "northwest", 3866.8552),
    (31, "female", 25.74, 0, "no", "southeast", 3756.6216),
    (46, "female", 30.0, 1, "no", "northeast", 8240.5896),
]


def write_csv(path, rows=ROWS, header=COLUMNS):
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [",".join(header)] + [",".join(map(str, row)) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_fixture_loads_encoded_without_charges(tmp_path):
    write_csv(tmp_path / "insurance" / "insurance.csv")
    ins = load_medical_insurance(data_home=tmp_path)
    assert ins.data.shape == (7, 9)
    assert ins.feature_names[:5] == ["age", "bmi", "children", "sex", "smoker"]
    assert "charges" not in ins.feature_names
    assert ins.sensitive_features == ["bmi"] and ins.sensitive_index == 1
    assert ins.sensitive_domain == (22.705, 33.77)
    np.testing.assert_array_equal(ins.data[:, 1], [r[2] for r in ROWS])
    np.testing.assert_array_equal(ins.data[:, 3], [0, 1, 1, 1, 1, 0, 0])
    np.testing.assert_array_equal(ins.data[:, 4], [1, 0, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(ins.data[:, 5:].sum(axis=1), 1)
    assert ins.data[3, 6] == 1  # region_northwest
    # Default rule: bmi >= 30 (30.0 itself is positive).
    np.testing.assert_array_equal(ins.target, [0, 1, 1, 0, 0, 0, 1])
    assert "assumption" in ins.DESCR


def test_file_directly_in_data_home_and_label_rules(tmp_path):
    write_csv(tmp_path / "insurance.csv")
    smoker = load_medical_insurance(data_home=tmp_path, label="bmi_smoker")
    np.testing.assert_array_equal(smoker.target, [1, 1, 1, 0, 0, 0, 1])
    _, y = load_medical_insurance(data_home=tmp_path, threshold=33.0, return_X_y=True)
    np.testing.assert_array_equal(y, [0, 1, 1, 0, 0, 0, 0])
    custom = load_medical_insurance(
        data_home=tmp_path, label=lambda raw: raw["charges"] > 5000
    )
    np.testing.assert_array_equal(custom.target, [1, 0, 0, 1, 0, 0, 1])
    framed = load_medical_insurance(data_home=tmp_path, as_frame=True)
    assert list(framed.data.columns) == framed.feature_names
    assert framed.frame["recommended"].tolist() == [0, 1, 1, 0, 0, 0, 1]


def test_missing_file_says_where_to_put_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="never downloads") as info:
        load_medical_insurance(data_home=tmp_path)
    assert str(tmp_path / "insurance" / "insurance.csv") in str(info.value)


@pytest.mark.parametrize(
    "header, rows, match",
    [
        (("age", "sex", "bmi", "children", "smoker", "region"), None, "header"),
        (COLUMNS[::-1], None, "header"),
        (COLUMNS, [(19, "female", "n/a", 0, "no", "southwest", 1.0)], "'bmi'.*line 2"),
        (COLUMNS, [(19, "F", 27.9, 0, "no", "southwest", 1.0)], "'sex'"),
        (COLUMNS, [(19, "male", 27.9, 0, "maybe", "southwest", 1.0)], "'smoker'"),
        (COLUMNS, [(19, "male", 27.9, 0, "no", "south", 1.0)], "'region'"),
        (COLUMNS, [(19, "male", 27.9, 1.5, "no", "southwest", 1.0)], "children"),
        (COLUMNS, [(19, "male", 27.9, -1, "no", "southwest", 1.0)], "children"),
        (COLUMNS, [], "no rows"),
    ],
)
def test_malformed_file_is_rejected(tmp_path, header, rows, match):
    rows = [r[: len(header)] for r in ROWS] if rows is None else rows
    write_csv(tmp_path / "insurance.csv", rows, header)
    with pytest.raises(ValueError, match=match):
        load_medical_insurance(data_home=tmp_path)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"label": "bmi"}, ValueError),
        ({"threshold": "30"}, TypeError),
        ({"threshold": np.nan}, ValueError),
        ({"as_frame": 1}, TypeError),
    ],
)
def test_bad_parameters(tmp_path, kwargs, error):
    write_csv(tmp_path / "insurance.csv")
    with pytest.raises(error):
        load_medical_insurance(data_home=tmp_path, **kwargs)
    with pytest.raises(error):
        make_insurance_like(10, **kwargs)


def test_label_callable_of_wrong_length(tmp_path):
    with pytest.raises(ValueError, match="one value per row"):
        make_insurance_like(10, label=lambda raw: [True])


def test_generator_schema_matches_loader_and_is_reproducible(tmp_path):
    write_csv(tmp_path / "insurance.csv")
    real = load_medical_insurance(data_home=tmp_path)
    fake = make_insurance_like(50, random_state=0)
    assert fake.feature_names == real.feature_names
    assert fake.sensitive_index == real.sensitive_index
    assert fake.sensitive_domain == BMI_RANGE
    np.testing.assert_array_equal(
        fake.data, make_insurance_like(50, random_state=0).data
    )
    assert not np.array_equal(fake.data, make_insurance_like(50, random_state=1).data)
    np.testing.assert_array_equal(fake.target, fake.data[:, 1] >= 30)


def test_generator_marginals():
    n = 20_000
    ins = make_insurance_like(n, random_state=0)
    X = ins.data
    # Each check below fails a correct generator with probability <= 1e-5, so all
    # eight together with probability <= 1e-4 (union bound).
    law = truncnorm(
        (BMI_RANGE[0] - BMI_MEAN) / BMI_STD,
        (BMI_RANGE[1] - BMI_MEAN) / BMI_STD,
        loc=BMI_MEAN,
        scale=BMI_STD,
    )
    # bmi is rounded to 0.01, a cdf shift of at most ~4e-4, far below the KS
    # critical value at n = 20,000 (~0.017 at level 1e-5), so the test stays valid.
    assert kstest(X[:, 1], law.cdf).pvalue > 1e-5
    assert X[:, 1].min() >= BMI_RANGE[0] and X[:, 1].max() <= BMI_RANGE[1]
    ages, age_counts = np.unique(X[:, 0], return_counts=True)
    np.testing.assert_array_equal(ages, np.arange(18, 65))
    assert chisquare(age_counts).pvalue > 1e-5
    children = np.bincount(X[:, 2].astype(int), minlength=6)
    assert chisquare(children, n * np.asarray(CHILDREN_P)).pvalue > 1e-5
    for column, p in [(3, P_MALE), (4, P_SMOKER)]:
        k = int(X[:, column].sum())
        assert binom.ppf(0.5e-5, n, p) <= k <= binom.isf(0.5e-5, n, p)
    assert chisquare(X[:, 5:].sum(axis=0)).pvalue > 1e-5
    assert isinstance(make_insurance_like(5, as_frame=True).data, pd.DataFrame)
