"""The reverse-mode engine behind :mod:`calcml.autodiff`: the Tensor and its reverse sweep.

Holds :class:`Tensor` with its operators, the elementwise functions (``exp``,
``log``, ``sqrt``, ``sin``, ``cos``, ``tanh``, ``sigmoid``, ``relu``), the
vector-Jacobian products of :data:`_RULES` and the reverse sweep (``_topo``,
``_backprop``). The public names are re-exported by :mod:`calcml.autodiff`, which
adds the function transforms (``grad``, ``jacobian``, ``hvp``, ...) on top.

Book: https://calcml.github.io/calculus-for-ml/book/chain_rule_backpropagation.html
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import expit

from calcml._validation import as_finite_array

Array = NDArray[np.float64]


class Tensor:
    """A float64 array that records the operations applied to it.

    Parameters
    ----------
    value : array_like
        Finite real numbers; stored as a float64 array (0-d for a scalar). A float64
        NumPy array is used as it is, without a copy: do not modify it in place.
    name : str, optional
        A label used by :func:`export_graph`.

    Examples
    --------
    >>> x = Tensor(3.0)
    >>> y = x * x + 2 * x
    >>> y.backward()
    >>> float(y.value), float(x.grad)
    (15.0, 8.0)

    Book: https://calcml.github.io/calculus-for-ml/book/chain_rule_backpropagation.html#a-computational-graph
    """

    __slots__ = ("__weakref__", "_args", "_ctx", "_op", "grad", "name", "value")
    _args: tuple[Any, ...]  # operands: Tensors and float64 constants
    __array_ufunc__ = None  # NumPy defers to our reflected operators: A @ x is a Tensor

    def __init__(self, value: ArrayLike, *, name: str = "") -> None:
        if isinstance(value, np.ndarray) and value.dtype == np.float64:  # fast path, no copy
            if not np.isfinite(value).all():
                raise ValueError(f"`value` must be finite, got {value!r}")
            self.value: Array = value
        else:
            self.value = as_finite_array(value, "value")
        self.grad: Any = None
        self.name, self._op, self._args, self._ctx = name, "leaf", (), None

    @classmethod
    def _make(cls, value: Any, op: str, args: tuple[Any, ...], ctx: Any = None) -> Tensor:
        t = object.__new__(cls)
        t.value, t.grad, t.name = np.asarray(value, dtype=np.float64), None, ""
        t._op, t._args, t._ctx = op, args, ctx
        return t

    shape = property(lambda self: self.value.shape, doc="The shape of the value.")
    ndim = property(lambda self: self.value.ndim, doc="The number of dimensions.")
    T = property(lambda self: Tensor._make(self.value.T, "T", (self,)), doc="The transpose.")

    def __repr__(self) -> str:
        return f"Tensor({np.array2string(self.value, precision=6)}, op={self._op!r})"

    def __float__(self) -> float:
        return float(self.value)

    def _binary(self, other: Any, op: str, fn: Callable[..., Any], swap: bool = False) -> Any:
        other = _operand(other, op)
        a, b = (other, self) if swap else (self, other)
        return Tensor._make(fn(_val(a), _val(b)), op, (a, b))

    __add__ = lambda s, o: s._binary(o, "add", np.add)  # noqa: E731
    __radd__ = lambda s, o: s._binary(o, "add", np.add, True)  # noqa: E731
    __sub__ = lambda s, o: s._binary(o, "sub", np.subtract)  # noqa: E731
    __rsub__ = lambda s, o: s._binary(o, "sub", np.subtract, True)  # noqa: E731
    __mul__ = lambda s, o: s._binary(o, "mul", np.multiply)  # noqa: E731
    __rmul__ = lambda s, o: s._binary(o, "mul", np.multiply, True)  # noqa: E731
    __truediv__ = lambda s, o: s._binary(o, "div", np.divide)  # noqa: E731
    __rtruediv__ = lambda s, o: s._binary(o, "div", np.divide, True)  # noqa: E731
    __matmul__ = lambda s, o: s._binary(o, "matmul", _matmul)  # noqa: E731
    __rmatmul__ = lambda s, o: s._binary(o, "matmul", _matmul, True)  # noqa: E731

    def __neg__(self) -> Tensor:
        return Tensor._make(-self.value, "neg", (self,))

    def __pow__(self, p: Any) -> Any:
        if isinstance(p, Tensor):  # x ** y = exp(y log x), defined for x > 0
            return exp(p * log(self))
        q = _operand(p, "**")
        if np.any((self.value < 0) & (q != np.round(q))):
            raise ValueError("`**`: a negative base needs an integer exponent")
        return Tensor._make(self.value**q, "pow", (self, q))

    def __rpow__(self, base: Any) -> Any:
        return exp(self * log(_operand(base, "**")))

    def __getitem__(self, index: Any) -> Tensor:
        return Tensor._make(self.value[index], "index", (self,), index)

    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Sum over ``axis`` (all axes by default), as :meth:`numpy.ndarray.sum`.

        Like :meth:`mean`, :meth:`reshape`, ``.T``, indexing and the operators, it
        records itself in the graph.

        Examples
        --------
        >>> from calcml.autodiff import grad
        >>> grad(lambda t: (t.reshape(2, 2).T[0] * t.mean()).sum())([1.0, 2.0, 3.0, 4.0])
        array([3.5, 1. , 3.5, 1. ])

        Book: https://calcml.github.io/calculus-for-ml/book/chain_rule_backpropagation.html#backpropagation-in-matrix-form
        """
        kept = np.sum(self.value, axis=axis, keepdims=True).shape
        return Tensor._make(self.value.sum(axis=axis, keepdims=keepdims), "sum", (self,), kept)

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """The mean over ``axis``: the sum divided by the number of terms."""
        s = self.sum(axis, keepdims)
        return s * (s.value.size / self.value.size)

    def reshape(self, *shape: Any) -> Tensor:
        """The same values with a new shape, as :meth:`numpy.ndarray.reshape`."""
        new = shape[0] if len(shape) == 1 and isinstance(shape[0], tuple | list) else shape
        return Tensor._make(self.value.reshape(new), "reshape", (self,))

    def backward(self, seed: ArrayLike | None = None, *, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(node), contracted with ``seed``, into every node's ``.grad``.

        ``seed`` defaults to 1 for a single-element output. With
        ``create_graph=True`` the gradients are Tensors whose graph can be
        differentiated again.

        Examples
        --------
        >>> x = Tensor([1.0, 2.0])
        >>> (x * x).backward(seed=[1.0, 10.0])  # the vector-Jacobian product seed^T J
        >>> x.grad
        array([ 2., 40.])

        Book: https://calcml.github.io/calculus-for-ml/book/chain_rule_backpropagation.html#a-computational-graph
        """
        if seed is None:
            if self.value.size != 1:
                raise ValueError(
                    f"backward() on a non-scalar output of shape {self.shape} needs a `seed` "
                    "gradient of the same shape (or use `jacobian`)"
                )
            seed = np.ones_like(self.value)
        seed = as_finite_array(seed, "seed")
        if seed.shape != self.shape:
            raise ValueError(f"`seed` has shape {seed.shape}, the output has {self.shape}")
        for node, g in _backprop(self, seed, None, create_graph):
            if not isinstance(g, Tensor) and not g.flags.writeable:
                g = np.array(g)  # a broadcast view: give .grad its own memory
            node.grad = g if node.grad is None else node.grad + g


def _val(x: Any) -> Any:
    return x.value if isinstance(x, Tensor) else x


def _operand(x: Any, what: str = "") -> Any:
    """A Tensor stays; a real number or real array becomes a float64 constant; else None.

    With ``what`` (an operator's name) an unsupported type raises a ``TypeError`` instead.
    """
    if isinstance(x, Tensor):
        return x
    if isinstance(x, numbers.Real | np.ndarray | np.generic) and np.asarray(x).dtype.kind in "biuf":
        return np.asarray(x, dtype=np.float64)
    if what:
        raise TypeError(
            f"unsupported operand type for `{what}` with a Tensor: {type(x).__name__} "
            "(use a Tensor, a real number or a NumPy array)"
        )
    return None


def _matmul(a: Array, b: Array) -> Array:
    if a.ndim not in (1, 2) or b.ndim not in (1, 2) or a.shape[-1] != b.shape[0]:
        raise ValueError(f"`@`: shapes {a.shape} and {b.shape} are not aligned (1-D or 2-D)")
    return a @ b


def _unary(name: str, fn: Callable[[Array], Array], x: Any) -> Any:
    t = _operand(np.asarray(x) if isinstance(x, list | tuple) else x)
    if t is None:
        raise TypeError(f"`{name}` needs a Tensor, number or real array, got {type(x).__name__}")
    if name == "log" and np.any(_val(t) <= 0):
        raise ValueError("`log` needs positive input: its derivative 1/x is undefined at x <= 0")
    if name == "sqrt" and np.any(_val(t) < 0):
        raise ValueError("`sqrt` needs non-negative input")
    if not isinstance(t, Tensor):
        return np.asarray(fn(t))
    return Tensor._make(fn(t.value), name, (t,))


def _elementwise(name: str, fn: Callable[[Array], Array], what: str, ex: str) -> Any:
    def op(x: Any) -> Any:
        return _unary(name, fn, x)

    expr, at, out = ex.split(";")
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"""{what}, elementwise: a Tensor in, a Tensor out; plain numbers or arrays in,
    a NumPy array out.

    Examples
    --------
    >>> from calcml.autodiff import grad
    >>> grad(lambda t: {expr})({at})
    {out}

    Book: https://calcml.github.io/calculus-for-ml/book/chain_rule_backpropagation.html#the-chain-rule-for-composite-functions
    """
    return op


exp = _elementwise("exp", np.exp, "The exponential", "exp(2 * t);0.5;array(5.43656366)")
log = _elementwise("log", np.log, "The logarithm (ValueError for x <= 0)", "log(t);4.0;array(0.25)")
sqrt = _elementwise(
    "sqrt", np.sqrt, "The square root (ValueError for x < 0)", "sqrt(t);4.0;array(0.25)"
)
sin = _elementwise("sin", np.sin, "The sine", "sin(t * t);1.0;array(1.08060461)")
cos = _elementwise("cos", np.cos, "The cosine", "cos(t);0.0;array(-0.)")
tanh = _elementwise("tanh", np.tanh, "The hyperbolic tangent", "tanh(t);0.0;array(1.)")
sigmoid = _elementwise(
    "sigmoid", expit, "The sigmoid 1 / (1 + exp(-x))", "sigmoid(t);0.0;array(0.25)"
)
relu = _elementwise(
    "relu", lambda v: np.maximum(v, 0.0), "max(x, 0)", "relu(t).sum();[-1.0, 2.0];array([0., 1.])"
)


def _broadcast_to(x: Any, shape: tuple[int, ...]) -> Any:
    return Tensor._make(np.broadcast_to(x.value, shape), "broadcast", (x,))


def _basic(index: Any) -> bool:
    """Whether ``index`` is basic (ints, slices, ...): it then selects no element twice."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, numbers.Integral | slice) or i is None or i is ... for i in parts)


def _scatter(g: Any, index: Any, shape: tuple[int, ...]) -> Any:
    """Zeros of ``shape`` with ``g`` added at ``index`` (repeated fancy indices add up)."""
    out = np.zeros(shape)
    if _basic(index):
        out[index] = _val(g)
    else:
        np.add.at(out, index, _val(g))
    return Tensor._make(out, "scatter", (g,), index) if isinstance(g, Tensor) else out


# F: how the rules compute: on arrays (first order) or on Tensors (differentiable backward).
_NP = SimpleNamespace(sin=np.sin, cos=np.cos, broadcast_to=np.broadcast_to, scatter=_scatter)
_TS = SimpleNamespace(
    sin=sin,
    cos=cos,
    scatter=_scatter,
    broadcast_to=lambda g, s: (
        _broadcast_to(g, s) if isinstance(g, Tensor) else np.broadcast_to(g, s)
    ),
)


def _outer(u: Any, w: Any) -> Any:
    return u.reshape(-1, 1) * w.reshape(1, -1)


# One vector-Jacobian product per operand: rule(g, out, F, ctx, *operands) -> cotangent.
_RULES: dict[str, tuple[Callable[..., Any], ...]] = {
    "add": (lambda g, o, F, c, a, b: g, lambda g, o, F, c, a, b: g),
    "sub": (lambda g, o, F, c, a, b: g, lambda g, o, F, c, a, b: -g),
    "mul": (lambda g, o, F, c, a, b: g * b, lambda g, o, F, c, a, b: g * a),
    "div": (lambda g, o, F, c, a, b: g / b, lambda g, o, F, c, a, b: -g * o / b),
    "matmul": (
        lambda g, o, F, c, a, b: g @ b.T if b.ndim == 2 else _outer(g, b) if a.ndim == 2 else g * b,
        lambda g, o, F, c, a, b: a.T @ g if a.ndim == 2 else _outer(a, g) if b.ndim == 2 else g * a,
    ),
    "pow": (lambda g, o, F, c, a, p: g * p * a ** (p - 1.0),),
    "neg": (lambda g, o, F, c, a: -g,),
    "exp": (lambda g, o, F, c, a: g * o,),
    "log": (lambda g, o, F, c, a: g / a,),
    "sqrt": (lambda g, o, F, c, a: 0.5 * g / o,),
    "sin": (lambda g, o, F, c, a: g * F.cos(a),),
    "cos": (lambda g, o, F, c, a: -g * F.sin(a),),
    "tanh": (lambda g, o, F, c, a: g * (1.0 - o * o),),
    "sigmoid": (lambda g, o, F, c, a: g * o * (1.0 - o),),
    "relu": (lambda g, o, F, c, a: g * (_val(a) > 0),),
    "T": (lambda g, o, F, c, a: g.T,),
    "reshape": (lambda g, o, F, c, a: g.reshape(a.shape),),
    "sum": (lambda g, o, F, c, a: F.broadcast_to(g.reshape(c), a.shape),),
    "broadcast": (lambda g, o, F, c, a: g,),  # the engine sums the broadcast axes
    "index": (lambda g, o, F, c, a: F.scatter(g, c, a.shape),),
    "scatter": (lambda g, o, F, c, a: g[c],),
    "identity": (lambda g, o, F, c, a: g,),
}


def _unbroadcast(g: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``g`` over the axes that broadcasting added or stretched, to get ``shape``."""
    extra = g.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        i + extra for i, n in enumerate(shape) if n == 1 and g.shape[i + extra] != 1
    )
    return g.sum(axis=axes, keepdims=True).reshape(shape) if axes else g.reshape(shape)


def _topo(root: Tensor, stop: Tensor | None) -> list[Tensor]:
    """Nodes reachable from ``root`` (not past ``stop``), each after its operands."""
    order: list[Tensor] = []
    visited: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
        elif id(node) not in visited:
            visited.add(id(node))
            stack.append((node, True))
            if node is not stop:
                stack.extend((a, False) for a in reversed(node._args) if isinstance(a, Tensor))
    return order


def _backprop(
    root: Tensor, seed: Any, stop: Tensor | None, graph: bool
) -> Iterator[tuple[Tensor, Any]]:
    """Reverse sweep: yield each node of ``root``'s graph with its final adjoint.

    A generator, so that a caller who keeps only one adjoint (``grad``) lets the others
    go as soon as they have been used: the sweep then holds only its frontier.
    """
    order = _topo(root, stop)
    adj: dict[int, Any] = {id(root): seed}
    F = _TS if graph else _NP
    for node in reversed(order):
        g = adj.pop(id(node))  # every node in `order` is an operand of a later one
        yield node, g
        if node is stop or not node._args:
            continue
        o, args = (node, node._args) if graph else (node.value, tuple(map(_val, node._args)))
        for rule, arg in zip(_RULES[node._op], node._args, strict=False):
            if isinstance(arg, Tensor):
                ga = rule(g, o, F, node._ctx, *args)
                if ga.shape != arg.shape:
                    ga = _unbroadcast(ga, arg.shape)
                k = id(arg)
                adj[k] = ga if k not in adj else adj[k] + ga
