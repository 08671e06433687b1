"""The one HTML page builder of every report, audit's and the command line's."""

# Authors: The skprivacy developers
# SPDX-License-Identifier: BSD-3-Clause

import html

# One stylesheet, so that every report skprivacy writes reads alike.
_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em;
       color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
table { font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: right; }
td, tbody th { white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
th { background: #f0f0f0; }
img { max-width: 100%; }
.figures { display: flex; flex-wrap: wrap; gap: 1em; }
.figures figure { margin: 0; flex: 1 1 26em; }
.verdict { background: #fff8e1; border-left: 4px solid #f0a000;
           padding: 0.2em 1em; }
dl.glossary dt { font-weight: bold; margin-top: 0.5em; }
dl.glossary dd { margin-left: 1.5em; }
code, pre { background: #f6f6f6; }
"""


def html_page(title, body, path=None):
    """A self-contained HTML page around ``body``, also written to ``path``.

    Parameters
    ----------
    title : str
        The page title, escaped here.
    body : str
        HTML of the page's body.
    path : str or path-like, default=None
        Also write the page there.

    Returns
    -------
    page : str
    """
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>{_STYLE}</style></head><body>
{body}
</body></html>
"""
    if path is not None:
        with open(path, "w", encoding="utf-8") as f:
            f.write(page)
    return page
