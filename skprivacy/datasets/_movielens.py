"""Loader for a local copy of MovieLens 100K as a tabular recommendation task."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import io
import os
from numbers import Integral
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import get_data_home
from sklearn.utils import Bunch

from skprivacy.utils._sklearn_compat import Interval, validate_params

GENRES = (
    "unknown",
    "Action",
    "Adventure",
    "Animation",
    "Children's",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
)
_FILES = ("u.data", "u.user", "u.item")
_URL = "https://grouplens.org/datasets/movielens/100k/"

_DESCR = f"""\
MovieLens 100K as a tabular recommendation task
-----------------------------------------------

100,000 ratings (1-5 stars) of 1,682 movies by 943 users of the MovieLens web
site, September 1997 - April 1998 (GroupLens Research, University of Minnesota;
F. M. Harper and J. A. Konstan, "The MovieLens Datasets: History and Context",
ACM TiiS 5(4), 2015). Each row is one rating. Features: the user's ``age``
(7-73 in the full data), ``gender`` (M/F) and ``occupation`` (21 values), and
the 19 genre flags of the movie. Target: 1 ("recommend") when the rating is at
least ``min_rating``. ``age`` and ``gender`` are the sensitive attributes.

Rows of one user share the user's attributes: split by ``groups`` (the user id),
for example with :class:`~sklearn.model_selection.GroupShuffleSplit`, when
studying what a model reveals about a person.

Licence: the data may be used for research but **not redistributed**; skprivacy
therefore never ships nor downloads it. Obtain ``ml-100k.zip`` from {_URL}
after reading its licence, and unzip it under ``data_home``.
"""


def _locate(data_home) -> Path:
    home = Path(get_data_home() if data_home is None else os.fspath(data_home))
    for folder in (home / "ml-100k", home):
        if all((folder / name).is_file() for name in _FILES):
            return folder
    missing = [n for n in _FILES if not (home / "ml-100k" / n).is_file()]
    raise FileNotFoundError(
        f"MovieLens 100K was not found under {str(home)!r} (missing {missing} in "
        f"{str(home / 'ml-100k')!r} and in {str(home)!r}). It may not be "
        f"redistributed, so skprivacy never downloads it: download ml-100k.zip "
        f"from {_URL}, accept its licence, unzip it so that "
        f"{str(home / 'ml-100k' / 'u.data')!r} exists (or pass data_home= the "
        "folder that holds u.data, u.user and u.item)."
    )


def _read(path: Path, sep: str, names, dtype, encoding="utf-8") -> pd.DataFrame:
    text = path.read_text(encoding=encoding)
    for number, line in enumerate(text.splitlines(), start=1):
        if line.count(sep) != len(names) - 1:
            raise ValueError(
                f"{path.name} is not in the MovieLens 100K format: line {number} "
                f"has {line.count(sep) + 1} {sep!r}-separated fields, expected "
                f"{len(names)}."
            )
    try:
        return pd.read_csv(
            io.StringIO(text),
            sep=sep,
            header=None,
            names=names,
            dtype=dtype,
            engine="c",
            quoting=3,  # csv.QUOTE_NONE: titles contain quotes
            keep_default_na=False,
        )
    except (ValueError, pd.errors.ParserError) as exc:
        raise ValueError(
            f"{path.name} is not in the MovieLens 100K format: {exc}"
        ) from exc


@validate_params(
    {
        "data_home": [str, os.PathLike, None],
        "min_rating": [Interval(Integral, 1, 5, closed="both")],
        "as_frame": ["boolean"],
        "return_X_y": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def load_movielens_100k(
    data_home=None,
    *,
    min_rating: int = 4,
    as_frame: bool = False,
    return_X_y: bool = False,
):
    """Load a local copy of MovieLens 100K as a tabular recommendation task.

    Reads ``u.data`` (tab-separated ratings), ``u.user`` (pipe-separated user
    attributes) and ``u.item`` (pipe-separated, latin-1, movie genres) and joins
    them: one row per rating, with the user's age, gender and occupation and the
    movie's 19 genre flags; the target is 1 ("recommend") when the rating is at
    least ``min_rating``. ``age`` and ``gender`` are declared sensitive.

    MovieLens may not be redistributed, so this function never downloads: get
    ``ml-100k.zip`` from https://grouplens.org/datasets/movielens/100k/ and unzip
    it into ``data_home``. A clear error says so when the files are absent.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding ``ml-100k/u.data`` (the unzipped archive) or ``u.data``
        itself, with ``u.user`` and ``u.item`` beside it. ``None`` means
        scikit-learn's data home (:func:`sklearn.datasets.get_data_home`).
    min_rating : int, default=4
        Ratings at or above it are positive; in 1..5.
    as_frame : bool, default=False
        If True, ``data`` is a DataFrame (``gender`` and ``occupation`` of dtype
        ``category``), ``target`` a Series and ``frame`` holds both. If False,
        ``data`` is an object ndarray (numbers and strings).
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with attributes

        data : ndarray of object of shape (n_ratings, 22) or DataFrame
            Columns ``age``, ``gender``, ``occupation`` and the 19 genres.
        target : ndarray of int of shape (n_ratings,) or Series
            1 when ``rating >= min_rating``.
        frame : DataFrame or None
            Data and target together, when ``as_frame=True``.
        feature_names : list of str
            The 22 feature names, in column order.
        target_names : list of str
            ``["not recommended", "recommended"]``.
        categorical_features, numerical_features : list of str
            ``["gender", "occupation"]``; ``age`` and the genre flags.
        sensitive_features : list of str
            ``["age", "gender"]``.
        groups : ndarray of int of shape (n_ratings,)
            The user id of each row, for group-aware splits.
        item_id, rating : ndarray of int of shape (n_ratings,)
            The movie id and the raw rating of each row.
        DESCR : str
            Description, citation and licence.

    (data, target) : tuple if ``return_X_y`` is True

    Examples
    --------
    >>> from skprivacy.datasets import load_movielens_100k
    >>> ml = load_movielens_100k()  # doctest: +SKIP
    >>> ml.data.shape, ml.sensitive_features  # doctest: +SKIP
    ((100000, 22), ['age', 'gender'])
    """
    folder = _locate(data_home)
    ratings = _read(
        folder / "u.data",
        "\t",
        ["user_id", "item_id", "rating", "timestamp"],
        {"user_id": np.int64, "item_id": np.int64, "rating": np.int64},
    )
    users = _read(
        folder / "u.user",
        "|",
        ["user_id", "age", "gender", "occupation", "zip_code"],
        {"user_id": np.int64, "age": np.int64, "gender": str, "occupation": str},
    )
    item_columns = ["item_id", "title", "release_date", "video_release_date", "url"]
    items = _read(
        folder / "u.item",
        "|",
        [*item_columns, *GENRES],
        {"item_id": np.int64, **dict.fromkeys(GENRES, np.int64)},
        encoding="latin-1",
    )
    if not ratings["rating"].between(1, 5).all():
        raise ValueError("u.data has ratings outside 1..5.")
    if not users["gender"].isin(["M", "F"]).all():
        raise ValueError("u.user has gender values other than 'M' and 'F'.")
    if not items[list(GENRES)].isin([0, 1]).all().all():
        raise ValueError("u.item has genre flags other than 0 and 1.")
    for table, key, source in [
        (users, "user_id", "u.user"),
        (items, "item_id", "u.item"),
    ]:
        if table[key].duplicated().any():
            raise ValueError(f"{source} has duplicated {key} values.")
        unknown = ~ratings[key].isin(table[key])
        if unknown.any():
            raise ValueError(
                f"u.data refers to {int(unknown.sum())} rating(s) with a {key} "
                f"absent from {source}, e.g. {int(ratings.loc[unknown, key].iloc[0])}."
            )

    joined = ratings.merge(users, on="user_id", how="left", validate="many_to_one")
    joined = joined.merge(items, on="item_id", how="left", validate="many_to_one")
    feature_names = ["age", "gender", "occupation", *GENRES]
    data = joined[feature_names].copy()
    target = (joined["rating"] >= min_rating).astype(np.int64).to_numpy()
    frame = None
    if as_frame:
        for column in ("gender", "occupation"):
            data[column] = data[column].astype("category")
        frame = data.assign(recommended=target)
        target = pd.Series(target, name="recommended")
    else:
        data = data.to_numpy(dtype=object)
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        frame=frame,
        feature_names=feature_names,
        target_names=["not recommended", "recommended"],
        categorical_features=["gender", "occupation"],
        numerical_features=["age", *GENRES],
        sensitive_features=["age", "gender"],
        groups=joined["user_id"].to_numpy(),
        item_id=joined["item_id"].to_numpy(),
        rating=joined["rating"].to_numpy(),
        DESCR=_DESCR,
    )
