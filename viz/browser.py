"""Diagrams in the browser: under Pyodide, DOT is rendered by @viz-js/viz instead of a ``dot`` program.

Under Pyodide (``sys.platform == "emscripten"``, as in JupyterLite or a page that runs Pyodide) there is
no ``dot`` program and no graphviz-pure; :func:`viz.render` and the notebook display of diagrams hand the
same DOT to `@viz-js/viz <https://www.npmjs.com/package/@viz-js/viz>`_, Graphviz compiled to WebAssembly
in one JavaScript file, reached through Pyodide's ``js`` module. Only SVG can be made this way (and DOT,
which needs no renderer); PNG and PDF need the desktop renderers.

Python finds viz.js as the JavaScript global ``chainruleViz``: a viz.js instance, the value that
``instance()`` of the viz.js module resolves to. Either the page sets it before Python draws::

    <script type="module">
      import { instance } from "./viz.js";            // @viz-js/viz's dist/viz.js, served next to the page
      globalThis.chainruleViz = await instance();
    </script>

or Python loads it, once, in an async cell (JupyterLite's kernels run Pyodide in a web worker, which a
page's script cannot reach, so there this is the way)::

    import viz.browser
    await viz.browser.load_viz("https://example.org/viz.js")

Making the instance is asynchronous (it compiles the WebAssembly), rendering is not: once ``chainruleViz``
is set, ``render`` and a diagram's ``_repr_svg_`` return at once, as on the desktop.
"""

from __future__ import annotations

import importlib
import json
import sys
from typing import Any


class VizJsError(RuntimeError):
    """viz.js cannot render here: it is not loaded, cannot be loaded, or rejected the graph.

    :func:`viz.render` raises it as a :class:`viz.RenderError` with the same message.
    """


GLOBAL_NAME = "chainruleViz"
"""The JavaScript global (a property of ``globalThis``) that holds the viz.js instance Python renders with."""
OPTIONS = {"format": "svg", "engine": "dot"}
"""What viz.js is asked for: SVG, laid out by ``dot``, as the desktop renderers do."""

_HOW_TO_LOAD = (
    f"set globalThis.{GLOBAL_NAME} = await (await import('<url of @viz-js/viz dist/viz.js>')).instance() in the "
    "page, or run `await viz.browser.load_viz(url)` in Python first"
)


def in_browser() -> bool:
    """Whether this Python runs under Pyodide (WebAssembly), where diagrams are rendered by viz.js."""
    return sys.platform == "emscripten"


def _js(function: str) -> Any:
    """Pyodide's ``js`` module (the JavaScript global scope); a VizJsError naming ``function`` where there is none."""
    try:
        return importlib.import_module("js")
    except ImportError:
        raise VizJsError(
            f"{function}: no JavaScript runtime here (Pyodide's js module cannot be imported); viz.js renders "
            "diagrams only under Pyodide, elsewhere the dot program or graphviz-pure does"
        ) from None


def viz_instance(function: str = "viz_instance") -> Any:
    """The viz.js instance at ``globalThis.chainruleViz``; a VizJsError naming ``function`` says how to load it."""
    found = getattr(_js(function).globalThis, GLOBAL_NAME, None)
    if found is None or not callable(getattr(found, "render", None)):
        raise VizJsError(f"{function}: viz.js is not loaded on this page (globalThis.{GLOBAL_NAME} is not set); "
                         f"{_HOW_TO_LOAD}")  # fmt: skip
    return found


def render_svg(source: str) -> bytes:
    """Render DOT ``source`` to SVG with viz.js (:func:`viz_instance`) and return the UTF-8 bytes.

    The SVG is viz.js's as it is; :func:`viz.render` adds the font fallbacks the desktop renderers get.
    A graph viz.js rejects raises a VizJsError with viz.js's messages.
    """
    if not isinstance(source, str):
        raise TypeError(f"render_svg: source must be DOT text (a str), got {type(source).__name__}")
    instance = viz_instance("render_svg")
    options = _js("render_svg").JSON.parse(json.dumps(OPTIONS))  # a JS object (a dict would arrive as a Map)
    result = instance.render(source, options)  # a JS object, not a Map
    status = str(getattr(result, "status", "failure"))
    messages = [str(getattr(error, "message", error)).strip() for error in (getattr(result, "errors", None) or [])]
    output = getattr(result, "output", None)
    if status != "success" or not isinstance(output, str) or not output:
        detail = "; ".join(message for message in messages if message) or "no output"
        raise VizJsError(f"render_svg: viz.js could not render the graph: {detail[:2000]}")
    return output.encode("utf-8")


async def load_viz(url: str) -> str:
    """Load @viz-js/viz from ``url`` (its ``dist/viz.js``), make an instance and set ``globalThis.chainruleViz``.

    Run it once with ``await`` (a notebook cell under Pyodide may await at top level); it returns the
    Graphviz version viz.js was built with. A relative ``url`` is read against the location of the running
    script (the page, or the web worker's script under JupyterLite), so an absolute URL is the safe choice.
    """
    if not isinstance(url, str) or not url:
        raise TypeError(f"load_viz: url must be a non-empty str (the URL of viz.js), got {url!r}")
    if not in_browser():
        raise VizJsError("load_viz: viz.js is loaded only under Pyodide; here the dot program or graphviz-pure "
                          "renders diagrams")  # fmt: skip
    run_js = importlib.import_module("pyodide.code").run_js  # present under Pyodide only
    code = (
        f"import(new URL({json.dumps(url)}, globalThis.location ? globalThis.location.href : undefined).href)"
        f".then(module => module.instance()).then(instance => (globalThis.{GLOBAL_NAME} = instance, "
        "instance.graphvizVersion))"
    )
    try:
        version = await run_js(code)
    except Exception as error:  # a JsException: the URL cannot be fetched, or is not viz.js
        raise VizJsError(f"load_viz: cannot load viz.js from {url!r}: {error}") from None
    return str(version)
