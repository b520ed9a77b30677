// The live parts of the docs, which `python docs/live_site.py <site>` adds to a built site: the Python cell of
// Getting started (Pyodide, chainrule's wheel and viz.js, all from _static/live/) and the "try it" links of the
// notebook pages (into the JupyterLite build, lite/). Where they were not built, each says how to build them.
(() => {
  "use strict";
  const root = new URL(document.documentElement.dataset.content_root || "./", location.href);
  const live = new URL("_static/live/", root);

  async function found(url) {
    try {
      return (await fetch(url, { method: "HEAD", cache: "no-store" })).ok;
    } catch {
      return false;
    }
  }

  const links = document.querySelectorAll(".try-it[data-missing] a");
  if (links.length) {
    found(new URL("lite/jupyter-lite.json", root)).then((built) => {
      if (!built) for (const link of links) link.parentElement.textContent = link.parentElement.dataset.missing;
    });
  }

  const cell = document.getElementById("live-cell");
  if (!cell) return;
  const [code, button, status, printed, diagram] = ["code", "run", "status", "printed", "diagram"].map(
    (name) => cell.querySelector(`.live-${name}`));

  // Runs a cell's source in a fresh namespace; returns [kind, text]: the last expression's SVG (a diagram), its
  // repr, or the error's traceback without Pyodide's own frames.
  const RUN_CELL = `
import traceback
from pyodide.code import eval_code_async

async def run_cell(source):
    try:
        value = await eval_code_async(source, {"__name__": "__main__"}, filename="<cell>")
    except Exception as error:
        frames = [frame for frame in traceback.extract_tb(error.__traceback__) if frame.filename == "<cell>"]
        return "error", "".join(traceback.format_list(frames) + traceback.format_exception_only(error))
    bundle = value._repr_mimebundle_() if hasattr(value, "_repr_mimebundle_") else {}
    if "image/svg+xml" in bundle:
        return "svg", bundle["image/svg+xml"]
    return "text", "" if value is None else repr(value)

run_cell`;

  async function start(manifest) {
    const at = (name) => new URL(name, live).href;
    const [{ loadPyodide }, viz] = await Promise.all([import(at(manifest.pyodide + "pyodide.mjs")), import(at(manifest.viz))]);
    const wheels = manifest.wheels.map(async (name) => (await fetch(at(name))).arrayBuffer());
    const [pyodide, instance] = await Promise.all([loadPyodide({ indexURL: at(manifest.pyodide) }), viz.instance()]);
    globalThis.chainruleViz = instance; // where viz/browser.py looks for viz.js
    const sitePackages = pyodide.runPython("import sysconfig; sysconfig.get_path('purelib')");
    for (const wheel of await Promise.all(wheels)) pyodide.unpackArchive(wheel, "wheel", { extractDir: sitePackages });
    return { pyodide, runCell: pyodide.runPython(RUN_CELL) };
  }

  let python = null; // the promise of a started Python, made by the first run
  async function run() {
    button.disabled = true;
    const started = performance.now();
    status.textContent = python ? "running" : "starting Python (Pyodide) and viz.js";
    try {
      if (!python) {
        const manifest = await fetch(new URL("live.json", live), { cache: "no-store" });
        if (!manifest.ok) {
          status.textContent = cell.dataset.missing;
          return;
        }
        python = start(await manifest.json());
      }
      const { pyodide, runCell } = await python;
      const lines = [];
      pyodide.setStdout({ batched: (line) => lines.push(line) });
      pyodide.setStderr({ batched: (line) => lines.push(line) });
      const result = await runCell(code.value);
      const [kind, text] = result.toJs();
      result.destroy();
      if (kind !== "svg" && text) lines.push(text);
      printed.textContent = lines.join("\n");
      printed.classList.toggle("live-error", kind === "error");
      diagram.innerHTML = kind === "svg" ? text : "";
      status.textContent = `done in ${((performance.now() - started) / 1000).toFixed(1)} s`;
    } catch (error) {
      python = null;
      status.textContent = `could not run: ${error}`;
    } finally {
      button.disabled = false;
    }
  }

  button.addEventListener("click", run);
  code.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.shiftKey || event.ctrlKey)) {
      event.preventDefault();
      run();
    }
  });
  button.disabled = false;
})();
