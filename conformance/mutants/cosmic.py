"""Tool-generated mutants: run cosmic-ray over files of `impl/` with the conformance suite as the
test command, restricted per mutant to the cases of the ops that reach the mutated function.

    python -m conformance.mutants.cosmic impl/functions.py --sample 150
    python -m conformance.mutants.cosmic impl/axes.py impl/core.py --sample 0   # every mutant
    python -m conformance.mutants.cosmic impl/core.py --sample 0 --only PowConst --only Pow

cosmic-ray mutates files in place, so it works on a copy of the repository in a temporary folder
(`--workdir` to choose and keep it); the working tree is never touched. For each file: a copy of
`impl/` and `conformance/` is made, cosmic-ray's session is initialised (`cosmic-ray init`), a
seeded random sample of its mutants is kept (the others are marked skipped), and `cosmic-ray exec`
runs `python -m conformance.mutants.tool_test` for each: that command finds the mutated function,
the ops whose cases reach it (coverage.py) and checks those cases in-process. Survivors are
matched against `equivalent.toml` (explained survivors); the rest are listed with their diffs.
Exit status 1 when a survivor is unexplained.
"""
import argparse
import fnmatch
import json
import pathlib
import random
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib

from conformance.mutants import DEFAULT_CACHE, ROOT, make_store

HERE = pathlib.Path(__file__).resolve().parent
EQUIVALENT = HERE / "equivalent.toml"


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m conformance.mutants.cosmic",
                                     description="cosmic-ray over impl/, tested by the conformance suite")
    parser.add_argument("files", nargs="*", default=["impl/functions.py"],
                        help="files of impl/ to mutate (default impl/functions.py)")
    parser.add_argument("--sample", type=int, default=150,
                        help="mutants per file, drawn at random (0: all; default 150)")
    parser.add_argument("--sample-seed", type=int, default=0)
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help="keep only the mutants inside this class, function or Class.method "
                             "of the file (repeatable); --sample then draws among them")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per mutant (default 300)")
    parser.add_argument("--cache", default=str(DEFAULT_CACHE))
    parser.add_argument("--workdir", default=None, help="keep the copies and sessions here")
    parser.add_argument("--json", metavar="FILE", help="write every mutant's outcome as JSON")
    parser.add_argument("--report-only", action="store_true",
                        help="do not run: report the sessions already in --workdir")
    return parser.parse_args(argv)


def cosmic_ray_command():
    exe = pathlib.Path(sys.executable).with_name("cosmic-ray")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("cosmic-ray")
    if found:
        return [found]
    raise SystemExit("cosmic-ray is not installed: `.venv/bin/pip install cosmic-ray` (8.x)")


def make_copy(dest):
    """impl/ and conformance/ copied to `dest` (no caches, no tests of impl)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "tests", ".hypothesis")
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    shutil.copytree(ROOT / "impl", dest / "impl", ignore=ignore)
    shutil.copytree(ROOT / "conformance", dest / "conformance", ignore=ignore)
    return dest


def write_config(path, module, pristine, cache, timeout):
    command = [sys.executable, "-m", "conformance.mutants.tool_test", "--pristine", str(pristine),
               "--cache", str(cache), "--timeout", str(max(1.0, timeout - 30))]
    path.write_text(
        "[cosmic-ray]\n"
        f"module-path = {json.dumps(module)}\n"
        f"timeout = {float(timeout)}\n"
        "excluded-modules = []\n"
        f"test-command = {json.dumps(shlex.join(command))}\n\n"
        "[cosmic-ray.distributor]\n"
        'name = "local"\n')


def line_ranges(source, names):
    """The (first, last) source lines of each named top-level class or function, or Class.method."""
    import ast
    tree = ast.parse(source)
    ranges = []
    for name in names:
        scope, found = tree.body, None
        for part in name.split("."):
            found = next((node for node in scope if isinstance(
                node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == part), None)
            if found is None:
                raise SystemExit(f"--only {name}: no such class or function in the file")
            scope = found.body
        ranges.append((found.lineno, found.end_lineno))
    return ranges


def sample_session(session, n, seed, ranges=None):
    """Keep `n` random work items pending (among those inside `ranges` of lines, if given); mark
    the others skipped. Returns (total, kept)."""
    from cosmic_ray.work_db import use_db, WorkDB
    from cosmic_ray.work_item import WorkResult, WorkerOutcome
    with use_db(str(session), mode=WorkDB.Mode.open) as db:
        items = sorted(db.work_items, key=lambda w: w.job_id)
        # job ids are random uuids: order by what the mutation is, so a seed picks the same mutants
        items.sort(key=lambda w: tuple((str(m.module_path), m.operator_name, m.occurrence)
                                       for m in w.mutations))
        eligible = items if not ranges else [
            w for w in items if all(any(a <= m.start_pos[0] <= b for a, b in ranges) for m in w.mutations)]
        chosen = eligible if not n or n >= len(eligible) else random.Random(seed).sample(eligible, n)
        keep = set(w.job_id for w in chosen)
        skipped = [w.job_id for w in items if w.job_id not in keep]
        if skipped:
            db.set_multiple_results(skipped, WorkResult(worker_outcome=WorkerOutcome.SKIPPED,
                                                       output="not in the sample"))
        return len(items), len(keep)


def load_equivalents(path=EQUIVALENT):
    if not path.exists():
        return []
    with open(path, "rb") as f:
        entries = tomllib.load(f).get("equivalent", [])
    for entry in entries:
        if not all(isinstance(entry.get(k), str) for k in ("file", "line", "reason")):
            raise SystemExit(f"{path}: every [[equivalent]] needs file, line and reason strings")
    return entries


def diff_lines(diff):
    """(original line, mutated line) of a unified diff, stripped."""
    minus = [l[1:].strip() for l in diff.splitlines() if l.startswith("-") and not l.startswith("---")]
    plus = [l[1:].strip() for l in diff.splitlines() if l.startswith("+") and not l.startswith("+++")]
    return (minus[0] if minus else ""), (plus[0] if plus else "")


def explain(record, entries):
    for entry in entries:
        if entry["file"] != record["file"] or entry["line"] != record["line"]:
            continue
        if "mutated" in entry and entry["mutated"] != record["mutated"]:
            continue
        if "operator" in entry and not fnmatch.fnmatchcase(record["operator"], entry["operator"]):
            continue
        return entry
    return None


def collect(session, file):
    from cosmic_ray.work_db import use_db, WorkDB
    records = []
    with use_db(str(session), mode=WorkDB.Mode.open) as db:
        for item, result in db.completed_work_items:
            if result.worker_outcome.value == "skipped":
                continue
            mutation = item.mutations[0]
            line, mutated = diff_lines(result.diff or "")
            output = result.output or ""
            records.append({
                "file": file, "operator": mutation.operator_name, "occurrence": mutation.occurrence,
                "lineno": mutation.start_pos[0], "definition": mutation.definition_name,
                "line": line, "mutated": mutated,
                "outcome": (result.test_outcome.value if result.test_outcome
                            else result.worker_outcome.value),
                "timeout": output.strip() == "timeout",
                "detail": next((l for l in output.splitlines()
                                if l.startswith(("KILLED", "SURVIVED"))), output.strip()[-200:]),
                "diff": result.diff or "",
            })
    return records


def run_file(file, args, workdir, cache):
    name = file.replace("/", "_").replace(".py", "")
    base = workdir / name
    pristine = make_copy(base / "pristine")
    sandbox = make_copy(base / "sandbox")
    config = base / "cosmic-ray.toml"
    session = base / "session.sqlite"
    write_config(config, file, pristine, cache, args.timeout)
    # The coverage map of this very copy of impl/ (the working tree may have moved on since the
    # last map), measured here so that no mutant's time limit pays for it.
    from conformance.mutants import coverage
    coverage.load_or_measure(make_store(0, cache), cache, base=pristine)
    cr = cosmic_ray_command()
    subprocess.run(cr + ["init", str(config), str(session)], cwd=sandbox, check=True)
    ranges = line_ranges((ROOT / file).read_text(), args.only) if args.only else None
    total, kept = sample_session(session, args.sample, args.sample_seed, ranges)
    print(f"{file}: cosmic-ray made {total} mutants; running {kept}", flush=True)
    started = time.time()
    subprocess.run(cr + ["exec", str(config), str(session)], cwd=sandbox, check=True)
    print(f"{file}: ran in {time.time() - started:.0f} s", flush=True)
    return session, total


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    cache = pathlib.Path(args.cache).resolve() if args.cache else None
    if cache is None:
        raise SystemExit("the tool run needs a cache folder (the coverage map and references live there)")
    workdir = pathlib.Path(args.workdir).resolve() if args.workdir else pathlib.Path(
        tempfile.mkdtemp(prefix="cosmic-ray-impl-"))
    entries = load_equivalents()
    if not args.report_only:
        cosmic_ray_command()

    records, totals = [], {}
    for file in args.files:
        name = file.replace("/", "_").replace(".py", "")
        session = workdir / name / "session.sqlite"
        if not args.report_only:
            session, totals[file] = run_file(file, args, workdir, cache)
        records.extend(collect(session, file))

    for record in records:
        entry = explain(record, entries) if record["outcome"] == "survived" else None
        record["explained"] = entry["reason"] if entry else None
    report(records, totals)
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(records, indent=1))
    print(f"sessions and copies: {workdir}")
    return 1 if any(r["outcome"] == "survived" and not r["explained"] for r in records) else 0


def report(records, totals):
    by_outcome = {}
    for r in records:
        by_outcome.setdefault(r["outcome"], []).append(r)
    killed = len(by_outcome.get("killed", []))
    survived = by_outcome.get("survived", [])
    explained = [r for r in survived if r["explained"]]
    unexplained = [r for r in survived if not r["explained"]]
    other = {k: len(v) for k, v in by_outcome.items() if k not in ("killed", "survived")}
    run = len(records)
    print(f"\ntool mutants (cosmic-ray): {run} run"
          + (f" of {sum(totals.values())} generated" if totals else "")
          + f"; killed {killed} ({sum(r['timeout'] for r in by_outcome.get('killed', []))} by timeout), "
          f"survived {len(survived)} ({len(explained)} explained in equivalent.toml)"
          + (f", other {other}" if other else ""))
    if run:
        scored = run - len(explained) - sum(other.values())
        print(f"kill rate: {killed}/{run} = {100 * killed / run:.1f}% of all run; "
              f"{killed}/{scored} = {100 * killed / max(scored, 1):.1f}% excluding explained survivors")
    for r in unexplained:
        print(f"\nSURVIVED {r['file']}:{r['lineno']} {r['operator']} #{r['occurrence']} "
              f"(in {r['definition']}): {r['detail']}\n  - {r['line']}\n  + {r['mutated']}")


if __name__ == "__main__":
    sys.exit(main())
