"""Helpers shared by the benchmark scripts: timing, markdown tables, target records.

Every script prints markdown tables and, when given ``--summary FILE``, appends one JSON
line per target it checked (section, quantity, measured, target, met) so that
``benchmarks/report.py`` can list all targets at the top of ``benchmarks/README.md``.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

try:
    import resource
except ImportError:  # not on POSIX (Windows)
    resource = None  # type: ignore[assignment]

ROOT = Path(__file__).resolve().parent.parent


def minor_faults() -> int:
    """Minor page faults of this process so far (0 where ``resource`` is missing: Windows)."""
    return 0 if resource is None else resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def median_cpu_times(
    fns: dict[str, Callable[[], object]],
    repeats: int,
    block: int = 1,
    faults: dict[str, float] | None = None,
) -> dict[str, float]:
    """Median CPU time (s) of each ``fn()`` over ``repeats * block`` timed calls.

    CPU time of this process rather than wall time, and interleaving the methods round
    by round, keep the ratios meaningful on a shared machine (as ``bench_autodiff.py``
    does). With ``block > 1`` each method runs one untimed call and then ``block`` timed
    calls in a row per round: a fast method timed right after a slow one that touched
    much more memory pays for the caches and pages that one evicted, which is not its
    own cost. Given a ``faults`` dict, it fills in each method's median number of minor
    page faults per call: memory the allocator had given back to the OS and the kernel
    must map and zero again.
    """
    times: dict[str, list[float]] = {name: [] for name in fns}
    flts: dict[str, list[int]] = {name: [] for name in fns}
    for _ in range(2):
        for fn in fns.values():
            fn()
    for _ in range(repeats):
        for name, fn in fns.items():
            if block > 1:
                fn()
            for _ in range(block):
                f0 = minor_faults()
                t0 = time.process_time()
                fn()
                times[name].append(time.process_time() - t0)
                flts[name].append(minor_faults() - f0)
    if faults is not None:
        faults.update({name: statistics.median(f) for name, f in flts.items()})
    return {name: statistics.median(t) for name, t in times.items()}


def table(header: Sequence[str], rows: Sequence[Sequence[object]], align: str = "") -> str:
    """A markdown table; ``align`` holds one of ``l``/``r`` per column (default: first left)."""
    align = align or "l" + "r" * (len(header) - 1)
    rule = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(rule) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def met(flag: bool | None) -> str:
    return "n/a" if flag is None else ("yes" if flag else "**NO**")


class Targets:
    """Collects the targets a script checked; prints them and appends them to a summary file."""

    def __init__(self, section: str, summary: Path | None) -> None:
        self.section = section
        self.summary = summary
        self.rows: list[dict[str, object]] = []

    def check(self, quantity: str, measured: str, target: str, ok: bool | None) -> bool | None:
        self.rows.append(
            {
                "section": self.section,
                "quantity": quantity,
                "measured": measured,
                "target": target,
                "met": ok,
            }
        )
        return ok

    def emit(self) -> None:
        """Print the target table and append the rows to the summary file."""
        if not self.rows:
            return
        print(f"\nTargets ({self.section}):\n")
        print(
            table(
                ["quantity", "measured", "target", "met"],
                [[r["quantity"], r["measured"], r["target"], met(r["met"])] for r in self.rows],  # type: ignore[arg-type]
                "lrrl",
            )
        )
        if self.summary is not None:
            with self.summary.open("a", encoding="utf-8") as fh:
                for r in self.rows:
                    fh.write(json.dumps(r) + "\n")


def sci(x: float) -> str:
    """A float in short scientific notation (``0`` for exact zero)."""
    return "0" if x == 0 else f"{x:.1e}"
