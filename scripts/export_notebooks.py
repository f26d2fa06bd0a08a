"""Write one clean Jupyter notebook (``.ipynb``, no outputs) per page of the book.

Usage::

    python scripts/export_notebooks.py --out DIR [--root DIR]

Every page listed in ``_toc.yml`` (``book/<name>.md``, a MyST markdown notebook)
is converted with jupytext to ``DIR/book/<name>.ipynb``: the same relative
path, with the ``.ipynb`` suffix. The deploy workflow runs this twice: into
``_build/html/notebooks`` (so each notebook has a stable URL on the site,
``<site>/notebooks/book/<name>.ipynb``) and into the root of the
``notebooks`` branch, which is where the Colab launch button opens them (Colab
opens only ``.ipynb`` files, and only from GitHub).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from build_book import toc_files

ROOT = Path(__file__).resolve().parent.parent
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


def export(root: Path, out: Path) -> list[Path]:
    """Convert every page to ``out/<page>.ipynb``; return the notebooks written."""
    import jupytext
    import nbformat

    written = []
    for page in toc_files(root):
        source = root / f"{page}.md"
        nb = jupytext.read(source)
        nb.metadata.setdefault("kernelspec", dict(KERNELSPEC))
        nb.metadata.pop("jupytext", None)  # a plain notebook, not paired with the .md
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        nbformat.validate(nb)
        target = out / f"{page}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        jupytext.write(nb, target, fmt="ipynb")
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--root", type=Path, default=ROOT)
    args = parser.parse_args(argv)
    for path in export(args.root.resolve(), args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
