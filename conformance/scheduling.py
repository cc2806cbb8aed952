"""xdist scheduling that keeps each batch of JAX references on one worker.

References are computed in chunks (one jitted program each). If two workers ran cases of one chunk,
both would compile and run it; so all the cases of a chunk go to the same worker, while chunks spread
over the workers.

xdist's LoadScopeScheduling finds each item's index with `list.index` and recounts every pending
item after each report: quadratic in the number of items, which at 60,000 cases cost the
controller close to a minute of CPU. The bookkeeping here is by dictionary and counter instead.
"""
from xdist.scheduler import LoadScopeScheduling

from conformance.reference import batch_scope
from conformance.repro import find_case

MARK = "conformance/test_ops.py::"


class ReferenceScopeScheduling(LoadScopeScheduling):
    def __init__(self, config, log=None):
        super().__init__(config, log)
        self._scope_of = {}   # nodeid -> scope
        self._index_of = {}   # node -> {nodeid: index in the node's collection}
        self._pending = {}    # node -> items sent to it and not yet reported

    def _split_scope(self, nodeid):
        scope = self._scope_of.get(nodeid)
        if scope is None:
            scope = self._scope_of[nodeid] = _reference_scope(nodeid)
        return scope

    def _assign_work_unit(self, node):
        scope, work_unit = self.workqueue.popitem(last=False)
        self.assigned_work.setdefault(node, {})[scope] = work_unit
        index = self._index_of.get(node)
        if index is None:
            collection = self.registered_collections[node]
            index = self._index_of[node] = {nodeid: i for i, nodeid in enumerate(collection)}
        todo = [index[nodeid] for nodeid, completed in work_unit.items() if not completed]
        self._pending[node] = self._pending.get(node, 0) + len(todo)
        node.send_runtest_some(todo)

    def mark_test_complete(self, node, item_index, duration=0):
        nodeid = self.registered_collections[node][item_index]
        self.assigned_work[node][self._split_scope(nodeid)][nodeid] = True
        self._pending[node] -= 1
        self._reschedule(node)

    def _reschedule(self, node):
        if node.shutting_down:
            return
        if not self.workqueue:
            node.shutdown()
            return
        if self._pending.get(node, 0) > 2:
            return
        self._assign_work_unit(node)

    @property
    def tests_finished(self):
        if not self.collection_is_completed or self.workqueue:
            return False
        # A worker holds on to its last item until it is told to shut down (as in xdist).
        return all(self._pending.get(node, 0) < 2 for node in self.assigned_work)

    @property
    def has_pending(self):
        return bool(self.workqueue) or any(self._pending.get(node, 0) > 0 for node in self.assigned_work)

    def remove_node(self, node):
        crashed = super().remove_node(node)  # re-queues its unfinished work units
        self._pending.pop(node, None)
        self._index_of.pop(node, None)
        return crashed


def _reference_scope(nodeid):
    _, sep, case_id = nodeid.partition(MARK)
    if not sep:
        return nodeid  # any other test: its own scope, as with --dist load
    try:
        return batch_scope(find_case(case_id))
    except KeyError:
        return nodeid
