"""A small reverse-mode automatic differentiation engine over NumPy arrays.

A :class:`Tensor` wraps a float64 array (scalars are 0-d) that it owns, and
remembers the operation that made it and its operands. :meth:`Tensor.backward`
sorts the graph topologically (``calcml._tensor.topological_order``, iterative,
so deep chains work) and applies the chain rule from the output back to the
inputs (``calcml._tensor.backpropagate``). Each operation's vector-Jacobian
product is a small named function (``calcml._tensor.VJP_RULES``); the rules are
written once and run either on plain arrays (fast, first order) or on Tensors
(``create_graph``), which records the backward pass itself so it can be
differentiated again: that gives exact Hessians and Hessian-vector products
(Pearlmutter 1994), and forward-mode products by the double-VJP trick.

The engine (Tensor, operators, elementwise functions, rules, reverse sweep, and
its conventions on ownership, dtype and domains) is in the private
:mod:`calcml._tensor` and re-exported here; this module adds the function
transforms (``value_and_grad``, ``grad``, ``jacobian``, ``hessian``, ``hvp``,
``jvp``, ``vjp``) and :func:`export_graph`. As in JAX, a Jacobian has shape
``f(x).shape + x.shape``, and every transform composes with the others: given a
Tensor (inside another transform) it returns Tensors that can be differentiated
again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from calcml._tensor import (
    Array,
    Tensor,
    _operand,
    _scatter,
    _val,
    backpropagate,
    check_scalar_output,
    cos,
    exp,
    log,
    relu,
    sigmoid,
    sin,
    sqrt,
    tanh,
    topological_order,
)
from calcml._validation import (
    as_finite_array,
    check_callable,
    documented_in,
    scalar_output,
    with_book_link,
)

__doc__ = with_book_link(__doc__, "chain_rule_backpropagation")

__all__ = [
    "Tensor",
    "cos",
    "exp",
    "export_graph",
    "grad",
    "hessian",
    "hvp",
    "jacobian",
    "jvp",
    "log",
    "relu",
    "sigmoid",
    "sin",
    "sqrt",
    "tanh",
    "value_and_grad",
    "vjp",
]


_NESTED = [0]  # how many transforms are evaluating their f right now


def _start(x: Any) -> tuple[Tensor, bool]:
    """A fresh input node, and whether to record the backward pass (inside another transform).

    The fresh node keeps nested derivatives apart: the inner transform differentiates
    with respect to it, not to the outer Tensor it sits on (no perturbation confusion).
    """
    if isinstance(x, Tensor):
        return Tensor._make(x.value, "identity", (x,)), True
    return Tensor._make(as_finite_array(x, "x"), "leaf", ()), _NESTED[0] > 0


def _call(f: Callable[..., Any], x: Tensor) -> Any:
    _NESTED[0] += 1
    try:
        y = f(x)
    finally:
        _NESTED[0] -= 1
    t = _operand(y)
    if t is None:
        raise TypeError(f"`f` must return a Tensor or real numbers, got {type(y).__name__}")
    return t


def _public(a: Any) -> Any:
    """The package's scalar rule: a 0-d array becomes a Python float; else unchanged."""
    return float(a) if isinstance(a, np.ndarray) and a.shape == () else a


def _pullback(y: Any, x: Tensor, seed: Array, graph: bool) -> Any:
    """seed . dy/dx: a Tensor when ``graph`` (differentiable again), else an array."""
    if isinstance(y, Tensor):
        for node, g in backpropagate(y, seed, x, graph):
            if node is x:
                return g if isinstance(g, Tensor) else np.array(g)
    return np.zeros(x.shape)


@documented_in("chain_rule_backpropagation", "backpropagation-step-by-step")
def value_and_grad(f: Callable[..., Any]) -> Callable[[Any], tuple[Any, Any]]:
    """Transform a scalar-valued ``f`` into ``x -> (f(x), grad f(x))`` by reverse mode.

    Parameters
    ----------
    f : callable
        Maps a :class:`Tensor` of ``x``'s shape to a single-element Tensor,
        using Tensor operators and this module's functions.

    Returns
    -------
    callable
        ``x -> (value, gradient)``: a float and an array of ``x``'s shape (a float
        for a scalar ``x``, the package's scalar rule). Given
        a Tensor (inside another transform) it returns Tensors instead, so the
        gradient can be differentiated again.

    Examples
    --------
    >>> value_and_grad(lambda x: (x * x).sum())([1.0, 2.0])
    (5.0, array([2., 4.]))

    """
    check_callable(f, "f")

    def value_and_grad_f(x: Any) -> tuple[Any, Any]:
        xt, graph = _start(x)
        y = _call(f, xt)
        check_scalar_output(_val(y), "grad")
        g = _pullback(y, xt, np.ones(_val(y).shape), graph)
        if graph:
            return y, g
        return scalar_output(_val(y), "f"), _public(g)

    return value_and_grad_f


@documented_in("chain_rule_backpropagation", "backpropagation-step-by-step")
def grad(f: Callable[..., Any]) -> Callable[[Any], Any]:
    """Transform a scalar-valued ``f`` into its gradient ``x -> grad f(x)`` (``x``'s shape).

    A ``ValueError`` that points to :func:`jacobian` if ``f`` is not scalar-valued.

    Examples
    --------
    >>> grad(lambda x: sin(x[0]) * x[1])([0.0, 3.0])
    array([3., 0.])

    """
    vg = value_and_grad(f)
    return lambda x: vg(x)[1]


@documented_in("chain_rule_backpropagation", "the-chain-rule-for-composite-functions")
def jacobian(f: Callable[..., Any]) -> Callable[[Any], Any]:
    """Transform ``f`` into ``x -> J`` with ``J[i, j] = d f_i / d x_j``, one reverse sweep per row.

    The result has shape ``f(x).shape + x.shape``: ``(m, n)`` for ``f: R^n -> R^m``,
    and is a float when that shape is ``()`` (a scalar function of a scalar).

    Examples
    --------
    >>> jacobian(lambda x: x * x)([1.0, 3.0])
    array([[2., 0.],
           [0., 6.]])

    """
    check_callable(f, "f")

    def jacobian_f(x: Any) -> Any:
        xt, graph = _start(x)
        y = _call(f, xt)
        shape, m = _val(y).shape, _val(y).size
        rows = []
        for i in range(m):
            seed = np.zeros(m)
            seed[i] = 1.0
            rows.append(_pullback(y, xt, seed.reshape(shape), graph))
        if not graph:
            return _public(np.array(rows).reshape(shape + xt.shape))
        full = (m, *xt.shape)
        return sum((_scatter(r, i, full) for i, r in enumerate(rows)), np.zeros(full)).reshape(
            shape + xt.shape
        )

    return jacobian_f


@documented_in("chain_rule_backpropagation", "exact-hessians-by-differentiating-backpropagation")
def hessian(f: Callable[..., Any]) -> Callable[[Any], Any]:
    """Transform a scalar-valued ``f`` into its exact Hessian: the Jacobian of its gradient.

    Examples
    --------
    >>> hessian(lambda x: x[0] ** 2 * x[1])([1.0, 2.0])
    array([[4., 2.],
           [2., 0.]])

    """
    return jacobian(grad(f))


def _point(x: Any, name: str) -> Any:
    """``x`` as a transform's input: a Tensor stays (to be differentiated again), else an array."""
    return x if isinstance(x, Tensor) else as_finite_array(x, name)


def _direction(v: Any, x: Any, name: str) -> Any:
    """``v`` checked to have ``x``'s shape (a Tensor stays, to be differentiated again)."""
    v = _point(v, name)
    if v.shape != np.shape(_val(x)):
        raise ValueError(f"`{name}` has shape {v.shape}, `x` has shape {np.shape(_val(x))}")
    return v


@documented_in("chain_rule_backpropagation", "exact-hessians-by-differentiating-backpropagation")
def hvp(f: Callable[..., Any], x: Any, v: Any) -> Any:
    """The exact Hessian-vector product: the gradient of ``<grad f(x), v>`` (Pearlmutter).

    Costs a small multiple of one gradient and never forms the Hessian. Like the
    other transforms it composes: given Tensors (inside :func:`grad` or
    :func:`jacobian`) it returns a Tensor, so ``grad(lambda x: hvp(f, x, v) @ w)``
    gives third derivatives.

    Parameters
    ----------
    f : callable
        A scalar-valued function of a Tensor, as for :func:`grad`.
    x, v : array_like or Tensor
        The point and the direction, of the same shape.

    Returns
    -------
    ndarray or Tensor
        ``H(x) v``, of ``x``'s shape (a Tensor if ``x`` is one).

    Examples
    --------
    >>> hvp(lambda x: (x**3).sum(), [1.0, 2.0], [1.0, 1.0])  # diag(6x) @ v
    array([ 6., 12.])
    >>> w = np.array([1.0, 0.0])  # d/dx of (H(x) v) . w = 6 v_0 w_0 at x_0
    >>> grad(lambda x: hvp(lambda t: (t**3).sum(), x, [1.0, 1.0]) @ w)([1.0, 2.0])
    array([6., 0.])

    """
    check_callable(f, "f")
    x = _point(x, "x")
    v = _direction(v, x, "v")
    gf = grad(f)
    return grad(lambda t: (gf(t) * v).sum())(x)


@documented_in("chain_rule_backpropagation", "sec-jvp-vjp")
def vjp(f: Callable[..., Any], x: Any) -> tuple[Any, Callable[[Any], Any]]:
    """Evaluate ``f`` at ``x`` and return ``(f(x), vjp_fn)`` with ``vjp_fn(u) = u^T J``.

    The vector-Jacobian product, reverse mode's primitive, with JAX's meaning:
    ``J = df/dx`` has shape ``f(x).shape + x.shape``, ``u`` has ``f(x)``'s shape
    and ``vjp_fn(u)`` has ``x``'s shape, ``vjp_fn(u)[j] = sum_i u[i] J[i, j]``.
    ``f`` runs once; each call of ``vjp_fn`` is one reverse sweep of the
    recorded graph.

    Parameters
    ----------
    f : callable
        Maps a :class:`Tensor` of ``x``'s shape to a Tensor (or real numbers).
    x : array_like or Tensor
        The point.

    Returns
    -------
    value : ndarray, float or Tensor
        ``f(x)`` (a float if it is a scalar; a Tensor if ``x`` is one).
    vjp_fn : callable
        ``u -> u^T J``: an array of ``x``'s shape, a float for a scalar ``x``
        (a Tensor if ``x`` or ``u`` is one).

    Examples
    --------
    >>> y, pullback = vjp(lambda x: x * x, [1.0, 3.0])  # J = diag(2x)
    >>> y, pullback([1.0, 10.0])
    (array([1., 9.]), array([ 2., 60.]))

    """
    check_callable(f, "f")
    xt, graph = _start(_point(x, "x"))
    y = _call(f, xt)
    out_shape = np.shape(_val(y))

    def vjp_fn(u: Any) -> Any:
        u = _point(u, "u")
        if u.shape != out_shape:
            raise ValueError(f"`u` has shape {u.shape}, `f(x)` has shape {out_shape}")
        return _public(_pullback(y, xt, u, graph or isinstance(u, Tensor)))

    return (y if graph else _public(np.array(_val(y)))), vjp_fn


@documented_in("chain_rule_backpropagation", "sec-jvp-vjp")
def jvp(f: Callable[..., Any], x: Any, v: Any) -> tuple[Any, Any]:
    """The Jacobian-vector product, forward mode's primitive: ``(f(x), J v)``.

    With JAX's meaning: ``J = df/dx`` has shape ``f(x).shape + x.shape``, ``v``
    has ``x``'s shape and ``J v`` has ``f(x)``'s shape,
    ``(J v)[i] = sum_j J[i, j] v[j]``: the directional derivative of ``f`` at
    ``x`` along ``v``. Computed exactly, by the double-VJP trick: ``u -> u^T J``
    is linear in ``u``, and its own VJP with cotangent ``v`` is ``J v``. This
    costs one forward pass, one recorded reverse sweep and one reverse sweep of
    the part of that record that depends on ``u`` (the forward nodes are not
    swept again): a small multiple of the cost of ``f``, whatever the sizes of
    ``x`` and ``f(x)``.

    Parameters
    ----------
    f : callable
        Maps a :class:`Tensor` of ``x``'s shape to a Tensor (or real numbers).
    x, v : array_like or Tensor
        The point and the direction (tangent), of the same shape.

    Returns
    -------
    value : ndarray, float or Tensor
        ``f(x)`` (a float if it is a scalar; a Tensor if ``x`` is one).
    tangent : ndarray, float or Tensor
        ``J v``, of ``f(x)``'s shape (a float if that is ``()``; a Tensor if ``x`` is one).

    Examples
    --------
    >>> jvp(lambda x: x[0] * x, [2.0, 3.0], [1.0, 0.0])  # J = [[2 x0, 0], [x1, x0]]
    (array([4., 6.]), array([4., 3.]))

    """
    check_callable(f, "f")
    x = _point(x, "x")
    v = _direction(v, x, "v")
    _NESTED[0] += 1  # record the first sweep, so that it can be swept back
    try:
        y, pullback = vjp(f, x)
    finally:
        _NESTED[0] -= 1
    u0 = np.zeros(np.shape(_val(y)))
    _, tangent_of = vjp(pullback, u0)  # u -> u^T J is linear: its VJP is v -> J v
    tangent = tangent_of(v)
    if isinstance(x, Tensor):
        return y, tangent
    return _public(np.array(_val(y))), _public(np.array(_val(tangent)))


@documented_in("chain_rule_backpropagation", "a-computational-graph")
def export_graph(root: Tensor) -> dict[str, list[Any]]:
    """The graph behind ``root`` as plain data, for drawing.

    Returns
    -------
    dict
        ``nodes``: one dict per node in topological order with ``op``, ``name``,
        ``value``, ``grad`` (None before :meth:`Tensor.backward`) and ``depth``
        (the longest path from an input); constants appear with op ``"const"``.
        ``edges``: ``(source, target)`` index pairs from operand to result.

    Examples
    --------
    >>> w = Tensor(2.0, name="w")
    >>> g = export_graph(exp(w * 3.0))
    >>> [n["op"] for n in g["nodes"]], g["edges"]
    (['leaf', 'const', 'mul', 'exp'], [(0, 2), (1, 2), (2, 3)])

    """
    if not isinstance(root, Tensor):
        raise TypeError(f"`root` must be a Tensor, got {type(root).__name__}")
    nodes: list[dict[str, Any]] = []
    edges: list[tuple[int, int]] = []
    index: dict[int, int] = {}
    for t in topological_order(root):
        sources = []
        for a in t._args:
            if not isinstance(a, Tensor):
                nodes.append(dict(op="const", name="", value=np.array(a), grad=None, depth=0))
                sources.append(len(nodes) - 1)
            else:
                sources.append(index[id(a)])
        depth = 1 + max((nodes[s]["depth"] for s in sources), default=-1)
        grad_ = None if t.grad is None else np.array(_val(t.grad))
        nodes.append(dict(op=t._op, name=t.name, value=t.value.copy(), grad=grad_, depth=depth))
        index[id(t)] = len(nodes) - 1
        edges.extend((s, len(nodes) - 1) for s in sources)
    return {"nodes": nodes, "edges": edges}
