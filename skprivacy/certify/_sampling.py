"""The Monte Carlo engine of randomized smoothing: batched vote counting.

One engine serves every method of :class:`~skprivacy.SmoothedClassifier`
(``predict``, ``predict_proba``, ``predict_counts``, ``certify``) and is generic
over which columns are noised and with which standard deviation each, so
attribute-level certificates reuse it unchanged.

Design
------
- **Batches span rows.** The ``n_rows * n_samples`` noisy inputs of a call are
  enumerated row by row and cut into batches of ``batch_size``; a batch may hold
  the end of one row's samples and the start of the next. Memory is
  ``O((batch_size + NOISE_BLOCK) * n_features)`` whatever ``n_samples`` is.
- **Noise is a function of (seed, row, stage).** Each row's samples come from its
  own stream, seeded by a keyed BLAKE2b hash of the seed fixed at fit, the row's
  bytes and the stage name ("selection", "estimation", "predict", ...). Streams
  are drawn in fixed blocks of ``NOISE_BLOCK`` samples, so a row's noise does not
  depend on ``batch_size``, on the other rows of the call or on their order, and a
  repeated query of the same row gets the same answer.
- **Two back ends.** A numpy path calls ``predict`` of any estimator on whole
  noisy blocks; a torch path runs a skorch net's module on its own device under
  :func:`torch.inference_mode`, draws the noise there and counts votes there, so
  nothing crosses to the host per batch.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import hashlib

import numpy as np
from sklearn.utils.parallel import Parallel, delayed

from skprivacy.utils._hashing import keyed_seed
from skprivacy.utils._sklearn_compat import column_transformer_input_indices

# Samples per draw of a row's noise stream; fixes the draw sizes so that a row's
# noise never depends on how its samples are batched.
NOISE_BLOCK = 1024


def row_keys(X: np.ndarray) -> list[bytes]:
    """Content keys of the rows of ``X`` (BLAKE2b of each row's bytes)."""
    X = np.ascontiguousarray(X)
    return [hashlib.blake2b(row.tobytes(), digest_size=16).digest() for row in X]


def stream_seed(seed: int, key: bytes, stage: str) -> int:
    """128-bit seed of one row's noise stream for one stage."""
    return keyed_seed(seed, stage.encode() + b"\x00" + key)


def _numpy_stream(seed: int):
    generator = np.random.Generator(np.random.Philox(key=seed))

    def draw(out):
        generator.standard_normal(out=out, dtype=out.dtype)

    return draw


def _torch_stream(seed: int, device):
    import torch

    generator = torch.Generator(device=device)
    generator.manual_seed(seed & (2**63 - 1))

    def draw(out):
        torch.randn(out.shape, generator=generator, out=out)

    return draw


class _NoiseStreams:
    """Serve consecutive noise samples of each row's stream, block by block.

    Rows are visited in order and each row's samples are requested in increasing
    contiguous ranges. Whole blocks are drawn straight into the caller's buffer;
    a block that straddles two requests is drawn once into a staging buffer.
    """

    def __init__(self, open_stream, keys, seed, stage, n_samples, staging):
        self._open_stream = open_stream
        self._keys = keys
        self._seed = seed
        self._stage = stage
        self._n_samples = n_samples
        self._staging = staging
        self._row = -1
        self._draw = None
        self._block = (0, 0)

    def fill(self, out, row, start, stop):
        if row != self._row:
            self._row = row
            self._draw = self._open_stream(
                stream_seed(self._seed, self._keys[row], self._stage)
            )
            self._block = (0, 0)
        pos = start
        while pos < stop:
            block_start, block_stop = self._block
            if pos >= block_stop:
                block_start = block_stop
                block_stop = min(block_start + NOISE_BLOCK, self._n_samples)
                self._block = (block_start, block_stop)
                if stop >= block_stop:
                    self._draw(out[pos - start : block_stop - start])
                    pos = block_stop
                    continue
                self._draw(self._staging[: block_stop - block_start])
            take = min(stop, block_stop) - pos
            src = pos - block_start
            out[pos - start : pos - start + take] = self._staging[src : src + take]
            pos += take


class NumpyVoter:
    """Votes of any fitted classifier, through its ``predict`` on numpy blocks.

    Parameters
    ----------
    estimator : fitted classifier
    class_values : ndarray
        What ``estimator.predict`` returns for class ``i`` of the smoothed model.
    feature_names : ndarray of str, default=None
        When set, blocks are passed as DataFrames with these columns (for
        pipelines that select columns by name).
    """

    backend = "numpy"

    def __init__(self, estimator, class_values, feature_names=None):
        self.estimator = estimator
        self.class_values = np.asarray(class_values)
        self.feature_names = feature_names
        self._order = np.argsort(self.class_values, kind="stable")
        self._sorted = self.class_values[self._order]

    def classify(self, X):
        if self.feature_names is not None:
            import pandas as pd

            X = pd.DataFrame(X, columns=self.feature_names, copy=False)
        pred = np.asarray(self.estimator.predict(X))
        pos = np.searchsorted(self._sorted, pred)
        pos = np.minimum(pos, len(self._sorted) - 1)
        unknown = self._sorted[pos] != pred
        if np.any(unknown):
            raise ValueError(
                "The base estimator predicted labels that are not among the "
                f"classes {self.class_values.tolist()}: "
                f"{np.unique(pred[unknown])[:5].tolist()}."
            )
        return self._order[pos]


def _skorch_evaluation_step():
    from skorch import NeuralNet

    return NeuralNet.evaluation_step


class TorchVoter:
    """Votes of a fitted skorch classifier computed on its device.

    The net's module runs through skorch's ``evaluation_step`` and ``infer``
    (so overridden hooks are honoured) under :func:`torch.inference_mode`; as
    in skorch's ``predict_proba``, a tuple output contributes its first element
    and the predict non-linearity is applied before the arg max.

    Parameters
    ----------
    net : fitted skorch ``NeuralNetClassifier``
    class_values : ndarray of int
        Which arg max index stands for class ``i`` of the smoothed model.
    """

    backend = "torch"

    def __init__(self, net, class_values):
        import torch

        self.net = net
        self.class_values = np.asarray(class_values)
        self.device = torch.device(net.device)
        params = list(net.module_.parameters())
        self.dtype = params[0].dtype if params else torch.float32
        # The non-linearity skorch's predict_proba applies before its arg max.
        self._nonlin = net._get_predict_nonlinearity()
        self._own_step = type(net).evaluation_step is not _skorch_evaluation_step()
        self._lut = None
        self.identity = True

    def _lookup(self, n_outputs):
        import torch

        lut = np.full(n_outputs, -1, dtype=np.int64)
        for i, value in enumerate(self.class_values):
            if 0 <= int(value) < n_outputs:
                lut[int(value)] = i
        # Arg max index i is class i (the usual case): no lookup per batch.
        self.identity = np.array_equal(lut, np.arange(n_outputs))
        return torch.as_tensor(lut, device=self.device)

    def classify(self, X):
        if self._lut is None or self._own_step:
            out = self.net.evaluation_step((X, None), training=False)
        else:
            # skorch's evaluation_step switched the modules to eval mode on the
            # first batch; later batches skip re-walking every module.
            out = self.net.infer(X)
        out = out[0] if isinstance(out, tuple) else out
        index = self._nonlin(out).argmax(dim=1)
        if self._lut is None:
            self._lut = self._lookup(out.shape[1])
        # -1 marks an output that is no class; the caller counts them and checks
        # once per call (a check per batch would synchronise the device).
        return index if self.identity else self._lut[index]

    def check_unknown(self, n_unknown):
        if int(n_unknown) > 0:
            raise ValueError(
                "The net's arg max fell on an output that is not one of the "
                f"classes {self.class_values.tolist()}."
            )


class PipelineTorchVoter:
    """Votes of a pipeline that ends in a skorch classifier, net run batched.

    Each noisy block goes through the fitted transformers once, as
    ``Pipeline.predict`` sends it, and the transformed block through the net's
    module in one forward pass (:class:`TorchVoter`) instead of skorch's
    ``predict``, whose data loader builds every row as a tensor of its own and
    runs the module on ``batch_size`` rows of the net at a time. The noise is
    drawn and counted on the numpy path, in input space, so the votes are those
    of ``Pipeline.predict`` on the same blocks. When the first step is a
    :class:`~sklearn.compose.ColumnTransformer`, its parts that see no noised
    column run once per record (:class:`_ColumnTransformerCache`).

    Parameters
    ----------
    prepare : callable
        Turns a block of validated rows (and optionally only some of its
        columns) into what the pipeline takes (column names, categories).
    transformers : list of fitted transformers
        The steps before the net, in order.
    net : fitted skorch ``NeuralNetClassifier``
        The final step; its ``predict`` must be the arg max of its module's
        output.
    class_values : ndarray
        What the net's arg max index stands for, per class of the smoothed model.
    """

    backend = "numpy"

    def __init__(self, prepare, transformers, net, class_values):
        self.prepare = prepare
        self.transformers = transformers
        self.net = TorchVoter(net, class_values)
        self.fallback = None

    def classify(self, X):
        X = self.prepare(X)
        for transformer in self.transformers:
            X = transformer.transform(X)
        return self._vote(X)

    def bind(self, X, columns):
        """The classifier of noisy copies of the rows of ``X``.

        Returns a callable ``(Xb, rows)``, where row ``i`` of ``Xb`` is a copy of
        ``X[rows[i]]`` with noise on ``columns`` only; its votes are those of
        :meth:`classify` on ``Xb``.
        """
        from sklearn.compose import ColumnTransformer

        first = self.transformers[0] if self.transformers else None
        cache = None
        if isinstance(first, ColumnTransformer):
            cache = _ColumnTransformerCache.build(
                first, self.prepare, X, columns, last=len(self.transformers) == 1
            )
        if cache is None:
            return lambda Xb, rows: self.classify(Xb)

        def classify(Xb, rows):
            Xt = cache.transform(Xb, rows)
            if Xt is None:
                return self.classify(Xb)
            for transformer in self.transformers[1:]:
                Xt = transformer.transform(Xt)
            return self._vote(Xt)

        return classify

    def _vote(self, X):
        import torch
        from scipy import sparse

        if self.fallback is None and sparse.issparse(X):
            # skorch's dataset densifies each sparse row; so does this, at once.
            X = X.toarray()
        if self.fallback is None and not isinstance(X, np.ndarray):
            # skorch feeds a DataFrame (or a dict, ...) to the module in its
            # own way: the net's predict keeps that meaning.
            self.fallback = NumpyVoter(self.net.net, self.net.class_values)
        if self.fallback is not None:
            return self.fallback.classify(X)
        with torch.inference_mode():
            index = self.net.classify(torch.from_numpy(np.ascontiguousarray(X)))
            index = index.cpu().numpy()
        if not self.net.identity:
            self.net.check_unknown(np.count_nonzero(index < 0))
        return index


class _ColumnTransformerCache:
    """A fitted ColumnTransformer's output on noisy copies of known records.

    The noise touches only some input columns, so the parts of the
    ColumnTransformer that read none of them give the same output on every
    noisy copy as on the record: that output is computed once per record and
    tiled, and only the parts that read a noised column run on each block,
    each output written into its ``output_indices_`` slice. The result equals
    ``transform`` of the block, value for value, for parts that transform rows
    one by one (scikit-learn's transformers do).

    Built by :meth:`build`, which returns ``None`` where this does not apply:
    pandas (or polars) output, a sparse output followed by more steps (their
    input would lose its exact sparse structure), input columns that do not
    match those seen in fit, or no part free of noise.
    """

    def __init__(self, prepare, parts, columns, clean, sparse_output):
        self.prepare = prepare
        self.parts = parts
        self.columns = columns
        self.clean = clean
        self.sparse_output = sparse_output

    @classmethod
    def build(cls, encode, prepare, X, noised, *, last):
        from scipy import sparse

        indices = column_transformer_input_indices(encode)
        if indices is None:
            return None
        clean_input = prepare(X)
        names = getattr(encode, "feature_names_in_", None)
        if hasattr(clean_input, "columns") and names is not None:
            if list(clean_input.columns) != list(names):
                return None  # transform would select columns by name
        sparse_output = encode.sparse_output_
        if sparse_output and not last:
            return None
        weights = encode.transformer_weights or {}
        parts, touched = [], []
        for name, transformer, spec in encode.transformers_:
            selected = np.asarray(indices[name], dtype=np.intp)
            if transformer == "drop" or selected.size == 0:
                continue  # ColumnTransformer skips these too
            part = {
                "transformer": transformer,
                "columns": selected,
                "scalar": np.isscalar(spec),
                "weight": weights.get(name),
                "out": encode.output_indices_[name],
                "noisy": np.intersect1d(selected, noised).size > 0,
            }
            parts.append(part)
            touched.append(part["noisy"])
        if not parts or all(touched):
            return None
        columns = np.unique(np.concatenate([p["columns"] for p in parts if p["noisy"]]))
        for part in parts:
            part["local"] = np.searchsorted(columns, part["columns"])
        reference = encode.transform(clean_input)
        if not isinstance(reference, np.ndarray) and not sparse.issparse(reference):
            return None  # pandas (or polars) output: the block path keeps it
        cache = cls(prepare, parts, columns, reference, sparse_output)
        clean = [cache._part(part, clean_input) for part in parts]
        if sparse_output:
            # Row-indexable pieces, stacked per block as ColumnTransformer does.
            cache.clean = [
                piece.tocsr() if sparse.issparse(piece) else piece for piece in clean
            ]
            return cache
        for part, piece in zip(parts, clean, strict=True):
            part["dtype"] = piece.dtype
        return cache

    def _part(self, part, X, local=False):
        """One part's output on ``X``, converted as ColumnTransformer stacks it."""
        from scipy import sparse
        from sklearn.utils import _safe_indexing, check_array

        selected = part["local"] if local else part["columns"]
        Xs = _safe_indexing(X, selected[0] if part["scalar"] else selected, axis=1)
        out = part["transformer"].transform(Xs)
        if part["weight"] is not None:
            out = out * part["weight"]
        if self.sparse_output:
            return check_array(out, accept_sparse=True, ensure_all_finite=False)
        return out.toarray() if sparse.issparse(out) else np.asarray(out)

    def transform(self, Xb, rows):
        """Output on the noisy block ``Xb``, or ``None`` to transform it whole."""
        from scipy import sparse

        noisy = self.prepare(Xb, self.columns)
        if self.sparse_output:
            pieces = [
                self._part(part, noisy, local=True) if part["noisy"] else clean[rows]
                for part, clean in zip(self.parts, self.clean, strict=True)
            ]
            return sparse.hstack(pieces).tocsr()
        out = self.clean[rows]
        for part in self.parts:
            if not part["noisy"]:
                continue
            piece = self._part(part, noisy, local=True)
            if piece.dtype != part["dtype"]:
                return None  # np.hstack would cast differently
            out[:, part["out"]] = piece
        return out


def _batch_plan(n_rows, n_samples, batch_size):
    """Global sample ranges of each batch and, per row touched, its sample range."""
    total = n_rows * n_samples
    for g0 in range(0, total, batch_size):
        g1 = min(g0 + batch_size, total)
        r0, r1 = g0 // n_samples, (g1 - 1) // n_samples
        pieces = []
        for row in range(r0, r1 + 1):
            start = max(g0, row * n_samples) - row * n_samples
            stop = min(g1, (row + 1) * n_samples) - row * n_samples
            pieces.append((row, start, stop))
        yield g0, g1, r0, r1, pieces


def _progress(total, verbose, desc):
    if not verbose:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="sample", leave=False)


def _count_numpy(
    voter, X, n_samples, columns, std, seed, stage, n_classes, batch_size, verbose
):
    n_rows = X.shape[0]
    counts = np.zeros((n_rows, n_classes), dtype=np.int64)
    all_columns = len(columns) == X.shape[1]
    dtype = X.dtype
    std = np.asarray(std, dtype=dtype)
    noise = np.empty((min(batch_size, n_rows * n_samples), len(columns)), dtype=dtype)
    streams = _NoiseStreams(
        _numpy_stream,
        row_keys(X),
        seed,
        stage,
        n_samples,
        np.empty((NOISE_BLOCK, len(columns)), dtype=dtype),
    )
    # A voter that knows which record each noisy row copies can reuse the work
    # that does not depend on the noise.
    bound = voter.bind(X, columns) if hasattr(voter, "bind") else None
    bar = _progress(n_rows * n_samples, verbose, stage)
    for g0, g1, r0, r1, pieces in _batch_plan(n_rows, n_samples, batch_size):
        size = g1 - g0
        buf = noise[:size]
        offset = 0
        sizes = []
        for row, start, stop in pieces:
            streams.fill(buf[offset : offset + stop - start], row, start, stop)
            offset += stop - start
            sizes.append(stop - start)
        local = np.repeat(np.arange(r1 - r0 + 1), sizes)
        Xb = X[r0 + local]
        buf *= std
        if all_columns:
            Xb += buf
        else:
            Xb[:, columns] += buf
        index = voter.classify(Xb) if bound is None else bound(Xb, r0 + local)
        votes = np.bincount(
            local * n_classes + index, minlength=(r1 - r0 + 1) * n_classes
        )
        counts[r0 : r1 + 1] += votes.reshape(-1, n_classes)
        if bar is not None:
            bar.update(size)
    if bar is not None:
        bar.close()
    return counts


def _count_torch(
    voter, X, n_samples, columns, std, seed, stage, n_classes, batch_size, verbose
):
    import torch

    device, dtype = voter.device, voter.dtype
    n_rows = X.shape[0]
    keys = row_keys(X)
    all_columns = len(columns) == X.shape[1]
    with torch.inference_mode():
        X_dev = torch.as_tensor(X, device=device).to(dtype)
        std_dev = torch.as_tensor(np.asarray(std), device=device).to(dtype)
        columns_dev = torch.as_tensor(
            np.asarray(columns, dtype=np.int64), device=device
        )
        counts = torch.zeros((n_rows, n_classes), dtype=torch.int64, device=device)
        unknown = torch.zeros((), dtype=torch.int64, device=device)
        noise = torch.empty(
            (min(batch_size, n_rows * n_samples), len(columns)),
            dtype=dtype,
            device=device,
        )
        staging = torch.empty((NOISE_BLOCK, len(columns)), dtype=dtype, device=device)
        streams = _NoiseStreams(
            lambda s: _torch_stream(s, device), keys, seed, stage, n_samples, staging
        )
        inputs = torch.empty((noise.shape[0], X.shape[1]), dtype=dtype, device=device)
        ones = torch.ones(noise.shape[0], dtype=torch.int64, device=device)
        bar = _progress(n_rows * n_samples, verbose, stage)
        for g0, g1, r0, _, pieces in _batch_plan(n_rows, n_samples, batch_size):
            size = g1 - g0
            buf, Xb = noise[:size], inputs[:size]
            offset = 0
            for row, start, stop in pieces:
                piece = slice(offset, offset + stop - start)
                streams.fill(buf[piece], row, start, stop)
                # x + noise written once into the batch (no gather of copies).
                if all_columns:
                    torch.addcmul(X_dev[row], buf[piece], std_dev, out=Xb[piece])
                else:
                    Xb[piece] = X_dev[row]
                offset = piece.stop
            if not all_columns:
                Xb[:, columns_dev] += buf * std_dev
            index = voter.classify(Xb)
            if not voter.identity:
                unknown += (index < 0).sum()
                index = index.clamp(min=0)
            if len(pieces) == 1:
                counts[r0].index_add_(0, index, ones[:size])
            else:
                local = torch.arange(g0, g1, device=device) // n_samples - r0
                counts[r0:].view(-1).index_add_(
                    0, local * n_classes + index, ones[:size]
                )
            if bar is not None:
                bar.update(size)
        if bar is not None:
            bar.close()
        voter.check_unknown(unknown)
        return counts.cpu().numpy()


def count_votes(
    voter,
    X: np.ndarray,
    n_samples: int,
    *,
    noise_columns: np.ndarray,
    noise_std: np.ndarray,
    seed: int,
    stage: str,
    n_classes: int,
    batch_size: int,
    n_jobs: int | None = None,
    verbose: int = 0,
) -> np.ndarray:
    """Count the base classifier's votes on ``n_samples`` noisy copies of each row.

    Parameters
    ----------
    voter : NumpyVoter or TorchVoter
        The base classifier, returning class indices for a block of inputs.
    X : ndarray of shape (n_rows, n_features)
        Validated, finite inputs.
    n_samples : int
        Noisy copies per row.
    noise_columns : ndarray of int
        Columns that receive noise.
    noise_std : ndarray of float
        Standard deviation of the noise on each of ``noise_columns``.
    seed : int
        The seed fixed at fit.
    stage : str
        Name of the stage; different stages draw independent noise.
    n_classes : int
        Number of classes.
    batch_size : int
        Noisy inputs per call of the base classifier.
    n_jobs : int, default=None
        Rows are split into this many chunks run through joblib.
    verbose : int, default=0
        Shows a progress bar when positive (and ``n_jobs`` is not used).

    Returns
    -------
    counts : ndarray of shape (n_rows, n_classes), dtype int64
    """
    count = _count_torch if voter.backend == "torch" else _count_numpy
    args = (n_samples, noise_columns, noise_std, seed, stage, n_classes, batch_size)
    n_rows = X.shape[0]
    if n_rows == 0:
        return np.zeros((0, n_classes), dtype=np.int64)
    n_chunks = min(n_rows, _effective_n_jobs(n_jobs))
    if n_chunks <= 1:
        return count(voter, X, *args, verbose)
    chunks = np.array_split(np.arange(n_rows), n_chunks)
    results = Parallel(n_jobs=n_jobs)(
        delayed(count)(voter, X[chunk], *args, 0) for chunk in chunks
    )
    return np.concatenate(results)


def _effective_n_jobs(n_jobs):
    from joblib import effective_n_jobs

    return 1 if n_jobs is None else effective_n_jobs(n_jobs)


def noisy_copies(
    X: np.ndarray,
    n_copies: int,
    *,
    noise_columns: np.ndarray,
    noise_std: np.ndarray,
    seed: int,
    stage: str = "fit",
) -> np.ndarray:
    """``n_copies`` noisy copies of each row, each row's copies contiguous.

    The noise follows the engine's rule (a function of seed, row and stage), so
    duplicated training rows get identical copies and a sample weight of 2 is
    the same as a duplicated row.

    Returns
    -------
    X_noisy : ndarray of shape (n_rows * n_copies, n_features)
    """
    std = np.asarray(noise_std, dtype=X.dtype)
    noise = np.empty((X.shape[0] * n_copies, len(noise_columns)), dtype=X.dtype)
    streams = _NoiseStreams(
        _numpy_stream,
        row_keys(X),
        seed,
        stage,
        n_copies,
        np.empty((NOISE_BLOCK, len(noise_columns)), dtype=X.dtype),
    )
    for row in range(X.shape[0]):
        streams.fill(noise[row * n_copies : (row + 1) * n_copies], row, 0, n_copies)
    X_noisy = np.repeat(X, n_copies, axis=0)
    X_noisy[:, noise_columns] += noise * std
    return X_noisy
