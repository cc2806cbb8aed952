"""Variable, Function and the reverse pass: graph structure, memory, backward order, config,
higher-order derivatives and the operator overloads."""
import gc
import math
import operator
import weakref

import numpy as np
import pytest

import impl.functions as F
from impl import Config, Function, Variable, as_variable, no_grad, using_config
from impl.tests.collector import no_cycle_collector


@pytest.fixture
def no_gc():
    """Freeing must happen by reference counting alone: no cycle collector to tidy up."""
    with no_cycle_collector():
        yield


class Spy(Function):
    """Identity that records every upstream gradient its backward receives."""

    def __init__(self, log):
        self.log = log

    def forward(self, x):
        return x

    def backward(self, gy):
        self.log.append(gy.data.copy())
        return gy


# ----------------------------------------------------------------------------- Variable

def test_variable_attributes():
    data = np.arange(6, dtype=np.float32).reshape(2, 3)
    x = Variable(data, name="x")
    assert x.data is data
    assert x.name == "x"
    assert x.grad is None
    assert x.creator is None
    assert x.generation == 0
    assert x.shape == (2, 3)
    assert x.ndim == 2
    assert x.size == 6
    assert x.dtype == np.float32
    assert len(x) == 2


def test_variable_defaults_and_none_data():
    x = Variable(None)
    assert x.data is None and x.name is None and x.grad is None and x.creator is None
    assert Variable(np.array(3.0)).shape == ()


@pytest.mark.parametrize("value, type_name", [
    ([1, 2, 3], "list"),
    (1, "int"),
    (1.5, "float"),
    (np.float64(1.5), "float64"),
    ((1, 2), "tuple"),
], ids=["list", "int", "float", "np.float64", "tuple"])
def test_variable_rejects_non_arrays_naming_the_type(value, type_name):
    with pytest.raises(TypeError, match=f"got {type_name}:"):
        Variable(value)


def test_as_variable():
    x = Variable(np.array(1.0))
    assert as_variable(x) is x
    a = np.array([1, 2])
    assert as_variable(a).data is a
    assert as_variable(2.0).data.shape == ()
    assert as_variable(2, like=np.ones(2, np.float32)).dtype == np.float32
    with pytest.raises(TypeError, match="list"):
        as_variable([1, 2])


def test_cleargrad():
    x = Variable(np.array(3.0))
    y = x * x
    y.backward()
    assert x.grad.data == 6.0
    x.cleargrad()
    assert x.grad is None


def test_unchain_cuts_only_the_link_to_the_creator():
    x = Variable(np.array(2.0))
    a = F.exp(x)
    y = F.square(a)
    a.unchain()
    assert a.creator is None
    assert y.creator is not None
    y.backward()
    assert x.grad is None
    # `a` is now a leaf, so it keeps its gradient.
    assert a.grad.data == pytest.approx(2 * np.exp(2.0))


def test_unchain_backward_cuts_the_whole_graph_behind():
    x = Variable(np.array(2.0))
    a = F.exp(x)
    b = F.sin(a)
    c = a + b
    y = F.square(c)
    y.unchain_backward()
    assert [v.creator for v in (y, c, b, a)] == [None] * 4
    y.backward()
    assert x.grad is None


def test_unchain_backward_on_a_leaf_is_a_no_op():
    x = Variable(np.array(2.0))
    x.unchain_backward()
    assert x.creator is None


# ----------------------------------------------------------------------------- memory

def test_function_holds_its_outputs_weakly(no_gc):
    x = Variable(np.ones(3))
    y = F.exp(x)
    f = y.creator
    assert isinstance(f.outputs[0], weakref.ref) and f.outputs[0]() is y
    y_ref, f_ref = weakref.ref(y), weakref.ref(f)
    del y, f
    assert y_ref() is None and f_ref() is None


def test_dropping_the_output_frees_the_graph_and_its_inputs(no_gc):
    x = Variable(np.ones(3))
    a = F.exp(x)
    y = F.sin(a) * a
    refs = [weakref.ref(v) for v in (x, a, a.creator, y.creator)]
    del x, a
    assert all(r() is not None for r in refs)  # kept alive by the graph behind y
    del y
    assert [r() for r in refs] == [None] * len(refs)


def test_backward_leaves_no_reference_cycles(no_gc):
    x = Variable(np.random.default_rng(0).standard_normal((3, 4)))
    h = F.tanh(x @ np.ones((4, 4))) ** 2 + F.max(x, axis=0) * F.prod(x[1:], axis=0)
    y = F.sum(F.softmax(h) * h) / F.logsumexp(x)
    y.backward(retain_grad=True)
    refs = [weakref.ref(v) for v in (x, h, y, h.creator, y.creator)]
    del x, h, y
    assert [r() for r in refs] == [None] * len(refs)
    assert gc.collect() == 0


def test_no_grad_graph_holds_nothing(no_gc):
    x = Variable(np.ones(3))
    with no_grad():
        y = F.exp(x) * 2
    assert y.creator is None
    x_ref = weakref.ref(x)
    del x
    assert x_ref() is None


# ----------------------------------------------------------------------------- generations, order

def test_generations():
    x = Variable(np.array(1.0))
    a = F.square(x)
    b = F.exp(a)
    c = a + b
    assert (x.generation, a.generation, b.generation, c.generation) == (0, 1, 2, 3)
    assert (a.creator.generation, b.creator.generation, c.creator.generation) == (0, 1, 2)


def test_diamond_graph_gradient():
    # y = (x**2)**2 + (x**2)**2 = 2 x**4, dy/dx = 8 x**3
    x = Variable(np.array(2.0))
    a = x ** 2
    y = a ** 2 + a ** 2
    y.backward()
    assert y.data == 32.0
    assert x.grad.data == 64.0


def test_a_node_runs_once_after_all_its_gradients_arrived():
    # Two branches of different lengths meet again; the shared node must see their sum.
    log = []
    x = Variable(np.array(3.0))
    a = Spy(log)(x * 1.0)
    long_branch = F.exp(F.sin(F.cos(a)))
    short_branch = a * 2.0
    y = long_branch + short_branch
    y.backward()
    v = 3.0
    expected = math.exp(math.sin(math.cos(v))) * math.cos(math.cos(v)) * -math.sin(v) + 2.0
    assert len(log) == 1
    assert log[0] == pytest.approx(expected)
    assert x.grad.data == pytest.approx(expected)


def test_gradients_accumulate_across_uses():
    x = Variable(np.array(3.0))
    y = x + x
    y.backward()
    assert x.grad.data == 2.0
    x = Variable(np.array(3.0))
    y = x * x * x
    y.backward()
    assert x.grad.data == 27.0


def test_gradients_accumulate_across_backward_calls_until_cleared():
    x = Variable(np.array(3.0))
    (x * 2.0).backward()
    (x * 5.0).backward()
    assert x.grad.data == 7.0
    x.cleargrad()
    (x * 5.0).backward()
    assert x.grad.data == 5.0


def test_accumulation_does_not_alias_other_gradients():
    # y = x0 + x1 hands the same gradient object to both; a later += must not leak into x1.
    x0, x1 = Variable(np.array(1.0)), Variable(np.array(1.0))
    t = x0 + x1
    y = t + x0
    y.backward(retain_grad=True)
    assert x0.grad.data == 2.0
    assert x1.grad.data == 1.0
    assert t.grad.data == 1.0


def test_retain_grad():
    x = Variable(np.array(2.0))
    a = F.square(x)
    y = F.exp(a)
    y.backward()
    assert a.grad is None and y.grad is None
    assert x.grad.data == pytest.approx(np.exp(4.0) * 4.0)
    x.cleargrad()
    y = F.exp(F.square(x))
    a = y.creator.inputs[0]
    y.backward(retain_grad=True)
    assert y.grad.data == 1.0
    assert a.grad.data == pytest.approx(np.exp(4.0))
    assert x.grad.data == pytest.approx(np.exp(4.0) * 4.0)


def test_backward_seed_is_ones_or_the_given_cotangent():
    x = Variable(np.array([1.0, 2.0]))
    y = x * 3.0
    y.backward(retain_grad=True)
    assert y.grad.data.dtype == np.float64
    np.testing.assert_array_equal(y.grad.data, [1.0, 1.0])
    x.cleargrad()
    y = x * 3.0
    y.grad = Variable(np.array([10.0, -1.0]))
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [30.0, -3.0])


def test_backward_on_a_leaf_only_seeds_it():
    x = Variable(np.array([1.0, 2.0]))
    x.backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0])


# ----------------------------------------------------------------------------- config

def test_no_grad_builds_no_graph():
    x = Variable(np.array(2.0))
    with no_grad():
        assert Config.enable_backprop is False
        y = F.exp(x * x)
    assert Config.enable_backprop is True
    assert y.creator is None and y.generation == 0
    y = F.exp(x * x)
    assert y.creator is not None


def test_using_config_restores_after_an_exception():
    with pytest.raises(RuntimeError):
        with using_config("enable_backprop", False):
            assert Config.enable_backprop is False
            raise RuntimeError("boom")
    assert Config.enable_backprop is True


def test_using_config_nests():
    with no_grad():
        with using_config("enable_backprop", True):
            assert Config.enable_backprop is True
        assert Config.enable_backprop is False
    assert Config.enable_backprop is True


def test_using_config_rejects_unknown_settings():
    with pytest.raises(AttributeError, match="train"):
        with using_config("train", False):
            pass


def test_backward_restores_enable_backprop():
    x = Variable(np.array(2.0))
    (x * x).backward(create_graph=True)
    assert Config.enable_backprop is True
    (x * x).backward()
    assert Config.enable_backprop is True


def test_backward_without_create_graph_builds_no_gradient_graph():
    x = Variable(np.array(2.0))
    (x ** 3).backward()
    assert x.grad.creator is None
    x.cleargrad()
    (x ** 3).backward(create_graph=True)
    assert x.grad.creator is not None


# ----------------------------------------------------------------------------- higher order

def test_higher_order_derivatives_of_x4():
    # y = x**4: 4x**3 = 32, 12x**2 = 48, 24x = 48, 24, 0 at x = 2
    x = Variable(np.array(2.0))
    y = x ** 4
    got = []
    for _ in range(5):
        y.backward(create_graph=True)
        y = x.grad
        x.cleargrad()
        got.append(float(y.data))
    assert got == [32.0, 48.0, 48.0, 24.0, 0.0]


@pytest.mark.parametrize("v", [0.3, 1.0, 2.5, -1.2])
def test_double_backward_of_sin(v):
    x = Variable(np.array(v))
    y = F.sin(x)
    y.backward(create_graph=True)
    gx = x.grad
    assert gx.data == pytest.approx(math.cos(v))
    x.cleargrad()
    gx.backward()
    assert x.grad.data == pytest.approx(-math.sin(v))


def test_newton_method_with_double_backward():
    # DeZero step 33: f(x) = x**4 - 2 x**2 from x = 2, using f'' from double backward.
    def step(x):
        return x - (4 * x ** 3 - 4 * x) / (12 * x ** 2 - 4)

    x = Variable(np.array(2.0))
    expected = 2.0
    for _ in range(10):
        y = x ** 4 - 2 * x ** 2
        x.cleargrad()
        y.backward(create_graph=True)
        gx = x.grad
        x.cleargrad()
        gx.backward()
        gx2 = x.grad
        x.data = x.data - gx.data / gx2.data
        expected = step(expected)
        assert x.data == pytest.approx(expected, rel=1e-12)
    assert x.data == pytest.approx(1.0)


def test_gradient_of_a_gradient_with_two_inputs():
    # z = x**2 * y; dz/dx = 2xy; d/dy of (dz/dx) = 2x
    x, y = Variable(np.array(3.0)), Variable(np.array(5.0))
    z = x ** 2 * y
    z.backward(create_graph=True)
    gx = x.grad
    assert gx.data == 30.0
    x.cleargrad()
    y.cleargrad()
    gx.backward()
    assert y.grad.data == 6.0
    assert x.grad.data == 10.0  # d(2xy)/dx = 2y


# ----------------------------------------------------------------------------- deep graphs

CHAIN = 100_000


def test_long_chain_backpropagates_and_frees_without_recursion(no_gc):
    x = Variable(np.array(1.0))
    y = x
    for _ in range(CHAIN):
        y = y + 1.0
    assert y.generation == CHAIN
    y.backward()
    assert y.data == CHAIN + 1
    assert x.grad.data == 1.0
    first = y
    for _ in range(CHAIN - 1):
        first = first.creator.inputs[0]
    assert first.creator.inputs[0] is x
    first_func = weakref.ref(first.creator)
    del first
    # Dropping the end frees 100,000 Functions and Variables by reference counting alone.
    del y
    assert first_func() is None


def test_long_chain_of_exp_backpropagates_and_unchains():
    # y_k = exp(y_(k-1)) - 1 stays at 0 from x = 0, with derivative exp(0) = 1 at every step.
    x = Variable(np.array(0.0))
    y = x
    for _ in range(CHAIN // 2):
        y = F.exp(y) - 1.0
    y.backward()
    assert y.data == 0.0
    assert x.grad.data == 1.0
    y.unchain_backward()
    assert y.creator is None


# ----------------------------------------------------------------------------- operators

A = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
B = np.array([0.5, -2.0, 4.0])


@pytest.mark.parametrize("expr, expected, grad_a, grad_b", [
    (lambda a, b: a + b, A + B, np.ones_like(A), np.full(3, 2.0)),
    (lambda a, b: a - b, A - B, np.ones_like(A), np.full(3, -2.0)),
    (lambda a, b: a * b, A * B, np.broadcast_to(B, A.shape), A.sum(axis=0)),
    (lambda a, b: a / b, A / B, np.broadcast_to(1 / B, A.shape), (-A / B ** 2).sum(axis=0)),
    (lambda a, b: b - a, B - A, -np.ones_like(A), np.full(3, 2.0)),
    (lambda a, b: b / a, B / A, -B / A ** 2, (1 / A).sum(axis=0)),
], ids=["add", "sub", "mul", "div", "rsub", "rdiv"])
def test_binary_operators(expr, expected, grad_a, grad_b):
    a, b = Variable(A.copy()), Variable(B.copy())
    y = expr(a, b)
    assert isinstance(y, Variable)
    np.testing.assert_allclose(y.data, expected)
    y.backward()
    np.testing.assert_allclose(a.grad.data, grad_a)
    np.testing.assert_allclose(b.grad.data, grad_b)


def test_power_and_matmul_and_neg_operators():
    x = Variable(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal((x ** 2).data, [1.0, 4.0, 9.0])
    np.testing.assert_array_equal((2.0 ** x).data, [2.0, 4.0, 8.0])
    np.testing.assert_array_equal((-x).data, [-1.0, -2.0, -3.0])
    assert (x @ x).data == 14.0
    m = Variable(np.eye(3) * 2)
    np.testing.assert_array_equal((m @ x).data, [2.0, 4.0, 6.0])


@pytest.mark.parametrize("op", [operator.add, operator.sub, operator.mul, operator.truediv,
                                operator.pow], ids=lambda op: op.__name__)
@pytest.mark.parametrize("other", [2.0, 3, np.array([1.0, 2.0, 4.0])],
                         ids=["float", "int", "ndarray"])
def test_reflected_operators_match_numpy(op, other):
    data = np.array([1.0, 2.0, 3.0])
    x = Variable(data)
    left, right = op(x, other), op(other, x)
    assert isinstance(left, Variable) and isinstance(right, Variable)
    np.testing.assert_allclose(left.data, op(data, other))
    np.testing.assert_allclose(right.data, op(other, data))


def test_ndarray_on_the_left_defers_to_variable():
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    x = Variable(np.array([[1.0, 0.0], [0.0, 1.0]]))
    for y in (a + x, a - x, a * x, a / (x + 1), a ** x, a @ x):
        assert isinstance(y, Variable)
    y = a @ x
    np.testing.assert_array_equal(y.data, a)
    F.sum(y).backward()
    np.testing.assert_array_equal(x.grad.data, a.T @ np.ones((2, 2)))


def test_numpy_scalar_on_the_left_defers_to_variable():
    x = Variable(np.array([1.0, 2.0]))
    y = np.float64(3.0) * x
    assert isinstance(y, Variable)
    np.testing.assert_array_equal(y.data, [3.0, 6.0])


def test_neg_backward():
    x = Variable(np.array([1.0, -2.0]))
    y = -x
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [-1.0, -1.0])


def test_getitem_operator():
    x = Variable(np.arange(6.0).reshape(2, 3))
    y = x[1]
    np.testing.assert_array_equal(y.data, [3.0, 4.0, 5.0])
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [[0, 0, 0], [1, 1, 1]])


def test_variable_methods_mirror_functions():
    data = np.arange(24.0).reshape(2, 3, 4)
    x = Variable(data)
    assert x.reshape(6, 4).shape == (6, 4)
    assert x.reshape((4, 6)).shape == (4, 6)
    assert x.transpose().shape == (4, 3, 2)
    assert x.transpose(1, 0, 2).shape == (3, 2, 4)
    assert x.transpose((2, 0, 1)).shape == (4, 2, 3)
    assert x.transpose(None).shape == (4, 3, 2)
    assert x.T.shape == (4, 3, 2)
    np.testing.assert_array_equal(x.sum(axis=1).data, data.sum(axis=1))
    np.testing.assert_array_equal(x.mean(axis=-1, keepdims=True).data,
                                  data.mean(axis=-1, keepdims=True))
    np.testing.assert_array_equal(x.max(axis=0).data, data.max(axis=0))
    np.testing.assert_array_equal(x.min().data, data.min())
    assert x.astype(np.float32).dtype == np.float32


def test_scalar_operand_keeps_float32():
    x = Variable(np.array([1.0, 2.0], dtype=np.float32))
    for y in (x * 2, 2 * x, x + 1.5, 1.5 - x, x / 3, 3 / x, x ** 2, 2.0 ** x, -x):
        assert y.dtype == np.float32
    y = x * 2
    y.backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])


def test_mixed_float32_and_float64_give_each_input_its_own_dtype():
    x32 = Variable(np.array([1.0, 2.0], dtype=np.float32))
    x64 = Variable(np.array([3.0, 4.0]))
    y = x32 * x64
    assert y.dtype == np.float64  # as NumPy promotes
    y.backward()
    assert x32.grad.dtype == np.float32
    assert x64.grad.dtype == np.float64
    np.testing.assert_array_equal(x32.grad.data, [3.0, 4.0])
    np.testing.assert_array_equal(x64.grad.data, [1.0, 2.0])
