"""Which ops exercise which functions of `impl`: the map that restricts a tool-generated mutant
to the cases of the ops its mutated function is reached from.

The map is measured, not declared: every selected case of every op (see `select_cases`) runs on
the unmutated implementation under `sys.setprofile`, recording each function of `impl` that is
called. It is kept in `<cache>/mutants/coverage-<digest>.json`, the digest covering the sources
of `impl` and of the suite.
"""
import ast
import difflib
import hashlib
import json
import pathlib
import sys
import warnings

import numpy as np

from conformance.mutants import (ALL_OPS, IMPL_MODULES, ROOT, loaded_impl, read_sources,
                                 select_cases)

SUITE_FILES = ("catalogue.py", "domains.py", "checks.py", "reference.py", "mutants/__init__.py",
               "mutants/coverage.py")


def digest(base=ROOT):
    h = hashlib.sha256()
    for rel in sorted(IMPL_MODULES.values()):
        h.update((pathlib.Path(base) / rel).read_bytes())
    here = pathlib.Path(__file__).resolve().parents[1]
    for rel in SUITE_FILES:
        h.update((here / rel).read_bytes())
    return h.hexdigest()[:20]


def measure(store, base=ROOT, backend="cpu"):
    """{"impl/file.py:Qual.name": [op, ...]} for the implementation at `base`."""
    from conformance.catalogue import CATALOGUE
    from conformance.checks import Checker
    tag = "coverage"
    tracked = {f"{pathlib.Path(base) / rel} [{tag}]": rel for rel in IMPL_MODULES.values()}
    hits = {}
    with loaded_impl(read_sources(base), tag=tag, base=base) as module, \
            warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        checker = Checker(module, store, backend, "impl")
        for op in CATALOGUE:
            seen = set()

            def profile(frame, event, arg, seen=seen):
                if event == "call":
                    rel = tracked.get(frame.f_code.co_filename)
                    if rel is not None:
                        seen.add(f"{rel}:{frame.f_code.co_qualname}")

            for case in select_cases([op.name]):
                sys.setprofile(profile)
                try:
                    checker.run(case)
                except Exception:  # noqa: BLE001 - the baseline reports failures; this only maps
                    pass
                finally:
                    sys.setprofile(None)
            for name in seen:
                hits.setdefault(name, []).append(op.name)
    return hits


def load_or_measure(store, cache_dir, base=ROOT, backend="cpu"):
    path = pathlib.Path(cache_dir) / "mutants" / f"coverage-{digest(base)}.json" if cache_dir else None
    if path is not None and path.exists():
        return json.loads(path.read_text())
    hits = measure(store, base, backend)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(hits, indent=0, sort_keys=True))
        tmp.replace(path)
    return hits


# ----------------------------------------------------------------------------- from a diff to ops

def definitions(source):
    """[(first line, last line, qualified name)] of every function in `source`, as
    `co_qualname` spells them (Class.method, outer.<locals>.inner)."""
    found = []

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = prefix + child.name
                start = min([child.lineno] + [d.lineno for d in child.decorator_list])
                found.append((start, child.end_lineno, name))
                visit(child, name + ".<locals>.")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
            else:
                visit(child, prefix)

    visit(ast.parse(source), "")
    return found


def changed_lines(original, mutated):
    """Line numbers (1-based, in `original`) that the mutation replaced or inserted at."""
    a, b = original.splitlines(), mutated.splitlines()
    lines = set()
    for tag, i1, i2, _, _ in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag != "equal":
            lines.update(range(i1 + 1, max(i2, i1 + 1) + 1))
    return sorted(lines)


def affected(original_sources, mutated_sources):
    """The innermost function enclosing each changed line, as "impl/file.py:Qual.name", or
    "impl/file.py:<module>" for a line outside every function (module or class level)."""
    names = set()
    for module, rel in IMPL_MODULES.items():
        before, after = original_sources[module], mutated_sources[module]
        if before == after:
            continue
        defs = definitions(before)
        for line in changed_lines(before, after):
            enclosing = [d for d in defs if d[0] <= line <= d[1]]
            if enclosing:
                names.add(f"{rel}:{max(enclosing, key=lambda d: d[0])[2]}")
            else:
                names.add(f"{rel}:<module>")
    return sorted(names)


def ops_for(names, coverage):
    """The ops whose cases can reach any of `names` (module-level code: every op)."""
    if any(name.endswith(":<module>") for name in names):
        return (ALL_OPS,)
    ops = set()
    for name in names:
        ops.update(coverage.get(name, ()))
    return tuple(sorted(ops))
