"""A stand-in for cosmic.py's mutant worker (importable by a spawned process): its answer is
chosen by the mutant's occurrence, to exercise how the executor records each outcome."""
import os
import time

KILLED, SURVIVED, CRASHES, HANGS, NO_TEST = range(5)


def worker(conn, pristine, cache, timeout):
    conn.send("ready")
    while (job := conn.recv()) is not None:
        job_id, path, operator, occurrence, operator_args = job
        if occurrence == CRASHES:
            os._exit(3)
        if occurrence == HANGS:
            time.sleep(3600)
        if occurrence == NO_TEST:
            conn.send((job_id, "no-test", "cosmic-ray found no such mutation", None))
            continue
        outcome = "killed" if occurrence == KILLED else "survived"
        conn.send((job_id, outcome, f"{outcome.upper()}: by the fake worker",
                   f"--- mutation diff ---\n-{path} line\n+{path} {operator}"))


def broken_worker(conn, pristine, cache, timeout):
    """A worker that cannot start (say, an import error): it never says it is ready."""
    os._exit(5)
