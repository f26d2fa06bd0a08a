"""First-load weight of every page of the built site, served gzip-compressed.

Usage::

    .venv/bin/python benchmarks/page_weight.py [--site _build/html] [--markdown]
    .venv/bin/python benchmarks/page_weight.py --serve 8123 [--prefix /calculus-for-ml/]

The site is served from 127.0.0.1 the way GitHub Pages serves it: text assets
(HTML, CSS, JavaScript, SVG, JSON, XML) gzip-compressed when the client accepts
it, fonts and images as they are. Each page of ``_toc.yml`` is opened in a fresh
Chromium context (empty cache), and everything it requests until its web fonts
are loaded and the network is idle is counted (the math is typeset when the book
is built, so no MathJax loads): the number of requests and
the bytes transferred (compressed bodies plus response headers). Bytes, not
times: the numbers do not depend on the machine's load.

``--serve`` only runs the server (for ``benchmarks/lighthouse.sh``); ``--prefix``
serves the site under a path, as on ``https://<owner>.github.io/<repo>/``.

The browser tests (tests/test_browser.py) import :class:`SiteServer` and
:func:`visit` from here, so the budget test measures exactly what this reports.
"""

from __future__ import annotations

import argparse
import gzip
import http.server
import io
import mimetypes
import os
import posixpath
import shutil
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from build_book import toc_files  # noqa: E402  (the one reader of _toc.yml)

CHROMIUM = os.environ.get("CALCML_CHROMIUM", "/usr/bin/chromium")
# The flags the GUIDE lists for a headless, offline, deterministic Chromium.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
COMPRESSIBLE = (
    "text/",
    "application/javascript",
    "application/json",
    "application/xml",
    "image/svg+xml",
)
BUDGET_BYTES = 1_500_000  # per chapter page, first load, everything included


# --- A static server that compresses like GitHub Pages -------------------------------------


class GzipHandler(http.server.SimpleHTTPRequestHandler):
    """Serve a folder; gzip text responses when the client accepts gzip."""

    prefix = "/"
    _cache: ClassVar[dict[tuple[str, float], bytes]] = {}  # shared by all handlers
    _lock = threading.Lock()

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def translate_path(self, path: str) -> str:
        path = urlsplit(path).path
        if not path.startswith(self.prefix):
            return ""  # outside the served prefix: 404
        return super().translate_path("/" + path[len(self.prefix) :])

    def send_head(self) -> Any:
        path = self.translate_path(self.path)
        if not path:
            self.send_error(404, "File not found")
            return None
        if os.path.isdir(path):
            if not self.path.split("?")[0].endswith("/"):
                return super().send_head()  # the parent redirects to the slash form
            path = os.path.join(path, "index.html")
        ctype = self.guess_type(path)
        accepts = "gzip" in self.headers.get("Accept-Encoding", "")
        if not (accepts and ctype.startswith(COMPRESSIBLE)) or not os.path.isfile(path):
            return super().send_head()
        key = (path, os.path.getmtime(path))
        with self._lock:
            body = self._cache.get(key)
            if body is None:
                body = gzip.compress(Path(path).read_bytes(), compresslevel=6, mtime=0)
                self._cache[key] = body
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Vary", "Accept-Encoding")
        self.end_headers()
        return io.BytesIO(body)

    def guess_type(self, path: str | os.PathLike[str]) -> str:
        ctype = mimetypes.guess_type(str(path))[0] or "application/octet-stream"
        if ctype.startswith("text/") or ctype in ("application/javascript", "image/svg+xml"):
            ctype += "; charset=utf-8" if ctype.startswith("text/") else ""
        return ctype


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a closed tab is no error
            super().handle_error(request, client_address)


class SiteServer:
    """``with SiteServer(site) as server:`` serves ``site`` on 127.0.0.1 (a free port)."""

    def __init__(self, site: Path, port: int = 0, prefix: str = "/") -> None:
        prefix = "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"
        handler = type("Handler", (GzipHandler,), {"prefix": prefix})
        self.httpd = _QuietServer(("127.0.0.1", port), partial(handler, directory=str(site)))
        self.httpd.daemon_threads = True
        self.prefix = prefix
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.base = self.origin + prefix
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> SiteServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, page: str) -> str:
        """URL of a page given as in _toc.yml (``book/intro``) or as a file (``search.html``)."""
        return self.base + (page if ".html" in page else page + ".html")


# --- One visit of one page in a fresh browser context ---------------------------------------


@dataclass
class Visit:
    """What one first load of a page did."""

    url: str
    status: int | None = None
    requests: int = 0
    transferred: int = 0  # bytes: compressed bodies + response headers
    by_kind: dict[str, int] = field(default_factory=dict)
    largest: list[tuple[int, str]] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)  # requests to another origin (blocked)
    failed: list[str] = field(default_factory=list)  # HTTP >= 400 or network failures
    console_errors: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


def kind(url: str) -> str:
    path = urlsplit(url).path
    ext = posixpath.splitext(path)[1].lower()
    return {
        ".html": "html",
        ".js": "js",
        ".css": "css",
        ".svg": "svg",
        ".png": "image",
        ".jpg": "image",
        ".woff2": "font",
        ".woff": "font",
        ".ttf": "font",
    }.get(ext, "other")


WAIT_FOR_FONTS = """async () => {
  await document.fonts.ready;
  return true;
}"""


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium driven by Playwright (the system browser, no download)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def visit(
    browser: Any, server: SiteServer, page_name: str, then: Any = None, color_scheme: str = "light"
) -> Visit:
    """Open ``page_name`` in a fresh context with every other origin blocked.

    Waits for the load event, web fonts and an idle network,
    then calls ``then(page, visit)`` (if given) before closing the context, so that
    the caller can inspect the live page. Transfer is counted up to that point only.
    """
    url = server.url(page_name)
    v = Visit(url=url)
    context = browser.new_context(color_scheme=color_scheme, service_workers="block")
    sizes: dict[str, int] = {}

    def route(r: Any) -> None:
        if r.request.url.startswith(server.origin + "/"):
            r.continue_()
        else:
            v.foreign.append(r.request.url)
            r.abort("blockedbyclient")

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: v.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: v.console_errors.append(f"uncaught: {e}"))
    page.on(
        "requestfailed",
        lambda r: (
            v.failed.append(f"{r.url} ({r.failure})") if r.url.startswith(server.origin) else None
        ),
    )

    measuring = True

    def finished(request: Any) -> None:
        if not measuring:  # after the first load: the caller's inspection may load more
            return
        response = request.response()
        if response is not None and response.status >= 400:
            v.failed.append(f"{request.url} (HTTP {response.status})")
        s = request.sizes()
        sizes[request.url] = sizes.get(request.url, 0) + (
            s["responseBodySize"] + s["responseHeadersSize"]
        )

    page.on("requestfinished", finished)
    try:
        response = page.goto(url, wait_until="load")
        v.status = response.status if response else None
        page.evaluate(WAIT_FOR_FONTS)
        page.wait_for_load_state("networkidle")
        v.requests = len(sizes)
        v.transferred = sum(sizes.values())
        for u, n in sizes.items():
            v.by_kind[kind(u)] = v.by_kind.get(kind(u), 0) + n
        v.largest = sorted(
            ((n, u.removeprefix(server.base)) for u, n in sizes.items()), reverse=True
        )[:5]
        measuring = False
        if then is not None:
            then(page, v)
    finally:
        context.close()
    return v


# --- The report ------------------------------------------------------------------------------


def svg_weight(site: Path, page_name: str) -> tuple[int, int, int]:
    """Number, raw bytes and gzip bytes of the SVG images a page's HTML references."""
    from bs4 import BeautifulSoup

    html = site / f"{page_name}.html"
    soup = BeautifulSoup(html.read_text(encoding="utf-8"), "html.parser")
    files = {
        (html.parent / unquote(str(img["src"]))).resolve()
        for img in soup.find_all("img", src=True)
        if str(img["src"]).lower().endswith(".svg") and "://" not in str(img["src"])
    }
    files = {f for f in files if f.is_file() and "_static" not in f.parts}
    raw = sum(f.stat().st_size for f in files)
    packed = sum(len(gzip.compress(f.read_bytes(), compresslevel=6)) for f in files)
    return len(files), raw, packed


def report(site: Path, markdown: bool) -> int:
    pages = toc_files(ROOT)
    rows = []
    with SiteServer(site) as server, chromium() as browser:
        for name in pages:
            v = visit(browser, server, name)
            n_svg, raw, packed = svg_weight(site, name)
            rows.append((name, v, n_svg, raw, packed))
    over = [name for name, v, *_ in rows if v.transferred > BUDGET_BYTES]
    if markdown:
        print(
            "| page | requests | transferred (kB) | fonts (kB) | JS (kB) "
            "| CSS (kB) | HTML (kB) | figures: SVG files, raw → gzip (kB) |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---|")
        for name, v, n_svg, raw, packed in rows:
            k = {key: v.by_kind.get(key, 0) / 1000 for key in ("font", "js", "css", "html", "svg")}
            print(
                f"| {name} | {v.requests} | {v.transferred / 1000:.0f} | {k['font']:.0f} "
                f"| {k['js']:.0f} | {k['css']:.0f} | {k['html']:.0f} "
                f"| {n_svg}: {raw / 1000:.0f} → {packed / 1000:.0f} |"
            )
    else:
        for name, v, n_svg, raw, packed in rows:
            print(
                f"{name:45s} {v.requests:3d} requests {v.transferred / 1e6:6.3f} MB"
                f"  ({n_svg} SVG figures: {raw / 1e3:.0f} kB raw, {packed / 1e3:.0f} kB gzip)"
            )
            for n, u in v.largest[:3]:
                print(f"    {n / 1e3:7.1f} kB  {u}")
            if v.foreign or v.failed:
                print(f"    blocked: {v.foreign}  failed: {v.failed}")
    print(
        f"\nbudget: {BUDGET_BYTES / 1e6:.1f} MB per page; over budget: {over or 'none'}",
        file=sys.stderr,
    )
    return 1 if over else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--serve", type=int, metavar="PORT", help="only serve the site")
    parser.add_argument("--prefix", default="/", help="URL path to serve the site under")
    args = parser.parse_args(argv)
    if not (args.site / "index.html").is_file():
        print(f"error: no site at {args.site}: run 'make book' first", file=sys.stderr)
        return 2
    if args.serve is not None:
        with SiteServer(args.site, args.serve, args.prefix) as server:
            print(f"serving {args.site} at {server.base}", flush=True)
            try:
                server.thread.join()
            except KeyboardInterrupt:
                pass
        return 0
    if shutil.which(CHROMIUM) is None:
        print(f"error: no Chromium at {CHROMIUM} (apt-get install chromium)", file=sys.stderr)
        return 2
    return report(args.site, args.markdown)


if __name__ == "__main__":
    sys.exit(main())
