"""The package's layers, read from the imports of its source.

``docs/contributing.rst`` (Architecture) states the rules: each layer imports
only the layers below it (``utils`` < ``datasets`` < {``defense``,
``certify``} < ``audit`` < ``_cli``; ``defense`` and ``certify`` are siblings),
and a layer reaches another's modules only through its public face, ``utils``
aside. What a lower layer must know about a defense is a capability the
estimator declares, so ``audit`` and ``certify`` never import ``defense``.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "skprivacy"

# Layer of each top-level unit; an import must point to a lower layer (or stay
# inside its unit).
LAYERS = {
    "exceptions": 0,
    "utils": 1,
    "datasets": 2,
    "defense": 3,
    "certify": 3,
    "audit": 4,
    "_cli": 5,
    "__main__": 6,
}
# Edges the layers would allow but the design rules out.
FORBIDDEN = {
    ("audit", "defense"): "audit learns what it needs from declared capabilities",
}


def _unit(module):
    """The top-level unit of a dotted ``skprivacy...`` module name."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def _edges():
    """(importing unit, file, imported module) for every skprivacy import."""
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        unit = relative.parts[1]
        if unit == "__init__":  # the top-level face re-exports every layer
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                if name.startswith("skprivacy."):
                    yield unit, str(relative), name


EDGES = list(_edges())


def test_the_scan_sees_the_package():
    units = {unit for unit, _, _ in EDGES}
    assert {"utils", "defense", "certify", "audit", "_cli"} <= units


@pytest.mark.parametrize("unit", sorted(set(LAYERS) - {"__main__"}))
def test_imports_point_down_the_layers(unit):
    upward = [
        f"{path}: {name}"
        for source, path, name in EDGES
        if source == unit
        and _unit(name) != unit
        and LAYERS[_unit(name)] >= LAYERS[unit]
    ]
    assert not upward, f"{unit} imports a layer at or above its own: {upward}"


@pytest.mark.parametrize(("source", "target"), sorted(FORBIDDEN))
def test_forbidden_edges(source, target):
    found = [
        f"{path}: {name}"
        for unit, path, name in EDGES
        if unit == source and _unit(name) == target
    ]
    assert not found, f"{FORBIDDEN[source, target]}; found {found}"


def test_other_layers_are_reached_through_their_public_face():
    # utils is the shared toolbox: its private modules serve every layer.
    private = [
        f"{path}: {name}"
        for unit, path, name in EDGES
        if _unit(name) not in (unit, "utils")
        and unit != "__main__"
        and any(part.startswith("_") for part in name.split(".")[2:])
    ]
    assert not private, private


AUDIT = PACKAGE / "audit"


def _folder(module):
    """The folder of ``audit`` that holds a dotted ``skprivacy.audit...`` module."""
    path = PACKAGE.parent.joinpath(*module.split("."))
    return path if path.is_dir() else path.parent


def test_audit_folders_share_no_private_name():
    # Inside audit, the root engine and each wing (_dp, _inversion, _selection,
    # _attacks) are folders; a name another folder needs is public in its
    # private module, so that what each folder offers the others is visible.
    crossing = []
    for path in sorted(AUDIT.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not (
                isinstance(node, ast.ImportFrom)
                and node.level == 0
                and node.module.startswith("skprivacy.audit")
            ):
                continue
            if _folder(node.module) == path.parent:
                continue
            crossing += [
                f"{path.relative_to(PACKAGE.parent)}: {node.module}.{alias.name}"
                for alias in node.names
                if alias.name.startswith("_")
            ]
    assert not crossing, crossing


def test_audit_has_its_wings():
    folders = {p.name for p in AUDIT.iterdir() if (p / "__init__.py").exists()}
    assert {"_attacks", "_dp", "_inversion", "_selection"} <= folders
