"""Sphinx configuration for the chainrule documentation.

Build: ``sphinx-build -W --keep-going -b html docs docs/_build/html`` (warnings are errors).
The tutorial notebooks are copied from ``notebooks/`` into ``docs/notebooks/`` (ignored by git)
and executed during the build, so their pages show outputs and pictures. The build sets
``CHAINRULE_NO_MNIST=1`` unless it is already set, so notebook 8 trains on the 8x8 digits in seconds
rather than on Fashion-MNIST for minutes (``CHAINRULE_NO_MNIST=0 sphinx-build ...`` for the full run).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))  # the packages are imported from the source tree, installed or not
sys.path.insert(0, str(DOCS))  # live_site: which notebooks run in a browser, and the "try it" links to them

import live_site  # noqa: E402  (found through the path set just above)


def with_try_it(notebook: Path, relative: Path) -> bytes:
    """``notebook`` with a cell under its title that links to its live copy, or says why it has none."""
    data = json.loads(notebook.read_text(encoding="utf-8"))
    html = live_site.try_it_html(relative.as_posix(), live_site.browser_limits(notebook))
    cell = live_site.new_cell(data, "markdown", [html], "chainrule-try-it")
    live_site.insert_under_title(data, cell)
    return (json.dumps(data, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def copy_notebooks(source: Path = ROOT / "notebooks", target: Path = DOCS / "notebooks") -> None:
    """Mirror the tutorial notebooks into the documentation sources, rewriting only changed files.

    Each copy gets a "try it" cell under its title (:func:`with_try_it`); the notebooks themselves are untouched.
    """
    wanted = {path.relative_to(source) for path in source.glob("**/*.ipynb") if ".ipynb_checkpoints" not in path.parts}
    for relative in sorted(wanted):
        copy = target / relative
        data = with_try_it(source / relative, relative)
        if not copy.exists() or copy.read_bytes() != data:
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_bytes(data)
    for stale in target.glob("**/*.ipynb"):
        if stale.relative_to(target) not in wanted:
            stale.unlink()
    for folder in sorted(target.glob("**/.ipynb_checkpoints"), reverse=True):
        shutil.rmtree(folder)


copy_notebooks()
os.environ.setdefault("CHAINRULE_NO_MNIST", "1")  # read by nn.find_mnist in the notebook kernels
# The kernels run on loopback TCP, which ipykernel calls unencrypted at every start: only errors, please.
_QUIET = Path(tempfile.mkdtemp(prefix="chainrule-ipython-")) / "profile_default"
_QUIET.mkdir()
(_QUIET / "ipython_kernel_config.py").write_text('c.IPKernelApp.log_level = "ERROR"\n', encoding="utf-8")
os.environ["IPYTHONDIR"] = str(_QUIET.parent)

project = "chainrule"
author = "The chainrule maintainers"
project_copyright = "the chainrule maintainers, MIT licence"
release = "0.1.0"

extensions = [
    "myst_nb",  # Markdown pages and executed notebooks; brings myst_parser with it
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
    "sphinx-mathjax-offline",  # MathJax served from the built site, not from a CDN
]

root_doc = "index"
smartquotes = False  # f'' stays f'', not a closing quotation mark
exclude_patterns = ["_build", "images", "**/.ipynb_checkpoints"]
suppress_warnings: list[str] = []

# Markdown
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# Notebooks: executed at build time (they are stored without outputs), in a scratch folder.
nb_execution_mode = "force"
nb_execution_timeout = 300
nb_execution_raise_on_error = True
nb_execution_in_temp = True
nb_merge_streams = True
# No widget JavaScript from a CDN: a slider shows its static fallback, the pages work offline.
nb_ipywidgets_js: dict[str, dict[str, str]] = {}

# API reference
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}

# HTML
html_theme = "furo"
html_title = "chainrule"
html_static_path = ["_static"]
html_css_files = ["wide.css", "live.css"]
# The live cell and the "try it" links; they find the live parts (python docs/live_site.py) or say how to build them.
html_js_files = [("live.js", {"defer": "defer"})]
html_theme_options = {"source_repository": "", "navigation_with_keys": True}


# The docstrings write absolute values as |x|, which reStructuredText would read as a substitution.
_LITERAL = re.compile(r"(``.*?``|`[^`]*`)")


def escape_bars(app: Sphinx, what: str, name: str, obj: Any, options: Any, lines: list[str]) -> None:
    """Show every ``|`` of a docstring as written, except in code and doctests."""
    for i, line in enumerate(lines):
        if line.lstrip().startswith((">>>", "...")):
            continue
        parts = _LITERAL.split(line)
        lines[i] = "".join(part if j % 2 else part.replace("|", "\\|") for j, part in enumerate(parts))


def setup(app: Sphinx) -> None:
    app.connect("autodoc-process-docstring", escape_bars)
