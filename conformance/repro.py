"""Rebuild any case from its id alone: `load("sum[float32-(2,3,4)-axis=(2,-3)-keepdims=True]")`."""
import functools

from conformance.catalogue import BY_NAME
from conformance.reference import ReferenceStore


@functools.lru_cache(maxsize=None)
def _cases_by_id(op_name):
    return {case.id: case for case in BY_NAME[op_name].cases()}


def find_case(case_id):
    op_name = case_id.split("[", 1)[0]
    if op_name not in BY_NAME:
        raise KeyError(f"no op {op_name!r} in the catalogue (ops: {', '.join(BY_NAME)})")
    try:
        return _cases_by_id(op_name)[case_id]
    except KeyError:
        raise KeyError(f"no case {case_id!r}; `pytest conformance --collect-only -q` lists them") from None


def load(case_id, global_seed=0, platform=None):
    """(case, op, reference): the inputs, cotangent, tangents and JAX's values for the case."""
    from conformance.reference import configure_jax
    configure_jax(platform)
    case = find_case(case_id)
    return case, BY_NAME[case.op], ReferenceStore(global_seed).get(case)
