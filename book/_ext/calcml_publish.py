"""Local Sphinx extension: links to what the deploy workflow publishes next to the site.

The deploy workflow (``.github/workflows/deploy.yml``) puts the whole-book PDF at
``<html.baseurl>/book.pdf`` and a clean notebook per page on the ``notebooks``
branch (written by ``scripts/export_notebooks.py``). This extension

* adds a "whole book (PDF)" link to the navigation bar (the theme's icon links)
  and to every page's download menu, next to the page's ``.md`` and ``.ipynb``;
* defines the MyST substitution ``{{ pdf_link }}`` for the same link in prose;
* points the Colab launch button at the page's ``.ipynb`` on the ``notebooks``
  branch: the theme would link the ``.md`` source, which Colab cannot open.

The PDF URL is absolute (the site's base URL), so it is the same stable address on
every page and in the PDF itself; without a base URL it falls back to ``book.pdf``
relative to the site root.

One source for the addresses: ``_config.yml``'s ``repository.url``. The site's base URL
(``html_baseurl``, used by the PDF link, sphinx-sitemap and, as ``ogp_site_url``, by
sphinxext-opengraph) is derived from it as the GitHub Pages address
``https://<owner>.github.io/<repository>/`` unless ``html.baseurl`` is set explicitly
(a custom domain). The tests use :func:`site_url` for the same derivation, and
``scripts/set_repository.py`` rewrites the few literal copies (the install cell of
each chapter, which runs in Colab without the repository, and CITATION.cff).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

PDF_NAME = "book.pdf"
PDF_TEXT = "Whole book (PDF)"


def pages_url(repo_url: str) -> str | None:
    """GitHub Pages' address of a GitHub repository's project site (``None`` elsewhere).

    >>> pages_url("https://github.com/Owner/some-book")
    'https://owner.github.io/some-book/'
    >>> pages_url("https://github.com/Someone/someone.github.io.git")
    'https://someone.github.io/'
    >>> pages_url("https://gitlab.com/a/b") is None
    True
    """
    parts = urlsplit(repo_url.strip())
    owner_repo = parts.path.strip("/").removesuffix(".git").split("/")
    if parts.netloc != "github.com" or len(owner_repo) != 2 or not all(owner_repo):
        return None
    owner, repo = owner_repo[0].lower(), owner_repo[1]
    if repo.lower() == f"{owner}.github.io":  # a user or organisation site
        return f"https://{owner}.github.io/"
    return f"https://{owner}.github.io/{repo}/"


def site_url(book_config: dict[str, Any]) -> str:
    """The site's base URL from ``_config.yml`` (as a dict): ``html.baseurl`` when it is
    set, else the Pages address of ``repository.url``; ``""`` when neither is known."""
    explicit = str((book_config.get("html") or {}).get("baseurl") or "").strip()
    if explicit:
        return explicit.rstrip("/") + "/"
    return pages_url(str((book_config.get("repository") or {}).get("url") or "")) or ""


def _derive_site_url(app: Any, config: Any) -> None:
    """``html_baseurl`` and ``ogp_site_url`` from the repository URL unless set."""
    repo_url = str((config.html_theme_options or {}).get("repository_url") or "")
    base = (getattr(config, "html_baseurl", "") or "").strip() or pages_url(repo_url) or ""
    if base:
        config.html_baseurl = base.rstrip("/") + "/"
        if not getattr(config, "ogp_site_url", None):
            config.ogp_site_url = config.html_baseurl
    # sphinx-notfound-page: the 404 page is served at any depth, so its links are
    # absolute paths under the site's path ("/<repository>/" on GitHub Pages).
    if hasattr(config, "notfound_urls_prefix"):
        config.notfound_urls_prefix = urlsplit(config.html_baseurl or "/").path or "/"


def chapters(srcdir: str | Path) -> list[str]:
    """The documents of the ``Chapters`` part of ``_toc.yml``, in book order."""
    toc = yaml.safe_load((Path(srcdir) / "_toc.yml").read_text(encoding="utf-8"))
    parts = [p for p in toc.get("parts", []) if p.get("caption") == "Chapters"]
    return [entry["file"] for part in parts for entry in part.get("chapters", [])]


def _not_found_page(app: Any) -> list[Any]:
    """The body of the 404 page (sphinx-notfound-page renders it with the theme): what
    happened, a search box and the chapters. Runs before notfound's own
    ``html-collect-pages`` handler, once the titles of the pages are known."""
    if not hasattr(app.config, "notfound_context"):
        return []
    prefix = app.config.notfound_urls_prefix or "/"
    book = app.config.html_title or app.config.project
    titles = app.env.titles
    items = "\n".join(
        f'<li><a href="{prefix}{doc}.html">{html.escape(titles[doc].astext())}</a></li>'
        for doc in chapters(app.srcdir)
        if doc in titles
    )
    body = f"""<h1>Page not found</h1>
<p>There is no page at this address in <em>{html.escape(book)}</em>. It may
have moved, or the address may be mistyped. Search the book, or pick a chapter below.</p>
<form class="calcml-notfound-search" action="{prefix}search.html" method="get" role="search">
  <label for="calcml-notfound-q">Search the book</label>
  <input type="search" id="calcml-notfound-q" name="q" />
  <button type="submit">Search</button>
</form>
<h2>Chapters</h2>
<ul class="calcml-notfound-chapters">
{items}
</ul>
<p><a href="{prefix}index.html">The front page</a> has the whole table of contents.</p>"""
    app.config.notfound_context = {"title": "Page not found", "body": body}
    return []


def pdf_url(config: Any) -> str | None:
    """The published PDF's absolute URL, or ``None`` without ``html_baseurl``."""
    base = (getattr(config, "html_baseurl", "") or "").strip()
    return f"{base.rstrip('/')}/{PDF_NAME}" if base else None


def colab_notebook_url(colab_url: str, repo_url: str, branch: str, pagename: str) -> str | None:
    """Colab's address for ``<pagename>.ipynb`` on ``branch`` of a GitHub repository."""
    parts = urlsplit(repo_url)
    owner_repo = parts.path.strip("/").removesuffix(".git").split("/")
    if parts.netloc != "github.com" or len(owner_repo) != 2:
        return None
    owner, repo = owner_repo
    return f"{colab_url.rstrip('/')}/github/{owner}/{repo}/blob/{branch}/{pagename}.ipynb"


def _config_inited(app: Any, config: Any) -> None:
    url = pdf_url(config)
    subs = dict(config.myst_substitutions or {})
    subs.setdefault("pdf_link", f"[the whole book as a PDF]({url or PDF_NAME})")
    config.myst_substitutions = subs
    if url:
        options = dict(config.html_theme_options or {})
        links = list(options.get("icon_links") or [])
        if not any(link.get("url") == url for link in links):
            links.append(
                {
                    "name": PDF_TEXT,
                    "url": url,
                    "icon": "fa-solid fa-file-pdf",
                    "type": "fontawesome",
                }
            )
        options["icon_links"] = links
        config.html_theme_options = options


def _page_context(
    app: Any, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    buttons = context.get("header_buttons") or []
    url = pdf_url(app.config) or context["pathto"](PDF_NAME, 1)
    for group in buttons:
        if group.get("label") == "download-buttons":
            group["buttons"].append(
                {
                    "type": "link",
                    "url": url,
                    "text": PDF_NAME,
                    "icon": "fas fa-book",
                    "tooltip": "Download the whole book as a PDF",
                    "label": "download-book-pdf-button",
                }
            )
    theme = app.config.html_theme_options or {}
    colab = (theme.get("launch_buttons") or {}).get("colab_url", "")
    repo_url = theme.get("repository_url", "")
    for group in buttons:
        for button in group.get("buttons", []) if group.get("type") == "group" else []:
            if button.get("text") == "Colab" and colab and repo_url:
                target = colab_notebook_url(
                    colab, repo_url, app.config.calcml_notebooks_branch, pagename
                )
                if target:
                    button["url"] = target


def setup(app: Any) -> dict[str, Any]:
    app.add_config_value("calcml_notebooks_branch", "notebooks", "html")
    # Before every other config-inited handler (this one's at 900 reads html_baseurl).
    app.connect("config-inited", _derive_site_url, priority=100)
    # Before sphinx-notfound-page's handler (priority 500), which reads notfound_context.
    app.connect("html-collect-pages", _not_found_page, priority=400)
    app.connect("config-inited", _config_inited, priority=900)
    # After sphinx-book-theme builds its header buttons (priority 501).
    app.connect("html-page-context", _page_context, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
