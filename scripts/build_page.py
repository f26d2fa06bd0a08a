"""Build a few pages of the book strictly, on their own, for fast authoring.

Usage::

    .venv/bin/python scripts/build_page.py book/gradients_and_derivatives.md [more pages]

The pages are built with the intro, notation, API reference and references pages into
``_build/pages/<first page's stem>`` with an execution cache of their own, so
several authors (or several pages) can build at once without touching the
main ``_build`` folder or ``.jupyter_cache``. Warnings are errors, as in
``make book``; the exit code is non-zero on any warning or failing cell.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def main(pages: list[str]) -> int:
    if not pages:
        print(__doc__, file=sys.stderr)
        return 2
    stems = [Path(p).with_suffix("").as_posix() for p in pages]
    for stem in stems:
        if not (ROOT / f"{stem}.md").is_file():
            print(f"no such page: {stem}.md", file=sys.stderr)
            return 2
    name = Path(stems[0]).name
    out = ROOT / "_build" / "pages" / name
    out.mkdir(parents=True, exist_ok=True)
    toc = {
        "format": "jb-book",
        "root": "book/intro",
        "parts": [
            {"caption": "Chapters", "numbered": True, "chapters": [{"file": s} for s in stems]},
            {
                "caption": "Reference",
                "numbered": False,
                "chapters": [
                    {"file": f}
                    for f in ("book/notation", "book/api", "book/errata", "book/references")
                    if f not in stems
                ],
            },
        ],
    }
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    config["execute"]["cache"] = str(out / "cache")
    # Paths in a --config file resolve against that file's folder: make them absolute.
    config["sphinx"]["local_extensions"] = {
        k: str(ROOT / v) for k, v in config["sphinx"]["local_extensions"].items()
    }
    config["logo"] = str(ROOT / config["logo"])
    toc_file, config_file = out / "_toc.yml", out / "_config.yml"
    toc_file.write_text(yaml.safe_dump(toc, sort_keys=False), encoding="utf-8")
    config_file.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    cmd = [
        str(Path(sys.executable).parent / "jupyter-book"),
        "build",
        str(ROOT),
        "--toc",
        str(toc_file),
        "--config",
        str(config_file),
        "--path-output",
        str(out),
        "-W",
        "-n",
        "--keep-going",
    ]
    print(" ".join(cmd), flush=True)
    code = subprocess.call(cmd, cwd=ROOT)
    print(f"HTML: {out / '_build' / 'html' / (stems[0] + '.html')}")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
