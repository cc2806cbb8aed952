"""The printed form of Variables: the seed's examples, verbatim."""
import numpy as np

import impl.functions as F
from impl import Variable


def test_seed_example_full_sum(capsys):
    x = Variable(np.array([1, 2, 3, 4, 5, 6]))
    y = F.sum(x)
    y.backward()
    print(y)
    print(x.grad)
    assert capsys.readouterr().out == "variable(21)\nvariable([1 1 1 1 1 1])\n"


def test_seed_example_axis_sum(capsys):
    x = Variable(np.array([[1, 2, 3], [4, 5, 6]]))
    y = F.sum(x, axis=0)
    y.backward()
    print(y)
    print(x.grad)
    print(x.shape, '->', y.shape)
    print(F.sum(x, axis=(0, 1)))
    assert capsys.readouterr().out == (
        "variable([5 7 9])\n"
        "variable([[1 1 1]\n"
        "          [1 1 1]])\n"
        "(2, 3) -> (3,)\n"
        "variable(21)\n")


def test_seed_example_keepdims(capsys):
    x = Variable(np.random.randn(2, 3, 4, 5))
    y = x.sum(keepdims=True)
    print(y.shape)
    assert capsys.readouterr().out == "(1, 1, 1, 1)\n"


def test_repr_of_none():
    assert repr(Variable(None)) == "variable(None)"
    assert str(Variable(None)) == "variable(None)"


def test_repr_of_scalars():
    assert repr(Variable(np.array(1.0))) == "variable(1.0)"
    assert repr(Variable(np.array(-3))) == "variable(-3)"


def test_repr_of_3d_indents_every_continuation_line_by_nine():
    x = Variable(np.arange(8).reshape(2, 2, 2))
    assert repr(x) == ("variable([[[0 1]\n"
                       "           [2 3]]\n"
                       "         \n"
                       "          [[4 5]\n"
                       "           [6 7]]])")
    # The rule: str(data) with each newline followed by len("variable(") spaces.
    assert repr(x) == "variable(" + str(x.data).replace("\n", "\n" + " " * 9) + ")"


def test_repr_ignores_name():
    assert repr(Variable(np.array([1, 2]), name="x")) == "variable([1 2])"
