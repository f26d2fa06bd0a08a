"""Run every benchmark and write ``benchmarks/README.md`` (what ``make bench`` does).

The report describes the machine (CPU, cores, memory, load, Python, NumPy and its BLAS,
date, commit), lists every target with whether it was met, then the tables each script
printed, in order: build and per-page execution (``bench_build.py``), accuracy
(``bench_accuracy.py``), cost (``bench_cost.py``, which runs ``bench_autodiff.py``) and
the test suite (``bench_tests.py``). Every number in the report comes from this run.

Each script runs in its own process. A script that could not run is reported in its
section and makes this script exit non-zero after the report is written.

Usage::

    .venv/bin/python benchmarks/report.py [--quick] [--skip-build] [--tests fast|full|none]
        [--output benchmarks/README.md]

``--quick`` passes ``--quick`` to every script (fewer repeats, no PDF build): for
development, not for the committed report.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, met, table

HERE = Path(__file__).resolve().parent


def _run(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT).stdout
    except (OSError, subprocess.CalledProcessError):
        return ""


def blas_description() -> tuple[str, str]:
    """(BLAS libraries and threads, where the information came from)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        import numpy as np

        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return (
            f"{blas.get('name', '?')} {blas.get('version', '')}".strip(),
            "NumPy's build configuration; threadpoolctl is not installed",
        )
    pools = threadpool_info()
    text = "; ".join(
        f"{p.get('internal_api')} {p.get('version')} ({p.get('num_threads')} threads"
        f"{', ' + p['architecture'] if p.get('architecture') else ''})"
        for p in pools
    )
    return text or "none loaded", "threadpoolctl"


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: a busy machine makes every timing slower."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"


def machine() -> list[list[str]]:
    import numpy as np
    import scipy

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor() or "unknown"
    try:
        kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        memory = f"{kb / 1024**2:.1f} GiB"
    except (OSError, StopIteration):
        memory = "unknown"
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = load_average()
    blas, blas_source = blas_description()
    commit = _run(["git", "rev-parse", "--short", "HEAD"]).strip() or "unknown"
    dirty = bool(_run(["git", "status", "--porcelain", "--untracked-files=no"]).strip())
    return [
        ["date (UTC)", dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M")],
        ["commit", commit + (" (with uncommitted changes)" if dirty else "")],
        ["CPU", cpu],
        ["cores", f"{os.cpu_count()} logical, {usable} usable by this process"],
        ["memory", memory],
        ["load average (1, 5, 15 min) at the start", load],
        ["OS", platform.platform()],
        ["Python", platform.python_version()],
        ["NumPy, SciPy", f"{np.__version__}, {scipy.__version__}"],
        ["BLAS", f"{blas} (from {blas_source})"],
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="quick mode for every script")
    parser.add_argument("--skip-build", action="store_true", help="no build benchmark")
    parser.add_argument("--tests", choices=["fast", "full", "none"], default="fast")
    parser.add_argument("--output", type=Path, default=HERE / "README.md")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    machine_rows = machine()
    quick = ["--quick"] if args.quick else []
    scripts: list[tuple[str, str, list[str]]] = []
    if not args.skip_build:
        scripts.append(("Build and page execution", "bench_build.py", quick))
    scripts.append(("Accuracy", "bench_accuracy.py", quick))
    scripts.append(("Cost", "bench_cost.py", quick))
    if args.tests != "none":
        tests = ["--full"] if args.tests == "full" else []
        scripts.append(("Test suite", "bench_tests.py", tests))

    failed: list[str] = []
    sections: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        summary = Path(tmp) / "targets.jsonl"
        summary.touch()
        for title, script, extra in scripts:
            cmd = [sys.executable, str(HERE / script), *extra, "--summary", str(summary)]
            print(f"[bench] {' '.join(cmd[1:])}", flush=True)
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
            print(proc.stdout, flush=True)
            print(f"[bench] {script} took {time.perf_counter() - t0:.0f} s", flush=True)
            # The script's own headings become subsections; its closing list of targets
            # is left out (the report lists every target at the top).
            body = proc.stdout.split("\nTargets (")[0].strip().replace("\n## ", "\n### ")
            body = "#" + body if body.startswith("## ") else body
            if body.startswith(f"### {title}\n"):  # the script's heading is the section's
                body = body.split("\n", 1)[1].strip()
            if proc.returncode != 0:
                failed.append(script)
                print(proc.stderr, file=sys.stderr)
                err = proc.stderr.strip().splitlines()[-30:]
                body += f"\n\n**`{script}` could not run** (exit {proc.returncode})" + (
                    ":\n\n```\n" + "\n".join(err) + "\n```" if err else ": see above."
                )
            sections.append(f"## {title}\n\n<!-- from benchmarks/{script} -->\n\n{body}")
        rows = [json.loads(line) for line in summary.read_text().splitlines() if line.strip()]

    skipped = []
    if args.skip_build:
        skipped.append("the build benchmark (`--skip-build`)")
    if args.tests == "none":
        skipped.append("the test suite (`--tests none`)")
    n_met = sum(r["met"] is True for r in rows)
    n_missed = sum(r["met"] is False for r in rows)
    n_info = sum(r["met"] is None for r in rows)
    site = HERE / "site.md"
    lines = [
        "# Benchmarks",
        "",
        "<!-- Generated by `make bench` (benchmarks/report.py); do not edit by hand. -->",
        "",
        "Generated by `make bench` (`benchmarks/report.py`"
        + (" `--quick`: a development run, not for comparison" if args.quick else "")
        + f") in {time.perf_counter() - started:.0f} s. Every number below was measured "
        "by that run: function timings are medians of CPU time over repeated calls, and "
        "ratios compare methods timed in the same process; builds are wall times (the "
        "build section says which ran more than once). Timings depend on the machine and "
        "its load (below); errors do not.",
        "",
        "## Machine",
        "",
        table(["", ""], [*machine_rows, ["load average at the end", load_average()]], "ll"),
        "",
        "## Targets",
        "",
        f"{n_met} met, {n_missed} missed"
        + (f", {n_info} reported without a target (n/a)" if n_info else "")
        + (f"; could not run: {', '.join(failed)}" if failed else "")
        + (f"; not run: {', '.join(skipped)}" if skipped else "")
        + ".",
        "",
        table(
            ["section", "quantity", "measured", "target", "met"],
            [
                [r["section"], r["quantity"], r["measured"], r["target"], met(r["met"])]
                for r in rows
            ],
            "llrrl",
        ),
        "",
        "The site's page weight and Lighthouse scores are measured separately, from the "
        "built site in a browser: "
        + (
            "see [site.md](site.md)."
            if site.exists()
            else "`benchmarks/page_weight.py` and `benchmarks/lighthouse.sh` write `site.md`."
        ),
        "",
    ]
    for body in sections:
        lines += [body, ""]
    args.output.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    print(f"[bench] wrote {args.output}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
