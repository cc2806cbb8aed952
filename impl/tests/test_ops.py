"""Each op of impl.functions, forward and backward, against NumPy formulas, hand-computed values
and central differences, with non-uniform upstream gradients."""
import math

import numpy as np
import pytest

import impl.functions as F
from impl import Variable
from impl.tests.cases import CASES
from impl.tests.gradcheck import check_backward, numeric_grad

rng = np.random.default_rng(7)


def run(fn, *arrays, upstream=None):
    """fn on Variables of `arrays`, backpropagated from `upstream` (default: random)."""
    xs = [Variable(np.array(a, dtype=float)) for a in arrays]
    y = fn(*xs)
    w = rng.standard_normal(y.shape) if upstream is None else np.asarray(upstream, dtype=float)
    y.grad = Variable(w)
    y.backward()
    return y, [x.grad.data for x in xs], w


def unbroadcast(g, shape):
    """Plain-NumPy sum of `g` down to `shape` (leading dims, then size-1 dims)."""
    g = g.sum(axis=tuple(range(g.ndim - len(shape))))
    return g.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True)


@pytest.mark.parametrize("fn, arrays", CASES)
def test_backward_matches_central_differences(fn, arrays):
    check_backward(fn, *arrays)


def _first_order(fn, arrays, w):
    xs = [Variable(np.array(a, dtype=float)) for a in arrays]
    y = fn(*xs)
    y.grad = Variable(w)
    y.backward()
    return [x.grad.data for x in xs]


@pytest.mark.parametrize("fn, arrays", CASES)
def test_double_backward_matches_differences_of_the_gradient(fn, arrays):
    # Hessian-vector products from create_graph=True against central differences of the
    # (separately checked) first-order gradient along a random direction v.
    xs = [Variable(np.array(a, dtype=float)) for a in arrays]
    y = fn(*xs)
    w = rng.standard_normal(y.shape)
    y.grad = Variable(w)
    y.backward(create_graph=True)
    grads = [x.grad for x in xs]
    vs = [rng.standard_normal(x.shape) for x in xs]
    for x in xs:
        x.cleargrad()
    F.sum(sum(F.sum(g * Variable(v)) for g, v in zip(grads, vs))).backward()
    hv = [np.zeros(x.shape) if x.grad is None else x.grad.data for x in xs]

    eps = 1e-6
    up = _first_order(fn, [a + eps * v for a, v in zip(arrays, vs)], w)
    down = _first_order(fn, [a - eps * v for a, v in zip(arrays, vs)], w)
    for got, u, d in zip(hv, up, down):
        np.testing.assert_allclose(got, (u - d) / (2 * eps), rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------- elementwise

def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


UNARY = [
    ("exp", F.exp, np.exp, np.exp),
    ("log", F.log, np.log, lambda x: 1 / x),
    ("sin", F.sin, np.sin, np.cos),
    ("cos", F.cos, np.cos, lambda x: -np.sin(x)),
    ("tanh", F.tanh, np.tanh, lambda x: 1 - np.tanh(x) ** 2),
    ("sqrt", F.sqrt, np.sqrt, lambda x: 0.5 / np.sqrt(x)),
    ("square", F.square, np.square, lambda x: 2 * x),
    ("sigmoid", F.sigmoid, _sigmoid, lambda x: _sigmoid(x) * (1 - _sigmoid(x))),
    ("relu", F.relu, lambda x: np.maximum(x, 0), lambda x: (x > 0).astype(float)),
    ("neg", F.neg, np.negative, lambda x: -np.ones_like(x)),
    ("pow3", lambda x: x ** 3, lambda x: x ** 3, lambda x: 3 * x ** 2),
    ("pow-half", lambda x: x ** 0.5, np.sqrt, lambda x: 0.5 / np.sqrt(x)),
    ("pow-minus-one", lambda x: x ** -1, lambda x: 1 / x, lambda x: -1 / x ** 2),
]


@pytest.mark.parametrize("name, fn, forward, derivative", UNARY, ids=[u[0] for u in UNARY])
def test_unary_against_formula(name, fn, forward, derivative):
    x = np.array([[0.3, 1.7, 2.5], [0.9, 1.1, 3.0]])
    if name not in ("log", "sqrt", "pow-half", "pow-minus-one"):
        x = x * np.array([1, -1, 1])  # some negatives where the domain allows
    y, (gx,), w = run(fn, x)
    np.testing.assert_allclose(y.data, forward(x), rtol=1e-12)
    np.testing.assert_allclose(gx, w * derivative(x), rtol=1e-12)


def test_hand_computed_elementwise_values():
    y, (gx,), _ = run(F.exp, [0.0, 1.0], upstream=[2.0, 3.0])
    np.testing.assert_allclose(y.data, [1.0, math.e])
    np.testing.assert_allclose(gx, [2.0, 3 * math.e])
    y, (gx,), _ = run(F.sqrt, [4.0, 9.0], upstream=[1.0, 6.0])
    np.testing.assert_allclose(y.data, [2.0, 3.0])
    np.testing.assert_allclose(gx, [0.25, 1.0])
    y, (gx,), _ = run(F.sigmoid, [0.0], upstream=[4.0])
    np.testing.assert_allclose(y.data, [0.5])
    np.testing.assert_allclose(gx, [1.0])


def test_sigmoid_does_not_overflow():
    x = Variable(np.array([-1000.0, 1000.0]))
    with np.errstate(all="raise"):
        y = F.sigmoid(x)
        y.backward()
    np.testing.assert_array_equal(y.data, [0.0, 1.0])
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0])


def test_relu_gradient_is_zero_at_zero():
    y, (gx,), _ = run(F.relu, [-1.0, 0.0, 2.0], upstream=[5.0, 5.0, 5.0])
    np.testing.assert_array_equal(y.data, [0.0, 0.0, 2.0])
    np.testing.assert_array_equal(gx, [0.0, 0.0, 5.0])


def test_clip_passes_gradient_inside_including_bounds():
    y, (gx,), _ = run(lambda x: F.clip(x, -1.0, 2.0), [-3.0, -1.0, 0.5, 2.0, 7.0],
                      upstream=[1.0, 2.0, 3.0, 4.0, 5.0])
    np.testing.assert_array_equal(y.data, [-1.0, -1.0, 0.5, 2.0, 2.0])
    np.testing.assert_array_equal(gx, [0.0, 2.0, 3.0, 4.0, 0.0])
    y, (gx,), _ = run(lambda x: F.clip(x, 0.0, None), [-1.0, 1.0], upstream=[3.0, 3.0])
    np.testing.assert_array_equal(y.data, [0.0, 1.0])
    np.testing.assert_array_equal(gx, [0.0, 3.0])


BINARY = [
    ("add", F.add, np.add, lambda a, b: (np.ones_like(a), np.ones_like(b))),
    ("sub", F.sub, np.subtract, lambda a, b: (np.ones_like(a), -np.ones_like(b))),
    ("mul", F.mul, np.multiply, lambda a, b: (b, a)),
    ("div", F.div, np.divide, lambda a, b: (1 / b, -a / b ** 2)),
    ("pow", F.pow, np.power, lambda a, b: (b * a ** (b - 1), a ** b * np.log(a))),
]
SHAPES = [((2, 3), (2, 3)), ((2, 3), (3,)), ((3,), (2, 3)), ((2, 1), (1, 3)), ((), (2, 3)),
          ((4, 1, 3), (2, 1))]


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
@pytest.mark.parametrize("name, fn, forward, partials", BINARY, ids=[b[0] for b in BINARY])
def test_binary_with_broadcasting(name, fn, forward, partials, shapes):
    a = rng.uniform(0.5, 2.0, shapes[0])
    b = rng.uniform(0.5, 2.0, shapes[1])
    y, (ga, gb), w = run(fn, a, b)
    np.testing.assert_allclose(y.data, forward(a, b), rtol=1e-12)
    da, db = partials(*np.broadcast_arrays(a, b))
    assert ga.shape == a.shape and gb.shape == b.shape
    np.testing.assert_allclose(ga, unbroadcast(w * da, a.shape), rtol=1e-12)
    np.testing.assert_allclose(gb, unbroadcast(w * db, b.shape), rtol=1e-12)


def test_pow_with_variable_exponent_hand_computed():
    y, (ga, gb), _ = run(F.pow, [2.0, 3.0], [3.0, 2.0], upstream=[1.0, 2.0])
    np.testing.assert_allclose(y.data, [8.0, 9.0])
    np.testing.assert_allclose(ga, [12.0, 12.0])  # b a**(b-1) * upstream
    np.testing.assert_allclose(gb, [8 * math.log(2), 18 * math.log(3)])


def test_pow_exponent_gradient_at_zero_base_is_zero():
    y, (ga, gb), _ = run(F.pow, [0.0, 2.0], [2.0, 3.0], upstream=[1.0, 1.0])
    np.testing.assert_array_equal(y.data, [0.0, 8.0])
    np.testing.assert_allclose(ga, [0.0, 12.0])
    np.testing.assert_allclose(gb, [0.0, 8 * math.log(2)])


def test_pow_const_zero_exponent_has_zero_gradient():
    y, (gx,), _ = run(lambda x: x ** 0, [0.0, 2.0], upstream=[1.0, 1.0])
    np.testing.assert_array_equal(y.data, [1.0, 1.0])
    np.testing.assert_array_equal(gx, [0.0, 0.0])


def test_pow_const_array_exponent_zero_entries_have_zero_gradient():
    # As for a scalar exponent 0: d/dx x**0 is 0, also at x == 0 (not 0 * 0**-1).
    with np.errstate(divide="raise", invalid="raise"):
        y, (gx,), _ = run(lambda x: x ** np.array([0.0, 2.0, 0.0]), [0.0, 0.0, 3.0],
                          upstream=[1.0, 1.0, 1.0])
    np.testing.assert_array_equal(y.data, [1.0, 0.0, 1.0])
    np.testing.assert_array_equal(gx, [0.0, 0.0, 0.0])


def test_pow_const_array_exponent_sums_to_base_shape():
    c = np.array([[1.0, 2.0], [3.0, 0.5]])
    y, (gx,), w = run(lambda x: x ** c, [4.0, 9.0])
    np.testing.assert_allclose(y.data, np.array([4.0, 9.0]) ** c)
    np.testing.assert_allclose(gx, (w * c * np.array([4.0, 9.0]) ** (c - 1)).sum(axis=0))


def test_astype_forward_and_backward():
    x = Variable(np.array([1.5, 2.5]))
    y = F.astype(x, np.float32)
    assert y.dtype == np.float32
    y.grad = Variable(np.array([3.0, 4.0], dtype=np.float32))
    y.backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad.data, [3.0, 4.0])
    assert F.astype(x, np.float64) is x


# ----------------------------------------------------------------------------- sum and mean

def _expected_reduction_grad(w, shape, axes, keepdims):
    if not keepdims:
        w = np.expand_dims(w, axes)
    return np.broadcast_to(w, shape)


SUM_AXES = [
    ((2, 3, 4), None, False),
    ((2, 3, 4), 0, False),
    ((2, 3, 4), np.int64(1), False),
    ((2, 3, 4), -1, False),
    ((2, 3, 4), (0, 2), False),
    ((2, 3, 4), (2, 0), False),
    ((2, 3, 4), (-1, 0), True),
    ((2, 3, 4), [0, 1], False),
    ((2, 3, 4), (), False),
    ((2, 3, 4), (), True),
    ((2, 3, 4), None, True),
    ((2, 3, 4), 1, True),
    ((), None, False),
    ((), (), True),
    ((2, 0, 3), 1, False),
    ((2, 0, 3), 0, True),
    ((2, 0, 3), None, False),
]


def _normalized(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    return tuple(sorted(int(a) % ndim for a in axes))


@pytest.mark.parametrize("shape, axis, keepdims", SUM_AXES, ids=str)
def test_sum_axes(shape, axis, keepdims):
    x = rng.standard_normal(shape)
    y, (gx,), w = run(lambda v: F.sum(v, axis=axis, keepdims=keepdims), x)
    expected = np.sum(x, axis=tuple(axis) if isinstance(axis, list) else axis, keepdims=keepdims)
    assert y.shape == expected.shape
    np.testing.assert_allclose(y.data, expected, rtol=1e-12)
    np.testing.assert_array_equal(
        gx, _expected_reduction_grad(w, shape, _normalized(axis, len(shape)), keepdims))


@pytest.mark.parametrize("shape, axis, keepdims", [c for c in SUM_AXES if 0 not in c[0]], ids=str)
def test_mean_axes(shape, axis, keepdims):
    x = rng.standard_normal(shape)
    y, (gx,), w = run(lambda v: F.mean(v, axis=axis, keepdims=keepdims), x)
    axes = _normalized(axis, len(shape))
    expected = np.mean(x, axis=axes, keepdims=keepdims)
    np.testing.assert_allclose(y.data, expected, rtol=1e-12)
    count = math.prod(shape[a] for a in axes)
    np.testing.assert_allclose(gx, _expected_reduction_grad(w, shape, axes, keepdims) / count)


def test_average_is_mean():
    assert F.average is F.mean


def test_mean_hand_computed():
    y, (gx,), _ = run(lambda v: F.mean(v, axis=1), [[1.0, 2.0, 6.0], [0.0, 0.0, 3.0]],
                      upstream=[3.0, 6.0])
    np.testing.assert_array_equal(y.data, [3.0, 1.0])
    np.testing.assert_array_equal(gx, [[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]])


def test_mean_over_an_empty_axis_has_an_empty_gradient():
    x = Variable(np.zeros((0, 3)))
    with pytest.warns(RuntimeWarning, match="Mean of empty slice"), \
            np.errstate(invalid="ignore"):
        y = F.mean(x, axis=0)
    assert np.isnan(y.data).all()
    y.backward()
    assert x.grad.shape == (0, 3)


# ----------------------------------------------------------------------------- max and min

@pytest.mark.parametrize("fn, forward", [(F.max, np.max), (F.min, np.min)], ids=["max", "min"])
@pytest.mark.parametrize("axis, keepdims", [(None, False), (0, False), (-1, True), ((0, 1), False)])
def test_extremum_without_ties(fn, forward, axis, keepdims):
    x = rng.permutation(12).reshape(3, 4).astype(float)
    y, (gx,), w = run(lambda v: fn(v, axis=axis, keepdims=keepdims), x)
    expected = forward(x, axis=axis, keepdims=keepdims)
    np.testing.assert_array_equal(y.data, expected)
    hit = x == forward(x, axis=axis, keepdims=True)
    np.testing.assert_array_equal(
        gx, hit * _expected_reduction_grad(w, x.shape, _normalized(axis, 2), keepdims))


def test_max_ties_share_the_gradient():
    y, (gx,), _ = run(F.max, [1.0, 3.0, 3.0], upstream=1.0)
    assert y.data == 3.0
    np.testing.assert_array_equal(gx, [0.0, 0.5, 0.5])
    y, (gx,), _ = run(lambda v: F.max(v, axis=1), [[2.0, 2.0, 2.0], [1.0, 4.0, 0.0]],
                      upstream=[6.0, 1.0])
    np.testing.assert_array_equal(gx, [[2.0, 2.0, 2.0], [0.0, 1.0, 0.0]])


def test_min_ties_share_the_gradient():
    y, (gx,), _ = run(lambda v: F.min(v, axis=0), [[1.0, 5.0], [1.0, 3.0], [4.0, 3.0], [1.0, 9.0]],
                      upstream=[3.0, 2.0])
    np.testing.assert_array_equal(y.data, [1.0, 3.0])
    np.testing.assert_array_equal(gx, [[1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])


@pytest.mark.parametrize("fn", [F.max, F.min], ids=["max", "min"])
def test_extremum_nan_makes_its_group_gradient_nan(fn):
    x = [[1.0, np.nan, 3.0], [1.0, 2.0, 3.0]]
    y, (gx,), _ = run(lambda v: fn(v, axis=1), x, upstream=[1.0, 1.0])
    assert np.isnan(y.data[0]) and not np.isnan(y.data[1])
    assert np.isnan(gx[0]).all()
    expected_row = [0.0, 0.0, 1.0] if fn is F.max else [1.0, 0.0, 0.0]
    np.testing.assert_array_equal(gx[1], expected_row)


# ----------------------------------------------------------------------------- prod

@pytest.mark.parametrize("axis, keepdims", [(None, False), (0, False), (1, True), ((0, 2), False),
                                            ((), False)])
def test_prod_forward(axis, keepdims):
    x = rng.uniform(-2, 2, (2, 3, 2))
    y = F.prod(Variable(x), axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(y.data, np.prod(x, axis=axis, keepdims=keepdims), rtol=1e-12)


def _prod_grad(x, axis):
    """d prod(x, axis) / dx_j: the product of the other elements of j's group, by np.delete."""
    x = np.asarray(x, dtype=float)
    moved = np.moveaxis(x, axis, -1)
    out = np.empty_like(moved)
    for idx in np.ndindex(moved.shape):
        row = moved[idx[:-1]]
        out[idx] = np.prod(np.delete(row, idx[-1]))
    return np.moveaxis(out, -1, axis)


@pytest.mark.parametrize("x, expected", [
    ([2.0, 3.0, 4.0], [12.0, 8.0, 6.0]),
    ([2.0, 0.0, 3.0], [0.0, 6.0, 0.0]),
    ([0.0, 2.0, 0.0], [0.0, 0.0, 0.0]),
    ([0.0, 0.0], [0.0, 0.0]),
    ([5.0], [1.0]),
], ids=["no-zero", "one-zero", "two-zeros", "all-zeros", "single"])
def test_prod_gradient_with_zeros(x, expected):
    y, (gx,), _ = run(F.prod, x, upstream=2.0)
    assert y.data == np.prod(x)
    np.testing.assert_array_equal(gx, 2 * np.array(expected))


def test_prod_gradient_with_zeros_per_group():
    x = np.array([[2.0, 0.0, 3.0], [0.0, 4.0, 0.0], [1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]])
    y, (gx,), w = run(lambda v: F.prod(v, axis=1), x)
    np.testing.assert_array_equal(y.data, [0.0, 0.0, 6.0, -0.0])
    np.testing.assert_allclose(gx, w[:, None] * np.array([[0, 6, 0], [0, 0, 0], [6, 3, 2],
                                                          [0, 0, -0.5]]))
    np.testing.assert_allclose(gx, w[:, None] * _prod_grad(x, 1))


def test_prod_gradient_with_nan_infinity_and_overflow_is_the_ieee_product_of_the_others():
    # As JAX's running products: a division would turn a finite product of the others into NaN.
    x = np.array([[0.0, np.nan, 2.0], [np.nan, 1.0, 2.0], [0.0, 0.0, np.nan], [np.inf, 2.0, 3.0],
                  [0.0, np.inf, 2.0], [1e200, 1e200, 1e-200]])
    y, (gx,), w = run(lambda v: F.prod(v, axis=1), x, upstream=np.ones(6))
    np.testing.assert_array_equal(gx, [[np.nan, 0, np.nan], [2, np.nan, np.nan], [np.nan, np.nan, 0],
                                       [6, np.inf, np.inf], [np.inf, 0, np.nan], [1, 1, np.inf]])


def test_prod_over_a_tuple_of_axes_with_zeros():
    x = rng.uniform(0.5, 2, (2, 3, 2))
    x[0, 1, 1] = 0.0
    x[1, 0, 0] = x[1, 2, 1] = 0.0
    y, (gx,), w = run(lambda v: F.prod(v, axis=(2, 1)), x)
    np.testing.assert_allclose(y.data, np.prod(x, axis=(1, 2)))
    expected = _prod_grad(x.reshape(2, 6), 1).reshape(2, 3, 2) * w[:, None, None]
    np.testing.assert_allclose(gx, expected, rtol=1e-12)


@pytest.mark.parametrize("shape, axis", [((2, 0), 1), ((0, 3), 0), ((2, 0, 3), (0, 1))], ids=str)
def test_prod_of_an_empty_group_is_one_with_an_empty_gradient(shape, axis):
    x = Variable(np.ones(shape))
    y = F.prod(x, axis=axis)
    np.testing.assert_array_equal(y.data, np.prod(np.ones(shape), axis=axis))
    F.sum(y * y).backward(create_graph=True)
    assert x.grad.shape == shape
    g = x.grad
    x.cleargrad()
    F.sum(g).backward()
    assert x.grad.shape == shape


def _hessian_by_create_graph(fn, x):
    v = Variable(np.array(x, dtype=float))
    y = fn(v)
    y.backward(create_graph=True)
    g = v.grad
    rows = []
    for i in range(v.size):
        v.cleargrad()
        e = np.zeros(v.size)
        e[i] = 1.0
        F.sum(g * Variable(e.reshape(v.shape))).backward()
        rows.append(v.grad.data.ravel())
    return np.array(rows)


def _numeric_hessian(f, x, h=1e-3):
    x = np.array(x, dtype=float).ravel()
    n = x.size
    hess = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            def at(di, dj):
                z = x.copy()
                z[i] += di
                z[j] += dj
                return f(z)
            hess[i, j] = (at(h, h) - at(h, -h) - at(-h, h) + at(-h, -h)) / (4 * h * h)
    return hess


@pytest.mark.parametrize("x", [
    [[1.5, -2.0, 0.5], [3.0, 1.0, -1.0]],
    [[1.5, 0.0, 0.5], [3.0, 1.0, -1.0]],
    [[0.0, 0.0, 0.5], [3.0, 0.0, -1.0]],
], ids=["no-zero", "one-zero", "two-zeros"])
@pytest.mark.parametrize("axis", [None, 1, 0])
def test_prod_second_order_matches_numeric_hessian(x, axis):
    x = np.array(x)
    w = np.arange(1.0, 1.0 + np.prod(x, axis=axis).size).reshape(np.prod(x, axis=axis).shape)

    def f(v):
        return F.sum(F.prod(v, axis=axis) * Variable(w))

    hess = _hessian_by_create_graph(f, x)
    expected = _numeric_hessian(lambda z: np.sum(np.prod(z.reshape(x.shape), axis=axis) * w), x)
    np.testing.assert_allclose(hess, expected, atol=1e-8)


# ----------------------------------------------------------------------------- logsumexp, var, std

@pytest.mark.parametrize("axis, keepdims", [(None, False), (1, False), (0, True), ((0, 1), False)])
def test_logsumexp_forward_and_softmax_gradient(axis, keepdims):
    x = rng.standard_normal((3, 4))
    y, (gx,), w = run(lambda v: F.logsumexp(v, axis=axis, keepdims=keepdims), x)
    np.testing.assert_allclose(y.data, np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims)),
                               rtol=1e-12)
    softmax = np.exp(x) / np.sum(np.exp(x), axis=axis, keepdims=True)
    axes = _normalized(axis, 2)
    np.testing.assert_allclose(gx, _expected_reduction_grad(w, x.shape, axes, keepdims) * softmax,
                               rtol=1e-12)


def test_logsumexp_of_large_values_does_not_overflow():
    x = Variable(np.array([[1000.0, 1000.0], [-1000.0, 0.0]]))
    with np.errstate(over="raise"):
        y = F.logsumexp(x, axis=1)
        y.backward()
    np.testing.assert_allclose(y.data, [1000.0 + math.log(2), math.log1p(math.exp(-1000.0))])
    np.testing.assert_allclose(x.grad.data, [[0.5, 0.5], [0.0, 1.0]])


def test_var_hand_computed():
    y, (gx,), _ = run(F.var, [1.0, 2.0, 3.0, 4.0], upstream=1.0)
    assert y.data == 1.25
    np.testing.assert_allclose(gx, [-0.75, -0.25, 0.25, 0.75])
    y, (gx,), _ = run(lambda v: F.var(v, ddof=1), [1.0, 2.0, 3.0, 4.0], upstream=3.0)
    assert y.data == pytest.approx(5 / 3)
    np.testing.assert_allclose(gx, 3 * np.array([-1.5, -0.5, 0.5, 1.5]) * 2 / 3)


@pytest.mark.parametrize("fn, forward", [(F.var, np.var), (F.std, np.std)], ids=["var", "std"])
@pytest.mark.parametrize("axis, keepdims, ddof", [(None, False, 0), (0, False, 1), (-1, True, 0),
                                                  ((0, 2), False, 1), (1, False, 2)])
def test_var_std_against_numpy(fn, forward, axis, keepdims, ddof):
    x = rng.standard_normal((4, 3, 5))
    y, (gx,), w = run(lambda v: fn(v, axis=axis, keepdims=keepdims, ddof=ddof), x)
    expected = forward(x, axis=axis, keepdims=keepdims, ddof=ddof)
    np.testing.assert_allclose(y.data, expected, rtol=1e-12)
    axes = _normalized(axis, 3)
    n = math.prod(x.shape[a] for a in axes)
    centered = x - x.mean(axis=axes, keepdims=True)
    dvar = 2 * centered / (n - ddof)
    if fn is F.std:
        dvar = dvar / (2 * forward(x, axis=axes, keepdims=True, ddof=ddof))
    np.testing.assert_allclose(gx, _expected_reduction_grad(w, x.shape, axes, keepdims) * dvar,
                               rtol=1e-10)


# ----------------------------------------------------------------------------- broadcast_to, sum_to

@pytest.mark.parametrize("src, dst", [((3,), (2, 3)), ((2, 1), (2, 3)), ((1, 3), (4, 2, 3)),
                                      ((), (2, 2)), ((1, 1), (1, 1, 3, 2)), ((1, 3), (0, 3))],
                         ids=str)
def test_broadcast_to_and_sum_to_are_each_others_backward(src, dst):
    x = rng.standard_normal(src)
    y, (gx,), w = run(lambda v: F.broadcast_to(v, dst), x)
    np.testing.assert_array_equal(y.data, np.broadcast_to(x, dst))
    np.testing.assert_allclose(gx, unbroadcast(w, src), rtol=1e-12)

    g = rng.standard_normal(dst)
    s, (gg,), u = run(lambda v: F.sum_to(v, src), g)
    assert s.shape == src
    np.testing.assert_allclose(s.data, unbroadcast(g, src), rtol=1e-12)
    np.testing.assert_array_equal(gg, np.broadcast_to(u, dst))


def test_broadcast_to_and_sum_to_hand_computed():
    y, (gx,), _ = run(lambda v: F.broadcast_to(v, (2, 3)), [[1.0], [2.0]],
                      upstream=[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    np.testing.assert_array_equal(y.data, [[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]])
    np.testing.assert_array_equal(gx, [[6.0], [15.0]])
    y, (gx,), _ = run(lambda v: F.sum_to(v, (3,)), [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]],
                      upstream=[1.0, 10.0, 100.0])
    np.testing.assert_array_equal(y.data, [5.0, 7.0, 9.0])
    np.testing.assert_array_equal(gx, [[1.0, 10.0, 100.0], [1.0, 10.0, 100.0]])


def test_broadcast_to_and_sum_to_differentiate_into_each_other():
    x = Variable(np.ones((2, 1)))
    F.sum(F.broadcast_to(x, (2, 3)) * Variable(np.arange(6.0).reshape(2, 3))).backward(
        create_graph=True)
    assert type(x.grad.creator).__name__ == "SumTo"
    x = Variable(np.ones((2, 3)))
    F.sum(F.sum_to(x, (1, 3)) * Variable(np.arange(3.0))).backward(create_graph=True)
    assert type(x.grad.creator).__name__ == "BroadcastTo"


def test_same_shape_is_identity():
    x = Variable(np.ones((2, 3)))
    assert F.broadcast_to(x, (2, 3)) is x
    assert F.sum_to(x, (2, 3)) is x
    assert F.reshape(x, (2, 3)) is x


# ----------------------------------------------------------------------------- reshape and friends

@pytest.mark.parametrize("shape, target, expected", [
    ((2, 3), (3, 2), (3, 2)),
    ((2, 3), (-1,), (6,)),
    ((2, 3), (3, -1), (3, 2)),
    ((2, 3), 6, (6,)),
    ((2, 3), [1, 6, 1], (1, 6, 1)),
    ((), (1, 1), (1, 1)),
    ((0, 3), (3, 0), (3, 0)),
], ids=str)
def test_reshape(shape, target, expected):
    x = rng.standard_normal(shape)
    y, (gx,), w = run(lambda v: F.reshape(v, target), x)
    assert y.shape == expected
    np.testing.assert_array_equal(y.data, x.reshape(target))
    np.testing.assert_array_equal(gx, w.reshape(shape))


@pytest.mark.parametrize("axes, fn", [
    (None, lambda v: F.transpose(v)),
    ((1, 0, 2), lambda v: F.transpose(v, (1, 0, 2))),
    ((2, 0, 1), lambda v: F.transpose(v, [-1, 0, -2])),
    ((1, 2, 0), lambda v: v.transpose(1, 2, 0)),
    ((0, 2, 1), lambda v: v.transpose((0, -1, 1))),
    (None, lambda v: v.T),
    (None, lambda v: v.transpose()),
], ids=["function-none", "function-tuple", "function-negative", "method-varargs",
        "method-tuple", "T", "method-none"])
def test_transpose(axes, fn):
    x = rng.standard_normal((2, 3, 4))
    y, (gx,), w = run(fn, x)
    np.testing.assert_array_equal(y.data, np.transpose(x, axes))
    inverse = None if axes is None else np.argsort(axes)
    np.testing.assert_array_equal(gx, np.transpose(w, inverse))


def test_transpose_2d_hand_computed():
    y, (gx,), _ = run(lambda v: v.T, [[1.0, 2.0, 3.0]], upstream=[[4.0], [5.0], [6.0]])
    np.testing.assert_array_equal(y.data, [[1.0], [2.0], [3.0]])
    np.testing.assert_array_equal(gx, [[4.0, 5.0, 6.0]])


@pytest.mark.parametrize("shape, axis, expected", [
    ((2, 3), -1, (2, 3, 1)),
    ((2, 3), 0, (1, 2, 3)),
    ((2, 3), 1, (2, 1, 3)),
    ((2, 3), (0, -1), (1, 2, 3, 1)),
    ((2, 3), (3, 0), (1, 2, 3, 1)),
    ((), 0, (1,)),
], ids=str)
def test_expand_dims(shape, axis, expected):
    x = rng.standard_normal(shape)
    y, (gx,), w = run(lambda v: F.expand_dims(v, axis), x)
    assert y.shape == expected == np.expand_dims(x, axis).shape
    np.testing.assert_array_equal(y.data, np.expand_dims(x, axis))
    np.testing.assert_array_equal(gx, w.reshape(shape))


@pytest.mark.parametrize("shape, axis, expected", [
    ((1, 3, 1), None, (3,)),
    ((1, 3, 1), 0, (3, 1)),
    ((1, 3, 1), -1, (1, 3)),
    ((1, 3, 1), (0, 2), (3,)),
    ((2, 3), None, (2, 3)),
    ((1, 1), None, ()),
], ids=str)
def test_squeeze(shape, axis, expected):
    x = rng.standard_normal(shape)
    y, (gx,), w = run(lambda v: F.squeeze(v, axis), x)
    assert y.shape == expected == np.squeeze(x, axis).shape
    np.testing.assert_array_equal(gx, w.reshape(shape))


@pytest.mark.parametrize("shape", [(2, 3, 4), (5,), (), (0, 2)], ids=str)
def test_flatten_is_ravel(shape):
    x = rng.standard_normal(shape)
    y, (gx,), w = run(F.flatten, x)
    assert y.ndim == 1
    np.testing.assert_array_equal(y.data, np.ravel(x))
    np.testing.assert_array_equal(gx, w.reshape(shape))


# ----------------------------------------------------------------------------- get_item

X34 = np.arange(12.0).reshape(3, 4)

INDICES = [
    1, -1, np.int64(2),
    (1, 2), (-1, -2),
    slice(None, None, 2), slice(None, None, -1), (slice(None), slice(3, 0, -2)),
    Ellipsis, (Ellipsis, 1), (None, 0), (Ellipsis, None, slice(1, 3)),
    np.array([0, 0, 2]), [2, 2, 2, 0], (np.array([1, 1, 0]), slice(1, None)),
    (np.array([0, 0]), np.array([3, 3])), (slice(None), np.array([[1, 1], [0, 3]])),
    np.array([True, False, True]), X34 > 5, (np.array([False, True, True]), 2),
    (slice(None), np.array([True, False, False, True])),
]


@pytest.mark.parametrize("index", INDICES, ids=repr)
def test_get_item_forward_and_scatter_backward(index):
    y, (gx,), w = run(lambda v: v[index], X34)
    np.testing.assert_array_equal(y.data, X34[index])
    expected = np.zeros_like(X34)
    np.add.at(expected, index, w)  # repeats accumulate
    np.testing.assert_array_equal(gx, expected)


def test_get_item_repeats_accumulate_hand_computed():
    y, (gx,), _ = run(lambda v: v[np.array([0, 0, 2, 0])], [10.0, 20.0, 30.0],
                      upstream=[1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(y.data, [10.0, 10.0, 30.0, 10.0])
    np.testing.assert_array_equal(gx, [7.0, 0.0, 3.0])


def test_get_item_with_a_variable_index_and_the_function_form():
    x = Variable(X34.copy())
    y = F.get_item(x, Variable(np.array([2, 2])))
    np.testing.assert_array_equal(y.data, X34[[2, 2]])
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [[0] * 4, [0] * 4, [2] * 4])


def test_get_item_second_order():
    x = Variable(np.array([1.0, 2.0, 3.0]))
    y = F.sum(x[np.array([0, 0, 2])] ** 2)
    y.backward(create_graph=True)
    gx = x.grad
    np.testing.assert_array_equal(gx.data, [4.0, 0.0, 6.0])
    x.cleargrad()
    F.sum(gx * Variable(np.array([1.0, 10.0, 100.0]))).backward()
    np.testing.assert_array_equal(x.grad.data, [4.0, 0.0, 200.0])


# ----------------------------------------------------------------------------- matmul, linear

MATMUL_SHAPES = [((3,), (3,)), ((3,), (3, 4)), ((2, 3), (3,)), ((2, 3), (3, 4)),
                 ((5, 2, 3), (5, 3, 4)), ((2, 1, 2, 3), (3, 3, 4)), ((5, 2, 3), (3, 4)),
                 ((3,), (2, 3, 4)), ((2, 3, 4), (4,)), ((1, 2, 3), (4, 3, 1))]


def _matmul_grads(a, b, w):
    """Plain-NumPy matmul gradients: promote 1-D operands, multiply, sum broadcast batch dims."""
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    w2 = w.reshape(batch + (a2.shape[-2], b2.shape[-1]))
    ga = unbroadcast(w2 @ np.swapaxes(b2, -1, -2), a2.shape)
    gb = unbroadcast(np.swapaxes(a2, -1, -2) @ w2, b2.shape)
    return ga.reshape(a.shape), gb.reshape(b.shape)


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul(shapes):
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    y, (ga, gb), w = run(F.matmul, a, b)
    np.testing.assert_allclose(y.data, np.matmul(a, b), rtol=1e-12)
    expected_a, expected_b = _matmul_grads(a, b, w)
    np.testing.assert_allclose(ga, expected_a, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gb, expected_b, rtol=1e-10, atol=1e-12)


def test_matmul_hand_computed():
    y, (ga, gb), _ = run(F.matmul, [[1.0, 2.0], [3.0, 4.0]], [[5.0], [6.0]],
                         upstream=[[1.0], [2.0]])
    np.testing.assert_array_equal(y.data, [[17.0], [39.0]])
    np.testing.assert_array_equal(ga, [[5.0, 6.0], [10.0, 12.0]])
    np.testing.assert_array_equal(gb, [[7.0], [10.0]])
    y, (ga, gb), _ = run(F.matmul, [1.0, 2.0], [3.0, 4.0], upstream=2.0)
    assert y.data == 11.0
    np.testing.assert_array_equal(ga, [6.0, 8.0])
    np.testing.assert_array_equal(gb, [2.0, 4.0])


def test_linear():
    x, W, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)
    y, (gx, gW, gb), w = run(F.linear, x, W, b)
    np.testing.assert_allclose(y.data, x @ W + b, rtol=1e-12)
    np.testing.assert_allclose(gx, w @ W.T, rtol=1e-12)
    np.testing.assert_allclose(gW, x.T @ w, rtol=1e-12)
    np.testing.assert_allclose(gb, w.sum(axis=0), rtol=1e-12)
    y, (gx, gW), w = run(F.linear, x, W)
    np.testing.assert_allclose(y.data, x @ W, rtol=1e-12)
    np.testing.assert_allclose(gW, x.T @ w, rtol=1e-12)


# ----------------------------------------------------------------------------- softmax and losses

def _np_softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("axis", [None, -1, 0, 1, (0, 2)], ids=str)
def test_softmax_and_log_softmax(axis):
    x = rng.standard_normal((2, 3, 4))
    if axis is None:
        fn_s, fn_l, np_axis = F.softmax, F.log_softmax, -1  # the default axis is -1
    else:
        fn_s = lambda v: F.softmax(v, axis=axis)  # noqa: E731
        fn_l = lambda v: F.log_softmax(v, axis=axis)  # noqa: E731
        np_axis = axis
    s = _np_softmax(x, np_axis)

    y, (gx,), w = run(fn_s, x)
    np.testing.assert_allclose(y.data, s, rtol=1e-12)
    np.testing.assert_allclose(gx, s * (w - np.sum(w * s, axis=np_axis, keepdims=True)),
                               rtol=1e-10, atol=1e-14)

    y, (gx,), w = run(fn_l, x)
    np.testing.assert_allclose(y.data, np.log(s), rtol=1e-12)
    np.testing.assert_allclose(gx, w - s * np.sum(w, axis=np_axis, keepdims=True), rtol=1e-10)


def test_softmax_hand_computed_and_stable():
    y, (gx,), _ = run(F.softmax, [[0.0, 0.0], [1000.0, 1000.0 + math.log(3)]],
                      upstream=[[1.0, 0.0], [0.0, 0.0]])
    np.testing.assert_allclose(y.data, [[0.5, 0.5], [0.25, 0.75]])
    np.testing.assert_allclose(gx, [[0.25, -0.25], [0.0, 0.0]])
    y = F.log_softmax(Variable(np.array([-1000.0, 0.0, 1000.0])))
    np.testing.assert_allclose(y.data, [-2000.0, -1000.0, 0.0])


def test_mean_squared_error_is_summed_then_divided_by_len():
    x0 = np.array([[1.0, 2.0], [3.0, 4.0], [0.0, 0.0]])
    x1 = np.array([[1.0, 0.0], [0.0, 4.0], [1.0, 1.0]])
    y, (g0, g1), _ = run(F.mean_squared_error, x0, x1, upstream=3.0)
    assert y.data == pytest.approx((4 + 9 + 1 + 1) / 3)
    np.testing.assert_allclose(g0, 3 * 2 * (x0 - x1) / 3)
    np.testing.assert_allclose(g1, -3 * 2 * (x0 - x1) / 3)
    y, (g0, g1), _ = run(F.mean_squared_error, [1.0, 3.0], [0.0, 0.0], upstream=1.0)
    assert y.data == 5.0
    np.testing.assert_allclose(g0, [1.0, 3.0])


def test_softmax_cross_entropy():
    x = rng.standard_normal((4, 3))
    t = np.array([2, 0, 1, 2])
    y, (gx,), _ = run(lambda v: F.softmax_cross_entropy(v, t), x, upstream=2.0)
    log_p = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
    assert y.shape == ()
    np.testing.assert_allclose(y.data, -log_p[np.arange(4), t].mean(), rtol=1e-12)
    onehot = np.eye(3)[t]
    np.testing.assert_allclose(gx, 2 * (np.exp(log_p) - onehot) / 4, rtol=1e-10)


def test_softmax_cross_entropy_hand_computed():
    x = Variable(np.array([[0.0, 0.0], [math.log(3), 0.0]]))
    y = F.softmax_cross_entropy(x, Variable(np.array([0, 1])))
    assert y.data == pytest.approx((math.log(2) + math.log(4)) / 2)
    y.backward()
    np.testing.assert_allclose(x.grad.data, [[-0.25, 0.25], [0.375, -0.375]])


def test_numeric_grad_helper():
    (g,) = numeric_grad(lambda a: float(np.sum(a ** 3)), np.array([1.0, -2.0]))
    np.testing.assert_allclose(g, [3.0, 12.0], rtol=1e-8)
