"""Benchmark: how long the book takes to build, and how long each page takes to execute.

Everything happens in a COPY of the repository in a temporary folder (the files
``git ls-files --cached --others --exclude-standard`` lists, i.e. the working tree
without ignored files; ``node_modules`` is linked, not copied), so the developer's
``_build`` and ``.jupyter_cache`` are never touched. In that copy, with
``scripts/build_book.py`` (the strict build ``make book`` runs):

1. a cold full HTML build (no ``_build``, no execution cache),
2. a warm rebuild with nothing changed (no page may execute; the median of three),
3. a rebuild after one chapter's first code cell changed: only that chapter may
   re-execute, checked from the build log ("Executing notebook" lines name the page)
   and from the jupyter-cache records (only that page's record is new),
4. the PDF build (``--builder pdflatex``), when ``xelatex`` is installed.

Wall time and peak resident memory of each build come from ``/usr/bin/time -v`` (the
largest single process of the build's process tree: Sphinx or a Jupyter kernel); without
it, from ``resource.getrusage(RUSAGE_CHILDREN)``, which the report says. Targets on a
2-core machine: cold <= 90 s, warm <= 10 s, peak RSS <= 2 GB.

Then the execution time of every page of ``_toc.yml`` from the cold build's
jupyter-cache records (``execution_seconds``), against a budget of 20 s per page.

Prints markdown tables; exits non-zero only if it could not run (a build that fails
counts as that; a missed target does not).

Usage::

    .venv/bin/python benchmarks/bench_build.py [--quick] [--no-pdf] [--keep] [--summary FILE]

``--quick`` skips the PDF build (development); ``--keep`` keeps the temporary copy.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml
from _common import ROOT, Targets, table

sys.path.insert(0, str(ROOT / "scripts"))
from build_book import toc_files  # the one reader of _toc.yml

COLD_S, WARM_S, RSS_GB, PAGE_S = 90.0, 10.0, 2.0, 20.0
# A cold build takes a minute and needs a fresh copy each time: it runs once. The warm
# rebuild is cheap: its wall time is the median of a few.
WARM_REPEATS = 3
EDIT_MARK = "_benchmark_edit = 1  # added by benchmarks/bench_build.py"
# myst-nb logs "<page>: Executing notebook using local CWD [mystnb]" for each page it runs.
EXECUTING = re.compile(r"^(?P<page>\S+?)(?:\.md|\.ipynb)?: Executing notebook", re.MULTILINE)
TIME_V = Path("/usr/bin/time")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Sphinx's "path:line: WARNING: ..." and errors (not the kernel's "[IPKernelApp] WARNING |").
PROBLEM = re.compile(r"\bWARNING:|\bERROR:|^error:|^\w*(Error|Exception)\b")


@dataclass
class Run:
    label: str
    wall_s: float
    rss_mb: float
    returncode: int
    log: str


def copy_repository(dest: Path) -> int:
    """Copy the working tree's non-ignored files into ``dest``; link node_modules."""
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    count = 0
    for name in filter(None, listing.split("\0")):
        src = ROOT / name
        if not src.is_file():  # deleted in the working tree, or a submodule
            continue
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)
        count += 1
    (dest / "node_modules").symlink_to(ROOT / "node_modules", target_is_directory=True)
    return count


def timed(label: str, cmd: list[str], cwd: Path, env: dict[str, str], log_path: Path) -> Run:
    """Run ``cmd``, logging its output; wall time and peak RSS as /usr/bin/time -v reports them."""
    if TIME_V.exists():
        stats = log_path.with_suffix(".time")
        with log_path.open("w") as log:
            code = subprocess.call(
                [str(TIME_V), "-v", "-o", str(stats), *cmd],
                cwd=cwd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        text = stats.read_text()
        wall_field = re.search(r"Elapsed \(wall clock\) time.*: (\S+)", text)
        rss_field = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
        if wall_field is None or rss_field is None:
            raise RuntimeError(f"cannot read /usr/bin/time -v output:\n{text}")
        wall = 0.0
        for part in wall_field[1].split(":"):  # [h:]m:ss.ss
            wall = wall * 60 + float(part)
        rss_mb = int(rss_field[1]) / 1024
    else:
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        t0 = time.perf_counter()
        with log_path.open("w") as log:
            code = subprocess.call(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        # The maximum over all children so far: exact only if this build set a new maximum.
        rss_mb = max(after, before) / 1024
    return Run(label, wall, rss_mb, code, log_path.read_text(errors="replace"))


def page_file(root: Path, page: str) -> Path | None:
    for suffix in (".md", ".ipynb"):
        path = root / (page + suffix)
        if path.exists():
            return path
    return None


def cache_records(root: Path) -> dict[str, tuple[int, float, float | None]]:
    """{page: (record id, creation time, execution seconds)} from the copy's jupyter-cache."""
    from jupyter_cache import get_cache

    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    cache_dir = root / config["execute"]["cache"]
    if not cache_dir.exists():
        return {}
    out: dict[str, tuple[int, float, float | None]] = {}
    # A page whose code changed has an old and a new record: keep the newest.
    for rec in sorted(get_cache(cache_dir).list_cache_records(), key=lambda r: r.created):
        page = Path(rec.uri)
        key = str(page.relative_to(root).with_suffix("")) if page.is_relative_to(root) else rec.uri
        out[key] = (rec.pk, rec.created.timestamp(), rec.data.get("execution_seconds"))
    return out


def slowest_cells(path: Path, env: dict[str, str], count: int = 3) -> list[tuple[float, str]]:
    """Execute a page once more with nbclient, timing each cell: the ``count`` slowest.

    (jupyter-cache keeps no per-cell times.) Returns (seconds, first line of the cell).
    """
    import datetime as dt

    import jupytext
    from nbclient import NotebookClient

    nb = jupytext.read(path)
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = env["PYTHONPATH"]  # the kernel inherits it
    try:
        NotebookClient(
            nb, timeout=600, record_timing=True, resources={"metadata": {"path": str(path.parent)}}
        ).execute()
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH")
        else:
            os.environ["PYTHONPATH"] = saved
    times = []
    for cell in nb.cells:
        stamps = cell.get("metadata", {}).get("execution", {})
        start, end = stamps.get("iopub.execute_input"), stamps.get("shell.execute_reply")
        if cell.cell_type == "code" and start and end:
            seconds = (
                dt.datetime.fromisoformat(end.replace("Z", "+00:00"))
                - dt.datetime.fromisoformat(start.replace("Z", "+00:00"))
            ).total_seconds()
            first = next((ln for ln in cell.source.splitlines() if ln.strip()), "")
            times.append((seconds, first))
    return sorted(times, reverse=True)[:count]


def executed_pages(log: str, root: Path) -> set[str]:
    pages = set()
    for m in EXECUTING.finditer(log):
        page = Path(m["page"])
        if page.is_absolute() and page.is_relative_to(root):
            page = page.relative_to(root)
        pages.add(str(page.with_suffix("")))
    return pages


def edit_first_code_cell(path: Path) -> bool:
    """Insert a statement at the top of the page's first code cell (after its options)."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.startswith("```{code-cell}"):
            j = i + 1
            if j < len(lines) and lines[j].strip() == "---":  # a YAML options block
                j += 1
                while j < len(lines) and lines[j].strip() != "---":
                    j += 1
                j += 1
            while j < len(lines) and lines[j].startswith(":"):  # short-form options
                j += 1
            lines.insert(j, EDIT_MARK + "\n")
            path.write_text("".join(lines), encoding="utf-8")
            return True
    return False


def mark(value: float, limit: float) -> str:
    return "yes" if value <= limit else "**NO**"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the PDF build")
    parser.add_argument("--no-pdf", action="store_true", help="skip the PDF build")
    parser.add_argument("--keep", action="store_true", help="keep the temporary copy")
    parser.add_argument("--summary", type=Path, help="append the targets as JSON lines here")
    args = parser.parse_args(argv)
    targets = Targets("build", args.summary)
    if not (ROOT / "node_modules" / "mathjax").is_dir():
        print(
            "error: node_modules/mathjax is missing: run `npm ci` (make book does)", file=sys.stderr
        )
        return 1
    work = Path(tempfile.mkdtemp(prefix="calcml-bench-"))
    copy = work / "repo"
    copy.mkdir()
    try:
        return run(args, targets, work, copy)
    finally:
        if args.keep:
            print(f"\n(The copy is kept in {copy}.)")
        else:
            shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace, targets: Targets, work: Path, copy: Path) -> int:
    n_files = copy_repository(copy)
    env = dict(os.environ)
    # The copy's package, not the editable install's source in the developer's tree.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(copy / "src"), env.get("PYTHONPATH")]))
    build = [sys.executable, str(copy / "scripts" / "build_book.py"), "--root", str(copy)]
    build += ["--src", str(copy / "src" / "calcml")]
    pages = toc_files(copy)
    how = (
        "`/usr/bin/time -v` (peak RSS of the largest single process of the build)"
        if TIME_V.exists()
        else "`resource.getrusage(RUSAGE_CHILDREN)` (/usr/bin/time is missing: the peak "
        "RSS is the largest child process so far, an upper bound for later builds)"
    )
    print("## Build\n")
    print(
        f"A copy of the repository ({n_files} files: the working tree without ignored files) "
        f"in a temporary folder; {len(pages)} pages in `_toc.yml`; builds run "
        "`scripts/build_book.py` (strict: `-W -n --keep-going`). "
        f"Wall time and memory from {how}. The cold build, the one-chapter rebuild and the "
        "PDF build run once each (each needs its own starting state); the warm rebuild "
        f"runs {1 if args.quick else WARM_REPEATS} time(s).\n"
    )
    runs: list[Run] = []

    def build_step(label: str, extra: list[str] | None = None, repeats: int = 1) -> Run | None:
        """Build ``repeats`` times; the median wall time, the largest peak RSS, all logs."""
        done = []
        for i in range(repeats):
            log = work / f"{len(runs)}-{i}.log"
            r = timed(label, build + (extra or []), copy, env, log)
            if r.returncode != 0:
                lines = ANSI.sub("", r.log).splitlines()
                problems = [ln for ln in lines if PROBLEM.search(ln)]
                print(
                    f"error: the {label} failed (exit {r.returncode}); its warnings and errors "
                    "(or, if none, the end of its log):\n"
                )
                print("```\n" + "\n".join((problems or lines)[-40:]) + "\n```")
                return None
            done.append(r)
        if repeats > 1:
            label += f" (median of {repeats})"
        wall = statistics.median(r.wall_s for r in done)
        rss = max(r.rss_mb for r in done)
        run = Run(label, wall, rss, 0, "\n".join(r.log for r in done))
        runs.append(run)
        return run

    cold = build_step("cold full HTML build")
    if cold is None:
        return 1
    cold_records = cache_records(copy)
    cold_executed = executed_pages(cold.log, copy)

    warm = build_step("warm rebuild, nothing changed", repeats=1 if args.quick else WARM_REPEATS)
    if warm is None:
        return 1
    warm_executed = executed_pages(warm.log, copy)
    warm_ok = not warm_executed and cache_records(copy) == cold_records

    # One chapter changed: the first page in book order with a code cell (chapters first).
    candidates = [p for p in pages if p.startswith("book/") and p != pages[0]] + [pages[0]]
    edited = next(
        (p for p in candidates if (f := page_file(copy, p)) and edit_first_code_cell(f)), None
    )
    change_ok: bool | None = None
    change_note = ""
    if edited is None:
        change_note = (
            "No page in `_toc.yml` has a code cell yet: the one-chapter rebuild is skipped."
        )
    else:
        before = cache_records(copy)
        changed = build_step(f"rebuild after a code cell of {edited} changed")
        if changed is None:
            return 1
        after = cache_records(copy)
        executed = executed_pages(changed.log, copy)
        new_records = {p for p in after if after[p] != before.get(p)}
        change_ok = executed == {edited} and new_records == {edited}
        change_note = (
            f"Changed: the first code cell of `{edited}` (one statement added). Pages executed "
            f"according to the build log: {sorted(executed) or 'none'}; pages whose cache record "
            f"is new: {sorted(new_records) or 'none'}. Only `{edited}` re-executed: "
            f"{'yes' if change_ok else '**NO**'}."
        )

    pdf_note = ""
    if args.quick or args.no_pdf:
        pdf_note = "The PDF build was skipped (`--quick` or `--no-pdf`)."
    elif shutil.which("xelatex") is None:
        pdf_note = (
            "The PDF build was skipped: `xelatex` is not installed "
            "(the GUIDE lists the TeX packages)."
        )
    else:
        pdf = build_step("PDF build (xelatex; execution cache warm)", ["--builder", "pdflatex"])
        if pdf is None:
            return 1
        book_pdf = copy / "_build" / "latex" / "book.pdf"
        if not book_pdf.exists():
            print("error: the PDF build succeeded but wrote no _build/latex/book.pdf")
            return 1
        pdf_note = f"The PDF is {book_pdf.stat().st_size / 1e6:.1f} MB."

    limits = {cold.label: COLD_S, warm.label: WARM_S}
    rows = []
    for r in runs:
        limit = limits.get(r.label)
        rows.append(
            [
                r.label,
                f"{r.wall_s:.1f}",
                f"<= {limit:g}" if limit else "-",
                mark(r.wall_s, limit) if limit else "-",
                f"{r.rss_mb:.0f}",
                mark(r.rss_mb, RSS_GB * 1024),
            ]
        )
        if limit:
            targets.check(
                f"{r.label}: wall time (s)", f"{r.wall_s:.1f}", f"<= {limit:g}", r.wall_s <= limit
            )
        targets.check(
            f"{r.label}: peak RSS (MB)",
            f"{r.rss_mb:.0f}",
            f"<= {RSS_GB * 1024:.0f}",
            r.rss_mb <= RSS_GB * 1024,
        )
    print(
        table(
            ["build", "wall (s)", "target (s)", "met", "peak RSS (MB)", "<= 2 GB"], rows, "lrrlrl"
        )
    )
    print(
        f"\nThe cold build executed {len(cold_executed)} page(s); the warm rebuild executed "
        f"{sorted(warm_executed) or 'none'} and left the cache records "
        f"{'unchanged' if warm_ok else '**changed**'}."
    )
    targets.check(
        "warm rebuild executes no page",
        "none" if warm_ok else str(sorted(warm_executed)),
        "none",
        warm_ok,
    )
    print(f"\n{change_note}")
    if change_ok is not None:
        targets.check(
            "one-chapter rebuild re-executes only that chapter",
            "yes" if change_ok else "no",
            "yes",
            change_ok,
        )
    if pdf_note:
        print(f"\n{pdf_note}")

    print("\n## Execution time per page\n")
    print(
        "From the cold build's jupyter-cache records (`execution_seconds`, the time to run "
        f"the page's notebook); budget {PAGE_S:g} s per page.\n"
    )
    rows = []
    for page in pages:
        rec = cold_records.get(page)
        seconds = rec[2] if rec else None
        if seconds is None:
            rows.append([page, "not executed (not a notebook page)", "-"])
            continue
        rows.append([page, f"{seconds:.2f}", mark(seconds, PAGE_S)])
        targets.check(
            f"execution of {page} (s)", f"{seconds:.2f}", f"<= {PAGE_S:g}", seconds <= PAGE_S
        )
    total = sum(r[2] or 0.0 for r in cold_records.values())

    print(table(["page", "execution (s)", f"<= {PAGE_S:g} s"], rows, "lrl"))
    print(f"\nTotal execution time: {total:.1f} s of the cold build's {cold.wall_s:.1f} s.")
    over = [p for p in pages if (cold_records.get(p, (0, 0.0, None))[2] or 0.0) > PAGE_S]
    if over and args.quick:
        print("\n(`--quick`: the slowest cells of the pages over budget are not timed.)")
    elif over:
        print(
            "\nThe slowest cells of each page over budget (the page executed once more with "
            "nbclient, timing each cell; the cache keeps no per-cell times):\n"
        )
        rows = []
        for page in over:
            path = page_file(copy, page)
            for seconds, first in slowest_cells(path, env) if path else []:
                rows.append([page, f"{seconds:.2f}", "`" + first.replace("|", "\\|")[:70] + "`"])
        print(table(["page", "cell (s)", "first line of the cell"], rows, "lrl"))
    targets.emit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
