"""Variables, Functions and the reverse-mode pass: a define-by-run graph on NumPy arrays."""
import contextlib
import heapq
import itertools
import weakref

import numpy as np

from impl.backend import array_types, as_array, get_array_module


class Config:
    """Global switches. `enable_backprop=False` makes Functions build no graph."""
    enable_backprop = True


@contextlib.contextmanager
def using_config(name, value):
    if not hasattr(Config, name):
        raise AttributeError(f"Config has no setting {name!r}; settings: enable_backprop")
    old = getattr(Config, name)
    setattr(Config, name, value)
    try:
        yield
    finally:
        setattr(Config, name, old)


def no_grad():
    """Context in which operations record no graph (inference, parameter updates)."""
    return using_config("enable_backprop", False)


class Variable:
    """An array together with the graph that produced it and, after `backward`, its gradient."""
    __slots__ = ("data", "name", "grad", "creator", "generation", "__weakref__", "__dict__")
    # Makes `ndarray + Variable` defer to Variable.__radd__ instead of broadcasting elementwise.
    __array_priority__ = 200

    def __init__(self, data, name=None):
        if data is not None and not isinstance(data, array_types):
            raise TypeError(
                f"Variable data must be a numpy.ndarray (or None), got {type(data).__name__}: "
                f"{data!r:.60}; wrap scalars and lists with np.array(...)")
        self.data = data
        self.name = name
        self.grad = None
        self.creator = None
        self.generation = 0

    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def size(self):
        return self.data.size

    @property
    def dtype(self):
        return self.data.dtype

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        if self.data is None:
            return "variable(None)"
        # Align continuation lines under the first element, past "variable(".
        return "variable(" + str(self.data).replace("\n", "\n" + " " * len("variable(")) + ")"

    def set_creator(self, func):
        self.creator = func
        self.generation = func.generation + 1

    def cleargrad(self):
        self.grad = None

    def unchain(self):
        self.creator = None

    def unchain_backward(self):
        """Cut the graph behind this variable so that its memory can be freed."""
        if self.creator is None:
            return
        stack = [self.creator]
        self.unchain()
        while stack:
            func = stack.pop()
            for x in func.inputs:
                if x.creator is not None:
                    stack.append(x.creator)
                    x.unchain()

    def backward(self, retain_grad=False, create_graph=False):
        """Accumulate d(self)/d(input) into `.grad` of every variable this one depends on.

        The seed is `self.grad` if set (a cotangent), else ones. With `retain_grad=False` the
        gradients of intermediate variables are dropped as soon as they are used. With
        `create_graph=True` the backward pass builds a graph too, so gradients can be
        differentiated again (higher-order derivatives).
        """
        for name, flag in (("retain_grad", retain_grad), ("create_graph", create_graph)):
            if not isinstance(flag, (int, np.bool_)):  # bool is an int
                raise TypeError(
                    f"backward() {name} must be a bool, not {type(flag).__name__}; to start from an "
                    f"upstream gradient g, set y.grad = Variable(g) and call y.backward()")
        if self.grad is None:
            xp = get_array_module(self.data)
            self.grad = Variable(xp.ones(self.data.shape, self.data.dtype))
        if self.creator is None:
            return
        # Highest generation first, so a function runs only after every user of its outputs has
        # passed its gradient down; the counter breaks ties without comparing functions.
        pending = [(-self.creator.generation, 0, self.creator)]
        queued = {self.creator}
        tiebreak = itertools.count(1)
        old_backprop = Config.enable_backprop
        Config.enable_backprop = create_graph
        try:
            while pending:
                func = heapq.heappop(pending)[2]
                gxs = func.backward(*[output().grad for output in func.outputs])
                if not isinstance(gxs, tuple):
                    gxs = (gxs,)
                for x, gx in zip(func.inputs, gxs):
                    if gx is None:
                        continue
                    if gx.data.dtype != x.data.dtype and x.data.dtype.kind in "fc":
                        # A float32 input gets a float32 gradient even when mixed with float64.
                        gx = gx.astype(x.data.dtype)
                    # Not in place: x.grad may be the very object another variable holds.
                    x.grad = gx if x.grad is None else x.grad + gx
                    creator = x.creator
                    if creator is not None and creator not in queued:
                        queued.add(creator)
                        heapq.heappush(pending, (-creator.generation, next(tiebreak), creator))
                if not retain_grad:
                    for output in func.outputs:
                        output().grad = None
        finally:
            Config.enable_backprop = old_backprop

    # Methods that mirror impl.functions (looked up late: that module imports this one).
    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = shape[0]
        return _functions().reshape(self, shape)

    def transpose(self, *axes):
        if len(axes) == 0:
            axes = None
        elif len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
            axes = axes[0]
        return _functions().transpose(self, axes)

    @property
    def T(self):
        return _functions().transpose(self)

    def sum(self, axis=None, keepdims=False):
        return _functions().sum(self, axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        return _functions().mean(self, axis, keepdims)

    def max(self, axis=None, keepdims=False):
        return _functions().max(self, axis, keepdims)

    def min(self, axis=None, keepdims=False):
        return _functions().min(self, axis, keepdims)

    def astype(self, dtype):
        return _functions().astype(self, dtype)

    def __getitem__(self, index):
        return _functions().get_item(self, index)

    def __neg__(self):
        return neg(self)

    def __add__(self, other):
        return add(self, other)

    def __radd__(self, other):
        return add(other, self)

    def __sub__(self, other):
        return sub(self, other)

    def __rsub__(self, other):
        return sub(other, self)

    def __mul__(self, other):
        return mul(self, other)

    def __rmul__(self, other):
        return mul(other, self)

    def __truediv__(self, other):
        return div(self, other)

    def __rtruediv__(self, other):
        return div(other, self)

    def __pow__(self, other):
        return pow(self, other)

    def __rpow__(self, other):
        return pow(other, self)

    def __matmul__(self, other):
        return _functions().matmul(self, other)

    def __rmatmul__(self, other):
        return _functions().matmul(other, self)


def _functions():
    from impl import functions
    return functions


def as_variable(obj, like=None):
    """`obj` as a Variable: Variables pass through, arrays are wrapped, Python scalars become
    0-d arrays of the dtype NumPy would give them next to `like` (so `x * 2` keeps float32)."""
    if isinstance(obj, Variable):
        if obj.data is None:
            raise TypeError(f"a Variable without data (None) cannot be an operand{_named(obj)}; "
                            f"set its .data to a numpy.ndarray first")
        return obj
    if isinstance(obj, array_types):
        return Variable(obj)
    if isinstance(obj, (int, float, complex, np.generic)):
        if like is not None and isinstance(obj, (int, float, complex)):
            xp = get_array_module(like)
            return Variable(xp.asarray(obj, dtype=xp.result_type(like, obj)))
        return Variable(np.asarray(obj))
    raise TypeError(f"expected a Variable, a numpy.ndarray or a scalar, got {type(obj).__name__}: "
                    f"{obj!r:.60}")


def _named(variable):
    return f" (Variable {variable.name!r})" if variable.name is not None else ""


class Function:
    """One differentiable operation: `forward` maps arrays to arrays, `backward` maps output
    gradients (Variables) to input gradients (Variables), so backward is itself differentiable."""

    def __call__(self, *inputs):
        inputs = [as_variable(x) for x in inputs]
        ys = self.forward(*[x.data for x in inputs])
        if isinstance(ys, tuple):
            outputs = [Variable(as_array(y)) for y in ys]
        else:
            outputs = [Variable(ys if isinstance(ys, array_types) else as_array(ys))]
        if Config.enable_backprop:
            self.generation = generation = max([x.generation for x in inputs])
            for output in outputs:
                output.creator = self
                output.generation = generation + 1
            self.inputs = inputs
            # Weak: outputs hold their creator strongly; a strong link back would make a cycle.
            self.outputs = [weakref.ref(output) for output in outputs]
        return outputs if len(outputs) > 1 else outputs[0]

    def forward(self, *xs):
        raise NotImplementedError(f"{type(self).__name__} has no forward")

    def backward(self, *gys):
        raise NotImplementedError(f"{type(self).__name__} has no backward")


def _binary_operands(x0, x1):
    """Both operands as Variables; a Python scalar takes its dtype from the other operand."""
    if isinstance(x0, Variable):
        return x0, as_variable(x1, like=x0.data)
    x1 = as_variable(x1)
    return as_variable(x0, like=x1.data), x1


class _Broadcasting(Function):
    """A binary elementwise op whose gradients are summed back to each operand's shape."""

    def __call__(self, x0, x1):
        return super().__call__(*_binary_operands(x0, x1))

    def unbroadcast(self, gx0, gx1):
        x0, x1 = self.inputs
        if gx0.shape != x0.shape:
            gx0 = _functions().sum_to(gx0, x0.shape)
        if gx1.shape != x1.shape:
            gx1 = _functions().sum_to(gx1, x1.shape)
        return gx0, gx1


class Add(_Broadcasting):
    def forward(self, x0, x1):
        return x0 + x1

    def backward(self, gy):
        return self.unbroadcast(gy, gy)


class Sub(_Broadcasting):
    def forward(self, x0, x1):
        return x0 - x1

    def backward(self, gy):
        return self.unbroadcast(gy, -gy)


class Mul(_Broadcasting):
    def forward(self, x0, x1):
        return x0 * x1

    def backward(self, gy):
        x0, x1 = self.inputs
        return self.unbroadcast(gy * x1, gy * x0)


class Div(_Broadcasting):
    def forward(self, x0, x1):
        return x0 / x1

    def backward(self, gy):
        x0, x1 = self.inputs
        gx0 = gy / x1
        return self.unbroadcast(gx0, -gx0 * x0 / x1)


class Pow(_Broadcasting):
    """`x0 ** x1` with both operands differentiable."""

    def forward(self, x0, x1):
        return x0 ** x1

    def backward(self, gy):
        x0, x1 = self.inputs
        y = self.outputs[0]()
        gx0 = gy * x1 * x0 ** (x1 - 1)
        # d/dx1 is y*log(x0); where x0 == 0 it is taken as 0 (log of 1), as JAX does.
        base_is_zero = get_array_module(x0.data).asarray(x0.data == 0)  # an array also when 0-d
        safe_base = x0 + Variable(base_is_zero.astype(x0.dtype)) if base_is_zero.any() else x0
        gx1 = gy * y * _functions().log(safe_base)
        return self.unbroadcast(gx0, gx1)


class PowConst(Function):
    """`x ** c` for a constant exponent `c` (a scalar or an array that is not differentiated)."""

    def __init__(self, c):
        self.c = c

    def forward(self, x):
        return x ** self.c

    def backward(self, gy):
        x, = self.inputs
        c = self.c
        if np.ndim(c) == 0 and c == 0:
            return gy * 0
        # Zeros of an array exponent get the exponent 1, not -1: their term c * x**(c-1) is then
        # 0 * x, which is 0 also at x == 0 (0 * 0**-1 would be nan), as for a scalar exponent 0.
        exponent = c - 1 if np.ndim(c) == 0 else get_array_module(c).where(c == 0, 1, c - 1)
        gx = gy * c * x ** exponent
        if gx.shape != x.shape:
            gx = _functions().sum_to(gx, x.shape)
        return gx


class Neg(Function):
    def forward(self, x):
        return -x

    def backward(self, gy):
        return -gy


def add(x0, x1):
    return Add()(x0, x1)


def sub(x0, x1):
    return Sub()(x0, x1)


def mul(x0, x1):
    return Mul()(x0, x1)


def div(x0, x1):
    return Div()(x0, x1)


def neg(x):
    return Neg()(x)


def pow(x, c):
    """`x ** c`. The exponent is differentiated when either operand is a Variable exponent;
    a Python scalar or plain array exponent is a constant (DeZero's `x ** 2`)."""
    if isinstance(c, Variable):
        return Pow()(x, c)
    if not isinstance(x, Variable):
        raise TypeError(f"pow needs a Variable base or exponent, got {type(x).__name__} and "
                        f"{type(c).__name__}")
    if isinstance(c, (int, float, complex, np.generic, *array_types)):
        return PowConst(c)(x)
    raise TypeError(f"exponent must be a Variable, a scalar or a numpy.ndarray, got "
                    f"{type(c).__name__}: {c!r:.60}")
