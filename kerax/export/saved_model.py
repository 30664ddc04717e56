"""TF SavedModel for serving: jax2tf with a symbolic batch, params as variables.

The model's inference function is converted with `jax2tf.convert`
(`with_gradient=False`; jax2tf only does native serialization now: the graph
holds one `XlaCallModule` op with the StableHLO inside). Params and state
become non-trainable `tf.Variable`s passed as arguments, so they live in
`variables/` and the StableHLO stays small. The `serving_default` signature
takes named inputs and returns named outputs, and the directory follows TF
Serving's layout (`path/<version>/`). The result runs with TensorFlow alone.
For GPU serving, lower for both: `platforms=("cpu", "cuda")`.
"""

from __future__ import annotations

from pathlib import Path

import jax
import numpy as np

from kerax.core.spec import is_symbolic
from kerax.export import common


def _poly(spec) -> str:
    return "(" + ", ".join(str(d) for d in spec.shape) + ")"


def tf_module(
    model,
    params,
    state,
    sig: common.Signature,
    *,
    batch_size: int | None = None,
    platforms=None,
):
    """A `tf.Module` whose `serve` tf.function runs the model.

    `batch_size=None` keeps the batch symbolic (serving); an int fixes every
    symbolic dimension's batch (TFLite wants static shapes, rule R3).
    """
    import tensorflow as tf
    from jax.experimental import jax2tf

    leaves, treedef = jax.tree.flatten((common.host(params), common.host(state)))
    fn = common.flat_inference_fn(model, sig)

    def jax_fn(flat_params, *xs):
        p, s = jax.tree.unflatten(treedef, flat_params)
        return fn(p, s, *xs)

    if batch_size is None:
        specs = sig.input_specs
        poly = [None, *[_poly(s) for s in specs]]
    else:
        specs = [common.concrete(s, batch_size) for s in sig.input_specs]
        left = [s for s in specs if any(is_symbolic(d) for d in s.shape)]
        if left:
            raise common.ExportError(
                f"A static-shape export needs every dimension but the batch fixed; got {left[0].shape}. "
                "Pass input_spec with concrete sizes (e.g. the sequence length)."
            )
        poly = None
    converted = jax2tf.convert(
        jax_fn,
        polymorphic_shapes=poly,
        with_gradient=False,
        native_serialization_platforms=platforms,
    )

    module = tf.Module()
    module.variables_list = [
        tf.Variable(np.asarray(x), trainable=False, name=f"param_{i}")
        for i, x in enumerate(leaves)
    ]
    input_signature = [
        tf.TensorSpec(
            [None if is_symbolic(d) else int(d) for d in s.shape],
            tf.as_dtype(np.dtype(s.dtype)),
            name=name,
        )
        for s, name in zip(specs, sig.input_names)
    ]

    @tf.function(autograph=False, input_signature=input_signature)
    def serve(*xs):
        outs = converted(list(module.variables_list), *xs)
        return {name: out for name, out in zip(sig.output_names, outs)}

    module.serve = serve
    return module


def saved_model(
    model,
    params,
    state=None,
    path="export/saved_model",
    *,
    input_spec=None,
    version: int | None = 1,
    platforms=("cpu",),
    verify: bool = True,
    tolerance: float = 1e-5,
) -> common.ExportReport:
    """Exports a TF SavedModel with a `serving_default` signature.

    Args:
      model, params, state: what to export (inference mode).
      path: the model base directory; the SavedModel goes to `path/<version>`
        (TF Serving's layout), or to `path` itself with `version=None`.
      input_spec: the input spec (default: the model's `kerax.Input`s).
      platforms: lowering platforms, e.g. `("cpu", "cuda")` for GPU serving.
      verify: reload the SavedModel and compare with JAX on two batch sizes.
      tolerance: the largest max |diff| accepted (relative to max(1, |y|)).

    Returns:
      An `ExportReport`. On a failed verification nothing is written.
    """
    import tensorflow as tf

    state = {} if state is None else state
    spec = common.resolve_spec(model, input_spec)
    sig = common.signature(model, params, state, spec)
    target = Path(path) / str(version) if version is not None else Path(path)
    holder = {}

    def write(tmp: Path):
        module = tf_module(model, params, state, sig, platforms=platforms)
        tf.saved_model.save(
            module,
            str(tmp),
            signatures={"serving_default": module.serve.get_concrete_function()},
        )
        if verify:
            holder["diff"] = _verify(tmp, model, params, state, sig, tolerance)

    common.atomic_write_dir(target, write)
    return common.ExportReport(
        "saved_model",
        target,
        holder.get("diff", float("nan")),
        tolerance,
        common.dir_size(target),
        sig.input_names,
        sig.output_names,
    )


def _verify(path: Path, model, params, state, sig, tolerance) -> float:
    import tensorflow as tf

    runner = tf.saved_model.load(str(path)).signatures["serving_default"]
    fn = jax.jit(common.flat_inference_fn(model, sig))
    worst = 0.0
    for batch in (1, 3):
        xs = common.sample_inputs(sig.input_specs, batch, seed=batch)
        want = [np.asarray(y) for y in fn(params, state, *xs)]
        got_dict = runner(**{n: tf.constant(x) for n, x in zip(sig.input_names, xs)})
        got = [got_dict[n].numpy() for n in sig.output_names]
        scale = max([1.0] + [float(np.max(np.abs(w))) for w in want if w.size])
        worst = max(worst, common.max_abs_diff(want, got) / scale)
    common.check("SavedModel", worst, tolerance)
    return worst
