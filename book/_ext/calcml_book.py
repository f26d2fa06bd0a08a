"""Local Sphinx extension for the book: one source for the TeX macros.

``book/macros.yml`` defines every macro once. This extension feeds them to
MathJax 3 (``mathjax3_config.tex.macros``) for the HTML site and to the LaTeX
preamble for the PDF, so both outputs always agree.

It also makes the HTML site work offline: MathJax 3 comes from the pinned npm
package (``node_modules/mathjax``, installed by ``npm ci``) instead of a CDN.
Only the files a page can load are copied into ``_static/mathjax`` of the built
site: the ``tex-chtml`` component, its web fonts and the TeX extensions that
``autoload`` fetches on demand. The bundle is never committed, and it is copied
at ``build-finished`` rather than through ``html_static_path``, because Jupyter
Book adds every ``.js`` file of a static path to every page.
"""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path
from typing import Any

import yaml

MACROS_FILE = Path(__file__).resolve().parent.parent / "macros.yml"
TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"
MATHJAX_SOURCE = Path(__file__).resolve().parents[2] / "node_modules" / "mathjax" / "es5"
# Relative to the built site's _static folder (Sphinx prefixes _static/ to a relative path).
MATHJAX_PATH = "mathjax/tex-chtml.js"
# What a page can request: the component itself, its fonts, and autoloaded TeX packages.
MATHJAX_FILES = ("tex-chtml.js", "output/chtml/fonts/woff-v2", "input/tex/extensions",
                 "ui/lazy.js")


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
    mj = dict(config.mathjax3_config or {})
    tex = dict(mj.get("tex", {}))
    tex["macros"] = {**tex.get("macros", {}), **mathjax_macros(macros)}
    mj["tex"] = tex
    # Lazy typesetting: formulas are typeset as they scroll into view, so a long chapter
    # does not block the main thread (and shift the layout) while all of it is typeset.
    loader = dict(mj.get("loader", {}))
    loader["load"] = [*loader.get("load", []), "ui/lazy"]
    mj["loader"] = loader
    config.mathjax3_config = mj
    config.mathjax_path = MATHJAX_PATH
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


def _check_mathjax(app: Any) -> None:
    """Fail an HTML build early, with the fix, when the local MathJax is missing."""
    if _is_html(app) and not (MATHJAX_SOURCE / "tex-chtml.js").is_file():
        from sphinx.errors import ExtensionError

        raise ExtensionError(
            f"MathJax 3 is not installed at {MATHJAX_SOURCE}: run 'npm ci' (make book does)")


def copy_mathjax(outdir: Path, source: Path = MATHJAX_SOURCE) -> Path:
    """Copy the MathJax files a page can load into ``outdir/_static/mathjax``."""
    target = outdir / "_static" / "mathjax"
    for name in MATHJAX_FILES:
        src, dst = source / name, target / name
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    return target


def _build_finished(app: Any, exception: Exception | None) -> None:
    if exception is None and _is_html(app):
        copy_mathjax(Path(app.outdir))


DESCRIPTION_LENGTH = 160
GENERATED_PAGES = {"genindex": "Index", "search": "Search"}
_META_DESCRIPTION = re.compile(
    r"""<meta\s[^>]*name=["']description["'][^>]*content=["']([^"']*)["']""", re.I)


def describe(doctree: Any, max_len: int = DESCRIPTION_LENGTH) -> str:
    """A plain-text summary of a page: its first prose sentences without math.

    Search engines show ``<meta name="description">`` as the page's snippet, and raw
    TeX reads badly there, so sentences holding math are skipped. Paragraphs inside
    admonitions, exercises, figures and tables are skipped too: only body prose.
    """
    from docutils import nodes

    skip = (nodes.Admonition, nodes.table, nodes.figure, nodes.caption, nodes.footnote,
            nodes.citation, nodes.field_list, nodes.topic)
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
        sentences += [s for s in re.split(r"(?<=[.!?])\s+", text)
                      if s and "\ue000" not in s and not s.endswith(":")]
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


def _page_description(app: Any, pagename: str, templatename: str, context: dict[str, Any],
                      doctree: Any) -> None:
    """Give every page a ``<meta name="description">`` and the same ``og:description``.

    A page can set its own in its front matter (``html_meta: {description: ...}``);
    otherwise it is made by :func:`describe`, or from the title for generated pages
    (search, index). Runs before sphinxext-opengraph, which then keeps it.
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
            f"{title or GENERATED_PAGES.get(pagename, pagename)} page of the open textbook {book}.")
        context["metatags"] = (
            metatags + f'<meta name="description" content="{html.escape(description)}" />\n')
    context["meta"] = {**(context.get("meta") or {}), "og:description": description}


def _fix_citation_roles(app: Any, pagename: str, templatename: str, context: dict[str, Any],
                        doctree: Any) -> None:
    """Docutils marks a bibliography up as ``role="list"`` holding entries with the
    deprecated ``role="doc-biblioentry"``; a list must hold list items (axe-core:
    aria-required-children, critical). The entries become ``role="listitem"``."""
    body = context.get("body")
    if _is_html(app) and isinstance(body, str) and 'role="doc-biblioentry"' in body:
        context["body"] = re.sub(r'(<div class="citation"[^>]*) role="doc-biblioentry"',
                                 r'\1 role="listitem"', body)


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


def _size_images(app: Any, pagename: str, templatename: str, context: dict[str, Any],
                 doctree: Any) -> None:
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


def _dedupe_scripts(app: Any, pagename: str, templatename: str, context: dict[str, Any],
                    doctree: Any) -> None:
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
    app.connect("config-inited", _config_inited, priority=900)
    app.add_css_file("calcml.css")
    app.connect("builder-inited", _check_mathjax)
    app.connect("build-finished", _build_finished)
    app.connect("html-page-context", _page_description, priority=400)
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    app.connect("html-page-context", _fix_citation_roles)
    app.connect("html-page-context", _size_images)
    # env_version: bumped when the pages this extension writes change, so that an
    # incremental build writes every page again.
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0",
            "env_version": 6}
