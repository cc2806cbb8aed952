"""Memory tests free graphs by reference counting alone: the cycle collector is kept out."""
import contextlib
import gc


@contextlib.contextmanager
def no_cycle_collector():
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
