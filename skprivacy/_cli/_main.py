"""Argument parsing and error handling of ``python -m skprivacy``."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import importlib.util
import shlex
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

import skprivacy
from skprivacy._cli._data import CLIError

_COMMANDS = {
    "demo": (
        "train a plain and a CRL network, audit both with membership attacks, "
        "smooth and certify the better one, attack a sensitive attribute with "
        "and without smoothing, and write a report (the default)"
    ),
    "audit": (
        "audit your fitted model (--model, with --member-column) or the demo's "
        "networks trained on your data with membership attacks, and write a report"
    ),
}
_PICKLE_WARNING = (
    "WARNING: --model is loaded with joblib.load, which unpickles it, and\n"
    "loading a pickle can execute arbitrary code. Only load model files you\n"
    "trust (that you, or someone you trust, wrote)."
)
_AUDIT_EPILOG = f"""\
Two ways to audit:
  your model:   --model FILE --dataset DATA.csv --target LABEL --member-column COL
                FILE is a fitted scikit-learn-compatible classifier saved with
                joblib.dump or pickle (e.g. a Pipeline that takes the CSV's
                columns); COL holds 1 for the rows it was trained on, 0 for the
                others. Half of the 0 rows are audited beside the members, the
                rest set the attack thresholds. Reference models are unfitted
                clones of the model (same hyper-parameters).
  a recipe:     --dataset DATA.csv --target LABEL   (or a bundled dataset)
                trains the demo's plain and CRL networks on the data and audits
                them.

{_PICKLE_WARNING}
"""
# Torch's default of one thread per core oversubscribes small networks on a
# busy machine; --n-jobs parallelises over reference models instead.
_DEFAULT_THREADS = 1


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def _int_at_least(minimum):
    """An argparse type: an integer no smaller than ``minimum``."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {text!r}")
        return value

    return parse


def _n_jobs(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value == 0:
        raise argparse.ArgumentTypeError("must be a positive count or -1 (all cores)")
    return value


def _add_options(sub, command):
    sub.add_argument(
        "--dataset",
        default="adult",
        metavar="NAME_OR_CSV",
        help="adult (default), german-credit, or the path of a CSV file",
    )
    sub.add_argument("--target", metavar="COLUMN", help="label column of a CSV file")
    if command == "demo":
        sub.add_argument(
            "--sensitive",
            metavar="COLUMN",
            help="numeric attribute to infer (default: age for the bundled data; "
            "required with a CSV file)",
        )
    else:
        sub.add_argument(
            "--model",
            type=Path,
            metavar="FILE",
            help="your fitted classifier (joblib or pickle file; see the warning "
            "below) to audit instead of the demo's networks",
        )
        sub.add_argument(
            "--member-column",
            metavar="COLUMN",
            help="with --model: 0/1 column of the CSV, 1 for the rows the model "
            "was trained on",
        )
    sub.add_argument(
        "--quick",
        action="store_true",
        help="smaller sizes for continuous integration (a minute or two)",
    )
    sub.add_argument(
        "--output",
        type=Path,
        help="report folder (default: ./skprivacy-report-<dataset>)",
    )
    sub.add_argument("--seed", type=_int_at_least(0), default=0, help="random seed (0)")
    sub.add_argument(
        "--n-jobs",
        type=_n_jobs,
        default=None,
        help="parallel jobs for reference models and smoothing (-1: all cores)",
    )
    sub.add_argument(
        "--threads",
        type=_int_at_least(1),
        default=_DEFAULT_THREADS,
        metavar="N",
        help=f"threads of torch and of the BLAS/OpenMP libraries during the run "
        f"({_DEFAULT_THREADS}: fastest for the demo's small networks, and fair "
        "on a shared machine)",
    )
    if command == "demo":
        sub.add_argument(
            "--sigma",
            type=_positive_float,
            default=0.25,
            help="smoothing noise, in standard deviations (0.25)",
        )
    sub.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    sub.add_argument("--debug", action="store_true", help="show tracebacks of errors")


def build_parser():
    parser = _Parser(
        prog="skprivacy",
        description=(
            "Machine-learning privacy for scikit-learn. Without a command, runs "
            "the demo (on the bundled Adult data unless --dataset says otherwise)."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"skprivacy {skprivacy.__version__}"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in _COMMANDS.items():
        sub = commands.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=_AUDIT_EPILOG if name == "audit" else None,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        _add_options(sub, name)
        if name == "demo":
            demo = sub
    # ``skprivacy --quick`` is ``skprivacy demo --quick``: show the demo's
    # options in the top-level help too.
    formatter = demo._get_formatter()
    formatter.start_section("options of the demo (skprivacy [demo] ...)")
    formatter.add_arguments(demo._actions[1:])  # all but -h
    formatter.end_section()
    parser.epilog = (
        formatter.format_help()
        + "\nRun 'skprivacy audit --help' to audit your own model."
    )
    return parser


def _parse(argv):
    argv = list(sys.argv[1:] if argv is None else argv)
    # The demo is the default command: ``skprivacy --quick`` is ``skprivacy demo
    # --quick``.
    if not argv or (argv[0] not in _COMMANDS and argv[0] not in ("-h", "--help")):
        if not argv or argv[0] != "--version":
            argv.insert(0, "demo")
    return build_parser().parse_args(argv), argv


def _prepare_output(args):
    if args.output is None:
        args.output = Path(f"skprivacy-report-{Path(args.dataset).stem}")
    if args.output.exists() and not args.output.is_dir():
        raise NotADirectoryError(f"--output {str(args.output)!r} is a file.")
    args.output.mkdir(parents=True, exist_ok=True)
    probe = args.output / ".skprivacy-write-test"
    probe.write_text("")
    probe.unlink()


def main(argv=None) -> int:
    """Run the command line; return the exit status."""
    try:
        args, argv = _parse(argv)
    except SystemExit as exc:  # --help, --version or a bad argument
        return exc.code if isinstance(exc.code, int) else 2
    try:
        return _run(args, argv)
    except KeyboardInterrupt:
        print("skprivacy: interrupted", file=sys.stderr)
        return 130
    except CLIError as exc:
        print(f"skprivacy: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        if args.debug:
            raise
        print(
            f"skprivacy: error: {type(exc).__name__}: {exc}\n"
            "(run again with --debug to see the traceback)",
            file=sys.stderr,
        )
        return 1


@contextmanager
def _thread_limits(n):
    """Run with ``n`` threads in torch and in the BLAS/OpenMP thread pools."""
    import torch
    from threadpoolctl import threadpool_limits

    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        with threadpool_limits(limits=n):
            yield
    finally:
        torch.set_num_threads(previous)


def _load_model(args):
    """The user's fitted model, or None to train the demo's networks."""
    model_path = getattr(args, "model", None)
    member_column = getattr(args, "member_column", None)
    if model_path is None:
        if member_column is not None:
            raise CLIError(
                "--member-column applies with --model: the demo's networks choose "
                "their own training rows."
            )
        return None
    if member_column is None:
        raise CLIError(
            "--model needs --member-column COLUMN: a 0/1 column of the CSV that is 1 "
            "for the rows the model was trained on, so that the audit can tell "
            "members from non-members."
        )
    if not model_path.is_file():
        raise CLIError(f"--model {str(model_path)!r}: no such file.")
    import joblib

    print(_PICKLE_WARNING.replace("\n", " "), file=sys.stderr)
    try:
        model = joblib.load(model_path)
    except Exception as exc:  # unpickling raises anything
        raise CLIError(
            f"Cannot load --model {str(model_path)!r} with joblib.load: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    if not hasattr(model, "predict"):
        raise CLIError(
            f"--model {str(model_path)!r} holds a {type(model).__name__}, not a "
            "classifier (it has no predict method)."
        )
    try:
        check_is_fitted(model)
    except NotFittedError as exc:
        raise CLIError(f"--model {str(model_path)!r} is not fitted.") from exc
    if not hasattr(model, "classes_"):
        raise CLIError(
            f"--model {str(model_path)!r} holds a {type(model).__name__} without "
            "classes_: the audit needs a fitted classifier."
        )
    return model


def _check_model_data(model, bunch, target):
    """Select the model's columns from the CSV; refuse labels it does not know."""
    columns = list(bunch.raw_data.columns)
    expected = getattr(model, "feature_names_in_", None)
    if expected is not None:
        missing = [c for c in expected if c not in columns]
        if missing:
            raise CLIError(
                f"The model was fitted on columns that the CSV lacks: {missing}."
            )
        bunch.raw_data = bunch.raw_data[list(expected)]
    elif getattr(model, "n_features_in_", len(columns)) != len(columns):
        raise CLIError(
            f"The model expects {model.n_features_in_} feature columns; the CSV has "
            f"{len(columns)} besides --target and --member-column: {columns}."
        )
    classes = set(np.asarray(model.classes_).tolist())
    unknown = sorted(set(np.unique(bunch.raw_target).tolist()) - classes, key=str)
    if unknown:
        raise CLIError(
            f"--target {target!r} holds labels the model does not know: "
            f"{unknown[:5]}; the model's classes are {sorted(classes, key=str)}."
        )


def _run(args, argv):
    from skprivacy._cli._data import load_dataset
    from skprivacy._cli._demo import Demo
    from skprivacy._cli._report import format_text, write_report

    if importlib.util.find_spec("matplotlib") is None:
        raise CLIError(
            "The report's plots need matplotlib: pip install 'skprivacy[plot]'."
        )
    start = time.perf_counter()
    model = _load_model(args)
    bunch = load_dataset(
        args.dataset,
        target=args.target,
        sensitive=getattr(args, "sensitive", None),
        require_sensitive=args.command == "demo",
        member_column=getattr(args, "member_column", None),
    )
    if model is not None:
        _check_model_data(model, bunch, args.target)
    try:
        _prepare_output(args)
    except OSError as exc:
        print(
            f"skprivacy: error: cannot write the report to {str(args.output)!r}: "
            f"{exc.strerror or exc}",
            file=sys.stderr,
        )
        return 2
    demo = Demo(
        bunch,
        quick=args.quick,
        seed=args.seed,
        n_jobs=args.n_jobs,
        sigma=getattr(args, "sigma", None),
        model=model,
        model_name=args.model.name if model is not None else None,
        progress=not args.no_progress,
    )
    stages = ("audit", "smooth") if args.command == "demo" else ("audit",)
    with _thread_limits(args.threads):
        results = demo.run(stages)
    meta = {
        "command": "python -m skprivacy " + shlex.join(argv),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seed": args.seed,
        "quick": args.quick,
        "threads": args.threads,
        "wall_seconds": time.perf_counter() - start,
        "stage_seconds": {k: round(v, 2) for k, v in demo.timings.items()},
    }
    files = write_report(results, demo.artifacts, args.output, meta)
    print(format_text(results))
    print(f"\nWrote {len(files)} files to {args.output.resolve()}:")
    for path in files:
        print(f"  {path.name}")
    print(f"Open {(args.output / 'report.html').resolve()} in a browser.")
    print(f"Total time: {time.perf_counter() - start:.0f} s")
    return 0
