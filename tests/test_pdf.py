"""The whole-book PDF (``make pdf``): it builds without LaTeX errors and holds the book.

The PDF is built once per session exactly as ``make pdf`` builds it
(``scripts/build_book.py --builder pdflatex``, which runs xelatex through latexmk)
and then read back with poppler's ``pdftotext`` and ``pdfinfo``. Every expectation is
counted from the sources (``_toc.yml`` and the pages) or from the executed notebooks,
not from the LaTeX output being checked.

Skipped when xelatex or poppler is missing, unless ``CALCML_REQUIRE_PDF=1`` (set by
``.ci/run`` after it installs TeX), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
LATEX = ROOT / "_build" / "latex"
sys.path.insert(0, str(ROOT / "scripts"))
from build_book import toc_files  # noqa: E402

pytestmark = pytest.mark.pdf

TOOLS = ("xelatex", "latexmk", "xindy", "pdftotext", "pdfinfo")
IMAGE_MIMES = {"application/pdf", "image/png", "image/jpeg", "image/svg+xml"}
INTERACTIVE_MIMES = {
    "application/vnd.jupyter.widget-view+json",
    "application/vnd.plotly.v1+json",
    "application/vnd.bokehjs_exec.v0+json",
}


def require_tools() -> None:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        message = f"the PDF needs {', '.join(missing)} (see README, 'make pdf')"
        if os.environ.get("CALCML_REQUIRE_PDF") == "1":
            pytest.fail(message + "; CALCML_REQUIRE_PDF=1 requires them", pytrace=False)
        pytest.skip(message)


@pytest.fixture(scope="module")
def pdf() -> Path:
    require_tools()
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_book.py"), "--builder", "pdflatex"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    out = LATEX / "book.pdf"
    if proc.returncode != 0 or not out.is_file():
        tail = (proc.stdout + proc.stderr).splitlines()[-60:]
        pytest.fail("make pdf failed:\n" + "\n".join(tail), pytrace=False)
    return out


@pytest.fixture(scope="module")
def text(pdf: Path) -> str:
    raw = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return raw


def flat(s: str) -> str:
    """Text without layout: single spaces, no hyphenation at line ends."""
    return re.sub(r"\s+", " ", re.sub(r"-\n\s*", "", s)).strip()


def page_source(page: str) -> str:
    return (ROOT / f"{page}.md").read_text(encoding="utf-8")


def prose(page: str) -> str:
    """A page's markdown without its code cells."""
    return re.sub(r"```\{code-cell\}.*?\n```", "", page_source(page), flags=re.DOTALL)


def title(page: str) -> str:
    return re.search(r"^# (.+)$", prose(page), flags=re.MULTILINE)[1].strip()


def chapters() -> list[str]:
    return [p for p in toc_files() if p != yaml.safe_load((ROOT / "_toc.yml").read_text())["root"]]


def test_latex_log_has_no_errors_or_unresolved_references(pdf: Path) -> None:
    log = (LATEX / "book.log").read_text(encoding="utf-8", errors="replace")
    errors = [ln for ln in log.splitlines() if ln.startswith("! ") or "LaTeX Error" in ln]
    assert not errors, "LaTeX errors:\n" + "\n".join(errors[:20])
    undefined = re.findall(r"LaTeX Warning: (?:Reference|Citation) .*? undefined", log)
    assert not undefined, "\n".join(undefined[:20])
    assert "There were undefined references" not in log


def test_pdf_metadata(pdf: Path) -> None:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    fields = dict(ln.split(":", 1) for ln in info.splitlines() if ":" in ln)
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert fields["Title"].strip() == config["title"]
    assert int(fields["Pages"]) >= 2 * len(toc_files())


def test_every_page_of_the_toc_is_in_the_pdf(text: str) -> None:
    body = flat(text)
    missing = [title(p) for p in toc_files() if flat(title(p)) not in body]
    assert not missing, f"titles missing from the PDF: {missing}"
    # Chapters are in the table of contents too, as numbered entries.
    contents = flat(text.split("Bibliography", 1)[0])
    assert all(flat(title(p)) in contents for p in chapters())


def test_every_equation_number_resolves(text: str) -> None:
    assert "??" not in text, "an unresolved reference (??) in the PDF"
    labelled = sum(
        len(re.findall(r"^\$\$.*?\$\$\s*\([\w:-]+\)\s*$", prose(p), flags=re.M | re.S))
        + len(
            re.findall(
                r"^:label:",
                re.sub(r"```\{(?!math)[^}]+\}.*?```", "", prose(p), flags=re.S),
                flags=re.M,
            )
        )
        for p in toc_files()
    )
    # Right-aligned "(chapter.n)" after a wide gap: not numbers printed by code cells.
    numbers = {
        f"{c}.{n}"
        for c, n in re.findall(r"\s{3,}\(([1-9]\d*)\.([1-9]\d*)\)\s*$", text, flags=re.M)
        if int(c) <= len(toc_files())
    }
    assert len(numbers) == labelled, (
        f"{labelled} numbered equations in the pages, "
        f"{len(numbers)} equation numbers in the PDF: {sorted(numbers)}"
    )


def executed(page: str) -> dict:
    """The page as executed for this build: its record in the execution cache.

    (``_build/jupyter_execute`` is not used: myst-nb rewrites it without outputs when a
    page comes from the cache.)
    """
    import jupytext
    from jupyter_cache import get_cache

    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    cache = get_cache(ROOT / config["execute"]["cache"])
    record = cache.match_cache_notebook(jupytext.read(ROOT / f"{page}.md"))
    return cache.get_cache_bundle(record.pk).nb


def expected_figures() -> int:
    """Image outputs of the executed pages that a reader sees (not removed)."""
    count = 0
    for page in toc_files():
        if "```{code-cell}" not in page_source(page):
            continue
        for cell in executed(page).cells:
            tags = set(cell.get("metadata", {}).get("tags", []))
            if cell["cell_type"] != "code" or tags & {"remove-cell", "remove-output"}:
                continue
            for output in cell.get("outputs", []):
                data = output.get("data", {})
                if set(data) & INTERACTIVE_MIMES:
                    assert set(data) & {"application/pdf", "image/png"}, (
                        f"{page}: an interactive output without a static fallback"
                    )
                if set(data) & IMAGE_MIMES and "scrapbook" not in output.get("metadata", {}):
                    count += 1
    return count


def test_every_figure_is_in_the_pdf_as_a_pdf_or_png(pdf: Path) -> None:
    tex = (LATEX / "book.tex").read_text(encoding="utf-8")
    included = re.findall(r"\\sphinxincludegraphics(?:\[[^]]*\])?\{\{?([^}]+)\}([^}]*)\}", tex)
    files = [name + ext for name, ext in included]
    assert all(f.endswith((".pdf", ".png")) for f in files), files
    log = (LATEX / "book.log").read_text(encoding="utf-8", errors="replace")
    used = re.findall(r"<use (\S+\.(?:pdf|png))", log)
    captioned = sum(
        len(re.findall(r"^\s+caption:", page_source(p), flags=re.M)) for p in toc_files()
    )
    expected = expected_figures()
    assert len(files) == len(used) == expected, (
        f"{expected} figures in the executed pages, {len(files)} in book.tex, "
        f"{len(used)} embedded by xelatex"
    )
    assert expected >= captioned


def test_figure_captions_are_numbered_in_the_pdf(text: str) -> None:
    captioned = sum(
        len(re.findall(r"^\s+caption:", page_source(p), flags=re.M))
        + len(re.findall(r"^```\{figure\}", page_source(p), flags=re.M))
        for p in toc_files()
    )
    captions = re.findall(r"^\s*Fig\. \d+\.\d+:", text, flags=re.MULTILINE)
    assert len(captions) == captioned


def test_exercises_and_their_solutions_are_printed(text: str) -> None:
    exercises = sum(
        len(re.findall(r"^```\{exercise(?:-start)?\}", page_source(p), flags=re.M))
        for p in toc_files()
    )
    solutions = sum(
        len(re.findall(r"^```\{solution(?:-start)?\}", page_source(p), flags=re.M))
        for p in toc_files()
    )
    # An exercise's heading is its number alone on a line (a title would follow in
    # parentheses); a reference to it in the prose ("Exercise 3.8.7).") is not.
    heading = r"^\s*\S*\s*Exercise \d+\.\d+\.\d+(?:\s*\(.*\))?\s*$"
    assert len(re.findall(heading, text, flags=re.M)) == exercises
    assert len(re.findall(r"^\s*\S*\s*Solution\s*$", text, flags=re.M)) == solutions
    # Toggled content is dropped from LaTeX: solutions must not be in dropdowns.
    for page in toc_files():
        for block in re.findall(
            r"```\{solution(?:-start)?\}[^\n]*\n((?::\w+:.*\n)*)", page_source(page)
        ):
            assert "dropdown" not in block, f"{page}: a solution in a dropdown vanishes in the PDF"


def test_bibliography_lists_every_reference(text: str) -> None:
    assert re.search(r"^\s*BIBLIOGRAPHY\s*$", text, flags=re.MULTILINE)
    bib = (ROOT / "book" / "references.bib").read_text(encoding="utf-8")
    keys = re.findall(r"^@\w+\{([^,]+),", bib, flags=re.MULTILINE)
    entries = re.findall(r"^\[(\d+)\]\s", text.split("BIBLIOGRAPHY")[-1], flags=re.MULTILINE)
    assert len(entries) == len(keys), f"{len(keys)} works in references.bib, {len(entries)} listed"
