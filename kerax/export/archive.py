"""`ExportArchive`: a SavedModel with several named endpoints (Keras's API).

Keras's `keras.export.ExportArchive` with the explicit state: `track` takes
the model *and* its weights, `track(model, params, state)` or
`track(model, train_state)`. An endpoint's `fn` is either a tracked model
(`fn=model` or `fn=model.apply`: Keras's `fn=model.call`), which runs
`model.apply(params, state, x, training=False)` with the tracked weights
stored as `tf.Variable`s, or any function of arrays (e.g.
`lambda x: model.apply(params, state, x)[0]["probs"]`), whose closed-over
arrays become constants of the graph. Each endpoint goes through
`jax2tf.convert` (one `XlaCallModule` op); `None` in a shape stays symbolic.

`write_out` writes the SavedModel atomically (to a temporary directory,
swapped in at the end: nothing is left at the path if anything fails),
reloads it and checks every endpoint against JAX on two batch sizes, like
every kerax exporter.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import numpy as np

from kerax.core.spec import is_symbolic
from kerax.export import common


@dataclasses.dataclass
class _Tracked:
    model: Any
    params: Any
    state: Any


@dataclasses.dataclass
class _Endpoint:
    name: str
    jax_fn: Callable  # (var_leaves, *flat_inputs) -> flat outputs
    tracked: int | None  # index into the tracked models, or None
    arg_specs: list  # one pytree of ShapeDtypeStructs per positional argument
    arg_treedef: Any
    flat_specs: list
    out_treedef: Any


def _is_model(x) -> bool:
    return hasattr(x, "apply") and hasattr(x, "init") and hasattr(x, "describe")


class ExportArchive:
    """Writes a TF SavedModel with named endpoints (Keras's `ExportArchive`).

    Keras's `track(model)` is `track(model, params, state)` (or
    `track(model, train_state)`); Keras's `fn=model.call` is `fn=model` (or
    `fn=model.apply`), run in inference mode with the tracked weights. Any
    function of arrays works as `fn` too. `input_signature` is a list with
    one entry per positional argument of `fn` (a spec, or a list/dict of
    specs for a model with several inputs); `None` dimensions stay symbolic.

    Example:
        >>> import tempfile
        >>> import tensorflow as tf
        >>> model = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(2)])
        >>> params, state = model.init(jax.random.key(0))
        >>> archive = kerax.export.ExportArchive()
        >>> archive.track(model, params, state)
        >>> archive.add_endpoint(
        ...     "serve", model, input_signature=[kerax.spec((None, 3))])
        >>> archive.add_endpoint(
        ...     "scores",
        ...     lambda x: jax.nn.softmax(model.apply(params, state, x)[0]),
        ...     input_signature=[kerax.spec((None, 3))])
        >>> path = tempfile.mkdtemp() + "/archive"
        >>> archive.write_out(path, verbose=False)
        >>> reloaded = tf.saved_model.load(path)
        >>> reloaded.serve(tf.ones((4, 3))).shape
        TensorShape([4, 2])
        >>> sorted(reloaded.signatures)
        ['scores', 'serve', 'serving_default']
    """

    def __init__(self, *, platforms=("cpu",)):
        self.platforms = tuple(platforms)
        self._tracked: list[_Tracked] = []
        self._endpoints: list[_Endpoint] = []
        self._collections: dict[str, list] = {}

    # -- tracking ---------------------------------------------------------
    def track(self, model, params=None, state=None) -> None:
        """Registers a model and the weights its endpoints run with.

        Args:
          model: a kerax model (or layer).
          params: its params, or a `TrainState` (then `state` is taken from it).
          state: its non-trainable state (`{}` when omitted).
        """
        if not _is_model(model):
            raise ValueError(
                f"ExportArchive.track: expected a kerax model or layer, got "
                f"{type(model).__name__}. Call track(model, params, state)."
            )
        if params is not None and hasattr(params, "opt_state"):
            params, state = params.params, params.state
        if params is None:
            raise ValueError(
                f"ExportArchive.track({model.describe()}): kerax weights are "
                "explicit: call track(model, params, state) or "
                "track(model, train_state)."
            )
        state = {} if state is None else state
        spec = getattr(model, "input_spec", None)
        if spec is not None:
            common.check_params(model, params, state, spec)
        for i, t in enumerate(self._tracked):
            if t.model is model:
                self._tracked[i] = _Tracked(model, params, state)
                return
        self._tracked.append(_Tracked(model, params, state))

    def _find_tracked(self, fn):
        model = fn
        if not _is_model(fn) and _is_model(getattr(fn, "__self__", None)):
            if getattr(fn, "__name__", "") in ("apply", "__call__"):
                model = fn.__self__
        if not _is_model(model):
            return None
        for i, t in enumerate(self._tracked):
            if t.model is model:
                return i
        raise ValueError(
            f"ExportArchive.add_endpoint: fn is {model.describe()}, which is not "
            "tracked; call archive.track(model, params, state) first."
        )

    # -- endpoints --------------------------------------------------------
    def add_endpoint(self, name: str, fn, input_signature=None) -> None:
        """Registers the endpoint `name` running `fn` on `input_signature`.

        Args:
          name: the endpoint's name: a method of the reloaded object and a
            serving signature.
          fn: a tracked model (or its `apply`), run in inference mode with the
            tracked weights; or a function of arrays returning an array or a
            pytree of arrays.
          input_signature: a list with one entry per positional argument of
            `fn`: `keras.InputSpec`, `tf.TensorSpec`, `jax.ShapeDtypeStruct`
            or `kerax.spec` (or a list/dict of them for several inputs). For a
            tracked model it defaults to the model's `kerax.Input` spec.
        """
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(
                f"ExportArchive.add_endpoint: name must be a Python identifier "
                f"(it becomes a method of the reloaded object), got {name!r}."
            )
        taken = {e.name for e in self._endpoints} | set(self._collections)
        if name in taken:
            raise ValueError(
                f"ExportArchive.add_endpoint: endpoint name '{name}' is already "
                "taken; choose another name."
            )
        if not callable(fn):
            raise ValueError(
                f"ExportArchive.add_endpoint('{name}'): fn must be a tracked "
                f"model or a function of arrays, got {type(fn).__name__}."
            )
        tracked = self._find_tracked(fn)
        if input_signature is None:
            spec = (
                getattr(self._tracked[tracked].model, "input_spec", None)
                if tracked is not None
                else None
            )
            if spec is None:
                raise ValueError(
                    f"ExportArchive.add_endpoint('{name}'): pass input_signature, "
                    "a list with one spec per positional argument of fn, e.g. "
                    "input_signature=[kerax.spec((None, 3))]."
                )
            input_signature = [spec]
        if not isinstance(input_signature, (list, tuple)) or not input_signature:
            raise ValueError(
                f"ExportArchive.add_endpoint('{name}'): input_signature must be a "
                "non-empty list with one spec per positional argument of fn, "
                f"got {input_signature!r}."
            )
        arg_specs = [
            jax.tree.map(
                lambda s, i=i: common.signature_spec(
                    s, f"ExportArchive.add_endpoint('{name}'): input_signature[{i}]"
                ),
                arg,
                is_leaf=lambda s: hasattr(s, "shape"),
            )
            for i, arg in enumerate(input_signature)
        ]
        flat_specs, arg_treedef = jax.tree.flatten(arg_specs)
        if tracked is not None:
            t = self._tracked[tracked]
            model = t.model
            leaves, var_def = jax.tree.flatten((t.params, t.state))
            call_model = len(arg_specs) == 1

            def jax_fn(var_leaves, *xs):
                params, state = jax.tree.unflatten(var_def, list(var_leaves))
                args = jax.tree.unflatten(arg_treedef, list(xs))
                x = args[0] if call_model else list(args)
                y, _ = model.apply(params, state, x, training=False)
                return tuple(jax.tree.leaves(y))

            def user(var_leaves, *xs):
                params, state = jax.tree.unflatten(var_def, list(var_leaves))
                args = jax.tree.unflatten(arg_treedef, list(xs))
                x = args[0] if call_model else list(args)
                return model.apply(params, state, x, training=False)[0]

            var_specs = [jax.ShapeDtypeStruct(np.shape(v), v.dtype) for v in leaves]
        else:

            def jax_fn(var_leaves, *xs):
                args = jax.tree.unflatten(arg_treedef, list(xs))
                return tuple(jax.tree.leaves(fn(*args)))

            def user(var_leaves, *xs):
                return fn(*jax.tree.unflatten(arg_treedef, list(xs)))

            var_specs = []
        try:
            out = jax.eval_shape(user, var_specs, *flat_specs)
        except Exception as e:
            shapes = [jax.tree.map(lambda s: s.shape, a) for a in arg_specs]
            raise ValueError(
                f"ExportArchive.add_endpoint('{name}'): fn does not run on "
                f"input_signature (shapes {shapes}): {type(e).__name__}: {e}"
            ) from e
        out_leaves, out_def = jax.tree.flatten(out)
        if not out_leaves or not all(hasattr(o, "shape") for o in out_leaves):
            raise ValueError(
                f"ExportArchive.add_endpoint('{name}'): fn must return an array or "
                f"a pytree of arrays, got {out!r}."
            )
        self._endpoints.append(
            _Endpoint(
                name, jax_fn, tracked, arg_specs, arg_treedef, flat_specs, out_def
            )
        )

    def add_variable_collection(self, name: str, variables) -> None:
        """Stores arrays (a pytree, e.g. `ts.opt_state`) as a list of variables.

        After `tf.saved_model.load(path)`, `reloaded.<name>` is the list of
        `tf.Variable`s in `jax.tree.leaves(variables)` order.
        """
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(
                f"ExportArchive.add_variable_collection: name must be a Python "
                f"identifier, got {name!r}."
            )
        if name in {e.name for e in self._endpoints} | set(self._collections):
            raise ValueError(
                f"ExportArchive.add_variable_collection: name '{name}' is already "
                "taken by an endpoint or a collection."
            )
        leaves = jax.tree.leaves(variables)
        bad = [type(v).__name__ for v in leaves if not hasattr(v, "shape")]
        if bad or not leaves:
            raise ValueError(
                f"ExportArchive.add_variable_collection('{name}'): expected a "
                f"non-empty pytree of arrays, got leaves of types {bad or 'none'}."
            )
        self._collections[name] = [common.host(v) for v in leaves]

    # -- writing ----------------------------------------------------------
    def _module(self):
        import tensorflow as tf
        from jax.experimental import jax2tf

        module = tf.__internal__.tracking.AutoTrackable()
        per_model = []
        all_vars, trainable, non_trainable = [], [], []
        for k, t in enumerate(self._tracked):
            p_leaves = jax.tree.leaves(common.host(t.params))
            s_leaves = jax.tree.leaves(common.host(t.state))
            tv = [
                tf.Variable(x, trainable=True, name=f"m{k}_param_{i}")
                for i, x in enumerate(p_leaves)
            ]
            nv = [
                tf.Variable(x, trainable=False, name=f"m{k}_state_{i}")
                for i, x in enumerate(s_leaves)
            ]
            per_model.append(tv + nv)
            all_vars += tv + nv
            trainable += tv
            non_trainable += nv
        module.variables = all_vars
        module.trainable_variables = trainable
        module.non_trainable_variables = non_trainable
        for name, leaves in self._collections.items():
            setattr(
                module,
                name,
                [
                    tf.Variable(x, trainable=False, name=f"{name}_{i}")
                    for i, x in enumerate(leaves)
                ],
            )
        for ep in self._endpoints:
            setattr(module, ep.name, self._tf_function(ep, per_model, tf, jax2tf))
        return module

    def _tf_function(self, ep: _Endpoint, per_model, tf, jax2tf):
        variables = per_model[ep.tracked] if ep.tracked is not None else []
        poly = [None] + [
            "(" + ", ".join(str(d) for d in s.shape) + ")" for s in ep.flat_specs
        ]
        converted = jax2tf.convert(
            ep.jax_fn,
            polymorphic_shapes=poly,
            with_gradient=False,
            native_serialization_platforms=self.platforms,
        )
        tf_specs = jax.tree.unflatten(
            ep.arg_treedef,
            [
                tf.TensorSpec(
                    [None if is_symbolic(d) else int(d) for d in s.shape],
                    tf.as_dtype(np.dtype(s.dtype)),
                )
                for s in ep.flat_specs
            ],
        )
        out_def = ep.out_treedef

        @tf.function(autograph=False, input_signature=tf_specs)
        def endpoint(*args):
            outs = converted(list(variables), *tf.nest.flatten(list(args)))
            return jax.tree.unflatten(out_def, list(outs))

        return endpoint

    def write_out(
        self,
        filepath,
        options=None,
        verbose: bool = True,
        *,
        verify: bool = True,
        tolerance: float = 1e-5,
    ) -> None:
        """Writes the SavedModel to `filepath` (atomically) and verifies it.

        Every endpoint is a method of `tf.saved_model.load(filepath)` and a
        serving signature; the first endpoint is also `serving_default`
        (unless one is named so), as TF Serving requires.

        Args:
          filepath: the SavedModel directory (replaced if it exists).
          options: a `tf.saved_model.SaveOptions`.
          verbose: print the endpoints and their signatures.
          verify: reload the SavedModel and compare every endpoint with JAX on
            two batch sizes; `ExportError` (nothing written) on a mismatch.
          tolerance: the largest max |diff| accepted (relative to max(1, |y|)).
        """
        import tensorflow as tf

        if not self._endpoints:
            raise ValueError(
                "ExportArchive.write_out: the archive has no endpoints; call "
                "add_endpoint(name, fn, input_signature) first."
            )
        target = Path(filepath)
        printed = []

        def write(tmp: Path):
            module = self._module()
            signatures = {
                ep.name: getattr(module, ep.name).get_concrete_function()
                for ep in self._endpoints
            }
            if "serving_default" not in signatures:
                signatures["serving_default"] = signatures[self._endpoints[0].name]
            tf.saved_model.save(
                module, str(tmp), signatures=signatures, options=options
            )
            if verify:
                self._verify(tmp, tolerance)
            for ep in self._endpoints:
                text = signatures[ep.name].pretty_printed_signature(verbose=True)
                printed.append(
                    "\n".join([f"* Endpoint '{ep.name}'"] + text.split("\n")[1:])
                )

        common.atomic_write_dir(target, write)
        if verbose:
            print(
                f"Saved artifact at '{target}'. The following endpoints are "
                "available:\n\n" + "\n\n".join(printed)
            )

    def _verify(self, path: Path, tolerance: float) -> None:
        import tensorflow as tf

        reloaded = tf.saved_model.load(str(path))
        for ep in self._endpoints:
            if ep.tracked is not None:
                t = self._tracked[ep.tracked]
                var_leaves = jax.tree.leaves((t.params, t.state))
            else:
                var_leaves = []
            fn = jax.jit(ep.jax_fn)
            worst = 0.0
            for batch in (1, 3):
                xs = common.sample_inputs(ep.flat_specs, batch, seed=batch)
                want = [np.asarray(y) for y in fn(var_leaves, *xs)]
                args = jax.tree.unflatten(ep.arg_treedef, [tf.constant(x) for x in xs])
                got = [
                    np.asarray(y)
                    for y in tf.nest.flatten(getattr(reloaded, ep.name)(*args))
                ]
                scale = max([1.0] + [float(np.max(np.abs(w))) for w in want if w.size])
                worst = max(worst, common.max_abs_diff(want, got) / scale)
            common.check(f"ExportArchive endpoint '{ep.name}'", worst, tolerance)
