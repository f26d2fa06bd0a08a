"""Benchmark: numerical accuracy of calcml's derivatives, Hessians and quadrature rules.

* :func:`calcml.differentiate.derivative`: each method's relative error at its default
  step over a battery of functions and points, against the theoretical limits
  (forward ~1e-8, central ~1e-10, five-point ~1e-13, complex step ~1e-16);
* Hessians by each available method (:func:`calcml.differentiate.hessian` from function
  values, central differences of the exact :func:`calcml.autodiff.grad`, and the exact
  :func:`calcml.autodiff.hessian`) against SymPy's exact Hessian;
* :mod:`calcml.integrate`'s rules: error against ``n`` and the observed order;
* Gauss-Hermite against exact Gaussian expectations, e.g. E[cos X] = exp(-1/2);
* Monte Carlo: the error against N (slope -1/2) and how often 95% intervals cover the truth.

Errors, not times: the numbers do not depend on the machine's load. Prints markdown
tables; exits non-zero only if it could not run (a missed target is reported, not an
error).

Usage::

    .venv/bin/python benchmarks/bench_accuracy.py [--quick] [--summary FILE]
"""

from __future__ import annotations

import argparse
import functools
import math
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import sympy as sp
from _common import Targets, sci, table

from calcml import autodiff as ad
from calcml import differentiate, integrate, symbolic

EPS = float(np.finfo(np.float64).eps)

# (name, f, f', point): f must accept complex input (for the complex step).
SCALAR_BATTERY: list[tuple[str, Callable[[Any], Any], Callable[[float], float], float]] = [
    ("sin x", np.sin, math.cos, 1.0),
    ("exp x", np.exp, math.exp, 0.5),
    ("log x", np.log, lambda x: 1 / x, 2.0),
    ("tanh x", np.tanh, lambda x: 1 - math.tanh(x) ** 2, -0.3),
    ("1/(1+x^2)", lambda x: 1 / (1 + x * x), lambda x: -2 * x / (1 + x * x) ** 2, 0.7),
    ("sqrt x", np.sqrt, lambda x: 0.5 / math.sqrt(x), 2.0),
    (
        "sigmoid x",
        lambda x: 1 / (1 + np.exp(-x)),
        lambda x: math.exp(-x) / (1 + math.exp(-x)) ** 2,
        1.2,
    ),
    ("exp(sin x)", lambda x: np.exp(np.sin(x)), lambda x: math.cos(x) * math.exp(math.sin(x)), 3.0),
    ("x^3 - 2x", lambda x: x**3 - 2 * x, lambda x: 3 * x * x - 2, 1.5),
    ("arctan x", np.arctan, lambda x: 1 / (1 + x * x), 0.4),
    ("sin x (x = 5)", np.sin, math.cos, 5.0),
    (
        "x exp(-x^2)",
        lambda x: x * np.exp(-x * x),
        lambda x: (1 - 2 * x * x) * math.exp(-x * x),
        0.8,
    ),
]

# method: (nominal relative error from the issue, theoretical eps power)
DERIVATIVE_LIMITS = {
    "forward": (1e-8, EPS ** (1 / 2)),
    "backward": (1e-8, EPS ** (1 / 2)),
    "central": (1e-10, EPS ** (2 / 3)),
    "five_point": (1e-13, EPS ** (4 / 5)),
    "complex": (1e-16, EPS),
}


def derivative_section(targets: Targets) -> None:
    print("## Derivatives at the default step (`calcml.differentiate.derivative`)\n")
    errors: dict[str, list[float]] = {m: [] for m in DERIVATIVE_LIMITS}
    rows = []
    for name, f, df, x in SCALAR_BATTERY:
        exact = df(x)
        row: list[object] = [name, f"{x:g}"]
        for method in DERIVATIVE_LIMITS:
            d = differentiate.derivative(f, x, method=method)
            rel = abs(float(d) - exact) / abs(exact)
            errors[method].append(rel)
            row.append(sci(rel))
        rows.append(row)
    print("Relative error |d - f'(x)| / |f'(x)| of each method at its default step:\n")
    print(table(["f", "x", *DERIVATIVE_LIMITS], rows))
    print(
        f"\nSummary over the {len(SCALAR_BATTERY)} functions; "
        "target: the median within 10x of the nominal limit.\n"
    )
    summary = []
    for method, (nominal, theory) in DERIVATIVE_LIMITS.items():
        med, worst = statistics.median(errors[method]), max(errors[method])
        summary.append([method, sci(med), sci(worst), sci(theory), f"~{nominal:.0e}"])
        # Exact zero (the complex step often hits it) counts as within the limit.
        targets.check(
            f"derivative, {method}: median relative error",
            sci(med),
            f"<= 10 x {nominal:.0e}",
            med <= 10 * nominal,
        )
    print(
        table(
            ["method", "median", "max", "eps^(k/(k+1)) (theory)", "nominal (issue)"],
            summary,
        )
    )


# (name, f written against a namespace m with sin/cos/exp/log/tanh, point)
HESSIAN_BATTERY: list[tuple[str, Callable[..., Any], list[float]]] = [
    ("Rosenbrock", lambda x, m: (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2, [1.2, 0.8]),
    (
        "exp(x0) sin(x1) + x0 x1^2",
        lambda x, m: m.exp(x[0]) * m.sin(x[1]) + x[0] * x[1] ** 2,
        [0.3, 1.1],
    ),
    (
        "logistic loss log(1 + exp(-(x0 + 2 x1 - x2)))",
        lambda x, m: m.log(1 + m.exp(-(x[0] + 2 * x[1] - x[2]))),
        [0.5, -0.2, 0.3],
    ),
    (
        "tanh(x0 x1) + x0 cos(x2) + x3^2 x1",
        lambda x, m: m.tanh(x[0] * x[1]) + x[0] * m.cos(x[2]) + x[3] ** 2 * x[1],
        [0.4, 0.7, 1.3, -0.6],
    ),
]

HESSIAN_LIMITS = {
    "differentiate.hessian (f values)": 1e-7,
    "central differences of autodiff.grad": 1e-10,
    "autodiff.hessian (exact)": 1e-13,
}


def hessian_section(targets: Targets) -> None:
    print("\n## Hessians against SymPy\n")
    print(
        "Relative error max|H - H_sympy| / max|H_sympy| (the SymPy Hessian evaluated in "
        "float64 is the reference):\n"
    )
    worst = dict.fromkeys(HESSIAN_LIMITS, 0.0)
    rows = []
    for name, f, point in HESSIAN_BATTERY:
        n = len(point)
        syms = sp.symbols(f"x0:{n}")
        H_exact = np.asarray(symbolic.lambdify(symbolic.hessian(f(syms, sp), syms), syms)(point))
        H_exact = H_exact.reshape(n, n).astype(float)
        x = np.asarray(point)
        f_np, f_ad = functools.partial(f, m=np), functools.partial(f, m=ad)
        results = {
            "differentiate.hessian (f values)": differentiate.hessian(f_np, x),
            "central differences of autodiff.grad": differentiate.jacobian(
                ad.grad(f_ad), x, method="central"
            ),
            "autodiff.hessian (exact)": ad.hessian(f_ad)(x),
        }
        scale = np.max(np.abs(H_exact))
        row: list[object] = [name, n]
        for method, H in results.items():
            rel = float(np.max(np.abs(np.asarray(H) - H_exact)) / scale)
            worst[method] = max(worst[method], rel)
            row.append(sci(rel))
        rows.append(row)
    print(table(["f", "n", *HESSIAN_LIMITS], rows))
    for method, limit in HESSIAN_LIMITS.items():
        targets.check(
            f"Hessian, {method}: worst relative error",
            sci(worst[method]),
            f"<= {limit:.0e}",
            worst[method] <= limit,
        )


def _observed_order(ns: list[int], errs: list[float]) -> float:
    """Median slope of -log(err)/log(n) between successive n, above round-off (err > 1e-13)."""
    slopes = [
        math.log(e0 / e1) / math.log(n1 / n0)
        for n0, n1, e0, e1 in zip(ns, ns[1:], errs, errs[1:], strict=False)
        if e1 > 1e-13 and e0 > 0
    ]
    return statistics.median(slopes) if slopes else float("nan")


def quadrature_section(targets: Targets, quick: bool) -> None:
    print("\n## Quadrature error against n (`calcml.integrate`)\n")
    ns = [4, 8, 16, 32, 64] if quick else [4, 8, 16, 32, 64, 128, 256, 512]
    rules: dict[str, tuple[Callable[[Callable[..., Any], float, float, int], float], float]] = {
        "riemann_sum (left)": (
            lambda f, a, b, n: integrate.riemann_sum(f, a, b, n, point="left"),
            1.0,
        ),
        "riemann_sum (midpoint)": (
            lambda f, a, b, n: integrate.riemann_sum(f, a, b, n, point="midpoint"),
            2.0,
        ),
        "trapezoid_rule": (integrate.trapezoid_rule, 2.0),
        "simpson_rule": (integrate.simpson_rule, 4.0),
    }
    integrands: list[tuple[str, Callable[[Any], Any], float, float, float]] = [
        ("exp x on [0, 1]", np.exp, 0.0, 1.0, math.e - 1),
        # Not 1/(1+x^2): its third derivative vanishes at both ends, so Simpson's
        # leading error term cancels and the rule shows order 6 there.
        ("1/(1+x) on [0, 1]", lambda x: 1 / (1 + x), 0.0, 1.0, math.log(2.0)),
    ]
    for label, f, a, b, exact in integrands:
        print(f"Absolute error for the integral of {label} (exact {exact:.15g}):\n")
        rows = []
        for rule, (fn, order) in rules.items():
            errs = [abs(fn(f, a, b, n) - exact) for n in ns]
            observed = _observed_order(ns, errs)
            rows.append([rule, *(sci(e) for e in errs), f"{observed:.2f}", f"{order:g}"])
            targets.check(
                f"{rule}, {label}: observed order",
                f"{observed:.2f}",
                f"{order:g} ± 0.3",
                abs(observed - order) <= 0.3,
            )
        print(table(["rule", *(f"n={n}" for n in ns), "observed order", "theory"], rows))
        gl_ns = [1, 2, 3, 4, 5, 6, 8, 10]
        gl = [abs(integrate.gauss_legendre(f, a, b, n) - exact) for n in gl_ns]
        print(f"\n`gauss_legendre` (exact for degree <= 2n - 1) on {label}:\n")
        print(table(["nodes n", *(str(n) for n in gl_ns)], [["abs. error", *(sci(e) for e in gl)]]))
        print()
    e_gl = abs(integrate.gauss_legendre(np.exp, 0.0, 1.0, 8) - (math.e - 1))
    targets.check(
        "gauss_legendre, exp x on [0, 1], n = 8: abs. error",
        sci(e_gl),
        "<= 1e-14",
        e_gl <= 1e-14,
    )


def gauss_hermite_section(targets: Targets) -> None:
    print("## Gauss-Hermite against exact Gaussian expectations\n")
    # (expectation, f, mean, std, exact, {n: reference error from the GUIDE})
    cases: list[tuple[str, Callable[[Any], Any], float, float, float, dict[int, float]]] = [
        (
            "E[cos X], X ~ N(0, 1)",
            np.cos,
            0.0,
            1.0,
            math.exp(-0.5),
            {5: 1e-4, 10: 4e-11, 20: 4e-16},
        ),
        ("E[exp X], X ~ N(0, 1)", np.exp, 0.0, 1.0, math.exp(0.5), {}),
        ("E[X^4], X ~ N(0, 1)", lambda x: x**4, 0.0, 1.0, 3.0, {}),
        ("E[cos X], X ~ N(1, 2^2)", np.cos, 1.0, 2.0, math.cos(1.0) * math.exp(-2.0), {}),
    ]
    ns = [5, 10, 20]
    rows = []
    for name, f, mean, std, exact, refs in cases:
        errs = [
            abs(integrate.gauss_hermite_expectation(f, mean=mean, std=std, n=n) - exact) for n in ns
        ]
        rows.append([name, f"{exact:.15g}", *(sci(e) for e in errs)])
        for n, e in zip(ns, errs, strict=True):
            if n in refs:
                # The reference values are round numbers: allow a factor of 3 (and
                # rounding at 1e-16, where the error is a few ulps of exp(-1/2)).
                limit = max(3 * refs[n], 4 * EPS)
                targets.check(
                    f"Gauss-Hermite {name}, n = {n}: abs. error",
                    sci(e),
                    f"<= ~{refs[n]:.0e} (GUIDE)",
                    e <= limit,
                )
    print("Absolute error with n nodes:\n")
    print(table(["expectation", "exact", *(f"n={n}" for n in ns)], rows))


def monte_carlo_section(targets: Targets, quick: bool) -> None:
    print("\n## Monte Carlo: error against N and interval coverage\n")
    exact = math.exp(-0.5)  # E[cos X], X ~ N(0, 1)

    def normal(rng: np.random.Generator, n: int) -> Any:
        return rng.standard_normal(n)

    seeds = 50 if quick else 200
    ns = [100, 1_000, 10_000] if quick else [100, 1_000, 10_000, 100_000]
    rms = []
    for n in ns:
        errs = [
            integrate.monte_carlo(np.cos, normal, n, rng=s).estimate - exact for s in range(seeds)
        ]
        rms.append(math.sqrt(statistics.fmean(e * e for e in errs)))
    slope = float(np.polyfit(np.log(ns), np.log(rms), 1)[0])
    print(
        f"`monte_carlo` for E[cos X] = exp(-1/2), X ~ N(0, 1): root-mean-square error over "
        f"{seeds} seeds:\n"
    )
    print(table(["N", *(f"{n:,}" for n in ns)], [["RMS error", *(sci(e) for e in rms)]]))
    print(f"\nSlope of log(RMS error) against log(N): {slope:.2f} (theory -0.5).")
    targets.check(
        "Monte Carlo: slope of RMS error against N",
        f"{slope:.2f}",
        "-0.5 ± 0.1",
        abs(slope + 0.5) <= 0.1,
    )
    reps, n = (200, 1_000) if quick else (1_000, 1_000)
    covered = 0
    for s in range(reps):
        lo, hi = integrate.monte_carlo(np.cos, normal, n, rng=10_000 + s).confidence_interval(0.95)
        covered += lo <= exact <= hi
    coverage = covered / reps
    # 99% band of a binomial proportion around 0.95 with `reps` trials.
    band = 2.576 * math.sqrt(0.95 * 0.05 / reps)
    print(
        f"\n95% confidence intervals (N = {n:,}) that contain the truth: {covered} of {reps} "
        f"({coverage:.1%}); with {reps} intervals a correct 95% interval lands in "
        f"{0.95 - band:.1%} to {0.95 + band:.1%} (99% of the time)."
    )
    targets.check(
        f"Monte Carlo: 95% interval coverage ({reps} intervals, N = {n:,})",
        f"{coverage:.1%}",
        f"{0.95 - band:.1%} to {0.95 + band:.1%}",
        abs(coverage - 0.95) <= band,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer n values (development)")
    parser.add_argument("--summary", type=Path, help="append the targets as JSON lines here")
    args = parser.parse_args(argv)
    targets = Targets("accuracy", args.summary)
    derivative_section(targets)
    hessian_section(targets)
    quadrature_section(targets, args.quick)
    gauss_hermite_section(targets)
    monte_carlo_section(targets, args.quick)
    targets.emit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
