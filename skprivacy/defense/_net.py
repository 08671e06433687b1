"""Base of skprivacy's skorch classifiers: sklearn's data and random-state rules."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

from __future__ import annotations

import contextlib

import numpy as np
import torch
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted
from skorch import NeuralNet, NeuralNetClassifier
from skorch.callbacks import EpochScoring
from skorch.utils import is_dataset

from skprivacy.defense._modules import TabularMLP
from skprivacy.utils import spawn_seeds, torch_seed
from skprivacy.utils._sklearn_compat import (
    validate_data,
    validate_parameter_constraints,
)


def _softmax(logits):
    return torch.softmax(logits, dim=-1)


def _encoded_accuracy(net, X, y):
    """Validation accuracy on the encoded labels skorch hands to callbacks."""
    proba = net.predict_proba(X)
    return float(np.mean(proba.argmax(axis=1) == np.asarray(y)))


class BaseNetClassifier(NeuralNetClassifier):
    """A skorch classifier that follows scikit-learn's conventions.

    Subclasses get validated array or DataFrame input (``n_features_in_``,
    ``feature_names_in_``), labels of any type (``classes_``), a default
    :class:`TabularMLP` sized from the data, one seed per random stream drawn
    from ``random_state`` (``seeds_``; an int makes ``fit`` reproducible), and
    torch's global random state left as it was by ``fit`` and ``predict``.
    They declare ``_parameter_constraints`` and the names of their seeds
    (``_seed_names``, ``"module"`` and ``"train"`` included) and may wrap
    training in :meth:`_training_context`.
    """

    _seed_names: tuple[str, ...] = ("module", "train")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = False
        return tags

    @property
    def _default_callbacks(self):
        # skorch scores validation accuracy with predict(), which returns the
        # original labels while callbacks see the encoded ones.
        return [
            (name, cb)
            if name != "valid_acc"
            else (
                name,
                EpochScoring(_encoded_accuracy, name=name, lower_is_better=False),
            )
            for name, cb in super()._default_callbacks
        ]

    @property
    def classes_(self):
        try:
            return self.classes_inferred_
        except AttributeError as exc:
            raise AttributeError(
                f"{type(self).__name__} has no attribute 'classes_' before fit."
            ) from exc

    # ------------------------------------------------------------ validation

    def _validate_hyperparameters(self):
        validate_parameter_constraints(
            self._parameter_constraints,
            {key: getattr(self, key) for key in self._parameter_constraints},
            caller_name=type(self).__name__,
        )

    def _validate_training_data(self, X, y, reset, classes=None):
        if hasattr(X, "columns") and len(X.columns) == 0:
            # numpy finds no dtype to convert a frame without columns to and
            # says only "at least one array or dtype is required".
            raise ValueError(
                f"{type(self).__name__} got a DataFrame without columns (shape "
                f"{X.shape}): found array with 0 feature(s) while a minimum of 1 "
                "is required. Pass the feature columns of the training records."
            )
        X, y = validate_data(self, X, y, dtype=np.float32, reset=reset)
        check_classification_targets(y)
        if reset:
            labels = classes if classes is not None else self.classes
            known = np.unique(y if labels is None else np.asarray(labels))
            if len(known) < 2:
                raise ValueError(
                    f"{type(self).__name__} needs at least 2 classes; got "
                    f"{len(known)} class."
                )
            self.classes_inferred_ = known
        unseen = ~np.isin(y, self.classes_)
        if unseen.any():
            raise ValueError(
                f"y contains labels not in classes_: {np.unique(y[unseen])}."
            )
        return X, np.searchsorted(self.classes_, y).astype(np.int64)

    def _refuse_sample_weight(self, fit_params):
        if "sample_weight" in fit_params:
            raise TypeError(
                f"{type(self).__name__} does not support sample_weight: "
                f"{self._sample_weight_reason} To weight records, repeat or "
                "subsample rows in proportion to their weights before fit."
            )

    _sample_weight_reason = "its loss is an unweighted mean over each batch."

    def _fit_data_params(self, X, y):
        """Check and set what depends on the data, before anything is built."""

    def check_data(self, X, y=None):
        # Data are validated and labels encoded before skorch sees them.
        pass

    # --------------------------------------------------------- initialisation

    def initialize(self):
        """Draw this fit's seeds from ``random_state`` and build every part.

        Returns
        -------
        self : estimator
        """
        seeds = spawn_seeds(self.random_state, len(self._seed_names))
        self.seeds_ = dict(zip(self._seed_names, seeds, strict=True))
        return super().initialize()

    def _data_sizes(self):
        if not hasattr(self, "n_features_in_"):
            raise ValueError(
                f"{type(self).__name__} is sized from the data: call fit (a fit "
                "with max_epochs=0 only builds the network) before initialising."
            )
        return self.n_features_in_, len(self.classes_)

    def initialize_module(self):
        """Build the module, under a seed drawn from ``random_state``.

        Returns
        -------
        self : estimator
        """
        kwargs = self.get_params_for("module")
        module = self.module
        if module is None:
            n_in, n_out = self._data_sizes()
            module = TabularMLP
            kwargs = {
                "n_in": n_in,
                "n_out": n_out,
                "hidden_units": self.hidden_units,
                "dropout": self.dropout,
                **kwargs,
            }
        with torch_seed(self.seeds_["module"]):
            self.module_ = self.initialized_instance(module, kwargs)
        return self

    # --------------------------------------------------------------- training

    def fit(self, X, y, **fit_params):
        """Initialise and train the network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data; every row is a member of the training set.
        y : array-like of shape (n_samples,)
            Class labels of any type.
        **fit_params : dict
            Passed to the module's ``forward``; ``sample_weight`` is refused.

        Returns
        -------
        self : estimator
        """
        self._refuse_sample_weight(fit_params)
        self._validate_hyperparameters()
        warm = self.warm_start and self.initialized_
        X, y = self._validate_training_data(X, y, reset=not warm)
        if not warm:
            self._fit_data_params(X, y)
            self.initialize()
        return self._train(X, y, "fit", **fit_params)

    def partial_fit(self, X, y, classes=None, **fit_params):
        """Train for ``max_epochs`` more epochs without re-initialising.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels.
        classes : array-like of shape (n_classes,), default=None
            All class labels; only used by the first call.
        **fit_params : dict
            Passed to the module's ``forward``; ``sample_weight`` is refused.

        Returns
        -------
        self : estimator
        """
        self._refuse_sample_weight(fit_params)
        self._validate_hyperparameters()
        first = not (self.initialized_ and hasattr(self, "n_features_in_"))
        X, y = self._validate_training_data(X, y, reset=first, classes=classes)
        if first:
            self._fit_data_params(X, y)
            self.initialize()
        return self._train(X, y, "partial_fit", **fit_params)

    def _training_seeds(self):
        """The seeds of the next training call: (this fit's seed, epochs done)."""
        return np.random.SeedSequence([self.seeds_["train"], len(self.history)])

    def _train(self, X, y, routing_method, **fit_params):
        # Dropout and shuffling draw from torch's global RNG; fork it and seed it
        # from the call's seeds so calls differ but reproduce.
        seeds = self._training_seeds()
        with (
            torch_seed(int(seeds.generate_state(1)[0])),
            self._training_context(seeds, X, y),
        ):
            NeuralNet.partial_fit(
                self, X, y, _routing_method=routing_method, **fit_params
            )
        return self

    def _training_context(self, seeds, X, y):
        """Context wrapped around one training call (none by default)."""
        return contextlib.nullcontext()

    def get_iterator(self, dataset, training=False):
        """skorch's iterator; prediction batches never touch torch's global RNG.

        Parameters
        ----------
        dataset : torch Dataset
            The data.
        training : bool, default=False
            Whether the iterator is for training.

        Returns
        -------
        iterator : torch DataLoader (or ``iterator_train``/``iterator_valid``)
        """
        # A DataLoader draws its base seed from torch's global generator unless
        # given one of its own; prediction draws nothing else.
        defaults = {} if training else {"generator": torch.Generator()}
        return self._build_iterator(dataset, training, **defaults)

    def _build_iterator(self, dataset, training, **defaults):
        """skorch's iterator with ``defaults`` under the user's ``iterator_*``."""
        prefix = "iterator_train" if training else "iterator_valid"
        kwargs = {**defaults, **self.get_params_for(prefix)}
        kwargs.setdefault("batch_size", self.batch_size)
        if kwargs["batch_size"] == -1:
            kwargs["batch_size"] = len(dataset)
        return getattr(self, prefix)(dataset, **kwargs)

    # ------------------------------------------------------------- prediction

    def __sklearn_is_fitted__(self):
        return bool(self.initialized_) and hasattr(self, "n_features_in_")

    def _get_predict_nonlinearity(self):
        # The module outputs raw logits; probabilities are their softmax.
        if self.predict_nonlinearity == "auto":
            return _softmax
        return super()._get_predict_nonlinearity()

    def predict_proba(self, X):
        """Class probabilities: softmax of the raw logits.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``.
        """
        check_is_fitted(self)
        if not is_dataset(X):
            X = validate_data(self, X, dtype=np.float32, reset=False)
        return super().predict_proba(X)

    def predict(self, X):
        """Most probable class labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]
