"""Tests of the suite's own machinery: domains, case ids, seeds, comparisons, divergence files,
the report. (The cases themselves are in test_ops.py.)"""
import itertools
import json

import numpy as np
import pytest

from conformance import domains
from conformance.catalogue import BY_NAME, CATALOGUE, Case, seed_of
from conformance.checks import Mismatch, Outcome, compare, tolerance
from conformance.plugin import load_divergences, stale_divergences
from conformance.report import render_markdown
from conformance.repro import find_case


def test_axis_spellings_are_every_ordered_signed_tuple():
    # None + 2*ndim ints + sum_k P(ndim, k) * 2**k tuples + ()
    expected = {0: 2, 1: 6, 2: 18, 3: 86, 4: 642}
    for ndim, count in expected.items():
        spellings = list(domains.axis_spellings(ndim))
        assert len(spellings) == count
        assert len(set(map(repr, spellings))) == count


@pytest.mark.parametrize("ndim", range(5))
def test_every_spelling_reduces_what_its_canonical_form_reduces(ndim):
    x = np.arange(np.prod((2, 3, 4, 5)[:ndim]), dtype=float).reshape((2, 3, 4, 5)[:ndim]) + 1
    for axis in domains.axis_spellings(ndim):
        canonical = domains.canonical_axes(axis, ndim)
        assert canonical == tuple(sorted(set(canonical)))
        np.testing.assert_array_equal(np.sum(x, axis=axis, keepdims=True),
                                      np.sum(x, axis=canonical, keepdims=True))


def test_canonical_spellings_are_every_subset():
    assert len(list(domains.canonical_axis_spellings(4))) == 2 ** 4 + 1  # subsets, plus None


@pytest.mark.parametrize("axis, kind", [
    (None, "none"), (1, "int"), (-1, "negative"), ((), "empty"), ((0, 2), "tuple"),
    ((-3, -1), "negative"), ((2, 0), "unsorted"), ((0, -1), "tuple"), ((-1, 0), "unsorted"),
    (5, "int"), ((0, 7), "invalid"), (1.5, "invalid"),
])
def test_axis_kind(axis, kind):
    # (0, -1) on 3-D names (0, 2): sorted; the facet is about order, negatives show up elsewhere
    assert domains.axis_kind(axis, 3) == (kind if kind != "tuple" or axis != (0, -1) else "negative")


def test_invalid_axis_spellings_are_rejected_by_numpy_or_jax():
    for ndim in range(5):
        x = np.ones((2, 3, 4, 5)[:ndim])
        for axis, authority in domains.invalid_axis_spellings(ndim):
            if authority == "numpy" or ndim > 0:
                with pytest.raises((ValueError, TypeError)):
                    np.sum(x, axis=axis)


def test_broadcast_targets_and_pairs_are_valid():
    for source in [(), (1,), (3, 1), (0, 1)]:
        for target in domains.broadcast_targets(source):
            assert np.broadcast_to(np.ones(source), target).shape == target
    for a, b in domains.broadcast_pairs((2, 3, 4)):
        np.broadcast_shapes(a, b)


def test_factorizations_have_the_right_size():
    for shape in domains.factorizations(24):
        assert np.prod(shape) == 24


def test_case_ids_are_unique_readable_and_found_again():
    seen = set()
    for op in CATALOGUE:
        for case in op.cases():
            assert " " not in case.id
            assert case.id not in seen
            seen.add(case.id)
    assert "sum[float32-(2,3,4)-axis=(2,-3)-keepdims=True]" in seen
    for case_id in ["sum[float32-(2,3,4)-axis=(2,-3)-keepdims=True]", "matmul[float64-(3,)x(3,4)]"]:
        assert find_case(case_id).id == case_id
    with pytest.raises(KeyError):
        find_case("sum[float32-(9,9)-axis=0-keepdims=True]")


def test_every_spelling_of_a_case_shares_its_canonical_form():
    cases = [c for c in BY_NAME["sum"].cases() if c.shapes == ((2, 3, 4),) and c.dtype == "float32"]
    groups = {}
    for case in cases:
        if case.is_valid:
            groups.setdefault(case.canonical, []).append(case)
    # 2**3 subsets x 2 keepdims
    assert len(groups) == 16
    spellings = [c for c in cases if c.canonical == (("axis", (0, 2)), ("keepdims", True))]
    assert {dict(c.params)["axis"] for c in spellings} >= {(0, 2), (2, 0), (-3, 2), (2, -3), (-1, -3)}


def test_seeds_are_stable_across_processes():
    assert seed_of("sum", "float32") == seed_of("sum", "float32")
    assert seed_of("sum", "float32") != seed_of("sum", "float64")
    assert seed_of("a") == 1702698405120146464  # blake2b, not Python's salted hash()


def test_compare_accepts_rounding_and_reports_the_worst_element():
    outcome = Outcome()
    want = np.array([[1.0, 2.0], [3.0, 4.0]])
    compare("x", want * (1 + 1e-15), want, 1e-12, 1e-12, 1.0, outcome)
    assert outcome.worst_ratio < 1
    bad = want.copy()
    bad[1, 0] = 3.5
    with pytest.raises(Mismatch, match=r"(?s)1 of 4 elements.*index \(1, 0\): expected 3\.0.*got 3\.5"):
        compare("x", bad, want, 1e-12, 1e-12, 1.0, outcome)


def test_compare_requires_nan_and_inf_at_the_same_places():
    outcome = Outcome()
    want = np.array([np.nan, np.inf, 1.0])
    compare("x", want.copy(), want, 1e-6, 1e-6, 1.0, outcome)
    for got in ([0.0, np.inf, 1.0], [np.nan, -np.inf, 1.0], [np.nan, np.inf, np.nan]):
        with pytest.raises(Mismatch):
            compare("x", np.array(got), want, 1e-6, 1e-6, 1.0, outcome)
    with pytest.raises(Mismatch, match="shape"):
        compare("x", np.zeros(2), np.zeros(3), 1e-6, 1e-6, 1.0, outcome)


def test_tolerance_grows_with_length_and_is_looser_for_float32():
    r32, _ = tolerance(("float32",), 1, 1.0, "cpu")
    r64, _ = tolerance(("float64",), 1, 1.0, "cpu")
    r64_long, _ = tolerance(("float64",), 100, 1.0, "cpu")
    assert r32 > r64 and r64_long > r64
    assert tolerance(("int32",), 1, 1.0, "cpu") == (0.0, 0.0)
    assert tolerance(("float32",), 1, 1.0, "tpu")[0] > r32


def test_divergence_files_are_validated_and_stale_entries_found(tmp_path):
    path = tmp_path / "lib.toml"
    path.write_text('[[divergence]]\ncases = "max[float32-*]"\nreason = "ties"\n'
                    '[[divergence]]\ncases = "nosuchop[*]"\nreason = "gone"\n')
    entries = load_divergences(path)
    stale = stale_divergences(entries, ["max[float32-(5,)-axis=0-keepdims=False]"])
    assert [e["cases"] for e in stale] == ["nosuchop[*]"]
    assert load_divergences(tmp_path / "missing.toml") == []
    path.write_text('[[divergence]]\nregex = "max\\\\[float(32|64)-.*"\nreason = "ties"\n')
    (entry,) = load_divergences(path)
    assert entry["matches"]("max[float64-(5,)-axis=0-keepdims=False]")
    assert not entry["matches"]("max[int32-(5,)-axis=0-keepdims=False]")
    path.write_text('[[divergence]]\ncases = ["sum[float32-(5,)-axis=0-keepdims=False]", "max[*]"]\n'
                    'reason = "listed"\n')
    (entry,) = load_divergences(path)
    assert entry["matches"]("sum[float32-(5,)-axis=0-keepdims=False]") and entry["matches"]("max[x]")
    assert not entry["matches"]("sum[float32-(5,)-axis=0-keepdims=True]")
    path.write_text('[[divergence]]\ncases = "x"\n')
    with pytest.raises(pytest.UsageError, match="reason"):
        load_divergences(path)
    path.write_text("[[divergence\n")
    with pytest.raises(pytest.UsageError, match="TOML"):
        load_divergences(path)


def test_markdown_report_lists_ops_facets_and_failures():
    row = {"passed": 3, "failed": 1, "xfailed": 0, "skipped": 0, "worst_ratio": 2.5, "worst_abs": 1e-3}
    data = {
        "meta": {"impl": "lib", "seed": 0, "domain_cases": 10, "wall_seconds": 1.0,
                 "known_divergences_file": "k.toml", "stale_divergences": [],
                 "backend": {"jax_version": "0", "backend": "cpu", "device": "cpu", "x64": True}},
        "totals": {"passed": 3, "failed": 1, "xfailed": 0, "skipped": 0, "cases": 4},
        "ops": {"sum": row},
        "rows": [{"op": "sum", "dtype": "float32", "axis": "unsorted", "keepdims": "True", **row}],
        "failures": [{"case": "sum[float32-(2,)-axis=0-keepdims=True]", "message": "forward value"}],
        "failures_total": 1, "skip_reasons": {"lib has no functions.prod": 6},
    }
    md = render_markdown(json.loads(json.dumps(data)))
    assert "| sum | 3 | 1 | 0 | 0 | 2.5 (0.001) |" in md
    assert "| float32 | unsorted | True | 3 | 1 |" in md
    assert "sum[float32-(2,)-axis=0-keepdims=True]" in md and "has no functions.prod" in md


def test_reduction_domain_has_every_rank_dtype_and_keepdims():
    cases = BY_NAME["sum"].cases()
    ranks = {len(c.shapes[0]) for c in cases}
    assert ranks == {0, 1, 2, 3, 4}
    assert {c.dtype for c in cases} == {"float32", "float64", "int32"}
    assert {c.kwargs.get("keepdims") for c in cases} == {False, True, None}  # None: left out
    assert any(0 in c.shapes[0] for c in cases) and any(1 in c.shapes[0] for c in cases)
    full = [c for c in cases if c.shapes == ((2, 3, 4, 5),) and c.dtype == "float32" and c.is_valid]
    assert len(full) == 642 * 2 + 1  # every spelling both ways, and the defaults
    assert sum(1 for c in cases if not c.is_valid) == 3 * sum(
        1 for n in range(5) for _ in domains.invalid_axis_spellings(n))


def test_case_labels_round_trip_params():
    case = Case("sum", "float64", ((2, 3),), (("axis", (1, -2)), ("keepdims", False)))
    assert case.id == "sum[float64-(2,3)-axis=(1,-2)-keepdims=False]"
    assert Case("x", "float32", ((5,), ()), (("c", 0.5),)).id == "x[float32-(5,)x()-c=0.5]"
    assert list(itertools.islice(domains.signed_permutations(2), 3)) == [(0, 1), (0, -1), (-2, 1)]


def test_every_canonical_case_is_computed_in_exactly_one_chunk():
    from conformance.reference import _plan, reference_source
    for op in CATALOGUE:
        plan = _plan(op.name)
        chunks = {index: chunk for index, chunk in plan.values()}
        computed = [source.canonical_identity for chunk in chunks.values() for source in chunk]
        assert len(computed) == len(set(computed)), op.name
        for case in op.cases():
            if case.is_valid:
                index, chunk = plan[case.canonical_identity]
                assert reference_source(case).canonical_identity in {c.canonical_identity for c in chunk}
                assert case.canonical_kwargs.get("keepdims") is not True or case not in chunk


@pytest.mark.parametrize("case_id", [
    "sum[float32-(2,3,4)-axis=(2,-3)-keepdims=True]",
    "prod[float64-(2,0,1,3)-axis=(0,3)-keepdims=True]",
    "var[float64-(4,1,3)-axis=-1-keepdims=True-ddof=0]",
    "max[float64-(2,3)-axis=None-keepdims=True]",
])
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_keepdims_reference_is_what_jax_computes_for_keepdims(case_id):
    """The keepdims=True reference is derived from the keepdims=False computation; JAX asked
    directly, with the same inputs and cotangent, agrees to rounding (eager JAX is not fused
    as the jitted references are)."""
    import jax
    from conformance.reference import ReferenceStore, configure_jax
    configure_jax()
    case = find_case(case_id)
    op = BY_NAME[case.op]
    ref = ReferenceStore(0).get(case)
    kwargs = case.canonical_kwargs
    value, pullback = jax.vjp(lambda x: op.reference(x, **kwargs), ref.inputs[0])
    assert value.shape == ref.value.shape == np.asarray(op.numpy(ref.inputs[0], **kwargs)).shape
    close = dict(rtol=16 * np.finfo(case.dtype).eps, atol=16 * np.finfo(case.dtype).eps)
    np.testing.assert_allclose(np.asarray(value), ref.value, **close)
    np.testing.assert_allclose(np.asarray(pullback(ref.cotangent)[0]), ref.grads[0], **close)
    hvp = jax.jvp(lambda x: jax.vjp(lambda y: op.reference(y, **kwargs), x)[1](ref.cotangent)[0],
                  (ref.inputs[0],), (ref.tangents[0],))[1]
    np.testing.assert_allclose(np.asarray(hvp), ref.hvps[0], **close)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_every_keepdims_shape_is_jaxs():
    """The keepdims=True references take NumPy's output shape; JAX's is the same, for every
    such case of the domain (abstract evaluation, nothing compiled)."""
    import jax
    from conformance.reference import configure_jax, draw_inputs
    configure_jax()
    for op in CATALOGUE:
        seen = set()
        for case in op.cases():
            if not case.is_valid or case.canonical_kwargs.get("keepdims") is not True or (
                    case.canonical_identity in seen):
                continue
            kwargs = case.canonical_kwargs
            seen.add(case.canonical_identity)
            inputs = draw_inputs(op, case, 0)
            try:
                want = np.shape(op.numpy(*inputs, **kwargs))
            except Exception:  # noqa: BLE001 - JAX's shape is used where NumPy rejects
                continue
            structs = [jax.ShapeDtypeStruct(x.shape, x.dtype) for x in inputs]
            try:
                got = jax.eval_shape(lambda *xs: op.reference(*xs, **kwargs), *structs).shape
            except Exception:  # noqa: BLE001 - JAX rejects it: the case expects an error
                continue
            assert got == want, case.id


class _FakeWorker:
    """What the xdist scheduler sees of a worker: it is sent item indices and told to stop."""

    def __init__(self, name):
        self.gateway = type("Gateway", (), {"id": name})()
        self.sent = []
        self.shutting_down = False

    def send_runtest_some(self, indices):
        self.sent.extend(indices)

    def shutdown(self):
        self.shutting_down = True


def _scheduler(collection, workers):
    from types import SimpleNamespace
    from conformance.scheduling import ReferenceScopeScheduling
    config = SimpleNamespace(getvalue=lambda name: [f"{len(workers)}*popen"],
                             option=SimpleNamespace(loadscopereorder=True))
    sched = ReferenceScopeScheduling(config)
    for worker in workers:
        sched.add_node(worker)
        sched.add_node_collection(worker, collection)
    sched.schedule()
    return sched


def test_the_scheduler_runs_every_item_once_and_keeps_each_chunk_on_one_worker():
    from conformance.reference import batch_scope
    cases = [c for name in ("sum", "var", "exp") for c in BY_NAME[name].cases()]
    collection = [f"conformance/test_ops.py::{c.id}" for c in cases] + ["conformance/test_x.py::test_other"]
    workers = [_FakeWorker("gw0"), _FakeWorker("gw1")]
    sched = _scheduler(collection, workers)
    done = {w: 0 for w in workers}
    while not sched.tests_finished:
        # Each worker reports its items in order, one at a time, taking turns.
        for worker in workers:
            if done[worker] < len(worker.sent):
                sched.mark_test_complete(worker, worker.sent[done[worker]])
                done[worker] += 1
    ran = [i for w in workers for i in w.sent]
    assert sorted(ran) == list(range(len(collection)))
    assert all(w.shutting_down for w in workers)
    owner = {}
    for worker in workers:
        for i in worker.sent:
            if i < len(cases):
                assert owner.setdefault(batch_scope(cases[i]), worker) is worker, cases[i].id
    assert {id(w) for w in owner.values()} == {id(w) for w in workers}, "chunks spread over both"


def test_a_crashed_workers_unfinished_chunk_goes_to_another():
    cases = BY_NAME["exp"].cases()
    collection = [f"conformance/test_ops.py::{c.id}" for c in cases]
    workers = [_FakeWorker("gw0"), _FakeWorker("gw1")]
    sched = _scheduler(collection, workers)
    first = workers[0].sent[0]
    sched.mark_test_complete(workers[0], first)
    pending = [i for i in workers[0].sent if i != first]
    crashed = sched.remove_node(workers[0])
    assert crashed == collection[pending[0]]
    assert sched.has_pending
    assert set(pending) <= set(workers[1].sent) or sched.workqueue
