"""dtypes follow NumPy: float32 stays float32 through forward and backward; integer inputs
compute forward as NumPy does and get integer gradients where the derivative is integral."""
import numpy as np
import pytest

import impl.functions as F
from impl import Variable, no_grad
from impl.tests.cases import CASES


def _graph_functions(y):
    seen, stack = [], [y.creator]
    while stack:
        f = stack.pop()
        if f is None or any(f is g for g in seen):
            continue
        seen.append(f)
        stack.extend(x.creator for x in f.inputs)
    return seen


@pytest.mark.parametrize("fn, arrays", CASES)
def test_float32_in_float32_out_and_float32_gradients(fn, arrays):
    xs = [Variable(np.asarray(a, dtype=np.float32)) for a in arrays]
    y = fn(*xs)
    assert y.dtype == np.float32
    y.backward()
    for x in xs:
        assert x.grad.dtype == np.float32

    ref = [Variable(np.asarray(a, dtype=np.float64)) for a in arrays]
    y64 = fn(*ref)
    y64.backward()
    np.testing.assert_allclose(y.data, y64.data, rtol=1e-4, atol=1e-5)
    for x, r in zip(xs, ref):
        np.testing.assert_allclose(x.grad.data, r.grad.data, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("fn, arrays", CASES)
def test_no_backward_upcasts_float32(fn, arrays):
    # The reverse pass casts a gradient to its input's dtype; each Function's backward should not
    # need that: given float32 gradients it returns float32 ones for float32 inputs.
    y = fn(*[Variable(np.asarray(a, dtype=np.float32)) for a in arrays])
    for f in _graph_functions(y):
        gys = [Variable(np.ones(o().shape, o().dtype)) for o in f.outputs]
        with no_grad():
            gxs = f.backward(*gys)
        gxs = gxs if isinstance(gxs, tuple) else (gxs,)
        for x, gx in zip(f.inputs, gxs):
            if gx is not None and x.dtype == np.float32:
                assert gx.dtype == np.float32, type(f).__name__


def test_float32_higher_order_stays_float32():
    x = Variable(np.array([0.5, 1.5], dtype=np.float32))
    y = F.sum(F.tanh(x) * x ** 3)
    y.backward(create_graph=True)
    gx = x.grad
    assert gx.dtype == np.float32
    x.cleargrad()
    F.sum(gx).backward()
    assert x.grad.dtype == np.float32


def test_sum_of_int32_is_int64_as_in_numpy():
    data = np.array([1, 2, 3], dtype=np.int32)
    y = F.sum(Variable(data))
    assert y.dtype == np.sum(data).dtype == np.int64
    assert y.data == 6


def test_integer_gradients():
    x = Variable(np.array([[1, 2, 3], [4, 5, 6]]))
    y = F.sum(x, axis=1)
    y.backward()
    assert x.grad.dtype == np.int64
    np.testing.assert_array_equal(x.grad.data, np.ones((2, 3), dtype=int))

    x = Variable(np.array([1, 2, 3]))
    y = F.sum(x * 2 + x ** 2 - x[np.array([0, 0])].sum())  # the last term is counted 3 times
    y.backward()
    assert x.grad.dtype.kind == "i"
    np.testing.assert_array_equal(x.grad.data, [2 + 2 - 3 * 2, 2 + 4, 2 + 6])

    a = Variable(np.array([[1, 2], [3, 4]]))
    b = Variable(np.array([[5], [6]]))
    y = F.matmul(a, b)
    np.testing.assert_array_equal(y.data, [[17], [39]])
    y.backward()
    assert a.grad.dtype.kind == "i" and b.grad.dtype.kind == "i"
    np.testing.assert_array_equal(a.grad.data, [[5, 6], [5, 6]])
    np.testing.assert_array_equal(b.grad.data, [[4], [6]])


def test_int32_gradient_is_integral():
    x = Variable(np.array([1, 2], dtype=np.int32))
    F.sum(x * 3).backward()
    assert x.grad.dtype.kind == "i"
    np.testing.assert_array_equal(x.grad.data, [3, 3])


INT = np.array([[3, -1, 4], [1, 5, -9]], dtype=np.int32)


@pytest.mark.parametrize("fn, reference", [
    (lambda x: x + 2, lambda a: a + 2),
    (lambda x: x * x, lambda a: a * a),
    (lambda x: -x, lambda a: -a),
    (lambda x: x - x[0], lambda a: a - a[0]),
    (lambda x: x / 2, lambda a: a / 2),
    (lambda x: x ** 2, lambda a: a ** 2),
    (lambda x: F.sum(x, axis=0), lambda a: np.sum(a, axis=0)),
    (lambda x: F.mean(x), np.mean),
    (lambda x: F.max(x, axis=1), lambda a: np.max(a, axis=1)),
    (lambda x: F.min(x), np.min),
    (lambda x: F.prod(x, axis=1), lambda a: np.prod(a, axis=1)),
    (lambda x: F.var(x), np.var),
    (lambda x: F.exp(x), np.exp),
    (lambda x: F.relu(x), lambda a: np.maximum(a, 0)),
    (lambda x: F.clip(x, 0, 4), lambda a: np.clip(a, 0, 4)),
    (lambda x: x.T, lambda a: a.T),
    (lambda x: F.reshape(x, (3, 2)), lambda a: a.reshape(3, 2)),
    (lambda x: F.broadcast_to(x, (2, 2, 3)), lambda a: np.broadcast_to(a, (2, 2, 3))),
    (lambda x: F.sum_to(x, (1, 3)), lambda a: a.sum(axis=0, keepdims=True)),
    (lambda x: x[:, ::2], lambda a: a[:, ::2]),
    (lambda x: x @ x.T, lambda a: a @ a.T),
    (lambda x: F.astype(x, np.float32), lambda a: a.astype(np.float32)),
], ids=["add", "mul", "neg", "sub", "div", "pow", "sum", "mean", "max", "min", "prod", "var", "exp",
        "relu", "clip", "T", "reshape", "broadcast_to", "sum_to", "get_item", "matmul", "astype"])
def test_integer_forward_matches_numpy(fn, reference):
    y = fn(Variable(INT.copy()))
    expected = reference(INT.copy())
    assert y.dtype == expected.dtype
    np.testing.assert_array_equal(y.data, expected)


def test_an_integer_input_keeps_a_float_gradient_where_the_derivative_is_not_integral():
    # The engine casts gradients back to float inputs' dtypes only: an integer input's float
    # gradient is not truncated.
    x = Variable(np.array([0, 1, 2]))
    y = F.exp(x) * 0.5
    y.backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad.data, 0.5 * np.exp([0, 1, 2]))
