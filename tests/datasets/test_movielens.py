"""Tests of load_movielens_100k on a tiny fixture in the MovieLens file formats."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.tree import DecisionTreeClassifier

from skprivacy.audit import AttributeInferenceAttack
from skprivacy.certify import compatible_intervals
from skprivacy.datasets import load_movielens_100k, make_preprocessor
from skprivacy.datasets._movielens import GENRES

USERS = [(1, 24, "M", "technician", "85711"), (2, 53, "F", "other", "94043")]
# Item 2 has a latin-1 title and two genres; item 1 is a comedy.
ITEMS = [(1, "Toy Story (1995)", [5]), (2, "Café au lait (1993)", [1, 14])]
RATINGS = [(1, 1, 5, 874965758), (1, 2, 3, 876893171), (2, 1, 4, 878542960)]


def write_fixture(folder, ratings=RATINGS, users=USERS, items=ITEMS):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "u.data").write_text(
        "".join("\t".join(map(str, row)) + "\n" for row in ratings)
    )
    (folder / "u.user").write_text(
        "".join("|".join(map(str, row)) + "\n" for row in users)
    )
    lines = []
    for item_id, title, genres in items:
        flags = ["1" if g in genres else "0" for g in range(len(GENRES))]
        url = "http://us.imdb.com/M/title-exact?x"
        lines.append("|".join([str(item_id), title, "01-Jan-1995", "", url, *flags]))
    (folder / "u.item").write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    return folder


def test_fixture_loads_with_shapes_and_dtypes(tmp_path):
    write_fixture(tmp_path / "ml-100k")
    ml = load_movielens_100k(data_home=tmp_path)
    assert ml.data.shape == (3, 22)
    assert ml.data.dtype == object
    assert ml.feature_names[:3] == ["age", "gender", "occupation"]
    assert ml.feature_names[3:] == list(GENRES)
    assert ml.sensitive_features == ["age", "gender"]
    np.testing.assert_array_equal(ml.target, [1, 0, 1])
    assert ml.target.dtype == np.int64
    np.testing.assert_array_equal(ml.groups, [1, 1, 2])
    np.testing.assert_array_equal(ml.item_id, [1, 2, 1])
    np.testing.assert_array_equal(ml.rating, [5, 3, 4])
    # Row 1: user 1 (24, M, technician) rated item 2 (Action + Romance).
    assert list(ml.data[1, :3]) == [24, "M", "technician"]
    flags = ml.data[1, 3:].astype(int)
    assert flags.sum() == 2 and flags[1] == flags[14] == 1
    assert "not" in ml.DESCR and "redistributed" in ml.DESCR


def test_as_frame_and_files_directly_in_data_home(tmp_path):
    write_fixture(tmp_path)
    ml = load_movielens_100k(data_home=str(tmp_path), as_frame=True, min_rating=5)
    assert isinstance(ml.data, pd.DataFrame)
    assert ml.data["gender"].dtype == "category"
    assert ml.data["age"].dtype == np.int64
    assert ml.data["Comedy"].dtype == np.int64
    assert ml.frame.shape == (3, 23)
    np.testing.assert_array_equal(ml.target, [1, 0, 0])
    X, y = load_movielens_100k(data_home=tmp_path, return_X_y=True)
    assert X.shape == (3, 22) and y.shape == (3,)


def test_works_with_make_preprocessor(tmp_path):
    write_fixture(tmp_path)
    ml = load_movielens_100k(data_home=tmp_path)
    Xt = make_preprocessor(ml).fit_transform(ml.data)
    # age + 19 genres + 2 genders + 2 occupations.
    assert Xt.shape == (3, 24) and Xt.dtype == np.float64


def test_missing_files_say_how_to_get_them(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"never downloads.*grouplens\.org"):
        load_movielens_100k(data_home=tmp_path)
    with pytest.raises(FileNotFoundError, match=r"not be redistributed.*ml-100k"):
        load_movielens_100k(data_home=tmp_path)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"ratings": [(1, 1, 6, 0)]}, "ratings outside 1..5"),
        ({"ratings": [(3, 1, 4, 0)]}, "user_id absent from u.user"),
        ({"ratings": [(1, 9, 4, 0)]}, "item_id absent from u.item"),
        ({"users": [(1, 24, "X", "other", "0")]}, "gender"),
        ({"ratings": [(1, 1, "x", 0)]}, "u.data is not in the MovieLens 100K format"),
        (
            {"users": [(1, 24, "M"), (2, 53, "F", "other", "0")]},
            r"line 1 has 3 '\|'-separated fields, expected 5",
        ),
    ],
)
def test_malformed_files_are_refused(tmp_path, kwargs, match):
    write_fixture(tmp_path, **kwargs)
    with pytest.raises(ValueError, match=match):
        load_movielens_100k(data_home=tmp_path)


def test_bad_parameters(tmp_path):
    write_fixture(tmp_path)
    with pytest.raises(ValueError, match="min_rating"):
        load_movielens_100k(data_home=tmp_path, min_rating=6)
    with pytest.raises(TypeError, match="as_frame"):
        load_movielens_100k(data_home=tmp_path, as_frame="yes")


def test_end_to_end_attacks_on_the_sensitive_attributes(tmp_path):
    # A larger fixture: 12 users, 6 items, every user rates every item; the
    # rating depends on gender, so a model trained on it leaks gender.
    rng = np.random.default_rng(0)
    users = [
        (u, int(rng.integers(18, 60)), "F" if u % 3 == 0 else "M", "other", "0")
        for u in range(1, 13)
    ]
    items = [(i, f"Movie {i} (1995)", [i % 19]) for i in range(1, 7)]
    ratings = [
        (u, i, 5 if (gender == "F") == (i % 2 == 0) else 2, 0)
        for u, _, gender, _, _ in users
        for i in range(1, 7)
    ]
    write_fixture(tmp_path, ratings=ratings, users=users, items=items)
    ml = load_movielens_100k(data_home=tmp_path, as_frame=True)
    # The rating is an interaction of gender and item: a tree learns it.
    model = make_pipeline(make_preprocessor(ml), DecisionTreeClassifier(random_state=0))
    model.fit(ml.data, ml.target)
    gender = AttributeInferenceAttack(model, "gender", categorical=True).fit(ml.data)
    report = gender.evaluate(ml.data)
    assert gender.values_.tolist() == ["F", "M"]
    assert report.success_rate == 1.0 and report.prior_success_rate == 8 / 12
    age = AttributeInferenceAttack(model, "age", domain=(7, 73), bins=11).fit(ml.data)
    assert age.infer(ml.data).shape == (72,)
    ci = compatible_intervals(model, ml.data, "age", domain=(7, 73), grid=11)
    assert ci.compatible.shape == (72, 11)
