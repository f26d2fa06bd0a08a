"""Benchmark: one forward + backward pass of a 2-64-64-1 tanh MLP, batch 256, float64.

Measured in one process, medians over repeats:

* the hand-written backpropagation of :mod:`calcml.nn`,
* the reverse-mode engine :mod:`calcml.autodiff` (the same network on Tensors),
* PyTorch's CPU autograd, when ``torch`` is importable (skipped with a note otherwise),

and the ratios autodiff / hand-written (target <= 1.3), (f + grad f) / f with the
same engine (target <= 3) and an exact Hessian-vector product / one gradient
(target <= 4); with PyTorch, also hand-written / PyTorch and autodiff / PyTorch
(both calcml paths should be faster: <= 1). Prints a markdown table. Exits non-zero
only if it could not run; missing a target is reported, not an error (timings on a
shared machine vary).

The allocator's state is part of the measurement. glibc's malloc starts with a
dynamic threshold of 128 kB: memory freed at the top of the heap beyond twice that
threshold goes back to the OS, and the kernel has to map and zero it again on the next
step. A reverse-mode engine frees its whole graph at the end of each step (here the
peak is 1.5 MB, mostly 128 kB arrays, and 4.6 MB for a Hessian-vector product, by
tracemalloc), so a process in that state can pay hundreds of page faults per step; the
hand-written pass (0.7 MB) keeps its layer caches from one step to the next and pays
few or none. glibc raises the threshold by itself the first time the process frees a
large ``mmap``-ed block (4 MB raises it to 4 MB, and the trim threshold to 8 MB), which
a session that has handled arrays of a few MB has done. A fresh process may or may not
get there during the benchmark: consecutive runs of the same command have landed in
either state, with ratios 1.4 times apart. So that two runs measure the same thing,
``--allocator warm`` (the default) frees one 4 MB array before timing;
``--allocator cold`` leaves the fresh process as it is. The median minor page faults
per call are reported beside the times, so the state is visible.

Usage::

    .venv/bin/python benchmarks/bench_autodiff.py [--repeats 200] [--allocator warm|cold]
        [--no-torch]
"""

from __future__ import annotations

import os

# One BLAS thread: small matrices, a shared machine, and a like-for-like comparison with
# PyTorch (set to one thread below). Must happen before NumPy is imported.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import importlib  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402
from _common import median_cpu_times  # noqa: E402  (benchmarks/ is on sys.path)

from calcml import autodiff as ad  # noqa: E402
from calcml.nn import MLP, MSELoss  # noqa: E402

SIZES = (2, 64, 64, 1)
BATCH = 256


def tensor_loss(params: list[ad.Tensor], X: np.ndarray, Y: np.ndarray) -> ad.Tensor:
    (W1, b1, W2, b2, W3, b3) = params
    h = ad.tanh(X @ W1 + b1)
    h = ad.tanh(h @ W2 + b2)
    return ((h @ W3 + b3 - Y) ** 2).mean()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument(
        "--allocator",
        choices=("warm", "cold"),
        default="warm",
        help="warm: free one 4 MB array before timing (see the module docstring); "
        "cold: leave the fresh process's allocator as it is",
    )
    parser.add_argument(
        "--no-torch",
        action="store_true",
        help="leave PyTorch out even if installed (importing it changes the process: "
        "the hand-written pass ran 5-20%% slower beside it here)",
    )
    args = parser.parse_args(argv)
    if args.allocator == "warm":
        float(np.ones(1 << 19).sum())  # 4 MB, mmap-ed by malloc, touched, then freed
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(BATCH, SIZES[0])), rng.normal(size=(BATCH, SIZES[-1]))
    net = MLP(list(SIZES), activation="tanh", rng=0)
    loss = MSELoss()
    params = net.parameters()
    shapes = [p.shape for p in params]
    theta = np.concatenate([p.ravel() for p in params])

    def hand() -> object:
        return net.loss_and_gradients(X, Y, loss)

    # As in the PyTorch row, the parameter Tensors are made once and each step resets
    # their .grad (the hand-written network keeps its parameters too).
    ts = [ad.Tensor(p) for p in params]

    def forward_only() -> object:
        return tensor_loss(ts, X, Y)

    def autodiff() -> object:
        for t in ts:
            t.grad = None
        tensor_loss(ts, X, Y).backward()
        return [t.grad for t in ts]

    def flat_loss(t: ad.Tensor) -> ad.Tensor:  # the loss as a function of one parameter vector
        parts, start = [], 0
        for shape in shapes:
            size = int(np.prod(shape))
            parts.append(t[start : start + size].reshape(shape))
            start += size
        return tensor_loss(parts, X, Y)

    v = rng.normal(size=theta.size)
    grad_flat = ad.grad(flat_loss)

    # Correctness first: the three gradients agree.
    g_hand = np.concatenate([g.ravel() for g in hand()[1]])  # type: ignore[index]
    g_ad = np.concatenate([np.ravel(g) for g in autodiff()])  # type: ignore[attr-defined]
    g_flat = grad_flat(theta)
    scale = np.max(np.abs(g_hand))
    if max(np.max(np.abs(g_ad - g_hand)), np.max(np.abs(g_flat - g_hand))) > 1e-12 * scale:
        print("gradients disagree: the benchmark cannot run", file=sys.stderr)
        return 1

    fns: dict[str, Callable[[], object]] = {
        "calcml.nn (hand-written) f + grad": hand,
        "calcml.autodiff f only": forward_only,
        "calcml.autodiff f + grad": autodiff,
        "calcml.autodiff grad (flat vector)": lambda: grad_flat(theta),
        "calcml.autodiff hvp (flat vector)": lambda: ad.hvp(flat_loss, theta, v),
    }
    torch, torch_note = None, "PyTorch is left out (`--no-torch`)."
    if not args.no_torch:
        try:
            torch, torch_note = importlib.import_module("torch"), ""
        except ImportError:
            torch_note = "PyTorch is not installed: its row is skipped."
    if torch is not None:
        torch.set_num_threads(1)
        tp = [torch.tensor(p, requires_grad=True) for p in params]
        tX, tY = torch.tensor(X), torch.tensor(Y)

        def torch_step() -> object:
            for p in tp:
                p.grad = None
            h = torch.tanh(tX @ tp[0] + tp[1])
            h = torch.tanh(h @ tp[2] + tp[3])
            out = ((h @ tp[4] + tp[5] - tY) ** 2).mean()
            out.backward()
            return out

        fns["PyTorch CPU autograd f + grad"] = torch_step
    faults: dict[str, float] = {}
    rows = median_cpu_times(fns, args.repeats, faults=faults)

    hand_t = rows["calcml.nn (hand-written) f + grad"]
    print(
        f"2-64-64-1 tanh MLP, batch {BATCH}, float64; median CPU time of {args.repeats} runs; "
        f"allocator: {args.allocator}\n"
    )
    print("| method | median CPU time (µs) | relative to hand-written | page faults per call |")
    print("|---|---:|---:|---:|")
    for name, t in rows.items():
        print(f"| {name} | {t * 1e6:.1f} | {t / hand_t:.2f} | {faults[name]:g} |")
    ratios = [
        ("autodiff / hand-written", rows["calcml.autodiff f + grad"] / hand_t, 1.3),
        (
            "(f + grad f) / f, autodiff",
            rows["calcml.autodiff f + grad"] / rows["calcml.autodiff f only"],
            3.0,
        ),
        (
            "hvp / grad, autodiff",
            rows["calcml.autodiff hvp (flat vector)"] / rows["calcml.autodiff grad (flat vector)"],
            4.0,
        ),
    ]
    if "PyTorch CPU autograd f + grad" in rows:  # the issue: both calcml paths beat PyTorch
        t_torch = rows["PyTorch CPU autograd f + grad"]
        ratios += [
            ("hand-written / PyTorch", hand_t / t_torch, 1.0),
            ("autodiff / PyTorch", rows["calcml.autodiff f + grad"] / t_torch, 1.0),
        ]
    print("\n| ratio | measured | target | met |")
    print("|---|---:|---:|---|")
    for name, r, target in ratios:
        print(f"| {name} | {r:.2f} | <= {target:g} | {'yes' if r <= target else 'NO'} |")
    if torch_note:
        print(f"\n{torch_note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
