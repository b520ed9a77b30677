"""The documentation site builds with warnings as errors, and its key pages say what they should."""

from __future__ import annotations

import html
import inspect
import re
from pathlib import Path

import pytest

import autograd

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def page_text(path: Path) -> str:
    """The visible text of an HTML page, tags dropped and whitespace collapsed."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", path.read_text(encoding="utf-8"), flags=re.DOTALL)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


@pytest.fixture
def site(docs_site: Path) -> Path:
    """The built site (tests/conftest.py builds it once, for these tests and the live site's)."""
    return docs_site


def test_key_pages_exist(site: Path):
    for page in ["index", "getting-started", "guide/autograd", "guide/testing", "guide/nn", "guide/viz",
                 "api/autograd", "api/testing", "api/nn", "api/viz", "api/rules", "notebooks", "about"]:
        assert (site / f"{page}.html").is_file(), page
    assert "Getting started" in page_text(site / "index.html")


def test_guides_include_the_readme_sections(site: Path):
    assert "Derivatives as functions" in page_text(site / "guide/autograd.html")
    assert "Forward mode" in page_text(site / "guide/autograd.html")
    assert "check_gradients" in page_text(site / "guide/testing.html")
    assert "make_moons" in page_text(site / "guide/nn.html")
    assert "draw_graph" in page_text(site / "guide/viz.html")


def test_api_page_shows_the_docstrings(site: Path):
    squeezed = "".join(page_text(site / "api/autograd.html").split())  # tags split words from punctuation
    for function in [autograd.grad, autograd.jvp, autograd.Value.backward]:
        first_line = (inspect.getdoc(function) or "").splitlines()[0].replace("``", "")
        assert "".join(first_line.split()) in squeezed, first_line
    assert "gradcheck" in page_text(site / "api/testing.html")


def test_notebooks_are_rendered_with_outputs_and_pictures(site: Path):
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks
    for notebook in notebooks:
        assert (site / "notebooks" / f"{notebook.stem}.html").is_file(), notebook.name
    page = (site / "notebooks/01_chain_rule.html").read_text(encoding="utf-8")
    images = re.findall(r'<img[^>]+src="([^"]+)"', page)
    assert images, "the chain-rule notebook shows no picture"
    assert all((site / "notebooks" / src).resolve().is_file() for src in images if "://" not in src)
    assert 'class="cell_output' in page
    assert "Traceback" not in page_text(site / "notebooks/01_chain_rule.html")
    # conf.py sets CHAINRULE_NO_MNIST: the build trains notebook 8 on the 8x8 digits, not on 60,000 images
    assert "using the 8x8 digits" in page_text(site / "notebooks/08_fashion_mnist.html")


def test_pages_load_nothing_from_other_servers(site: Path):
    for page in ["index", "getting-started", "api/autograd", "notebooks/01_chain_rule"]:
        source = (site / f"{page}.html").read_text(encoding="utf-8")
        remote = re.findall(r'<(?:script|link|img)\b[^>]*(?:src|href)="(?:https?:)?//[^"]*"', source)
        assert not remote, f"{page}: {remote}"
    assert (site / "_static/mathjax/tex-chtml.js").is_file()


def test_getting_started_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    blocks = re.findall(r"```python\n(.*?)```", (DOCS / "getting-started.md").read_text(encoding="utf-8"), re.DOTALL)
    assert len(blocks) >= 4
    monkeypatch.chdir(tmp_path)  # the examples write their pictures into the current folder
    for block in blocks:
        exec(compile(block, "getting-started.md", "exec"), {"__name__": "__docs__"})
    assert (tmp_path / "sigmoid.svg").is_file()


def test_the_api_page_lists_every_public_name_once_grouped_with_value_first():
    source = (DOCS / "api" / "autograd.md").read_text(encoding="utf-8")
    listed = re.findall(r"\.\. auto(?:class|function|exception):: autograd\.(\w+)", source)
    checks = {"GradientCheckError", "GradientChecker", "GradientReport", "assert_gradients_close", "check_gradients",
              "check_op", "check_parameters", "gradcheck"}  # on the testing page  # fmt: skip
    assert sorted(listed) == sorted(set(autograd.__all__) - checks), set(autograd.__all__) ^ set(listed)
    assert listed[:3] == ["Value", "backprop", "gradients"] and listed.index("grad") < listed.index("compile")
