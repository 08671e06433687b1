"""Argument parsing and error handling of ``python -m skprivacy``."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import importlib.util
import shlex
import sys
import time
import zipfile
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

import skprivacy
from skprivacy._cli._data import CLIError
from skprivacy._cli._demo import MEMBERSHIP_ATTACKS, min_references
from skprivacy.audit import get_attack, get_attack_names

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
    "WARNING: --allow-pickle loads --model with joblib.load, which unpickles\n"
    "it, and loading a pickle can execute arbitrary code. Only load model\n"
    "files you trust (that you, or someone you trust, wrote)."
)
_AUDIT_EPILOG = f"""\
Two ways to audit:
  your model:   --model FILE --dataset DATA.csv --target LABEL --member-column COL
                FILE is a fitted scikit-learn-compatible classifier (e.g. a
                Pipeline that takes the CSV's columns) saved with
                skops.io.dump(model, "model.skops"); COL holds 1 for the rows it
                was trained on, 0 for the others. Half of the 0 rows are audited
                beside the members, the rest set the attack thresholds (or the
                rows that --population-column marks). Reference models are
                unfitted clones of the model (same hyper-parameters).
  a recipe:     --dataset DATA.csv --target LABEL   (or a bundled dataset)
                trains the demo's plain and CRL networks on the data and audits
                them.

Model files: skops files load only the types skops trusts by default (numpy,
scikit-learn...); the audit lists any other type the file holds and runs once
you approve them with --trust TYPE[,TYPE...]. Pickle and joblib files are
refused unless you pass --allow-pickle.
{_PICKLE_WARNING}

Attacks (--attack, by their names in MembershipInferenceAuditor(attack=...)):
{{attacks}}
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


def _attack_name(text):
    if text not in get_attack_names():
        raise argparse.ArgumentTypeError(
            f"unknown attack {text!r}; choose from {', '.join(get_attack_names())}"
        )
    return text


def _type_names(text):
    names = [t.strip() for t in text.split(",") if t.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"no type name in {text!r}")
    return names


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
            help="your fitted classifier, a skops file (see below), to audit "
            "instead of the demo's networks",
        )
        sub.add_argument(
            "--member-column",
            metavar="COLUMN",
            help="with --model: 0/1 column of the CSV, 1 for the rows the model "
            "was trained on",
        )
        sub.add_argument(
            "--population-column",
            metavar="COLUMN",
            help="with --member-column: 0/1 column of the CSV, 1 for the "
            "non-members that set the attack thresholds (default: half the "
            "non-members, drawn at random)",
        )
        sub.add_argument(
            "--trust",
            action="append",
            type=_type_names,
            default=[],
            metavar="TYPE[,TYPE...]",
            help="with a skops --model: types the file may load beyond those "
            "skops trusts (the audit lists them when it refuses the file)",
        )
        sub.add_argument(
            "--allow-pickle",
            action="store_true",
            help="load a --model that is a pickle or joblib file (it can execute "
            "arbitrary code)",
        )
        sub.add_argument(
            "--attack",
            action="extend",
            nargs="+",
            type=_attack_name,
            metavar="NAME",
            help="membership attacks to run, one or several (default: "
            + " ".join(MEMBERSHIP_ATTACKS)
            + ")",
        )
        sub.add_argument(
            "--n-references",
            type=_int_at_least(1),
            metavar="N",
            help="reference models of the attacks that need them (default: 8, "
            "4 with --quick)",
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


def _audit_epilog():
    lines = []
    for name in get_attack_names():
        attack = get_attack(name)
        needs = attack.min_references
        lines.append(
            f"  {name:<17} {type(attack).__name__}"
            + (f", {needs}+ reference models" if needs else "")
        )
    return _AUDIT_EPILOG.format(attacks="\n".join(lines))


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
            epilog=_audit_epilog() if name == "audit" else None,
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
    command = _typed_command(argv)
    try:
        args, argv = _parse(argv)
    except SystemExit as exc:  # --help, --version or a bad argument
        return exc.code if isinstance(exc.code, int) else 2
    try:
        return _run(args, command)
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
        for option, given in (
            ("--trust", getattr(args, "trust", None)),
            ("--allow-pickle", getattr(args, "allow_pickle", False)),
        ):
            if given:
                raise CLIError(f"{option} applies with --model (a model file).")
        return None
    if member_column is None:
        raise CLIError(
            "--model needs --member-column COLUMN: a 0/1 column of the CSV that is 1 "
            "for the rows the model was trained on, so that the audit can tell "
            "members from non-members."
        )
    if not model_path.is_file():
        raise CLIError(f"--model {str(model_path)!r}: no such file.")
    trusted = [name for names in args.trust for name in names]
    if _is_skops(model_path):
        model = _load_skops(model_path, trusted)
    else:
        model = _load_pickle(model_path, args.allow_pickle, trusted)
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


def _is_skops(path):
    """Whether ``path`` is a skops file (a zip archive with a skops schema)."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return "schema.json" in archive.namelist()


def _load_skops(path, trusted):
    """Load a skops file, refusing types neither skops nor ``--trust`` trusts."""
    import skops.io

    try:
        untrusted = skops.io.get_untrusted_types(file=path)
    except Exception as exc:  # a damaged archive raises anything
        raise CLIError(
            f"Cannot read --model {str(path)!r} as a skops file: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    missing = [t for t in untrusted if t not in trusted]
    if missing:
        raise CLIError(
            f"--model {str(path)!r} holds {len(missing)} type(s) that skops does "
            f"not trust by default: {', '.join(missing)}. Loading them runs "
            "their code; if you trust them (you wrote the file, or know its "
            f"author), add: --trust {','.join(missing)}"
        )
    try:
        return skops.io.load(path, trusted=untrusted)
    except Exception as exc:  # constructing the objects raises anything
        raise CLIError(
            f"Cannot load --model {str(path)!r} with skops.io.load: "
            f"{type(exc).__name__}: {exc}"
        ) from exc


def _load_pickle(path, allowed, trusted):
    if trusted:
        raise CLIError(
            f"--trust applies to skops files; --model {str(path)!r} is not one."
        )
    if not allowed:
        raise CLIError(
            f"--model {str(path)!r} is not a skops file, so it is read as a pickle "
            "(joblib.dump and pickle write those), and loading a pickle can execute "
            "arbitrary code: it is refused without --allow-pickle. Save the model "
            'with skops.io.dump(model, "model.skops") instead, or pass '
            "--allow-pickle if you trust the file."
        )
    import joblib

    print(_PICKLE_WARNING.replace("\n", " "), file=sys.stderr)
    try:
        return joblib.load(path)
    except Exception as exc:  # unpickling raises anything
        raise CLIError(
            f"Cannot load --model {str(path)!r} with joblib.load: "
            f"{type(exc).__name__}: {exc}"
        ) from exc


def _check_attacks(args):
    """The attacks to run and their references, or a precise refusal."""
    attacks = getattr(args, "attack", None)
    if attacks is not None:
        attacks = list(dict.fromkeys(attacks))  # once each, in the order given
    n_references = getattr(args, "n_references", None)
    if n_references is not None:
        needed = {a: min_references(a) for a in attacks or MEMBERSHIP_ATTACKS}
        short = {a: n for a, n in needed.items() if n > n_references}
        if short:
            raise CLIError(
                f"--n-references {n_references} is too few for "
                + ", ".join(f"{a} (needs {n})" for a, n in short.items())
                + "."
            )
    return attacks, n_references


def _typed_command(argv):
    """The command line as the user typed it (``argv`` when called from code)."""
    if argv is not None:
        return shlex.join(["skprivacy", *argv])
    program = Path(sys.argv[0])
    if program.name == "__main__.py":
        words = [Path(sys.executable).name, "-m", "skprivacy"]
    else:
        words = [program.name]
    return shlex.join([*words, *sys.argv[1:]])


def _write_split(demo, folder):
    """``split.csv``: the role of every data row the audit used."""
    import pandas as pd

    roles = {}
    for role in ("member", "non-member", "population"):
        roles.update(dict.fromkeys(demo.split[role].tolist(), role))
    test = set(demo.split["test"].tolist())
    rows = sorted(set(roles) | test)
    frame = pd.DataFrame(
        {
            "row": rows,
            "role": [roles.get(r, "held out") for r in rows],
            "test": [int(r in test) for r in rows],
        }
    )
    path = folder / "split.csv"
    frame.to_csv(path, index=False)
    return path


def _write_per_record(results, folder):
    """``per_record.csv``: the per-record tables of every release, stacked."""
    import pandas as pd

    frames = [
        pd.DataFrame(table["rows"], columns=table["columns"]).assign(release=name)
        for name, table in results["per_record"].items()
    ]
    path = folder / "per_record.csv"
    frame = pd.concat(frames, ignore_index=True)
    frame.insert(0, "release", frame.pop("release"))
    frame.to_csv(path, index=False)
    return path


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


def _run(args, command):
    from skprivacy._cli._data import load_dataset
    from skprivacy._cli._demo import Demo
    from skprivacy._cli._report import format_text, write_report

    if importlib.util.find_spec("matplotlib") is None:
        raise CLIError(
            "The report's plots need matplotlib: pip install 'skprivacy[plot]'."
        )
    start = time.perf_counter()
    attacks, n_references = _check_attacks(args)
    model = _load_model(args)
    bunch = load_dataset(
        args.dataset,
        target=args.target,
        sensitive=getattr(args, "sensitive", None),
        require_sensitive=args.command == "demo",
        member_column=getattr(args, "member_column", None),
        population_column=getattr(args, "population_column", None),
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
        attacks=attacks,
        n_references=n_references,
    )
    stages = ("audit", "smooth") if args.command == "demo" else ("audit",)
    with _thread_limits(args.threads):
        results = demo.run(stages)
    meta = {
        "command": command,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seed": args.seed,
        "quick": args.quick,
        "threads": args.threads,
        "wall_seconds": time.perf_counter() - start,
        "stage_seconds": {k: round(v, 2) for k, v in demo.timings.items()},
    }
    files = write_report(results, demo.artifacts, args.output, meta)
    files += [_write_split(demo, args.output), _write_per_record(results, args.output)]
    print(format_text(results, meta))
    print(f"\nWrote {len(files)} files to {args.output.resolve()}:")
    for path in files:
        print(f"  {path.name}")
    print(f"Open {(args.output / 'report.html').resolve()} in a browser.")
    print(f"Total time: {time.perf_counter() - start:.0f} s")
    return 0
