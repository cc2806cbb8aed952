"""Mutation testing of the conformance suite: does it catch realistic autodiff bugs?

A mutant is a copy of `impl` with one or more source edits. It is loaded in-process under the
name `impl` (its modules are compiled from the edited source into fresh module objects, swapped
into `sys.modules` only while its cases run), so the working tree is never touched, and checked
with the suite's own `Checker` on the cases of the ops it affects (see `select_cases`). A mutant
is *killed* when some case fails (a `Mismatch`, an error from the implementation, or the time
limit), and *survives* when every selected case passes.

- `python -m conformance.mutants` runs the curated mutants of `conformance/mutants/catalogue.py`
  (hand-written, realistic autodiff bugs) and exits non-zero when one survives;
- `python -m conformance.mutants.cosmic` runs the cosmic-ray mutation tool over a file of `impl/`
  with `conformance.mutants.tool_test` as its test command (see README.md here).
"""
import contextlib
import dataclasses
import importlib
import importlib.abc
import importlib.util
import linecache
import os
import pathlib
import signal
import sys
import time
import warnings
from typing import Optional

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
IMPL_MODULES = {  # module name -> file, relative to the directory that holds `impl/`
    "impl": "impl/__init__.py",
    "impl.axes": "impl/axes.py",
    "impl.backend": "impl/backend.py",
    "impl.core": "impl/core.py",
    "impl.functions": "impl/functions.py",
}
DEFAULT_CACHE = ROOT / ".conformance_cache"
ALL_OPS = "*"


# ----------------------------------------------------------------------------- mutants

@dataclasses.dataclass(frozen=True)
class Edit:
    """Replace `old` (which must occur exactly once in `file`) by `new`."""
    file: str
    old: str
    new: str


@dataclasses.dataclass(frozen=True)
class Mutant:
    name: str
    edits: tuple            # of Edit
    ops: tuple              # catalogue op names whose cases are run, or ("*",) for all
    description: str


class StaleMutant(Exception):
    """A mutant's `old` snippet no longer occurs exactly once in the source: update the catalogue."""


def mutant(name, file, old, new, ops, description, more_edits=()):
    """A curated mutant of one edit (plus `more_edits`, (file, old, new) triples)."""
    ops = (ops,) if isinstance(ops, str) else tuple(ops)
    edits = (Edit(file, old, new),) + tuple(Edit(*e) for e in more_edits)
    return Mutant(name, edits, ops, description)


def read_sources(base=ROOT):
    return {name: (pathlib.Path(base) / rel).read_text() for name, rel in IMPL_MODULES.items()}


def mutated_sources(m, base=ROOT):
    """The sources of `impl` with the mutant's edits applied (the files are only read)."""
    sources = read_sources(base)
    by_file = {rel: name for name, rel in IMPL_MODULES.items()}
    for edit in m.edits:
        if edit.file not in by_file:
            raise StaleMutant(f"{m.name}: {edit.file} is not a module of impl ({', '.join(by_file)})")
        module = by_file[edit.file]
        count = sources[module].count(edit.old)
        if count != 1:
            raise StaleMutant(f"{m.name}: the snippet to replace occurs {count} times in {edit.file} "
                              f"(must be exactly once):\n{edit.old}")
        sources[module] = sources[module].replace(edit.old, edit.new, 1)
    return sources


class _SourceLoader(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves the modules of `impl` from given source text instead of the files."""

    def __init__(self, sources, tag, base):
        self.sources = sources
        self.tag = tag
        self.base = pathlib.Path(base)

    def find_spec(self, name, path=None, target=None):
        if name not in self.sources:
            return None
        file = self.base / IMPL_MODULES[name]
        is_package = file.name == "__init__.py"
        spec = importlib.util.spec_from_loader(name, self, origin=f"{file} [{self.tag}]",
                                               is_package=is_package)
        if is_package:
            spec.submodule_search_locations = [str(file.parent)]
        return spec

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        filename = f"{self.base / IMPL_MODULES[module.__name__]} [{self.tag}]"
        source = self.sources[module.__name__]
        # Tracebacks then show the mutated lines, not the file's.
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        module.__file__ = filename
        with warnings.catch_warnings():
            # A mutant's `x is "b"` compiles with a SyntaxWarning: noise, not a finding.
            warnings.simplefilter("ignore", SyntaxWarning)
            code = compile(source, filename, "exec", dont_inherit=True)
        exec(code, module.__dict__)


def _is_impl(name):
    return name == "impl" or name.startswith("impl.")


@contextlib.contextmanager
def loaded_impl(sources, tag="mutant", base=ROOT):
    """Fresh module objects for `impl` compiled from `sources`, installed as `impl` in
    `sys.modules` for the duration (its late `from impl import functions` imports resolve to
    them); the previous `impl` modules are put back afterwards."""
    saved = {name: module for name, module in sys.modules.items() if _is_impl(name)}
    for name in saved:
        del sys.modules[name]
    loader = _SourceLoader(sources, tag, base)
    sys.meta_path.insert(0, loader)
    try:
        yield importlib.import_module("impl")
    finally:
        sys.meta_path.remove(loader)
        for name in [n for n in sys.modules if _is_impl(n)]:
            del sys.modules[name]
        sys.modules.update(saved)
        for name in sources:
            linecache.cache.pop(f"{pathlib.Path(base) / IMPL_MODULES[name]} [{tag}]", None)


# ----------------------------------------------------------------------------- case selection

def _representative(group):
    """Two stable picks from a group of equivalent spellings: the first and a pseudo-random one."""
    from conformance.catalogue import seed_of
    picks = {group[0].id: group[0]}
    other = min(group, key=lambda c: seed_of(c.id, "mutants"))
    picks.setdefault(other.id, other)
    return list(picks.values())


def select_cases(op_names):
    """The cases a mutant of these ops is checked on: every invalid spelling (no reference
    needed), every canonical spelling (each needs its own JAX reference), and for each dtype,
    shape and facet (axis kind: negative, unsorted, ...; keepdims) two of the other spellings,
    which share their canonical case's reference. About a quarter of the full domain."""
    from conformance.catalogue import BY_NAME, CATALOGUE
    names = [op.name for op in CATALOGUE] if ALL_OPS in op_names else list(op_names)
    selected = []
    for name in names:
        groups = {}
        for case in BY_NAME[name].cases():
            if not case.is_valid or case.params == case.canonical:
                selected.append(case)
            else:
                groups.setdefault((case.dtype, case.shapes, case.facets), []).append(case)
        for group in groups.values():
            selected.extend(_representative(group))
    return selected


# ----------------------------------------------------------------------------- running

class MutantTimeout(BaseException):
    """The mutant ran past its time limit (an infinite loop counts as killed)."""


@contextlib.contextmanager
def time_limit(seconds):
    if not seconds or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum, frame):
        raise MutantTimeout(f"ran past its time limit of {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    started = time.monotonic()
    outer, _ = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer:  # an enclosing timer (pytest-timeout's, say) keeps what is left of its time
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - started), 1e-3))


@dataclasses.dataclass
class Result:
    name: str
    status: str                  # killed, survived, timeout, incompetent (does not import)
    cases_run: int = 0
    cases_failed: int = 0
    first_failure: Optional[str] = None   # case id
    message: str = ""
    seconds: float = 0.0

    @property
    def killed(self):
        return self.status != "survived"


def make_store(seed=0, cache=DEFAULT_CACHE, platform="cpu"):
    """A ReferenceStore reading/writing `cache`/references (JAX configured for `platform`)."""
    from conformance.reference import ReferenceStore, configure_jax
    cache = pathlib.Path(cache) if cache else None
    configure_jax(platform, cache and cache / "jax")
    return ReferenceStore(seed, cache and cache / "references")


class Runner:
    """Checks implementations (the original or mutants) on selected cases, sharing one
    ReferenceStore, so every JAX reference is computed (or read from disk) once per run."""

    def __init__(self, store, backend="cpu", timeout=120.0, all_cases=False):
        self.store = store
        self.backend = backend
        self.timeout = timeout
        self.all_cases = all_cases   # run every selected case, not only up to the first failure
        self._selection = {}

    def cases_for(self, ops):
        key = tuple(sorted(ops))
        if key not in self._selection:
            self._selection[key] = select_cases(key)
        return self._selection[key]

    def check(self, impl_module, cases, name="impl"):
        """Run `cases` on `impl_module`; a Result (status killed at the first failing case)."""
        from conformance.checks import Checker, MissingOp
        checker = Checker(impl_module, self.store, self.backend, name)
        result = Result(name, "survived")
        started = time.perf_counter()
        try:
            with time_limit(self.timeout), warnings.catch_warnings(), \
                    np.errstate(all="ignore"):
                warnings.simplefilter("ignore", RuntimeWarning)
                for case in cases:
                    result.cases_run += 1
                    try:
                        checker.run(case)
                    except MissingOp as missing:
                        self._fail(result, case, f"missing op: {missing}")
                    except (KeyboardInterrupt, MutantTimeout):
                        raise
                    except BaseException as failure:  # noqa: BLE001 - Mismatch, the impl's own
                        # error, or even its SystemExit: each is this case's failure; but not
                        # pytest's own outcomes (a pytest-timeout of an enclosing test, say)
                        if type(failure).__module__.startswith(("_pytest", "pytest")):
                            raise
                        self._fail(result, case, f"{type(failure).__name__}: {failure}"
                                   if not isinstance(failure, AssertionError) else str(failure))
                    if result.cases_failed and not self.all_cases:
                        break
        except MutantTimeout as timeout:
            result.status = "timeout"
            result.message = f"{timeout} (at case {result.cases_run} of {len(cases)})"
        result.seconds = time.perf_counter() - started
        return result

    @staticmethod
    def _fail(result, case, message):
        result.cases_failed += 1
        if result.first_failure is None:
            result.status = "killed"
            result.first_failure = case.id
            result.message = message

    def run_sources(self, sources, ops, name):
        """Load `impl` from `sources` and check it on the cases of `ops`."""
        cases = self.cases_for(ops)
        try:
            context = loaded_impl(sources, tag=name)
            module = context.__enter__()
        except Exception as error:  # noqa: BLE001 - a mutant that does not even import
            return Result(name, "incompetent", message=f"import failed: {type(error).__name__}: {error}")
        try:
            return self.check(module, cases, name)
        finally:
            context.__exit__(None, None, None)

    def run_mutant(self, m):
        return self.run_sources(mutated_sources(m), m.ops, m.name)

    def baseline(self, ops):
        """The unmutated implementation on the same cases: must pass, or kills mean nothing. It
        has no time limit: it also computes (or loads) every JAX reference the mutants need."""
        timeout, self.timeout = self.timeout, None
        try:
            return self.run_sources(read_sources(), ops, "baseline")
        finally:
            self.timeout = timeout


def first_line(text, width=160):
    line = next((l.strip() for l in str(text).splitlines() if l.strip()), "")
    return line if len(line) <= width else line[:width - 3] + "..."


def cpu_count():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
