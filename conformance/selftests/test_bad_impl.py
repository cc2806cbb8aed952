"""The suite against a deliberately broken implementation (bad_impl.py): every kind of breakage is
reported as that case's failure, with a message that says what went wrong, and the run goes on,
also past ops that hang (the per-case time limit) or exit the interpreter."""
import os
import pathlib
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from conformance.checks import Checker, Mismatch, MissingOp
from conformance.repro import find_case
from conformance.selftests import bad_impl

ROOT = pathlib.Path(__file__).resolve().parents[2]
ID = "float64-(2,3)"


@pytest.fixture(scope="module")
def session_checker(request):
    """The conformance plugin's own checker: same JAX platform, references and cache."""
    return request.config._conformance.checker()


@pytest.fixture(scope="module")
def bad(session_checker):
    return Checker(bad_impl, session_checker.store, session_checker.backend, "bad_impl")


@pytest.mark.parametrize("op, message", [
    ("exp", r"forward raised RuntimeError: exp is broken on purpose"),
    ("sin", r"forward result is a list, expected a bad_impl\.Variable"),
    ("cos", r"forward value: shape \(7, 2, 3\), expected \(2, 3\)"),
    ("tanh", r"forward result is a ndarray, expected a bad_impl\.Variable"),
    ("sqrt", r"forward result\.data is a list, expected a numpy\.ndarray"),
    ("square", r"forward result is a NoneType"),
    ("relu", r"backward\(create_graph=True\) raised ValueError: relu's backward is broken on purpose"),
    ("sigmoid", r"gradient of input 0 \(vs jax\.vjp\): shape \(3, 2, 3\), expected \(2, 3\)"),
])
def test_each_breakage_is_a_mismatch_that_says_what(bad, op, message):
    case = find_case(f"{op}[{ID}]")
    with pytest.raises(Mismatch) as info:
        bad.run(case)
    text = str(info.value)
    assert text.startswith(case.id + ": "), "the failure names its case"
    assert re.search(message, text), text
    assert "seed" in text and "load(" in text, "the failure says how to reproduce it"


def test_a_missing_op_is_a_skip_with_the_reason(bad):
    with pytest.raises(MissingOp, match=r"bad_impl has no functions\.softmax"):
        bad.run(find_case(f"softmax[{ID}-axis=-1]"))


def test_the_untouched_ops_pass(bad):
    for case_id in (f"neg[{ID}]", "mul[float64-(2,3,4)x(3,4)]"):
        bad.run(find_case(case_id))


def test_a_run_goes_on_past_errors_hangs_and_exits(session_checker, request, tmp_path):
    """A real pytest run over the broken ops, with the per-case limit cut to a few seconds: the
    hanging ops fail by timeout, the one that calls SystemExit fails, and the case after them
    still runs and passes."""
    ids = [f"log[{ID}]", f"clip[{ID}-x_min=-1.0-x_max=1.0]", f"exp[{ID}]", f"flatten[{ID}]",
           f"softmax[{ID}-axis=-1]", f"neg[{ID}]"]
    for case_id in ids:  # the references on disk first, so no case spends its seconds compiling
        case = find_case(case_id)
        if case.is_valid:
            session_checker.store.get(case)
    cache = request.config.getoption("--conformance-cache")
    env = dict(os.environ, CONFORMANCE_CASE_TIMEOUT_S="5" if cache else "60")
    junit = tmp_path / "junit.xml"
    args = [sys.executable, "-m", "pytest", "-p", "conformance.selftests.short_timeout",
            "-p", "no:cacheprovider", "-q", "-n", "0", "--junitxml", str(junit),
            "--impl", "conformance.selftests.bad_impl", "--conformance-cache", cache,
            "--jax-platform", request.config._conformance.platform]
    args += [f"conformance/test_ops.py::{case_id}" for case_id in ids]
    run = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    out = run.stdout + run.stderr
    assert run.returncode == 1, out
    assert re.search(r"4 failed, 1 passed, 1 skipped", out), out
    outcomes = {}
    for testcase in ET.parse(junit).getroot().iter("testcase"):
        result = next((child for child in testcase if child.tag in ("failure", "error", "skipped")),
                      None)
        outcomes[testcase.get("name")] = (
            "passed" if result is None else result.tag, "" if result is None else result.get("message", ""))
        properties = {p.get("name") for p in testcase.iter("property")}
        assert "conformance" in properties, f"{testcase.get('name')}: no facets in the JUnit file"
    assert list(outcomes) == ids, "every case ran, in order"
    assert len(list(ET.parse(junit).getroot().iter("testcase"))) == len(ids), "one entry per case"
    expected = {
        f"log[{ID}]": ("failure", r"Timeout"),
        f"clip[{ID}-x_min=-1.0-x_max=1.0]": ("failure", r"Timeout"),
        f"exp[{ID}]": ("failure", r"forward raised RuntimeError: exp is broken on purpose"),
        f"flatten[{ID}]": ("failure", r"SystemExit: flatten exits the interpreter on purpose"),
        f"softmax[{ID}-axis=-1]": ("skipped", r"has no functions\.softmax"),
        f"neg[{ID}]": ("passed", r""),
    }
    for case_id, (kind, message) in expected.items():
        got_kind, got_message = outcomes[case_id]
        assert got_kind == kind and re.search(message, got_message), (case_id, got_kind, got_message)


def _run_cases(request, ids, *extra, env=None):
    cache = request.config.getoption("--conformance-cache")
    args = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-n", "0", "-rxX",
            "--impl", "conformance.selftests.bad_impl", "--conformance-cache", cache,
            "--jax-platform", request.config._conformance.platform, *extra]
    args += [f"conformance/test_ops.py::{case_id}" for case_id in ids]
    run = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)
    return run.returncode, run.stdout + run.stderr


def test_known_divergences_are_strict_xfails_and_stale_entries_are_reported(request, tmp_path):
    """A listed failing case is xfailed; a listed case that passes fails the run (strict); an
    entry that matches no case of the domain is reported as stale."""
    ids = [f"exp[{ID}]", f"neg[{ID}]", f"sum[{ID}-axis=0-keepdims=False]"]
    divergences = tmp_path / "bad.toml"
    divergences.write_text(
        '[[divergence]]\ncases = "exp[*]"\nreason = "exp is broken on purpose"\n\n'
        '[[divergence]]\ncases = ["neg[float64-(2,3)]"]\nreason = "neg is said to be broken"\n\n'
        '[[divergence]]\nregex = "nosuchop\\\\[.*"\nreason = "an op that no longer exists"\n')
    code, out = _run_cases(request, ids, "--known-divergences", str(divergences))
    assert code == 1, out
    assert re.search(r"1 failed, 1 passed, 1 xfailed", out), out
    assert re.search(r"XPASS\(strict\)\] neg is said to be broken", out), out
    assert re.search(r"XFAIL .*exp\[float64-\(2,3\)\] - exp is broken on purpose", out), out
    assert "stale known divergence (matches no case): 'nosuchop\\\\[.*'" in out, out


@pytest.mark.parametrize("protocol", ["", "--setup-show", "--runxfail"])
def test_pytests_own_protocol_and_runxfail_still_apply(request, tmp_path, protocol):
    """A case runs as one phase (a call report only); --setup-show (like --pdb) gets pytest's
    three-phase protocol, with the same outcomes; --runxfail reports listed divergences as the
    failures they are."""
    divergences = tmp_path / "bad.toml"
    divergences.write_text('[[divergence]]\ncases = "exp[*]"\nreason = "exp is broken on purpose"\n')
    extra = [protocol] if protocol else []
    code, out = _run_cases(request, [f"exp[{ID}]", f"neg[{ID}]"], *extra, "--durations=0",
                           "--durations-min=0", "--known-divergences", str(divergences))
    phases = set(re.findall(r"^[\d.]+s (setup|call|teardown) ", out, re.MULTILINE))
    if protocol == "--runxfail":
        assert code == 1 and re.search(r"1 failed, 1 passed", out), out
        assert "forward raised RuntimeError: exp is broken on purpose" in out, out
    else:
        assert code == 0 and re.search(r"1 passed, 1 xfailed", out), out
    assert phases == ({"setup", "call", "teardown"} if protocol == "--setup-show" else {"call"}), out
