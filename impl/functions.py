"""The differentiable operations, with NumPy's semantics for shapes, axes, dtypes and broadcasting.

Each op is a small `Function`: `forward` works on raw arrays through the array module returned by
`get_array_module`, `backward` works on Variables (so it can be differentiated again). Every `axis`
argument goes through `impl.axes.normalize_axis`; every target shape is checked before NumPy sees it,
so bad input fails with a message that names what was given and what is allowed.
"""
import builtins
import math

import numpy as np

from impl.axes import (AxisError, keepdims_shape, normalize_axis, normalize_axis_index,
                       normalize_shape, reduced_size)
from impl.backend import get_array_module, scatter_add
from impl.core import (Function, Variable, add, as_variable, div, mul, neg, pow, sub)

__all__ = [
    "add", "sub", "mul", "div", "neg", "pow", "exp", "log", "sin", "cos", "tanh", "sqrt", "square",
    "sigmoid", "relu", "clip", "astype",
    "sum", "mean", "average", "max", "min", "prod", "logsumexp", "var", "std",
    "broadcast_to", "sum_to", "reshape", "transpose", "expand_dims", "squeeze", "flatten", "get_item",
    "matmul", "linear", "softmax", "log_softmax", "mean_squared_error", "softmax_cross_entropy",
]


# ----------------------------------------------------------------------------- elementwise

class Exp(Function):
    def forward(self, x):
        return get_array_module(x).exp(x)

    def backward(self, gy):
        return gy * self.outputs[0]()


class Log(Function):
    def forward(self, x):
        return get_array_module(x).log(x)

    def backward(self, gy):
        return gy / self.inputs[0]


class Sin(Function):
    def forward(self, x):
        return get_array_module(x).sin(x)

    def backward(self, gy):
        return gy * cos(self.inputs[0])


class Cos(Function):
    def forward(self, x):
        return get_array_module(x).cos(x)

    def backward(self, gy):
        return gy * -sin(self.inputs[0])


class Tanh(Function):
    def forward(self, x):
        return get_array_module(x).tanh(x)

    def backward(self, gy):
        y = self.outputs[0]()
        return gy * (1 - y * y)


class Sqrt(Function):
    def forward(self, x):
        return get_array_module(x).sqrt(x)

    def backward(self, gy):
        return gy * (0.5 / self.outputs[0]())


class Square(Function):
    def forward(self, x):
        return x * x

    def backward(self, gy):
        return gy * (self.inputs[0] * 2)


class Sigmoid(Function):
    def forward(self, x):
        # The tanh form never overflows, unlike 1 / (1 + exp(-x)).
        return get_array_module(x).tanh(x * 0.5) * 0.5 + 0.5

    def backward(self, gy):
        y = self.outputs[0]()
        return gy * y * (1 - y)


class ReLU(Function):
    def forward(self, x):
        return get_array_module(x).maximum(x, 0)

    def backward(self, gy):
        x = self.inputs[0].data
        return gy * Variable(get_array_module(x).asarray(x > 0))


class Clip(Function):
    def __init__(self, x_min, x_max):
        self.x_min, self.x_max = x_min, x_max

    def forward(self, x):
        return get_array_module(x).clip(x, self.x_min, self.x_max)

    def backward(self, gy):
        x = self.inputs[0].data
        # The output's shape: array bounds may broadcast x to a larger one.
        inside = get_array_module(x).ones(gy.shape, dtype=bool)
        if self.x_min is not None:
            inside &= x >= self.x_min
        if self.x_max is not None:
            inside &= x <= self.x_max
        gx = gy * Variable(inside)
        return gx if gx.shape == x.shape else sum_to(gx, x.shape)


class AsType(Function):
    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, x):
        return x.astype(self.dtype)

    def backward(self, gy):
        return astype(gy, self.inputs[0].dtype)


def exp(x):
    return Exp()(x)


def log(x):
    return Log()(x)


def sin(x):
    return Sin()(x)


def cos(x):
    return Cos()(x)


def tanh(x):
    return Tanh()(x)


def sqrt(x):
    return Sqrt()(x)


def square(x):
    return Square()(x)


def sigmoid(x):
    return Sigmoid()(x)


def relu(x):
    return ReLU()(x)


def clip(x, x_min, x_max):
    """Limit `x` to [x_min, x_max] (either bound may be None); the gradient passes inside only."""
    if x_min is None and x_max is None:
        raise ValueError("clip needs at least one of x_min and x_max")
    return Clip(x_min, x_max)(x)


def astype(x, dtype):
    x = as_variable(x)
    dtype = np.dtype(dtype)
    if x.dtype == dtype:
        return x
    return AsType(dtype)(x)


# ----------------------------------------------------------------------------- reductions

class _Reduction(Function):
    """An op that combines elements over `axis`; `axes` is its normalized, sorted form."""

    def __init__(self, axis, keepdims):
        if not isinstance(keepdims, (bool, np.bool_)):
            raise TypeError(f"keepdims must be True or False, got {type(keepdims).__name__} "
                            f"{keepdims!r}")
        self.axis = axis
        self.keepdims = bool(keepdims)

    def __call__(self, x):
        x = as_variable(x)
        self.axes = normalize_axis(self.axis, x.ndim)
        return super().__call__(x)

    def restore(self, gy):
        """`gy`, shaped like the output, put back over the reduced axes and broadcast to the
        input's shape: the backward of every reduction starts here."""
        x_shape = self.inputs[0].shape
        # A 0-d gradient (every axis reduced) broadcasts to any shape as it is.
        if not self.keepdims and self.axes and gy.ndim:
            gy = Reshape(keepdims_shape(x_shape, self.axes))(gy)
        return BroadcastTo(x_shape)(gy) if gy.shape != x_shape else gy


class Sum(_Reduction):
    def forward(self, x):
        # The ufunc's own reduce: same result and dtype as xp.sum, without its Python wrapper.
        return get_array_module(x).add.reduce(x, axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        return self.restore(gy)


class Mean(_Reduction):
    def forward(self, x):
        xp = get_array_module(x)
        count = reduced_size(x.shape, self.axes)
        if count and x.dtype.kind in "fc" and x.dtype.itemsize > 2:
            # xp.mean's own arithmetic for these dtypes (sum, then divide), without its Python
            # wrapper; float16 (accumulated in float32), integers and empty groups go through it.
            return xp.add.reduce(x, axis=self.axes, keepdims=self.keepdims) / x.dtype.type(count)
        return xp.mean(x, axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        count = reduced_size(self.inputs[0].shape, self.axes)
        # An empty reduction has an empty input, so its gradient is empty whatever the scale.
        return self.restore(DivideBy(count)(gy) if count else gy)


class DivideBy(Function):
    """x / a constant, in x's dtype: the scaling of mean's backward without the operand
    handling of a general division."""

    def __init__(self, divisor):
        self.divisor = divisor

    def forward(self, x):
        return x / x.dtype.type(self.divisor)

    def backward(self, gy):
        return DivideBy(self.divisor)(gy)


class _Extremum(_Reduction):
    """max/min. Tied elements share the gradient equally (as JAX does); a NaN in a reduced
    group makes that group's gradient NaN."""

    def backward(self, gy):
        x = self.inputs[0].data
        xp = get_array_module(x)
        kept = keepdims_shape(x.shape, self.axes)
        hit = xp.asarray(x == self.outputs[0]().data.reshape(kept))
        count = xp.asarray(hit.sum(axis=self.axes, keepdims=self.keepdims))  # shaped like gy
        with np.errstate(invalid="ignore", divide="ignore"):
            if (count != 1).any():
                # Divide the reduced gradient, not a full-size weight: one pass fewer. A group
                # holding a NaN has no hit (count 0), so its gradient becomes NaN.
                gy = gy / Variable(count.astype(gy.dtype))
            return self.restore(gy) * Variable(hit)


class Max(_Extremum):
    def forward(self, x):
        return get_array_module(x).max(x, axis=self.axes, keepdims=self.keepdims)


class Min(_Extremum):
    def forward(self, x):
        return get_array_module(x).min(x, axis=self.axes, keepdims=self.keepdims)


class Prod(_Reduction):
    def forward(self, x):
        # The ufunc's own reduce: same result and dtype as xp.prod, without its Python wrapper.
        return get_array_module(x).multiply.reduce(x, axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        return ProdGrad(self)(self.inputs[0], gy)


class ProdGrad(Function):
    """prod's gradient, restore(gy) * ExclusiveProd(x), as one Function: at small sizes the
    four Functions it would take otherwise (reshape, broadcast, products, multiply) cost more
    than the arithmetic. Its own backward goes through them, so it is differentiable again."""

    def __init__(self, prod):
        self.prod = prod
        self.axes = prod.axes
        self.keepdims = prod.keepdims

    def forward(self, x, gy):
        if not self.keepdims:
            gy = gy.reshape(keepdims_shape(x.shape, self.axes))
        return ExclusiveProd(self.axes).scaled(x, gy)

    def backward(self, g):
        x, gy = self.inputs
        g_gy = sum(g * ExclusiveProd(self.axes)(x), axis=self.axes, keepdims=self.keepdims)
        g_x = ExclusiveProd(self.axes).vjp(x, g * self.prod.restore(gy))
        return g_x, g_gy


class ExclusiveProd(Function):
    """For each element, the product of the *other* elements of its reduction group: the
    gradient of `prod`, computed without dividing by the element (which may be zero)."""

    def __init__(self, axes):
        self.axes = axes

    def forward(self, x):
        return self.scaled(x, None)

    def scaled(self, x, scale):
        """The products of the others times `scale` (one value per group, the reduced axes kept;
        None for 1): the scale multiplies the few group products, not every element."""
        xp = get_array_module(x)
        if x.dtype.kind in "fc":
            out = self._by_division(xp, x, scale)
            if out is not None:
                return out
        out = self._by_running_products(xp, x)
        return out if scale is None else out * scale

    def _by_running_products(self, xp, x):
        """Exact for every input (IEEE products of the others, as JAX computes them); integers
        need it because a division would round."""
        grouped, undo = _group_last(xp, x, self.axes)
        ones = xp.ones(grouped.shape[:-1] + (1,), dtype=x.dtype)
        # Product of everything left of each element, times everything right of it (the last
        # running product, of the whole group, is dropped: so an empty group stays empty).
        left = xp.cumprod(xp.concatenate([ones, grouped], axis=-1), axis=-1)[..., :-1]
        rev = grouped[..., ::-1]
        right = xp.cumprod(xp.concatenate([ones, rev], axis=-1), axis=-1)[..., :-1][..., ::-1]
        return undo(left * right)

    def _by_division(self, xp, x, scale):
        """Floats: the product of the group's nonzero elements (times the scale), divided by the
        element where the group has no zero; at the only zero of a group, that product; 0
        everywhere else. None when a group's scaled product is not finite (a NaN, an infinity or
        an overflow), where the division would give NaN or infinity for a finite answer.
        At most one full-size array is allocated and then updated in place: at 10^6 elements and
        up, fresh pages cost more than the arithmetic."""
        # The ufuncs' own reduce, not xp.prod/xp.sum: at small sizes their wrappers dominate.
        zero = x == 0
        if not zero.any():
            whole = xp.multiply.reduce(x, axis=self.axes, keepdims=True)
            if scale is not None:
                whole = whole * scale
            return whole / x if xp.isfinite(whole).all() else None
        nonzero = xp.where(zero, 1, x)
        nonzero_prod = xp.multiply.reduce(nonzero, axis=self.axes, keepdims=True)
        if scale is not None:
            nonzero_prod = nonzero_prod * scale
        if not xp.isfinite(nonzero_prod).all():
            return None
        zeros = xp.add.reduce(zero, axis=self.axes, keepdims=True)
        out = xp.divide(nonzero_prod * (zeros == 0), nonzero,
                        out=nonzero if nonzero_prod.dtype == nonzero.dtype else None)
        xp.copyto(out, nonzero_prod * (zeros == 1), where=zero)
        return out

    def backward(self, g):
        return self.vjp(self.inputs[0], g)

    def vjp(self, x, g):
        """The gradient of sum(g * ExclusiveProd(x)) with respect to the Variable x."""
        # d out_i / d x_j = product of the group without i and j (for i != j), 0 for i == j.
        xp = get_array_module(x.data)
        grouped, undo = _group_last_variable(x, self.axes)
        gg, _ = _group_last_variable(g, self.axes)
        n = grouped.shape[-1]
        diagonal = xp.eye(n, dtype=bool)
        # pairs[..., j, k] is x_k with x_j replaced by 1 (filled, as x * 0 + 1 is NaN at x = inf)
        pairs = Fill(diagonal, 1)(broadcast_to(expand_dims(grouped, -2), grouped.shape + (n,)))
        both_out = ExclusiveProd((pairs.ndim - 1,))(pairs)
        gx = sum(expand_dims(gg, -2) * Fill(diagonal, 0)(both_out), axis=-1)
        return undo(gx)


class Fill(Function):
    """x with `value` where `mask` (broadcast against x) is True; no gradient flows there."""

    def __init__(self, mask, value):
        self.mask = mask
        self.value = value

    def forward(self, x):
        xp = get_array_module(x)
        return xp.where(self.mask, xp.asarray(self.value, dtype=x.dtype), x)

    def backward(self, gy):
        return Fill(self.mask, 0)(gy)


def _grouping(shape, axes):
    """The permutation that moves `axes` last, and the shape that merges them into one axis."""
    kept = [i for i in range(len(shape)) if i not in axes]
    perm = tuple(kept + list(axes))
    merged = tuple(shape[i] for i in kept) + (reduced_size(shape, axes),)
    return perm, merged


def _group_last(xp, x, axes):
    """`x` with the reduced axes moved last and merged, and a function that undoes that."""
    perm, merged = _grouping(x.shape, axes)
    moved = xp.transpose(x, perm)
    inverse = tuple(np.argsort(perm))
    return moved.reshape(merged), lambda out: xp.transpose(out.reshape(moved.shape), inverse)


def _group_last_variable(x, axes):
    perm, merged = _grouping(x.shape, axes)
    moved = transpose(x, perm)
    inverse = tuple(int(i) for i in np.argsort(perm))
    return reshape(moved, merged), lambda out: transpose(reshape(out, moved.shape), inverse)


def _logsumexp_array(xp, x, axes):
    """log(sum(exp(x))) over `axes`, keepdims=True, shifted by the maximum so exp cannot overflow."""
    if x.dtype.kind == "b":
        x = x.astype(np.float64)  # as for integers, whose exp is float64 (NumPy has no bool - bool)
    if x.size:
        shift = xp.max(x, axis=axes, keepdims=True)
        shift = xp.where(xp.isfinite(shift), shift, 0)
    else:
        shift = xp.zeros(keepdims_shape(x.shape, axes), dtype=x.dtype)
    with np.errstate(divide="ignore"):
        return xp.log(xp.sum(xp.exp(x - shift), axis=axes, keepdims=True)) + shift


class LogSumExp(_Reduction):
    def forward(self, x):
        xp = get_array_module(x)
        y = _logsumexp_array(xp, x, self.axes)
        return y if self.keepdims else y.reshape([n for i, n in enumerate(y.shape)
                                                  if i not in self.axes])

    def backward(self, gy):
        x = self.inputs[0]
        y = self.outputs[0]()
        return self.restore(gy) * exp(x - self.restore(y))


class Var(_Reduction):
    def __init__(self, axis, keepdims, ddof):
        super().__init__(axis, keepdims)
        if isinstance(ddof, (bool, np.bool_)) or not isinstance(ddof, (int, float, np.number)):
            raise TypeError(f"ddof must be a number, got {type(ddof).__name__} {ddof!r}")
        self.ddof = ddof

    def forward(self, x):
        return get_array_module(x).var(x, axis=self.axes, keepdims=self.keepdims, ddof=self.ddof)

    def backward(self, gy):
        x = self.inputs[0]
        dof = builtins.max(reduced_size(x.shape, self.axes) - self.ddof, 0)
        centered = x - mean(x, self.axes, keepdims=True)
        return self.restore(gy / dof) * (centered * 2)


def sum(x, axis=None, keepdims=False):
    """Sum over `axis`: None (all), an int (negative counts from the end), or a tuple/list of
    ints in any order; `()` sums nothing. The gradient is the upstream gradient, reshaped to keep
    the reduced axes and broadcast to `x`'s shape."""
    return Sum(axis, keepdims)(x)


def mean(x, axis=None, keepdims=False):
    return Mean(axis, keepdims)(x)


average = mean


def max(x, axis=None, keepdims=False):
    return Max(axis, keepdims)(x)


def min(x, axis=None, keepdims=False):
    return Min(axis, keepdims)(x)


def prod(x, axis=None, keepdims=False):
    return Prod(axis, keepdims)(x)


def logsumexp(x, axis=None, keepdims=False):
    return LogSumExp(axis, keepdims)(x)


def var(x, axis=None, keepdims=False, ddof=0):
    return Var(axis, keepdims, ddof)(x)


def std(x, axis=None, keepdims=False, ddof=0):
    return sqrt(var(x, axis, keepdims, ddof))


# ----------------------------------------------------------------------------- shapes

def _check_broadcastable(src, dst, op):
    """Raise unless shape `src` broadcasts to `dst` (NumPy's rule, dims aligned at the end)."""
    if len(dst) >= len(src) and all(
            s == d or s == 1 for s, d in zip(src, dst[len(dst) - len(src):])):
        return
    raise ValueError(f"{op}: shape {src} cannot be broadcast to {dst} (each dim of the source, "
                     f"aligned at the end, must equal the target's or be 1; the target may only "
                     f"add leading dims)")


def _check_non_negative(shape, op):
    if any(n < 0 for n in shape):
        raise ValueError(f"{op}: target shape {shape} has a negative dim")


class BroadcastTo(Function):
    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        # A read-only view: no memory is touched, whatever the size.
        return get_array_module(x).broadcast_to(x, self.shape)

    def backward(self, gy):
        # SumTo itself, not sum_to: the shapes are compatible by construction, and at 10^6
        # elements sum_to's checks are a tenth of the time.
        return SumTo(self.inputs[0].shape)(gy)


class SumTo(Function):
    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        lead = x.ndim - len(self.shape)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, n in enumerate(self.shape) if n == 1 and x.shape[lead + i] != 1)
        y = get_array_module(x).add.reduce(x, axis=axes, keepdims=True)
        return y.reshape(self.shape) if lead else y

    def backward(self, gy):
        return BroadcastTo(self.inputs[0].shape)(gy)


def broadcast_to(x, shape):
    """`x` repeated along new leading dims and along its size-1 dims to `shape`; backward sums
    the gradient back (`sum_to`)."""
    x = as_variable(x)
    shape = normalize_shape(shape)
    if x.shape == shape:
        return x
    _check_non_negative(shape, "broadcast_to")
    _check_broadcastable(x.shape, shape, "broadcast_to")
    return BroadcastTo(shape)(x)


def sum_to(x, shape):
    """Sum `x` down to `shape`: over leading dims `shape` lacks and over dims where `shape` has
    1. The inverse of `broadcast_to` for gradients."""
    x = as_variable(x)
    shape = normalize_shape(shape)
    if x.shape == shape:
        return x
    _check_non_negative(shape, "sum_to")
    try:
        _check_broadcastable(shape, x.shape, "sum_to")
    except ValueError:
        raise ValueError(f"sum_to: shape {x.shape} cannot be summed to {shape} (the target, aligned "
                         f"at the end, must match each dim or be 1 there, and may drop leading "
                         f"dims)") from None
    return SumTo(shape)(x)


class Reshape(Function):
    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        return x.reshape(self.shape)

    def backward(self, gy):
        return reshape(gy, self.inputs[0].shape)


def reshape(x, shape):
    """`x` with a new shape of the same size; one dim may be -1 (inferred)."""
    x = as_variable(x)
    shape = normalize_shape(shape)
    if x.shape == shape:
        return x
    if builtins.sum(n == -1 for n in shape) > 1 or any(n < -1 for n in shape):
        raise ValueError(f"reshape: target {shape} may have at most one -1 and no other negative dim")
    known = math.prod(n for n in shape if n != -1)
    if (known != x.size) if -1 not in shape else (known == 0 or x.size % known):
        raise ValueError(f"reshape: cannot reshape shape {x.shape} ({x.size} elements) into "
                         f"{shape}")
    return Reshape(shape)(x)


class Transpose(Function):
    def __init__(self, axes):
        self.axes = axes

    def forward(self, x):
        return get_array_module(x).transpose(x, self.axes)

    def backward(self, gy):
        inverse = tuple(int(i) for i in np.argsort(self.axes))
        return transpose(gy, inverse)


def transpose(x, axes=None):
    """Permute the axes of `x`: `axes` lists, for each output dim, the input dim it takes
    (negative allowed); None reverses them."""
    x = as_variable(x)
    if axes is None:
        perm = tuple(range(x.ndim))[::-1]
    else:
        if not isinstance(axes, (tuple, list)):
            raise TypeError(f"transpose: axes must be None or a tuple of ints, got "
                            f"{type(axes).__name__} {axes!r}")
        if len(axes) != x.ndim:
            raise ValueError(f"transpose: axes {tuple(axes)} must name each of the {x.ndim} "
                             f"dims of shape {x.shape} exactly once")
        perm = tuple(normalize_axis_index(a, x.ndim) for a in axes)
        if len(set(perm)) != len(perm):
            raise AxisError(f"transpose: axes {tuple(axes)} name a dim twice (normalized: {perm})")
    if perm == tuple(range(x.ndim)):
        return x
    return Transpose(perm)(x)


def expand_dims(x, axis):
    """Insert size-1 dims at `axis` (an int or a tuple), positions counted in the result,
    so -1 appends: (2, 3) with axis=-1 gives (2, 3, 1)."""
    x = as_variable(x)
    if axis is None:
        raise TypeError("expand_dims: axis must be an int or a tuple of ints, got None (None would "
                        "name every axis of the result)")
    n_new = len(axis) if isinstance(axis, (tuple, list)) else 1
    axes = normalize_axis(axis, x.ndim + n_new)
    rest = iter(x.shape)
    return reshape(x, tuple(1 if i in axes else next(rest) for i in range(x.ndim + n_new)))


def squeeze(x, axis=None):
    """Remove size-1 dims: all of them (axis=None) or those named, which must have size 1."""
    x = as_variable(x)
    if axis is None:
        axes = tuple(i for i, n in enumerate(x.shape) if n == 1)
    else:
        axes = normalize_axis(axis, x.ndim)
        wrong = [a for a in axes if x.shape[a] != 1]
        if wrong:
            raise ValueError(f"squeeze: axis {wrong[0]} of shape {x.shape} has size "
                             f"{x.shape[wrong[0]]}; only size-1 dims can be squeezed")
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if i not in axes))


def flatten(x):
    """`x` as a 1-D array (NumPy's `ravel`; DeZero's own flatten keeps the batch axis)."""
    x = as_variable(x)
    return reshape(x, (x.size,))


def _is_basic_index(index):
    """True for indices that pick each element at most once (ints, slices, None, Ellipsis)."""
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (slice, int, np.integer))
               for i in items)


def _unwrap_index(index):
    if isinstance(index, Variable):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Variable) else i for i in index)
    return index


class GetItem(Function):
    def __init__(self, index):
        self.index = index

    def forward(self, x):
        return x[self.index]

    def backward(self, gy):
        x = self.inputs[0]
        return GetItemGrad(self.index, x.shape)(gy)


class GetItemGrad(Function):
    """Scatter `gy` into zeros of the input's shape; repeated indices accumulate."""

    def __init__(self, index, in_shape):
        self.index = index
        self.in_shape = in_shape

    def forward(self, gy):
        xp = get_array_module(gy)
        gx = xp.zeros(self.in_shape, dtype=gy.dtype)
        if _is_basic_index(self.index):
            gx[self.index] = gy
        else:
            scatter_add(xp, gx, self.index, gy)
        return gx

    def backward(self, ggx):
        return get_item(ggx, self.index)


def get_item(x, index):
    """`x[index]` with NumPy's indexing: ints, slices with steps, Ellipsis, None, integer arrays
    (repeats accumulate in the gradient) and boolean masks."""
    return GetItem(_unwrap_index(index))(x)


# ----------------------------------------------------------------------------- linear algebra

def _swap_last(x):
    perm = list(range(x.ndim))
    perm[-2], perm[-1] = perm[-1], perm[-2]
    return transpose(x, perm)


class MatMul(Function):
    """`numpy.matmul`: 1-D operands are promoted to a row (left) or column (right) and the
    added dim removed again; batch dims broadcast."""

    def forward(self, a, b):
        return get_array_module(a).matmul(a, b)

    def backward(self, gy):
        a, b = self.inputs
        a2 = reshape(a, (1, a.shape[0])) if a.ndim == 1 else a
        b2 = reshape(b, (b.shape[0], 1)) if b.ndim == 1 else b
        batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
        gy2 = reshape(gy, batch + (a2.shape[-2], b2.shape[-1]))
        ga = sum_to(matmul(gy2, _swap_last(b2)), a2.shape)
        gb = sum_to(matmul(_swap_last(a2), gy2), b2.shape)
        return reshape(ga, a.shape), reshape(gb, b.shape)


def matmul(a, b):
    a, b = as_variable(a), as_variable(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: operands must be at least 1-D, got shapes {a.shape} and "
                         f"{b.shape} (use * for scalars)")
    inner_a = a.shape[-1]
    inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if inner_a != inner_b:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not match: the last dim of "
                         f"the first ({inner_a}) must equal the "
                         f"{'only' if b.ndim == 1 else 'second-to-last'} dim of the second ({inner_b})")
    if a.ndim > 2 or b.ndim > 2:
        try:
            np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        except ValueError:
            raise ValueError(f"matmul: batch dims of {a.shape} and {b.shape} do not broadcast "
                             f"({a.shape[:-2]} vs {b.shape[:-2]})") from None
    return MatMul()(a, b)


def linear(x, W, b=None):
    """`x @ W + b` (b optional), as in a fully connected layer."""
    y = matmul(x, W)
    return y if b is None else y + b


# ----------------------------------------------------------------------------- losses and normalizers

class Softmax(Function):
    def __init__(self, axis):
        self.axis = axis

    def __call__(self, x):
        x = as_variable(x)
        self.axes = normalize_axis(self.axis, x.ndim)
        return super().__call__(x)

    def forward(self, x):
        xp = get_array_module(x)
        return xp.exp(x - _logsumexp_array(xp, x, self.axes))

    def backward(self, gy):
        y = self.outputs[0]()
        gx = y * gy
        return gx - y * sum(gx, self.axes, keepdims=True)


class LogSoftmax(Softmax):
    def forward(self, x):
        return x - _logsumexp_array(get_array_module(x), x, self.axes)

    def backward(self, gy):
        y = self.outputs[0]()
        return gy - exp(y) * sum(gy, self.axes, keepdims=True)


def softmax(x, axis=-1):
    return Softmax(axis)(x)


def log_softmax(x, axis=-1):
    return LogSoftmax(axis)(x)


def mean_squared_error(x0, x1):
    """sum((x0 - x1)**2) / len(x0): the squared error summed, averaged over the first (batch)
    axis, as DeZero defines it."""
    diff = sub(x0, x1)
    if diff.ndim == 0:
        raise ValueError("mean_squared_error averages over the first axis; got 0-d inputs")
    return sum(square(diff)) / len(diff)


def softmax_cross_entropy(x, t):
    """Mean over the batch of -log softmax(x)[i, t[i]], for logits `x` of shape (N, C) and
    integer labels `t` of shape (N,)."""
    x = as_variable(x)
    labels = t.data if isinstance(t, Variable) else np.asarray(t)
    if x.ndim != 2:
        raise ValueError(f"softmax_cross_entropy: logits must be 2-D (N, C), got shape {x.shape}")
    if labels.shape != (x.shape[0],) or labels.dtype.kind not in "iu":
        raise ValueError(f"softmax_cross_entropy: labels must be integers of shape "
                         f"({x.shape[0]},), got {labels.dtype} of shape {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= x.shape[1]):
        raise ValueError(f"softmax_cross_entropy: labels must lie in [0, {x.shape[1]}), got "
                         f"{labels.min()} to {labels.max()}")
    picked = get_item(log_softmax(x, axis=1), (np.arange(x.shape[0]), labels))
    return -sum(picked) / x.shape[0]
