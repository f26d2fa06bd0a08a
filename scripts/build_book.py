"""Build the book strictly, re-executing the pages whose `calcml` code changed.

Usage::

    python scripts/build_book.py [--root DIR] [--src DIR] [--package NAME] [--builder html|pdflatex]

jupyter-cache re-executes a page only when the page's own code cells change,
not when the package it imports changes. Before building, this script hashes
every module of the package and compares the hashes with the ones recorded
at the last build (``<cache>/calcml-modules.json``). For each changed module
it drops the cached execution of every page that imports it, directly or through
another module of the package (and touches the
page so that Sphinx reads it again); a change to a
shared module (``__init__``, ``_validation``, ``plotting``, or any module a
page cannot be traced to) drops them all. Then it runs
``jupyter-book build <root> -W -n --keep-going``. If the build fails, the half
written site is moved to ``_build/html.failed`` so that a broken build never
leaves a site that looks fine.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
SHARED_MODULES = {"__init__", "_validation", "plotting"}


def toc_files(root: Path = REPO) -> list[str]:
    """Every page named in ``root/_toc.yml`` (paths without suffix), the root page first."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]

    def walk(entries: list[dict[str, Any]]) -> None:
        for entry in entries:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections", []))

    for part in toc.get("parts", []):
        walk(part.get("chapters", []))
    walk(toc.get("chapters", []))
    return files


def chapter_files(root: Path = REPO) -> list[str]:
    """The pages of the numbered ``Chapters`` part of ``root/_toc.yml``, in book order
    (not the root page and not the Reference part: notation, errata, references, ...)."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    (part,) = [p for p in toc.get("parts", []) if p.get("caption") == "Chapters"]
    return [entry["file"] for entry in part["chapters"]]


def module_hashes(src: Path) -> dict[str, str]:
    """SHA-256 of each ``*.py`` file of the package, keyed by module name."""
    return {p.stem: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(src.glob("*.py"))}


def imported_modules(page: Path, package: str) -> set[str]:
    """Modules of ``package`` that a page's text imports or mentions."""
    text = page.read_text(encoding="utf-8")
    found = set(re.findall(rf"\b{package}\.([A-Za-z_]\w*)", text))
    groups = re.findall(rf"from[ \t]+{package}[ \t]+import[ \t]*\(([^)]*)\)", text)
    groups += re.findall(rf"from[ \t]+{package}[ \t]+import[ \t]+([\w \t,]+)", text)
    for names in groups:
        found.update(n.split()[0] for n in names.split(",") if n.strip())
    return found


def dependencies(src: Path, package: str, names: set[str]) -> set[str]:
    """``names`` and every module of the package they import, directly or not.

    A page that imports ``calcml.integrate`` also runs ``calcml.differentiate``
    when ``integrate`` imports it, so a change there must re-execute the page too.
    """
    seen: set[str] = set()
    todo = [n for n in names if (src / f"{n}.py").is_file()]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo += [
            m for m in imported_modules(src / f"{name}.py", package) if (src / f"{m}.py").is_file()
        ]
    return seen


def invalidate(root: Path, src: Path, package: str, cache_dir: Path) -> list[str]:
    """Drop cached executions made stale by package changes; return the pages dropped."""
    record = cache_dir / f"{package}-modules.json"
    new = module_hashes(src)
    old = json.loads(record.read_text()) if record.exists() else None
    dropped: list[str] = []
    if cache_dir.exists() and old != new:
        # No record (a cache from before this script ran): treat everything as changed.
        old = old or {}
        changed = {m for m in set(old) | set(new) if old.get(m) != new.get(m)} | (
            SHARED_MODULES if not old else set()
        )
        from jupyter_cache import get_cache

        cache = get_cache(cache_dir)
        for rec in cache.list_cache_records():
            page = Path(rec.uri)
            uses = (
                dependencies(src, package, imported_modules(page, package))
                if page.exists()
                else None
            )
            if uses is None or changed & SHARED_MODULES or changed & uses:
                cache.remove_cache(rec.pk)
                if page.exists():
                    page.touch()  # so that Sphinx reads the page again, too
                dropped.append(
                    str(page.relative_to(root)) if page.is_relative_to(root) else rec.uri
                )
    cache_dir.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(new, indent=1, sort_keys=True))
    return dropped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    repo = REPO
    parser.add_argument("--root", type=Path, default=repo)
    parser.add_argument("--src", type=Path, default=repo / "src" / "calcml")
    parser.add_argument("--package", default="calcml")
    parser.add_argument("--builder", default="html")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    try:
        config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
        cache_dir = root / config["execute"]["cache"]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        print(
            f"error: cannot read the execution cache path from {root / '_config.yml'}: {exc}",
            file=sys.stderr,
        )
        return 2
    for page in invalidate(root, args.src.resolve(), args.package, cache_dir):
        print(f"[build_book] {args.package} changed: re-executing {page}", flush=True)
    jb = Path(sys.executable).parent / "jupyter-book"
    cmd = [str(jb), "build", str(root), "--builder", args.builder, "-W", "-n", "--keep-going"]
    print(" ".join(cmd), flush=True)
    code = subprocess.call(cmd, cwd=root)
    out = root / "_build" / ("html" if args.builder == "html" else "latex")
    if code != 0:
        failed = out.with_name(out.name + ".failed")
        shutil.rmtree(failed, ignore_errors=True)
        if out.exists():
            out.rename(failed)
        print(
            f"\nerror: the book build failed (exit {code}); see the messages above. "
            f"The partial output was moved to {failed}.",
            file=sys.stderr,
        )
        return code
    if args.builder == "html":
        print(f"\nThe book is built. Open {out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
