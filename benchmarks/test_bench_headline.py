"""Headline numbers: the per-op overhead (sum(x, axis=1) forward+backward on a (2,3,4) float64
array: impl against the NumPy floor and jax-jit), the large-input cost (sum forward+backward on
10^7 float64 elements against the floor), and the machine's own NumPy copy bandwidth (np.copyto of
10^7 float64), against which the report sets each op's achieved bandwidth."""
import numpy as np
import pytest

from benchmarks.conftest import timing_disabled
from benchmarks.grid import reduction_case

SMALL = reduction_case("sum", (2, 3, 4), "float64", 1, False)
LARGE = reduction_case("sum", (1_000, 10_000), "float64", None, False)
LARGE_UNTIMED = reduction_case("sum", (100, 1_000), "float64", None, False)  # CI: just runs
COPY_ELEMENTS = 10_000_000


@pytest.mark.parametrize("contender", ["impl", "numpy", "jax-jit"])
def test_overhead_small_sum(bench, contender):
    bench(SMALL, contender, "fwdbwd", suite="headline",
          group="headline: sum(x, axis=1) forward+backward, (2,3,4) float64")


@pytest.mark.parametrize("contender", ["impl", "numpy"])
def test_large_sum(request, bench, contender):
    case = LARGE_UNTIMED if timing_disabled(request.config) else LARGE
    bench(case, contender, "fwdbwd", suite="headline",
          group="headline: sum forward+backward, 10^7 float64")


def test_numpy_copy(request, benchmark):
    n = 10_000 if timing_disabled(request.config) else COPY_ELEMENTS
    src = np.random.default_rng(0).standard_normal(n)
    dst = np.empty_like(src)
    benchmark.group = "numpy-copy"
    benchmark.extra_info.update({
        "suite": "copy", "op": "copy", "case": f"copyto[float64-({n},)]", "contender": "numpy-copy",
        "mode": "copy", "dtype": "float64", "elements": n, "bytes": 2 * src.nbytes,
    })
    benchmark(np.copyto, dst, src)
    np.testing.assert_array_equal(dst, src)
