"""The NumPy floor of each op: the same arithmetic as a forward and backward pass, written by hand
with no graph, no Variables and no checks. What `impl` costs above this is its overhead.

`FLOORS[op] = Floor(forward, forward_backward)`:
- `forward(*xs, **kw) -> y`;
- `forward_backward(xs, g, **kw) -> (y, [gradient of each input])`, for the upstream gradient `g`.

Like `impl`, a floor may return a read-only broadcast view as a gradient (sum, mean, sum_to).
"""
import dataclasses
from typing import Callable

import numpy as np


@dataclasses.dataclass(frozen=True)
class Floor:
    forward: Callable
    forward_backward: Callable


def _kept(g, axis, keepdims):
    """An output-shaped array `g` with the reduced axes put back as size-1 dims."""
    if keepdims or axis is None:
        return g  # a 0-d result broadcasts as it is
    return np.expand_dims(g, axis)  # axes of the reduction are positions in the kept shape


def _sum_to(g, shape):
    """Sum `g` over the leading dims `shape` lacks and where `shape` has 1."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
    out = np.sum(g, axis=axes, keepdims=True)
    return out.reshape(shape) if lead else out


# ----------------------------------------------------------------------------- reductions

def _sum_fb(xs, g, axis=None, keepdims=False):
    x, = xs
    y = np.sum(x, axis=axis, keepdims=keepdims)
    return y, [np.broadcast_to(_kept(g, axis, keepdims), x.shape)]


def _mean_fb(xs, g, axis=None, keepdims=False):
    x, = xs
    y = np.mean(x, axis=axis, keepdims=keepdims)
    count = x.size // max(y.size, 1)
    return y, [np.broadcast_to(_kept(g, axis, keepdims) / x.dtype.type(count), x.shape)]


def _extremum_fb(reduce):
    def fb(xs, g, axis=None, keepdims=False):
        x, = xs
        y = reduce(x, axis=axis, keepdims=keepdims)
        hit = x == _kept(y, axis, keepdims)
        count = np.sum(hit, axis=axis, keepdims=True)
        # Tied extrema share the gradient equally: mask * (g / count), the division on the
        # small reduced array.
        share = (_kept(g, axis, keepdims) / count).astype(x.dtype, copy=False)
        return y, [hit * share]
    return fb


def _prod_fb(xs, g, axis=None, keepdims=False):
    x, = xs
    y = np.prod(x, axis=axis, keepdims=keepdims)
    gk = _kept(g, axis, keepdims)
    zero = x == 0
    if not zero.any():
        return y, [(gk * _kept(y, axis, keepdims)) / x]
    # With zeros, prod/x is wrong: a group with one zero has, at the zero, the product of the
    # others, and 0 elsewhere; a group with several zeros has gradient 0 everywhere.
    count = np.sum(zero, axis=axis, keepdims=True)
    safe = np.where(zero, x.dtype.type(1), x)
    others = np.prod(safe, axis=axis, keepdims=True)
    gx = np.where(zero, (count == 1) * others, (count == 0) * others / safe) * gk
    return y, [gx.astype(x.dtype, copy=False)]


def _logsumexp_parts(x, axis):
    m = np.max(x, axis=axis, keepdims=True)
    e = np.exp(x - m)
    s = np.sum(e, axis=axis, keepdims=True)
    return e, s, np.log(s) + m


def _drop(yk, axis, keepdims):
    return yk if keepdims else np.squeeze(yk, axis=axis)


def _logsumexp_f(x, axis=None, keepdims=False):
    return _drop(_logsumexp_parts(x, axis)[2], axis, keepdims)


def _logsumexp_fb(xs, g, axis=None, keepdims=False):
    x, = xs
    e, s, yk = _logsumexp_parts(x, axis)
    return _drop(yk, axis, keepdims), [e * (_kept(g, axis, keepdims) / s)]


# ----------------------------------------------------------------------------- elementwise

def _exp_fb(xs, g):
    y = np.exp(xs[0])
    return y, [g * y]


def _mul_fb(xs, g):
    a, b = xs
    return a * b, [_sum_to(g * b, a.shape), _sum_to(g * a, b.shape)]


def _add_fb(xs, g):
    a, b = xs
    return a + b, [_sum_to(g, a.shape), _sum_to(g, b.shape)]


# ----------------------------------------------------------------------------- shapes

def _broadcast_to_fb(xs, g, shape):
    x, = xs
    return np.broadcast_to(x, shape), [_sum_to(g, x.shape)]


def _sum_to_fb(xs, g, shape):
    x, = xs
    return _sum_to(x, tuple(shape)), [np.broadcast_to(g, x.shape)]


# ----------------------------------------------------------------------------- linear algebra

def _matmul_fb(xs, g):
    a, b = xs
    if a.ndim < 2 or b.ndim < 2:
        raise NotImplementedError("the benchmark floor covers matmuls of matrices (ndim >= 2)")
    y = a @ b
    ga = _sum_to(g @ np.swapaxes(b, -1, -2), a.shape)
    gb = _sum_to(np.swapaxes(a, -1, -2) @ g, b.shape)
    return y, [ga, gb]


def _softmax_f(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _softmax_fb(xs, g, axis=-1):
    y = _softmax_f(xs[0], axis)
    gy = g * y
    return y, [gy - y * np.sum(gy, axis=axis, keepdims=True)]


FLOORS = {
    "sum": Floor(lambda x, axis=None, keepdims=False: np.sum(x, axis=axis, keepdims=keepdims), _sum_fb),
    "mean": Floor(lambda x, axis=None, keepdims=False: np.mean(x, axis=axis, keepdims=keepdims), _mean_fb),
    "max": Floor(lambda x, axis=None, keepdims=False: np.max(x, axis=axis, keepdims=keepdims),
                 _extremum_fb(np.max)),
    "min": Floor(lambda x, axis=None, keepdims=False: np.min(x, axis=axis, keepdims=keepdims),
                 _extremum_fb(np.min)),
    "prod": Floor(lambda x, axis=None, keepdims=False: np.prod(x, axis=axis, keepdims=keepdims), _prod_fb),
    "logsumexp": Floor(_logsumexp_f, _logsumexp_fb),
    "exp": Floor(np.exp, _exp_fb),
    "mul": Floor(lambda a, b: a * b, _mul_fb),
    "add": Floor(lambda a, b: a + b, _add_fb),
    "broadcast_to": Floor(lambda x, shape: np.broadcast_to(x, shape), _broadcast_to_fb),
    "sum_to": Floor(lambda x, shape: _sum_to(x, tuple(shape)), _sum_to_fb),
    "matmul": Floor(lambda a, b: a @ b, _matmul_fb),
    "softmax": Floor(_softmax_f, _softmax_fb),
}
