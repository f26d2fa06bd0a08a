"""Tests of the engine behind calcml.autodiff: memory, edge cases, hvp/jvp/vjp, properties.

Oracles: closed forms, finite differences (calcml.differentiate) and the engine's
own Jacobian only where a product J v or u^T J is checked against it (the Jacobian
itself is checked against SymPy and SciPy in test_autodiff.py).
"""

from __future__ import annotations

import itertools
import operator
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays, mutually_broadcastable_shapes

from calcml import differentiate
from calcml._tensor import VJP_RULES, backpropagate, topological_order
from calcml.autodiff import (
    Tensor,
    exp,
    grad,
    hessian,
    hvp,
    jacobian,
    jvp,
    log,
    sin,
    sqrt,
    tanh,
    value_and_grad,
    vjp,
)


def close(actual, expected, rtol=1e-12, atol=1e-14):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


def no_shared_memory(nodes):
    """Every node's .grad is a writeable array of its own (Tensor grads: their values)."""
    grads = [np.asarray(getattr(n.grad, "value", n.grad)) for n in nodes]
    for i, gi in enumerate(grads):
        assert gi.flags.writeable
        for gj in grads[i + 1 :]:
            assert not np.shares_memory(gi, gj)


# ---------------------------------------------------------------- aliasing and ownership


def test_issue_example_gradients_do_not_alias():
    a, b = Tensor(1.0), Tensor(2.0)
    y = a + b
    y.backward()
    a.grad *= 5
    assert a.grad == 5.0 and b.grad == 1.0 and y.grad == 1.0
    assert all(isinstance(t.grad, np.ndarray) for t in (a, b, y))


GRAPHS = {
    "add and sub": lambda x, c: ((x + c) - x).sum(),
    "views": lambda x, c: x.T.reshape(-1).sum(),
    "broadcast": lambda x, c: (x + c[0]).mean() + (c * 2.0).sum(),
    "index": lambda x, c: x[0].sum() + x[:, 1:].sum() + x[np.array([1, 1])].sum(),
    "reuse": lambda x, c: (x * x + x).sum() + tanh(c).sum(),
    "identity": lambda x, c: grad(lambda t: (t * t).sum())(x).sum() + c.sum(),
}


def grad_values(nodes):
    return [np.array(getattr(n.grad, "value", n.grad)) for n in nodes]


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_no_two_gradients_share_memory(name, create_graph):
    def run():
        x, c = Tensor(np.arange(6.0).reshape(2, 3)), Tensor(np.ones(3))
        y = GRAPHS[name](x, c)
        y.backward(create_graph=create_graph)
        return topological_order(y)

    reference = grad_values(run())
    no_shared_memory(run())
    # An in-place update of any one gradient, before any other is read, leaves every
    # other one unchanged.
    for k in range(len(reference)):
        nodes = run()
        g = nodes[k].grad
        (g.value if isinstance(g, Tensor) else g)[...] *= 3.0
        for i, (n, ref) in enumerate(zip(nodes, reference, strict=True)):
            close(getattr(n.grad, "value", n.grad), ref * (3.0 if i == k else 1.0))


def test_gradients_keep_their_own_memory_across_backward_calls():
    x = Tensor([1.0, 2.0])
    y = (x + x).sum()
    y.backward()
    first = x.grad
    y.backward()  # accumulates into a new array, leaving `first` alone
    close(first, [2.0, 2.0])
    close(x.grad, [4.0, 4.0])
    seed = np.array([1.0, 1.0])
    z = x * 1.0
    z.backward(seed)
    seed[:] = 7.0
    close(z.grad, [1.0, 1.0])


def test_a_tensor_owns_its_data():
    for arr in (np.array([1.0, 2.0]), np.array([1, 2]), np.array([1.0, 2.0], dtype=np.float32)):
        t = Tensor(arr)
        arr[0] = 100
        close(t.value, [1.0, 2.0])
    zero_d = np.array(3.0)
    t = Tensor(zero_d)
    zero_d[...] = 0.0
    assert isinstance(t.value, np.ndarray) and t.value == 3.0
    # Array constants in a recorded graph are copies too.
    A, c = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([5.0, 6.0])
    x = Tensor([1.0, -1.0])
    y = ((A @ x) * c).sum() + (x @ A).sum()
    A[:] = 0.0
    c[:] = 0.0
    y.backward()
    A0, c0 = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([5.0, 6.0])
    close(x.grad, A0.T @ c0 + A0.sum(axis=1))
    close(y.value, (A0 @ [1.0, -1.0]) @ c0 + ([1.0, -1.0] @ A0).sum())


def test_transforms_return_arrays_of_their_own():
    x = np.array([1.0, 2.0])
    g = grad(lambda t: t.sum())(x)
    assert not np.shares_memory(g, x)
    g[0] = 10.0
    close(grad(lambda t: t.sum())(x), [1.0, 1.0])
    y, pullback = vjp(lambda t: t, x)
    assert not np.shares_memory(y, x) and not np.shares_memory(pullback(x), x)


# ---------------------------------------------------------------- edge cases


def test_power_zero_has_derivative_zero_everywhere():
    assert grad(lambda t: t**0)(0.0) == 0.0
    close(grad(lambda t: (t**0).sum())([0.0, 2.0]), [0.0, 0.0])
    close(hessian(lambda t: (t**0).sum())([0.0, 2.0]), np.zeros((2, 2)))
    close(grad(lambda t: (t ** np.array([0.0, 1.0, 2.0])).sum())(np.zeros(3)), [0.0, 1.0, 0.0])


def test_domain_policy_at_zero_and_below():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the limits come without a NumPy warning
        assert float(sqrt(Tensor(0.0)).value) == 0.0
        assert value_and_grad(sqrt)(0.0) == (0.0, np.inf)
        assert value_and_grad(log)(0.0) == (-np.inf, np.inf)
        assert grad(lambda t: t**0.5)(0.0) == np.inf
        assert grad(lambda t: t**1.5)(0.0) == 0.0
        close(log(0.0), -np.inf)
    for fn in (sqrt, log):
        with pytest.raises(ValueError, match=f"`{fn.__name__}` needs non-negative input"):
            fn(Tensor([1.0, -0.5]))
        with pytest.raises(ValueError, match=f"`{fn.__name__}` needs non-negative input"):
            fn(-1.0)
    with pytest.raises(ValueError, match="integer exponent"):
        Tensor([-1.0, 1.0]) ** 1.5


def test_mean_of_nothing_is_a_clear_error():
    for t, axis in ((Tensor(np.zeros(0)), None), (Tensor(np.zeros((0, 3))), 0)):
        with pytest.raises(ValueError, match=r"`mean` of a Tensor of shape .* has no terms"):
            t.mean(axis=axis)
    # Three terms for each of no rows: an empty mean, not an error.
    m = Tensor(np.zeros((0, 3))).mean(axis=1)
    assert m.shape == (0,)
    assert Tensor(np.zeros((0, 3))).sum().value == 0.0


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.float32, np.bool_])
def test_every_real_dtype_gives_float64(dtype):
    arr = np.array([1, 2], dtype=dtype)
    t = Tensor(arr)
    assert t.value.dtype == np.float64
    y = (t * arr + exp(arr) + t**2).sum()
    assert y.value.dtype == np.float64
    y.backward()
    assert t.grad.dtype == np.float64
    a = arr.astype(np.float64)
    close(t.grad, a + 2 * a)
    g = grad(lambda x: (x * x).sum())(arr)
    assert g.dtype == np.float64
    close(g, 2 * a)
    assert jvp(lambda x: x * x, arr, arr)[1].dtype == np.float64
    assert sin(arr).dtype == np.float64


def test_non_scalar_output_is_one_error_in_backward_and_in_grad():
    pattern = r"output has shape \(2, 1\): use `jacobian`"
    with pytest.raises(ValueError, match=pattern):
        Tensor([[1.0], [2.0]]).backward()
    with pytest.raises(ValueError, match=pattern):
        grad(lambda t: t * 2)([[1.0], [2.0]])
    with pytest.raises(ValueError, match=pattern):
        value_and_grad(lambda t: t * 2)([[1.0], [2.0]])


# ---------------------------------------------------------------- hvp composes


def test_hvp_composes_into_third_derivatives_of_sum_x4():
    x, v, w = np.array([0.5, -1.0, 2.0]), np.array([1.0, 2.0, -1.0]), np.array([0.3, 1.0, 2.0])

    def f(t):
        return (t**4).sum()

    close(hvp(f, x, v), 12 * x**2 * v)  # H = diag(12 x^2)
    close(grad(lambda t: hvp(f, t, v) @ w)(x), 24 * x * v * w)  # d/dx of 12 x^2 v . w
    close(jacobian(lambda t: hvp(f, t, v))(x), np.diag(24 * x * v))
    close(grad(lambda u: hvp(f, x, u) @ w)(v), 12 * x**2 * w)  # linear in v: H w


def test_hvp_composes_on_a_cubic_with_known_third_derivative():
    rng = np.random.default_rng(3)
    n = 3
    T = rng.normal(size=(n, n, n))
    T = sum(T.transpose(p) for p in itertools.permutations(range(3)))  # symmetric
    M = T.reshape(n * n, n)

    def f(t):  # f = T[x, x, x] / 6: the third derivative tensor is T everywhere
        return ((M @ t).reshape(n, n) @ t) @ t / 6

    x, v, w = rng.normal(size=n), rng.normal(size=n), rng.normal(size=n)
    close(hvp(f, x, v), np.einsum("ijk,j,k->i", T, v, x), rtol=1e-11)
    close(grad(lambda t: hvp(f, t, v) @ w)(x), np.einsum("ijk,i,j->k", T, w, v), rtol=1e-11)
    close(jacobian(jacobian(grad(f)))(x), T, rtol=1e-11)


def test_hvp_bad_input():
    with pytest.raises(ValueError, match=r"`v` has shape \(1,\), `x` has shape \(2,\)"):
        hvp(lambda t: t.sum(), [1.0, 2.0], [1.0])
    with pytest.raises(TypeError, match="`f` must be callable"):
        hvp(None, [1.0], [1.0])
    with pytest.raises(ValueError, match="`x` must be finite"):
        hvp(lambda t: t.sum(), [np.nan], [1.0])


# ---------------------------------------------------------------- jvp and vjp

A23 = np.array([[1.0, -2.0, 0.5], [0.3, 0.7, -1.1]])


def f_vec(t):  # R^3 -> R^2
    return tanh(A23 @ t) * t[0] + exp(t[1:]) * 0.5


def f_vec_np(t):
    return np.tanh(A23 @ t) * t[0] + np.exp(t[1:]) * 0.5


def f_mat(t):  # R^(2x3) -> R^(3x2)
    return sin(t.T @ t) @ t.T + t.T * 2.0


def f_mat_np(t):
    return np.sin(t.T @ t) @ t.T + t.T * 2.0


CASES = {
    "vector": (f_vec, f_vec_np, np.array([0.4, -0.3, 1.2])),
    "matrix": (f_mat, f_mat_np, np.array([[0.4, -0.3, 1.2], [0.1, 0.9, -0.5]])),
    "scalar out": (lambda t: (t * t).sum(), lambda t: (t * t).sum(), np.array([1.0, -2.0])),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_jvp_and_vjp_match_finite_differences_and_the_jacobian(case):
    f, f_np, x = CASES[case]
    rng = np.random.default_rng(5)
    y_shape = np.shape(f_np(x))
    v, u = rng.normal(size=x.shape), rng.normal(size=y_shape)
    y1, Jv = jvp(f, x, v)
    y2, pullback = vjp(f, x)
    uJ = pullback(u)
    close(y1, f_np(x))
    close(y2, f_np(x))
    assert np.shape(Jv) == y_shape and uJ.shape == x.shape
    if y_shape == ():  # the scalar rule: a scalar result is a Python float
        assert type(Jv) is float and type(y1) is float and type(y2) is float
    J = jacobian(f)(x)
    assert J.shape == y_shape + x.shape  # JAX's convention
    axes = tuple(range(len(y_shape), J.ndim))
    close(Jv, np.tensordot(J, v, axes=(axes, tuple(range(v.ndim)))))
    close(uJ, np.tensordot(u, J, axes=u.ndim))
    # Finite differences: u^T J is the gradient of u . f; (J v)_i the derivative along v.
    fd_uJ = differentiate.gradient(lambda z: float(np.sum(u * f_np(z))), x)
    close(uJ, fd_uJ, rtol=1e-8, atol=1e-9)
    fd_Jv = [
        differentiate.directional_derivative(lambda z, i=i: float(f_np(z)[i]), x, v)
        for i in np.ndindex(y_shape)
    ]
    close(Jv, np.reshape(fd_Jv, y_shape), rtol=1e-8, atol=1e-9)


def test_jvp_and_vjp_compose_with_the_other_transforms():
    def f(t):
        return (sin(t) * t).sum() + (t[0] * t[1]) ** 2

    x, v = np.array([0.3, -1.2, 2.0]), np.array([1.0, 0.5, -2.0])
    H = hessian(f)(x)
    close(jvp(grad(f), x, v)[1], H @ v)  # forward over reverse
    close(vjp(grad(f), x)[1](v), H @ v)  # reverse over reverse
    close(hvp(f, x, v), H @ v)
    # The gradient of a directional derivative: d/dx (grad f(x) . v) = H v.
    close(grad(lambda t: jvp(f, t, v)[1])(x), H @ v, rtol=1e-11)
    close(grad(lambda t: vjp(f, t)[1](1.0) @ v)(x), H @ v, rtol=1e-11)
    # A function that ignores its input: zero products of the right shapes.
    close(jvp(lambda t: np.ones(2), x, v)[1], np.zeros(2))
    close(vjp(lambda t: np.ones(2), x)[1](np.ones(2)), np.zeros(3))
    close(jvp(lambda t: t, x, v)[1], v)


def test_jvp_and_vjp_bad_input():
    with pytest.raises(ValueError, match=r"`v` has shape \(2,\), `x` has shape \(3,\)"):
        jvp(f_vec, np.ones(3), np.ones(2))
    _, pullback = vjp(f_vec, np.ones(3))
    with pytest.raises(ValueError, match=r"`u` has shape \(3,\), `f\(x\)` has shape \(2,\)"):
        pullback(np.ones(3))
    with pytest.raises(TypeError, match="`f` must be callable"):
        vjp("f", np.ones(3))
    with pytest.raises(TypeError, match="`u` must contain real numbers"):
        pullback(np.array(["a", "b"]))


# ---------------------------------------------------------------- the engine's pieces


def test_every_operation_has_named_documented_rules():
    for op, rules in VJP_RULES.items():
        for rule in rules:
            assert rule.__name__.endswith(("_vjp", "_vjp_a", "_vjp_b")), (op, rule)
            assert rule.__doc__ and "\n" not in rule.__doc__.strip(), rule.__name__


def test_backpropagate_yields_every_node_once_outputs_first():
    x = Tensor(2.0)
    y = x * x
    z = exp(y) + y
    seen = [(node, float(g)) for node, g in backpropagate(z, np.array(1.0))]
    assert [node for node, _ in seen] == topological_order(z)[::-1]
    adj = dict((id(node), g) for node, g in seen)
    close(adj[id(y)], np.exp(4.0) + 1.0)
    close(adj[id(x)], (np.exp(4.0) + 1.0) * 4.0)


# ---------------------------------------------------------------- property tests

BINARY = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "div": operator.truediv,
    "pow": operator.pow,  # Tensor ** Tensor: exp(b log a), a > 0
}
POSITIVE = st.floats(0.5, 2.0)


def fd_gradient(f, x):
    """Central differences by calcml.differentiate, tolerating empty inputs."""
    return differentiate.gradient(f, x) if x.size else np.zeros(x.shape)


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(sorted(BINARY)),
    mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=1, max_side=3),
    st.sampled_from(["both", "left", "right"]),
    st.data(),
)
def test_binary_operations_match_finite_differences(name, shapes, tensors, data):
    op = BINARY[name]
    a = data.draw(arrays(np.float64, shapes.input_shapes[0], elements=POSITIVE))
    b = data.draw(arrays(np.float64, shapes.input_shapes[1], elements=POSITIVE))
    w = data.draw(arrays(np.float64, shapes.result_shape, elements=st.floats(-1.0, 1.0)))
    A = Tensor(a) if tensors != "right" else a
    B = Tensor(b) if tensors != "left" else b
    loss = (op(A, B) * w).sum()
    close(loss.value, (op(a, b) * w).sum())
    loss.backward()
    if tensors != "right":
        close(A.grad, fd_gradient(lambda z: (op(z, b) * w).sum(), a), rtol=1e-7, atol=1e-9)
    if tensors != "left":
        close(B.grad, fd_gradient(lambda z: (op(a, z) * w).sum(), b), rtol=1e-7, atol=1e-9)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.booleans(), st.booleans())
def test_matmul_matches_finite_differences(n, k, m, a_matrix, b_matrix):
    rng = np.random.default_rng(n + 3 * k + 9 * m)
    a = rng.normal(size=(n, k) if a_matrix else (k,))
    b = rng.normal(size=(k, m) if b_matrix else (k,))
    w = rng.normal(size=np.shape(a @ b))
    A, B = Tensor(a), Tensor(b)
    (sin(A @ B) * w).sum().backward()
    close(A.grad, fd_gradient(lambda z: (np.sin(z @ b) * w).sum(), a), rtol=1e-7, atol=1e-9)
    close(B.grad, fd_gradient(lambda z: (np.sin(a @ z) * w).sum(), b), rtol=1e-7, atol=1e-9)


@st.composite
def reductions(draw):
    shape = draw(array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3))
    axes = draw(st.lists(st.integers(0, len(shape) - 1), unique=True)) if shape else []
    axis = draw(st.sampled_from([None, tuple(axes), *[a - len(shape) for a in axes]]))
    return shape, axis, draw(st.booleans()), draw(st.sampled_from(["sum", "mean"]))


@settings(max_examples=60, deadline=None)
@given(reductions(), st.data())
def test_reductions_match_finite_differences(reduction, data):
    shape, axis, keepdims, name = reduction
    x = data.draw(arrays(np.float64, shape, elements=st.floats(-2.0, 2.0)))
    reduce_np = getattr(np, name)
    out_shape = reduce_np(x, axis=axis, keepdims=keepdims).shape
    w = data.draw(arrays(np.float64, out_shape, elements=st.floats(-1.0, 1.0)))
    X = Tensor(x)
    out = getattr(X, name)(axis=axis, keepdims=keepdims)
    close(out.value, reduce_np(x, axis=axis, keepdims=keepdims))
    (sin(out) * w).sum().backward()
    fd = fd_gradient(lambda z: (np.sin(reduce_np(z, axis=axis, keepdims=keepdims)) * w).sum(), x)
    close(X.grad, fd, rtol=1e-7, atol=1e-9)


@settings(max_examples=30, deadline=None)
@given(
    st.sampled_from(sorted(BINARY)),
    mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=3, min_side=0, max_side=2),
)
def test_empty_inputs_give_empty_gradients(name, shapes):
    a, b = np.ones(shapes.input_shapes[0]), np.full(shapes.input_shapes[1], 2.0)
    A, B = Tensor(a), Tensor(b)
    out = BINARY[name](A, B)
    assert out.shape == shapes.result_shape
    out.sum().backward()
    if out.value.size == 0:
        assert A.grad.shape == a.shape and B.grad.shape == b.shape
        assert not np.any(A.grad) and not np.any(B.grad)
    else:  # a zero-length operand cannot broadcast to a non-empty result
        close(A.grad, fd_gradient(lambda z: BINARY[name](z, b).sum(), a), rtol=1e-7, atol=1e-9)


@settings(max_examples=30, deadline=None)
@given(
    st.sampled_from([np.int8, np.int64, np.uint16, np.float16, np.float32, np.bool_]),
    st.sampled_from(sorted(BINARY)),
    array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3),
)
def test_inputs_of_any_real_dtype_give_float64(dtype, name, shape):
    a = np.ones(shape, dtype=dtype)
    t = Tensor(np.full(shape, 1.5))
    for out in (BINARY[name](t, a), BINARY[name](a, t), t.sum() * a, exp(a)):
        assert np.asarray(getattr(out, "value", out)).dtype == np.float64
    (BINARY[name](t, a)).sum().backward()
    assert t.grad.dtype == np.float64


def test_backpropagate_with_stop_sweeps_only_nodes_that_depend_on_stop() -> None:
    # c does not depend on x: with stop=x it is not swept, and x's adjoint is unchanged
    x, c = Tensor([1.0, 2.0]), Tensor([3.0, -1.0])
    k = exp(c) * 2.0  # depends on c only
    y = (x * k).sum() + (c * c).sum()
    swept = [node for node, _ in backpropagate(y, np.ones(()), stop=x)]
    assert all(node is not c and node is not k for node in swept)
    assert swept[0] is y and swept[-1] is x
    full = dict((id(n), g) for n, g in backpropagate(y, np.ones(())))
    restricted = dict((id(n), g) for n, g in backpropagate(y, np.ones(()), stop=x))
    np.testing.assert_array_equal(restricted[id(x)], full[id(x)])
    np.testing.assert_array_equal(full[id(x)], 2.0 * np.exp([3.0, -1.0]))
    # a root that does not depend on stop yields nothing
    assert list(backpropagate((c * c).sum(), np.ones(()), stop=x)) == []


def test_jvp_second_sweep_skips_the_forward_nodes() -> None:
    # The double-VJP JVP of tanh(B x): 2 rules recorded, then only the rules of the
    # recorded sweep that depend on the cotangent (the forward graph is not swept again).
    calls: list[str] = []
    saved = dict(VJP_RULES)

    def counting(rule):
        def wrapped(*args, **kwargs):
            calls.append(rule.__name__)
            return rule(*args, **kwargs)

        return wrapped

    try:
        for op, rules in saved.items():
            VJP_RULES[op] = tuple(counting(r) for r in rules)
        B = np.arange(6.0).reshape(3, 2) / 6
        _, tangent = jvp(lambda t: tanh(B @ t), [0.5, -1.0], [1.0, 0.0])
    finally:
        VJP_RULES.clear()
        VJP_RULES.update(saved)
    z = B @ np.array([0.5, -1.0])
    np.testing.assert_allclose(tangent, (1 - np.tanh(z) ** 2) * B[:, 0], rtol=1e-14)
    assert calls == ["tanh_vjp", "matmul_vjp_b", "matmul_vjp_b", "mul_vjp_a"]
