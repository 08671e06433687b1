"""The ``test`` extra installs everything the test suite imports.

``pip install -e ".[test]"`` is the README's setup for running the tests: a
package the tests import (or ``importorskip``) but neither the core
dependencies nor the ``test`` extra name would make a fresh checkout fail at
collection, or silently skip tests. This reads the imports of every test
module and doctest and maps each third-party one to the distribution that
provides it.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import ast
import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the test extra installs tomli
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]
_DOCTEST_IMPORT = re.compile(r"^\s*>>> (?:import|from) ([A-Za-z_]\w*)", re.MULTILINE)


def _normalize(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_names(requirements):
    """Distribution names of requirement strings, with the extras they ask for."""
    names = {}
    for requirement in requirements:
        match = re.match(r"\s*([A-Za-z0-9._-]+)\s*(?:\[([^\]]*)\])?", requirement)
        extras = match.group(2) or ""
        names[_normalize(match.group(1))] = {
            e.strip() for e in extras.split(",") if e.strip()
        }
    return names


def _with_extras(names):
    """Add the distributions that requested extras pull in (e.g. dask[distributed])."""
    allowed = set(names)
    for name, extras in names.items():
        if not extras:
            continue
        for requirement in importlib.metadata.requires(name) or []:
            marker = re.search(r"""extra\s*==\s*["']([^"']+)["']""", requirement)
            if marker and marker.group(1) in extras:
                allowed |= set(_requirement_names([requirement.split(";")[0]]))
    return allowed


def _imported_modules(path):
    """Top-level modules a test file imports, anywhere in it, or importorskips.

    Imports in an ``except`` clause are fallbacks for other Python versions.
    """
    tree = ast.parse(path.read_text("utf-8"))
    fallbacks = {
        id(child)
        for handler in ast.walk(tree)
        if isinstance(handler, ast.ExceptHandler)
        for child in ast.walk(handler)
    }
    modules = set()
    for node in ast.walk(tree):
        if id(node) in fallbacks:
            continue
        if isinstance(node, ast.Import):
            modules |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module.split(".")[0])
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", None) == "importorskip"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            modules.add(node.args[0].value.split(".")[0])
    return modules


def _third_party_imports():
    """``{top-level module: [files importing it]}`` for tests and doctests."""
    local = {"skprivacy", "tests", "conftest"}
    local |= {p.stem for p in (REPO / "tests").rglob("*.py")}
    found = {}
    for path in sorted((REPO / "tests").rglob("*.py")):
        for module in _imported_modules(path):
            found.setdefault(module, []).append(path)
    for path in sorted((REPO / "skprivacy").rglob("*.py")):
        for module in _DOCTEST_IMPORT.findall(path.read_text("utf-8")):
            found.setdefault(module, []).append(path)
    return {
        module: paths
        for module, paths in found.items()
        if module not in local and module not in sys.stdlib_module_names
    }


def test_test_extra_covers_every_test_import():
    project = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]
    allowed = _with_extras(
        _requirement_names(
            project["dependencies"] + project["optional-dependencies"]["test"]
        )
    )
    providers = importlib.metadata.packages_distributions()
    missing = {}
    for module, paths in _third_party_imports().items():
        distributions = {_normalize(d) for d in providers.get(module, [])}
        if not distributions:
            pytest.fail(
                f"{module!r} (imported by {paths[0].relative_to(REPO)}) is not "
                "installed, so its distribution cannot be checked: install the test "
                "extra."
            )
        if not distributions & allowed:
            missing[module] = (sorted(distributions), paths[0].relative_to(REPO))
    assert not missing, (
        "Add these distributions to the 'test' extra of pyproject.toml (module: "
        f"(distributions, first importer)): {missing}"
    )


def test_the_check_sees_imports_and_importorskip(tmp_path):
    # The scan must catch what a missing numpydoc broke: a module-level
    # import; and what silently skipped tests: importorskip.
    path = tmp_path / "test_x.py"
    path.write_text(
        "import numpydoc.validate\n"
        "from os import path\n"
        "try:\n"
        "    import tomllib\n"
        "except ModuleNotFoundError:\n"
        "    import tomli as tomllib\n"
        "def test():\n"
        "    dd = pytest.importorskip('dask.distributed')\n"
        "    from . import sibling\n"
    )
    assert _imported_modules(path) == {"numpydoc", "os", "tomllib", "dask"}
    assert _requirement_names(["dask[distributed]>=2024.1", "tomli>=2; x"]) == {
        "dask": {"distributed"},
        "tomli": set(),
    }


def test_ci_runs_the_readme_test_command():
    # .ci/run reads the command from README.md; it must find the test setup.
    run = subprocess.run(
        ["bash", str(REPO / ".ci" / "run"), "--print-command"],
        capture_output=True,
        text=True,
        check=True,
    )
    command = run.stdout.strip()
    assert command.startswith("python3 -m venv .venv && ")
    assert 'pip install -e ".[test]"' in command
    assert command.endswith("python -m pytest -n 2")
    assert command in (REPO / "README.md").read_text("utf-8")
