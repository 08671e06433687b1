"""The command line: the quick demo end to end, and clear errors on bad input."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import contextlib
import io
import json
import os
import shlex
import subprocess
import sys
import warnings
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.utils import Bunch

from skprivacy._cli._data import CLIError, load_dataset
from skprivacy._cli._demo import (
    MEMBERSHIP_ATTACKS,
    Demo,
    Settings,
    _split,
    tpr_at_reported_fprs,
)
from skprivacy._cli._main import main
from skprivacy._cli._report import (
    _html,
    _plot_certified,
    format_text,
    membership_rows,
    summary_rows,
    verdict,
)
from skprivacy.audit import AuditReport
from skprivacy.exceptions import UnresolvedMetricWarning

REPO = Path(__file__).resolve().parents[1]
REPORT_FILES = [
    "membership_roc.png",
    "certified_accuracy.png",
    "attribute_inference.png",
    "results.json",
    "report.txt",
    "report.html",
]


@pytest.fixture(scope="module")
def quick_demo(tmp_path_factory):
    """One run of ``python -m skprivacy --quick`` (in-process), shared by tests."""
    output = tmp_path_factory.mktemp("demo") / "report"
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(["--quick", "--output", str(output), "--seed", "3"])
    return code, stdout.getvalue(), stderr.getvalue(), output


def test_quick_demo_writes_the_report(quick_demo):
    code, out, err, output = quick_demo
    assert code == 0, err
    for name in REPORT_FILES:
        assert (output / name).stat().st_size > 0, name
    for name in REPORT_FILES[:3]:
        assert (output / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (output / "report.html").read_text("utf-8")
    # Self-contained: the three figures are embedded, nothing is fetched.
    assert page.count('src="data:image/png;base64,') == 3
    assert "http://" not in page and "https://" not in page
    assert "Traceback" not in err
    assert str(output.resolve()) in out


def test_quick_demo_numbers_are_sane(quick_demo):
    code, out, _, output = quick_demo
    assert code == 0
    results = json.loads((output / "results.json").read_text("utf-8"))
    data = results["data"]
    assert data["dataset"] == "UCI Adult" and data["sensitive"] == "age"
    assert data["members"] == data["non_members"] == 1000
    assert data["population"] == 2000
    assert set(results["models"]) == {"plain", "CRL", "smoothed"}
    # About 24% of Adult earns >50K, so the majority class scores ~0.76 on
    # 1,000 non-members (sd 0.014); a trained network is far above it (all
    # measured runs >= 0.82), so 0.78 fails only for a broken model.
    for name, model in results["models"].items():
        assert 0.78 < model["test_accuracy"] <= 1, name
        assert 0.78 < model["train_accuracy"] <= 1, name
    for r in results["membership"]:
        low, high = r["auc_interval"]
        assert 0 <= low <= r["auc"] <= high <= 1
        # 1,000 non-members resolve an FPR of 1%, not 0.1%: the API's FPRs.
        assert list(r["tpr_at_fpr"]) == ["0.001", "0.01"]
        assert r["tpr_at_fpr"]["0.001"] is None
        assert 0 <= r["tpr_at_fpr"]["0.01"] <= 1
        assert r["epsilon_lower_bound"] >= 0
    assert data["tpr_fpr"] == 0.01
    smoothed = results["smoothed"]
    assert smoothed["base"] == results["chosen"]["model"] in ("plain", "CRL")
    certified = np.array(list(smoothed["certified_accuracy"].values()))
    radii = np.array([float(r) for r in smoothed["certified_accuracy"]])
    assert np.all(np.diff(radii) > 0) and radii[0] == 0
    assert np.all(np.diff(certified) <= 0)  # certified accuracy falls with r
    assert certified[0] <= 1 - smoothed["abstain_rate"] + 1e-12
    assert certified[0] > 0.5
    assert smoothed["average_certified_radius"] > 0
    attribute = results["attribute"]
    assert [r["release"] for r in attribute] == ["plain", "CRL", "smoothed"]
    # Same targets and the same prior: the prior-only rate is one number.
    assert len({r["prior_success_rate"] for r in attribute}) == 1
    for r in attribute:
        low, high = r["success_rate_ci"]
        assert 0 <= low <= r["success_rate"] <= high <= 1
        assert r["advantage"] == pytest.approx(
            r["success_rate"] - r["prior_success_rate"]
        )
    # The printed table shows the computed numbers.
    plain = results["models"]["plain"]["test_accuracy"]
    assert f"plain network     {plain:.3f}" in out
    assert out.startswith("skprivacy demo on UCI Adult")
    assert "TPR@1%FPR" in out and "n/a" in out
    assert set(results["meta"]["stage_seconds"]) >= {"certifying"}


@pytest.fixture
def csv_file(tmp_path):
    rng = np.random.default_rng(0)
    n = 600
    frame = pd.DataFrame(
        {
            "age": rng.integers(18, 80, n),
            "income": rng.normal(size=n),
            "city": rng.choice(["a", "b", "c"], n),
        }
    )
    frame["label"] = np.where(frame["income"] + 0.02 * frame["age"] > 1, "yes", "no")
    path = tmp_path / "people.csv"
    frame.to_csv(path, index=False)
    return path


def test_every_release_faces_the_same_attacks(quick_demo):
    # Like against like: the smoothed release faces the reference-based attacks
    # (on its votes, references trained through the smoothing recipe) and the
    # label-only attacks too, so its worst case compares with the networks'.
    _, out, _, output = quick_demo
    results = json.loads((output / "results.json").read_text("utf-8"))
    sets = {}
    for r in results["membership"]:
        sets.setdefault(r["model"], []).append((r["attack"], r["reads"]))
    assert set(sets) == {"plain", "CRL", "smoothed"}
    assert sets["plain"] == sets["CRL"] == sets["smoothed"]
    attacks = dict(sets["smoothed"])
    assert {"rmia", "lira"} <= set(attacks)
    # Adaptive: the smoothed release's references are smoothed models too.
    for r in results["membership"]:
        if r["model"] == "smoothed" and r["attack"] in ("rmia", "lira"):
            assert r["references"] == ["SmoothedClassifier"] * 4
    assert "labels" in attacks.values() and "proba" in attacks.values()
    assert "Every release faced the same 6 attacks" in out


def _results(tpr_smoothed=0.02, attacks_smoothed=("loss", "rmia")):
    """A minimal results dict, as Demo.run returns it."""

    def row(model, attack, tpr):
        return {
            "model": model,
            "attack": attack,
            "reads": "proba",
            "auc": 0.6,
            "auc_interval": [0.55, 0.65],
            "tpr_at_fpr": {"0.001": None, "0.01": tpr, "0.1": 0.2},
            "epsilon_lower_bound": None,
            "predict_fpr": 0.01,
        }

    return {
        "data": {
            "dataset": "d",
            "n_rows": 5000,
            "n_features": 3,
            "members": 1000,
            "non_members": 1000,
            "population": 2000,
            "sensitive": None,
            "tpr_fpr": 0.01,
        },
        "models": {
            "plain": {"test_accuracy": 0.8},
            "smoothed": {"test_accuracy": 0.8},
        },
        "membership": [row("plain", "loss", 0.03), row("plain", "rmia", 0.05)]
        + [row("smoothed", a, tpr_smoothed) for a in attacks_smoothed],
    }


def test_summary_flags_releases_that_faced_different_attacks():
    same = summary_rows(_results())
    assert "attacks" not in same[0]
    header, rows = summary_rows(_results(attacks_smoothed=("loss",)))
    assert header[-1] == "attacks"
    assert [row[-1] for row in rows] == ["loss, rmia", "loss"]
    assert "faced different attacks" in format_text(_results(attacks_smoothed=("a",)))


def test_unresolved_rates_print_na_and_serialize_as_null(tmp_path):
    results = _results(tpr_smoothed=None)
    header, rows = summary_rows(results)
    tpr = header.index("TPR@1%FPR")
    assert [row[tpr] for row in rows] == ["5.0%", "n/a"]
    assert [row[header.index("eps >=")] for row in rows] == ["n/a", "n/a"]
    # No resolvable FPR at all: the headline column says so.
    results["data"]["tpr_fpr"] = None
    header, rows = summary_rows(results)
    assert "TPR@low FPR" in header and rows[0][header.index("TPR@low FPR")] == "n/a"
    text = format_text(results)
    assert "n/a: a TPR at an FPR needs at least 10/FPR non-members" in text
    header, rows = membership_rows(results)
    assert header[5:8] == ["TPR@0.1%FPR", "TPR@1%FPR", "TPR@10%FPR"]
    assert rows[0][5] == "n/a"
    # NaN is not JSON; the report writes null and refuses NaN outright.
    payload = json.loads(json.dumps(results, allow_nan=False))
    assert payload["membership"][2]["tpr_at_fpr"]["0.01"] is None


def _ranked_results():
    """Three releases of clearly different leakage, with certificates."""
    results = _results()
    results["models"]["CRL"] = {"test_accuracy": 0.82}
    results["membership"] += [
        dict(results["membership"][0], model="CRL", attack=a) for a in ("loss", "RMIA")
    ]
    for r, (auc, low, high, tpr) in zip(
        results["membership"],
        [
            (0.62, 0.60, 0.64, 0.03),
            (0.70, 0.68, 0.72, 0.09),
            (0.55, 0.53, 0.57, 0.02),
            (0.56, 0.54, 0.58, 0.02),
            (0.52, 0.49, 0.55, 0.01),
            (0.57, 0.55, 0.59, 0.02),
        ],
        strict=True,
    ):
        r.update(auc=auc, auc_interval=[low, high])
        r["tpr_at_fpr"]["0.01"] = tpr
    results["membership"][2]["reads"] = "proba"
    results["smoothed"] = {
        "base": "CRL",
        "sigma": 0.25,
        "certified_rows": 200,
        "certified_accuracy": {"0": 0.8, "0.5": 0.6},
        "average_certified_radius": 0.4,
    }
    return results


def test_report_gives_a_verdict_with_the_numbers_behind_it():
    # Issue 21, point 3: which release leaks most, at what operating point,
    # with what confidence, in plain words; "worst AUC" is the highest AUC.
    results = _ranked_results()
    text = verdict(results)
    assert text.startswith(
        "The plain network leaks most: rmia (reads probabilities) tells its "
        "members from non-members with AUC 0.700 (95% CI [0.680, 0.720]"
    )
    assert (
        "At the operating point of 1% false positives, rmia flags 9.0% of its "
        "1000 members (90), 9.0 times what guessing flags." in text
    )
    assert "Its AUC interval lies above every other release's." in text
    # The CRL network's best attack (0.57 [0.55, 0.59]) beats guessing; the
    # smoothed one's (0.56 [0.54, 0.58]) too: every interval is above 0.5.
    assert "each one's highest-AUC interval lies above 0.5" in text
    assert "smoothed CRL leaks least (highest AUC 0.560" in text
    assert "overlaps the CRL network's" in text
    assert "certified correct on 60.0% of 200 test rows" in text
    assert (
        "(standard deviations)" in text and "average certified radius is 0.400" in text
    )
    # No release beats guessing: the verdict says so.
    for r in results["membership"]:
        r["auc_interval"] = [0.45, 0.75]
    assert "beats guessing at 95% confidence" in verdict(results)
    assert "do not rank them" in verdict(results)
    header, _ = summary_rows(results)
    assert "highest AUC" in header and "worst AUC" not in " ".join(header)
    assert "worst" not in format_text(_results())


def test_report_header_shows_the_command_typed_and_a_glossary(tmp_path):
    # Issue 21, point 3: the header shows the command (meta["command"]) and
    # the report defines its terms and cites the attacks' papers.
    results = _ranked_results()
    results["membership"][1]["attack"] = "mentr"
    meta = {
        "command": "skprivacy --quick --output rep",
        "created": "2026-12-07T00:00:00+00:00",
        "wall_seconds": 12.0,
        "seed": 0,
    }
    text = format_text(results, meta)
    assert text.splitlines()[1] == "Command: skprivacy --quick --output rep"
    assert text.splitlines()[3].startswith("Verdict: The plain network leaks most")
    page = _html(results, [], meta)
    assert "<code>skprivacy --quick --output rep</code>" in page
    assert '<div class="verdict">' in page
    for words in (
        "Glossary",
        "mentr, the modified prediction entropy",
        "reads: probabilities / labels / votes",
        "FPR of predict",
        "TPR at x% FPR",
        "ACR (average certified radius)",
        "Systematic evaluation of privacy risks of machine learning models",
        "USENIX Security 2021",
        "Low-cost high-power membership inference attacks",
    ):
        assert words in page, words
    # Without a command (an older caller), the header still reads.
    del meta["command"]
    assert "Computed by skprivacy on" in _html(results, [], meta)
    assert "Command:" not in format_text(results)


def test_certified_plot_names_its_units(monkeypatch, tmp_path):
    # Issue 21, point 3: radius in standard deviations of the noised columns,
    # ACR spelled out.
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.setattr(plt, "close", lambda fig=None: None)
    results = _ranked_results()
    y = np.array([0, 1, 1, 0])
    artifacts = {"certified": (y, y, np.array([0.1, 0.2, 0.3, 0.4]))}
    _plot_certified(results, artifacts, tmp_path / "c.png")
    ax = plt.gcf().axes[0]
    assert ax.get_xlabel() == (
        "Certified l2 radius (standard deviations of the noised columns)"
    )
    assert "sigma = 0.25 standard deviations" in ax.get_title()
    assert "average certified radius (ACR) = 0.250" in ax.get_lines()[0].get_label()
    plt.close("all")


@pytest.mark.parametrize("n", [150, 1000])
def test_tprs_are_those_of_the_api_report(n):
    # The CLI reports the AuditReport's FPRs and numbers: n/a (None) exactly
    # where the API reports NaN, never a TPR at another FPR instead.
    membership = np.r_[np.ones(n), np.zeros(n)].astype(int)
    scores = np.r_[np.arange(n) + 0.9 * n + 0.5, np.arange(n)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnresolvedMetricWarning)
        report = AuditReport.from_predictions(membership, scores, n_resamples=5)
    tprs = tpr_at_reported_fprs(report)
    assert list(tprs) == ["0.001", "0.01"]
    assert tprs["0.001"] is None  # needs 10,000 non-members
    if n < 1000:
        assert tprs["0.01"] is None and np.isnan(report.metrics["tpr_at_0.01_fpr"])
    else:
        # 10 non-members (scores 990-999) may be flagged: members above 989
        # count, 1000 - 89 of them.
        assert tprs["0.01"] == report.metrics["tpr_at_0.01_fpr"]
        assert tprs["0.01"] == pytest.approx(911 / 1000)


def test_audit_command_on_a_csv(csv_file, tmp_path, capsys):
    output = tmp_path / "out"
    code = main(
        [
            "audit",
            "--dataset",
            str(csv_file),
            "--target",
            "label",
            "--quick",
            "--output",
            str(output),
            "--no-progress",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    results = json.loads((output / "results.json").read_text("utf-8"))
    assert results["data"]["dataset"] == "people.csv"
    # 150 non-members resolve no FPR of the API's (0.1%, 1%): the headline
    # stays at 1% and says n/a, as the API says NaN; no fallback to 10%.
    assert results["data"]["tpr_fpr"] == 0.01
    assert "TPR@10%FPR" not in captured.out
    assert all(r["tpr_at_fpr"]["0.01"] is None for r in results["membership"])
    assert results["data"]["members"] == 150  # a quarter of 600 rows
    assert "smoothed" not in results and "attribute" not in results
    assert (output / "membership_roc.png").exists()
    assert not (output / "certified_accuracy.png").exists()


def _run_main(args, capsys):
    code = main(args)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dataset", "nope"], "needs --target"),
        (["--dataset", "missing.csv", "--target", "y"], "no such file"),
        (["--dataset", ".", "--target", "y"], "not a file"),
        (["--sigma", "-1"], "must be a positive number"),
        (["--sigma", "abc"], "not a number"),
        (["--seed", "x"], "not an integer"),
        (["--n-jobs", "0"], "positive count or -1"),
        (["--threads", "0"], "must be >= 1"),
        (["audit", "--sigma", "0.5"], "unrecognized arguments: --sigma"),
        (["audit", "--sensitive", "age"], "unrecognized arguments: --sensitive"),
        (["--member-column", "m"], "unrecognized arguments"),
        (["audit", "--member-column", "m"], "applies with --model"),
        (["audit", "--trust", "a.B"], "--trust applies with --model"),
        (["audit", "--allow-pickle"], "--allow-pickle applies with --model"),
        (["--bogus"], "unrecognized arguments"),
        (["demo", "--target", "y"], "--target applies to a CSV file"),
        (["--sensitive", "sex"], "not a numeric feature"),
        (["--sensitive", "fnlwgt"], "not used by the models"),
        (["--dataset", "german-credit", "--sensitive", "height"], "numeric features"),
    ],
)
def test_bad_arguments(args, message, capsys, tmp_path):
    code, err = _run_main([*args, "--output", str(tmp_path / "o")], capsys)
    assert code == 2
    assert message in err


@pytest.mark.parametrize(
    ("content", "extra", "message"),
    [
        (b"", [], "is empty"),
        (b"label,x\n", [], "has a header (label, x) but no rows"),
        (b"a,b\n\xd0\xff\xfe,1\n", [], "as CSV"),
        (b"a,b\n1,2\n", [], "--target 'label' is not a column"),
        (b"label,x\n" + b"1,1\n" * 300, ["--sensitive", "x"], "single class"),
        (b"label,x\n1,1\n0,2\n", ["--sensitive", "x"], "at least 200"),
        (b"label,x,c\n" + b"1,1,a\n0,2,b\n" * 150, ["--sensitive", "c"], "numeric"),
        (b"label\n" + b"1\n0\n" * 150, [], "no feature columns"),
        (
            b"label,x\n" + b"".join(b"%d,1\n" % i for i in range(300)),
            ["--sensitive", "x"],
            "regression target",
        ),
        (b"label,x\n" + b"1,1\n0,2\n" * 150, [], "--sensitive is required"),
    ],
)
def test_bad_csv_files(content, extra, message, capsys, tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes(content)
    args = ["--dataset", str(path), "--target", "label", *extra]
    code, err = _run_main([*args, "--output", str(tmp_path / "o")], capsys)
    assert code == 2
    assert message in err


def test_unwritable_output(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, err = _run_main(["--output", str(blocker)], capsys)
    assert code == 2
    assert "cannot write the report" in err


def test_module_entry_point():
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    run = subprocess.run(
        [sys.executable, "-m", "skprivacy", "--help"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert run.returncode == 0
    assert "demo" in run.stdout and "audit" in run.stdout
    run = subprocess.run(
        [sys.executable, "-m", "skprivacy", "--dataset", "nope"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert run.returncode == 2
    assert "needs --target" in run.stderr and "Traceback" not in run.stderr


# -- columns by name ------------------------------------------------------------
def _write_csv(path, n=400, *, empty="empty", seed=0):
    """A CSV whose all-missing numeric column comes before age."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            empty: np.full(n, np.nan),
            "x": rng.normal(size=n),
            "age": rng.integers(18, 80, n).astype(float),
            "city": rng.choice(["a", "b", "c"], n),
        }
    )
    frame["label"] = np.where(frame["x"] + 0.03 * (frame["age"] - 50) > 0, 1, 0)
    frame.to_csv(path, index=False)
    return frame


@pytest.mark.filterwarnings("ignore:Skipping features without any observed")
def test_sensitive_column_is_found_by_name_after_preprocessing(tmp_path):
    frame = _write_csv(tmp_path / "d.csv")
    bunch = load_dataset(str(tmp_path / "d.csv"), target="label", sensitive="age")
    demo = Demo(bunch, quick=True, seed=0, n_jobs=None)
    demo.prepare()
    # The imputer drops the empty column, so "age" is the second output
    # column, not the third: positions from the input would attack a one-hot
    # column and put the smoothing noise on another.
    assert demo.dropped_features == ["empty"]
    assert demo.results["data"]["dropped_features"] == ["empty"]
    Z = demo.preprocessor.transform(bunch.data)
    age = frame["age"].to_numpy()
    assert np.corrcoef(Z[:, demo.sensitive_index], age)[0, 1] > 0.9999
    # The scale converts the 5-year tolerance: it is age's standard deviation
    # (about 18 for uniform ages 18-79) on the 200 population rows.
    assert 14 < demo.sensitive_scale < 22
    noised = Z[:, demo.numerical_columns]
    assert noised.shape[1] == 2
    assert np.corrcoef(noised[:, 0], frame["x"])[0, 1] > 0.9999
    # One-hot columns (0/1 only) are never noised.
    assert not np.isin(noised, [0.0, 1.0]).all(axis=0).any()


def test_refuses_a_sensitive_column_that_preprocessing_drops(tmp_path, capsys):
    _write_csv(tmp_path / "d.csv", empty="height")
    args = ["--dataset", str(tmp_path / "d.csv"), "--target", "label"]
    args += ["--sensitive", "height", "--quick", "--no-progress"]
    code, err = _run_main([*args, "--output", str(tmp_path / "o")], capsys)
    assert code == 2
    assert "--sensitive 'height' has no observed values" in err


# -- auditing the user's own model ----------------------------------------------
@pytest.fixture(params=["frame", "array"])
def user_model(tmp_path, request):
    """A LogisticRegression pickled with joblib, and its CSV with a member column.

    Fitted on a DataFrame (it knows the column names) or on an array.
    """
    rng = np.random.default_rng(1)
    n = 500
    frame = pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])
    frame["label"] = np.where(frame["a"] - frame["b"] + rng.normal(size=n) > 0, 1, 0)
    frame["trained"] = (np.arange(n) < 150).astype(int)
    frame.to_csv(tmp_path / "records.csv", index=False)
    members = frame[frame["trained"] == 1]
    X = members[["a", "b", "c"]]
    X = X if request.param == "frame" else X.to_numpy()
    model = LogisticRegression().fit(X, members["label"])
    joblib.dump(model, tmp_path / "model.joblib")
    return tmp_path / "model.joblib", tmp_path / "records.csv"


def _audit_args(model, data, *extra):
    return [
        "audit",
        "--model",
        str(model),
        "--dataset",
        str(data),
        "--target",
        "label",
        "--member-column",
        "trained",
        "--quick",
        "--no-progress",
        *extra,
    ]


def test_audit_of_a_pickled_user_model(user_model, tmp_path, capsys):
    model, data = user_model
    output = tmp_path / "report"
    with warnings.catch_warnings():
        # Records go to the model as it was fitted: no feature-name warnings;
        # unresolved rates are n/a in the tables and legends, not warnings.
        warnings.filterwarnings("error", ".*feature names", UserWarning)
        warnings.simplefilter("error", UnresolvedMetricWarning)
        args = _audit_args(model, data, "--output", str(output), "--allow-pickle")
        code = main(args)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "can execute arbitrary code" in captured.err
    results = json.loads((output / "results.json").read_text("utf-8"))
    assert list(results["models"]) == ["model"]
    assert results["data"]["model"] == "model.joblib"
    # 150 members; 350 non-members: half audited, half calibrate.
    assert results["data"]["members"] == 150
    assert results["data"]["non_members"] == results["data"]["population"] == 175
    attacks = [r["attack"] for r in results["membership"]]
    assert attacks == ["loss", "mentr", "rmia", "lira", "label_gap", "label_noise"]
    assert "smoothed" not in results and "attribute" not in results
    assert captured.out.startswith("skprivacy audit of model.joblib on records.csv")


def test_which_attacks_apply_to_a_user_model(tmp_path):
    frame = pd.DataFrame({"a": [0.0, 1.0], "city": ["x", "y"]})
    bunch = Bunch(raw_data=frame)

    class LabelsOnly(BaseEstimator):
        def predict(self, X):
            return np.zeros(len(X))

    demo = Demo(bunch, quick=True, seed=0, n_jobs=None, model=LabelsOnly())
    attacks, skipped = demo.applicable_attacks("model")
    assert attacks == []  # no probabilities, and no numeric records to perturb
    assert skipped["rmia"] == "the model has no predict_proba"
    assert "not numeric" in skipped["label_gap"]
    bunch.raw_data = frame[["a"]]

    class NotClonable:  # no get_params: references cannot be trained
        def predict(self, X):
            return np.zeros(len(X))

        def predict_proba(self, X):
            return np.full((len(X), 2), 0.5)

    demo = Demo(bunch, quick=True, seed=0, n_jobs=None, model=NotClonable())
    attacks, skipped = demo.applicable_attacks("model")
    assert attacks == ["loss", "label_gap", "label_noise"]
    assert "cannot be cloned" in skipped["rmia"]
    demo = Demo(bunch, quick=True, seed=0, n_jobs=None, model=LogisticRegression())
    assert demo.applicable_attacks("model")[0] == list(MEMBERSHIP_ATTACKS)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"drop": "--member-column"}, "--model needs --member-column"),
        ({"member": "label"}, "must be different columns"),
        ({"member": "a"}, "must hold 1 for the rows"),
        ({"model": "nothing.joblib"}, "no such file"),
        ({"model": "csv"}, "Cannot load --model"),
        ({"object": [1, 2]}, "not a classifier"),
        ({"object": "unfitted"}, "is not fitted"),
        ({"object": "two columns"}, "expects 2 feature columns"),
        ({"dataset": "adult"}, "--member-column applies to a CSV file"),
    ],
)
def test_bad_audit_arguments(change, message, user_model, tmp_path, capsys):
    model, data = user_model
    if "object" in change:
        value = change["object"]
        if value == "unfitted":
            value = LogisticRegression()
        elif value == "two columns":
            value = LogisticRegression().fit([[0, 0], [1, 1]], [0, 1])
        joblib.dump(value, model)
    if change.get("model") == "csv":
        model = data
    elif "model" in change:
        model = tmp_path / change["model"]
    args = _audit_args(model, data, "--output", str(tmp_path / "o"))
    args.append("--allow-pickle")  # the pickle is the test's own
    if "drop" in change:
        i = args.index(change["drop"])
        del args[i : i + 2]
    if "member" in change:
        args[args.index("trained")] = change["member"]
    if "dataset" in change:
        args[args.index(str(data))] = change["dataset"]
        i = args.index("--target")
        del args[i : i + 2]
    code, err = _run_main(args, capsys)
    assert code == 2
    assert message in err


def test_audit_refuses_labels_the_model_does_not_know(user_model, capsys):
    model, data = user_model
    frame = pd.read_csv(data)
    frame["label"] = frame["label"].map({0: "no", 1: "yes"})
    frame.to_csv(data, index=False)
    code, err = _run_main(_audit_args(model, data, "--allow-pickle"), capsys)
    assert code == 2
    assert "labels the model does not know" in err


# -- threads ------------------------------------------------------------------
@pytest.mark.parametrize("threads", [None, 2])
def test_threads_option_sets_torch_and_blas_threads(threads, monkeypatch, capsys):
    import torch
    from threadpoolctl import threadpool_info

    seen = {}

    def fake_run(self, stages):
        seen["torch"] = torch.get_num_threads()
        seen["pools"] = {pool["num_threads"] for pool in threadpool_info()}
        raise CLIError("stopped by the test")

    monkeypatch.setattr(Demo, "run", fake_run)
    before = torch.get_num_threads()
    args = ["audit", "--no-progress"]
    args += [] if threads is None else ["--threads", str(threads)]
    code, err = _run_main(args, capsys)
    assert code == 2 and "stopped by the test" in err
    expected = 1 if threads is None else threads
    assert seen["torch"] == expected
    assert seen["pools"] <= {expected}
    assert torch.get_num_threads() == before  # restored after the run


def test_help_shows_the_demo_options_and_the_pickle_warning(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--quick", "--dataset", "--threads", "--sensitive"):
        assert option in out
    assert main(["audit", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--model" in out and "--member-column" in out
    assert "arbitrary code" in out and "skops.io.dump" in out
    for option in ("--attack", "--n-references", "--population-column", "--trust"):
        assert option in out
    assert "lira_offline" in out and "label_boundary" in out  # the attack names
    assert "--sigma" not in out and "--sensitive" not in out


def test_demo_split_draws_distinct_records():
    # Adult has thousands of rows that are copies once fnlwgt is dropped; a copy
    # drawn as a member and as a non-member (or population record) at once
    # would break the audit's thresholds, so the split draws distinct records.
    rng = np.random.default_rng(0)
    base = pd.DataFrame({"a": rng.integers(0, 20, 400), "b": rng.integers(0, 3, 400)})
    data = base.assign(weight=rng.random(400))  # unique, but dropped
    bunch = Bunch(data=data, target=rng.integers(0, 2, 400), drop=["weight"])
    settings = Settings(10, 20, 1, 1, 1, 1, 1, 1, 1, 2)
    members, non_members, population = _split(bunch, settings, 0)
    records = base.assign(y=bunch.target)
    chosen = np.concatenate([members, non_members, population])
    assert len(chosen) == 40
    assert not records.iloc[chosen].duplicated().any()


# -- model files: skops by default, pickle behind --allow-pickle ----------------
def _skops_case(tmp_path, model):
    """``model`` fitted on the first 150 rows of the records, saved with skops."""
    import skops.io

    rng = np.random.default_rng(2)
    n = 400
    frame = pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])
    frame["label"] = np.where(frame["a"] - frame["b"] + rng.normal(size=n) > 0, 1, 0)
    frame["trained"] = (np.arange(n) < 150).astype(int)
    frame["threshold"] = (np.arange(n) >= 300).astype(int)
    frame.to_csv(tmp_path / "records.csv", index=False)
    model.fit(frame[["a", "b", "c"]][:150], frame["label"][:150])
    skops.io.dump(model, tmp_path / "model.skops")
    return tmp_path / "model.skops", tmp_path / "records.csv", frame


def test_audit_of_a_skops_model_needs_no_flag(tmp_path, capsys):
    model, data, _ = _skops_case(tmp_path, LogisticRegression())
    output = tmp_path / "report"
    args = _audit_args(model, data, "--output", str(output), "--attack", "loss")
    code, err = _run_main(args, capsys)
    assert code == 0, err
    assert "arbitrary code" not in err  # nothing was unpickled
    results = json.loads((output / "results.json").read_text("utf-8"))
    assert results["data"]["model"] == "model.skops"
    assert [r["attack"] for r in results["membership"]] == ["loss"]


def test_skops_types_outside_the_defaults_need_trust(tmp_path, capsys):
    # A Pipeline ending in a skorch network: skops lists the types it does not
    # trust (torch's optimizer, skorch's callbacks, CRLClassifier...).
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skprivacy.defense import CRLClassifier

    pipeline = make_pipeline(
        StandardScaler(), CRLClassifier(max_epochs=2, random_state=0)
    )
    model, data, _ = _skops_case(tmp_path, pipeline)
    args = _audit_args(model, data, "--output", str(tmp_path / "o"))
    args += ["--attack", "loss", "label_gap"]
    code, err = _run_main(args, capsys)
    assert code == 2
    assert "not trust by default" in err
    listed = err.split("--trust ")[-1].strip()
    assert "skprivacy.defense._crl.CRLClassifier" in listed.split(",")
    assert "torch.optim.adam.Adam" in listed.split(",")
    # Trusting some but not all of them still refuses, naming the rest.
    first, *rest = listed.split(",")
    code, err = _run_main([*args, "--trust", first], capsys)
    assert code == 2 and first not in err and rest[0] in err
    # All of them, in one option or several: the audit runs.
    code, err = _run_main([*args, "--trust", first, "--trust", ",".join(rest)], capsys)
    assert code == 0, err


def test_pickles_are_refused_without_allow_pickle(user_model, capsys):
    model, data = user_model
    code, err = _run_main(_audit_args(model, data), capsys)
    assert code == 2
    assert "refused without --allow-pickle" in err and "skops.io.dump" in err
    code, err = _run_main(_audit_args(model, data, "--trust", "x.Y"), capsys)
    assert code == 2
    assert "--trust applies to skops files" in err


# -- the audit on a par with the API ---------------------------------------------
def test_audit_options_split_and_per_record_results(tmp_path, capsys):
    model, data, frame = _skops_case(tmp_path, LogisticRegression())
    output = tmp_path / "report"
    args = _audit_args(model, data, "--output", str(output))
    args += ["--attack", "loss", "rmia", "--attack", "label_gap"]
    args += ["--n-references", "2", "--population-column", "threshold"]
    code, err = _run_main(args, capsys)
    assert code == 0, err
    results = json.loads((output / "results.json").read_text("utf-8"))
    assert results["meta"]["command"] == shlex.join(["skprivacy", *args])
    audits = {r["attack"]: r for r in results["membership"]}
    assert list(audits) == ["loss", "rmia", "label_gap"]
    assert len(audits["rmia"]["references"]) == 2
    assert audits["loss"]["references"] == []
    # The split: every member; the population is the marked rows; the other
    # non-members are audited; test accuracy is on every non-member.
    split = pd.read_csv(output / "split.csv").set_index("row")
    roles = split["role"]
    assert set(roles.index[roles == "member"]) == set(range(150))
    assert set(roles.index[roles == "population"]) == set(range(300, 400))
    assert set(roles.index[roles == "non-member"]) == set(range(150, 300))
    assert set(split.index[split["test"] == 1]) == set(range(150, 400))
    fitted = LogisticRegression().fit(
        frame[["a", "b", "c"]][:150], frame["label"][:150]
    )
    held_out = frame[150:]
    assert results["models"]["model"]["test_accuracy"] == pytest.approx(
        fitted.score(held_out[["a", "b", "c"]], held_out["label"])
    )
    assert results["data"]["test_rows"] == 250
    # Per-record results: one row per audited record, keyed by its data row.
    table = pd.DataFrame(**_split_orient(results["per_record"]["model"]))
    assert len(table) == 300 and set(table["row"]) == set(range(300))
    for attack in ("loss", "rmia", "label_gap"):
        assert {f"score:{attack}", f"p_value:{attack}", f"flagged:{attack}"} <= set(
            table
        )
    assert table["membership"].tolist() == frame["trained"][table["row"]].tolist()
    assert table["label"].tolist() == frame["label"][table["row"]].tolist()
    # The loss attack's score is the record's log-probability of its label.
    proba = fitted.predict_proba(frame[["a", "b", "c"]].iloc[table["row"]])
    log_p = np.log(proba[np.arange(len(table)), table["label"]])
    assert np.corrcoef(table["score:loss"], log_p)[0, 1] > 0.999
    # 100 population records set a 1% threshold: decisions are 0/1; their
    # rate among the audited non-members is the table's "FPR of predict".
    flagged = table["flagged:loss"].to_numpy(dtype=float)
    assert set(np.unique(flagged)) <= {0.0, 1.0}
    assert flagged[table["membership"] == 0].mean() == pytest.approx(
        audits["loss"]["predict_fpr"]
    )
    stacked = pd.read_csv(output / "per_record.csv")
    assert len(stacked) == 300 and stacked["release"].eq("model").all()
    page = (output / "report.html").read_text("utf-8")
    assert "Per-record results" in page and "Most exposed members" in page


def _split_orient(table):
    return {"data": table["rows"], "columns": table["columns"]}


def test_flags_are_na_where_the_population_cannot_set_the_threshold(tmp_path, capsys):
    # 60 population records cannot place a threshold at 1% FPR (99 needed).
    model, data, frame = _skops_case(tmp_path, LogisticRegression())
    frame["threshold"] = (np.arange(len(frame)) >= 340).astype(int)
    frame.to_csv(data, index=False)
    output = tmp_path / "report"
    args = _audit_args(model, data, "--output", str(output), "--attack", "loss")
    code, err = _run_main([*args, "--population-column", "threshold"], capsys)
    assert code == 0, err
    results = json.loads((output / "results.json").read_text("utf-8"))
    table = results["per_record"]["model"]
    i = table["columns"].index("flagged:loss")
    assert all(row[i] is None for row in table["rows"])


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--attack", "nope"], "unknown attack 'nope'; choose from loss,"),
        (["--attack", "lira", "--n-references", "2"], "too few for lira (needs 4)"),
        (["--n-references", "0"], "must be >= 1"),
        (["--population-column", "nope"], "--population-column 'nope' is not a"),
        (["--population-column", "a"], "must hold 1 for the non-members"),
        (["--population-column", "trained"], "must differ"),
        (["--population-column", "all"], "marks 150 rows that --member-column"),
        (["--population-column", "few"], "the audit needs at least 20 members"),
    ],
)
def test_bad_audit_options(extra, message, tmp_path, capsys):
    model, data, frame = _skops_case(tmp_path, LogisticRegression())
    frame["all"] = 1
    frame["few"] = (np.arange(len(frame)) >= 390).astype(int)
    frame.to_csv(data, index=False)
    args = _audit_args(model, data, "--output", str(tmp_path / "o"), *extra)
    code, err = _run_main(args, capsys)
    assert code == 2
    assert message in err


def test_population_column_needs_member_column(tmp_path, capsys):
    frame = _write_csv(tmp_path / "d.csv")
    frame.assign(p=0).to_csv(tmp_path / "d.csv", index=False)
    args = ["audit", "--dataset", str(tmp_path / "d.csv"), "--target", "label"]
    code, err = _run_main([*args, "--population-column", "p"], capsys)
    assert code == 2
    assert "--population-column applies with --model and --member-column" in err
    code, err = _run_main(["audit", "--population-column", "p"], capsys)
    assert code == 2
    assert "--population-column applies to a CSV file" in err


def test_the_report_shows_the_command_as_typed(monkeypatch):
    from skprivacy._cli._main import _typed_command

    assert _typed_command(["audit", "--quick"]) == "skprivacy audit --quick"
    monkeypatch.setattr(
        sys, "argv", ["/venv/bin/skprivacy", "--quick", "--output", "a b"]
    )
    assert _typed_command(None) == "skprivacy --quick --output 'a b'"
    monkeypatch.setattr(sys, "argv", ["/x/skprivacy/__main__.py", "audit"])
    monkeypatch.setattr(sys, "executable", "/venv/bin/python3")
    assert _typed_command(None) == "python3 -m skprivacy audit"
