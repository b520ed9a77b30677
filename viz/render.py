"""DOT source to SVG or PNG, with or without Graphviz installed.

Rendering uses the Graphviz ``dot`` program when it is on the PATH, and otherwise the
``graphviz-pure`` program that pip installs with this package (a self-contained port of Graphviz,
no system libraries needed). PDF needs the real Graphviz; the error says how to get it. Under Pyodide
(in a browser) SVG comes from viz.js, Graphviz compiled to WebAssembly: see :mod:`viz.browser`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
from pathlib import Path

import graphviz

from viz.browser import VizJsError, render_svg

FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot", ".tex": "tex"}
_FALLBACK_FORMATS = {"svg", "png"}
RENDER_TIMEOUT = 120.0
"""Seconds a renderer may run before it, and every process it started, is killed (a RenderError follows)."""
FONT = "DejaVu Sans"
"""The font diagrams are laid out with. Graphviz sizes each box for this font's metrics, so a label fits
where the font is installed (most Linux systems); it is the widest of the usual sans-serif fonts, so a
viewer that falls back to one of ``SVG_FONTS`` draws narrower text, which fits too."""
SVG_FONTS = "'DejaVu Sans', 'Helvetica Neue', Helvetica, Arial, sans-serif"
"""The font-family written into SVG: DejaVu Sans first, then fonts at most as wide."""
_INSTALL_HINT = "install Graphviz (Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz)"


class RenderError(RuntimeError):
    """Rendering failed: no renderer can make the format, or the renderer rejected the graph."""


def find_renderer(fmt: str = "svg") -> Path | None:
    """The program that will render ``fmt``: Graphviz's ``dot`` if installed, else ``graphviz-pure``."""
    dot = shutil.which("dot")
    if dot:
        return Path(dot)
    if fmt in _FALLBACK_FORMATS:
        name = "graphviz-pure.exe" if os.name == "nt" else "graphviz-pure"
        beside_python = Path(sysconfig.get_path("scripts")) / name
        if beside_python.exists():
            return beside_python
        found = shutil.which("graphviz-pure")
        return Path(found) if found else None
    return None


def render(source: str, fmt: str = "svg") -> bytes:
    """Render DOT ``source`` to ``fmt`` ("svg", "png", "pdf" or "dot") and return the bytes."""
    if not isinstance(source, str):
        raise TypeError(f"render: source must be DOT text (a str), got {type(source).__name__}")
    if fmt == "dot":
        return source.encode("utf-8")
    if fmt not in ("svg", "png", "pdf"):
        raise RenderError(f"render: unknown format {fmt!r}; use one of svg, png, pdf, dot")
    if sys.platform == "emscripten":  # Pyodide: no programs to run; viz.js renders the same DOT (viz/browser.py)
        if fmt != "svg":
            raise RenderError(f"render: {fmt} needs the desktop renderers; in the browser, viz.js makes svg only")
        try:
            return _with_font_fallbacks(render_svg(source))
        except VizJsError as error:
            raise RenderError(str(error)) from None
    program = find_renderer(fmt)
    if program is None:
        if fmt in _FALLBACK_FORMATS:
            raise RenderError(f"render: no renderer for {fmt}: reinstall to get graphviz-pure, or {_INSTALL_HINT}")
        raise RenderError(f"render: {fmt} output needs the Graphviz dot program, not installed here; {_INSTALL_HINT}")
    stdout, stderr, returncode = _run(program, fmt, source.encode("utf-8"))
    if returncode != 0 or not stdout:
        message = stderr.decode("utf-8", "replace").strip() or "no output"
        raise RenderError(f"render: {program.name} could not render the graph: {message[:2000]}")
    return _with_font_fallbacks(stdout) if fmt == "svg" else stdout


def _with_font_fallbacks(svg: bytes) -> bytes:
    """One family name in the layout, a list of fallbacks (``SVG_FONTS``) for the viewer."""
    return svg.replace(f'font-family="{FONT}"'.encode(), f'font-family="{SVG_FONTS}"'.encode())


def _run(program: Path, fmt: str, source: bytes) -> tuple[bytes, bytes, int]:
    """Run the renderer in a process group of its own; on a timeout or an interrupt, kill the whole group.

    A renderer may start helpers of its own (a shell wrapper, a layout process): killing only the
    direct child would leave those running, holding the output pipes open.
    """
    posix = os.name == "posix"
    try:
        process = subprocess.Popen(
            [str(program), f"-T{fmt}"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=posix,
        )  # fmt: skip
    except OSError as error:
        raise RenderError(f"render: cannot run {program}: {error.strerror or error}") from None
    try:
        stdout, stderr = process.communicate(source, timeout=RENDER_TIMEOUT)
    except BaseException as error:
        _kill_group(process, posix)
        if isinstance(error, subprocess.TimeoutExpired):
            raise RenderError(
                f"render: {program.name} took more than {RENDER_TIMEOUT:g} s and was stopped, with every process "
                "it started; draw a smaller graph (collapse=..., max_nodes=...)"
            ) from None
        raise
    return stdout, stderr, process.returncode


def _kill_group(process: subprocess.Popen[bytes], posix: bool) -> None:
    if posix:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)  # the group's id is the child's pid (start_new_session)
    process.kill()
    process.communicate()  # reap it and close the pipes


class Diagram(graphviz.Digraph):  # type: ignore[misc]  # graphviz ships no type hints
    """A ``graphviz.Digraph`` that displays itself inline in Jupyter even without Graphviz installed."""

    def _repr_image_svg_xml(self) -> str:
        return render(self.source, "svg").decode("utf-8")

    def _repr_image_png(self) -> bytes:
        return render(self.source, "png")

    # No save() override: graphviz's render() and view() call save(filename, directory) themselves.
