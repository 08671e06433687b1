# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import gzip
import shutil

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from skprivacy.datasets import (
    _base,
    load_adult,
    load_german_credit,
    load_letter,
    make_preprocessor,
)

ADULT_CATEGORICAL = {
    "workclass",
    "education",
    "marital_status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "native_country",
}


@pytest.fixture(scope="module")
def adult_frame():
    return load_adult(as_frame=True)


def test_adult_frame_shape_and_counts(adult_frame):
    adult = adult_frame
    assert adult.frame.shape == (48842, 15)
    assert adult.data.shape == (48842, 14)
    assert list(adult.frame.columns) == [*adult.feature_names, "income"]
    assert adult.target_names == ["<=50K", ">50K"]
    assert np.bincount(adult.target).tolist() == [37155, 11687]
    assert (adult.split == "train").sum() == 32561
    assert (adult.split == "test").sum() == 16281
    assert set(adult.categorical_features) == ADULT_CATEGORICAL
    assert set(adult.categorical_features) | set(adult.numerical_features) == set(
        adult.feature_names
    )
    assert adult.sensitive_features == [
        "age",
        "sex",
        "race",
        "marital_status",
        "native_country",
    ]
    assert set(adult.sensitive_features) <= set(adult.feature_names)


def test_adult_dtypes(adult_frame):
    data = adult_frame.data
    for column in data.columns:
        if column in ADULT_CATEGORICAL:
            assert isinstance(data[column].dtype, pd.CategoricalDtype), column
        else:
            assert pd.api.types.is_integer_dtype(data[column].dtype), column
    assert adult_frame.target.dtype == np.int64
    assert data["sex"].value_counts().to_dict() == {"Male": 32650, "Female": 16192}


def test_adult_missing_values(adult_frame):
    data = adult_frame.data
    assert data.isna().any(axis=1).sum() == 3620
    assert data.isna().sum()[lambda s: s > 0].to_dict() == {
        "workclass": 2799,
        "occupation": 2809,
        "native_country": 857,
    }
    # '?' is a missing value, never a category.
    for column in ADULT_CATEGORICAL:
        assert "?" not in data[column].cat.categories
    complete = load_adult(as_frame=True, dropna=True)
    assert complete.frame.shape == (45222, 15)
    assert not complete.data.isna().any().any()


def test_adult_duplicates_documented(adult_frame):
    assert adult_frame.frame.duplicated().sum() == 52
    assert "52" in adult_frame.DESCR and "duplicate" in adult_frame.DESCR
    assert "3,620" in adult_frame.DESCR


def test_adult_array_and_split():
    X, y = load_adult(return_X_y=True, subset="train")
    assert X.shape == (32561, 14) and X.dtype == object
    assert y.shape == (32561,) and set(np.unique(y)) == {0, 1}
    test = load_adult(subset="test")
    assert set(test.split) == {"test"} and test.frame is None
    # Missing values are np.nan in the object array, the rest is as in the file.
    n_missing = sum(
        isinstance(value, float) and np.isnan(value) for value in test.data.ravel()
    )
    assert n_missing > 0
    assert test.data[0, test.feature_names.index("age")] == 25


def test_german_credit():
    credit = load_german_credit(as_frame=True)
    assert credit.frame.shape == (1000, 22)
    assert credit.data.shape == (1000, 21)
    assert credit.target_names == ["good", "bad"]
    assert np.bincount(credit.target).tolist() == [700, 300]
    assert credit.sensitive_features == ["sex", "age", "foreign_worker"]
    assert credit.data["sex"].value_counts().to_dict() == {"male": 690, "female": 310}
    assert credit.data["checking_status"].iloc[0] == "A11"
    assert not credit.data.isna().any().any()
    X, y = load_german_credit(return_X_y=True)
    assert X.shape == (1000, 21) and y.shape == (1000,)


LETTER_COUNTS = {"A": 789, "H": 734, "U": 813, "Z": 734}


def test_letter_frame():
    letter = load_letter(as_frame=True)
    assert letter.frame.shape == (20000, 17)
    assert list(letter.frame.columns) == [*letter.feature_names, "letter"]
    assert letter.feature_names[:5] == ["x_box", "y_box", "width", "high", "onpix"]
    assert letter.feature_names[-1] == "yegvx" and len(letter.feature_names) == 16
    assert letter.target_names == [chr(code) for code in range(65, 91)]
    counts = np.bincount(letter.target, minlength=26)
    assert counts.sum() == 20000 and (counts.min(), counts.max()) == (734, 813)
    for name, count in LETTER_COUNTS.items():
        assert counts[letter.target_names.index(name)] == count
    # The first UCI row is a T.
    assert letter.target.iloc[0] == letter.target_names.index("T")
    assert all(pd.api.types.is_integer_dtype(t) for t in letter.data.dtypes)
    assert letter.data.to_numpy().min() == 0 and letter.data.to_numpy().max() == 15
    assert letter.numerical_features == letter.feature_names
    assert letter.categorical_features == [] and letter.sensitive_features == []


def test_letter_duplicates_documented():
    letter = load_letter(as_frame=True)
    assert letter.frame.duplicated().sum() == 1332
    assert letter.data.duplicated().sum() == 1332  # copies always share the label
    assert "1,332" in letter.DESCR and "duplicate" in letter.DESCR.lower()


def test_letter_arrays():
    X, y = load_letter(return_X_y=True)
    assert X.shape == (20000, 16) and X.dtype == np.int64
    assert y.shape == (20000,) and y.dtype == np.int64 and set(y) == set(range(26))
    bunch = load_letter()
    assert bunch.frame is None and np.array_equal(bunch.data, X)
    Xt = make_preprocessor(bunch).fit_transform(X)
    assert Xt.shape == (20000, 16)
    np.testing.assert_allclose(Xt.mean(axis=0), 0, atol=1e-9)


@pytest.mark.parametrize("as_frame", [True, False])
def test_make_preprocessor_fits_a_classifier(as_frame):
    credit = load_german_credit(as_frame=as_frame)
    model = make_pipeline(
        make_preprocessor(credit, drop=["personal_status_sex"]),
        LogisticRegression(max_iter=1000),
    )
    model.fit(credit.data, credit.target)
    Xt = model[0].transform(credit.data)
    assert Xt.dtype == np.float64 and np.isfinite(Xt).all()
    # 7 scaled numeric columns + one-hot columns of 13 categorical features.
    assert Xt.shape[1] > 7 + 13
    assert model.score(credit.data, credit.target) > 0.7


def test_make_preprocessor_handles_missing_adult():
    adult = load_adult(subset="test", as_frame=True)
    pre = make_preprocessor(adult, drop=["fnlwgt"])
    Xt = pre.fit_transform(adult.data)
    assert np.isfinite(Xt).all()
    names = pre.get_feature_names_out()
    assert "categorical__workclass_missing" in names
    assert not any("fnlwgt" in name for name in names)


def test_make_preprocessor_unknown_drop():
    with pytest.raises(ValueError, match="Cannot drop \\['nope'\\]"):
        make_preprocessor(load_german_credit(), drop=["nope"])


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"subset": "validation"}, ValueError, "The 'subset' parameter of load_adult"),
        ({"as_frame": "yes"}, TypeError, "The 'as_frame' parameter of load_adult"),
        ({"dropna": 1}, TypeError, "The 'dropna' parameter of load_adult"),
    ],
)
def test_load_adult_bad_options(kwargs, error, match):
    with pytest.raises(error, match=match):
        load_adult(**kwargs)


@pytest.mark.parametrize("loader", [load_german_credit, load_letter])
def test_load_unknown_keyword(loader):
    with pytest.raises(TypeError):
        loader(subset="train")


def test_load_letter_bad_options():
    with pytest.raises(TypeError, match="The 'as_frame' parameter of load_letter"):
        load_letter(as_frame=1)


@pytest.fixture
def fake_data_dir(tmp_path, monkeypatch):
    """A copy of the bundled data directory that the loaders read instead."""
    from importlib import resources

    source = resources.files(_base.DATA_MODULE)
    for name in ("adult.csv.gz", "german_credit.csv.gz", "letter.csv.gz"):
        with resources.as_file(source.joinpath(name)) as path:
            shutil.copy(path, tmp_path / name)
    monkeypatch.setattr(_base.resources, "files", lambda module: tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    "name, loader",
    [("german_credit.csv.gz", load_german_credit), ("letter.csv.gz", load_letter)],
)
def test_missing_bundled_file(fake_data_dir, name, loader):
    (fake_data_dir / name).unlink()
    with pytest.raises(FileNotFoundError, match=r"missing .* reinstall skprivacy"):
        loader()


@pytest.mark.parametrize(
    "name, loader",
    [("german_credit.csv.gz", load_german_credit), ("letter.csv.gz", load_letter)],
)
def test_corrupted_bundled_file(fake_data_dir, name, loader):
    path = fake_data_dir / name
    raw = bytearray(gzip.decompress(path.read_bytes()))
    raw[-3] = ord("9") if raw[-3] != ord("9") else ord("8")
    path.write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(OSError, match="corrupted: its SHA-256"):
        loader()


def test_truncated_bundled_file(fake_data_dir):
    path = fake_data_dir / "adult.csv.gz"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(OSError, match="not valid gzip data"):
        load_adult()
