"""The reverse-mode engine behind :mod:`calcml.autodiff`: the Tensor and its reverse sweep.

Holds :class:`Tensor` with its operators, the elementwise functions (``exp``,
``log``, ``sqrt``, ``sin``, ``cos``, ``tanh``, ``sigmoid``, ``relu``), one small
named function per derivative rule (collected in :data:`VJP_RULES`) and the
reverse sweep, :func:`topological_order` and :func:`backpropagate`. The public
names are re-exported by :mod:`calcml.autodiff`, which adds the function
transforms (``grad``, ``jacobian``, ``hvp``, ``jvp``, ``vjp``, ...) on top.

Conventions
-----------
Ownership
    A Tensor owns its data: ``Tensor(arr)`` and every array constant in an
    operation (``A @ x``) are copied, so changing ``arr`` or ``A`` afterwards
    changes neither the Tensor nor a recorded graph. No two Tensors' ``.grad``
    share memory: an in-place update of one gradient (``p.grad *= 0.5``,
    ``p -= lr * p.grad``) never changes another.
Dtype
    Values and gradients are float64, whatever the real dtype of the input
    (bool, integer, float32).
Domain policy
    An operation raises ``ValueError`` where its value is not a real number:
    ``log`` and ``sqrt`` of a negative number, a negative base to a non-integer
    power. At the boundary point 0 the value and the derivative are their
    one-sided limits, as in NumPy, JAX and PyTorch, without a warning:
    ``sqrt(0) = 0`` with derivative ``+inf``; ``log(0) = -inf`` with derivative
    ``+inf``; ``x ** p`` at 0 has derivative ``+inf`` for ``0 < p < 1``.
    ``x ** 0`` is the constant 1, with derivative 0 everywhere, 0 included.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import expit

from calcml._validation import as_finite_array, documented_in, with_book_link

__doc__ = with_book_link(__doc__, "chain_rule_backpropagation")

Array = NDArray[np.float64]


@documented_in("chain_rule_backpropagation", "a-computational-graph")
class Tensor:
    """A float64 array that records the operations applied to it.

    Parameters
    ----------
    value : array_like
        Finite real numbers; stored as a float64 array (0-d for a scalar). The
        Tensor keeps its own copy: changing ``value`` afterwards does not change it.
    name : str, optional
        A label used by :func:`export_graph`.

    Examples
    --------
    >>> x = Tensor(3.0)
    >>> y = x * x + 2 * x
    >>> y.backward()
    >>> float(y.value), float(x.grad)
    (15.0, 8.0)

    """

    __slots__ = ("__weakref__", "_args", "_ctx", "_grad", "_grad_shared", "_op", "name", "value")
    _args: tuple[Any, ...]  # operands: Tensors and float64 constants
    _ctx: Any  # what a rule needs besides the operands (an index, a kept shape), or None
    __array_ufunc__ = None  # NumPy defers to our reflected operators: A @ x is a Tensor

    def __init__(self, value: ArrayLike, *, name: str = "") -> None:
        if isinstance(value, np.ndarray) and value.dtype == np.float64:
            if not np.isfinite(value).all():
                raise ValueError(f"`value` must be finite, got {value!r}")
            self.value: Array = _copy(value)
        else:
            self.value = as_finite_array(value, "value")  # a new float64 array
        self._grad: Any = None
        self._grad_shared = False
        self.name, self._op, self._args, self._ctx = name, "leaf", (), None

    @classmethod
    def _make(cls, value: Any, op: str, args: tuple[Any, ...], ctx: Any = None) -> Tensor:
        t = object.__new__(cls)
        t.value, t._grad, t._grad_shared = np.asarray(value, dtype=np.float64), None, False
        t.name = ""
        t._op, t._args, t._ctx = op, args, ctx
        return t

    shape = property(lambda self: self.value.shape, doc="The shape of the value.")
    ndim = property(lambda self: self.value.ndim, doc="The number of dimensions.")
    T = property(lambda self: Tensor._make(self.value.T, "T", (self,)), doc="The transpose.")

    @property
    def grad(self) -> Any:
        """The adjoint from :meth:`backward` (None before): an array (or Tensor) of its own."""
        if self._grad_shared:  # the sweep gave this memory to another node too: copy it now
            self._grad, self._grad_shared = _own_copy(self._grad), False
        return self._grad

    @grad.setter
    def grad(self, value: Any) -> None:
        self._grad, self._grad_shared = value, False

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
        with np.errstate(divide="ignore"):  # 0 ** negative = inf, the one-sided limit
            return Tensor._make(self.value**q, "pow", (self, q))

    def __rpow__(self, base: Any) -> Any:
        return exp(self * log(_operand(base, "**")))

    def __getitem__(self, index: Any) -> Tensor:
        return Tensor._make(self.value[index], "index", (self,), index)

    @documented_in("chain_rule_backpropagation", "backpropagation-in-matrix-form")
    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Sum over ``axis`` (all axes by default), as :meth:`numpy.ndarray.sum`.

        Like :meth:`mean`, :meth:`reshape`, ``.T``, indexing and the operators, it
        records itself in the graph.

        Examples
        --------
        >>> from calcml.autodiff import grad
        >>> grad(lambda t: (t.reshape(2, 2).T[0] * t.mean()).sum())([1.0, 2.0, 3.0, 4.0])
        array([3.5, 1. , 3.5, 1. ])

        """
        kept = self.value.sum(axis=axis, keepdims=True)  # reduced axes kept with length 1
        value = kept if keepdims else kept.reshape(()) if axis is None else kept.squeeze(axis)
        return Tensor._make(value, "sum", (self,), kept.shape)

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """The mean over ``axis``: the sum divided by the number of terms.

        A ``ValueError`` if there are no terms (an empty Tensor, or an axis of length 0).

        Examples
        --------
        >>> Tensor([[1.0, 2.0], [3.0, 5.0]]).mean(axis=0).value
        array([2. , 3.5])
        """
        s = self.sum(axis, keepdims)
        kept = s._ctx  # the shape with the reduced axes of length 1
        terms = math.prod(n for n, k in zip(self.shape, kept, strict=True) if k == 1)
        if terms == 0:
            raise ValueError(
                f"`mean` of a Tensor of shape {self.shape} over axis={axis!r} has no terms"
            )
        return s * (1.0 / terms)

    def reshape(self, *shape: Any) -> Tensor:
        """The same values with a new shape, as :meth:`numpy.ndarray.reshape`."""
        new = shape[0] if len(shape) == 1 and isinstance(shape[0], tuple | list) else shape
        return Tensor._make(self.value.reshape(new), "reshape", (self,))

    @documented_in("chain_rule_backpropagation", "a-computational-graph")
    def backward(self, seed: ArrayLike | None = None, *, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(node), contracted with ``seed``, into every node's ``.grad``.

        ``seed`` defaults to 1 for a single-element output. With
        ``create_graph=True`` the gradients are Tensors whose graph can be
        differentiated again. Every ``.grad`` is an array of its own: where the
        sweep hands the same memory to several nodes (the rules of ``+``, the
        identity, ``.T``, ``reshape`` and ``sum`` pass ``g`` on, or a view of it),
        each of them copies it when its ``.grad`` is first read.

        Examples
        --------
        >>> x = Tensor([1.0, 2.0])
        >>> (x * x).backward(seed=[1.0, 10.0])  # the vector-Jacobian product seed^T J
        >>> x.grad
        array([ 2., 40.])

        """
        if seed is None:
            check_scalar_output(self.value, "backward()")
            seed = np.ones_like(self.value)
        seed = as_finite_array(seed, "seed")
        if seed.shape != self.shape:
            raise ValueError(f"`seed` has shape {seed.shape}, the output has {self.shape}")
        holders: dict[int, Tensor] = {}  # memory (the owning array's id) -> a node holding it
        for node, g in backpropagate(self, seed, create_graph=create_graph):
            if node._grad is not None:  # accumulate into a new array
                node._grad, node._grad_shared = node._grad + g, False
                continue
            node._grad = g
            v = g.value if isinstance(g, Tensor) else g
            base = v.base  # the array that owns the memory of a view, else None
            other = holders.setdefault(id(v) if base is None else id(base), node)
            if other is not node or not v.flags.writeable:  # or a broadcast view, or a scalar
                node._grad_shared = other._grad_shared = True  # copied when first read


def check_scalar_output(value: Any, where: str) -> None:
    """Raise ``ValueError`` unless ``value`` has one element: a gradient needs a scalar."""
    if np.size(value) != 1:
        raise ValueError(
            f"{where} needs a scalar output, but the output has shape {np.shape(value)}: "
            "use `jacobian` (or `vjp`, or `backward(seed)`) for a non-scalar output"
        )


def _own_copy(g: Any) -> Any:
    """A copy of the gradient ``g``: an array, or a Tensor recording the copy."""
    copy = _copy(_val(g))
    return Tensor._make(copy, "identity", (g,)) if isinstance(g, Tensor) else copy


def _copy(a: Array) -> Array:
    """A new array equal to ``a``.

    ``np.positive`` rather than ``a.copy()``: for the 100 kB arrays of a small network,
    NumPy's elementwise loop ran several times faster than its ``memcpy`` path here.
    """
    return np.asarray(np.positive(a))  # asarray: a 0-d result stays an array


def _val(x: Any) -> Any:
    return x.value if isinstance(x, Tensor) else x


def _operand(x: Any, what: str = "") -> Any:
    """A Tensor stays; a real number or real array becomes a float64 copy; else None.

    With ``what`` (an operator's name) an unsupported type raises a ``TypeError`` instead.
    """
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray | np.generic):
        real = x.dtype.kind in "biuf"
    else:
        real = isinstance(x, numbers.Real)
    if real:
        arr = np.asarray(x, dtype=np.float64)
        return _copy(arr) if arr is x else arr  # the graph keeps its own copy
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
    if name in ("log", "sqrt") and np.any(_val(t) < 0):
        raise ValueError(f"`{name}` needs non-negative input: it is not real for x < 0")
    if name == "log":
        with np.errstate(divide="ignore"):  # log(0) = -inf, the one-sided limit
            value = fn(_val(t))
    else:
        value = fn(_val(t))
    if not isinstance(t, Tensor):
        return np.asarray(value)
    return Tensor._make(value, name, (t,))


def _elementwise(name: str, fn: Callable[[Array], Array], what: str, ex: str) -> Any:
    def op(x: Any) -> Any:
        return _unary(name, fn, x)

    expr, at, out = ex.split(";")
    op.__name__ = op.__qualname__ = name
    op.__doc__ = with_book_link(
        f"""{what}, elementwise: a Tensor in, a Tensor out; plain numbers or arrays in,
    a NumPy array out.

    Examples
    --------
    >>> from calcml.autodiff import grad
    >>> grad(lambda t: {expr})({at})
    {out}
    """,
        "chain_rule_backpropagation",
        "the-chain-rule-for-composite-functions",
    )
    return op


exp = _elementwise("exp", np.exp, "The exponential", "exp(2 * t);0.5;5.43656365691809")
log = _elementwise(
    "log", np.log, "The logarithm (ValueError for x < 0; -inf at 0)", "log(t);4.0;0.25"
)
sqrt = _elementwise("sqrt", np.sqrt, "The square root (ValueError for x < 0)", "sqrt(t);4.0;0.25")
sin = _elementwise("sin", np.sin, "The sine", "sin(t * t);1.0;1.0806046117362795")
cos = _elementwise("cos", np.cos, "The cosine", "cos(t);0.0;-0.0")
tanh = _elementwise("tanh", np.tanh, "The hyperbolic tangent", "tanh(t);0.0;1.0")
sigmoid = _elementwise("sigmoid", expit, "The sigmoid 1 / (1 + exp(-x))", "sigmoid(t);0.0;0.25")
relu = _elementwise(
    "relu", lambda v: np.maximum(v, 0.0), "max(x, 0)", "relu(t).sum();[-1.0, 2.0];array([0., 1.])"
)


def _broadcast_to(x: Any, shape: tuple[int, ...]) -> Any:
    """``x`` repeated to ``shape``: a recorded Tensor for a Tensor, a NumPy view for an array."""
    if isinstance(x, Tensor):
        return Tensor._make(np.broadcast_to(x.value, shape), "broadcast", (x,))
    return np.broadcast_to(x, shape)


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


def _outer(u: Any, w: Any) -> Any:
    return u.reshape(-1, 1) * w.reshape(1, -1)


# ---------------------------------------------------------------- derivative rules
# One vector-Jacobian product per operand: given the adjoint g of a node's output
# `out`, return g times the local derivative d(out)/d(operand). The same code runs on
# arrays (a first-order sweep) and on Tensors (create_graph: the sweep is recorded).


def add_vjp(g: Any, out: Any, a: Any, b: Any) -> Any:
    """d(a + b)/da = d(a + b)/db = 1."""
    return g


def sub_vjp_b(g: Any, out: Any, a: Any, b: Any) -> Any:
    """d(a - b)/db = -1 (and d(a - b)/da = 1, :func:`add_vjp`)."""
    return -g


def mul_vjp_a(g: Any, out: Any, a: Any, b: Any) -> Any:
    """d(a b)/da = b."""
    return g * b


def mul_vjp_b(g: Any, out: Any, a: Any, b: Any) -> Any:
    """d(a b)/db = a."""
    return g * a


def div_vjp_a(g: Any, out: Any, a: Any, b: Any) -> Any:
    """d(a / b)/da = 1 / b."""
    return g / b


def div_vjp_b(g: Any, out: Any, a: Any, b: Any) -> Any:
    """d(a / b)/db = -a / b^2 = -out / b."""
    return -g * out / b


def matmul_vjp_a(g: Any, out: Any, a: Any, b: Any) -> Any:
    """d(a @ b)/da contracted with g: g @ b^T (an outer product or a scaling for 1-D operands)."""
    return g @ b.T if b.ndim == 2 else _outer(g, b) if a.ndim == 2 else g * b


def matmul_vjp_b(g: Any, out: Any, a: Any, b: Any) -> Any:
    """d(a @ b)/db contracted with g: a^T @ g (an outer product or a scaling for 1-D operands)."""
    return a.T @ g if a.ndim == 2 else _outer(a, g) if b.ndim == 2 else g * a


def pow_vjp(g: Any, out: Any, a: Any, p: Any) -> Any:
    """d(a^p)/da = p a^(p-1), and 0 where p = 0 (a^0 = 1 is constant, even at a = 0)."""
    with np.errstate(divide="ignore"):  # +inf at a = 0 for 0 < p < 1
        return g * p * a ** (p - 1.0 + (p == 0))  # exponent 0 where p = 0: no 0 * inf


def neg_vjp(g: Any, out: Any, a: Any) -> Any:
    """d(-a)/da = -1."""
    return -g


def exp_vjp(g: Any, out: Any, a: Any) -> Any:
    """d exp(a)/da = exp(a) = out."""
    return g * out


def log_vjp(g: Any, out: Any, a: Any) -> Any:
    """d log(a)/da = 1 / a."""
    with np.errstate(divide="ignore"):  # +inf at a = 0
        return g / a


def sqrt_vjp(g: Any, out: Any, a: Any) -> Any:
    """d sqrt(a)/da = 1 / (2 sqrt(a)) = 0.5 / out."""
    with np.errstate(divide="ignore"):  # +inf at a = 0
        return 0.5 * g / out


def sin_vjp(g: Any, out: Any, a: Any) -> Any:
    """d sin(a)/da = cos(a)."""
    return g * cos(a)


def cos_vjp(g: Any, out: Any, a: Any) -> Any:
    """d cos(a)/da = -sin(a)."""
    return -g * sin(a)


def tanh_vjp(g: Any, out: Any, a: Any) -> Any:
    """d tanh(a)/da = 1 - tanh(a)^2 = 1 - out^2."""
    return g * (1.0 - out * out)


def sigmoid_vjp(g: Any, out: Any, a: Any) -> Any:
    """d sigmoid(a)/da = sigmoid(a) (1 - sigmoid(a)) = out (1 - out)."""
    return g * out * (1.0 - out)


def identity_vjp(g: Any, out: Any, a: Any) -> Any:
    """d a/da = 1 (for a broadcast too: the sweep then sums g over the repeated axes)."""
    return g


def relu_vjp(g: Any, out: Any, a: Any) -> Any:
    """d max(a, 0)/da = 1 where a > 0, else 0 (0 at the kink a = 0)."""
    return g * (_val(a) > 0)


def transpose_vjp(g: Any, out: Any, a: Any) -> Any:
    """The transpose is linear: its VJP transposes g back."""
    return g.T


def reshape_vjp(g: Any, out: Any, a: Any) -> Any:
    """A reshape is linear: its VJP reshapes g back to a's shape."""
    return g.reshape(a.shape)


def sum_vjp(g: Any, out: Any, a: Any, *, ctx: tuple[int, ...]) -> Any:
    """d(sum a)/d a_i = 1: g is repeated along the summed axes (``ctx``: kept shape)."""
    return _broadcast_to(g.reshape(ctx), a.shape)


def index_vjp(g: Any, out: Any, a: Any, *, ctx: Any) -> Any:
    """d a[i]/d a is 1 at i: g is scattered into zeros at the index ``ctx``."""
    return _scatter(g, ctx, a.shape)


def scatter_vjp(g: Any, out: Any, a: Any, *, ctx: Any) -> Any:
    """Scattering to the index ``ctx`` is linear: its VJP gathers g[ctx]."""
    return g[ctx]


VJP_RULES: dict[str, tuple[Callable[..., Any], ...]] = {
    "add": (add_vjp, add_vjp),
    "sub": (add_vjp, sub_vjp_b),
    "mul": (mul_vjp_a, mul_vjp_b),
    "div": (div_vjp_a, div_vjp_b),
    "matmul": (matmul_vjp_a, matmul_vjp_b),
    "pow": (pow_vjp,),  # the exponent is a constant
    "neg": (neg_vjp,),
    "exp": (exp_vjp,),
    "log": (log_vjp,),
    "sqrt": (sqrt_vjp,),
    "sin": (sin_vjp,),
    "cos": (cos_vjp,),
    "tanh": (tanh_vjp,),
    "sigmoid": (sigmoid_vjp,),
    "relu": (relu_vjp,),
    "T": (transpose_vjp,),
    "reshape": (reshape_vjp,),
    "sum": (sum_vjp,),
    "broadcast": (identity_vjp,),
    "index": (index_vjp,),
    "scatter": (scatter_vjp,),
    "identity": (identity_vjp,),
}
"""The derivative rules: for each operation, one VJP function per operand."""


# ---------------------------------------------------------------- the reverse sweep


def topological_order(root: Tensor, stop: Tensor | None = None) -> list[Tensor]:
    """Every node ``root`` depends on (not past ``stop``), each after its operands.

    An iterative depth-first search, so a chain of any depth works; the order is
    deterministic (operands are visited in the order of ``node._args``).
    """
    order: list[Tensor] = []
    visited: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        node, operands_done = stack.pop()
        if operands_done:
            order.append(node)
        elif id(node) not in visited:
            visited.add(id(node))
            stack.append((node, True))
            if node is not stop:
                args = reversed(node._args)
                stack.extend((a, False) for a in args if isinstance(a, Tensor))
    return order


_NO_CTX: dict[str, Any] = {}  # the keyword arguments of a rule that needs no context


def backpropagate(
    root: Tensor, seed: Any, stop: Tensor | None = None, create_graph: bool = False
) -> Iterator[tuple[Tensor, Any]]:
    """The reverse sweep: yield each node of ``root``'s graph with its adjoint.

    Outputs first. The adjoint of a node is d(seed . root)/d(node). In reverse
    topological order a node's adjoint is complete when the node is reached: every
    node that uses it has already added its share (the chain rule, summed over
    paths). Each rule of :data:`VJP_RULES` turns the adjoint ``g`` of a node into
    the share of one operand. With ``stop``, only the nodes that depend on ``stop``
    are swept (the others cannot change its adjoint). With ``create_graph`` the
    rules run on Tensors, so the adjoints can be differentiated again. A
    generator: a caller that keeps one adjoint lets the others go as soon as they
    have been used.
    """
    order = topological_order(root, stop)
    live: set[int] = set()
    if stop is not None:  # keep the nodes with a path from `stop`
        live.add(id(stop))
        for node in order:
            if any(id(a) in live for a in node._args):
                live.add(id(node))
        order = [node for node in order if id(node) in live]
    adjoints: dict[int, Any] = {id(root): seed}
    for node in reversed(order):
        g = adjoints.pop(id(node))  # complete: every user of `node` came before it
        yield node, g
        if node is stop or not node._args:  # an input: nothing further back
            continue
        out: Any = node if create_graph else node.value
        operands = node._args if create_graph else tuple(map(_val, node._args))
        ctx = _NO_CTX if node._ctx is None else {"ctx": node._ctx}
        for arg, rule in zip(node._args, VJP_RULES[node._op], strict=False):
            if isinstance(arg, Tensor) and (stop is None or id(arg) in live):
                share = rule(g, out, *operands, **ctx)
                if share.shape != arg.shape:
                    share = unbroadcast(share, arg.shape)
                k = id(arg)
                adjoints[k] = share if k not in adjoints else adjoints[k] + share


def unbroadcast(g: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``g`` over the axes that broadcasting added or stretched, to get ``shape``."""
    extra = g.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        i + extra for i, n in enumerate(shape) if n == 1 and g.shape[i + extra] != 1
    )
    return g.sum(axis=axes, keepdims=True).reshape(shape) if axes else g.reshape(shape)
