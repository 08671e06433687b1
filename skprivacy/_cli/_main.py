"""Argument parsing and error handling of ``python -m skprivacy``."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import importlib.util
import shlex
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import skprivacy

_COMMANDS = {
    "demo": (
        "train a plain and a CRL network, audit both with membership attacks, "
        "smooth and certify the better one, attack a sensitive attribute with "
        "and without smoothing, and write a report (the default)"
    ),
    "audit": "train the plain and CRL networks and audit them (no smoothing)",
}


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


def _seed(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text!r}")
    return value


def _n_jobs(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value == 0:
        raise argparse.ArgumentTypeError("must be a positive count or -1 (all cores)")
    return value


def build_parser():
    parser = _Parser(
        prog="skprivacy",
        description=(
            "Machine-learning privacy for scikit-learn. Without a command, runs "
            "the demo on the bundled Adult data."
        ),
    )
    parser.add_argument(
        "--version", action="version", version=f"skprivacy {skprivacy.__version__}"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in _COMMANDS.items():
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument(
            "--dataset",
            default="adult",
            metavar="NAME_OR_CSV",
            help="adult (default), german-credit, or the path of a CSV file",
        )
        sub.add_argument("--target", help="label column of a CSV file")
        sub.add_argument(
            "--sensitive",
            help="numeric attribute to infer (default: age for the bundled data)",
        )
        sub.add_argument(
            "--quick",
            action="store_true",
            help="smaller sizes for continuous integration (about a minute)",
        )
        sub.add_argument(
            "--output",
            type=Path,
            help="report folder (default: ./skprivacy-report-<dataset>)",
        )
        sub.add_argument("--seed", type=_seed, default=0, help="random seed (0)")
        sub.add_argument(
            "--n-jobs",
            type=_n_jobs,
            default=None,
            help="parallel jobs for reference models and smoothing (-1: all cores)",
        )
        sub.add_argument(
            "--sigma",
            type=_positive_float,
            default=0.25,
            help="smoothing noise, in standard deviations (0.25)",
        )
        sub.add_argument(
            "--no-progress", action="store_true", help="hide the progress bar"
        )
        sub.add_argument(
            "--debug", action="store_true", help="show tracebacks of errors"
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
    from skprivacy._cli._data import CLIError

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


def _run(args, argv):
    import torch

    from skprivacy._cli._data import CLIError, load_dataset
    from skprivacy._cli._demo import Demo
    from skprivacy._cli._report import format_text, write_report

    if importlib.util.find_spec("matplotlib") is None:
        raise CLIError(
            "The report's plots need matplotlib: pip install 'skprivacy[plot]'."
        )
    start = time.perf_counter()
    # The demo's networks are small: one thread each is fastest, and --n-jobs
    # parallelises over reference models and smoothing chunks instead.
    torch.set_num_threads(1)
    bunch = load_dataset(args.dataset, target=args.target, sensitive=args.sensitive)
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
        sigma=args.sigma,
        progress=not args.no_progress,
    )
    stages = ("audit", "smooth") if args.command == "demo" else ("audit",)
    results = demo.run(stages)
    meta = {
        "command": "python -m skprivacy " + shlex.join(argv),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seed": args.seed,
        "quick": args.quick,
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
