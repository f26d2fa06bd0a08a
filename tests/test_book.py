"""Checks of the built HTML site: every page, every image, link, formula and citation.

The site is built once per session by the ``built_site`` fixture (tests/conftest.py).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import calcml_book  # noqa: E402

pytestmark = pytest.mark.book


def toc_files() -> list[str]:
    """Every page named in ``_toc.yml``, root first."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]

    def walk(entries: list[dict]) -> None:
        for entry in entries:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections", []))

    for part in toc.get("parts", []):
        walk(part.get("chapters", []))
    walk(toc.get("chapters", []))
    return files


def chapter_pages() -> list[str]:
    return [f for f in toc_files() if f not in {"book/intro", "book/notation", "book/references"}]


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


def formulas(site: Path) -> list[dict]:
    found = []
    for page in html_pages(site):
        for el in soup(page).select(".math"):
            for number in el.select(".eqno"):  # "(1.1)" and its "#" permalink are not TeX
                number.extract()
            tex = el.get_text().strip()
            display = tex.startswith("\\[")
            for opener, closer in (("\\(", "\\)"), ("\\[", "\\]")):
                if tex.startswith(opener) and tex.endswith(closer):
                    tex = tex[2:-2]
            found.append({"page": page.name, "tex": tex, "display": display})
    return found


def test_every_formula_typesets_with_the_books_macros(built_site: Path, tmp_path: Path) -> None:
    """MathJax 3 itself (from node_modules) typesets every formula with undefined macros
    treated as errors; the browser would otherwise draw them in red without complaint."""
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "mathjax").is_dir():
        pytest.fail("node and node_modules/mathjax are needed: run 'npm ci' (make does)")
    found = formulas(built_site)
    assert len(found) > 20
    (tmp_path / "f.json").write_text(json.dumps(found))
    (tmp_path / "m.json").write_text(
        json.dumps(calcml_book.mathjax_macros(calcml_book.load_macros()))
    )
    proc = subprocess.run(
        [
            node,
            str(ROOT / "scripts" / "check_math.js"),
            str(tmp_path / "f.json"),
            str(tmp_path / "m.json"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, f"TeX errors:\n{proc.stdout}\n{proc.stderr}"


def test_math_checker_catches_an_undefined_macro(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "mathjax").is_dir():
        pytest.fail("node and node_modules/mathjax are needed: run 'npm ci' (make does)")
    (tmp_path / "f.json").write_text(
        json.dumps(
            [
                {"page": "p", "tex": r"\grad f(x) = \pd{f}{x}", "display": False},
                {"page": "p", "tex": r"\undefinedmacro x", "display": False},
            ]
        )
    )
    (tmp_path / "m.json").write_text(
        json.dumps(calcml_book.mathjax_macros(calcml_book.load_macros()))
    )
    proc = subprocess.run(
        [
            node,
            str(ROOT / "scripts" / "check_math.js"),
            str(tmp_path / "f.json"),
            str(tmp_path / "m.json"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert "Undefined control sequence \\\\undefinedmacro" in proc.stdout
    assert proc.stdout.count("\n") == 1


def test_macros_reach_mathjax_and_latex(built_site: Path) -> None:
    macros = calcml_book.load_macros()
    html = (built_site / "book" / "notation.html").read_text(encoding="utf-8")
    config = json.loads(re.search(r"window\.MathJax = (\{.*?\})\s*</script>", html, re.S).group(1))
    assert config["tex"]["macros"] == calcml_book.mathjax_macros(macros)
    preamble = calcml_book.latex_preamble(macros)
    for name, (definition, n_args, _) in macros.items():
        args = f"[{n_args}]" if n_args else ""
        assert f"\\renewcommand{{\\{name}}}{args}{{{definition}}}" in preamble
    # The notation page shows one table row per macro, generated from the same file.
    rows = soup(built_site / "book" / "notation.html").select("table tbody tr")
    assert len(rows) == len(macros)


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
