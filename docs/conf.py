"""Sphinx configuration for the skprivacy documentation."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import inspect
import os
from importlib import import_module
from pathlib import Path

import skprivacy

project = "skprivacy"
author = "The skprivacy developers"
copyright = "2026, The skprivacy developers"
version = release = skprivacy.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "sphinx_copybutton",
]

# The user guide's examples are doctests (tests/test_docs_code.py runs them);
# the copy button copies their code without prompts or output.
copybutton_prompt_text = r">>> |\.\.\. "
copybutton_prompt_is_regexp = True

templates_path = ["_templates"]
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py"]
html_theme = "pydata_sphinx_theme"
html_title = "skprivacy"
html_theme_options = {"show_toc_level": 2}

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# Intersphinx reaches the network; CI builds offline, so it is on only when asked
# for (SKPRIVACY_DOCS_INTERSPHINX=1), e.g. for a published build.
intersphinx_mapping = {}
if os.environ.get("SKPRIVACY_DOCS_INTERSPHINX") == "1":
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "sklearn": ("https://scikit-learn.org/stable", None),
        "skorch": ("https://skorch.readthedocs.io/en/stable", None),
        "torch": ("https://docs.pytorch.org/docs/stable", None),
    }

sphinx_gallery_conf = {
    "examples_dirs": ["../examples"],
    "gallery_dirs": ["auto_examples"],
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "matplotlib_animations": False,
    "backreferences_dir": "generated/backreferences",
    "doc_module": ("skprivacy",),
}

# -- API reference, generated from the public modules ------------------------
# Every public subpackage lists its API in ``__all__``; the reference page is
# written from those lists at build time so it can never fall behind the code.

_API_PACKAGES = ["skprivacy", "skprivacy.defense", "skprivacy.certify"]
_API_PACKAGES += ["skprivacy.audit", "skprivacy.datasets", "skprivacy.utils"]
_API_PACKAGES += ["skprivacy.exceptions"]


# skprivacy.audit is one namespace over a root engine and its wings
# (docs/contributing.rst, Architecture); its reference follows that layout.
_AUDIT_GROUPS = {
    "_attacks": "Membership attacks",
    None: "Membership inference: auditor, metrics, reports",
    "_epsilon": "Lower bounds on epsilon",
    "_canaries": "Canaries (shared by DP auditing and defense selection)",
    "_dp": "Auditing differential privacy",
    "_inversion": "Attribute inference and model inversion",
    "_selection": "Choosing a defense",
}


def _grouped(package, objects):
    """``[(heading, objects)]``: one group, unnamed, except for ``audit``."""
    if package != "skprivacy.audit":
        return [(None, objects)]
    groups = {heading: [] for heading in _AUDIT_GROUPS.values()}
    for name, obj in objects:
        part = obj.__module__.split(".")[2]
        groups[_AUDIT_GROUPS.get(part, _AUDIT_GROUPS[None])].append((name, obj))
    return [(heading, members) for heading, members in groups.items() if members]


def _write_api_page(srcdir):
    lines = [
        "API reference",
        "=============",
        "",
        "Generated from the ``__all__`` of each public module.",
        "",
    ]
    documented = set()
    for package in _API_PACKAGES:
        try:
            module = import_module(package)
        except ImportError:
            continue
        names = [
            name for name in getattr(module, "__all__", []) if not name.startswith("__")
        ]
        objects = [(name, getattr(module, name)) for name in names]
        objects = [(n, o) for n, o in objects if id(o) not in documented]
        if not objects:
            continue
        title = f":mod:`{package}`"
        lines += [title, "-" * len(title), ""]
        doc = inspect.getdoc(module) or ""
        lines += [doc.splitlines()[0] if doc else "", ""]
        lines += [f".. currentmodule:: {package}", ""]
        for group, members in _grouped(package, objects):
            if group:
                lines += [group, "~" * len(group), ""]
            lines += [".. autosummary::", "   :toctree: generated/"]
            lines += ["   :template: object.rst", ""]
            for name, obj in members:
                documented.add(id(obj))
                lines.append(f"   {name}")
            lines.append("")
    Path(srcdir, "api.rst").write_text("\n".join(lines), encoding="utf-8")


def _skip_metadata_request_methods(app, what, name, obj, skip, options):
    # sklearn generates set_*_request methods on every estimator; they are
    # documented by sklearn's metadata-routing guide, not here.
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_metadata_request_methods)


# Written when this file is read, before autosummary generates the stub pages.
_write_api_page(Path(__file__).parent)
