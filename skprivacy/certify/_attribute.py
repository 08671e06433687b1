"""Attribute-level views of a release: response curves and compatible intervals.

Robust attribute privacy (Jin et al., 2026) asks what a released output says
about one sensitive attribute when the adversary knows every other feature. The
functions here answer it for any fitted model through black-box ``predict``: the
release is an observed token (a class label, or the abstain label of a smoothed
release), and the values of the attribute that reproduce it form the compatible
set.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import numbers
from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from skprivacy.utils._labels import same_release
from skprivacy.utils._sklearn_compat import Interval, StrOptions, validate_params
from skprivacy.utils._validation import (
    check_attribute_X,
    feature_column,
    feature_position,
)

_RESPONSE_METHODS = ("predict", "predict_proba")
_GRID = [Interval(Integral, 1, None, closed="left"), "array-like"]
_BATCH_SIZE = [Interval(Integral, 1, None, closed="left")]


@validate_params(
    {"domain": ["array-like"], "grid": _GRID}, prefer_skip_nested_validation=True
)
def attribute_grid(domain, grid=50) -> tuple[np.ndarray, np.ndarray]:
    """Grid values of a continuous attribute and the cells they stand for.

    Each grid value ``g_i`` represents the cell of the domain closest to it (its
    Voronoi cell, clipped to the domain): the cells' edges are the domain's bounds
    and the midpoints between neighbouring grid values. Measures of sets of grid
    values are sums of cell widths, so they are in the attribute's raw units and
    the whole grid measures ``high - low``.

    Parameters
    ----------
    domain : tuple of float
        ``(low, high)`` with ``low < high``: the values the attribute can take.
    grid : int or array-like of float, default=50
        An int ``m`` gives ``m`` equal cells and their centres; an array gives
        the grid values themselves (strictly increasing, inside ``domain``).

    Returns
    -------
    values : ndarray of shape (m,)
        The grid values.
    edges : ndarray of shape (m + 1,)
        Cell ``i`` is ``[edges[i], edges[i + 1]]``.

    Examples
    --------
    >>> from skprivacy.certify import attribute_grid
    >>> values, edges = attribute_grid((0.0, 10.0), grid=5)
    >>> values.tolist(), edges.tolist()
    ([1.0, 3.0, 5.0, 7.0, 9.0], [0.0, 2.0, 4.0, 6.0, 8.0, 10.0])
    >>> attribute_grid((0.0, 10.0), grid=[1.0, 2.0, 8.0])[1].tolist()
    [0.0, 1.5, 5.0, 10.0]
    """
    low, high = _check_domain(domain)
    if isinstance(grid, numbers.Integral) and not isinstance(grid, bool):
        edges = np.linspace(low, high, int(grid) + 1)
        return (edges[:-1] + edges[1:]) / 2, edges
    try:
        values = np.asarray(grid, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"grid must be an int or an array of floats, got {grid!r}."
        ) from exc
    if values.ndim != 1 or values.size == 0:
        raise ValueError("grid must be a non-empty 1-d array of values.")
    if not np.all(np.isfinite(values)):
        raise ValueError("grid values must be finite.")
    if np.any(np.diff(values) <= 0):
        raise ValueError("grid values must be strictly increasing.")
    if values[0] < low or values[-1] > high:
        raise ValueError(
            f"grid values must lie inside the domain [{low}, {high}]; got values "
            f"from {values[0]} to {values[-1]}."
        )
    edges = np.concatenate([[low], (values[:-1] + values[1:]) / 2, [high]])
    return values, edges


def _check_domain(domain) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in domain)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"domain must be a pair (low, high) of numbers, got {domain!r}."
        ) from exc
    if not (np.isfinite(low) and np.isfinite(high)):
        raise ValueError(f"domain must be finite, got {domain!r}.")
    if not low < high:
        raise ValueError(f"domain is empty: it needs low < high, got {domain!r}.")
    return low, high


def _check_response_method(estimator, response_method: str):
    method = getattr(estimator, response_method, None)
    if not callable(method):
        raise TypeError(
            f"The estimator {type(estimator).__name__} has no {response_method} "
            "method; the released outputs are read through it."
        )
    return method


@validate_params(
    {
        # Only the queried method is needed; it is checked with a clearer message.
        "estimator": "no_validation",
        # Sparse X is refused by the input check, with the fix in its message.
        "X": ["array-like", "sparse matrix"],
        "feature": [Integral, str],
        "values": ["array-like"],
        "response_method": [StrOptions(set(_RESPONSE_METHODS))],
        "batch_size": _BATCH_SIZE,
    },
    prefer_skip_nested_validation=True,
)
def attribute_response(
    estimator,
    X,
    feature,
    values,
    *,
    response_method: str = "predict",
    batch_size: int = 65536,
) -> np.ndarray:
    """The release of each row with one attribute set to each of ``values``.

    Row ``i`` is queried with column ``feature`` replaced by ``values[j]`` and the
    other features held fixed, for every ``j`` (an individual conditional
    expectation curve of the release). All ``n_samples * len(values)`` queries go
    through a few calls of the estimator's method on blocks of at most
    ``batch_size`` rows spanning many input rows.

    Parameters
    ----------
    estimator : object
        Fitted model with the method ``response_method``; only that method is
        called (black-box access). A release that can abstain may return labels
        outside ``classes_``: they are returned as observed.
    X : array-like or DataFrame of shape (n_samples, n_features)
        The rows; the content of column ``feature`` is ignored.
    feature : int or str
        Column of the attribute: a position, or a name when ``X`` is a DataFrame.
    values : array-like of shape (n_values,)
        The values given to the attribute.
    response_method : {"predict", "predict_proba"}, default="predict"
        Which release is queried.
    batch_size : int, default=65536
        Maximum number of query rows per call of the estimator.

    Returns
    -------
    response : ndarray of shape (n_samples, n_values) or \
            (n_samples, n_values, n_classes)
        ``response[i, j]`` is the release of row ``i`` with the attribute set to
        ``values[j]`` (a label, or a probability vector).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from skprivacy.certify import attribute_response
    >>> X = np.array([[20.0, 1.0], [35.0, 1.0]])
    >>> model = DecisionTreeClassifier().fit(X, [0, 1])
    >>> attribute_response(model, X, 0, [18.0, 25.0, 40.0]).tolist()
    [[0, 0, 1], [0, 0, 1]]
    """
    method = _check_response_method(estimator, response_method)
    X = check_attribute_X(X)
    index = feature_position(X, feature)
    values = np.asarray(values)
    if values.ndim != 1 or values.size == 0:
        raise ValueError("values must be a non-empty 1-d array.")
    n_samples, n_values = X.shape[0], values.size
    rows_per_block = max(1, batch_size // n_values)
    if not isinstance(X, pd.DataFrame):
        # Numbers are upcast so the values are not truncated (e.g. into an int
        # matrix); other dtypes become object so each column keeps its values.
        dtype = (
            np.result_type(X.dtype, values.dtype) if X.dtype.kind in "biuf" else object
        )
        X = X.astype(dtype, copy=False)
    blocks = []
    for start in range(0, n_samples, rows_per_block):
        stop = min(start + rows_per_block, n_samples)
        repeat = np.repeat(np.arange(start, stop), n_values)
        column = np.tile(values, stop - start)
        if isinstance(X, pd.DataFrame):
            block = X.iloc[repeat].reset_index(drop=True)
            # Replacing the whole column lets its dtype follow the values.
            block[X.columns[index]] = column
        else:
            block = X[repeat]
            block[:, index] = column
        blocks.append(np.asarray(method(block)))
    response = np.concatenate(blocks, axis=0)
    return response.reshape(n_samples, n_values, *response.shape[1:])


def _row_chunks(n_samples: int, queries_per_row: int, batch_size: int):
    """Row slices whose queries fill about one ``batch_size`` block each."""
    step = max(1, batch_size // queries_per_row)
    for start in range(0, n_samples, step):
        yield slice(start, min(start + step, n_samples))


@validate_params(
    {
        "estimator": "no_validation",  # its predict is checked when called
        # Sparse X is refused by the input check, with the fix in its message.
        "X": ["array-like", "sparse matrix"],
        "feature": [Integral, str],
        "domain": ["array-like"],
        "grid": _GRID,
        "released": ["array-like", None],
        "batch_size": _BATCH_SIZE,
    },
    prefer_skip_nested_validation=True,
)
def compatible_intervals(
    estimator,
    X,
    feature,
    *,
    domain,
    grid=50,
    released=None,
    batch_size: int = 65536,
) -> Bunch:
    """Sensitive-attribute values compatible with each row's released label.

    For row ``x`` with released output ``o`` (by default ``estimator.predict(x)``)
    and the other features held fixed, the *compatible set* is

        ``C(x) = {g in grid : M(x_{-s}, g) = o}``,

    where ``M`` is the estimator's ``predict`` and ``s`` the sensitive column.
    Abstention is an observation like any label: an abstaining release is
    compatible with the values where the release abstains too (those near the
    decision boundary). Each grid value stands for its cell of the domain (see
    :func:`attribute_grid`); with ``w(g)`` the cell width:

    * **measure** ``|C(x)| = sum of w(g) over C(x)``: the total length of values
      the release cannot tell apart, in raw units (``high - low`` when the release
      says nothing, one cell at best for the adversary);
    * **hull** ``[lower, upper]``: from the left edge of the first compatible cell
      to the right edge of the last; ``hull_length = upper - lower`` (at least
      the measure; equal when ``C(x)`` is one interval);
    * **precision** ``w(true cell) / |C(x)|`` when the cell holding the row's true
      value is compatible, else 0: the chance that a uniform guess over the
      compatible set falls in the true cell (attribute-inference precision).

    An empty compatible set (possible when the release differs at every grid
    value, e.g. a randomized release) has measure 0, hull ``(nan, nan)``, hull
    length 0 and precision 0. Summaries are medians over rows for the measure
    and hull length, and the mean for precision. A release that widens these sets
    hides the attribute better (robust attribute privacy, Jin et al., 2026).

    Parameters
    ----------
    estimator : object
        Fitted model with ``predict`` (any classifier; a smoothed release that
        abstains works as is). Only ``predict`` is called.
    X : array-like or DataFrame of shape (n_samples, n_features)
        The rows, with their true value of the sensitive attribute (used for the
        default release and for precision).
    feature : int or str
        Column of the sensitive attribute (a name when ``X`` is a DataFrame). Its
        values must be numbers inside ``domain``.
    domain : tuple of float
        ``(low, high)``, the attribute's possible values.
    grid : int or array-like of float, default=50
        Grid over ``domain``; see :func:`attribute_grid`.
    released : array-like of shape (n_samples,), default=None
        The observed outputs; ``None`` means ``estimator.predict(X)``.
    batch_size : int, default=65536
        Maximum number of query rows per call of ``predict``.

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        With ``grid``, ``edges``, ``released``, ``compatible`` (bool array of
        shape (n_samples, n_grid)), ``measure``, ``lower``, ``upper``,
        ``hull_length``, ``precision`` (arrays of shape (n_samples,)), and the
        summaries ``median_measure``, ``median_hull_length``, ``mean_precision``.

    See Also
    --------
    attribute_response : The release over the grid, which this function compares.
    skprivacy.audit.AttributeInferenceAttack : An adversary exploiting the same
        queries with a prior.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skprivacy.certify import compatible_intervals
    >>> from skprivacy.datasets import make_recommendation
    >>> rec = make_recommendation(n_samples=300, random_state=0)
    >>> model = LogisticRegression().fit(rec.data, rec.target)
    >>> ci = compatible_intervals(
    ...     model, rec.data[:5], 0, domain=rec.sensitive_domain
    ... )
    >>> ci.compatible.shape, bool(ci.median_measure < 35.0)
    ((5, 50), True)
    """
    values, edges = attribute_grid(domain, grid)
    X = check_attribute_X(X)
    index = feature_position(X, feature)
    try:
        truth = np.asarray(feature_column(X, index), dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            "The sensitive feature must be numeric (continuous) for compatible "
            "intervals; categorical attributes are out of scope here (the "
            "attribute-inference attack still measures them)."
        ) from exc
    outside = ~((truth >= edges[0]) & (truth <= edges[-1]))
    if outside.any():
        raise ValueError(
            f"{int(outside.sum())} row(s) have a sensitive value outside the domain "
            f"[{edges[0]}, {edges[-1]}] (or NaN), e.g. {truth[outside][0]}."
        )
    if released is None:
        released = np.asarray(_check_response_method(estimator, "predict")(X))
    else:
        released = np.asarray(released)
        if released.shape != (X.shape[0],):
            raise ValueError(
                f"released must have shape ({X.shape[0]},), one output per row; "
                f"got {released.shape}."
            )
    # Row chunks bound the memory of the responses whatever n_samples is.
    compatible = np.empty((X.shape[0], values.size), dtype=bool)
    for rows in _row_chunks(X.shape[0], values.size, batch_size):
        chunk = X.iloc[rows] if isinstance(X, pd.DataFrame) else X[rows]
        response = attribute_response(
            estimator, chunk, index, values, batch_size=batch_size
        )
        compatible[rows] = same_release(released[rows], response)

    widths = np.diff(edges)
    measure = compatible @ widths
    any_compatible = compatible.any(axis=1)
    first = np.argmax(compatible, axis=1)
    last = compatible.shape[1] - 1 - np.argmax(compatible[:, ::-1], axis=1)
    lower = np.where(any_compatible, edges[first], np.nan)
    upper = np.where(any_compatible, edges[last + 1], np.nan)
    hull_length = np.where(any_compatible, upper - lower, 0.0)
    true_cell = np.clip(
        np.searchsorted(edges, truth, side="right") - 1, 0, values.size - 1
    )
    rows = np.arange(X.shape[0])
    hit = compatible[rows, true_cell]
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(hit, widths[true_cell] / measure, 0.0)
    return Bunch(
        grid=values,
        edges=edges,
        released=released,
        compatible=compatible,
        measure=measure,
        lower=lower,
        upper=upper,
        hull_length=hull_length,
        precision=precision,
        median_measure=float(np.median(measure)),
        median_hull_length=float(np.median(hull_length)),
        mean_precision=float(np.mean(precision)),
    )


# ------------------------------------------------------------------------------
# Certified attribute intervals (helpers of SmoothedClassifier.certify_attribute)


def resolve_attribute(feature, n_features: int, feature_names, noise_features):
    """Column index of ``feature`` and its position among the noised columns."""
    if isinstance(feature, numbers.Integral) and not isinstance(feature, bool):
        if not -n_features <= feature < n_features:
            raise ValueError(
                f"feature index {feature} is out of range for {n_features} features."
            )
        column = int(feature) % n_features
    elif isinstance(feature, str):
        names = [] if feature_names is None else list(feature_names)
        if feature not in names:
            raise ValueError(
                f"feature {feature!r} is not a feature name seen in fit"
                + (f": {names}." if names else " (fit got no column names).")
            )
        column = names.index(feature)
    else:
        raise TypeError(
            f"feature must be an int position or a column name, got {feature!r}."
        )
    position = np.flatnonzero(np.asarray(noise_features) == column)
    if position.size == 0:
        raise ValueError(
            f"feature {feature!r} (column {column}) receives no noise, so nothing is "
            "certified about it; include it in noise_features (noised columns: "
            f"{np.asarray(noise_features).tolist()})."
        )
    return column, int(position[0])


def check_attribute_domain(domain, values: np.ndarray) -> tuple[float, float]:
    """``(low, high)`` of a certified interval's domain, checked against the rows.

    ``None`` is the whole real line. A row whose own value lies outside the
    domain is an error: its certified interval, which contains the value, could
    not be clipped to the domain.
    """
    if domain is None:
        return -np.inf, np.inf
    low, high = _check_domain(domain)
    outside = ~((values >= low) & (values <= high))
    if outside.any():
        raise ValueError(
            f"{int(outside.sum())} row(s) have a value of the attribute outside the "
            f"domain [{low}, {high}], e.g. {values[outside][0]}; the certified "
            "interval contains the row's own value, so the domain must too."
        )
    return low, high


def chained_intervals(
    certify, X, column, unit, low, high, n_anchors, alpha
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Certified label and attribute interval per row, from ``n_anchors`` CERTIFYs.

    ``certify(rows, alpha, stage)`` runs CERTIFY on validated rows and returns
    class indices (-1 abstains) and radii in scale units; moving column
    ``column`` alone by ``delta`` is a perturbation of norm ``|delta| / unit``, so
    a radius ``R`` certifies the half-width ``unit * R`` (smoothing.md, 2.2).

    Every CERTIFY runs at ``alpha / n_anchors`` (the count is fixed in advance),
    so by the union bound all certificates of a row hold together with
    probability at least ``1 - alpha``. The first one is at the row; each further
    anchor is the current end of the interval on one side, so its own interval
    overlaps the union and the union stays one interval on which the smoothed
    classifier returns the row's label. A side stops at the domain bound, or when
    its anchor abstains or certifies another label. Each anchor has its own noise
    stage, so its noise is independent of the outcomes that placed it and its
    CERTIFY keeps its error probability. Rounds extend both open sides; with one
    anchor left, the side nearer to the row's value goes.
    """
    level = alpha / n_anchors
    center = X[:, column].astype(np.float64)
    # Stage "" at the row itself: with one anchor this is exactly ``certify``.
    index, radius = certify(X, level, "")
    certified = index >= 0
    half = unit * radius
    lower = np.where(certified, np.maximum(center - half, low), np.nan)
    upper = np.where(certified, np.minimum(center + half, high), np.nan)
    budget = np.where(certified, n_anchors - 1, 0)
    open_low = certified & (lower > low)
    open_high = certified & (upper < high)
    round_ = 0
    while True:
        round_ += 1
        want_high = open_high & (budget >= 1)
        want_low = open_low & (budget >= 1)
        one_left = want_high & want_low & (budget == 1)
        low_nearer = (center - lower) < (upper - center)
        want_high &= ~(one_left & low_nearer)
        want_low &= ~(one_left & ~low_nearer)
        if not (want_high.any() or want_low.any()):
            break
        for side, want in (("+", want_high), ("-", want_low)):
            rows = np.flatnonzero(want)
            if rows.size == 0:
                continue
            budget[rows] -= 1
            frontier = upper[rows] if side == "+" else lower[rows]
            anchors = X[rows]
            anchors[:, column] = frontier
            # The anchor actually queried (float32 rows round the frontier).
            anchor = anchors[:, column].astype(np.float64)
            found, radius = certify(anchors, level, f"attribute-anchor{round_}{side}-")
            reach = unit * radius
            # Its open interval must hold the frontier, so the union is connected.
            extends = (
                (found == index[rows])
                & (reach > 0)
                & (np.abs(anchor - frontier) < reach)
            )
            if side == "+":
                new = np.minimum(anchor + reach, high)
                grown = extends & (new > frontier)
                upper[rows[grown]] = new[grown]
                open_high[rows] = grown & (new < high)
            else:
                new = np.maximum(anchor - reach, low)
                grown = extends & (new < frontier)
                lower[rows[grown]] = new[grown]
                open_low[rows] = grown & (new > low)
    return index, lower, upper
