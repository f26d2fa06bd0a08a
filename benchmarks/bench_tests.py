"""Benchmark: the wall time of the test suite.

By default ``make test-fast`` (the unit tests and doctests, without the book build, the
browser, PDF and Binder tests) in the repository itself: it reads the sources and writes
only pytest's and hypothesis's caches.

``--full`` times the whole ``make test`` (coverage, the book build, browser, PDF and
Binder tests, then ``make lint``) in a copy of the repository in a temporary folder, so
that the developer's ``_build`` and execution cache are not touched (the copy's
``.venv`` and ``node_modules`` are links to the repository's, which ``make`` is told not
to rebuild). It builds the book from a cold cache and takes many minutes.

Wall time and peak RSS from ``/usr/bin/time -v`` (as in ``bench_build.py``). Prints a
markdown table; exits non-zero only if it could not run (failing tests are reported,
with the exit code, not treated as an error).

Usage::

    .venv/bin/python benchmarks/bench_tests.py [--full] [--summary FILE]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

from _common import ROOT, Targets, table
from bench_build import TIME_V, copy_repository, timed

# The Makefile's install stamps and the files they depend on.
STAMPS = {
    ".venv/.installed": ["pyproject.toml", "requirements/constraints.txt"],
    "node_modules/.installed": ["package.json", "package-lock.json"],
}


def prepare_copy(copy: Path) -> Path:
    """A copy of the repository whose ``.venv`` is a link to the repository's.

    ``make`` must never reinstall that shared environment from the copy (the editable
    install would then point into a folder that is about to be deleted), so the copy's
    install stamps' inputs are dated no later than the stamps themselves.
    """
    copy.mkdir(parents=True)
    copy_repository(copy)
    (copy / ".venv").symlink_to(ROOT / ".venv", target_is_directory=True)
    for stamp, inputs in STAMPS.items():
        if not (ROOT / stamp).exists():
            raise RuntimeError(f"{stamp} is missing: run `make book` first")
        when = (ROOT / stamp).stat().st_mtime - 1
        for name in inputs:
            path = copy / name
            if path.exists() and path.stat().st_mtime > when:
                os.utime(path, (when, when))
    return copy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="time the whole `make test`")
    parser.add_argument("--summary", type=Path, help="append the targets as JSON lines here")
    args = parser.parse_args(argv)
    targets = Targets("tests", args.summary)
    if shutil.which("make") is None:
        print("error: `make` is not installed", file=sys.stderr)
        return 1
    work = Path(tempfile.mkdtemp(prefix="calcml-bench-tests-"))
    try:
        env = dict(os.environ)
        if args.full:
            copy = prepare_copy(work / "repo")
            env["PYTHONPATH"] = os.pathsep.join(
                filter(None, [str(copy / "src"), env.get("PYTHONPATH")])
            )
            cmd = ["make", "--no-print-directory", "test"]
            label, cwd = "`make test` (whole suite, in a copy, cold book build)", copy
        else:
            cmd = ["make", "--no-print-directory", "test-fast"]
            label, cwd = "`make test-fast` (unit tests and doctests, no book build)", ROOT
        run = timed(label, cmd, cwd, env, work / "tests.log")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    counts = re.findall(r"(\d+) (passed|failed|skipped|errors?|xfailed|deselected)", run.log)
    result = ", ".join(f"{n} {what}" for n, what in counts[-6:]) or "(no pytest summary line)"
    status = "passed" if run.returncode == 0 else f"**failed** (exit {run.returncode})"
    how = "`/usr/bin/time -v`" if TIME_V.exists() else "`getrusage(RUSAGE_CHILDREN)`"
    print("## Test suite\n")
    print(f"Wall time and peak RSS (largest single process) from {how}.\n")
    print(
        table(
            ["suite", "wall (s)", "peak RSS (MB)", "status", "pytest summary"],
            [[label, f"{run.wall_s:.1f}", f"{run.rss_mb:.0f}", status, result]],
            "lrrll",
        )
    )
    if run.returncode != 0:
        print("\nThe end of its output:\n\n```\n" + "\n".join(run.log.splitlines()[-25:]) + "\n```")
    targets.check(f"{label}: result", status, "passed", run.returncode == 0)
    targets.emit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
