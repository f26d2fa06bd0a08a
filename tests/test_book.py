"""Checks of the built HTML site: every page, every image, link, formula and citation.

The site is built once per session by the ``built_site`` fixture (tests/conftest.py).
"""

from __future__ import annotations

import html
import re
import sys
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "book" / "_ext"))
sys.path.insert(0, str(ROOT / "scripts"))
import calcml_book  # noqa: E402
from build_book import chapter_files, toc_files  # noqa: E402

pytestmark = pytest.mark.book


def chapter_pages() -> list[str]:
    return chapter_files()


@cache
def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def html_pages(site: Path) -> list[Path]:
    return [site / f"{f}.html" for f in toc_files()]


def test_every_toc_page_is_built(built_site: Path) -> None:
    missing = [str(p.relative_to(built_site)) for p in html_pages(built_site) if not p.is_file()]
    assert not missing, f"pages in _toc.yml without HTML: {missing}"
    assert (built_site / "index.html").is_file()


def test_no_cell_output_shows_an_error(built_site: Path) -> None:
    bad = []
    for page in html_pages(built_site):
        for out in soup(page).select("div.cell_output, div.output"):
            text = out.get_text(" ")
            classes = " ".join(out.get("class", []))
            if (
                "Traceback (most recent call last)" in text
                or "traceback" in classes
                or "stderr" in classes
                or re.search(r"\b\w+Error\b:", text)
            ):
                bad.append(f"{page.name}: {text.strip()[:120]}")
    assert not bad, "cell outputs with errors or stderr:\n" + "\n".join(bad)


def looks_like_a_path(alt: str) -> bool:
    return bool(re.search(r"\.(png|svg|jpe?g|gif|pdf)\b|/|\\|^[0-9a-f]{16,}$", alt))


def test_every_image_has_real_alt_text(built_site: Path) -> None:
    bad = []
    for page in html_pages(built_site):
        for img in soup(page).find_all("img"):
            alt = (img.get("alt") or "").strip()
            if len(alt) < 8 or looks_like_a_path(alt):
                bad.append(f"{page.name}: src={img.get('src')!r} alt={alt!r}")
    assert not bad, "images without real alt text:\n" + "\n".join(bad)


def test_alt_text_check_rejects_file_paths() -> None:
    # MyST-NB writes the image's path into alt when a cell gives none: that is not alt text.
    assert looks_like_a_path("../_images/0b1c2d3e4f5a6b7c8d9e.svg")
    assert looks_like_a_path("0b1c2d3e4f5a6b7c8d9e0f1a2b3c")
    assert not looks_like_a_path("The parabola y equals x squared with two tangent lines")


def test_internal_links_and_anchors_resolve(built_site: Path) -> None:
    ids: dict[Path, set[str]] = {}
    broken = []
    pages = sorted(built_site.rglob("*.html"))
    for page in pages:
        ids[page] = {el["id"] for el in soup(page).find_all(id=True)}
    for page in html_pages(built_site):
        for a in soup(page).find_all("a", href=True):
            href = a["href"]
            parts = urlsplit(href)
            if parts.scheme or href.startswith(("//", "mailto:", "javascript:")):
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page.name}: {href} (no file)")
            elif parts.fragment and target.suffix == ".html":
                if target not in ids:
                    ids[target] = {el["id"] for el in soup(target).find_all(id=True)}
                if unquote(parts.fragment) not in ids[target]:
                    broken.append(f"{page.name}: {href} (no anchor)")
    assert not broken, "broken internal links:\n" + "\n".join(sorted(set(broken)))


def test_pages_with_math_render_math(built_site: Path) -> None:
    for f in toc_files():
        source = (ROOT / f"{f}.md").read_text(encoding="utf-8")
        if re.search(r"\$[^$\n]+\$", source):
            assert soup(built_site / f"{f}.html").select(".math"), (
                f"{f}: math in source, none in HTML"
            )


def math_elements(site: Path) -> list[tuple[str, Any]]:
    """Every ``.math`` element of every toc page, with its page's name."""
    return [(page.name, el) for page in html_pages(site) for el in soup(page).select(".math")]


def test_every_formula_is_typeset_at_build_time(built_site: Path) -> None:
    """The build typesets every formula (scripts/prerender_math.js): SVG for the eye,
    MathML for screen readers, the TeX kept in ``data-tex``; none is left as TeX."""
    found = math_elements(built_site)
    assert len(found) > 20
    bad = [
        f"{name}: {el.get_text()[:80]!r}"
        for name, el in found
        if not el.get("data-tex")
        or len(el.select(":scope > mjx-container > svg")) != 1
        or not el.select("mjx-container > mjx-assistive-mml > math")
        or el.select('[data-mml-node="merror"], mjx-merror')
    ]
    assert not bad, "formulas not typeset:\n" + "\n".join(bad[:20])
    # Equation numbers stay next to their formula.
    numbered = [el for _, el in found if el.select(":scope > span.eqno")]
    assert numbered and all(el.name == "div" for el in numbered)


def test_no_tex_is_left_in_the_text(built_site: Path) -> None:
    """Readers see TeX that is not inside a math element as raw text: for example a
    ``$...$`` whose second line starts with ``- `` (Markdown makes that line a list
    item, so the dollars no longer pair up)."""
    bad = []
    for page in html_pages(built_site):
        doc = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")  # modified below
        for el in doc.select("pre, code, kbd, samp, script, style, .math, .highlight"):
            el.extract()
        text = " ".join(doc.body.get_text(" ").split()) if doc.body else ""
        bad += [
            f"{page.name}: ...{m.group(0)}..."
            for m in re.finditer(r".{0,50}(?:\$|\\[A-Za-z]+|\\[(\[]).{0,50}", text)
        ]
    assert not bad, "raw TeX in the text of pages:\n" + "\n".join(bad)


def prerender(tmp_path: Path, body: str, name: str = "page.html") -> Path:
    page = tmp_path / name
    page.write_text(
        f'<!DOCTYPE html><html lang="en"><head><title>t</title></head><body class="x">{body}'
        "</body></html>",
        encoding="utf-8",
    )
    calcml_book.prerender_math([page])
    return page


def test_prerenderer_typesets_inline_and_numbered_display_math(tmp_path: Path) -> None:
    page = prerender(
        tmp_path,
        '<p>Let <span class="math notranslate nohighlight">\\(a &lt; b \\&amp; \\R\\)</span>.</p>'
        '<div class="math notranslate nohighlight" id="equation-q">\n'
        '<span class="eqno">(1.1)<a class="headerlink" href="#equation-q">#</a></span>'
        "\\[\n\\begin{pmatrix} 1 &amp; 0 \\end{pmatrix} = \\pd{f}{x}\n\\]</div>",
    )
    html = page.read_text(encoding="utf-8")
    doc = BeautifulSoup(html, "html.parser")
    inline, display = doc.select(".math")
    assert inline["data-tex"] == r"a < b \& \R"
    assert display["data-tex"] == r"\begin{pmatrix} 1 & 0 \end{pmatrix} = \pd{f}{x}"
    assert display["id"] == "equation-q" and display.select_one("span.eqno").get_text() == "(1.1)#"
    assert display.select_one("mjx-container")["display"] == "true"
    # A wide display formula scrolls sideways: it must take the keyboard focus.
    assert display.select_one("mjx-container")["tabindex"] == "0"
    assert not inline.select_one("mjx-container").get("display")
    # MathML for screen readers: \R is the double-struck R, \pd a fraction of partials.
    assert inline.select_one('math mi[mathvariant="double-struck"]').get_text() == "R"
    assert display.select_one("math mfrac").get_text().count("\u2202") == 2
    # One font cache per page, holding every glyph that the formulas use.
    (cache,) = doc.select("body > svg#MJX-SVG-global-cache")
    glyphs = {p["id"] for p in cache.select("defs > path")}
    used = {u["xlink:href"].lstrip("#") for u in doc.select("mjx-container use")}
    assert used and used <= glyphs
    assert "MJX-TEX-D-211D" in glyphs  # U+211D DOUBLE-STRUCK CAPITAL R
    assert doc.select_one("head > style#MJX-SVG-styles")
    # A second run leaves a rendered page as it is.
    calcml_book.prerender_math([page])
    assert page.read_text(encoding="utf-8") == html


def test_prerenderer_fails_on_an_undefined_macro(tmp_path: Path) -> None:
    """Any TeX error fails the build, with the page and the formula; a page is
    rewritten only when all of its formulas typeset."""
    body = (
        '<span class="math notranslate nohighlight">\\(\\grad f(x) = \\pd{f}{x}\\)</span>'
        '<span class="math notranslate nohighlight">\\(\\undefinedmacro x\\)</span>'
    )
    page = tmp_path / "bad.html"
    with pytest.raises(calcml_book.MathError) as err:
        prerender(tmp_path, body, "bad.html")
    assert err.value.errors == [
        {
            "page": str(page),
            "tex": "\\undefinedmacro x",
            "error": "Undefined control sequence \\undefinedmacro",
        }
    ]
    assert "bad.html: Undefined control sequence \\undefinedmacro in: \\undefinedmacro x" in str(
        err.value
    )
    assert "mjx-container" not in page.read_text(encoding="utf-8")


def test_prerenderer_fails_on_math_in_an_unexpected_form(tmp_path: Path) -> None:
    with pytest.raises(calcml_book.MathError, match="unexpected form"):
        prerender(tmp_path, '<span class="math">x^2 without delimiters</span>')


def test_macros_reach_the_html_rendering_and_latex(built_site: Path, tmp_path: Path) -> None:
    """The notation table shows each macro of macros.yml rendered on the built page; it
    must be the same MathML as the macro's definition written out in plain TeX."""
    macros = calcml_book.load_macros()
    preamble = calcml_book.latex_preamble(macros)
    for name, (definition, n_args, _) in macros.items():
        args = f"[{n_args}]" if n_args else ""
        assert f"\\renewcommand{{\\{name}}}{args}{{{definition}}}" in preamble
    # The notation page shows one table row per macro, generated from the same file.
    rows = soup(built_site / "book" / "notation.html").select("table tbody tr")
    assert len(rows) == len(macros)
    examples = {0: [], 1: ["x"], 2: ["f", "x"]}
    shown, expanded = {}, []
    for row, (name, (definition, n_args, _)) in zip(rows, macros.items(), strict=True):
        (el,) = row.select(".math")
        # The transpose is shown after an argument (x\T); the other macros take theirs.
        base = "x" if name == "T" else ""
        args = "".join(f"{{{a}}}" for a in examples[n_args])
        assert el["data-tex"] == f"{base}\\{name}{args}"
        shown[name] = str(el.select_one("mjx-assistive-mml math"))
        for i, arg in enumerate(examples[n_args], start=1):
            definition = definition.replace(f"#{i}", arg)
        definition = base + definition
        expanded.append(
            f'<span class="math notranslate nohighlight">\\({html.escape(definition)}\\)</span>'
        )
    # The definitions typeset with no macros at all: what the macros must have produced.
    page = tmp_path / "plain.html"
    page.write_text(f"<html><head></head><body>{''.join(expanded)}</body></html>", encoding="utf-8")
    calcml_book.prerender_math([page], macros={})
    plain = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").select(".math")
    for (name, math), el in zip(shown.items(), plain, strict=True):
        assert math == str(el.select_one("mjx-assistive-mml math")), name
    # And independently of MathJax's own output: \R is the double-struck capital R.
    assert '<mi mathvariant="double-struck">R</mi>' in shown["R"]
    r_glyphs = [u["xlink:href"] for u in rows[0].select("mjx-container use")]
    assert r_glyphs == ["#MJX-TEX-D-211D"]  # U+211D DOUBLE-STRUCK CAPITAL R


def cited_keys() -> set[str]:
    keys: set[str] = set()
    for f in toc_files():
        text = (ROOT / f"{f}.md").read_text(encoding="utf-8")
        for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", text):
            keys.update(k.strip() for k in group.split(","))
    return keys


def bib_titles() -> dict[str, str]:
    text = (ROOT / "book" / "references.bib").read_text(encoding="utf-8")
    entries = re.findall(r"@\w+\{([^,]+),(.*?)\n\}", text, re.S)
    titles = {}
    for key, body in entries:
        title = re.search(r"\btitle\s*=\s*\{(.*?)\},?\n", body, re.S).group(1)
        titles[key.strip()] = re.sub(r"[{}]", "", title)
    return titles


def test_bibliography_lists_every_cited_key(built_site: Path) -> None:
    keys, titles = cited_keys(), bib_titles()
    assert keys, "no page cites anything"
    assert keys <= set(titles), f"cited keys missing from references.bib: {keys - set(titles)}"
    # BibTeX styles change the case of article titles: compare without case.
    text = " ".join(soup(built_site / "book" / "references.html").get_text(" ").split()).lower()
    missing = [k for k in sorted(keys) if " ".join(titles[k].split()).lower() not in text]
    assert not missing, f"cited works not listed on the references page: {missing}"


def test_chapter_pages_seed_their_random_generators() -> None:
    unseeded = re.compile(
        r"default_rng\(\s*\)|np\.random\.(rand|randn|normal|uniform|seed|choice)\("
    )
    bad = [
        f
        for f in chapter_pages()
        if unseeded.search((ROOT / f"{f}.md").read_text(encoding="utf-8"))
    ]
    assert not bad, f"pages with unseeded or global random number generators: {bad}"


def random_calls() -> set[str]:
    """The public calcml functions and classes that take ``rng`` (they draw random numbers)."""
    import importlib
    import inspect

    import calcml

    names = set()
    for module in calcml.__all__:
        mod = importlib.import_module(f"calcml.{module}")
        for name in getattr(mod, "__all__", []):
            try:
                params = inspect.signature(getattr(mod, name)).parameters
            except (TypeError, ValueError):
                continue
            if "rng" in params:
                names.add(name)
    return names


def test_random_calls_are_found_from_the_signatures() -> None:
    known = {"MLP", "two_moons", "sgd", "check_grad", "monte_carlo", "top_eigenvalue"}
    assert known <= random_calls()
    assert "derivative" not in random_calls()


def test_chapter_pages_pass_an_explicit_rng_to_calcml() -> None:
    """``rng=None`` means fresh entropy, so a page that leaves it out is not reproducible."""
    import ast

    import jupytext

    missing, random = [], random_calls()
    for f in chapter_pages():
        for cell in jupytext.read(ROOT / f"{f}.md").cells:
            if cell.cell_type != "code":
                continue
            code = re.sub(r"^(\s*)[%!].*$", r"\1pass", cell.source, flags=re.M)  # magics
            for node in ast.walk(ast.parse(code)):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name in random and "rng" not in {k.arg for k in node.keywords}:
                    missing.append(f"{f}: {ast.unparse(node)[:80]}")
    assert not missing, "calls without rng=:\n" + "\n".join(missing)


def test_chapter_numbers_in_link_text_match_the_toc() -> None:
    """``{doc}`Chapter 3 <page>``` must name the number the page really has."""
    numbers = {Path(f).name: i for i, f in enumerate(chapter_pages(), start=1)}
    wrong = []
    for f in toc_files():
        text = (ROOT / f"{f}.md").read_text(encoding="utf-8")
        for n, target in re.findall(r"\{doc\}`[Cc]hapter (\d+) <([\w/]+)>`", text):
            if numbers.get(Path(target).name) != int(n):
                wrong.append(
                    f"{f}: 'chapter {n}' links to {target} (chapter {numbers.get(target)})"
                )
    assert not wrong, "\n".join(wrong)


# Code a reader sees (visible and hide-input cells) fits the text column: at a 1366 px
# window the column holds about 85 characters of code (tests/test_browser.py measures the
# scroll in Chromium; this check names the offending lines).
CODE_COLUMNS = 85


def long_code_lines(page: Path, limit: int = CODE_COLUMNS) -> list[str]:
    """Lines of the page's code-cell inputs (``remove-input`` cells are not in the HTML)
    that are longer than ``limit`` characters."""
    return [
        f"{page.name}: {len(line)} chars: {line.strip()[:70]}"
        for pre in soup(page).select("div.cell div.cell_input pre")
        for line in pre.get_text().splitlines()
        if len(line) > limit
    ]


def test_code_cells_fit_the_text_column(built_site: Path) -> None:
    bad = [line for page in html_pages(built_site) for line in long_code_lines(page)]
    assert not bad, f"code lines over {CODE_COLUMNS} characters:\n" + "\n".join(bad)


def test_code_width_check_catches_a_long_line(tmp_path: Path) -> None:
    page = tmp_path / "wide.html"
    page.write_text(
        '<div class="cell"><div class="cell_input"><pre>short = 1\n'
        + "x = "
        + "1 + " * 30
        + "1\n</pre></div></div>",
        encoding="utf-8",
    )
    (line,) = long_code_lines(page)
    assert line.startswith("wide.html: 125 chars: x = 1 + 1")
    assert long_code_lines(page, limit=200) == []


def macro_scripts(text: str, macros: dict[str, Any]) -> list[str]:
    """``_\\R`` or ``^\\T``: a sub- or superscript whose argument is a macro without
    braces. MathJax accepts it, but xelatex stops on it (``\\R`` is ``\\mathbb{R}``)."""
    names = "|".join(sorted(macros, key=len, reverse=True))
    return [m.group(0) for m in re.finditer(r"[_^]\\(?:" + names + r")(?![A-Za-z])", text)]


def test_macros_are_braced_in_sub_and_superscripts() -> None:
    macros = calcml_book.load_macros()
    bad = [
        f"{f}: {hit}"
        for f in toc_files()
        for hit in macro_scripts((ROOT / f"{f}.md").read_text(encoding="utf-8"), macros)
    ]
    assert not bad, "write _{\\R}, not _\\R (the PDF build fails):\n" + "\n".join(bad)
    assert macro_scripts(r"$\int_\R f$ and $x^\T$ but $\int_{\R} f$", macros) == [
        "_\\R",
        "^\\T",
    ]
