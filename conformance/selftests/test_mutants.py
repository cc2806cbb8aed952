"""The mutation-testing machinery (conformance/mutants): curated mutants apply, run in isolation
and are killed; survivors and hangs are reported; the tool's plumbing maps diffs to ops."""
import hashlib
import inspect
import subprocess
import sys
import tomllib

import pytest

import impl
from conformance.catalogue import BY_NAME
from conformance.mutants import (ALL_OPS, IMPL_MODULES, ROOT, Edit, Mutant, Runner, StaleMutant,
                                 loaded_impl, mutated_sources, read_sources, select_cases)
from conformance.mutants import coverage, cosmic
from conformance.mutants.catalogue import MUTANTS


@pytest.fixture(scope="module")
def runner(request):
    checker = request.config._conformance.checker()   # the plugin's JAX setup and references
    return Runner(checker.store, checker.backend, timeout=120)


def impl_digest():
    return hashlib.sha256(b"".join((ROOT / rel).read_bytes() for rel in IMPL_MODULES.values())).hexdigest()


def test_the_curated_catalogue_is_large_and_applies():
    assert len(MUTANTS) >= 30
    assert len({m.name for m in MUTANTS}) == len(MUTANTS)
    for m in MUTANTS:
        assert m.description and m.ops
        assert all(op == ALL_OPS or op in BY_NAME for op in m.ops), m.name
        sources = mutated_sources(m)    # raises StaleMutant unless each snippet occurs once
        assert sources != read_sources()


def test_a_stale_snippet_is_reported():
    m = Mutant("gone", (Edit("impl/core.py", "no such line", "x"),), ("sum",), "stale")
    with pytest.raises(StaleMutant, match="occurs 0 times"):
        mutated_sources(m)


def test_a_mutant_lives_only_in_memory():
    before = impl_digest()
    original = sys.modules["impl"], sys.modules["impl.functions"]
    m = next(m for m in MUTANTS if m.name == "cos-gradient-sign")
    with loaded_impl(mutated_sources(m), tag=m.name) as mutated:
        assert mutated is not original[0] and sys.modules["impl"] is mutated
        assert mutated.functions.Variable is mutated.Variable is mutated.core.Variable
        assert "return gy * sin(self.inputs[0])" in inspect.getsource(mutated.functions.Cos.backward)
    assert (sys.modules["impl"], sys.modules["impl.functions"]) == original
    assert impl.functions.Cos.backward is original[1].Cos.backward
    assert impl_digest() == before, "the working tree was edited"


@pytest.mark.parametrize("name", ["cos-gradient-sign", "max-tied-elements-get-full-gradient",
                                  "get-item-repeated-indices-overwrite", "generations-ignored",
                                  "restore-axes-in-given-order"])
def test_curated_mutants_are_killed(runner, name):
    m = next(m for m in MUTANTS if m.name == name)
    result = runner.run_mutant(m)
    assert result.status == "killed", result
    assert result.first_failure.split("[")[0] in m.ops, "killed by a case of an op it affects"


def test_an_equivalent_mutant_survives_and_a_hang_is_a_timeout(runner):
    assert not runner.baseline(["cos"]).killed          # also puts cos's references in memory
    same = Mutant("same", (Edit("impl/functions.py", "        return gy * -sin(self.inputs[0])",
                                "        return -(gy * sin(self.inputs[0]))"),), ("cos",), "equivalent")
    result = runner.run_mutant(same)
    assert result.status == "survived" and result.cases_run == len(select_cases(["cos"]))
    hang = Mutant("hang", (Edit("impl/functions.py", "        return get_array_module(x).cos(x)",
                                "        while True:\n            pass"),), ("cos",), "hangs")
    quick = Runner(runner.store, runner.backend, timeout=2)
    result = quick.run_mutant(hang)
    assert result.status == "timeout" and result.killed, result


def test_case_selection_has_canonical_invalid_and_other_spellings():
    cases = select_cases(["sum"])
    ids = {c.id for c in cases}
    assert all(c.op == "sum" for c in cases)
    assert any(not c.is_valid for c in cases)
    assert any(c.is_valid and c.params != c.canonical for c in cases)   # e.g. negative, unsorted
    assert "sum[float32-(2,3,4)-axis=None-keepdims=False]" in ids
    assert len(cases) < len(BY_NAME["sum"].cases()) / 3


def test_the_cli_reports_the_kill_rate():
    run = subprocess.run([sys.executable, "-m", "conformance.mutants", "-k", "cos-gradient-sign",
                          "--no-baseline"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "curated mutants: 1 of 1 killed (100.0%)" in run.stdout


# ----------------------------------------------------------------------------- the tool's plumbing

SOURCE = '''\
import numpy as np

LIMIT = 3


class Sum:
    def forward(self, x):
        return x.sum()

    def backward(self, gy):
        def inner(g):
            return g * 2
        return inner(gy)


def helper(x):
    return x + 1
'''


def test_changed_lines_map_to_the_enclosing_function():
    defs = {name for _, _, name in coverage.definitions(SOURCE)}
    assert defs == {"Sum.forward", "Sum.backward", "Sum.backward.<locals>.inner", "helper"}
    sources = {name: "" for name in IMPL_MODULES}
    before = dict(sources, **{"impl.functions": SOURCE})
    for old, new, expected in [
        ("return g * 2", "return g * 3", ["impl/functions.py:Sum.backward.<locals>.inner"]),
        ("return x.sum()", "return x.sum() + 0", ["impl/functions.py:Sum.forward"]),
        ("LIMIT = 3", "LIMIT = 4", ["impl/functions.py:<module>"]),
        ("return x + 1", "return x - 1", ["impl/functions.py:helper"]),
    ]:
        after = dict(before, **{"impl.functions": SOURCE.replace(old, new)})
        assert coverage.affected(before, after) == expected
    cov = {"impl/functions.py:helper": ["sum", "mean"]}
    assert coverage.ops_for(["impl/functions.py:helper"], cov) == ("mean", "sum")
    assert coverage.ops_for(["impl/functions.py:<module>"], cov) == (ALL_OPS,)
    assert coverage.ops_for(["impl/functions.py:Sum.forward"], cov) == ()


def test_survivors_are_matched_with_explanations():
    diff = "--- a\n+++ b\n@@ -1 +1 @@\n-    if a < b:\n+    if a <= b:\n"
    line, mutated = cosmic.diff_lines(diff)
    assert (line, mutated) == ("if a < b:", "if a <= b:")
    record = {"file": "impl/axes.py", "line": line, "mutated": mutated,
              "operator": "core/ReplaceComparisonOperator_Lt_LtE"}
    entries = [{"file": "impl/axes.py", "line": "if a < b:", "operator": "core/ReplaceComparison*",
                "reason": "r"}]
    assert cosmic.explain(record, entries)["reason"] == "r"
    assert cosmic.explain(dict(record, mutated="if a > b:"), [dict(entries[0], mutated="if a <= b:")]) is None


def test_explained_survivors_name_lines_that_still_exist():
    with open(cosmic.EQUIVALENT, "rb") as f:
        entries = tomllib.load(f).get("equivalent", [])
    for entry in entries:
        assert entry.get("reason"), entry
        text = (ROOT / entry["file"]).read_text()
        assert any(l.strip() == entry["line"] for l in text.splitlines()), \
            f"stale entry in equivalent.toml: {entry['file']} has no line {entry['line']!r}"


def test_only_keeps_the_lines_of_the_named_classes_and_methods():
    from conformance.mutants.cosmic import line_ranges
    source = "import x\n\nclass A:\n    def f(self):\n        return 1\n\n    def g(self):\n        return 2\n\ndef h():\n    pass\n"
    assert line_ranges(source, ["A.g", "h"]) == [(7, 8), (10, 11)]
    assert line_ranges(source, ["A"]) == [(3, 8)]
    with pytest.raises(SystemExit, match="--only B"):
        line_ranges(source, ["B"])
