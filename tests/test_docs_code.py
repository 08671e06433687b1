"""Every Python code block of the README and of the documentation runs as shown.

The blocks of one file run in order, in one namespace, from a temporary working
directory, so a page may define its data in a block and use it in the next.
Two forms of block are run:

* a doctest block (a ```pycon fence, ``.. code-block:: pycon`` or a bare
  ``>>>`` paragraph in reStructuredText): each example's output must match the
  text under it, as in doctest, with ``ELLIPSIS`` and ``NORMALIZE_WHITESPACE``;
* a Python block (a ```python fence or ``.. code-block:: python``): what it
  prints must match the ``text`` block that follows it with nothing but blank
  lines between (same rules), or be empty if no such block follows.

A warning of skprivacy or scikit-learn raised by a block fails the test too:
the documents show none. A literal block with no language (rST ``::``, a bare
Markdown fence) that parses as Python fails :func:`test_python_blocks_declare_it`,
so that no Python block escapes these tests by being left unmarked.
"""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import ast
import contextlib
import doctest
import io
import re
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.rst")),
    *sorted((ROOT / "docs" / "user_guide").glob("*.rst")),
]
PYTHON = {"python", "python3", "py"}
DOCTEST = {"pycon"}
OUTPUT = {"text"}
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


@dataclass
class Block:
    language: str | None  # None: a literal block that names no language
    line: int  # 1-based line of the block's first line of code
    end: int  # 1-based line of its last line
    code: str


def _markdown_blocks(text):
    blocks, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        fence = re.match(r"^(`{3,})\s*([\w-]*)\s*$", lines[i])
        if fence is None:
            i += 1
            continue
        j = i + 1
        while j < len(lines) and lines[j].strip() != fence.group(1):
            j += 1
        code = "\n".join(lines[i + 1 : j]) + "\n"
        blocks.append(Block(fence.group(2).lower() or None, i + 2, j + 1, code))
        i = j + 1
    return blocks


def _rst_blocks(text):
    blocks, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        line = lines[i]
        indent = len(line) - len(line.lstrip())
        directive = re.match(r"^\s*\.\. (?:code-block|code|sourcecode)::\s*(\S*)", line)
        literal = line.rstrip().endswith("::") and not line.lstrip().startswith("..")
        if directive or literal:
            # The block: the lines indented deeper than its opening line,
            # after the directive's options (":caption: ...").
            body = []
            i += 1
            while i < len(lines) and (
                not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent
            ):
                body.append(i)
                i += 1
            option = directive is not None
            while body and (
                not lines[body[0]].strip() or (option and _is_option(lines[body[0]]))
            ):
                body.pop(0)
            while body and not lines[body[-1]].strip():
                body.pop()
            if body:
                language = (directive.group(1).lower() or None) if directive else None
                code = _dedent("\n".join(lines[k] for k in body))
                blocks.append(Block(language, body[0] + 1, body[-1] + 1, code))
        elif line.lstrip().startswith(">>>") and (i == 0 or not lines[i - 1].strip()):
            j = i
            while j < len(lines) and lines[j].strip():
                j += 1
            blocks.append(Block("pycon", i + 1, j, _dedent("\n".join(lines[i:j]))))
            i = j
        else:
            i += 1
    return blocks


def _is_option(line):
    return line.lstrip().startswith(":")


def _dedent(code):
    lines = code.splitlines()
    depth = min((len(s) - len(s.lstrip()) for s in lines if s.strip()), default=0)
    return "\n".join(s[depth:] for s in lines) + "\n"


def _blocks(path):
    text = path.read_text(encoding="utf-8")
    return _markdown_blocks(text) if path.suffix == ".md" else _rst_blocks(text)


def _runnable(path):
    """The file's Python blocks, each with the output block that follows it."""
    blocks, lines = _blocks(path), path.read_text(encoding="utf-8").splitlines()
    runnable = []
    for k, block in enumerate(blocks):
        if block.language not in PYTHON | DOCTEST:
            continue
        shown = None
        if block.language in PYTHON and k + 1 < len(blocks):
            after = blocks[k + 1]
            # Between the two blocks: blank lines, the closing fence of this
            # one, the opening line of the next.
            between = lines[block.end : after.line - 2]
            if after.language in OUTPUT and all(
                not s.strip() or s.strip().startswith(("```", ".. code-block::"))
                for s in between
            ):
                shown = after.code
        runnable.append((block, shown))
    return runnable


DOCUMENTS_WITH_CODE = [p for p in DOCUMENTS if _runnable(p)]


def _where(path, number, block):
    return f"{path.relative_to(ROOT)}, Python block {number} (line {block.line})"


def _run_block(path, number, block, shown, namespace):
    """Run one block in ``namespace``; the failure's description, or None."""
    where = _where(path, number, block)
    checker = doctest.OutputChecker()
    if block.language in DOCTEST:
        test = doctest.DocTestParser().get_doctest(
            block.code, namespace, where, str(path), block.line - 1
        )
        report = io.StringIO()
        runner = doctest.DocTestRunner(checker, optionflags=FLAGS | doctest.FAIL_FAST)
        runner.run(test, out=report.write, clear_globs=False)
        namespace.update(test.globs)  # DocTest ran on a copy of the namespace
        if runner.failures:
            return f"{where} does not run as shown:\n{report.getvalue()}"
        return None
    printed = io.StringIO()
    try:
        code = compile(block.code, f"{path.name}:{block.line}", "exec")
        with contextlib.redirect_stdout(printed):
            exec(code, namespace)
    except Exception:
        return f"{where} raised:\n{traceback.format_exc()}"
    want = shown or ""
    if not checker.check_output(want, printed.getvalue(), FLAGS):
        example = doctest.Example(block.code, want)
        difference = checker.output_difference(example, printed.getvalue(), FLAGS)
        return f"{where} prints something else than the output shown:\n{difference}"
    return None


def _own_warnings(caught):
    """Warnings of skprivacy or scikit-learn, which the documents never show."""
    return [
        w
        for w in caught
        if type(w.message).__module__.startswith(("skprivacy", "sklearn"))
        or str(w.filename).startswith(str(ROOT / "skprivacy"))
    ]


@pytest.fixture
def clean_state(tmp_path, monkeypatch):
    """Run in a scratch directory; leave torch's threads and figures as found."""
    monkeypatch.chdir(tmp_path)
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)
    plt.close("all")


@pytest.mark.parametrize(
    "path",
    DOCUMENTS_WITH_CODE,
    ids=[str(p.relative_to(ROOT)) for p in DOCUMENTS_WITH_CODE],
)
def test_code_runs_as_shown(path, clean_state):
    namespace = {"__name__": "__main__"}
    for number, (block, shown) in enumerate(_runnable(path), start=1):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            failure = _run_block(path, number, block, shown, namespace)
        if failure is not None:
            pytest.fail(failure, pytrace=False)
        if own := _own_warnings(caught):
            shown_warnings = "\n".join(
                f"  {type(w.message).__name__}: {w.message}" for w in own
            )
            where = _where(path, number, block)
            pytest.fail(f"{where} warns:\n{shown_warnings}", pytrace=False)


def test_python_blocks_declare_it():
    # A literal block without a language is highlighted as Python by Sphinx
    # but would escape test_code_runs_as_shown.
    unmarked = []
    for path in DOCUMENTS:
        for block in _blocks(path):
            if block.language is not None:
                continue
            code = re.sub(r"(?m)^(>>>|\.\.\.) ?", "", block.code)
            with contextlib.suppress(SyntaxError):
                ast.parse(code)
                unmarked.append(f"{path.relative_to(ROOT)}, line {block.line}")
    assert not unmarked, (
        "Python code in a literal block that names no language; mark it "
        "'python' or 'pycon' (so that it is run) or 'text':\n" + "\n".join(unmarked)
    )


def test_blocks_are_found():
    # The parsers see the README's examples and their printed output, and the
    # user guide's doctests: a change of format cannot empty the tests above.
    readme = _runnable(ROOT / "README.md")
    assert len(readme) >= 4 and all(shown for _, shown in readme)
    assert (ROOT / "docs" / "user_guide" / "audit.rst") in DOCUMENTS_WITH_CODE
