"""The op grid: for each case (benchmarks/grid.py), every contender side by side in one
pytest-benchmark group named by the case id: impl and the NumPy floor forward, and impl, the floor,
jax-eager, jax-jit and autograd forward+backward (benchmarks/contenders.py).

Untimed (--benchmark-disable, xdist) each item runs its contender and checks it against the floor.
"""
from benchmarks.conftest import grid_cases
from benchmarks.contenders import PAIRS

_BY_ID = {}


def pytest_generate_tests(metafunc):
    if {"case_id", "contender", "mode"} <= set(metafunc.fixturenames):
        params, ids = [], []
        for case in grid_cases(metafunc.config):
            _BY_ID[case.id] = case
            for contender, mode in PAIRS:
                params.append((case.id, contender, mode))
                ids.append(f"{case.op}-{case.label}-{contender}-{mode}")
        metafunc.parametrize(("case_id", "contender", "mode"), params, ids=ids)


def test_op(bench, case_id, contender, mode):
    bench(_BY_ID[case_id], contender, mode)
