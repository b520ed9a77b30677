"""Diagrams under Pyodide: viz.render and the notebook display go through viz.js (viz/browser.py).

The unit tests run in CPython with Pyodide faked: ``sys.platform`` set to "emscripten" and a ``js``
module whose ``globalThis.chainruleViz`` stands in for the viz.js instance (it lays the graph out with
the desktop renderer, so the SVG is real). The end-to-end tests run the real thing, with Pyodide and
@viz-js/viz from npm (pinned, installed once into a cache, ``CHAINRULE_NPM_CACHE`` or ~/.cache/chainrule/npm)
and chainrule's wheel built from this checkout: the sigmoid example under Node (numbers to the last bit,
gradcheck, the labels of the SVG viz.js draws), and a page served on 127.0.0.1 in headless Chromium that
shows the diagram (its seconds from cold start printed, a screenshot taken). They skip where Node, npm,
Chromium or the packages cannot be had.
"""

from __future__ import annotations

import asyncio
import functools
import json
import queue
import re
import shutil
import subprocess
import sys
import types
import zipfile
from pathlib import Path
from typing import Any

import graphviz
import pytest

import viz
import viz.browser
import viz.graph
from autograd import Value
from tests.browser import build_wheel, chromium, headless, node, npm_packages, served, texts
from tests.test_viz import sigmoid_graph
from viz.render import FONT, SVG_FONTS, find_renderer


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
        command = [str(desktop_renderer()), "-Tsvg"]
        done = subprocess.run(command, input=source.encode(), capture_output=True, check=True)
        return types.SimpleNamespace(status="success", output=done.stdout.decode(), errors=[])


@functools.cache
def desktop_renderer() -> Path:
    """The desktop renderer, found before the platform is faked (sysconfig cannot read an emscripten platform)."""
    program = find_renderer("svg")
    assert program is not None
    return program


@pytest.fixture
def pyodide(monkeypatch: pytest.MonkeyPatch) -> types.SimpleNamespace:
    """Pyodide faked: the platform says emscripten and ``js`` is a module with an empty ``globalThis``."""
    desktop_renderer()
    monkeypatch.setattr(sys, "platform", "emscripten")
    js = types.ModuleType("js")
    js.globalThis = types.SimpleNamespace()  # type: ignore[attr-defined]
    js.JSON = types.SimpleNamespace(parse=json.loads)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "js", js)
    return js.globalThis  # type: ignore[no-any-return]


def sigmoid() -> Value:
    """The tutorial's sigmoid graph (tests/test_viz.py), backpropagated."""
    _, f = sigmoid_graph()
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


def test_backward_frames_under_pyodide_are_viz_js_svg(pyodide, tmp_path):
    pyodide.chainruleViz = FakeVizJs()
    f = sigmoid()
    steps = viz.backward_steps(f)
    frame = viz.draw_step(f, steps, 2)
    assert "<svg" in frame._repr_mimebundle_()["image/svg+xml"]  # what step_slider displays
    written = viz.save_steps(f, tmp_path)
    assert len(written) == len(steps)
    assert all(path.read_bytes().startswith(b"<?xml") for path in written)
    drawn = [call[0] for call in pyodide.chainruleViz.calls]
    assert frame.source in drawn
    assert all(viz.draw_step(f, steps, i).source in drawn for i in range(len(steps)))
    with pytest.raises(viz.RenderError, match="render: png needs the desktop renderers"):
        viz.save_gif(f, tmp_path / "backward.gif")


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
        assert upwards == viz.graph._probe(str(desktop_renderer()))  # the fake lays out with that renderer
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
// node run.mjs <node_modules> <folder of Python packages> <wheel> <Python file> <page|python>: run the file
// under Pyodide with the wheel installed and the packages importable; print what its last expression is.
// "page": this script sets globalThis.chainruleViz first, as a page would; "python": the file loads viz.js.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
const [modules, packages, wheel, script, loader] = process.argv.slice(2);
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
const sitePackages = pyodide.runPython("import sysconfig; sysconfig.get_path('purelib')");
pyodide.unpackArchive(new Uint8Array(readFileSync(wheel)), "wheel", { extractDir: sitePackages });  // as pip would
if (loader === "page") {
  const viz = await import(pathToFileURL(join(modules, "@viz-js", "viz", "dist", "viz.js")).href);
  globalThis.chainruleViz = await viz.instance();
}
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
result = {
    "platform": sys.platform,
    "numbers": [v.data.hex() for v in (x, a, b, c, f)] + [v.grad.hex() for v in (x, a, b, c, f)],
    "gradcheck": gradcheck(lambda v: 1 / (1 + (-v).exp()), 0.3).passed,
    "source": diagram.source,
    "svg": viz.render(diagram.source).decode(),
    "display": diagram._repr_mimebundle_()["image/svg+xml"],
}
json.dumps(result)
"""


INSTALLED = """
import importlib.metadata
import autograd

result["installed"] = {  # where the wheel put the packages: site-packages, not a copy of the checkout
    "version": importlib.metadata.version("chainrule"),
    "viz": viz.__file__[:len("/lib/python")],
    "autograd": autograd.__file__[:len("/lib/python")],
}
json.dumps(result)
"""


def run_in_node(folder: Path, code: str, loader: str) -> dict[str, Any]:
    """Run ``code`` under Pyodide in Node with chainrule's wheel installed; return the JSON of its last expression.

    ``loader`` "page": viz.js is at globalThis.chainruleViz before the code runs; "python": the code loads it.
    """
    program = node()
    modules = npm_packages()
    wheel = build_wheel(folder)
    packages = folder / "packages"  # the one dependency imported: graphviz, pure Python, from this environment
    shutil.copytree(Path(graphviz.__file__).parent, packages / "graphviz", ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "run.mjs").write_text(NODE_SCRIPT)
    (folder / "code.py").write_text(code.replace("VIZ_JS_URL", (modules / "@viz-js/viz/dist/viz.js").as_uri()))
    done = subprocess.run(
        [program, str(folder / "run.mjs"), str(modules), str(packages), str(wheel), str(folder / "code.py"), loader],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, "\n".join(line for line in done.stderr.splitlines() if len(line) < 500)[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_sigmoid_under_pyodide_in_node_renders_through_viz_js(tmp_path):
    browser = run_in_node(tmp_path, SIGMOID_RUN + INSTALLED, "page")

    exec_globals: dict[str, Any] = {}
    exec(SIGMOID_RUN, exec_globals)
    desktop = exec_globals["result"]
    assert browser["platform"] == "emscripten"
    assert browser["installed"] == {"version": "0.1.0", "viz": "/lib/python", "autograd": "/lib/python"}
    assert browser["numbers"] == desktop["numbers"]  # to the last bit
    assert browser["gradcheck"] is True
    assert sorted(browser["source"].splitlines()) == sorted(desktop["source"].splitlines())  # the same DOT
    assert "Generated by graphviz version" in browser["svg"]
    assert texts(browser["svg"]) == texts(desktop["svg"])  # the same labels as the desktop renderer draws
    assert texts(browser["display"]) == texts(desktop["svg"])
    assert f'font-family="{SVG_FONTS}"' in browser["svg"]


# --- end to end: a page in headless Chromium runs Pyodide and viz.js, served on 127.0.0.1 -----------------

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>chainrule under Pyodide</title></head>
<body><p id="status">loading Pyodide and viz.js</p><div id="diagram"></div>
<script type="module">
import { loadPyodide } from "./pyodide/pyodide.mjs";
import { instance } from "./viz/viz.js";
const started = performance.now();
const report = (result) => fetch("./result", { method: "POST", body: JSON.stringify(result) });
try {
  const [pyodide, viz] = await Promise.all([loadPyodide({ indexURL: "./pyodide/" }), instance()]);
  globalThis.chainruleViz = viz;  // what viz/browser.py looks for
  const packages = await (await fetch("./packages.zip")).arrayBuffer();
  pyodide.unpackArchive(packages, "zip", { extractDir: "/home/pyodide/packages" });
  const wheel = await (await fetch("./chainrule-0.1.0-py3-none-any.whl")).arrayBuffer();
  const sitePackages = pyodide.runPython("import sysconfig; sysconfig.get_path('purelib')");
  pyodide.unpackArchive(wheel, "wheel", { extractDir: sitePackages });
  const code = await (await fetch("./sigmoid.py")).text();
  const result = JSON.parse(await pyodide.runPythonAsync(
    "import sys\\nsys.path.insert(0, '/home/pyodide/packages')\\n" + code));
  document.getElementById("diagram").innerHTML = result.display;
  document.getElementById("status").textContent = "rendered by viz.js under Pyodide";
  const drawn = document.querySelectorAll("#diagram svg g.node").length;
  await report({ ...result, drawn, seconds: (performance.now() - started) / 1000 });
} catch (error) {
  await report({ error: String(error && error.stack || error) });
}
</script></body></html>
"""


LOAD_RUN = """
import json

import viz
import viz.browser

before = None
try:
    viz.render("digraph { a -> b }")
except viz.RenderError as error:
    before = str(error)
version = await viz.browser.load_viz("VIZ_JS_URL")
svg = viz.render("digraph { a -> b }").decode()
try:
    await viz.browser.load_viz("file:///nowhere/viz.js")
    missing = None
except viz.browser.VizJsError as error:
    missing = str(error)
try:
    viz.render("digraph { a -> }")
    rejected = None
except viz.RenderError as error:
    rejected = str(error)
json.dumps({"before": before, "version": version, "svg": svg, "missing": missing, "rejected": rejected})
"""


def test_load_viz_under_pyodide_in_node(tmp_path):
    result = run_in_node(tmp_path, LOAD_RUN, "python")
    assert "viz.js is not loaded" in result["before"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", result["version"])
    assert "<title>a&#45;&gt;b</title>" in result["svg"]
    assert result["missing"].startswith("load_viz: cannot load viz.js from 'file:///nowhere/viz.js'")
    assert result["rejected"].startswith("render_svg: viz.js could not render the graph: ")
    assert "syntax error" in result["rejected"]


def test_sigmoid_in_headless_chromium_renders_through_viz_js(tmp_path):
    chromium()  # first: where there is none, skip before fetching anything
    modules = npm_packages()
    site = tmp_path / "site"
    site.mkdir()
    (site / "pyodide").symlink_to(modules / "pyodide")
    (site / "viz").symlink_to(modules / "@viz-js" / "viz" / "dist")
    (site / "index.html").write_text(PAGE)
    (site / "sigmoid.py").write_text(SIGMOID_RUN + INSTALLED)
    wheel = build_wheel(tmp_path)
    shutil.copy(wheel, site / "chainrule-0.1.0-py3-none-any.whl")
    with zipfile.ZipFile(site / "packages.zip", "w") as archive:  # graphviz, pure Python, from this environment
        folder = Path(graphviz.__file__).parent
        for path in sorted(folder.rglob("*.py")):
            archive.write(path, f"graphviz/{path.relative_to(folder).as_posix()}")
    results: queue.Queue[dict[str, Any]] = queue.Queue()
    with served(site, results) as url, headless(url + "index.html", tmp_path / "profile") as page:
        try:
            result = results.get(timeout=120)
        except queue.Empty:
            pytest.fail("the page sent no result within 120 s")
        picture = page.screenshot(tmp_path / "live-page.png")
    assert "error" not in result, result.get("error")
    print(f"cold start to the rendered sigmoid diagram in headless Chromium: {result['seconds']:.2f} s; "
          f"the page: {picture}")
    exec_globals: dict[str, Any] = {}
    exec(SIGMOID_RUN, exec_globals)
    desktop = exec_globals["result"]
    assert result["platform"] == "emscripten"
    assert result["installed"]["viz"] == "/lib/python"
    assert result["numbers"] == desktop["numbers"]
    assert result["gradcheck"] is True
    assert texts(result["display"]) == texts(desktop["svg"])
    assert result["drawn"] == desktop["svg"].count('class="node"')  # every node is on the page
