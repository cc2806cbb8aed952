"""The in-process executor of tool-generated mutants (conformance/mutants/cosmic.py): cosmic-ray's
own mutations applied in memory, every outcome stored in its session, crashes and hangs counted
as kills without stopping the run."""
import argparse
import json
import subprocess

import pytest

from cosmic_ray.work_db import WorkDB, use_db
from cosmic_ray.work_item import MutationSpec, WorkItem

from conformance.mutants import IMPL_MODULES, ROOT, cosmic
from conformance.mutants import coverage as coverage_module
from conformance.selftests import fake_mutant_worker as fake


def fake_session(path, occurrences):
    with use_db(str(path), WorkDB.Mode.create) as db:
        db.add_work_items(
            WorkItem.single(f"job-{i}", MutationSpec("impl/axes.py", "core/NumberReplacer",
                                                     occurrence, (1, 0), (1, 1)))
            for i, occurrence in enumerate(occurrences))


def outcomes(session, file="impl/axes.py"):
    return {r["occurrence"]: r for r in cosmic.collect(session, file)}


def test_every_outcome_is_stored_and_crashes_and_hangs_count_as_kills(tmp_path, monkeypatch):
    monkeypatch.setattr(cosmic, "NO_ANSWER_GRACE_S", 0.5)
    session = tmp_path / "session.sqlite"
    order = [fake.CRASHES, fake.KILLED, fake.HANGS, fake.SURVIVED, fake.NO_TEST]
    fake_session(session, order)
    args = argparse.Namespace(jobs=2, timeout=1.0)
    cosmic.execute_in_process(session, "impl/axes.py", tmp_path, tmp_path, args, worker=fake.worker)

    records = cosmic.collect(session, "impl/axes.py")
    assert len(records) == len(order), "a mutant was lost"
    by_occurrence = outcomes(session)
    assert by_occurrence[fake.KILLED]["outcome"] == "killed"
    assert by_occurrence[fake.SURVIVED]["outcome"] == "survived"
    assert by_occurrence[fake.SURVIVED]["line"] == "impl/axes.py line"
    assert by_occurrence[fake.NO_TEST]["outcome"] == "no-test"
    crashed = by_occurrence[fake.CRASHES]
    assert crashed["outcome"] == "killed" and "exit code 3" in crashed["detail"]
    hung = by_occurrence[fake.HANGS]
    assert hung["outcome"] == "killed" and hung["timeout"] and "no answer in 1.5 s" in hung["detail"]


def test_a_worker_that_cannot_start_stops_the_run_instead_of_being_replaced(tmp_path):
    session = tmp_path / "session.sqlite"
    fake_session(session, [fake.KILLED])
    with pytest.raises(SystemExit, match=r"died while starting \(exit code 5\)"):
        cosmic.execute_in_process(session, "impl/axes.py", tmp_path, tmp_path,
                                  argparse.Namespace(jobs=1, timeout=5.0), worker=fake.broken_worker)


def test_an_interrupted_run_resumes_with_the_pending_mutants_only_and_survivors_can_rerun(tmp_path):
    session = tmp_path / "session.sqlite"
    fake_session(session, [fake.KILLED, fake.SURVIVED])
    with use_db(str(session), WorkDB.Mode.open) as db:
        from cosmic_ray.work_item import TestOutcome, WorkerOutcome, WorkResult
        db.set_result("job-0", WorkResult(worker_outcome=WorkerOutcome.NORMAL,
                                          test_outcome=TestOutcome.SURVIVED, output="SURVIVED: before"))
    cosmic.execute_in_process(session, "impl/axes.py", tmp_path, tmp_path,
                              argparse.Namespace(jobs=2, timeout=5.0), worker=fake.worker)
    by_occurrence = outcomes(session)
    assert by_occurrence[fake.KILLED]["detail"] == "SURVIVED: before", "a finished mutant was rerun"
    assert by_occurrence[fake.SURVIVED]["outcome"] == "survived"
    # --rerun-survivors: both survivors are pending again, and the one whose answer changed is
    # now killed.
    assert cosmic.forget_survivors(session) == 2
    cosmic.execute_in_process(session, "impl/axes.py", tmp_path, tmp_path,
                              argparse.Namespace(jobs=1, timeout=5.0), worker=fake.worker)
    assert outcomes(session)[fake.KILLED]["outcome"] == "killed"


def test_cosmic_ray_mutants_are_applied_in_memory_and_checked(tmp_path):
    """The real thing on a small scale: cosmic-ray finds the mutations of the axis range check,
    and a worker checks four of them on `sum`'s cases (a hand-written coverage map keeps it
    short)."""
    before = {rel: (ROOT / rel).read_bytes() for rel in IMPL_MODULES.values()}
    pristine = cosmic.make_copy(tmp_path / "pristine")
    cache = tmp_path / "cache"
    coverage_file = cache / "mutants" / f"coverage-{coverage_module.digest(pristine)}.json"
    coverage_file.parent.mkdir(parents=True)
    coverage_file.write_text(json.dumps({"impl/axes.py:_check_in_range": ["sum"]}))
    config, session = tmp_path / "cosmic-ray.toml", tmp_path / "session.sqlite"
    cosmic.write_config(config, "impl/axes.py", pristine, cache, 120)
    subprocess.run(cosmic.cosmic_ray_command() + ["init", str(config), str(session)], cwd=pristine,
                   check=True)
    source = (pristine / "impl/axes.py").read_text().splitlines()
    check = source.index("    if -ndim <= a < ndim:") + 1
    total, kept = cosmic.sample_session(session, 4, 0, [(check, check)])
    assert total > kept == 4

    cosmic.execute_in_process(session, "impl/axes.py", pristine, cache,
                              argparse.Namespace(jobs=1, timeout=120.0))
    records = cosmic.collect(session, "impl/axes.py")
    assert len(records) == 4
    for r in records:
        assert r["outcome"] in ("killed", "survived"), r
        assert r["line"] and r["mutated"] and r["line"] != r["mutated"], r
        assert r["definition"] == "_check_in_range"
    # A mutated range check lets some invalid axis of sum through, or rejects a valid one.
    assert any(r["outcome"] == "killed" and "sum[" in r["detail"] for r in records), records
    after = {rel: (ROOT / rel).read_bytes() for rel in IMPL_MODULES.values()}
    assert after == before, "a mutant was written to the working tree"


def test_a_seeded_sample_of_every_file_is_killed_or_explained(request, tmp_path):
    """CI's mutation gate: 12 of cosmic-ray's mutants of each file of impl/, drawn with a fixed
    seed, each killed or explained in equivalent.toml (a full run is the same command with
    --sample 0). References come from the suite's cache, so they are computed once."""
    cache = request.config.getoption("--conformance-cache") or str(tmp_path / "cache")
    report = tmp_path / "mutants.json"
    files = ["impl/axes.py", "impl/core.py", "impl/functions.py"]
    status = cosmic.main(files + ["--sample", "12", "--workdir", str(tmp_path / "work"),
                                  "--cache", cache, "--json", str(report), "--jobs", "2"])
    records = json.loads(report.read_text())
    assert len(records) == 12 * len(files)
    unexplained = [f"{r['file']}:{r['lineno']} {r['line']!r} -> {r['mutated']!r}" for r in records
                   if r["outcome"] == "survived" and not r["explained"]]
    assert status == 0 and not unexplained, "\n".join(unexplained)
