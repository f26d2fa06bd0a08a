"""The built site's HTML, read without a browser: offline assets, links beyond the
chapter pages, and what search engines and link previews see.

tests/test_book.py checks links and anchors on the pages of ``_toc.yml``; this file
adds the pages Sphinx generates (index, search, genindex) and every asset reference
(scripts, stylesheets, images, icons) on every page. The browser tests
(tests/test_browser.py) then check what actually loads.
"""

from __future__ import annotations

import json
import re
import sys
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree

import pytest
import yaml
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import calcml_book  # noqa: E402
import calcml_publish  # noqa: E402
from build_book import chapter_files, toc_files  # noqa: E402

pytestmark = pytest.mark.book
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
BASEURL = calcml_publish.site_url(CONFIG)
# The site's path on its host ("/<repository>/" on GitHub Pages): the 404 page, served at
# any depth, links with absolute paths under it.
SITE_PATH = urlsplit(BASEURL).path or "/"
# Elements whose URL the browser fetches on its own while loading the page.
FETCHED = [
    ("script", "src"),
    ("img", "src"),
    ("iframe", "src"),
    ("source", "src"),
    ("video", "src"),
    ("audio", "src"),
    ("embed", "src"),
    ("object", "data"),
]
FETCHED_LINKS = {
    "stylesheet",
    "preload",
    "modulepreload",
    "icon",
    "apple-touch-icon",
    "manifest",
    "prefetch",
    "dns-prefetch",
    "preconnect",
}


@cache
def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def all_pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if "_static" not in p.relative_to(site).parts)


def fetched_urls(page: BeautifulSoup) -> list[str]:
    urls = [el[attr] for tag, attr in FETCHED for el in page.find_all(tag) if el.get(attr)]
    urls += [
        el["href"]
        for el in page.find_all("link", href=True)
        if FETCHED_LINKS & set(el.get("rel", []))
    ]
    return urls


def is_external(url: str) -> bool:
    return bool(urlsplit(url).scheme in ("http", "https") or url.startswith("//"))


def local_target(site: Path, page: Path, path: str) -> Path:
    """The file a link's path points at: relative to the page, or, for an absolute path,
    relative to the site's root under SITE_PATH (outside it: a path that cannot exist)."""
    path = unquote(path)
    if path.startswith("/"):
        if not path.startswith(SITE_PATH):
            return site / "outside-the-site" / path.lstrip("/")
        return (site / path.removeprefix(SITE_PATH)).resolve()
    return (page.parent / path).resolve()


def test_no_page_fetches_from_another_origin(built_site: Path) -> None:
    bad = [
        f"{p.relative_to(built_site)}: {u}"
        for p in all_pages(built_site)
        for u in fetched_urls(soup(p))
        if is_external(u)
    ]
    assert not bad, "assets from other origins (the site must work offline):\n" + "\n".join(bad)


def test_fetched_assets_exist(built_site: Path) -> None:
    missing = []
    for page in all_pages(built_site):
        for url in fetched_urls(soup(page)):
            parts = urlsplit(url)
            if is_external(url) or parts.scheme == "data" or not parts.path:
                continue
            if not local_target(built_site, page, parts.path).is_file():
                missing.append(f"{page.relative_to(built_site)}: {url}")
    assert not missing, "assets referenced but not in the site:\n" + "\n".join(missing)


def test_links_on_generated_pages_resolve(built_site: Path) -> None:
    """index, search and genindex (the toc pages are checked by tests/test_book.py)."""
    toc = {(built_site / f"{f}.html").resolve() for f in toc_files()}
    broken = []
    for page in all_pages(built_site):
        if page.resolve() in toc:
            continue
        for a in soup(page).find_all("a", href=True):
            parts = urlsplit(a["href"])
            if parts.scheme or a["href"].startswith(("//", "mailto:", "javascript:")):
                continue
            target = local_target(built_site, page, parts.path) if parts.path else page
            target = target / "index.html" if target.is_dir() else target
            if not target.is_file():
                broken.append(f"{page.name}: {a['href']} (no file)")
            elif (
                parts.fragment
                and target.suffix == ".html"
                and not soup(target).find(id=unquote(parts.fragment))
            ):
                broken.append(f"{page.name}: {a['href']} (no anchor)")
    assert len(all_pages(built_site)) > len(toc), "no generated pages found"
    assert not broken, "broken links:\n" + "\n".join(sorted(set(broken)))


def test_the_404_page_works_at_any_depth(built_site: Path) -> None:
    """GitHub Pages serves 404.html for any missing address, at any depth: every link and
    asset is an absolute path under the site's path and resolves; it offers every chapter,
    the search page and a search box, in the book's theme."""
    page = built_site / "404.html"
    assert page.is_file(), "no 404.html (sphinx-notfound-page)"
    doc = soup(page)
    assert doc.title and "Page not found" in doc.title.get_text()
    assert doc.select_one(".bd-article h1").get_text(strip=True).startswith("Page not found")
    assert CONFIG["title"] in doc.select_one(".bd-article").get_text(), "names the book"
    local = [u for u in fetched_urls(doc) if not is_external(u) and not u.startswith("data:")]
    local += [
        a["href"]
        for a in doc.find_all("a", href=True)
        if not urlsplit(a["href"]).scheme and not a["href"].startswith(("#", "//"))
    ]
    relative = [u for u in local if not urlsplit(u).path.startswith(SITE_PATH)]
    assert not relative, f"links that break below the site root: {relative}"
    missing = [u for u in local if not local_target(built_site, page, urlsplit(u).path).is_file()]
    assert not missing, f"404.html links to files that are not in the site: {missing}"
    article = doc.select_one(".bd-article")
    hrefs = {a["href"] for a in article.find_all("a", href=True)}
    assert {f"{SITE_PATH}{c}.html" for c in chapter_files()} <= hrefs, hrefs
    form = article.find("form", attrs={"role": "search"})
    assert form and form["action"] == f"{SITE_PATH}search.html", form
    assert form.find("input", attrs={"name": "q"})


def test_math_is_typeset_at_build_time_and_no_page_loads_mathjax(built_site: Path) -> None:
    """Formulas arrive as SVG drawn from one font cache per page, with MathJax's SVG
    stylesheet; no page carries a MathJax script or configuration, and the site ships
    no MathJax bundle. The typesetter is the pinned npm package."""
    pinned = json.loads((ROOT / "package.json").read_text())["dependencies"]["mathjax"]
    installed = json.loads((ROOT / "node_modules/mathjax/package.json").read_text())["version"]
    assert installed == pinned, f"node_modules has MathJax {installed}, package.json {pinned}"
    assert not (built_site / "_static" / "mathjax").exists()
    with_math = 0
    for page in all_pages(built_site):
        doc, where = soup(page), page.relative_to(built_site)
        scripts = [
            s.get("src") or s.get_text()[:60]
            for s in doc.find_all("script")
            if re.search(r"mathjax", s.get("src", ""), re.I) or "window.MathJax" in s.get_text()
        ]
        assert not scripts, f"{where}: MathJax scripts {scripts}"
        maths = doc.select(".math")
        caches = doc.select("svg#MJX-SVG-global-cache")
        if not maths:
            assert not caches, where
            continue
        with_math += 1
        assert len(caches) == 1 and len(doc.select("head > style#MJX-SVG-styles")) == 1, where
        glyphs = {path["id"] for path in caches[0].select("defs > path[id]")}
        used = {u["xlink:href"].lstrip("#") for u in doc.select(".math mjx-container use")}
        assert used and used <= glyphs, f"{where}: glyphs missing {sorted(used - glyphs)[:5]}"
        assert all(m.select_one("mjx-container > svg") for m in maths), where
    assert with_math >= 2


def test_pages_describe_themselves(built_site: Path) -> None:
    """Language, a plain-text description (no TeX), OpenGraph tags, canonical URL, favicon."""
    for f in toc_files():
        page = soup(built_site / f"{f}.html")
        where = f"{f}.html"
        assert page.html.get("lang") == "en", where
        meta = {
            m.get("name") or m.get("property"): m.get("content")
            for m in page.find_all("meta")
            if m.get("content") is not None
        }
        description = meta.get("description", "")
        assert 40 <= len(description) <= calcml_book.DESCRIPTION_LENGTH, (where, description)
        assert "\\" not in description and "$" not in description, (where, description)
        assert meta.get("og:description") == description, where
        assert meta.get("og:title") and meta.get("og:url") == f"{BASEURL}{f}.html", where
        assert page.find("link", rel="canonical")["href"] == f"{BASEURL}{f}.html", where
        icon = page.find("link", rel="icon")
        assert icon and (built_site / f).parent.joinpath(icon["href"]).resolve().is_file(), where


def test_sitemap_lists_every_page(built_site: Path) -> None:
    tree = ElementTree.parse(built_site / "sitemap.xml")
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = {loc.text for loc in tree.getroot().findall("s:url/s:loc", ns)}
    expected = {f"{BASEURL}{f}.html" for f in toc_files()}
    assert expected <= locs, f"missing from sitemap.xml: {expected - locs}"
    assert f"{BASEURL}404.html" not in locs, "the 404 page is not a page to index"


def test_description_skips_math_and_boxes() -> None:
    from docutils import nodes
    from docutils.frontend import get_default_settings
    from docutils.parsers.rst import Parser
    from docutils.utils import new_document

    doc = new_document("test", get_default_settings(Parser))
    section = nodes.section()
    doc += section
    section += nodes.paragraph(text="A gradient points uphill.")
    with_math = nodes.paragraph()
    with_math += [nodes.Text("Its norm "), nodes.math(text="\\norm{x}"), nodes.Text(" is large. ")]
    with_math += nodes.Text("Steps follow it.")
    section += with_math
    note = nodes.note()
    note += nodes.paragraph(text="Not part of the summary.")
    section += note
    section += nodes.paragraph(text="Newton's method needs curvature. " * 8)
    text = calcml_book.describe(doc)
    assert text.startswith("A gradient points uphill. Steps follow it. Newton")
    assert "norm" not in text and "summary" not in text
    assert len(text) <= calcml_book.DESCRIPTION_LENGTH
    assert re.fullmatch(r"[^\\$]+", text)
    # Why describe() and not sphinxext-opengraph's ogp_enable_meta_description (off in
    # _config.yml): the maintained parser puts the raw TeX into the same summary.
    from sphinxext.opengraph._description_parser import get_description

    assert "\\norm{x}" in get_description(doc, calcml_book.DESCRIPTION_LENGTH)
    assert CONFIG["sphinx"]["config"]["ogp_enable_meta_description"] is False
