"""Diagrams under Pyodide: viz.render and the notebook display go through viz.js (viz/browser.py).

The unit tests run in CPython with Pyodide faked: ``sys.platform`` set to "emscripten" and a ``js``
module whose ``globalThis.chainruleViz`` stands in for the viz.js instance (it lays the graph out with
the desktop renderer, so the SVG is real). The end-to-end test runs the real thing: Pyodide under Node
with @viz-js/viz, both from npm (pinned, installed once into a cache), runs the sigmoid example from
this checkout and renders its diagram; it skips where Node, npm or the packages cannot be had.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import types
from collections import Counter
from pathlib import Path
from typing import Any

import graphviz
import pytest

import viz
import viz.browser
import viz.graph
from autograd import Value
from viz.render import FONT, SVG_FONTS, find_renderer

ROOT = Path(__file__).resolve().parent.parent
NPM_PACKAGES = ("pyodide@0.29.0", "@viz-js/viz@3.31.0")


class FakeVizJs:
    """Stands in for a viz.js instance: ``render(source, options)`` returns viz.js's result object."""

    def __init__(self, fail: str | None = None) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.fail = fail

    def render(self, source: str, options: Any) -> types.SimpleNamespace:
        self.calls.append((source, options))
        if self.fail is not None:
            error = types.SimpleNamespace(level="error", message=self.fail)
            return types.SimpleNamespace(status="failure", output=None, errors=[error])
        program = find_renderer("svg")
        assert program is not None
        done = subprocess.run([str(program), "-Tsvg"], input=source.encode(), capture_output=True, check=True)
        return types.SimpleNamespace(status="success", output=done.stdout.decode(), errors=[])


@pytest.fixture
def pyodide(monkeypatch: pytest.MonkeyPatch) -> types.SimpleNamespace:
    """Pyodide faked: the platform says emscripten and ``js`` is a module with an empty ``globalThis``."""
    monkeypatch.setattr(sys, "platform", "emscripten")
    js = types.ModuleType("js")
    js.globalThis = types.SimpleNamespace()  # type: ignore[attr-defined]
    js.JSON = types.SimpleNamespace(parse=json.loads)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "js", js)
    return js.globalThis  # type: ignore[no-any-return]


def sigmoid() -> Value:
    x = Value(0.0, label="x")
    a = -x
    a.label = "A"
    b = a.exp()
    b.label = "B"
    c = b + 1
    c.label = "C"
    f = 1 / c
    f.label = "F"
    f.backward()
    return f


def test_in_browser_reads_the_platform(pyodide):
    assert viz.browser.in_browser()


def test_render_under_pyodide_goes_through_viz_js_with_the_same_dot(pyodide):
    pyodide.chainruleViz = FakeVizJs()
    source = viz.draw_graph(sigmoid()).source
    svg = viz.render(source, "svg")
    assert pyodide.chainruleViz.calls[-1][0] == source  # (draw_graph may have probed the renderer before)
    assert pyodide.chainruleViz.calls[-1][1] == {"format": "svg", "engine": "dot"}  # a plain JS object, not a Map
    assert f'font-family="{SVG_FONTS}"'.encode() in svg  # the same font fallbacks as on the desktop
    assert f'font-family="{FONT}"'.encode() not in svg
    assert viz.render(source, "dot") == source.encode()  # DOT needs no renderer


def test_notebook_display_under_pyodide_is_viz_js_svg(pyodide):
    pyodide.chainruleViz = FakeVizJs()
    diagram = viz.draw_graph(sigmoid())
    bundle = diagram._repr_mimebundle_()
    assert list(bundle) == ["image/svg+xml"]
    assert "<svg" in bundle["image/svg+xml"]
    assert ">grad &#45;0.2500<" in bundle["image/svg+xml"] or ">grad -0.2500<" in bundle["image/svg+xml"]
    assert diagram.source in [call[0] for call in pyodide.chainruleViz.calls]


def test_not_loaded_says_how_to_load(pyodide):
    with pytest.raises(viz.RenderError, match=r"render_svg: viz\.js is not loaded .*chainruleViz.*load_viz"):
        viz.render("digraph { a -> b }")
    pyodide.chainruleViz = types.SimpleNamespace()  # something else under the name: no render method
    with pytest.raises(viz.RenderError, match="not loaded"):
        viz.render("digraph { a -> b }")


def test_without_a_js_module(monkeypatch):
    monkeypatch.setattr(sys, "platform", "emscripten")
    monkeypatch.setitem(sys.modules, "js", None)  # import js raises ImportError
    with pytest.raises(viz.RenderError, match="render_svg: no JavaScript runtime here"):
        viz.render("digraph { a -> b }")


def test_viz_js_errors_are_reported(pyodide):
    pyodide.chainruleViz = FakeVizJs(fail="syntax error in line 1 near '->'")
    with pytest.raises(viz.RenderError, match=r"viz\.js could not render the graph: syntax error in line 1"):
        viz.render("digraph { -> }")


@pytest.mark.parametrize("fmt", ["png", "pdf"])
def test_only_svg_in_the_browser(pyodide, fmt):
    pyodide.chainruleViz = FakeVizJs()
    with pytest.raises(viz.RenderError, match=f"render: {fmt} needs the desktop renderers"):
        viz.render("digraph { a -> b }", fmt)
    assert pyodide.chainruleViz.calls == []


def test_render_svg_wants_text(pyodide):
    with pytest.raises(TypeError, match="render_svg: source must be DOT text"):
        viz.browser.render_svg(b"digraph {}")  # type: ignore[arg-type]


def test_stacking_is_probed_through_viz_js(pyodide):
    pyodide.chainruleViz = FakeVizJs()
    viz.graph._probe.cache_clear()
    try:
        upwards = viz.graph._stacked_upwards()
        assert any("cluster_0" in call[0] for call in pyodide.chainruleViz.calls)
        assert upwards == viz.graph._probe(str(find_renderer("svg")))  # the fake lays out with that renderer
    finally:
        viz.graph._probe.cache_clear()


def fake_run_js(monkeypatch: pytest.MonkeyPatch, outcome: Any) -> list[str]:
    """A ``pyodide.code`` module whose run_js records the code and returns an awaitable of ``outcome``."""
    seen: list[str] = []

    async def settle() -> Any:
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def run_js(code: str) -> Any:
        seen.append(code)
        return settle()

    package = types.ModuleType("pyodide")
    code_module = types.ModuleType("pyodide.code")
    code_module.run_js = run_js  # type: ignore[attr-defined]
    package.code = code_module  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pyodide", package)
    monkeypatch.setitem(sys.modules, "pyodide.code", code_module)
    return seen


def test_load_viz_imports_the_module_and_sets_the_global(pyodide, monkeypatch):
    seen = fake_run_js(monkeypatch, "16.1.0")
    url = "https://example.org/viz's.js"
    assert asyncio.run(viz.browser.load_viz(url)) == "16.1.0"
    assert json.dumps(url) in seen[0]  # quoted as a JS string, whatever it holds
    assert "globalThis.chainruleViz = instance" in seen[0]


def test_load_viz_failure_names_the_url(pyodide, monkeypatch):
    fake_run_js(monkeypatch, RuntimeError("Failed to fetch dynamically imported module"))
    with pytest.raises(viz.browser.VizJsError, match=r"load_viz: cannot load viz\.js from 'viz\.js': Failed to fetch"):
        asyncio.run(viz.browser.load_viz("viz.js"))


def test_load_viz_outside_pyodide_and_bad_urls():
    with pytest.raises(viz.browser.VizJsError, match=r"load_viz: viz\.js is loaded only under Pyodide"):
        asyncio.run(viz.browser.load_viz("viz.js"))
    with pytest.raises(TypeError, match="load_viz: url must be a non-empty str"):
        asyncio.run(viz.browser.load_viz(""))


def test_desktop_rendering_is_untouched():
    assert not viz.browser.in_browser()
    svg = viz.render("digraph { a -> b }")
    assert b"<svg" in svg


# --- end to end: Pyodide under Node, with viz.js -------------------------------------------------------------

NODE_SCRIPT = r"""
// node run.mjs <node_modules> <folder of Python packages> <Python file>: run the file under Pyodide with
// the packages importable and viz.js at globalThis.chainruleViz; print what the file's last expression is.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
const [modules, packages, script] = process.argv.slice(2);
const { loadPyodide } = await import(pathToFileURL(join(modules, "pyodide", "pyodide.mjs")).href);
const pyodide = await loadPyodide({ indexURL: join(modules, "pyodide") + "/" });
function copy(from, to) {
  pyodide.FS.mkdirTree(to);
  for (const name of readdirSync(from)) {
    const path = join(from, name);
    if (statSync(path).isDirectory()) { if (name !== "__pycache__") copy(path, to + "/" + name); }
    else pyodide.FS.writeFile(to + "/" + name, readFileSync(path));
  }
}
copy(packages, "/home/pyodide/packages");
const viz = await import(pathToFileURL(join(modules, "@viz-js", "viz", "dist", "viz.js")).href);
globalThis.chainruleViz = await viz.instance();
const code = "import sys\nsys.path.insert(0, '/home/pyodide/packages')\n" + readFileSync(script, "utf8");
process.stdout.write(String(await pyodide.runPythonAsync(code)) + "\n");
"""

SIGMOID_RUN = """
import json
import sys

import viz
from autograd import Value, gradcheck

x = Value(0.0, label="x")
a = -x; a.label = "A"
b = a.exp(); b.label = "B"
c = b + 1; c.label = "C"
f = 1 / c; f.label = "F"
f.backward()
diagram = viz.draw_graph(f, edge_labels=True, rankdir="TB")
json.dumps({
    "platform": sys.platform,
    "numbers": [v.data.hex() for v in (x, a, b, c, f)] + [v.grad.hex() for v in (x, a, b, c, f)],
    "gradcheck": gradcheck(lambda v: 1 / (1 + (-v).exp()), 0.3).passed,
    "source": diagram.source,
    "svg": viz.render(diagram.source).decode(),
    "display": diagram._repr_mimebundle_()["image/svg+xml"],
})
"""


def npm_packages() -> Path:
    """node_modules with the pinned pyodide and @viz-js/viz, installed by npm once into a cache; or skip."""
    cache = Path(os.environ.get("CHAINRULE_NPM_CACHE", Path.home() / ".cache" / "chainrule" / "npm"))
    modules = cache / "node_modules"
    wanted = [modules / "pyodide" / "pyodide.mjs", modules / "@viz-js" / "viz" / "dist" / "viz.js"]
    if not all(path.exists() for path in wanted):
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed (Debian: apt-get install npm); it fetches Pyodide and viz.js once")
        cache.mkdir(parents=True, exist_ok=True)
        try:
            done = subprocess.run(
                [npm, "install", "--prefix", str(cache), "--no-audit", "--no-fund", "--no-save", *NPM_PACKAGES],
                capture_output=True, text=True, timeout=300, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            pytest.skip("npm install of Pyodide and viz.js took more than 300 s (no registry reachable?)")
        if done.returncode != 0 or not all(path.exists() for path in wanted):
            pytest.skip(f"npm could not install {' '.join(NPM_PACKAGES)}: {done.stderr.strip()[-500:]}")
    return modules


def texts(svg: str) -> Counter[str]:
    """The text of every <text> element: the node and edge labels as drawn."""
    return Counter(re.findall(r"<text[^>]*>([^<]*)</text>", svg))


def test_sigmoid_under_pyodide_in_node_renders_through_viz_js(tmp_path):
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node is not installed (Debian: apt-get install nodejs); it runs Pyodide for this test")
    modules = npm_packages()
    packages = tmp_path / "packages"
    ignore = shutil.ignore_patterns("__pycache__")
    for name in ("autograd", "viz"):
        shutil.copytree(ROOT / name, packages / name, ignore=ignore)
    shutil.copytree(Path(graphviz.__file__).parent, packages / "graphviz", ignore=ignore)  # pure Python
    (tmp_path / "run.mjs").write_text(NODE_SCRIPT)
    (tmp_path / "sigmoid.py").write_text(SIGMOID_RUN)
    done = subprocess.run(
        [node, str(tmp_path / "run.mjs"), str(modules), str(packages), str(tmp_path / "sigmoid.py")],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    browser = json.loads(done.stdout.strip().splitlines()[-1])

    exec_globals: dict[str, Any] = {}
    exec(textwrap.dedent(SIGMOID_RUN).replace("json.dumps({", "result = ({"), exec_globals)
    desktop = exec_globals["result"]
    assert browser["platform"] == "emscripten"
    assert browser["numbers"] == desktop["numbers"]  # to the last bit
    assert browser["gradcheck"] is True
    assert sorted(browser["source"].splitlines()) == sorted(desktop["source"].splitlines())  # the same DOT
    assert "Generated by graphviz version" in browser["svg"]
    assert texts(browser["svg"]) == texts(desktop["svg"])  # the same labels as the desktop renderer draws
    assert texts(browser["display"]) == texts(desktop["svg"])
    assert f'font-family="{SVG_FONTS}"' in browser["svg"]
