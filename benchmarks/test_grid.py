"""The benchmark grid covers what the issue asks, and the grid is chosen as documented."""
import math
import types

import pytest

from benchmarks import conftest as bench_conftest
from benchmarks.contenders import AUTOGRAD, PAIRS
from benchmarks.floors import FLOORS
from benchmarks.grid import GRIDS, OPS, case_elements, cases, output_shape
from conformance.catalogue import BY_NAME
from conformance.domains import axis_kind

REQUIRED = {"sum", "mean", "max", "min", "prod", "logsumexp", "broadcast_to", "sum_to", "exp", "mul",
            "add", "matmul", "softmax"}


@pytest.mark.parametrize("grid", GRIDS)
def test_every_op_in_every_grid(grid):
    found = {c.op for c in cases(grid)}
    assert REQUIRED <= found == set(OPS)
    assert set(OPS) <= set(FLOORS) and set(OPS) <= set(AUTOGRAD) and set(OPS) <= set(BY_NAME)


@pytest.mark.parametrize("grid", GRIDS)
def test_case_ids_are_unique(grid):
    ids = [c.id for c in cases(grid)]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("grid", ["default", "large"])
def test_reductions_cover_axis_kinds_keepdims_and_dtypes(grid):
    for op in ("sum", "mean", "max", "min", "prod", "logsumexp"):
        these = [c for c in cases(grid) if c.op == op]
        kinds = {axis_kind(c.kwargs["axis"], len(c.shapes[0])) for c in these}
        assert {"none", "int", "tuple", "unsorted"} <= kinds
        assert {c.kwargs["keepdims"] for c in these} == {False, True}
        assert {c.dtype for c in these} == {"float32", "float64"}


def test_sizes():
    def sizes(grid):
        return {math.prod(c.shapes[0]) for c in cases(grid) if c.op == "sum"}
    assert min(sizes("default")) < 100 and max(sizes("default")) == 10 ** 6
    assert max(sizes("large")) == 10 ** 7
    assert max(sizes("tiny")) < 100
    assert len(cases("default")) < 120  # keep the default run a few minutes on 2 cores


@pytest.mark.parametrize("grid", ["tiny", "default"])
def test_output_shapes(grid):
    from benchmarks.contenders import case_data
    for case in cases(grid):
        if case_elements(case) <= 10 ** 5:
            assert output_shape(case) == case_data(case).out_shape, case.id


def test_pairs():
    assert ("impl", "fwd") in PAIRS and ("impl", "fwdbwd") in PAIRS
    assert {c for c, m in PAIRS if m == "fwdbwd"} == {"impl", "numpy", "jax-eager", "jax-jit", "autograd"}


def _config(disabled=None, grid=None, dist="no", worker=False):
    options = {"--bench-grid": grid, "benchmark_disable": bool(disabled), "benchmark_enable": False,
               "dist": dist}
    config = types.SimpleNamespace(getoption=lambda name, default=None: options.get(name, default))
    if disabled is not None:
        config._benchmarksession = types.SimpleNamespace(disabled=disabled)
    if worker:
        config.workerinput = {}
    return config


def test_grid_choice(monkeypatch):
    monkeypatch.delenv("DEZERO_BENCH_GRID", raising=False)
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    assert bench_conftest.grid_name(_config(disabled=False)) == "default"
    assert bench_conftest.grid_name(_config(disabled=True)) == "tiny"
    assert bench_conftest.grid_name(_config(worker=True)) == "tiny"
    assert bench_conftest.grid_name(_config(dist="load")) == "tiny"
    assert bench_conftest.grid_name(_config(disabled=True, grid="large")) == "large"
    monkeypatch.setenv("DEZERO_BENCH_GRID", "large")
    assert bench_conftest.grid_name(_config(disabled=True)) == "large"
    assert bench_conftest.grid_name(_config(disabled=False, grid="tiny")) == "tiny"
    monkeypatch.setenv("DEZERO_BENCH_GRID", "huge")
    with pytest.raises(pytest.UsageError, match="tiny, default, large"):
        bench_conftest.grid_name(_config(disabled=False))
