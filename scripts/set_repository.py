"""Point the book at another GitHub repository: ``make set-repository URL=...`` runs this.

Usage::

    python scripts/set_repository.py https://github.com/<owner>/<repository> [--root DIR]

``_config.yml``'s ``repository.url`` is the one source of the repository's address. The
site's address is derived from it when the book is built (GitHub Pages',
``https://<owner>.github.io/<repository>/``, unless ``html.baseurl`` is set; see
``book/_ext/calcml_publish.py``). Two kinds of files cannot read ``_config.yml`` and keep a
literal copy, which this script writes and ``tests/test_repository_url.py`` checks:

* the first code cell of each chapter page installs ``calcml`` with
  ``pip install "calcml @ git+<repository.url>"``: it runs in Colab, where the
  repository is not there to be read;
* ``CITATION.cff`` (``repository-code`` and ``url``, the site), read by GitHub and
  citation tools straight from the repository.
* the package's link to the book, ``BOOK_URL`` in ``src/calcml/_validation.py`` and the
  ``Book:`` line of the package docstring (``src/calcml/__init__.py``): ``help()`` shows
  them in an installed package, where ``_config.yml`` is not there to be read.

The files are edited as text (a line each), so comments and layout stay as they are.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "book" / "_ext"))
from build_book import chapter_files
from calcml_publish import site_url

ROOT = Path(__file__).resolve().parent.parent
GITHUB_REPO = re.compile(r"https://github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
# The install line of a chapter's first code cell: "calcml @ git+<url>".
INSTALL = re.compile(r"(calcml @ git\+)" + GITHUB_REPO.pattern)


def _replace(text: str, pattern: str, new: str, what: str, flags: int = 0) -> str:
    out, n = re.subn(pattern, lambda m: m.group(1) + new, text, count=1, flags=flags)
    if n != 1:
        raise SystemExit(f"error: could not find {what}")
    return out


def set_repository(url: str, root: Path = ROOT) -> list[Path]:
    """Write ``url`` to ``_config.yml`` and the copies; return the files changed."""
    url = url.strip().removesuffix("/").removesuffix(".git")
    if not GITHUB_REPO.fullmatch(url):
        raise SystemExit(f"error: {url!r} is not https://github.com/<owner>/<repository>")
    changed = []

    def write(path: Path, text: str) -> None:
        if path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)

    config_file = root / "_config.yml"
    write(
        config_file,
        _replace(
            config_file.read_text(encoding="utf-8"),
            r"(^repository:\n(?:[ \t]+.*\n|\s*\n)*?[ \t]+url:[ \t]*)\S+",
            url,
            "repository.url in _config.yml",
            flags=re.MULTILINE,
        ),
    )
    config = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    assert config["repository"]["url"] == url

    for page in chapter_files(root):
        path = root / f"{page}.md"
        text = path.read_text(encoding="utf-8")
        if not INSTALL.search(text):
            raise SystemExit(f"error: {path} has no 'calcml @ git+https://github.com/...' line")
        write(path, INSTALL.sub(lambda m: m.group(1) + url, text))

    citation = root / "CITATION.cff"
    if citation.is_file():
        text = citation.read_text(encoding="utf-8")
        text = _replace(text, r'(^repository-code:[ \t]*")[^"]*', url, "repository-code", re.M)
        text = _replace(text, r'(^url:[ \t]*")[^"]*', site_url(config), "url", re.M)
        write(citation, text)

    validation = root / "src" / "calcml" / "_validation.py"
    if validation.is_file():
        text = validation.read_text(encoding="utf-8")
        text = _replace(text, r'(^BOOK_URL = ")[^"]*', site_url(config), "BOOK_URL", re.M)
        write(validation, text)
    package = root / "src" / "calcml" / "__init__.py"
    if package.is_file():
        text = package.read_text(encoding="utf-8")
        text = _replace(text, r"(^Book: )\S+", site_url(config), "the Book: line", re.M)
        write(package, text)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="https://github.com/<owner>/<repository>")
    parser.add_argument("--root", type=Path, default=ROOT)
    args = parser.parse_args(argv)
    changed = set_repository(args.url, args.root.resolve())
    for path in changed:
        print(f"updated {path.relative_to(args.root.resolve())}")
    config = yaml.safe_load((args.root / "_config.yml").read_text(encoding="utf-8"))
    print(f"repository: {config['repository']['url']}\nsite:       {site_url(config)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
