"""The pytest plugin behind the conformance suite (registered by the root conftest.py).

Each catalogue case becomes one test item named by its case id, e.g.
`conformance/test_ops.py::sum[float32-(2,3,4)-axis=(2,-3)-keepdims=True]`.
"""
import gc
import importlib
import os
import pathlib
import re
import time
import tomllib
import warnings

import pytest

from conformance.catalogue import CATALOGUE
from conformance import report as report_module

ROOT = pathlib.Path(__file__).resolve().parent.parent
DIVERGENCES_DIR = pathlib.Path(__file__).resolve().parent / "known_divergences"
CASE_TIMEOUT_S = 300  # the first case of a chunk compiles its whole batch


class CaseSuite:
    """Placed in a test module, expands into one item per catalogue case."""

    def __init__(self, ops=None):
        self.ops = ops


def pytest_addoption(parser):
    group = parser.getgroup("conformance", "DeZero-API conformance against JAX")
    group.addoption("--impl", default="impl",
                    help="module under test, exposing Variable and functions (default: impl)")
    group.addoption("--jax-platform", default=None, choices=("cpu", "gpu", "tpu"),
                    help="JAX platform for the references (default: $JAX_PLATFORMS, else cpu)")
    group.addoption("--conformance-seed", type=int, default=0,
                    help="global seed mixed into every case's seed (default 0)")
    group.addoption("--report-dir", default=None,
                    help="write conformance.md and conformance.json there")
    group.addoption("--known-divergences", default=None,
                    help="TOML file of strict xfails (default: known_divergences/<impl>.toml)")
    group.addoption("--conformance-cache", default=str(ROOT / ".conformance_cache"),
                    help="folder for JAX's compilation cache (jax/) and computed references "
                         "(references/); '' disables both")


def _platform(config):
    chosen = config.getoption("--jax-platform")
    if chosen:
        return chosen
    env = os.environ.get("JAX_PLATFORMS", "").split(",")[0].strip()
    return {"cuda": "gpu", "rocm": "gpu"}.get(env, env) or "cpu"


def _is_controller(config):
    return not hasattr(config, "workerinput")


class ConformanceState:
    """Per-process state: the module under test, the references, the divergences file."""

    def __init__(self, config):
        self.config = config
        self.impl_name = config.getoption("--impl")
        self.platform = _platform(config)
        self.seed = config.getoption("--conformance-seed")
        self.divergences_path = pathlib.Path(
            config.getoption("--known-divergences")
            or DIVERGENCES_DIR / f"{self.impl_name.rsplit('.', 1)[-1]}.toml")
        self.divergences = load_divergences(self.divergences_path)
        self._checker = None
        self.results = report_module.Aggregate()
        self.started = time.time()
        self.backend = None

    def checker(self):
        if self._checker is None:
            from conformance.checks import Checker
            from conformance.reference import ReferenceStore, backend_info, configure_jax
            cache = self.config.getoption("--conformance-cache")
            cache = pathlib.Path(cache) if cache else None
            configure_jax(self.platform, cache and cache / "jax")
            self.backend = backend_info()
            impl = importlib.import_module(self.impl_name)
            for attr in ("Variable", "functions"):
                if not hasattr(impl, attr):
                    raise pytest.UsageError(f"--impl {self.impl_name}: the module has no {attr}; "
                                            "a DeZero-style module exposes Variable and functions")
            store = ReferenceStore(self.seed, cache and cache / "references")
            self._checker = Checker(impl, store, self.backend["backend"], self.impl_name)
        return self._checker


def load_divergences(path):
    """[[divergence]] entries of {cases: glob over case ids, reason: why}."""
    if not path.exists():
        return []
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except tomllib.TOMLDecodeError as error:
        raise pytest.UsageError(f"{path}: not valid TOML: {error}") from None
    entries = data.get("divergence", [])
    for entry in entries:
        glob, regex = entry.get("cases"), entry.get("regex")
        globs = [glob] if isinstance(glob, str) else glob
        if (glob is None) == (regex is None) or not isinstance(entry.get("reason"), str) or (
                glob is not None and not (isinstance(globs, list) and all(isinstance(g, str) for g in globs))) or (
                regex is not None and not isinstance(regex, str)):
            raise pytest.UsageError(f"{path}: every [[divergence]] needs a 'reason' and either "
                                    "'cases' (a glob over case ids, or a list of them) or a 'regex'")
        try:
            entry["matches"] = _matcher(globs) if glob is not None else re.compile(regex + r"\Z").match
        except re.error as error:
            raise pytest.UsageError(f"{path}: bad regex {regex!r}: {error}") from None
        entry["label"] = regex if glob is None else (glob if isinstance(glob, str) else
                                                       f"{len(glob)} listed cases ({entry['reason']})")
    return entries


def id_pattern(glob):
    """A case-id glob: `*` any run of characters, `?` one; everything else, brackets included
    (every case id has them), literal."""
    return re.compile(re.escape(glob).replace(r"\*", ".*").replace(r"\?", ".") + r"\Z")


def _matcher(globs):
    """A predicate over case ids: exact ids by set lookup (a drafted file lists thousands),
    the globs with wildcards by one regex."""
    exact = {g for g in globs if "*" not in g and "?" not in g}
    wild = [id_pattern(g).pattern for g in globs if g not in exact]
    regex = re.compile("|".join(wild)) if wild else None
    return lambda case_id: case_id in exact or bool(regex and regex.match(case_id))


def stale_divergences(entries, case_ids):
    return [e for e in entries if not any(e["matches"](cid) for cid in case_ids)]


def pytest_configure(config):
    config.addinivalue_line("markers", "conformance: a case of the JAX conformance suite")
    config._conformance = ConformanceState(config)
    if _is_controller(config):
        config.pluginmanager.register(ConformanceReporter(config), "conformance-reporter")


def pytest_report_header(config):
    state = config._conformance
    total = sum(len(op.cases()) for op in CATALOGUE)
    return [f"conformance: {total:,} cases over {len(CATALOGUE)} ops; impl under test: "
            f"{state.impl_name}; JAX platform: {state.platform}; seed {state.seed}; "
            f"known divergences: {state.divergences_path.name} ({len(state.divergences)} entries)"]


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector, name, obj):
    if not isinstance(obj, CaseSuite):
        return None
    state = collector.config._conformance
    if collector.get_closest_marker("conformance") is None:
        # On the module, once: every case inherits them (a marker per item costs at collection).
        collector.add_marker(pytest.mark.conformance)
        collector.add_marker(pytest.mark.timeout(CASE_TIMEOUT_S))
    items = []
    for op in CATALOGUE:
        if obj.ops is not None and op.name not in obj.ops:
            continue
        for case in op.cases():
            reason = next((entry["reason"] for entry in state.divergences if entry["matches"](case.id)),
                          None)
            item = ConformanceItem.from_parent(collector, name=case.id, case=case, divergence=reason)
            if reason is not None:
                item.add_marker(pytest.mark.xfail(reason=reason, strict=True))
            items.append(item)
    return items


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    """A conformance case runs as one phase with one report. It has no fixtures, so pytest's
    setup and teardown phases only cost: with three reports per case, each also sent to the xdist
    controller, pytest's protocol takes longer than the checks themselves. Hook wrappers
    (warnings, pytest-timeout's per-case limit) still wrap this; --pdb and --setup-* get pytest's
    own protocol. With --junitxml a teardown report follows, which carries the properties."""
    if not isinstance(item, ConformanceItem) or _standard_protocol(item.config):
        return None
    ihook = item.ihook
    ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    call = pytest.CallInfo.from_call(item.runtest, when="call",
                                     reraise=(pytest.exit.Exception, KeyboardInterrupt))
    report = ihook.pytest_runtest_makereport(item=item, call=call)
    if item.divergence is not None and not item.config.option.runxfail:
        _strict_xfail(report, item.divergence)
    ihook.pytest_runtest_logreport(report=report)
    if getattr(item.config.option, "xmlpath", None):
        # --junitxml writes a test case's properties (the case's facets and worst error) from
        # its teardown report; it matches the two by the report's node id.
        node_id = report.id if hasattr(report, "id") else item.nodeid
        ihook.pytest_runtest_logreport(report=pytest.TestReport(
            node_id, item.location, {}, "passed", None, "teardown", [], 0.0,
            start=call.stop, stop=call.stop, user_properties=item.user_properties))
    ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True


def _standard_protocol(config):
    option = config.option
    return (getattr(option, "usepdb", False) or getattr(option, "setuponly", False)
            or getattr(option, "setupplan", False) or getattr(option, "setupshow", False))


def _strict_xfail(report, reason):
    """What pytest's strict xfail marker does to a call report (the marker stays on the item
    for pytest's own protocol)."""
    if report.failed:
        report.outcome = "skipped"
        report.wasxfail = reason
    elif report.passed:
        report.outcome = "failed"
        report.longrepr = f"[XPASS(strict)] {reason}"


def pytest_collection_finish(session):
    # Some 60,000 items and their cases live for the whole session: keep the cyclic garbage
    # collector from walking them again at every full collection (JAX's tracing triggers many).
    gc.freeze()


class ConformanceItem(pytest.Item):
    def __init__(self, *, case, divergence=None, **kwargs):
        super().__init__(**kwargs)
        self.case = case
        self.divergence = divergence  # the reason of the known divergence it is listed under
        self.user_properties.append(("conformance", self._facets()))

    def _facets(self):
        case = self.case
        return {"op": case.op, "dtype": case.dtype, **case.facet_dict}

    def runtest(self):
        state = self.config._conformance
        from conformance.checks import MissingOp
        if self.case.dtype == "float64":
            from conformance.reference import supports_float64
            state.checker()
            if not supports_float64():
                pytest.skip(f"JAX backend {state.backend['backend']} has no float64")
        checker = state.checker()
        props = dict(self.user_properties)["conformance"]
        props["backend"] = state.backend
        with warnings.catch_warnings():
            # Empty means, 0/0 gradients and the like warn by design; the values are checked.
            warnings.simplefilter("ignore", RuntimeWarning)
            try:
                outcome = checker.run(self.case)
            except MissingOp as missing:
                pytest.skip(str(missing))
        props.update(worst_ratio=outcome.worst_ratio, worst_abs=outcome.worst_abs,
                     checks=list(outcome.checks))

    def repr_failure(self, excinfo):
        from conformance.checks import Mismatch
        if excinfo.errisinstance(Mismatch):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, self.name


class ConformanceReporter:
    """On the controlling process: collects every case's outcome (from xdist workers too) and
    writes the summary and the Markdown/JSON report."""

    def __init__(self, config):
        self.config = config
        self.state = config._conformance

    def pytest_runtest_logreport(self, report):
        props = dict(report.user_properties).get("conformance")
        if props is not None:
            self.state.results.add(report, props)

    def pytest_terminal_summary(self, terminalreporter):
        state = self.state
        if not state.results.total:
            return
        all_ids = [case.id for op in CATALOGUE for case in op.cases()]
        stale = stale_divergences(state.divergences, all_ids)
        meta = {
            "impl": state.impl_name,
            "seed": state.seed,
            "platform_requested": state.platform,
            "wall_seconds": round(time.time() - state.started, 1),
            "known_divergences_file": _display_path(state.divergences_path),
            "stale_divergences": [{"label": e["label"], "reason": e["reason"]} for e in stale],
            "domain_cases": len(all_ids),
        }
        tr = terminalreporter
        tr.section("conformance")
        for line in state.results.summary_lines(meta):
            tr.write_line(line)
        for entry in stale:
            tr.write_line(f"stale known divergence (matches no case): {entry['label']!r}: "
                          f"{entry['reason']}", yellow=True)
        out_dir = self.config.getoption("--report-dir")
        if out_dir:
            paths = state.results.write(pathlib.Path(out_dir), meta)
            tr.write_line("conformance report: " + ", ".join(str(p) for p in paths))


def _display_path(path):
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getoption("dist") != "load":
        return None  # an explicit --dist choice stands
    from conformance.scheduling import ReferenceScopeScheduling
    return ReferenceScopeScheduling(config, log)
