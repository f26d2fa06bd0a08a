"""The built site offers the published downloads and launch links on every page.

Uses the session's ``built_site`` (tests/conftest.py). Each page's download menu has
its ``.md`` source, its notebook and the whole-book PDF; the navigation bar and the
intro link to the PDF at its stable URL; the Binder and Colab buttons point where
the deploy workflow publishes (``main`` for Binder, the ``notebooks`` branch's
``.ipynb`` for Colab). Notebook export is checked here too.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import calcml_publish  # noqa: E402
from build_book import toc_files  # noqa: E402
from export_notebooks import export  # noqa: E402

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
PDF_URL = calcml_publish.site_url(CONFIG).rstrip("/") + "/book.pdf"
REPO = CONFIG["repository"]["url"]
OWNER_REPO = urlsplit(REPO).path.strip("/")


def page(site: Path, name: str) -> BeautifulSoup:
    return BeautifulSoup((site / f"{name}.html").read_text(encoding="utf-8"), "html.parser")


def notebook_pages() -> list[str]:
    """Pages with a kernelspec: the theme gives them launch buttons and an .ipynb."""
    out = []
    for name in toc_files():
        head = (ROOT / f"{name}.md").read_text(encoding="utf-8").split("---", 2)
        if len(head) == 3 and "kernelspec" in yaml.safe_load(head[1]):
            out.append(name)
    return out


@pytest.mark.book
def test_every_page_offers_its_source_notebook_and_the_pdf(built_site: Path) -> None:
    for name in toc_files():
        menu = page(built_site, name).select_one(".dropdown-download-buttons")
        assert menu is not None, f"{name}: no download menu"
        hrefs = [a["href"] for a in menu.find_all("a", href=True)]
        assert PDF_URL in hrefs, f"{name}: no whole-book PDF in {hrefs}"
        local = [h for h in hrefs if not urlsplit(h).scheme]
        for href in local:
            assert (built_site / name).parent.joinpath(href).resolve().is_file(), (name, href)
        assert any(h.endswith(f"_sources/{name}.md") for h in local), (name, hrefs)
        if name in notebook_pages():
            ipynb = [h for h in local if h.endswith(f"_sources/{name}.ipynb")]
            assert ipynb, f"{name}: no .ipynb download"
            nb = json.loads((built_site / name).parent.joinpath(ipynb[0]).read_text())
            assert nb["nbformat"] == 4 and nb["cells"]


@pytest.mark.book
def test_navigation_bar_and_intro_link_to_the_pdf(built_site: Path) -> None:
    for name in toc_files():
        nav = page(built_site, name).select(".navbar-icon-links a[href]")
        assert PDF_URL in [a["href"] for a in nav], f"{name}: no PDF link in the navigation bar"
    root = yaml.safe_load((ROOT / "_toc.yml").read_text())["root"]
    body = page(built_site, root).select_one("article") or page(built_site, root)
    links = [a for a in body.find_all("a", href=True) if a["href"] == PDF_URL]
    assert any("PDF" in a.get_text() for a in links), "the intro does not link to the PDF"


@pytest.mark.book
def test_launch_buttons_open_binder_on_main_and_colab_on_the_notebooks(built_site: Path) -> None:
    pages = notebook_pages()
    assert pages
    for name in pages:
        launch = page(built_site, name).select_one(".dropdown-launch-buttons")
        assert launch is not None, f"{name}: no launch buttons"
        hrefs = [a["href"] for a in launch.find_all("a", href=True)]
        binder = [h for h in hrefs if h.startswith("https://mybinder.org/")]
        colab = [h for h in hrefs if h.startswith("https://colab.research.google.com/")]
        assert binder == [
            f"https://mybinder.org/v2/gh/{OWNER_REPO}/main?urlpath=lab/tree/{name}.md"
        ], hrefs
        assert parse_qs(urlsplit(binder[0]).query)["urlpath"] == [f"lab/tree/{name}.md"]
        assert colab == [
            f"https://colab.research.google.com/github/{OWNER_REPO}/blob/notebooks/{name}.ipynb"
        ], hrefs


def test_colab_url_helper() -> None:
    url = calcml_publish.colab_notebook_url(
        "https://colab.research.google.com/", "https://github.com/a/b.git", "nb", "book/x"
    )
    assert url == "https://colab.research.google.com/github/a/b/blob/nb/book/x.ipynb"
    assert (
        calcml_publish.colab_notebook_url("https://c", "https://gitlab.com/a/b", "nb", "x") is None
    )


def test_export_writes_one_clean_notebook_per_page(tmp_path: Path) -> None:
    import jupytext

    written = export(ROOT, tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in written] == [
        f"{name}.ipynb" for name in toc_files()
    ]
    for name, path in zip(toc_files(), written, strict=True):
        nb = json.loads(path.read_text(encoding="utf-8"))
        assert nb["metadata"]["kernelspec"]["name"] == "python3"
        assert "jupytext" not in nb["metadata"]
        source = jupytext.read(ROOT / f"{name}.md")
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert len(code) == sum(c.cell_type == "code" for c in source.cells), name
        assert all(c["outputs"] == [] and c["execution_count"] is None for c in code)
