"""List the external links of the built site and, where the network allows, check them.

Usage::

    .venv/bin/python scripts/external_links.py [--site _build/html] [--offline] [--strict]

``make linkcheck`` runs this. It is not part of ``make test``: the test machines are
offline, and a remote server's bad day must not fail the build. Every ``http(s)`` link
of every page is listed once, with the pages that carry it; unless ``--offline``, each
is requested (HEAD, then GET if HEAD is refused) with a 10 s timeout. The exit status
is 0 unless ``--strict`` is given and some link is broken (HTTP 4xx/5xx); links that
cannot be reached at all (no network) are reported as such, never as broken.
"""

from __future__ import annotations

import argparse
import sys
import urllib.error
import urllib.request
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parent.parent


def user_agent(root: Path = ROOT) -> str:
    """Names this checker and the repository (from _config.yml, its one source)."""
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    return f"calcml-linkcheck/1.0 (+{config['repository']['url']})"


USER_AGENT = user_agent()


def external_links(site: Path) -> dict[str, set[str]]:
    """``{url: {page, ...}}`` for every http(s) link of every HTML page of the site."""
    found: dict[str, set[str]] = defaultdict(set)
    for page in sorted(site.rglob("*.html")):
        if "_static" in page.relative_to(site).parts:
            continue
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for a in soup.find_all("a", href=True):
            href = str(a["href"])
            if urlsplit(href).scheme in ("http", "https"):
                found[href.split("#")[0]].add(str(page.relative_to(site)))
    return dict(found)


def check(url: str, timeout: float = 10.0) -> tuple[str, str]:
    """``(verdict, detail)`` with verdict ``ok``, ``broken`` or ``unreachable``."""
    for method in ("HEAD", "GET"):
        request = urllib.request.Request(url, method=method, headers={"User-Agent": USER_AGENT})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return "ok", f"{response.status} {response.url if response.url != url else ''}"
        except urllib.error.HTTPError as err:
            if method == "HEAD" and err.code in (403, 405, 501):
                continue  # some servers refuse HEAD: try GET
            return "broken", f"HTTP {err.code}"
        except (urllib.error.URLError, TimeoutError, OSError) as err:
            return "unreachable", str(getattr(err, "reason", err))
    return "broken", "refused HEAD and GET"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument("--offline", action="store_true", help="only list the links")
    parser.add_argument("--strict", action="store_true", help="exit 1 on a broken link")
    args = parser.parse_args(argv)
    if not (args.site / "index.html").is_file():
        print(f"error: no site at {args.site}: run 'make book' first", file=sys.stderr)
        return 2
    links = external_links(args.site)
    if args.offline:
        results = {url: ("listed", "") for url in links}
    else:
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = dict(zip(links, pool.map(check, links), strict=True))
    counts: dict[str, int] = defaultdict(int)
    for url in sorted(links):
        verdict, detail = results[url]
        counts[verdict] += 1
        pages = sorted(links[url])
        where = ", ".join(pages[:3]) + (f" and {len(pages) - 3} more" if len(pages) > 3 else "")
        print(f"{verdict:11s} {url}  {detail.strip()}\n            on {where}")
    summary = ", ".join(f"{n} {verdict}" for verdict, n in sorted(counts.items()))
    print(f"\n{len(links)} external links: {summary}", file=sys.stderr)
    return 1 if args.strict and counts["broken"] else 0


if __name__ == "__main__":
    sys.exit(main())
