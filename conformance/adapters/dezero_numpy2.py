"""PyPI's `dezero==0.0.13` under NumPy 2, for `--impl conformance.adapters.dezero_numpy2`.

That release still uses the alias `np.int`, removed in NumPy 1.24; it is restored before the import.
Install the package without its pinned dependencies: `pip install --no-deps dezero==0.0.13`
(it imports matplotlib, which the test extra brings).
"""
import numpy as np

if not hasattr(np, "int"):
    np.int = int

import dezero  # noqa: E402 - must follow the alias
import dezero.functions as functions  # noqa: E402
from dezero import Variable  # noqa: E402

__all__ = ["Variable", "functions", "dezero"]
