r"""Local Sphinx extension for the book: one source for the TeX macros.

``book/macros.yml`` defines every macro once. This extension feeds them to
MathJax 3 for the HTML site and to the LaTeX preamble for the PDF, so both
outputs always agree.

The HTML site's math is typeset at build time, not in the reader's browser:
pages load no MathJax, render the same offline, and do not shift while
formulas are typeset. The HTML builder uses the math renderer ``calcml_svg``,
which writes the same markup as ``sphinx.ext.mathjax`` (``\(...\)`` spans and
``\[...\]`` divs) but adds no script to the pages; at ``build-finished``,
``scripts/prerender_math.js`` (MathJax 3 in Node, from the pinned npm package
in ``node_modules``, installed by ``npm ci``) replaces every formula of the
written pages by SVG with assistive MathML. Any TeX error, such as an
undefined macro, fails the build with the page and the formula.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

MACROS_FILE = Path(__file__).resolve().parent.parent / "macros.yml"
TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"
REPO = Path(__file__).resolve().parents[2]
MATHJAX_SOURCE = REPO / "node_modules" / "mathjax"
PRERENDER = REPO / "scripts" / "prerender_math.js"
MATH_RENDERER = "calcml_svg"


def math_version() -> str:
    """A hash of what the typeset math depends on beyond the pages: the macros, the
    prerenderer and the MathJax version. It is an HTML config value, so a change
    rewrites every page (Sphinx compares the config of the last build)."""
    digest = hashlib.sha256()
    for path in (MACROS_FILE, PRERENDER, MATHJAX_SOURCE / "package.json"):
        digest.update(path.read_bytes() if path.is_file() else b"missing")
    return digest.hexdigest()[:16]


def load_macros(path: Path = MACROS_FILE) -> dict[str, tuple[str, int, str]]:
    """Return ``{name: (definition, n_args, meaning)}`` from ``macros.yml``."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {name: (str(d), int(n), str(m)) for name, (d, n, m) in raw.items()}


def mathjax_macros(macros: dict[str, tuple[str, int, str]]) -> dict[str, Any]:
    """MathJax 3 form: a string, or ``[definition, n_args]`` for macros with arguments."""
    return {name: (d if n == 0 else [d, n]) for name, (d, n, _) in macros.items()}


def latex_preamble(macros: dict[str, tuple[str, int, str]]) -> str:
    r"""LaTeX form: ``\providecommand`` then ``\renewcommand``, so a macro that a
    package already defines is replaced rather than causing an error."""
    lines = ["% Macros from book/macros.yml"]
    for name, (d, n, _) in macros.items():
        args = f"[{n}]" if n else ""
        lines.append(f"\\providecommand{{\\{name}}}{{}}\\renewcommand{{\\{name}}}{args}{{{d}}}")
    return "\n".join(lines) + "\n"


def _config_inited(app: Any, config: Any) -> None:
    macros = load_macros()
    # Math is typeset at build time (_build_finished): no MathJax script on the pages.
    config.html_math_renderer = MATH_RENDERER
    config.calcml_math_version = math_version()
    # A valid initial colour mode ("auto" follows the reader's system setting); the
    # theme's default, "", logs "Got invalid theme mode" on every page load.
    config.html_context = {"default_mode": "auto", **(config.html_context or {})}
    # templates/static/webpack-macros.html drops the theme's 1.5 MB icon script.
    config.templates_path = [str(TEMPLATES), *config.templates_path]
    # static/calcml.css (style fixes; no .js here: Jupyter Book loads every .js of a static path).
    config.html_static_path = [*config.html_static_path, str(STATIC)]
    elements = dict(config.latex_elements or {})
    elements["preamble"] = elements.get("preamble", "") + latex_preamble(macros)
    config.latex_elements = elements


def _is_html(app: Any) -> bool:
    return getattr(app.builder, "format", "") == "html"


def _visit_math(self: Any, node: Any) -> None:
    """``sphinx.ext.mathjax``'s markup, looked up when used: MyST's amsmath support
    replaces the display-math visitor at ``builder-inited``."""
    visit, _ = self.builder.app.registry.html_inline_math_renderers["mathjax"]
    visit(self, node)


def _visit_displaymath(self: Any, node: Any) -> None:
    visit, _ = self.builder.app.registry.html_block_math_renderers["mathjax"]
    visit(self, node)


def _check_node(app: Any) -> None:
    """Fail an HTML build early, with the fix, when Node or the local MathJax is missing."""
    if _is_html(app) and (
        shutil.which("node") is None or not (MATHJAX_SOURCE / "package.json").is_file()
    ):
        from sphinx.errors import ExtensionError

        raise ExtensionError(
            f"Node.js and MathJax 3 at {MATHJAX_SOURCE} are needed to typeset the math: "
            "install nodejs and run 'npm ci' (make book does)"
        )


class MathError(Exception):
    """TeX that MathJax cannot typeset; ``errors`` holds ``{page, tex, error}`` dicts."""

    def __init__(self, errors: list[dict[str, str]], message: str) -> None:
        super().__init__(message)
        self.errors = errors


def prerender_math(pages: list[Path], macros: dict[str, Any] | None = None) -> int:
    """Typeset the math of the given HTML pages in place with ``scripts/prerender_math.js``.

    Returns the number of formulas typeset. Raises :class:`MathError` listing every
    formula that does not typeset (each page is rewritten only if all of its do).
    """
    node = shutil.which("node")
    if node is None:
        raise MathError([], "node (Node.js) is not installed")
    if macros is None:
        macros = mathjax_macros(load_macros())
    with tempfile.TemporaryDirectory() as tmp:
        macros_file = Path(tmp, "macros.json")
        macros_file.write_text(json.dumps(macros), encoding="utf-8")
        proc = subprocess.run(
            [node, str(PRERENDER), str(macros_file), *map(str, pages)],
            capture_output=True,
            text=True,
            check=False,
        )
    errors = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0:
        lines = [f"{e['page']}: {e['error']} in: {e['tex']}" for e in errors]
        raise MathError(errors, "\n".join(lines) or proc.stderr.strip())
    found = re.search(r"(\d+) formulas", proc.stderr)
    return int(found.group(1)) if found else 0


def _build_finished(app: Any, exception: Exception | None) -> None:
    if exception is not None or not _is_html(app):
        return
    from sphinx.errors import ExtensionError
    from sphinx.util import logging

    outdir = Path(app.outdir)
    # Every page of the site; pages typeset by an earlier (incremental) build are skipped.
    pages = sorted(
        p for p in outdir.rglob("*.html") if not p.relative_to(outdir).parts[0].startswith("_")
    )
    start = time.perf_counter()
    try:
        count = prerender_math(pages)
    except MathError as err:
        lines = [
            f"{Path(e['page']).relative_to(outdir)}: TeX error: {e['error']} in: {e['tex']}"
            for e in err.errors
        ]
        raise ExtensionError("\n".join(lines) or f"typesetting the math failed: {err}") from None
    logging.getLogger(__name__).info(
        f"typeset {count} formulas in {time.perf_counter() - start:.1f} s (MathJax 3, SVG)"
    )


DESCRIPTION_LENGTH = 160
GENERATED_PAGES = {"genindex": "Index", "search": "Search"}
_META_DESCRIPTION = re.compile(
    r"""<meta\s[^>]*name=["']description["'][^>]*content=["']([^"']*)["']""", re.I
)


def describe(doctree: Any, max_len: int = DESCRIPTION_LENGTH) -> str:
    """A plain-text summary of a page: its first prose sentences without math.

    Search engines show ``<meta name="description">`` as the page's snippet, and raw
    TeX reads badly there, so sentences holding math are skipped. Paragraphs inside
    admonitions, exercises, figures and tables are skipped too: only body prose.
    """
    from docutils import nodes

    skip = (
        nodes.Admonition,
        nodes.table,
        nodes.figure,
        nodes.caption,
        nodes.footnote,
        nodes.citation,
        nodes.field_list,
        nodes.topic,
    )
    sentences: list[str] = []
    for para in doctree.findall(nodes.paragraph):
        parent, inside = para.parent, False
        while parent is not None:
            inside = inside or isinstance(parent, skip) or "exercise" in parent.get("classes", [])
            parent = parent.parent
        if inside:
            continue
        marked = para.deepcopy()
        for node in list(marked.findall(nodes.math)):
            node.replace_self(nodes.Text("\ue000"))
        text = " ".join(marked.astext().split())
        sentences += [
            s
            for s in re.split(r"(?<=[.!?])\s+", text)
            if s and "\ue000" not in s and not s.endswith(":")
        ]
        if sum(len(s) + 1 for s in sentences) >= max_len:
            break
    out = ""
    for sentence in sentences:
        if len(out) + len(sentence) + 1 > max_len:
            if not out:  # one long sentence: cut it at a word boundary
                out = sentence[: max_len - 1].rsplit(" ", 1)[0] + "…"
            break
        out = f"{out} {sentence}".strip()
    return out


def _page_description(
    app: Any, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Give every page a ``<meta name="description">`` and the same ``og:description``.

    A page can set its own in its front matter (``html_meta: {description: ...}``);
    otherwise it is made by :func:`describe`, or from the title for generated pages
    (search, index). Runs before sphinxext-opengraph, which then keeps it.

    Kept instead of sphinxext-opengraph's ``ogp_enable_meta_description`` (switched off in
    ``_config.yml``), which cannot do what this does: its text takes every leaf node, so
    the raw TeX of inline math, section titles and exercise text end up in the snippet,
    and it cuts at a character count mid-word. :func:`describe` skips sentences holding
    math and paragraphs in boxes and cuts at a sentence boundary.
    """
    if not _is_html(app):
        return
    metatags = context.get("metatags", "")
    given = _META_DESCRIPTION.search(metatags)
    if given:
        description = html.unescape(given.group(1))
    else:
        title = re.sub(r"<[^>]+>", "", html.unescape(context.get("title") or "")).strip()
        book = app.config.html_title or app.config.project
        description = (describe(doctree) if doctree is not None else "") or (
            f"{title or GENERATED_PAGES.get(pagename, pagename)} page of the open textbook {book}."
        )
        context["metatags"] = (
            metatags + f'<meta name="description" content="{html.escape(description)}" />\n'
        )
    context["meta"] = {**(context.get("meta") or {}), "og:description": description}


def _fix_citation_roles(
    app: Any, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Docutils marks a bibliography up as ``role="list"`` holding entries with the
    deprecated ``role="doc-biblioentry"``; a list must hold list items (axe-core:
    aria-required-children, critical). The entries become ``role="listitem"``."""
    body = context.get("body")
    if _is_html(app) and isinstance(body, str) and 'role="doc-biblioentry"' in body:
        context["body"] = re.sub(
            r'(<div class="citation"[^>]*) role="doc-biblioentry"', r'\1 role="listitem"', body
        )


_LENGTH = re.compile(r"([\d.]+)\s*(px|pt|in|cm|mm)?$")
_UNIT = {"px": 1.0, None: 1.0, "pt": 4 / 3, "in": 96.0, "cm": 96 / 2.54, "mm": 9.6 / 2.54}


def image_size(path: Path) -> tuple[int, int] | None:
    """Width and height in CSS pixels of an SVG (its width/height, else its viewBox) or PNG."""
    try:
        if path.suffix.lower() == ".png":
            head = path.read_bytes()[:24]
            if head[:8] == b"\x89PNG\r\n\x1a\n":
                return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
            return None
        if path.suffix.lower() != ".svg":
            return None
        tag = re.search(r"<svg\b[^>]*>", path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return None
    if tag is None:
        return None
    attrs = dict(re.findall(r'([\w:-]+)="([^"]*)"', tag.group(0)))
    sizes = [_LENGTH.match(attrs.get(k, "").strip()) for k in ("width", "height")]
    if all(sizes):
        w, h = (float(m.group(1)) * _UNIT[m.group(2)] for m in sizes if m)
    elif len(box := attrs.get("viewBox", "").replace(",", " ").split()) == 4:
        w, h = float(box[2]), float(box[3])
    else:
        return None
    return (round(w), round(h)) if w > 0 and h > 0 else None


def _size_images(
    app: Any, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Give each figure ``width``/``height`` attributes from its file, so the browser
    reserves its box before it loads: no layout shift (Lighthouse CLS); CSS scales it."""
    body = context.get("body")
    if not (_is_html(app) and isinstance(body, str) and "<img" in body):
        return
    sources = {Path(dest).name: src for src, dest in getattr(app.builder, "images", {}).items()}

    def add_size(match: re.Match[str]) -> str:
        tag = match.group(0)
        src = re.search(r'\ssrc="([^"]+)"', tag)
        if re.search(r"\s(width|height)=", tag) or src is None:
            return tag
        source = sources.get(Path(src.group(1).split("?")[0]).name)
        size = image_size(Path(app.srcdir, source)) if source else None
        if size is None:
            return tag
        end = "/>" if tag.endswith("/>") else ">"
        return f'{tag[: -len(end)].rstrip()} width="{size[0]}" height="{size[1]}" {end}'

    context["body"] = re.sub(r"<img\b[^>]*>", add_size, body)


def _dedupe_scripts(
    app: Any, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Drop repeated inline scripts. sphinx-thebe and sphinx-togglebutton are set up
    twice (by Jupyter Book and by sphinx-book-theme) and each adds its inline script
    again; the second ``const THEBE_JS_URL`` is a SyntaxError on every page."""
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen: set[tuple[str, str]] = set()
    unique = []
    for js in scripts:
        # The same script may come with filename None or "": compare them as equal.
        attributes = getattr(js, "attributes", {}) or {}
        key = (getattr(js, "filename", str(js)) or "", repr(sorted(attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(js)
    context["script_files"] = unique


def setup(app: Any) -> dict[str, Any]:
    app.add_config_value("calcml_math_version", "", "html")
    app.connect("config-inited", _config_inited, priority=900)
    app.add_css_file("calcml.css")
    app.add_html_math_renderer(MATH_RENDERER, (_visit_math, None), (_visit_displaymath, None))
    app.connect("builder-inited", _check_node)
    app.connect("build-finished", _build_finished)
    app.connect("html-page-context", _page_description, priority=400)
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    app.connect("html-page-context", _fix_citation_roles)
    app.connect("html-page-context", _size_images)
    # env_version: bumped when the pages this extension writes change, so that an
    # incremental build writes every page again.
    return {
        "parallel_read_safe": True,
        "parallel_write_safe": True,
        "version": "1.0",
        "env_version": 7,
    }
