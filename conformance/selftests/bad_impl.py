"""A deliberately broken DeZero-style implementation, for testing the suite itself.

`impl`, except that some ops misbehave in every way an implementation under test can:

| op | what it does |
|---|---|
| exp | raises RuntimeError |
| sin | returns a list |
| cos | returns a Variable of the wrong shape |
| tanh | returns a bare numpy.ndarray |
| sqrt | returns a Variable whose data is a list |
| square | returns None |
| relu | forward is right, backward raises |
| sigmoid | gradient of the wrong shape |
| log | hangs (sleeps) |
| clip | hangs (a busy loop) |
| flatten | raises SystemExit |
| softmax | is missing (a skip, not a failure) |

Everything else (neg, sum, ...) is `impl`'s own and passes.
"""
import time
import types

import numpy as np

import impl
from impl import Function, Variable

functions = types.ModuleType(__name__ + ".functions")
functions.__dict__.update({name: getattr(impl.functions, name) for name in impl.functions.__all__})


def _exp(x):
    raise RuntimeError("exp is broken on purpose")


def _sin(x):
    return [1.0, 2.0]


def _cos(x):
    return Variable(np.zeros((7,) + x.shape))


def _tanh(x):
    return np.tanh(x.data)


def _with_list_data(x):
    v = Variable(np.sqrt(x.data))
    v.data = np.sqrt(x.data).tolist()
    return v


def _square(x):
    return None


class _ReLUBrokenBackward(Function):
    def forward(self, x):
        return np.maximum(x, 0)

    def backward(self, gy):
        raise ValueError("relu's backward is broken on purpose")


class _SigmoidWrongGradient(Function):
    def forward(self, x):
        return 1 / (1 + np.exp(-x))

    def backward(self, gy):
        return Variable(np.zeros((3,) + gy.shape, gy.dtype))


def _log(x):
    time.sleep(3600)


def _clip(x, x_min, x_max):
    while True:
        pass


def _flatten(x):
    raise SystemExit("flatten exits the interpreter on purpose")


functions.exp = _exp
functions.sin = _sin
functions.cos = _cos
functions.tanh = _tanh
functions.sqrt = _with_list_data
functions.square = _square
functions.relu = lambda x: _ReLUBrokenBackward()(x)
functions.sigmoid = lambda x: _SigmoidWrongGradient()(x)
functions.log = _log
functions.clip = _clip
functions.flatten = _flatten
del functions.softmax
