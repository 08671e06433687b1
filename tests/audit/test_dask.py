# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pytest
from joblib import parallel_config
from sklearn.datasets import make_classification
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression

from skprivacy.audit import MembershipInferenceAuditor

distributed = pytest.importorskip("dask.distributed")


def _audit(X, y, target, n_jobs):
    auditor = MembershipInferenceAuditor(
        FrozenEstimator(target),
        attack="lira",
        n_references=4,
        n_jobs=n_jobs,
        random_state=0,
    ).fit(X[:400], y[:400], X_population=X[400:], y_population=y[400:])
    membership = np.r_[np.ones(200), np.zeros(200)].astype(int)
    return auditor, auditor.audit(X[:400], y[:400], membership, n_resamples=20)


def test_audit_on_dask_cluster_equals_local_run(tmp_path):
    torch = pytest.importorskip("torch")
    torch_state = torch.random.get_rng_state()
    X, y = make_classification(800, 8, n_informative=5, random_state=0)
    target = LogisticRegression(C=100).fit(X[:200], y[:200])
    local, local_report = _audit(X, y, target, n_jobs=None)

    # A real scheduler and two in-process workers (threads: quick to start).
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=False,
            dashboard_address=None,
            local_directory=str(tmp_path),
        ) as cluster,
        distributed.Client(cluster) as client,
        parallel_config(backend="dask"),
        distributed.get_task_stream(client) as tasks,
    ):
        remote, remote_report = _audit(X, y, target, n_jobs=-1)
        workers = set(client.scheduler_info()["workers"])

    # The reference models were trained by the cluster's workers.
    assert len(tasks.data) >= 4
    assert {task["worker"] for task in tasks.data} <= workers
    np.testing.assert_array_equal(
        remote.reference_membership_, local.reference_membership_
    )
    np.testing.assert_array_equal(remote.reference_signals_, local.reference_signals_)
    np.testing.assert_array_equal(
        remote.score_samples(X[:400], y[:400]), local.score_samples(X[:400], y[:400])
    )
    assert remote.offset_ == local.offset_
    # Unresolved TPRs are NaN in both (NaN != NaN): compare NaN-aware.
    np.testing.assert_equal(remote_report.metrics, local_report.metrics)
    # Fits of non-torch references in worker threads leave torch's RNG alone.
    assert torch.equal(torch.random.get_rng_state(), torch_state)
