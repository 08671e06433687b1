"""The command line: the quick demo end to end, and clear errors on bad input."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skprivacy._cli._main import main

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
    attacks = {(r["model"], r["attack"]) for r in results["membership"]}
    for name in ("plain", "CRL"):
        assert {a for m, a in attacks if m == name} == {"loss", "mentr", "RMIA", "LiRA"}
    assert any(m == "smoothed" for m, _ in attacks)
    for r in results["membership"]:
        low, high = r["auc_interval"]
        assert 0 <= low <= r["auc"] <= high <= 1
        assert 0 <= r["tpr_at_1pct_fpr"] <= 1
        assert r["tpr_at_1pct_fpr_resolved"]  # 1,000 non-members at 1% FPR
        assert r["epsilon_lower_bound"] >= 0
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


def test_audit_command_on_a_csv(csv_file, tmp_path, capsys):
    output = tmp_path / "out"
    code = main(
        [
            "audit",
            "--dataset",
            str(csv_file),
            "--target",
            "label",
            "--sensitive",
            "age",
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
