"""One source for the repository's address: ``_config.yml``'s ``repository.url``.

The site's address is derived from it (``book/_ext/calcml_publish.py``); the literal
copies that cannot read it (the install line in each chapter's first code cell, which
runs in Colab, and ``CITATION.cff``) must agree with it and are written by
``make set-repository URL=...`` (``scripts/set_repository.py``). No other file of the
repository may spell the address or the site's address.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import calcml_publish  # noqa: E402
from build_book import chapter_files  # noqa: E402
from set_repository import set_repository  # noqa: E402

# Files allowed to hold the address, and why.
DERIVED_OR_CHECKED = {
    "_config.yml": "the one source",
    "CITATION.cff": "written by set_repository.py, checked below",
    "src/calcml/_validation.py": "BOOK_URL, written by set_repository.py, checked below",
    "src/calcml/__init__.py": "the docstring's Book: line, written and checked likewise",
}


def config(root: Path = ROOT) -> dict:
    return yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))


def spellings(cfg: dict) -> list[str]:
    """The strings that would be a copy: owner/repository and the site's host and path."""
    url = cfg["repository"]["url"]
    owner_repo = url.removeprefix("https://github.com/")
    site = calcml_publish.site_url(cfg).removeprefix("https://").rstrip("/")
    return [owner_repo, site]


def repository_files(root: Path) -> list[Path]:
    """Tracked and new (not ignored) files; every file when ``root`` is not a checkout."""
    proc = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode == 0 and proc.stdout.strip():
        return [root / line for line in proc.stdout.splitlines() if (root / line).is_file()]
    return [p for p in root.rglob("*") if p.is_file()]


def copies(root: Path) -> dict[str, list[str]]:
    """``{file: [spelling, ...]}`` for every file outside the allowed ones that holds one."""
    cfg = config(root)
    chapters = {f"{page}.md" for page in chapter_files(root)}
    found = {}
    for path in repository_files(root):
        rel = path.relative_to(root).as_posix()
        if rel in DERIVED_OR_CHECKED:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if rel in chapters:  # the install line is a checked copy; nothing else may be
            text = re.sub(r"calcml @ git\+\S+", "", text)
        hits = [s for s in spellings(cfg) if s.lower() in text.lower()]
        if hits:
            found[rel] = hits
    return found


def test_pages_url_from_a_github_repository() -> None:
    pages = calcml_publish.pages_url
    assert pages("https://github.com/owner/some-book") == "https://owner.github.io/some-book/"
    assert pages("https://github.com/Me/Book.git") == "https://me.github.io/Book/"
    assert pages("https://github.com/me/me.github.io") == "https://me.github.io/"
    assert pages("https://gitlab.com/me/book") is None
    assert pages("https://github.com/me") is None


def test_site_url_is_derived_unless_set() -> None:
    site = calcml_publish.site_url
    repo = {"url": "https://github.com/Me/book"}
    assert site({"repository": repo}) == "https://me.github.io/book/"
    assert site({"repository": repo, "html": {"baseurl": "https://book.example"}}) == (
        "https://book.example/"
    )
    assert site({}) == ""


def test_the_site_address_is_not_written_in_the_config() -> None:
    cfg = config()
    assert not (cfg.get("html") or {}).get("baseurl"), "derived from repository.url"
    assert "ogp_site_url" not in cfg["sphinx"]["config"], "derived from repository.url"
    assert calcml_publish.site_url(cfg) == calcml_publish.pages_url(cfg["repository"]["url"])


def test_the_literal_copies_agree_with_the_config() -> None:
    cfg = config()
    url = cfg["repository"]["url"]
    for page in chapter_files():
        text = (ROOT / f"{page}.md").read_text(encoding="utf-8")
        installs = re.findall(r"calcml @ git\+(\S+?)\"", text)
        assert installs == [url], f"{page}: installs from {installs}, not {url}"
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert citation["repository-code"] == url
    assert citation["url"] == calcml_publish.site_url(cfg)
    from calcml import _validation

    assert _validation.BOOK_URL == calcml_publish.site_url(cfg)
    package_doc = (ROOT / "src" / "calcml" / "__init__.py").read_text(encoding="utf-8")
    assert re.findall(r"^Book: (\S+)", package_doc, re.M) == [calcml_publish.site_url(cfg)]


def test_no_other_copy_of_the_address() -> None:
    found = copies(ROOT)
    assert not found, (
        "the repository's or the site's address is spelled out in "
        f"{found}: derive it from _config.yml's repository.url (see scripts/set_repository.py)"
    )


def test_the_copy_check_notices_a_copy(tmp_path: Path) -> None:
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "notes.md").write_text(f"See {config()['repository']['url']}/issues.\n")
    (tmp_path / "site.md").write_text(f"Read it at {calcml_publish.site_url(config())}.\n")
    assert set(copies(tmp_path)) == {"notes.md", "site.md"}


def test_set_repository_rewrites_every_copy(tmp_path: Path) -> None:
    """A fork runs `make set-repository URL=...`: afterwards every copy names the fork and
    none names the original."""
    old = config()
    for name in ("_config.yml", "_toc.yml", "CITATION.cff"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "src" / "calcml").mkdir(parents=True)
    for name in ("_validation.py", "__init__.py"):
        shutil.copy(ROOT / "src" / "calcml" / name, tmp_path / "src" / "calcml" / name)
    for page in chapter_files():
        (tmp_path / f"{page}.md").parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / f"{page}.md", tmp_path / f"{page}.md")
    config_before = (tmp_path / "_config.yml").read_text(encoding="utf-8")

    changed = set_repository("https://github.com/Someone/my-book.git", tmp_path)

    new = config(tmp_path)
    assert new["repository"]["url"] == "https://github.com/Someone/my-book"
    assert calcml_publish.site_url(new) == "https://someone.github.io/my-book/"
    assert {p.name for p in changed} >= {
        "_config.yml",
        "CITATION.cff",
        "_validation.py",
        "__init__.py",
    }
    validation = (tmp_path / "src" / "calcml" / "_validation.py").read_text(encoding="utf-8")
    assert 'BOOK_URL = "https://someone.github.io/my-book/"' in validation
    # Only that one line of _config.yml changed (comments and layout kept).
    before, after = config_before.splitlines(), (tmp_path / "_config.yml").read_text().splitlines()
    assert len(before) == len(after)
    assert [(a, b) for a, b in zip(before, after, strict=True) if a != b] == [
        (f"  url: {old['repository']['url']}", "  url: https://github.com/Someone/my-book")
    ]
    for page in chapter_files():
        text = (tmp_path / f"{page}.md").read_text(encoding="utf-8")
        assert '"calcml @ git+https://github.com/Someone/my-book"' in text
    citation = yaml.safe_load((tmp_path / "CITATION.cff").read_text(encoding="utf-8"))
    assert citation["repository-code"] == "https://github.com/Someone/my-book"
    assert citation["url"] == "https://someone.github.io/my-book/"
    leftovers = [
        p.relative_to(tmp_path).as_posix()
        for p in tmp_path.rglob("*")
        if p.is_file() and any(s in p.read_text(encoding="utf-8") for s in spellings(old))
    ]
    assert leftovers == []
    # Running it again changes nothing.
    assert set_repository("https://github.com/Someone/my-book", tmp_path) == []


def test_set_repository_refuses_what_is_not_a_github_repository(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match=r"not https://github\.com"):
        set_repository("https://gitlab.com/me/book", tmp_path)
