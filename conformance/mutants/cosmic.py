"""Tool-generated mutants: run cosmic-ray over files of `impl/` with the conformance suite as the
test command, restricted per mutant to the cases of the ops that reach the mutated function.

    python -m conformance.mutants.cosmic impl/functions.py --sample 150
    python -m conformance.mutants.cosmic impl/axes.py impl/core.py --sample 0   # every mutant
    python -m conformance.mutants.cosmic impl/core.py --sample 0 --only PowConst --only Pow

For each file, cosmic-ray's session is initialised (`cosmic-ray init`: the tool finds every
mutation its operators can make) and a seeded random sample of its mutants is kept (the others
are marked skipped). Then each kept mutant is run, in one of two ways (`--exec`):

- `in-process` (the default): worker processes, started once, apply each mutation with
  cosmic-ray's own `mutate_code` to the source text in memory, load the mutated `impl` as fresh
  modules and check the cases there (tool_test.check_mutated); the outcome and diff go into the
  session as cosmic-ray would record them. No file is ever written, and no mutant pays for
  starting Python, NumPy and JAX: about 40x less time per mutant than `cosmic-ray exec`.
- `cosmic-ray`: `cosmic-ray exec`, which mutates the file on disk (in a copy of the repository
  in the work folder) and runs `python -m conformance.mutants.tool_test` per mutant.

Survivors are matched against `equivalent.toml` (explained survivors); the rest are listed with
their diffs. Exit status 1 when a survivor is unexplained.
"""
import argparse
import contextlib
import difflib
import fnmatch
import json
import multiprocessing
import multiprocessing.connection
import pathlib
import random
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib

from conformance.mutants import (DEFAULT_CACHE, IMPL_MODULES, ROOT, cpu_count, make_store,
                                 read_sources)

HERE = pathlib.Path(__file__).resolve().parent
EQUIVALENT = HERE / "equivalent.toml"
# How long past the per-mutant limit (which the worker enforces itself, with a signal) a worker
# may stay silent before it is stopped: a hang inside C code, where no signal handler runs.
NO_ANSWER_GRACE_S = 60.0


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
    parser.add_argument("--exec", dest="executor", choices=("in-process", "cosmic-ray"),
                        default="in-process", help="how mutants are run (default in-process)")
    parser.add_argument("--jobs", type=int, default=cpu_count(),
                        help="worker processes for --exec in-process (default: the usable CPUs)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per mutant (default 300)")
    parser.add_argument("--cache", default=str(DEFAULT_CACHE))
    parser.add_argument("--workdir", default=None, help="keep the sessions (and copies) here")
    parser.add_argument("--resume", action="store_true",
                        help="continue the sessions already in --workdir: run their pending mutants")
    parser.add_argument("--rerun-survivors", action="store_true",
                        help="with --resume: run the survivors again too (after adding cases)")
    parser.add_argument("--json", metavar="FILE", help="write every mutant's outcome as JSON")
    parser.add_argument("--report-only", action="store_true",
                        help="do not run: report the sessions already in --workdir")
    args = parser.parse_args(argv)
    args.resume = args.resume or args.rerun_survivors
    return args


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
                "timeout": output.strip() == "timeout" or "KILLED (timeout" in output,
                "detail": next((l for l in output.splitlines()
                                if l.startswith(("KILLED", "SURVIVED"))), output.strip()[-200:]),
                "diff": result.diff or "",
            })
    return records


def session_path(workdir, file):
    """Where cosmic-ray's session for `file` lives in the work folder."""
    return workdir / file.replace("/", "_").replace(".py", "") / "session.sqlite"


def run_file(file, args, workdir, cache):
    """cosmic-ray's session for `file` in `workdir`, initialised and sampled unless resumed, and
    run."""
    session = session_path(workdir, file)
    base = session.parent
    pristine = workdir / "pristine"
    config = base / "cosmic-ray.toml"
    if not args.resume or not session.exists():
        base.mkdir(parents=True, exist_ok=True)
        session.unlink(missing_ok=True)
        write_config(config, file, pristine, cache, args.timeout)
        subprocess.run(cosmic_ray_command() + ["init", str(config), str(session)], cwd=pristine,
                       check=True)
        ranges = line_ranges((pristine / file).read_text(), args.only) if args.only else None
        total, kept = sample_session(session, args.sample, args.sample_seed, ranges)
        print(f"{file}: cosmic-ray made {total} mutants; running {kept}", flush=True)
    elif args.rerun_survivors:
        print(f"{file}: {forget_survivors(session)} survivors to run again", flush=True)
    started = time.time()
    if args.executor == "cosmic-ray":
        sandbox = make_copy(base / "sandbox")
        subprocess.run(cosmic_ray_command() + ["exec", str(config), str(session)], cwd=sandbox,
                       check=True)
    else:
        execute_in_process(session, file, pristine, cache, args)
    print(f"{file}: ran in {time.time() - started:.0f} s", flush=True)


def prepare(pristine, cache):
    """The coverage map of the snapshot, and a baseline check that the unmutated impl passes
    every selected case (kills mean nothing otherwise); both fill the caches the mutants read,
    so that no mutant's time limit pays for them."""
    from conformance.mutants import ALL_OPS, Runner, first_line
    from conformance.mutants import coverage
    store = make_store(0, cache)
    coverage.load_or_measure(store, cache, base=pristine)
    baseline = Runner(store, timeout=None).run_sources(read_sources(pristine), (ALL_OPS,), "baseline")
    if baseline.killed:
        raise SystemExit(f"the unmutated impl fails {baseline.first_failure}: "
                         f"{first_line(baseline.message)}; fix it before mutation testing")
    print(f"baseline: the unmutated impl passes all {baseline.cases_run} selected cases "
          f"({baseline.seconds:.0f} s)", flush=True)


def forget_survivors(session):
    """Delete the survivors' results from the session, so that they are pending again."""
    import sqlite3
    with contextlib.closing(sqlite3.connect(session)) as db, db:
        return db.execute("DELETE FROM work_results WHERE test_outcome = 'SURVIVED'").rowcount


def count_items(session):
    from cosmic_ray.work_db import use_db, WorkDB
    with use_db(str(session), mode=WorkDB.Mode.open) as db:
        return db.num_work_items


def _mutation_key(item):
    return tuple((str(m.module_path), m.operator_name, m.occurrence) for m in item.mutations)


def execute_in_process(session, file, pristine, cache, args, worker=None):
    """Run the session's pending mutants in `args.jobs` worker processes (`worker`, default
    `_worker`), each result stored in the session as soon as it arrives (an interrupted run can
    be resumed). A worker that dies or stops answering (a mutant that crashes the interpreter
    or hangs where no signal reaches it) has its mutant counted killed and is replaced."""
    from cosmic_ray.work_db import use_db, WorkDB
    from cosmic_ray.work_item import TestOutcome, WorkResult, WorkerOutcome
    with use_db(str(session), mode=WorkDB.Mode.open) as db:
        queue = sorted(db.pending_work_items, key=_mutation_key)
        if not queue:
            return
        total, done, killed = len(queue), 0, 0
        context = multiprocessing.get_context("spawn")   # no JAX state forked into workers
        workers = {}    # connection -> [process, job id in flight, when it was sent, ready]
        limit = args.timeout + NO_ANSWER_GRACE_S

        def start():
            mine, theirs = context.Pipe()
            process = context.Process(target=worker or _worker, daemon=True,
                                      args=(theirs, str(pristine), str(cache), args.timeout))
            process.start()
            theirs.close()
            workers[mine] = [process, None, None, False]

        def record(job_id, result):
            nonlocal done, killed
            db.set_result(job_id, result)
            done += 1
            killed += result.test_outcome == TestOutcome.KILLED
            if done % 25 == 0 or done == total:
                rate = (time.time() - started) / done
                print(f"{file}: {done}/{total} run, {killed} killed; "
                      f"about {rate * (total - done) / 60:.0f} min left", flush=True)

        def lost(conn, why):
            process, job_id, _, _ = workers.pop(conn)
            process.kill()
            process.join()
            conn.close()
            if job_id is not None:
                record(job_id, WorkResult(worker_outcome=WorkerOutcome.NORMAL,
                                          test_outcome=TestOutcome.KILLED,
                                          output=f"KILLED ({why})", diff=None))
            if queue:
                start()

        def dispatch(conn):
            entry = workers[conn]
            if not queue:
                conn.send(None)
                workers.pop(conn)
                entry[0].join()
                return
            item = queue.pop(0)
            mutation, = item.mutations
            conn.send((item.job_id, str(mutation.module_path), mutation.operator_name,
                       mutation.occurrence, dict(mutation.operator_args)))
            entry[1], entry[2] = item.job_id, time.monotonic()

        started = time.time()
        for _ in range(max(1, min(args.jobs, len(queue)))):
            start()
        while workers:
            sentinels = {entry[0].sentinel: conn for conn, entry in workers.items()}
            for ready in multiprocessing.connection.wait(list(workers) + list(sentinels),
                                                          timeout=min(5.0, limit)):
                conn = sentinels.get(ready, ready)
                if conn not in workers:
                    continue
                try:
                    message = conn.recv()
                except (EOFError, OSError):
                    workers[conn][0].join(1)
                    code = workers[conn][0].exitcode
                    if not workers[conn][3]:
                        # Not a mutant's doing: replacing the worker would fail the same way.
                        raise SystemExit(f"a mutant worker died while starting (exit code {code}); "
                                         f"its error is printed above")
                    lost(conn, f"the mutant crashed its worker process (exit code {code})")
                    continue
                if message == "ready":
                    workers[conn][3] = True
                else:
                    job_id, outcome, output, diff = message
                    workers[conn][1] = None
                    record(job_id, _work_result(outcome, output, diff))
                dispatch(conn)
            now = time.monotonic()
            for conn, (_, job_id, sent, _) in list(workers.items()):
                if job_id is not None and now - sent > limit:
                    lost(conn, f"timeout: no answer in {limit:g} s")


def _work_result(outcome, output, diff):
    from cosmic_ray.work_item import TestOutcome, WorkResult, WorkerOutcome
    if outcome == "no-test":
        return WorkResult(worker_outcome=WorkerOutcome.NO_TEST, output=output)
    if outcome == "exception":
        return WorkResult(worker_outcome=WorkerOutcome.EXCEPTION, output=output,
                          test_outcome=TestOutcome.INCOMPETENT, diff=diff)
    return WorkResult(worker_outcome=WorkerOutcome.NORMAL, output=output, diff=diff,
                      test_outcome=TestOutcome.KILLED if outcome == "killed" else TestOutcome.SURVIVED)


def _worker(conn, pristine, cache, timeout):
    """One worker process: loads NumPy, JAX, the references and the coverage map once, then
    takes (job id, file, operator, occurrence, operator args) until it gets None."""
    import traceback
    from cosmic_ray.mutating import mutate_code
    from cosmic_ray.plugins import get_operator
    from conformance.mutants import Runner
    from conformance.mutants import coverage as coverage_module
    from conformance.mutants.tool_test import check_mutated
    store = make_store(0, cache)
    original = read_sources(pristine)
    coverage = coverage_module.load_or_measure(store, cache, pristine)
    runner = Runner(store, timeout=timeout)
    module_of = {rel: name for name, rel in IMPL_MODULES.items()}
    conn.send("ready")
    while (job := conn.recv()) is not None:
        job_id, path, operator_name, occurrence, operator_args = job
        module = module_of[path]
        code = mutate_code(original[module], get_operator(operator_name)(**operator_args),
                           occurrence)
        if code is None:
            conn.send((job_id, "no-test", "cosmic-ray found no such mutation", None))
            continue
        diff = "\n".join(["--- mutation diff ---"] + list(difflib.unified_diff(
            original[module].split("\n"), code.split("\n"), "a/" + path, "b/" + path, lineterm="")))
        try:
            was_killed, output = check_mutated(runner, coverage, original, dict(original, **{module: code}))
        except Exception:  # noqa: BLE001 - the machinery's own failure, recorded as such
            conn.send((job_id, "exception", traceback.format_exc(), diff))
            continue
        conn.send((job_id, "killed" if was_killed else "survived", output, diff))


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

    if not args.report_only:
        pristine = workdir / "pristine"
        if not (args.resume and pristine.exists()):
            # A snapshot: mutations are found in, and applied to, this copy of impl/, whatever
            # happens to the working tree meanwhile.
            make_copy(pristine)
        prepare(pristine, cache)
    records, totals, complete = [], {}, []
    for file in args.files:
        session = session_path(workdir, file)
        if not args.report_only:
            run_file(file, args, workdir, cache)
        found = collect(session, file)
        records.extend(found)
        generated = count_items(session)
        if not args.report_only:
            totals[file] = generated
        if len(found) == generated:
            complete.append(file)

    used = set()
    for record in records:
        entry = explain(record, entries) if record["outcome"] == "survived" else None
        record["explained"] = entry["reason"] if entry else None
        if entry:
            used.add(id(entry))
    report(records, totals)
    # Only a run of every mutant of a file can tell that an explanation has nothing left to explain.
    unused = [e for e in entries if e["file"] in complete and id(e) not in used]
    for entry in unused:
        print(f"\nunused entry of equivalent.toml (its mutants are now killed or gone): "
              f"{entry['file']}: {entry['line']}" + (f" -> {entry['mutated']}" if "mutated" in entry else ""))
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(records, indent=1))
    print(f"sessions and the impl/ snapshot: {workdir}")
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
