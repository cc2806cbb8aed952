"""Curated mutants: hand-written, realistic autodiff bugs that the conformance suite must catch.

Each entry is `mutant(name, file, old, new, ops, description)`: in `file` (relative to the
repository root), the snippet `old`, which must occur exactly once, is replaced by `new`
(`more_edits` adds further (file, old, new) edits to the same mutant); `ops` are the catalogue
ops whose cases are run against it ("*" for every op). `python -m conformance.mutants` applies
each in isolation (in memory) and fails when one survives.
"""
from conformance.mutants import mutant

AXES = "impl/axes.py"
CORE = "impl/core.py"
FUNCS = "impl/functions.py"
REDUCTIONS = ("sum", "mean", "max", "min", "prod", "logsumexp", "var", "std")
BINARY = ("add", "sub", "mul", "div", "pow_variable", "linear")
# Ops whose graphs (or the graphs of their gradients, in the second-order pass) use a variable
# more than once: where accumulation and the order of the backward pass matter.
SHARED_USES = ("var", "std", "softmax", "log_softmax", "prod", "logsumexp", "pow_variable", "mul",
               "div", "matmul", "linear", "mean_squared_error", "softmax_cross_entropy")

MUTANTS = [
    # ------------------------------------------------------------------ axes
    mutant(
        "negative-int-axis-not-normalized", AXES,
        "        return (axis % ndim,)",
        "        return (axis,)",
        REDUCTIONS,
        "normalize_axis keeps an int axis as given, so axis=-1 reduces correctly in forward but "
        "the backward's keepdims shape never finds the negative axis"),
    mutant(
        "out-of-range-axis-off-by-one", AXES,
        "    if -ndim <= a < ndim:\n        return",
        "    if -ndim <= a <= ndim:\n        return",
        REDUCTIONS + ("softmax", "squeeze"),
        "axis == ndim is accepted (and wraps to axis 0) instead of raising AxisError"),
    mutant(
        "duplicate-axes-silently-merged", AXES,
        "    if len(unique) != len(normalized):",
        "    if False:",
        REDUCTIONS + ("softmax", "log_softmax"),
        "repeated and aliased axes such as (0, 0) or (0, -2) are merged instead of rejected"),
    mutant(
        "bool-axis-accepted", AXES,
        "    if isinstance(value, (bool, np.bool_)):\n        raise",
        "    if False:\n        raise",
        REDUCTIONS,
        "axis=True is taken as axis 1 (bool is an int subclass); NumPy and JAX reject it"),

    # ------------------------------------------------------------------ reductions
    mutant(
        "restore-axes-in-given-order", FUNCS,
        "            gy = Reshape(keepdims_shape(x_shape, self.axes))(gy)",
        "            shape = list(gy.shape)\n"
        "            for a in (self.axis if isinstance(self.axis, (tuple, list)) else self.axes):\n"
        "                shape.insert(a % len(x_shape), 1)\n"
        "            gy = Reshape(tuple(shape))(gy)",
        REDUCTIONS,
        "the backward re-inserts the reduced axes in the order the caller wrote them, not sorted "
        "(DeZero's reshape_sum_backward without `sorted`): wrong for unsorted tuples"),
    mutant(
        "restore-negative-axes-unnormalized", FUNCS,
        "            gy = Reshape(keepdims_shape(x_shape, self.axes))(gy)",
        "            shape = list(gy.shape)\n"
        "            given = self.axis if isinstance(self.axis, (tuple, list)) else (\n"
        "                self.axes if self.axis is None else (self.axis,))\n"
        "            for a in sorted(given):\n"
        "                shape.insert(a, 1)\n"
        "            gy = Reshape(tuple(shape))(gy)",
        REDUCTIONS,
        "the backward inserts the reduced axes at the positions as written, so a negative axis "
        "lands one place off (list.insert(-1, ...) goes before the last)"),
    mutant(
        "keepdims-ignored-in-backward", FUNCS,
        "        if not self.keepdims and self.axes and gy.ndim:\n            gy = Reshape(",
        "        if False:\n            gy = Reshape(",
        REDUCTIONS,
        "the backward broadcasts the output gradient straight to the input shape, which is right "
        "only when the reduced axes are leading ones"),
    mutant(
        "mean-divides-by-total-size", FUNCS,
        "        count = reduced_size(self.inputs[0].shape, self.axes)",
        "        count = self.inputs[0].size",
        ("mean",),
        "mean's gradient divides by the size of the whole input, not of the reduced axes"),
    mutant(
        "max-tied-elements-get-full-gradient", FUNCS,
        "        if (count != 1).any():",
        "        if False:",
        ("max", "min"),
        "every tied maximum gets the whole gradient instead of an equal share"),
    mutant(
        "max-ties-counted-over-every-axis", FUNCS,
        "count = xp.asarray(hit.sum(axis=self.axes, keepdims=self.keepdims))",
        "count = xp.asarray(hit.sum(keepdims=self.keepdims) * xp.ones(gy.shape, int))",
        ("max", "min"),
        "ties are counted over the whole array instead of within each reduction group"),
    mutant(
        "max-keepdims-ignored-in-backward", FUNCS,
        "hit = xp.asarray(x == self.outputs[0]().data.reshape(kept))",
        "hit = xp.asarray(x == self.outputs[0]().data)",
        ("max", "min"),
        "the maximum is compared with the input without restoring its reduced axes, so it "
        "broadcasts against the wrong dims"),
    mutant(
        "prod-gradient-divides-by-zero", FUNCS,
        "        if not zero.any():",
        "        if True:",
        ("prod",),
        "prod's gradient is prod(x) / x even where x is 0 (nan instead of the product of the others)"),
    mutant(
        "prod-regroup-with-forward-permutation", FUNCS,
        "    inverse = tuple(int(i) for i in np.argsort(perm))\n    return reshape(moved, merged)",
        "    inverse = perm\n    return reshape(moved, merged)",
        ("prod",),
        "in prod's second derivative, moving the reduced axes last is undone with the same "
        "permutation instead of its inverse"),
    mutant(
        "prod-second-derivative-keeps-diagonal", FUNCS,
        "        gx = sum(expand_dims(gg, -2) * Fill(diagonal, 0)(both_out), axis=-1)",
        "        gx = sum(expand_dims(gg, -2) * both_out, axis=-1)",
        ("prod",),
        "the Hessian of prod gets a non-zero diagonal (d^2 prod / dx_i^2 is 0)"),
    mutant(
        "var-ignores-ddof-in-backward", FUNCS,
        "        dof = builtins.max(reduced_size(x.shape, self.axes) - self.ddof, 0)",
        "        dof = reduced_size(x.shape, self.axes)",
        ("var", "std"),
        "var's gradient divides by N whatever ddof is"),
    mutant(
        "var-gradient-missing-factor-two", FUNCS,
        "        return self.restore(gy / dof) * (centered * 2)",
        "        return self.restore(gy / dof) * centered",
        ("var", "std"),
        "d var / dx = 2 (x - mean) / N loses its factor 2"),
    mutant(
        "logsumexp-output-not-restored", FUNCS,
        "        return self.restore(gy) * exp(x - self.restore(y))",
        "        return self.restore(gy) * exp(x - y)",
        ("logsumexp",),
        "the softmax weights subtract the reduced output without restoring its axes: it "
        "broadcasts against the wrong dims unless the reduced axes lead"),

    # ------------------------------------------------------------------ shapes
    mutant(
        "transpose-backward-forward-permutation", FUNCS,
        "        inverse = tuple(int(i) for i in np.argsort(self.axes))\n        return transpose(gy, inverse)",
        "        return transpose(gy, self.axes)",
        ("transpose", "matmul"),
        "transpose's backward applies the forward permutation instead of its inverse"),
    mutant(
        "sum-to-forgets-leading-dims", FUNCS,
        "        axes = tuple(range(lead)) + tuple(\n",
        "        axes = tuple(\n",
        ("sum_to", "broadcast_to") + BINARY,
        "sum_to only sums the size-1 dims and forgets the leading dims the target lacks"),
    mutant(
        "sum-to-forgets-size-one-dims", FUNCS,
        "        axes = tuple(range(lead)) + tuple(\n"
        "            lead + i for i, n in enumerate(self.shape) if n == 1 and x.shape[lead + i] != 1)",
        "        axes = tuple(range(lead))",
        ("sum_to", "broadcast_to") + BINARY,
        "sum_to sums the leading dims but not the dims where the target has size 1"),
    mutant(
        "broadcast-gradients-not-summed-back", CORE,
        "        if gx0.shape != x0.shape:\n            gx0 = _functions().sum_to(gx0, x0.shape)",
        "        if False:\n            gx0 = _functions().sum_to(gx0, x0.shape)",
        BINARY,
        "the gradient of a broadcast left operand keeps the broadcast shape"),
    mutant(
        "expand-dims-negative-axis-off-by-one", FUNCS,
        "    axes = normalize_axis(axis, x.ndim + n_new)",
        "    given = axis if isinstance(axis, (tuple, list)) else (axis,)\n"
        "    axes = tuple(sorted(a + x.ndim if a < 0 else a for a in given))",
        ("expand_dims",),
        "a negative axis counts from the end of the input, not of the result: -1 inserts before "
        "the last dim instead of appending"),
    mutant(
        "squeeze-negative-axis-not-normalized", FUNCS,
        "        axes = normalize_axis(axis, x.ndim)\n        wrong = [",
        "        axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)\n        wrong = [",
        ("squeeze",),
        "squeeze checks the named axes but keeps them as written, so a negative axis is never "
        "removed"),
    mutant(
        "reshape-backward-to-target-shape", FUNCS,
        "        return reshape(gy, self.inputs[0].shape)",
        "        return reshape(gy, self.shape)",
        ("reshape", "flatten", "expand_dims", "squeeze") + REDUCTIONS,
        "reshape's backward reshapes the gradient to the output shape, not back to the input's"),
    mutant(
        "get-item-repeated-indices-overwrite", FUNCS,
        "            scatter_add(xp, gx, self.index, gy)",
        "            gx[self.index] = gy",
        ("get_item", "softmax_cross_entropy"),
        "the gradient of x[idx] with a repeated integer index keeps one contribution instead of "
        "accumulating them"),

    # ------------------------------------------------------------------ elementwise
    mutant(
        "mul-gradients-swapped", CORE,
        "        return self.unbroadcast(gy * x1, gy * x0)",
        "        return self.unbroadcast(gy * x0, gy * x1)",
        ("mul",),
        "each factor's gradient uses itself instead of the other factor"),
    mutant(
        "div-divisor-gradient-sign", CORE,
        "        return self.unbroadcast(gx0, -gx0 * x0 / x1)",
        "        return self.unbroadcast(gx0, gx0 * x0 / x1)",
        ("div",),
        "d(a/b)/db loses its minus sign"),
    mutant(
        "sub-gradient-not-negated", CORE,
        "        return self.unbroadcast(gy, -gy)",
        "        return self.unbroadcast(gy, gy)",
        ("sub", "mean_squared_error"),
        "the subtrahend gets +gy"),
    mutant(
        "pow-exponent-off-by-one", CORE,
        "        gx = gy * c * x ** exponent",
        "        gx = gy * c * x ** c",
        ("pow",),
        "d(x^c)/dx = c x^c instead of c x^(c-1)"),
    mutant(
        "pow-variable-exponent-gradient-without-log", CORE,
        "        gx1 = gy * y * _functions().log(safe_base)",
        "        gx1 = gy * y",
        ("pow_variable",),
        "d(x^y)/dy = x^y, forgetting the log(x) factor"),
    mutant(
        "cos-gradient-sign", FUNCS,
        "        return gy * -sin(self.inputs[0])",
        "        return gy * sin(self.inputs[0])",
        ("cos",),
        "d cos / dx = +sin"),
    mutant(
        "tanh-gradient-from-input", FUNCS,
        "        y = self.outputs[0]()\n        return gy * (1 - y * y)",
        "        y = self.inputs[0]\n        return gy * (1 - y * y)",
        ("tanh",),
        "tanh's gradient 1 - y^2 computed from the input instead of the output"),
    mutant(
        "sqrt-gradient-from-input", FUNCS,
        "        return gy * (0.5 / self.outputs[0]())",
        "        return gy * (0.5 / self.inputs[0])",
        ("sqrt", "std"),
        "sqrt's gradient 0.5 / sqrt(x) computed as 0.5 / x"),
    mutant(
        "sigmoid-gradient-first-order-only", FUNCS,
        "        return gy * y * (1 - y)",
        "        return gy * Variable(y.data * (1 - y.data))",
        ("sigmoid",),
        "sigmoid's backward computes on raw arrays, so its gradient is a constant to the graph: "
        "first derivatives are right, second derivatives vanish"),
    mutant(
        "clip-gradient-ignores-upper-bound", FUNCS,
        "        if self.x_max is not None:\n            inside &= x <= self.x_max",
        "        pass",
        ("clip",),
        "clip passes the gradient above x_max"),

    # ------------------------------------------------------------------ softmax, losses
    mutant(
        "softmax-backward-sums-every-axis", FUNCS,
        "        return gx - y * sum(gx, self.axes, keepdims=True)",
        "        return gx - y * sum(gx, None, keepdims=True)",
        ("softmax",),
        "softmax's Jacobian-vector product sums over the whole array, not the softmax axes"),
    mutant(
        "log-softmax-backward-uses-log-probabilities", FUNCS,
        "        return gy - exp(y) * sum(gy, self.axes, keepdims=True)",
        "        return gy - y * sum(gy, self.axes, keepdims=True)",
        ("log_softmax", "softmax_cross_entropy"),
        "log_softmax's backward weights by log p instead of p"),
    mutant(
        "cross-entropy-averages-over-classes", FUNCS,
        "    return -sum(picked) / x.shape[0]",
        "    return -sum(picked) / x.shape[1]",
        ("softmax_cross_entropy",),
        "the loss is divided by the number of classes instead of the batch size"),

    # ------------------------------------------------------------------ linear algebra
    mutant(
        "matmul-1d-right-operand-as-row", FUNCS,
        "        b2 = reshape(b, (b.shape[0], 1)) if b.ndim == 1 else b",
        "        b2 = reshape(b, (1, b.shape[0])) if b.ndim == 1 else b",
        ("matmul",),
        "matmul's backward promotes a 1-D right operand to a row instead of a column"),
    mutant(
        "matmul-batched-transpose-reverses-all-axes", FUNCS,
        "    perm = list(range(x.ndim))\n    perm[-2], perm[-1] = perm[-1], perm[-2]\n    return transpose(x, perm)",
        "    return transpose(x)",
        ("matmul", "linear"),
        "matmul's backward transposes with .T (every axis reversed), right only for 2-D operands"),
    mutant(
        "matmul-batched-gradient-not-summed", FUNCS,
        "        ga = sum_to(matmul(gy2, _swap_last(b2)), a2.shape)",
        "        ga = matmul(gy2, _swap_last(b2))",
        ("matmul",),
        "the gradient of an operand whose batch dims were broadcast is not summed back"),

    # ------------------------------------------------------------------ the core
    mutant(
        "gradients-overwritten-not-accumulated", CORE,
        "                    x.grad = gx if x.grad is None else x.grad + gx",
        "                    x.grad = gx",
        SHARED_USES,
        "a variable used twice keeps only the last gradient it receives"),
    mutant(
        "gradients-accumulated-in-place", CORE,
        "                    x.grad = gx if x.grad is None else x.grad + gx",
        "                    if x.grad is None:\n"
        "                        x.grad = gx\n"
        "                    else:\n"
        "                        x.grad.data += gx.data",
        SHARED_USES,
        "gradients are accumulated in place into the first gradient received, which may be the "
        "very array another variable holds as its gradient (DeZero's classic aliasing bug), and "
        "which the graph of a create_graph backward does not see"),
    mutant(
        "generations-ignored", CORE,
        "            self.generation = generation = max([x.generation for x in inputs])",
        "            self.generation = generation = 0",
        SHARED_USES,
        "every function gets generation 0, so the backward pass runs functions in the order it "
        "reaches them, possibly before all of their outputs' gradients have arrived"),
    mutant(
        "create-graph-ignored", CORE,
        "        Config.enable_backprop = create_graph",
        "        Config.enable_backprop = False",
        ("exp", "sin", "tanh", "mul", "var", "softmax", "prod"),
        "backward(create_graph=True) builds no graph, so second derivatives come out as zero"),
    mutant(
        "float32-gradient-upcast", FUNCS,
        "        gx = xp.zeros(self.in_shape, dtype=gy.dtype)",
        "        gx = xp.zeros(self.in_shape)",
        ("get_item", "softmax_cross_entropy"),
        "the gradient of x[idx] is scattered into float64 zeros (np.zeros without a dtype), and "
        "the core no longer casts a gradient back to its input's dtype: float32 inputs get float64 "
        "gradients",
        more_edits=[(CORE, "                    if gx.data.dtype != x.data.dtype and x.data.dtype.kind in \"fc\":",
                     "                    if False:")]),
    mutant(
        "int-sum-keeps-input-dtype", FUNCS,
        "        return get_array_module(x).add.reduce(x, axis=self.axes, keepdims=self.keepdims)",
        "        return get_array_module(x).add.reduce(x, axis=self.axes, keepdims=self.keepdims,\n"
        "                                              dtype=x.dtype)",
        ("sum",),
        "sum of int32 stays int32 (NumPy accumulates in the platform integer, int64)"),
]

BY_NAME = {m.name: m for m in MUTANTS}
assert len(BY_NAME) == len(MUTANTS), "two curated mutants share a name"
