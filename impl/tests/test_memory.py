"""No leaks: 100,000 forward+backward iterations keep memory flat, measured with tracemalloc.

The graph is held only by its outputs (functions hold their outputs weakly), so it is freed by
reference counting as soon as the output goes out of scope: these tests run with the cycle
collector disabled, where a reference cycle in the graph would pile up. Under `no_grad` no graph
is built at all. `python -m impl.tests.test_memory` prints the numbers.
"""
import sys
import tracemalloc
import weakref

import numpy as np
import pytest

import impl.functions as F
from impl import Function, Variable, no_grad
from impl.tests.collector import no_cycle_collector

pytestmark = pytest.mark.timeout(900)

ITERATIONS = 100_000
WARMUP = 2_000
# Growth allowed after 100,000 iterations: interpreter caches and free lists, never per-iteration
# storage (a single leaked 3x4 float64 Variable per iteration would be over 10 MB).
SLACK = 64 * 1024

rng = np.random.default_rng(0)
X = rng.standard_normal((3, 4))
W = rng.standard_normal((4, 5))


def train_step():
    """A small graph over several kinds of op: matmul, tanh, max, indexing, broadcasting."""
    x, w = Variable(X), Variable(W)
    h = F.tanh(F.matmul(x, w))
    y = F.sum(F.max(h, axis=1) + h[:, 0] * 2)
    y.backward()
    return float(w.grad.data[0, 0])


def inference_step():
    with no_grad():
        x, w = Variable(X), Variable(W)
        y = F.softmax(F.matmul(x, w), axis=1)
        assert y.creator is None
        return float(y.data[0, 0])


def second_order_step():
    x = Variable(X)
    y = F.sum(F.sin(x) * x)
    y.backward(create_graph=True)
    gx = x.grad
    x.cleargrad()        # x.grad's graph refers back to x: clearing the gradient breaks that cycle
    F.sum(gx * gx).backward()
    return float(x.grad.data[0, 0])


def measure(step, iterations=ITERATIONS):
    """(traced bytes before, after, peak above `before`) over `iterations` calls of `step`, with
    the cycle collector off; `before` is taken after a warm-up (caches, free lists)."""
    with no_cycle_collector():
        tracemalloc.start()
        try:
            for _ in range(WARMUP):
                step()
            before, _ = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            for _ in range(iterations):
                step()
            after, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    return before, after, peak - before


@pytest.mark.parametrize("step, iterations", [(train_step, ITERATIONS), (inference_step, ITERATIONS),
                                              (second_order_step, ITERATIONS // 10)],
                         ids=["forward+backward", "no_grad forward", "create_graph"])
def test_memory_stays_flat(step, iterations):
    before, after, peak = measure(step, iterations)
    assert after - before < SLACK, \
        f"{step.__name__}: {after - before:,} bytes more after {iterations:,} iterations " \
        f"(from {before:,} to {after:,})"
    # One iteration's graph at a time: the peak above the start is a few KB, not a growing pile.
    assert peak < 1024 * 1024, f"{step.__name__}: peak {peak:,} bytes above the start"


class Probe(Function):
    """Identity whose instances can be counted."""
    alive = weakref.WeakSet()

    def forward(self, x):
        Probe.alive.add(self)
        return x

    def backward(self, gy):
        return gy


def test_graph_is_freed_when_the_output_goes_out_of_scope():
    with no_cycle_collector():
        x = Variable(np.ones(3))
        h = Probe()(F.exp(Probe()(x)))
        y = F.sum(Probe()(h * 2))
        refs = [weakref.ref(v) for v in (h, y)] + [weakref.ref(h.creator), weakref.ref(y.creator)]
        y.backward()
        assert len(Probe.alive) == 3
        del h, y
        assert all(r() is None for r in refs), "part of the graph outlived its output"
        assert len(Probe.alive) == 0
        assert x.grad is not None and x.creator is None  # the leaf and its gradient remain


def test_no_grad_builds_no_graph():
    x = Variable(np.ones(3))
    with no_grad():
        y = Probe()(F.exp(x) * 2)
    assert y.creator is None and y.generation == 0
    assert len(Probe.alive) == 0, "a function was kept alive without a graph"
    assert sys.getrefcount(x) == 2   # only `x` itself (and getrefcount's argument) refer to it


def main():
    for step, n in ((train_step, ITERATIONS), (inference_step, ITERATIONS),
                    (second_order_step, ITERATIONS // 10)):
        before, after, peak = measure(step, n)
        print(f"{step.__name__:18} {n:>7,} iterations: traced {before:>9,} B before, {after:>9,} B "
              f"after ({after - before:+,} B), peak +{peak:,} B")


if __name__ == "__main__":
    main()
