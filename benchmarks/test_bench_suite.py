"""The conformance suite's own speed, in cases per second: a fixed sample of `sum` cases (every
spelling of axis and keepdims on a (2,3,4) array, float32 and float64: two reference chunks)
checked by `conformance.checks.Checker` against a `ReferenceStore` without disk cache.

- cold: a fresh store and JAX's in-memory compilation caches cleared, so each round computes the
  references again, compiling their batched programs (what a first run without
  .conformance_cache costs; JAX's persistent cache still applies if this process configured one);
- warm: the store already filled: only the implementation's checks (forward, VJP, HVP, and
  central differences for float64 canonical spellings).
"""
import warnings

import pytest

from benchmarks.conftest import impl_name, timing_disabled
from conformance.catalogue import BY_NAME
from conformance.checks import missing_names

SAMPLE_SIZE = 200
SAMPLE_SIZE_UNTIMED = 20


def sample(n, dtypes=("float32", "float64")):
    cases = [c for c in BY_NAME["sum"].cases()
             if c.is_valid and c.shapes == ((2, 3, 4),) and c.dtype in dtypes]
    step = len(cases) / n
    return [cases[int(i * step)] for i in range(n)]


def check_all(checker, cases):
    from conformance.checks import Mismatch
    failed = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for case in cases:
            try:
                checker.run(case)
            except Mismatch:
                failed.append(case.id)
    return failed


@pytest.mark.parametrize("state", ["cold", "warm"])
def test_conformance_throughput(request, benchmark, impl_module, jax_info, state):
    import jax

    from conformance import reference
    from conformance.checks import Checker
    from conformance.reference import ReferenceStore

    config = request.config
    seed = config._conformance.seed if hasattr(config, "_conformance") else 0
    untimed = timing_disabled(config)
    # Untimed (CI): a few float64 cases, one reference chunk, to check that it all runs.
    cases = sample(SAMPLE_SIZE_UNTIMED, ("float64",)) if untimed else sample(SAMPLE_SIZE)
    name = impl_name(config)
    missing = missing_names(impl_module, BY_NAME["sum"])
    if missing:
        pytest.skip(f"{name} has no {', '.join(missing)}")

    def fresh_checker():
        return Checker(impl_module, ReferenceStore(seed, cache_dir=None), jax_info["backend"], name)

    def cold_setup():
        memo = getattr(reference, "_compiled", None)  # older versions memoized the programs
        if hasattr(memo, "cache_clear"):
            memo.cache_clear()
        jax.clear_caches()
        return (fresh_checker(), cases), {}

    warm_checker = fresh_checker()
    # Fill the store (the warm-up, and the failures both states must agree on); untimed, the
    # cold state's single pass is the check.
    failures = None if untimed and state == "cold" else check_all(warm_checker, cases)
    benchmark.group = "conformance suite"
    benchmark.extra_info.update({
        "suite": "conformance", "op": "sum", "case": f"conformance[{state}]",
        "contender": f"conformance-{state}", "mode": state, "cases": len(cases),
        "impl": name, "jax_backend": jax_info.get("backend"),
        "jax_device": jax_info.get("device"),
        "persistent_compilation_cache": bool(jax.config.jax_compilation_cache_dir),
    })
    if state == "cold":
        result = benchmark.pedantic(check_all, setup=cold_setup, rounds=3)
    else:
        result = benchmark.pedantic(check_all, args=(warm_checker, cases), rounds=5)
    assert failures is None or result == failures, "the same cases must pass cold and warm"
    benchmark.extra_info["failures"] = len(result)
    if benchmark.enabled and benchmark.stats:
        benchmark.extra_info["cases_per_s"] = len(cases) / benchmark.stats.stats.median
