"""Fuzzing the public API with invalid and edge input (hypothesis).

Every call must either return a Variable whose data matches NumPy's forward semantics (shape,
dtype and values), or raise one of the documented exceptions (ValueError, of which NumPy's
AxisError is one, or TypeError; IndexError for indexing, as NumPy) with a clear message, or
the very exception NumPy raises for the same call (ZeroDivisionError for the variance of an empty
object array): never
a crash deep inside, a hang, a wrong shape, or an unrelated error such as `TypeError: '>='
not supported between instances of 'tuple' and 'int'`. Where a float call succeeds, its
backward must run too and give every input a gradient of the input's shape and dtype.

The examples are derandomized (the same in every run); `IMPL_FUZZ_EXAMPLES=5000` and
`IMPL_FUZZ_RANDOM=1` make a longer, fresh search.
"""
import math
import os
import re
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import impl.functions as F
from impl import Variable

pytestmark = pytest.mark.timeout(600)  # a hang fails with a traceback, not a stuck run

FUZZ = settings(
    max_examples=int(os.environ.get("IMPL_FUZZ_EXAMPLES", "150")),
    derandomize=not os.environ.get("IMPL_FUZZ_RANDOM"),
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much],
)
DOCUMENTED = (ValueError, TypeError)   # np.exceptions.AxisError is a ValueError
# Python's own wording for a type confusion deep inside: never an acceptable message of ours.
INTERNAL = re.compile(r"not supported between instances of|unsupported operand type|"
                      r"object (has no attribute|is not (iterable|subscriptable|callable))|"
                      r"unhashable type|cannot unpack|positional argument|referenced before assignment|"
                      r"list index out of range|tuple index out of range|integer modulo by zero")


# ----------------------------------------------------------------------------- strategies

FLOAT_SPECIALS = (0.0, -0.0, 1.0, -1.0, np.nan, np.inf, -np.inf, 1e300, -1e300, 1e-310, 88.0, 710.0)
DTYPES = ("float32", "float64", "int32", "int64", "bool", "complex128", "object")


@st.composite
def shapes(draw, max_rank=5, max_dim=4):
    if draw(st.integers(0, 9)) == 0:
        # high rank (up to 32): mostly size-1 dims, a few of size 2 or 0
        rank = draw(st.integers(6, 32))
        return tuple(draw(st.lists(st.sampled_from((1, 1, 1, 1, 2, 0)), min_size=rank, max_size=rank)))
    rank = draw(st.integers(0, max_rank))
    return tuple(draw(st.lists(st.integers(0, max_dim), min_size=rank, max_size=rank)))


@st.composite
def arrays(draw, dtypes=DTYPES, shape=None, specials=True):
    shape = draw(shapes()) if shape is None else shape
    dtype = draw(st.sampled_from(dtypes))
    size = math.prod(shape)
    assume(size <= 256)
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if dtype in ("int32", "int64"):
        data = rng.integers(-5, 6, size=shape).astype(dtype)
    elif dtype == "bool":
        data = rng.random(shape) < 0.5
    else:
        values = rng.standard_normal(shape) * draw(st.sampled_from((1.0, 3.0, 100.0)))
        if specials and size and draw(st.booleans()):
            flat = values.reshape(-1)
            for _ in range(draw(st.integers(1, 3))):
                flat[draw(st.integers(0, size - 1))] = draw(st.sampled_from(FLOAT_SPECIALS))
        if dtype == "complex128":
            data = values + 1j * rng.standard_normal(shape)
        elif dtype == "object":
            data = values.astype(object)
        else:
            with np.errstate(over="ignore"):
                data = values.astype(dtype)
    return np.asarray(data).reshape(shape)


JUNK = (None, "0", b"0", 1.5, np.float64(1.0), True, np.bool_(False), [0], [[0]], ((0,),), {0}, {0: 1},
        object(), 1j, slice(0, 1), Ellipsis, np.array([0, 1]), np.array(0.5), [0, None], (0, "1"),
        (0, 1.0), (True,), 2**70, -2**70)


def axes_for(ndim):
    """Valid and invalid axis arguments: in and out of range, repeated and aliased, unsorted,
    lists, NumPy ints, and things that are not ints at all (floats, bools, strings, nested)."""
    valid = st.integers(-ndim, ndim - 1) if ndim else st.nothing()
    any_int = st.integers(-ndim - 3, ndim + 3)
    return st.one_of(
        st.none(),
        valid, any_int,
        st.tuples(*[any_int] * 2), st.tuples(*[valid] * 2) if ndim else st.nothing(),
        st.lists(any_int, max_size=4).map(tuple),
        st.lists(valid, max_size=ndim, unique_by=lambda a: a % max(ndim, 1)).map(tuple) if ndim else st.just(()),
        st.lists(any_int, max_size=3),
        valid.map(np.int64) if ndim else st.nothing(),
        st.sampled_from(JUNK),
    )


# ----------------------------------------------------------------------------- the oracle

def outcome(fn, *args, **kwargs):
    try:
        # NaN from empty means and the like is part of the semantics compared, not a problem.
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return fn(*args, **kwargs), None
    except Exception as error:  # noqa: BLE001 - classified by the caller
        return None, error


def assert_clear(error, numpy_error=None, allowed=DOCUMENTED):
    """`error` is a documented exception with a message that says what went wrong."""
    assert isinstance(error, allowed), \
        f"undocumented exception {type(error).__name__}: {error} (allowed: " \
        f"{', '.join(a.__name__ for a in allowed)})"
    message = str(error)
    assert len(message) >= 12, f"{type(error).__name__} with an unhelpful message: {message!r}"
    if numpy_error is None or str(numpy_error) != message:
        assert not INTERNAL.search(message), \
            f"an internal error leaked out: {type(error).__name__}: {message}"


def assert_matches(got, want, what):
    assert isinstance(got, Variable), f"{what}: returned {type(got).__name__}, not a Variable"
    assert isinstance(got.data, np.ndarray), f"{what}: data is a {type(got.data).__name__}"
    want = np.asarray(want)
    assert got.shape == want.shape, f"{what}: shape {got.shape}, NumPy gives {want.shape}"
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype}, NumPy gives {want.dtype}"
    if want.dtype.kind in "fc":
        scale = 1e-4 if want.dtype in (np.float32, np.complex64) else 1e-9
        np.testing.assert_allclose(got.data, want, rtol=scale, atol=scale, equal_nan=True,
                                   err_msg=what)
    elif want.dtype.kind in "iub":
        np.testing.assert_array_equal(got.data, want, err_msg=what)
    elif want.dtype == object:
        with np.errstate(all="ignore"):
            g, w = got.data.astype(np.complex128), want.astype(np.complex128)
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-9, equal_nan=True, err_msg=what)


def assert_backward(y, inputs, what):
    """A float result's backward runs and gives each float input a gradient like itself."""
    if not isinstance(y, Variable) or y.dtype.kind != "f":
        return
    floats = [x for x in inputs if isinstance(x, Variable) and x.dtype.kind == "f"]
    if not floats:
        return
    _, error = outcome(y.backward)
    assert error is None, f"{what}: backward raised {type(error).__name__}: {error}"
    for x in floats:
        assert x.grad is not None, f"{what}: an input got no gradient"
        assert x.grad.shape == x.shape, f"{what}: gradient shape {x.grad.shape}, input {x.shape}"
        assert x.grad.dtype == x.dtype, f"{what}: gradient dtype {x.grad.dtype}, input {x.dtype}"


def check(impl_call, numpy_call, what, inputs=(), allowed=DOCUMENTED, rejects=False):
    """Compare one call with NumPy's: both succeed and agree, or the implementation raises a
    documented, clear exception. `rejects=True`: the implementation documents rejecting this
    input even where NumPy accepts it (e.g. a bool axis that NumPy reads as an int)."""
    want, numpy_error = outcome(numpy_call)
    got, error = outcome(impl_call)
    if error is not None:
        if numpy_error is not None and type(error) is type(numpy_error) \
                and str(error) == str(numpy_error):
            return None   # NumPy's own error for the same call (e.g. var of an empty object array)
        assert_clear(error, numpy_error, allowed)
        assert numpy_error is not None or rejects, \
            f"{what}: NumPy accepts this (result shape {np.shape(want)}), the implementation " \
            f"raised {type(error).__name__}: {error}"
        return None
    assert numpy_error is None, \
        f"{what}: NumPy rejects this ({type(numpy_error).__name__}: {numpy_error}), the " \
        f"implementation returned {got!r:.200}"
    assert_matches(got, want, what)
    assert_backward(got, inputs, what)
    return got


def numpy_axis(axis):
    """NumPy's spelling of an axis the implementation also documents: lists as tuples."""
    if isinstance(axis, list):
        return tuple(axis)
    return axis


def is_bool_axis(axis):
    items = axis if isinstance(axis, (tuple, list)) else (axis,)
    return any(isinstance(a, (bool, np.bool_)) for a in items)


def documented_axis_rejection(axis, ndim):
    """Where the implementation documents rejecting what NumPy accepts: a bool axis (NumPy
    would read True as 1), and an axis on a 0-d array (NumPy's reductions take 0 and -1 there;
    JAX and the implementation do not: a 0-d array has no axes)."""
    if is_bool_axis(axis):
        return True
    return ndim == 0 and axis is not None and not (isinstance(axis, (tuple, list)) and not axis)


def numpy_keepdims(keepdims):
    """NumPy takes a Python bool; the implementation documents NumPy bools too."""
    return bool(keepdims) if isinstance(keepdims, np.bool_) else keepdims


# ----------------------------------------------------------------------------- reductions

def _np_logsumexp(x, axis=None, keepdims=False):
    if x.dtype.kind not in "f":
        x = x.astype(np.float64)
    return np.logaddexp.reduce(x, axis=axis, keepdims=keepdims)


REDUCTIONS = {
    "sum": (F.sum, np.sum, DTYPES),
    "mean": (F.mean, np.mean, DTYPES),
    "max": (F.max, np.max, DTYPES),
    "min": (F.min, np.min, DTYPES),
    "prod": (F.prod, np.prod, DTYPES),
    "var": (F.var, np.var, DTYPES),
    "std": (F.std, np.std, ("float32", "float64", "int32", "int64", "bool")),
    "logsumexp": (F.logsumexp, _np_logsumexp, ("float32", "float64", "int32", "int64", "bool")),
}


@pytest.mark.parametrize("name", list(REDUCTIONS))
@FUZZ
@given(data=st.data())
def test_reductions(name, data):
    fn, np_fn, dtypes = REDUCTIONS[name]
    x = data.draw(arrays(dtypes=dtypes), label="x")
    axis = data.draw(axes_for(x.ndim), label="axis")
    keepdims = data.draw(st.sampled_from((False, True, np.True_, 0, 1, None, "yes")), label="keepdims")
    v = Variable(x.copy())
    check(lambda: fn(v, axis=axis, keepdims=keepdims),
          lambda: np_fn(x, axis=numpy_axis(axis), keepdims=numpy_keepdims(keepdims)),
          f"{name}({x.dtype}{x.shape}, axis={axis!r}, keepdims={keepdims!r})", [v],
          rejects=documented_axis_rejection(axis, x.ndim) or not isinstance(keepdims, (bool, np.bool_)))


@FUZZ
@given(data=st.data())
def test_var_ddof(data):
    x = data.draw(arrays(dtypes=("float32", "float64", "int32")), label="x")
    axis = data.draw(axes_for(x.ndim), label="axis")
    ddof = data.draw(st.sampled_from((0, 1, 2, 5, 0.5, -1, np.int64(1), True, "1", None, [1])))
    v = Variable(x.copy())
    bad_ddof = isinstance(ddof, (bool, str, list, type(None)))
    check(lambda: F.var(v, axis=axis, ddof=ddof),
          lambda: np.var(x, axis=numpy_axis(axis), ddof=ddof),
          f"var({x.dtype}{x.shape}, axis={axis!r}, ddof={ddof!r})", [v],
          rejects=documented_axis_rejection(axis, x.ndim) or bad_ddof)


def _np_softmax(x, axis):
    x = x.astype(np.float64) if x.dtype.kind != "f" else x
    with np.errstate(all="ignore"):
        shift = np.max(x, axis=axis, keepdims=True) if x.size else np.zeros((), x.dtype)
        shift = np.where(np.isfinite(shift), shift, 0)
        e = np.exp(x - shift)
        return e / np.sum(e, axis=axis, keepdims=True)


def _np_log_softmax(x, axis):
    x = x.astype(np.float64) if x.dtype.kind != "f" else x
    with np.errstate(all="ignore"):
        return x - np.logaddexp.reduce(x, axis=axis, keepdims=True)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@FUZZ
@given(data=st.data())
def test_softmax_axes(name, data):
    x = data.draw(arrays(dtypes=("float32", "float64", "int64")), label="x")
    axis = data.draw(axes_for(x.ndim), label="axis")
    v = Variable(x.copy())
    fn = getattr(F, name)
    want = (lambda: _np_softmax(x, numpy_axis(axis))) if name == "softmax" else \
        (lambda: _np_log_softmax(x, numpy_axis(axis)))
    check(lambda: fn(v, axis=axis), want, f"{name}({x.dtype}{x.shape}, axis={axis!r})", [v],
          rejects=documented_axis_rejection(axis, x.ndim))


# ----------------------------------------------------------------------------- shapes

def target_shapes(base_ndim=3):
    dims = st.integers(-3, 6)
    return st.one_of(
        st.lists(dims, max_size=5).map(tuple), st.lists(dims, max_size=4), dims,
        st.lists(st.sampled_from((1, 2, 3, 0)), min_size=6, max_size=33).map(tuple),
        st.sampled_from(JUNK), st.sampled_from(((2, 3.0), (2, "3"), ((2,), 3), (2, None), (True, 2),
                                               (2**62, 2**62), (-1, -1), (2**70,))),
    )


def _np_sum_to(x, shape):
    """sum_to by NumPy's broadcasting rule: the sum over the dims that broadcasting `shape` to
    `x.shape` adds or expands (the identity, x itself, when the shapes are equal)."""
    if isinstance(shape, (bool, np.bool_)) or not isinstance(shape, (int, np.integer, tuple, list)):
        raise TypeError(f"shape must be ints, got {shape!r}")
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if any(isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) for n in shape):
        raise TypeError(f"shape must be ints, got {shape!r}")
    if any(n < 0 for n in shape):
        raise ValueError("negative dim")
    np.broadcast_shapes(shape, x.shape)
    if np.broadcast_shapes(shape, x.shape) != x.shape:
        raise ValueError(f"{x.shape} cannot be summed to {shape}")
    if shape == x.shape:
        return x
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1)
    return np.sum(x, axis=axes, keepdims=True).reshape(shape)


def documented_shape_rejection(shape):
    """A shape that is not an int or a tuple/list of ints, a bool dim (NumPy reads True as 1),
    and a negative dim other than a single -1 (NumPy 2 reads any negative dim as 'infer'; the
    implementation, as JAX, allows only -1)."""
    if not isinstance(shape, (int, np.integer, tuple, list)):
        return True   # NumPy reads None as "keep the shape", bytes as a sequence of ints, ...
    items = shape if isinstance(shape, (tuple, list)) else (shape,)
    return any(isinstance(n, (bool, np.bool_)) or (isinstance(n, (int, np.integer)) and n < -1)
               for n in items)


@pytest.mark.parametrize("name", ["broadcast_to", "sum_to", "reshape"])
@FUZZ
@given(data=st.data())
def test_shape_targets(name, data):
    x = data.draw(arrays(dtypes=("float32", "float64", "int32", "bool")), label="x")
    shape = data.draw(target_shapes(), label="shape")
    fn = getattr(F, name)
    np_fn = {"broadcast_to": np.broadcast_to, "sum_to": _np_sum_to, "reshape": np.reshape}[name]
    if name == "broadcast_to":
        want, _ = outcome(np.broadcast_to, x, numpy_axis(shape))
        assume(want is None or want.size <= 10_000)   # values are compared below
    v = Variable(x.copy())
    check(lambda: fn(v, shape), lambda: np_fn(x, numpy_axis(shape)),
          f"{name}({x.dtype}{x.shape}, {shape!r})", [v], rejects=documented_shape_rejection(shape))


@FUZZ
@given(data=st.data())
def test_transpose_axes(data):
    x = data.draw(arrays(dtypes=("float32", "float64", "int32")), label="x")
    n = x.ndim
    perm = st.permutations(range(n)).map(lambda p: tuple(a - n if i % 2 else a for i, a in enumerate(p)))
    axes = data.draw(st.one_of(st.none(), perm, perm.map(list), axes_for(n)), label="axes")
    v = Variable(x.copy())
    # NumPy also takes an int array of axes; the implementation documents tuples and lists.
    check(lambda: F.transpose(v, axes), lambda: np.transpose(x, numpy_axis(axes)),
          f"transpose({x.dtype}{x.shape}, {axes!r})", [v],
          rejects=is_bool_axis(axes) or isinstance(axes, (int, np.integer, np.ndarray)))


@pytest.mark.parametrize("name", ["expand_dims", "squeeze"])
@FUZZ
@given(data=st.data())
def test_expand_dims_and_squeeze(name, data):
    x = data.draw(arrays(dtypes=("float32", "float64", "int32")), label="x")
    axis = data.draw(axes_for(x.ndim + 1), label="axis")
    v = Variable(x.copy())
    fn, np_fn = getattr(F, name), getattr(np, name)
    check(lambda: fn(v, axis), lambda: np_fn(x, numpy_axis(axis)),
          f"{name}({x.dtype}{x.shape}, {axis!r})", [v],
          rejects=documented_axis_rejection(axis, x.ndim))


@FUZZ
@given(x=arrays(dtypes=("float32", "float64", "int32", "bool", "complex128")))
def test_flatten(x):
    v = Variable(x.copy())
    check(lambda: F.flatten(v), lambda: np.ravel(x), f"flatten({x.dtype}{x.shape})", [v])


INDEXES = st.one_of(
    st.integers(-6, 6), st.slices(6), st.none(), st.just(Ellipsis),
    st.tuples(st.integers(-6, 6), st.slices(6)), st.tuples(st.just(Ellipsis), st.integers(-4, 4)),
    st.lists(st.integers(-6, 6), max_size=4).map(np.array),
    st.sampled_from((1.5, "a", [0, 1], (0, 0, 0, 0, 0, 0), np.array([True]), np.array(0.5), {0},
                     (None, None, Ellipsis, Ellipsis))),
)


@FUZZ
@given(data=st.data())
def test_get_item(data):
    x = data.draw(arrays(dtypes=("float32", "float64", "int32")), label="x")
    index = data.draw(INDEXES, label="index")
    v = Variable(x.copy())
    check(lambda: v[index], lambda: x[index], f"({x.dtype}{x.shape})[{index!r}]", [v],
          allowed=DOCUMENTED + (IndexError,))


# ----------------------------------------------------------------------------- elementwise

UNARY = {
    "exp": (F.exp, np.exp), "log": (F.log, np.log), "sin": (F.sin, np.sin), "cos": (F.cos, np.cos),
    "tanh": (F.tanh, np.tanh), "sqrt": (F.sqrt, np.sqrt), "square": (F.square, np.square),
    "relu": (F.relu, lambda x: np.maximum(x, 0)), "neg": (lambda v: -v, np.negative),
    "sigmoid": (F.sigmoid, lambda x: np.tanh(x * 0.5) * 0.5 + 0.5),
}


@pytest.mark.parametrize("name", list(UNARY))
@FUZZ
@given(x=arrays(dtypes=("float32", "float64", "int32", "int64", "complex128")))
def test_unary(name, x):
    fn, np_fn = UNARY[name]
    v = Variable(x.copy())
    check(lambda: fn(v), lambda: np_fn(x), f"{name}({x.dtype}{x.shape})", [v])


@FUZZ
@given(x=arrays(dtypes=("float32", "float64", "int32")),
       bounds=st.tuples(st.sampled_from((None, -1.0, 0.0, 1, np.nan, np.inf, "a")),
                        st.sampled_from((None, 1.0, 0.0, -1, np.nan, -np.inf, [1]))))
def test_clip(x, bounds):
    lo, hi = bounds
    v = Variable(x.copy())
    # clip(x, None, None) is documented as a ValueError (NumPy 2 returns x unchanged).
    check(lambda: F.clip(v, lo, hi), lambda: np.clip(x, lo, hi),
          f"clip({x.dtype}{x.shape}, {lo!r}, {hi!r})", [v], rejects=lo is None and hi is None)


OPERANDS = st.one_of(
    arrays(dtypes=("float32", "float64", "int32", "bool", "complex128")),
    st.sampled_from((2, 0.5, -1, True, 1j, np.float32(2), np.int64(3), np.float64(np.nan))),
)
BINARY = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
          "div": lambda a, b: a / b, "pow": lambda a, b: a ** b}


@pytest.mark.parametrize("name", list(BINARY))
@FUZZ
@given(data=st.data())
def test_binary_broadcasting(name, data):
    a = data.draw(arrays(dtypes=("float32", "float64", "int32", "bool")), label="a")
    b = data.draw(st.one_of(OPERANDS, arrays(shape=a.shape[data.draw(st.integers(0, a.ndim))
                                                         if a.ndim else 0:],
                                          dtypes=("float32", "float64", "int32"))), label="b")
    op = BINARY[name]
    va = Variable(a.copy())
    vb = Variable(b.copy()) if isinstance(b, np.ndarray) else b
    if name == "pow" and not isinstance(b, np.ndarray):
        pass  # x ** scalar: a constant exponent
    want = (lambda: op(a, b))
    check(lambda: op(va, vb), want, f"{name}({a.dtype}{a.shape}, {getattr(b, 'dtype', type(b).__name__)}"
          f"{getattr(b, 'shape', '')})", [va, vb])


@FUZZ
@given(data=st.data())
def test_matmul_shapes(data):
    dims = st.integers(0, 3)
    def shape():
        return st.lists(dims, max_size=4).map(tuple)
    a = data.draw(arrays(dtypes=("float32", "float64", "int32"), shape=data.draw(shape())), label="a")
    b = data.draw(arrays(dtypes=("float32", "float64", "int32"), shape=data.draw(shape())), label="b")
    va, vb = Variable(a.copy()), Variable(b.copy())
    check(lambda: va @ vb, lambda: np.matmul(a, b), f"matmul({a.dtype}{a.shape}, {b.dtype}{b.shape})",
          [va, vb])


# ----------------------------------------------------------------------------- losses

@FUZZ
@given(data=st.data())
def test_softmax_cross_entropy_labels(data):
    n, c = data.draw(st.integers(0, 4)), data.draw(st.integers(1, 4))
    x = np.random.default_rng(0).standard_normal((n, c))
    labels = data.draw(st.one_of(
        st.lists(st.integers(-2, c + 1), min_size=n, max_size=n).map(np.array),
        st.lists(st.integers(0, c - 1), min_size=0, max_size=n + 1).map(np.array),
        st.just(np.zeros(n, dtype=float)), st.just(np.zeros((n, 1), dtype=int)),
        st.sampled_from((None, "a", [0] * n, 0)),
    ), label="labels")
    v = Variable(x)
    array = np.asarray(labels)   # documented: anything np.asarray makes integer labels of
    labels_ok = array.shape == (n,) and array.dtype.kind in "iu" \
        and (n == 0 or (array.min() >= 0 and array.max() < c))

    def want():
        if not labels_ok:
            raise ValueError("bad labels")
        logp = np.log(_np_softmax(x, 1))
        return np.asarray(-np.sum(logp[np.arange(n), array]) / n)

    check(lambda: F.softmax_cross_entropy(v, labels), want,
          f"softmax_cross_entropy({x.shape}, {labels!r})", [v])


@FUZZ
@given(a=arrays(dtypes=("float32", "float64")), b=arrays(dtypes=("float32", "float64")))
def test_mean_squared_error_shapes(a, b):
    va, vb = Variable(a.copy()), Variable(b.copy())

    def want():
        d = a - b
        if d.ndim == 0:
            raise ValueError("0-d")
        return np.asarray(np.sum(d ** 2) / len(d))

    check(lambda: F.mean_squared_error(va, vb), want, f"mse({a.shape}, {b.shape})", [va, vb])


# ----------------------------------------------------------------------------- not arrays at all

NOT_ARRAYS = (None, "abc", b"abc", [1.0, 2.0], (1.0, 2.0), {"a": 1}, {1.0}, object(), Ellipsis,
              slice(1), np.float64, Variable(None))
CALLS = {
    "sum": lambda x: F.sum(x), "mean": lambda x: F.mean(x, axis=0), "max": lambda x: F.max(x),
    "var": lambda x: F.var(x), "logsumexp": lambda x: F.logsumexp(x), "exp": F.exp, "log": F.log,
    "relu": F.relu, "clip": lambda x: F.clip(x, 0, 1), "reshape": lambda x: F.reshape(x, (2,)),
    "transpose": F.transpose, "broadcast_to": lambda x: F.broadcast_to(x, (2,)),
    "sum_to": lambda x: F.sum_to(x, ()), "expand_dims": lambda x: F.expand_dims(x, 0),
    "squeeze": F.squeeze, "flatten": F.flatten, "softmax": F.softmax,
    "matmul_left": lambda x: F.matmul(x, Variable(np.ones(2))),
    "matmul_right": lambda x: F.matmul(Variable(np.ones(2)), x),
    "add": lambda x: Variable(np.ones(2)) + x, "radd": lambda x: x + Variable(np.ones(2)),
    "pow": lambda x: Variable(np.ones(2)) ** x, "mse": lambda x: F.mean_squared_error(x, x),
    "linear": lambda x: F.linear(Variable(np.ones((1, 2))), Variable(np.ones((2, 2))), x),
}


# ids by type: repr(object()) holds an address, which differs between xdist workers
@pytest.mark.parametrize("junk", NOT_ARRAYS, ids=lambda v: f"{type(v).__name__}-{v!r:.20}"
                         if type(v) is not object else "object")
@pytest.mark.parametrize("name", list(CALLS))
def test_non_array_data_is_a_clear_type_error(name, junk):
    _, error = outcome(CALLS[name], junk)
    if junk is None and name == "linear":
        assert error is None   # linear's bias is optional
        return
    assert error is not None, f"{name}({junk!r}) returned a result"
    assert_clear(error, allowed=(TypeError,))


@pytest.mark.parametrize("data", [[1, 2], "ab", None, 1.0, np.float32(1), range(3)], ids=repr)
def test_variable_rejects_or_accepts_data_clearly(data):
    v, error = outcome(Variable, data)
    if error is not None:
        assert_clear(error, allowed=(TypeError,))
    else:
        assert data is None or isinstance(v.data, np.ndarray)


# ----------------------------------------------------------------------------- what fuzzing found

def test_an_operand_without_data_is_a_type_error():
    x = Variable(None, name="w")
    for call in (F.exp, F.sum, lambda v: v + 1, lambda v: F.matmul(v, v), F.flatten):
        with pytest.raises(TypeError, match=r"without data \(None\).*'w'"):
            call(x)


def test_logsumexp_and_softmax_of_bool_arrays():
    x = np.array([[True, False], [False, False]])
    np.testing.assert_allclose(F.logsumexp(Variable(x)).data, np.log(np.e + 3))
    np.testing.assert_allclose(F.softmax(Variable(x), axis=None).data.sum(), 1.0)


def test_expand_dims_rejects_a_none_axis():
    with pytest.raises(TypeError, match="expand_dims: axis must be an int or a tuple of ints, got None"):
        F.expand_dims(Variable(np.ones((2, 3))), None)


@pytest.mark.parametrize("base", [0.0, 2.0])
def test_pow_of_a_0d_base_differentiates_the_exponent(base):
    x, c = Variable(np.array(base)), Variable(np.array(3.0))
    (x ** c).backward()
    np.testing.assert_allclose(c.grad.data, 0.0 if base == 0 else base ** 3 * np.log(base))


def test_clip_with_array_bounds_that_broadcast_the_input():
    x = Variable(np.array(0.5))
    y = F.clip(x, np.array([0.0, 0.6]), None)     # output (2,): [0.5, 0.6]
    y.backward()
    assert y.shape == (2,) and x.grad.shape == ()
    assert x.grad.data == 1.0                      # only the first element passes x through


@pytest.mark.parametrize("scalar", [np.float32(1.5), np.float16(0.5), np.float64(2.0), np.int32(3)],
                         ids=lambda s: type(s).__name__)
@pytest.mark.parametrize("name", ["exp", "sin", "sqrt", "tanh", "relu", "sum"])
def test_numpy_scalar_operands_keep_their_dtype(name, scalar):
    """A NumPy scalar alone (no Variable beside it to take a dtype from) keeps its own dtype."""
    fn = getattr(F, name)
    want = {"relu": lambda s: np.maximum(s, 0), "sum": np.sum}.get(name) or getattr(np, name)
    with np.errstate(all="ignore"):
        assert fn(scalar).dtype == np.asarray(want(scalar)).dtype
