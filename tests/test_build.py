"""The build machinery: stale executions are redone when the package changes, and a
broken page, table of contents or Python fails the build loudly.

Each test builds a tiny throw-away book (a page or two) with the same script that
``make book`` uses, so it runs in seconds.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "scripts" / "build_book.py"
sys.path.insert(0, str(ROOT / "scripts"))
import build_book  # noqa: E402

pytestmark = pytest.mark.book

PAGE_HEADER = """\
---
jupytext:
  text_representation: {extension: .md, format_name: myst}
kernelspec: {display_name: Python 3, language: python, name: python3}
---
"""


def make_book(tmp: Path, pages: dict[str, str], *, toc: str | None = None) -> Path:
    """A minimal strict book in ``tmp/book`` with a package ``probe`` in ``tmp/src/probe``."""
    book = tmp / "book"
    book.mkdir()
    (book / "_config.yml").write_text(
        textwrap.dedent("""\
        title: Probe
        only_build_toc_files: true
        exclude_patterns: [.jupyter_cache, _build]
        execute:
          execute_notebooks: cache
          cache: .jupyter_cache
          raise_on_error: true
          timeout: 60
        sphinx: {config: {language: en}}
        """)
    )
    names = list(pages)
    (book / "_toc.yml").write_text(
        toc
        if toc is not None
        else (
            f"format: jb-book\nroot: {names[0]}\n"
            + ("chapters:\n" + "".join(f"  - file: {n}\n" for n in names[1:]) if names[1:] else "")
        )
    )
    for name, body in pages.items():
        (book / f"{name}.md").write_text(PAGE_HEADER + textwrap.dedent(body))
    return book


def build(book: Path, src: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    args = [sys.executable, str(BUILD), "--root", str(book)]
    if src is not None:
        args += ["--src", str(src), "--package", src.name]
        env["PYTHONPATH"] = str(src.parent)
        # The test rewrites a module within one second, same size: no stale .pyc.
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return subprocess.run(args, capture_output=True, text=True, env=env, check=False)


def probe_page(name: str, module: str) -> str:
    return f"""\
        # {name}

        ```{{code-cell}} ipython3
        from probe import {module}
        print("value:", {module}.value())
        ```
        """


def test_changing_a_module_reexecutes_only_the_pages_that_import_it(tmp_path: Path) -> None:
    src = tmp_path / "src" / "probe"
    src.mkdir(parents=True)
    (src / "__init__.py").write_text("")
    (src / "alpha.py").write_text("def value():\n    return 'alpha-1'\n")
    (src / "beta.py").write_text("def value():\n    return 'beta-1'\n")
    # gamma uses alpha: a page that imports only gamma depends on alpha too
    (src / "gamma.py").write_text(
        "from probe import alpha\n\ndef value():\n    return 'gamma+' + alpha.value()\n"
    )
    book = make_book(
        tmp_path,
        {
            "a": probe_page("A", "alpha"),
            "b": probe_page("B", "beta"),
            "c": probe_page("C", "gamma"),
        },
    )
    first = build(book, src)
    assert first.returncode == 0, first.stdout + first.stderr
    html_a, html_b = book / "_build/html/a.html", book / "_build/html/b.html"
    assert "alpha-1" in html_a.read_text() and "beta-1" in html_b.read_text()

    (src / "alpha.py").write_text("def value():\n    return 'alpha-2'\n")
    second = build(book, src)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "alpha-2" in html_a.read_text(), "the page did not pick up the package change"
    assert "gamma+alpha-2" in (book / "_build/html/c.html").read_text()
    assert "re-executing a.md" in second.stdout
    assert "re-executing c.md" in second.stdout
    assert "re-executing b.md" not in second.stdout
    assert "beta-1" in html_b.read_text()

    third = build(book, src)  # nothing changed: nothing is re-executed
    assert third.returncode == 0
    assert "re-executing" not in third.stdout


def test_dependencies_follow_imports_between_modules(tmp_path: Path) -> None:
    src = tmp_path / "pkg"
    src.mkdir()
    # The package imports itself absolutely (calcml does), in both styles.
    (src / "a.py").write_text("from pkg import b\n")
    (src / "b.py").write_text("from pkg.c import thing\n")
    (src / "c.py").write_text("import numpy\n")
    (src / "d.py").write_text("from pkg import a\n")
    assert build_book.dependencies(src, "pkg", {"a"}) == {"a", "b", "c"}
    assert build_book.dependencies(src, "pkg", {"d"}) == {"a", "b", "c", "d"}
    assert build_book.dependencies(src, "pkg", {"c", "missing"}) == {"c"}


def test_imported_modules_finds_both_import_styles(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text(
        "from calcml.taylor import x\nfrom calcml import (nn,\n autodiff)\ncalcml.integrate.f\n"
    )
    assert build_book.imported_modules(page, "calcml") == {"taylor", "nn", "autodiff", "integrate"}


def test_a_failing_cell_fails_the_build_and_leaves_no_site(tmp_path: Path) -> None:
    book = make_book(
        tmp_path,
        {
            "index": """\
        # Broken

        ```{code-cell} ipython3
        assert 1 + 1 == 3, "arithmetic is broken"
        ```
        """
        },
    )
    proc = build(book)
    assert proc.returncode != 0
    assert "arithmetic is broken" in proc.stdout + proc.stderr
    assert not (book / "_build/html/index.html").exists()
    assert (book / "_build/html.failed").is_dir()


def test_a_malformed_toc_fails_the_build(tmp_path: Path) -> None:
    book = make_book(tmp_path, {"index": "# Fine\n"}, toc="format: jb-book\nroot: [not, a, page\n")
    proc = build(book)
    assert proc.returncode != 0
    assert not (book / "_build/html/index.html").exists()


def test_a_malformed_config_fails_the_build(tmp_path: Path) -> None:
    book = make_book(tmp_path, {"index": "# Fine\n"})
    (book / "_config.yml").write_text("execute: [unclosed\n")
    proc = build(book)
    assert proc.returncode != 0
    assert "_config.yml" in proc.stderr
    assert not (book / "_build/html/index.html").exists()


def test_make_refuses_an_old_python(tmp_path: Path) -> None:
    fake = tmp_path / "python3.10"
    fake.write_text(
        "#!/bin/sh\n[ \"$1\" = --version ] && echo 'Python 3.10.12' && exit 0\nexit 1\n"
    )
    fake.chmod(0o755)
    proc = subprocess.run(
        ["make", "-s", "-C", str(ROOT), "check-python", f"PYTHON={fake}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode != 0
    message = proc.stderr.strip().splitlines()
    assert len([ln for ln in message if ln.startswith("error:")]) == 1
    assert "needs Python 3.11 or newer" in message[0] and "Python 3.10.12" in message[0]
