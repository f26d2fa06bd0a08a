"""Tests of calcml.autodiff against SymPy, closed forms, SciPy and finite differences."""

from __future__ import annotations

import gc
import tracemalloc
import weakref

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import rosen, rosen_der, rosen_hess

from calcml import autodiff as ad
from calcml.autodiff import (
    Tensor,
    cos,
    exp,
    export_graph,
    grad,
    hessian,
    hvp,
    jacobian,
    log,
    relu,
    sigmoid,
    sin,
    sqrt,
    tanh,
    value_and_grad,
)

RTOL = 1e-12


def close(actual, expected, rtol=RTOL, atol=0.0):
    """|a - e| <= rtol * max(|e|, 1e-3 * max |e|) + atol: relative, with a floor for zeros."""
    a, e = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    assert a.shape == e.shape, (a.shape, e.shape)
    scale = np.maximum(np.abs(e), 1e-3 * max(np.max(np.abs(e), initial=0.0), 1e-300))
    assert np.all(np.abs(a - e) <= rtol * scale + atol), np.max(np.abs(a - e) / scale)


def central_fd(f, x, h=1e-6):
    x = np.asarray(x, dtype=float)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


# ---------------------------------------------------------------- SymPy oracles

S = sp.Symbol("x")
UNARY = {
    "sin": (sin, sp.sin),
    "cos": (cos, sp.cos),
    "tanh": (tanh, sp.tanh),
    "sigmoid": (sigmoid, lambda e: 1 / (1 + sp.exp(-e))),
    "exp": (lambda t: exp(0.5 * t), lambda e: sp.exp(e / 2)),
    "log1p2": (lambda t: log(1 + t * t), lambda e: sp.log(1 + e**2)),
    "sqrt": (lambda t: sqrt(2 + t * t), lambda e: sp.sqrt(2 + e**2)),
    "square": (lambda t: t**2, lambda e: e**2),
    "cube": (lambda t: t**3.0, lambda e: e**3),
    "recip": (lambda t: 1 / (1.5 + t * t), lambda e: 1 / (sp.Rational(3, 2) + e**2)),
}
BINARY = {
    "add_x": (lambda t, x: t + x, lambda e: e + S),
    "mul_x": (lambda t, x: t * x, lambda e: e * S),
    "sub_x": (lambda t, x: x - t, lambda e: S - e),
    "div_x": (lambda t, x: t / (2 + x), lambda e: e / (2 + S)),
    "neg": (lambda t, x: -t, lambda e: -e),
}
STEPS = sorted(UNARY) + sorted(BINARY)


def build(steps):
    def f(x):
        t = x
        for s in steps:
            t = UNARY[s][0](t) if s in UNARY else BINARY[s][0](t, x)
        return t

    e = S
    for s in steps:
        e = UNARY[s][1](e) if s in UNARY else BINARY[s][1](e)
    return f, e


def exact(expr, x0, order):
    return float(sp.diff(expr, S, order).subs(S, sp.Float(x0, 40)).evalf(40))


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(STEPS), min_size=1, max_size=4), st.floats(-1.0, 1.0))
def test_random_compositions_match_sympy(steps, x0):
    f, expr = build(steps)
    value, g = value_and_grad(f)(x0)
    # Relative error 1e-12 (1e-11 for the second derivative); an absolute 1e-15 only
    # matters where the exact value is 0 or nearly so (derivatives here are of order 1).
    close(value, float(expr.subs(S, sp.Float(x0, 40)).evalf(40)), atol=1e-15)
    close(g, exact(expr, x0, 1), atol=1e-15)
    close(hessian(lambda v: f(v[0]))([x0]), [[exact(expr, x0, 2)]], rtol=1e-11, atol=1e-15)


@pytest.mark.parametrize(
    ("f", "expr"),
    [
        (lambda t: sin(t * t), sp.sin(S**2)),
        (lambda t: exp(tanh(t)), sp.exp(sp.tanh(S))),
        (lambda t: sigmoid(3 * t - 1), 1 / (1 + sp.exp(-(3 * S - 1)))),
        (lambda t: 2**t, 2**S),
        (lambda t: t**t, S**S),
        (lambda t: 3 / t - 1 / (t + 1), 3 / S - 1 / (S + 1)),
    ],
)
def test_chapter_composites(f, expr):
    for x0 in (0.3, 1.7):
        close(grad(f)(x0), exact(expr, x0, 1))
        close(hessian(lambda v, f=f: f(v[0]))([x0]), [[exact(expr, x0, 2)]])


def test_multivariate_hessian_matches_sympy():
    x, y, z = sp.symbols("x y z")
    expr = sp.sin(x * y) * sp.exp(z / 3) + sp.log(1 + x**2 + z**2) + sp.tanh(y - z) ** 2
    xs = (x, y, z)

    def f(v):
        return (
            sin(v[0] * v[1]) * exp(v[2] / 3)
            + log(1 + v[0] ** 2 + v[2] ** 2)
            + tanh(v[1] - v[2]) ** 2
        )

    p = np.array([0.4, -1.1, 0.8])
    sub = dict(zip(xs, (sp.Float(float(c), 40) for c in p), strict=True))
    g_ref = [float(sp.diff(expr, a).subs(sub)) for a in xs]
    h_ref = [[float(sp.diff(expr, a, b).subs(sub)) for b in xs] for a in xs]
    close(grad(f)(p), g_ref)
    H = hessian(f)(p)
    close(H, h_ref)
    assert np.array_equal(H, H.T) or np.allclose(H, H.T, rtol=1e-14, atol=0)
    v = np.array([1.0, -2.0, 0.5])
    close(hvp(f, p, v), np.array(h_ref) @ v)


def rosen_t(x):
    return (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2).sum()


def test_rosenbrock_against_scipy():
    x = np.array([-1.2, 1.0, 0.3, 2.0, -0.7])
    value, g = value_and_grad(rosen_t)(x)
    close(value, rosen(x))
    close(g, rosen_der(x))
    close(hessian(rosen_t)(x), rosen_hess(x))
    v = np.linspace(-1, 1, 5)
    close(hvp(rosen_t, x, v), rosen_hess(x) @ v)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_hvp_equals_hessian_times_v_and_hessian_symmetric(seed):
    rng = np.random.default_rng(seed)
    A, b = rng.normal(size=(4, 3)), rng.normal(size=4)
    x, v = rng.normal(size=3), rng.normal(size=3)

    def f(t):
        return (tanh(A @ t + b) ** 2).sum() + sigmoid(t @ t)

    H = hessian(f)(x)
    np.testing.assert_allclose(H, H.T, rtol=1e-13, atol=1e-14)
    close(hvp(f, x, v), H @ v, rtol=1e-11)
    # Closed form of the first term's gradient: A^T (2 tanh(u) sech^2(u)).
    u = A @ x + b
    s = 1 / (1 + np.exp(-x @ x))
    close(grad(f)(x), A.T @ (2 * np.tanh(u) * (1 - np.tanh(u) ** 2)) + 2 * s * (1 - s) * x)


def test_jacobian_shape_and_closed_form():
    A = np.arange(6.0).reshape(2, 3) / 5
    x = np.array([0.1, -0.4, 0.9])
    J = jacobian(lambda t: tanh(A @ t))(x)
    assert J.shape == (2, 3)
    close(J, (1 - np.tanh(A @ x) ** 2)[:, None] * A)
    # A function that ignores its input has a zero Jacobian (and gradient).
    close(jacobian(lambda t: np.ones(2))(x), np.zeros((2, 3)))
    close(grad(lambda t: 3.0)(x), np.zeros(3))
    close(grad(lambda t: Tensor(2.0) * 3)(x), np.zeros(3))  # a Tensor, but not of x
    # The backward pass of `sum` recorded on Tensors: (sum x)^2 has Hessian 2 * ones.
    close(hessian(lambda t: t.sum() ** 2)(x), 2 * np.ones((3, 3)))
    # Higher order: the Jacobian of a Jacobian, shape (2, 3, 3).
    T = jacobian(jacobian(lambda t: t[:2] * t[1:] * t[0]))(x)
    assert T.shape == (2, 3, 3)
    close(T[0], [[2 * x[1], 2 * x[0], 0], [2 * x[0], 0, 0], [0, 0, 0]])


# ---------------------------------------------------------------- graph mechanics


def test_diamond_and_reuse():
    a = Tensor(3.0)
    b = a + a
    c = b * b
    c.backward()
    assert float(a.grad) == 24.0 and float(b.grad) == 12.0
    x = Tensor(2.0)
    y = x * x * x + x
    y.backward()
    assert float(x.grad) == 13.0
    y.backward()  # .grad accumulates
    assert float(x.grad) == 26.0


def test_grad_keeps_only_the_sweep_frontier():
    # grad needs one adjoint, so the sweep must not hold the other 49 (each the size of
    # x) until it ends: the peak is the graph's 50 forward values plus a few arrays.
    n, depth = 20_000, 50

    def f(t):
        return _chain(t, depth).sum()

    x = np.linspace(-1.0, 1.0, n)
    ad.grad(f)(x)  # warm up
    tracemalloc.start()
    try:
        g = ad.grad(f)(x)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < (depth + 8) * 8 * n
    v, prod = x, np.ones(n)  # the closed form: the product of the cosines along the chain
    for _ in range(depth):
        prod, v = prod * np.cos(v), np.sin(v)
    close(g, prod, rtol=1e-12)


def _chain(t, depth):
    for _ in range(depth):
        t = sin(t)
    return t


def test_deep_chain_is_iterative():
    x = Tensor(0.5)
    t = x
    for _ in range(10_000):
        t = sin(t)
    t.backward()
    # Closed form: the product of cos at every intermediate value.
    v, prod = 0.5, 1.0
    for _ in range(10_000):
        prod *= np.cos(v)
        v = np.sin(v)
    close(t.value, v)
    close(x.grad, prod, rtol=1e-10)


def test_topological_order_is_deterministic():
    def build_graph():
        w = Tensor([1.0, 2.0], name="w")
        return export_graph(((w * w).sum() + exp(w).sum()) * sigmoid(w[0]))

    g1, g2 = build_graph(), build_graph()
    assert [n["op"] for n in g1["nodes"]] == [n["op"] for n in g2["nodes"]]
    assert g1["edges"] == g2["edges"]
    for src, dst in g1["edges"]:
        assert src < dst  # operands come before results
        assert g1["nodes"][dst]["depth"] > g1["nodes"][src]["depth"]


def test_export_graph_values_and_adjoints():
    w, x, b, y = Tensor(0.5, name="w"), Tensor(2.0, name="x"), Tensor(-0.3, name="b"), 1.0
    loss = (sigmoid(w * x + b) - y) ** 2
    loss.backward()
    g = export_graph(loss)
    ops = [n["op"] for n in g["nodes"]]
    assert ops.count("const") == 2 and ops[-1] == "pow"
    byname = {n["name"]: n for n in g["nodes"] if n["name"]}
    s = 1 / (1 + np.exp(-(0.5 * 2.0 - 0.3)))
    dz = 2 * (s - 1) * s * (1 - s)
    close(byname["w"]["grad"], dz * 2.0)
    close(byname["x"]["grad"], dz * 0.5)
    close(byname["b"]["grad"], dz)
    assert g["nodes"][-1]["grad"] == 1.0
    # Before backward() there are no adjoints.
    assert all(n["grad"] is None for n in export_graph(exp(Tensor(1.0)))["nodes"])


def test_no_reference_cycles():
    x = Tensor(np.ones(3))
    y = tanh(exp(x) * x).sum()
    y.backward()
    ref = weakref.ref(y)
    gc.disable()
    try:
        del y
        assert ref() is None  # freed by reference counting alone
    finally:
        gc.enable()


# ---------------------------------------------------------------- arrays and broadcasting


def test_broadcasting_gradients_are_summed():
    rng = np.random.default_rng(1)
    A0, b0, c0 = rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=(3, 1))
    A, b, c = Tensor(A0), Tensor(b0), Tensor(c0)
    out = ((A + b) * c).sum() + (b * 2.0).mean()
    out.backward()
    close(A.grad, np.broadcast_to(c0, (3, 4)))
    close(b.grad, c0.sum() * np.ones(4) + 2.0 / 4)
    close(c.grad, (A0 + b0).sum(axis=1, keepdims=True))
    s = Tensor(1.5)
    (s * A0).sum().backward()
    close(s.grad, A0.sum())


def test_operators_with_numpy_on_either_side():
    A = np.array([[1.0, 2.0], [3.0, -1.0]])
    x0 = np.array([0.5, 2.0])
    for fn in (
        lambda t: (A @ t).sum(),
        lambda t: (t @ A).sum(),
        lambda t: t @ t,
        lambda t: (2 * t - t / 3 + 1 - (4 - t)).sum(),
        lambda t: (3 / t).sum() + (2**t).sum() + (t**1.5).sum() + (-t).sum(),
        lambda t: (t.reshape(2, 1) * A).T.sum() + t.reshape((1, 2)).mean(),
        lambda t: (A @ (A.T @ t.reshape(2, 1))).sum() + (t.reshape(1, 2) @ A).sum(),
        lambda t: t[::-1][0] * t[1:].sum() + t[np.array([0, 0, 1])].sum(),
        lambda t: relu(t - 1).sum() + sqrt(t).mean() + t.sum(axis=0) + t.sum(keepdims=True)[0],
    ):
        y = fn(Tensor(x0))
        assert isinstance(y, Tensor)
        close(grad(fn)(x0), central_fd(lambda v, fn=fn: float(fn(Tensor(v)).value), x0), 1e-7)
    M0 = np.arange(12.0).reshape(3, 4)

    def g(t):
        return (t[1:, ::2] ** 2).sum(axis=1).mean() + (t @ np.ones(4)).sum()

    close(grad(g)(M0), central_fd(lambda v: float(g(Tensor(v)).value), M0), 1e-7)
    close(hessian(lambda t: (t[1:] * t[:-1]).sum())(np.ones(3)), [[0, 1, 0], [1, 0, 1], [0, 1, 0]])
    # Repeated fancy indices add up, to second order: f = 2 x0^2 + x1^2.
    H = hessian(lambda t: (t[np.array([0, 0, 1])] ** 2).sum())(np.array([0.5, 2.0, 3.0]))
    close(H, np.diag([4.0, 2.0, 0.0]))


def test_functions_on_plain_inputs_return_arrays():
    for fn, ref in ((exp, np.exp), (sin, np.sin), (cos, np.cos), (tanh, np.tanh), (log, np.log)):
        assert isinstance(fn(0.7), np.ndarray)
        close(fn(0.7), ref(0.7))
    close(sigmoid(np.array([-800.0, 0.0, 800.0])), [0.0, 0.5, 1.0])
    # Accurate in the far tail, where 1 - tanh or 1 / (1 + e^-x) would lose every digit.
    close(sigmoid(-40.0), float(1 / (1 + sp.exp(sp.Integer(40)))), rtol=1e-15)
    close(grad(lambda t: log(sigmoid(t)))(-40.0), float(1 - 1 / (1 + sp.exp(sp.Integer(40)))))
    close(relu([-1.0, 2.0]), [0.0, 2.0])
    close(sqrt(4), 2.0)


def test_nested_transforms_no_perturbation_confusion():
    # d/dx [x * d/dy (x * y)] = d/dx x^2 = 2x (Siskind and Pearlmutter's example).
    assert grad(lambda x: x * grad(lambda y: x * y)(2.0))(1.0) == 2.0
    # Third derivative of x^5 through three nested transforms.
    d3 = grad(lambda x: grad(lambda y: grad(lambda z: z**5)(y))(x))(1.3)
    close(d3, 60 * 1.3**2)
    # A Jacobian inside another transform stays differentiable.
    close(
        jacobian(lambda t: jacobian(lambda u: u**3)(t).sum(axis=1))([1.0, 2.0]),
        np.diag([6.0, 12.0]),
    )


def test_repr_float_and_properties():
    t = Tensor([[1.0, 2.0]], name="w")
    assert "op='leaf'" in repr(t)
    assert t.shape == (1, 2) and t.ndim == 2 and t.T.shape == (2, 1)
    assert float(Tensor(2.5)) == 2.5


# ---------------------------------------------------------------- bad input


def test_bad_input_messages():
    x = Tensor([1.0, 2.0])
    with pytest.raises(TypeError, match="str"):
        x + "a"
    with pytest.raises(TypeError, match="list"):
        x * [1, 2]  # lists are ambiguous: convert with np.asarray
    with pytest.raises(TypeError, match="str"):
        exp("a")
    with pytest.raises(TypeError, match="`value`"):
        Tensor("abc")
    with pytest.raises(ValueError, match="`value` must be finite"):
        Tensor(np.nan)
    with pytest.raises(ValueError, match="`value` must be finite"):
        Tensor(np.array([1.0, np.inf]))
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(2,\)"):
        np.ones((2, 3)) @ x
    with pytest.raises(ValueError, match=r"\(2,\) and \(3, 2\)"):
        x @ np.ones((3, 2))
    with pytest.raises(ValueError, match="not aligned"):
        Tensor(np.ones((2, 2, 2))) @ np.ones(2)
    with pytest.raises(ValueError, match=r"shape \(2,\): use `jacobian`"):
        (x * 2).backward()
    with pytest.raises(ValueError, match="`seed` has shape"):
        (x * 2).backward(np.ones(3))
    with pytest.raises(ValueError, match="`log` needs non-negative input"):
        log(Tensor([1.0, -1e-300]))
    with pytest.raises(ValueError, match="`log` needs non-negative input"):
        grad(lambda t: log(t).sum())([1.0, -1.0])
    with pytest.raises(ValueError, match="`sqrt` needs non-negative"):
        sqrt(Tensor(-1.0))
    with pytest.raises(ValueError, match="integer exponent"):
        Tensor(-2.0) ** 0.5
    with pytest.raises(TypeError, match="str"):
        x ** "a"
    with pytest.raises(TypeError, match="str"):
        "a" ** x
    with pytest.raises(ValueError, match=r"shape \(2,\): use `jacobian`"):
        grad(lambda t: t * 2)([1.0, 2.0])
    with pytest.raises(TypeError, match="`f` must be callable"):
        grad(3)
    with pytest.raises(TypeError, match="`f` must return a Tensor or real numbers, got str"):
        jacobian(lambda t: "no")([1.0])
    with pytest.raises(ValueError, match="`v` has shape"):
        hvp(rosen_t, [1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="`x` must be finite"):
        grad(rosen_t)([1.0, np.inf])
    with pytest.raises(TypeError, match="`root` must be a Tensor"):
        export_graph(3.0)


def test_explicit_seed_contracts_the_jacobian():
    x = Tensor([1.0, 2.0, 3.0])
    y = x * x
    y.backward(np.array([1.0, 0.0, 2.0]))
    close(x.grad, [2.0, 0.0, 12.0])
    z = Tensor(2.0)
    w = exp(z)
    w.backward(create_graph=True)
    assert isinstance(z.grad, Tensor)
    z.grad.backward()  # the second derivative of exp
    close(ad._val(z.grad), np.exp(2.0) + np.exp(2.0))


def test_scalar_rule_results_of_shape_empty_are_python_floats():
    # The package's scalar rule (calcml/__init__.py): a numeric result of shape () is a float.
    from calcml.autodiff import grad, hessian, jacobian, jvp, value_and_grad, vjp

    f = lambda t: sin(t) * t  # noqa: E731
    d = np.cos(0.7) * 0.7 + np.sin(0.7)
    checks = [
        (grad(f)(0.7), d),
        (value_and_grad(f)(0.7)[0], np.sin(0.7) * 0.7),
        (value_and_grad(f)(0.7)[1], d),
        (jacobian(f)(0.7), d),
        (hessian(f)(0.7), 2 * np.cos(0.7) - 0.7 * np.sin(0.7)),
        (jvp(f, 0.7, 2.0)[0], np.sin(0.7) * 0.7),
        (jvp(f, 0.7, 2.0)[1], 2 * d),
        (vjp(f, 0.7)[0], np.sin(0.7) * 0.7),
        (vjp(f, 0.7)[1](3.0), 3 * d),
    ]
    for got, want in checks:
        assert type(got) is float
        assert abs(got - want) <= 1e-15 * max(1.0, abs(want))
    # a vector x keeps arrays; a scalar output of a vector x is a float value
    value, g = value_and_grad(lambda t: (t * t).sum())([1.0, 2.0])
    assert type(value) is float and isinstance(g, np.ndarray) and g.shape == (2,)
    assert type(vjp(lambda t: (t * t).sum(), [1.0, 2.0])[0]) is float
    assert isinstance(jacobian(lambda t: t * t)([1.0]), np.ndarray)


def test_docstrings_link_to_the_book_through_the_shared_helper():
    from calcml import _tensor, autodiff
    from calcml._validation import book_link

    page = "chain_rule_backpropagation"
    assert autodiff.__doc__.rstrip().endswith(f"Book: {book_link(page)}")
    assert _tensor.__doc__.rstrip().endswith(f"Book: {book_link(page)}")
    for obj, section in [
        (autodiff.grad, "backpropagation-step-by-step"),
        (autodiff.jvp, "sec-jvp-vjp"),
        (autodiff.vjp, "sec-jvp-vjp"),
        (autodiff.Tensor, "a-computational-graph"),
        (autodiff.Tensor.backward, "a-computational-graph"),
        (autodiff.tanh, "the-chain-rule-for-composite-functions"),
    ]:
        assert obj.__doc__.rstrip().endswith(f"Book: {book_link(page, section)}"), obj
