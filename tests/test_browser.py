"""The built site as readers get it: every page of ``_toc.yml`` opened in Chromium.

The site (the ``built_site`` fixture) is served gzip-compressed on 127.0.0.1 by the
server of ``benchmarks/page_weight.py``; every request to another origin is blocked
and recorded. Each page is opened once, in a fresh browser context, and inspected:
HTTP status, console errors, the math, images, accessibility (axe-core) in
light mode, then the theme's dark-mode toggle is clicked and figures, math and text
contrast are checked again. The tests below assert on those records.

Without Chromium at ``/usr/bin/chromium`` (or ``$CALCML_CHROMIUM``) the tests skip;
``.ci/run`` sets ``CALCML_CHROMIUM`` to the browser ``scripts/find_chromium.sh`` finds (or
to Debian's ``chromium``, installed when there is none) and ``CALCML_REQUIRE_BROWSER=1``,
which turns that skip into a failure.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "scripts"))
import page_weight  # noqa: E402
from build_book import toc_files  # noqa: E402
from page_weight import BUDGET_BYTES, SiteServer, Visit, visit  # noqa: E402

pytestmark = pytest.mark.browser
PAGES = toc_files()
SERIOUS = {"serious", "critical"}

# Console messages that are not the site's fault. Empty: the theme's three known
# quirks (a duplicated inline thebe script, an empty default colour mode, the
# 1.5 MB icon script) are fixed in book/_ext/calcml_book.py instead of tolerated.
ALLOWED_CONSOLE_ERRORS: tuple[str, ...] = ()

# The math is typeset when the book is built (scripts/prerender_math.js): each .math
# element must hold MathJax's SVG (with MathML for screen readers), every glyph it draws
# must be defined on the page, and no MathJax error or MathJax script may be there.
INSPECT_MATH = """() => {
  const maths = [...document.querySelectorAll('.math')];
  const glyph = u => (u.getAttribute('xlink:href') || u.getAttribute('href') || '').slice(1);
  return {
    count: maths.length,
    unrendered: maths.filter(m => !m.querySelector(':scope > mjx-container > svg')
                                  || !m.querySelector('mjx-assistive-mml > math'))
                     .map(m => m.textContent.slice(0, 80)),
    errors: [...document.querySelectorAll('mjx-merror, [data-mml-node="merror"]')]
              .map(e => (e.closest('.math') || e).getAttribute('data-tex') || e.textContent),
    missing_glyphs: [...new Set([...document.querySelectorAll('mjx-container use')]
                       .map(glyph).filter(id => !document.getElementById(id)))],
    mathjax: [...performance.getEntriesByType('resource').map(r => r.name),
              ...[...document.scripts].map(s => s.src || s.textContent.slice(0, 40))]
               .filter(s => /mathjax/i.test(s)),
  };
}"""

# Code cells that scroll sideways at a 1366 px wide window (collapsed hide-input cells are
# opened first: a reader who opens one should not have to scroll either).
INSPECT_CODE = """() => {
  document.querySelectorAll('.cell details').forEach(d => { d.open = true; });
  return [...document.querySelectorAll('div.cell_input pre')]
    .filter(p => p.scrollWidth > p.clientWidth + 1)
    .map(p => p.textContent.split('\\n').reduce((a, b) => (b.length > a.length ? b : a)).trim());
}"""

INSPECT_IMAGES = """async () => {
  const imgs = [...document.querySelectorAll('img')];
  for (const img of imgs) {                 // lazy images: load them now
    if (img.loading === 'lazy') img.loading = 'eager';
    try { await img.decode(); } catch (e) {}
  }
  return imgs.map(img => ({
    src: img.getAttribute('src'), alt: img.getAttribute('alt'),
    width: img.naturalWidth, hidden: img.offsetParent === null,
    content: !!img.closest('.bd-article'),
  }));
}"""

# Colour contrast (WCAG relative luminance) of rendered math against what is behind it,
# and the corner pixels of every figure drawn into a canvas (opaque and light, so that
# black lines stay visible on the dark theme's background).
INSPECT_DARK = """async () => {
  const rgba = s => (s.match(/[\\d.]+/g) || [0, 0, 0, 0]).map(Number);
  const lum = ([r, g, b]) => {
    const f = c => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = el => {
    for (; el; el = el.parentElement) {
      const c = rgba(getComputedStyle(el).backgroundColor);
      if (c.length < 4 || c[3] > 0.99) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const contrast = el => {
    const a = lum(rgba(getComputedStyle(el).color)), b = lum(background(el));
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  };
  const math = [...document.querySelectorAll('mjx-container')].map(m => contrast(m));
  const figures = [];
  for (const img of document.querySelectorAll('.bd-article img')) {
    if (img.offsetParent === null || !img.naturalWidth) continue;
    const w = img.naturalWidth, h = img.naturalHeight;
    const canvas = document.createElement('canvas');
    canvas.width = w; canvas.height = h;
    const ctx = canvas.getContext('2d');
    ctx.drawImage(img, 0, 0, w, h);
    const corners = [[1, 1], [w - 2, 1], [1, h - 2], [w - 2, h - 2]]
      .map(([x, y]) => [...ctx.getImageData(x, y, 1, 1).data]);
    figures.push({src: img.getAttribute('src'), corners});
  }
  return {theme: document.documentElement.dataset.theme, math, figures,
          body: lum(background(document.querySelector('.bd-article') || document.body))};
}"""


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(page_weight.CHROMIUM).is_file():
        reason = (
            f"no Chromium at {page_weight.CHROMIUM} (apt-get install chromium, "
            "or set CALCML_CHROMIUM)"
        )
        if os.environ.get("CALCML_REQUIRE_BROWSER") == "1":
            pytest.fail(
                f"{reason}; CALCML_REQUIRE_BROWSER=1 requires the browser tests", pytrace=False
            )
        pytest.skip(reason)
    with page_weight.chromium() as b:
        yield b


@pytest.fixture(scope="session")
def server(browser: Any, built_site: Path) -> Iterator[SiteServer]:
    with SiteServer(built_site) as s:
        yield s


def to_dark(page: Any) -> str:
    """Click the theme's colour-mode button until the page is dark (it cycles modes)."""
    button = page.locator("button.theme-switch-button").first
    for _ in range(3):
        if page.evaluate("document.documentElement.dataset.theme") == "dark" or not button.count():
            break
        button.click(timeout=5_000)
    return page.evaluate("document.documentElement.dataset.theme")


def serious_violations(page: Any, **options: Any) -> list[tuple[str, str, list]]:
    """axe-core's serious and critical violations. ``preload: false``: axe would
    otherwise re-fetch the theme's ``@import "../basic.css"`` relative to the page
    instead of the stylesheet (a 404 of axe's own making); it only needs that for
    the css-orientation-lock rule."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"resultTypes": ["violations"], "preload": False, **options})
    return [
        (x["id"], x["impact"], [n["target"] for n in x["nodes"][:3]])
        for x in results.response["violations"]
        if x["impact"] in SERIOUS
    ]


def inspect(page: Any, v: Visit) -> None:
    if v.status != 200:  # reported by the first test; nothing to inspect on an error page
        v.extra.update(
            math={"unrendered": [], "errors": [], "missing_glyphs": [], "mathjax": []},
            code_overflow=[],
            images=[],
            axe=[],
            axe_dark=[],
            dark={"theme": None, "math": [], "figures": [], "body": 1.0},
        )
        return
    page.set_viewport_size({"width": 1366, "height": 768})
    v.extra["code_overflow"] = page.evaluate(INSPECT_CODE)
    v.extra["math"] = page.evaluate(INSPECT_MATH)
    v.extra["images"] = page.evaluate(INSPECT_IMAGES)
    v.extra["axe"] = serious_violations(page)
    to_dark(page)
    page.wait_for_timeout(100)  # one frame for the new styles
    v.extra["dark"] = page.evaluate(INSPECT_DARK)
    v.extra["axe_dark"] = serious_violations(page, runOnly=["color-contrast"])


@pytest.fixture(scope="session")
def visits(browser: Any, server: SiteServer) -> dict[str, Visit]:
    """Each page opened and inspected once, on first use."""

    class Lazy(dict):
        def __missing__(self, name: str) -> Visit:
            self[name] = visit(browser, server, name, then=inspect)
            return self[name]

    return Lazy()


@pytest.mark.parametrize("name", PAGES)
def test_page_loads_with_no_errors_and_nothing_from_other_origins(
    visits: dict[str, Visit], name: str
) -> None:
    v = visits[name]
    assert v.status == 200, f"{v.url}: HTTP {v.status}"
    assert not v.foreign, f"{name} requested other origins (blocked): {v.foreign}"
    assert not v.failed, f"{name}: failed requests {v.failed}"
    errors = [e for e in v.console_errors if not any(a in e for a in ALLOWED_CONSOLE_ERRORS)]
    assert not errors, f"{name}: console errors {errors}"


@pytest.mark.parametrize("name", PAGES)
def test_every_formula_arrives_typeset(visits: dict[str, Visit], name: str) -> None:
    math = visits[name].extra["math"]
    assert not math["unrendered"], f"{name}: .math without typeset SVG: {math['unrendered']}"
    assert not math["errors"], f"{name}: MathJax errors {math['errors']}"
    assert not math["missing_glyphs"], f"{name}: undefined glyphs {math['missing_glyphs']}"
    assert not math["mathjax"], f"{name}: MathJax loaded at run time: {math['mathjax']}"


@pytest.mark.parametrize("name", PAGES)
def test_every_image_loads_and_has_alt_text(visits: dict[str, Visit], name: str) -> None:
    images = visits[name].extra["images"]
    broken = [i["src"] for i in images if not i["hidden"] and i["width"] == 0]
    no_alt = [i["src"] for i in images if not (i["alt"] or "").strip()]
    assert not broken, f"{name}: images that did not load: {broken}"
    assert not no_alt, f"{name}: images without alt text: {no_alt}"


@pytest.mark.parametrize("name", PAGES)
def test_no_serious_accessibility_violations(visits: dict[str, Visit], name: str) -> None:
    assert not visits[name].extra["axe"], f"{name}: axe-core {visits[name].extra['axe']}"


@pytest.mark.parametrize("name", PAGES)
def test_dark_mode_keeps_figures_math_and_text_readable(
    visits: dict[str, Visit], name: str
) -> None:
    v = visits[name]
    dark = v.extra["dark"]
    assert dark["theme"] == "dark", f"{name}: the colour-mode button did not reach dark mode"
    assert dark["body"] < 0.1, f"{name}: dark mode left a light page (luminance {dark['body']})"
    low = [round(c, 2) for c in dark["math"] if c < 4.5]
    assert not low, f"{name}: math with contrast below 4.5:1 in dark mode: {low}"
    see_through = [
        f["src"]
        for f in dark["figures"]
        if any(a < 255 or min(r, g, b) < 230 for r, g, b, a in f["corners"])
    ]
    assert not see_through, (
        f"{name}: figures without an opaque light background "
        f"(invisible lines in dark mode): {see_through}"
    )
    assert not v.extra["axe_dark"], f"{name}: dark-mode contrast {v.extra['axe_dark']}"


@pytest.mark.parametrize("name", PAGES)
def test_code_cells_do_not_scroll_sideways(visits: dict[str, Visit], name: str) -> None:
    wide = visits[name].extra["code_overflow"]
    assert not wide, f"{name}: code cells wider than the column at 1366 px: {wide}"


@pytest.mark.parametrize("name", PAGES)
def test_first_load_fits_the_weight_budget(visits: dict[str, Visit], name: str) -> None:
    v = visits[name]
    assert v.transferred <= BUDGET_BYTES, (
        f"{name}: {v.transferred / 1e6:.2f} MB over {v.requests} requests on first load "
        f"(budget {BUDGET_BYTES / 1e6:.1f} MB); largest: {v.largest}"
    )


def search(browser: Any, server: SiteServer, query: str) -> list[str]:
    results: list[str] = []

    def run(page: Any, v: Visit) -> None:
        page.wait_for_selector("#search-results p.search-summary", timeout=20_000)
        results.extend(
            page.eval_on_selector_all(
                "#search-results ul.search li a", "as => as.map(a => a.getAttribute('href'))"
            )
        )

    v = visit(browser, server, f"search.html?q={query}", then=run)
    assert not v.console_errors and not v.foreign, (v.console_errors, v.foreign)
    return results


def test_search_finds_gradient(browser: Any, server: SiteServer) -> None:
    hits = search(browser, server, "gradient")
    assert hits, "the built-in search found nothing for 'gradient'"
    pages = {h.split("#")[0].split("?")[0].removesuffix(".html") for h in hits}
    assert pages <= set(PAGES), f"search results outside the book: {pages - set(PAGES)}"
    # A word that appears nowhere finds nothing: the search is really filtering.
    assert search(browser, server, "zyxwvutsrq") == []


# --- The checks themselves can fail -----------------------------------------------------------


def test_checks_catch_foreign_requests_and_broken_math(browser: Any, tmp_path: Path) -> None:
    """A page that loads from a CDN and MathJax, and holds untypeset TeX, a MathJax
    error and a glyph missing from its font cache, is caught on every count; the
    well typeset formula on it passes."""
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    import calcml_book

    page = tmp_path / "bad.html"
    page.write_text(
        '<!DOCTYPE html><html lang="en"><head><title>bad</title>'
        '<script src="https://cdn.example.org/x.js"></script>'
        '<script defer src="mathjax/tex-chtml.js"></script></head><body>'
        '<span class="math notranslate nohighlight">\\(x^2 + \\R\\)</span>'
        '<span class="math notranslate nohighlight">\\(\\frac{a}{b}\\)</span>'
        '<img src="missing.png" alt=""></body></html>',
        encoding="utf-8",
    )
    (tmp_path / "mathjax").mkdir()
    (tmp_path / "mathjax" / "tex-chtml.js").write_text("window.loaded = true;\n")
    calcml_book.prerender_math([page])
    html = page.read_text(encoding="utf-8")
    # Break the second formula: an error mark, and a glyph that the page does not define.
    second = html.index("\\frac{a}{b}")
    tail = html[second:].replace('<g data-mml-node="mfrac">', '<g data-mml-node="merror">', 1)
    tail = tail.replace('xlink:href="#MJX-TEX-I-1D44E"', 'xlink:href="#MJX-TEX-I-missing"', 1)
    html = html[:second] + tail
    html = html.replace("</body>", '<span class="math">no delimiters</span></body>')
    page.write_text(html, encoding="utf-8")
    with SiteServer(tmp_path) as s:
        v = visit(
            browser,
            s,
            "bad.html",
            then=lambda page, v: v.extra.update(
                math=page.evaluate(INSPECT_MATH), images=page.evaluate(INSPECT_IMAGES)
            ),
        )
    assert v.foreign == ["https://cdn.example.org/x.js"]
    assert any("missing.png" in f for f in v.failed)
    math = v.extra["math"]
    assert math["count"] == 3
    assert math["unrendered"] == ["no delimiters"]
    assert math["errors"] == ["\\frac{a}{b}"]
    assert math["missing_glyphs"] == ["MJX-TEX-I-missing"]
    assert [m.rsplit("/", 1)[-1] for m in math["mathjax"]] == ["tex-chtml.js"] * 2
    assert v.extra["images"][0]["width"] == 0 and v.extra["images"][0]["alt"] == ""


def test_code_width_check_catches_a_wide_cell(browser: Any, tmp_path: Path) -> None:
    """A 200-character line in a code cell (here inside a collapsed hide-input toggle)
    scrolls at 1366 px; a short one does not."""
    cell = (
        '<div class="cell"><div class="cell_input"><pre style="overflow:auto">{}</pre></div></div>'
    )
    (tmp_path / "wide.html").write_text(
        '<!DOCTYPE html><html lang="en"><head><title>w</title></head><body>'
        '<main style="max-width:60em">'
        + cell.format("short = 1")
        + '<details class="hide"><summary>show</summary>'
        + cell.format("short = 2\nwide = " + "1 + " * 50 + "1")
        + "</details></main></body></html>",
        encoding="utf-8",
    )

    def check(page: Any, v: Visit) -> None:
        page.set_viewport_size({"width": 1366, "height": 768})
        v.extra["code"] = page.evaluate(INSPECT_CODE)

    with SiteServer(tmp_path) as s:
        v = visit(browser, s, "wide.html", then=check)
    assert v.extra["code"] == ["wide = " + "1 + " * 50 + "1"]
