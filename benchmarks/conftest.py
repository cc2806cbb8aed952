"""Shared fixtures and settings of the benchmark suites (see benchmarks/README.md).

- `--bench-grid tiny|default|large` (or $DEZERO_BENCH_GRID) picks the grid. Without it the grid is
  `tiny` when pytest-benchmark times nothing (`--benchmark-disable`, or xdist, under which
  pytest-benchmark disables itself): that is CI's fast check-only mode. Otherwise `default`.
- Unless `--benchmark-max-time` is given, each benchmark here runs for about DEFAULT_MAX_TIME
  seconds (pytest-benchmark's own default, 1 s, would make the default grid take ~15 minutes).
- JAX is configured through the conformance plugin's `--jax-platform` (`configure_jax`), once per
  process, before its first use.
- `pytest_benchmark_update_machine_info` adds NumPy, BLAS, JAX and autograd versions, the JAX
  device and the CPU count to the saved JSON's `machine_info`.
"""
import importlib
import os
import pathlib

import pytest

from benchmarks.grid import GRID_ENV, GRIDS, case_elements, cases
from conformance.catalogue import BY_NAME
from conformance.checks import missing_names

HERE = pathlib.Path(__file__).resolve().parent
DEFAULT_MAX_TIME = 0.15
_JAX_INFO = None


def pytest_addoption(parser):
    group = parser.getgroup("dezero-benchmarks", "benchmarks of impl against NumPy, JAX and autograd")
    group.addoption("--bench-grid", default=None, choices=GRIDS,
                    help=f"benchmark grid: tiny (CI's check-only mode), default, large (up to 10^7 "
                         f"elements). Default: ${GRID_ENV}, else tiny when benchmarks are disabled "
                         f"(--benchmark-disable or xdist), else default")
    group.addoption("--bench-min-elements", type=int, default=None, metavar="N",
                    help="time only the grid's cases with at least N elements (largest array)")
    group.addoption("--bench-max-elements", type=int, default=None, metavar="N",
                    help="time only the grid's cases with at most N elements (largest array)")


def timing_disabled(config):
    """True when pytest-benchmark will time nothing: --benchmark-disable, or xdist."""
    session = getattr(config, "_benchmarksession", None)
    if session is not None:
        return bool(session.disabled)
    if config.getoption("benchmark_disable", False) and not config.getoption("benchmark_enable", False):
        return True
    return (hasattr(config, "workerinput") or bool(os.environ.get("PYTEST_XDIST_WORKER"))
            or config.getoption("dist", "no") != "no")


def grid_name(config):
    chosen = config.getoption("--bench-grid") or os.environ.get(GRID_ENV, "").strip()
    if chosen:
        if chosen not in GRIDS:
            raise pytest.UsageError(f"${GRID_ENV}={chosen!r}: choose one of {', '.join(GRIDS)}")
        return chosen
    return "tiny" if timing_disabled(config) else "default"


def grid_cases(config):
    """The cases of the chosen grid within --bench-min-elements / --bench-max-elements."""
    low = config.getoption("--bench-min-elements") or 0
    high = config.getoption("--bench-max-elements")
    return [c for c in cases(grid_name(config))
            if low <= case_elements(c) and (high is None or case_elements(c) <= high)]


def impl_name(config):
    state = getattr(config, "_conformance", None)
    return state.impl_name if state is not None else "impl"


def jax_setup(config):
    """Configure JAX once per process (platform from --jax-platform / $JAX_PLATFORMS, float64
    on) unless the conformance plugin already did, and describe the backend."""
    global _JAX_INFO
    if _JAX_INFO is None:
        from conformance.reference import backend_info, configure_jax
        state = getattr(config, "_conformance", None)
        if state is None or state.backend is None:
            configure_jax(state.platform if state is not None else None)
        _JAX_INFO = backend_info()
    return _JAX_INFO


def _under_here(arg):
    path = pathlib.Path(str(arg).split("::")[0]).resolve()
    return path == HERE or HERE in path.parents


def pytest_report_header(config):
    if any(_under_here(a) for a in config.args):
        return [f"benchmarks: grid {grid_name(config)} (--bench-grid / ${GRID_ENV}); impl under "
                f"test: {impl_name(config)}"]
    return None


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    if any(arg.startswith("--benchmark-max-time") for arg in config.invocation_params.args):
        return
    for item in items:
        if ("benchmark" in getattr(item, "fixturenames", ()) and HERE in item.path.parents
                and item.get_closest_marker("benchmark") is None):
            item.add_marker(pytest.mark.benchmark(max_time=DEFAULT_MAX_TIME))


# ----------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="session")
def bench_grid(request):
    return grid_name(request.config)


@pytest.fixture(scope="session")
def impl_module(request):
    name = impl_name(request.config)
    module = importlib.import_module(name)
    for attr in ("Variable", "functions"):
        if not hasattr(module, attr):
            raise pytest.UsageError(f"--impl {name}: the module has no {attr}")
    return module


@pytest.fixture(scope="session")
def jax_info(request):
    pytest.importorskip("jax")
    return jax_setup(request.config)


@pytest.fixture
def bench(request, benchmark, impl_module, jax_info, bench_grid):
    """`bench(case, contender, mode, **kw)`: run, check and time one contender on one case."""
    from benchmarks.contenders import run_case

    def go(case, contender, mode, **kwargs):
        if contender == "autograd":
            pytest.importorskip("autograd")
        missing = missing_names(impl_module, BY_NAME[case.op])
        if contender == "impl" and missing:
            pytest.skip(f"{impl_name(request.config)} has no {', '.join(missing)}")
        return run_case(benchmark, case, contender, mode, impl_module=impl_module,
                        impl_name=impl_name(request.config), jax_info=jax_info, grid=bench_grid,
                        **kwargs)
    return go


# ----------------------------------------------------------------------------- machine info

def blas_info():
    """The BLAS NumPy uses: threadpoolctl's view if installed (library, version, threads), else
    NumPy's build configuration."""
    try:
        from threadpoolctl import threadpool_info
        return [{k: v for k, v in entry.items() if k in ("internal_api", "version", "num_threads",
                                                           "threading_layer", "architecture")}
                for entry in threadpool_info() if entry.get("user_api") == "blas"]
    except ImportError:
        pass
    import numpy as np
    try:
        deps = np.show_config(mode="dicts").get("Build Dependencies", {})
    except Exception:  # noqa: BLE001 - older NumPy: no dict mode
        return "unknown"
    blas = deps.get("blas", {})
    return {k: blas.get(k) for k in ("name", "version", "openblas configuration") if k in blas}


def pytest_benchmark_update_machine_info(config, machine_info):
    import numpy as np
    info = {
        "numpy_version": np.__version__,
        "blas": blas_info(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "bench_grid": grid_name(config),
        "impl": impl_name(config),
    }
    try:
        info["jax"] = jax_setup(config)
    except ImportError:
        info["jax"] = None
    try:
        import autograd
        info["autograd_version"] = getattr(autograd, "__version__", None) or _dist_version("autograd")
    except ImportError:
        info["autograd_version"] = None
    machine_info["dezero_bench"] = info


def _dist_version(name):
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version(name)
    except PackageNotFoundError:
        return None
