"""A define-by-run automatic differentiation framework on NumPy, in the style of DeZero.

    import numpy as np
    import impl
    from impl import Variable
    import impl.functions as F

    x = Variable(np.array([[1, 2, 3], [4, 5, 6]]))
    y = F.sum(x, axis=0)
    y.backward()
    print(y, x.grad)
"""
from impl.axes import AxisError
from impl.backend import as_array, get_array_module
from impl.core import Config, Function, Variable, as_variable, no_grad, using_config
from impl import functions

__all__ = ["AxisError", "Config", "Function", "Variable", "as_array", "as_variable", "functions",
           "get_array_module", "no_grad", "using_config"]
