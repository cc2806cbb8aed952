"""xdist scheduling that keeps each batch of JAX references on one worker.

References are computed in chunks (one jitted program each). If two workers ran cases of one chunk,
both would compile and run it; so all the cases of a chunk go to the same worker, while chunks spread
over the workers.
"""
from xdist.scheduler import LoadScopeScheduling

from conformance.reference import batch_scope
from conformance.repro import find_case

MARK = "conformance/test_ops.py::"


class ReferenceScopeScheduling(LoadScopeScheduling):
    def _split_scope(self, nodeid):
        _, sep, case_id = nodeid.partition(MARK)
        if not sep:
            return nodeid  # any other test: its own scope, as with --dist load
        try:
            return batch_scope(find_case(case_id))
        except KeyError:
            return nodeid
