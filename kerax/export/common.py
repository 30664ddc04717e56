"""What every exporter shares: the inference function, names, sample inputs,
verification against JAX, atomic writes and the report."""

from __future__ import annotations

import dataclasses
import shutil
import uuid
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from kerax.core.spec import is_symbolic, to_spec
from kerax.core.spec import spec as make_spec
from kerax.models import Model
from kerax.saving.model_file import atomic_directory_write


class ExportError(RuntimeError):
    """An export that failed, or whose artifact does not match the JAX model."""


@dataclasses.dataclass
class ExportReport:
    """What an exporter wrote and how closely it matches the JAX model."""

    format: str
    path: Path
    max_abs_diff: float
    tolerance: float
    size_bytes: int
    input_names: tuple
    output_names: tuple
    ops: tuple = ()
    notes: str = ""

    def __str__(self) -> str:
        ops = f", ops: {', '.join(self.ops)}" if self.ops else ""
        return (
            f"{self.format}: {self.path} ({self.size_bytes / 1024:.1f} KiB), max |diff| vs JAX "
            f"{self.max_abs_diff:.3g} (tolerance {self.tolerance:g}){ops}{'; ' + self.notes if self.notes else ''}"
        )


@dataclasses.dataclass
class Signature:
    """Flat named inputs/outputs for a model whose inputs/outputs are pytrees."""

    input_names: tuple
    input_specs: tuple  # ShapeDtypeStructs, symbolic dims allowed.
    input_treedef: Any
    output_names: tuple
    output_treedef: Any

    def unflatten_inputs(self, flat):
        return jax.tree.unflatten(self.input_treedef, list(flat))


def _sanitize(name: str) -> str:
    out = "".join(c if c.isalnum() or c == "_" else "_" for c in str(name))
    return out if out and not out[0].isdigit() else f"x_{out}"


def resolve_spec(model, input_spec):
    spec = input_spec if input_spec is not None else getattr(model, "input_spec", None)
    if spec is None:
        raise ExportError(
            f"Export needs the input spec of {model.describe()}: pass input_spec=kerax.spec((None, ...)) "
            "or start the model with kerax.Input."
        )
    return to_spec(spec)


def signature(model, params, state, input_spec) -> Signature:
    """Input names from `kerax.Input` names (or dict keys), outputs likewise."""
    check_params(model, params, state or {}, input_spec)
    check_no_host_callbacks(model, params, state or {}, input_spec)
    specs, treedef = jax.tree.flatten(input_spec)
    if isinstance(model, Model):
        nodes = jax.tree.leaves(
            model.inputs, is_leaf=lambda n: hasattr(n, "op") and hasattr(n, "spec")
        )
        names = [n.op.scope_name for n in nodes]
    elif isinstance(input_spec, dict):
        names = sorted(input_spec)
    elif len(specs) == 1:
        names = ["inputs"]
    else:
        names = [f"input_{i}" for i in range(len(specs))]
    names = [_sanitize(n) for n in names]
    if len(set(names)) != len(names):
        names = [f"{n}_{i}" for i, n in enumerate(names)]
    out = jax.eval_shape(
        lambda p, s, x: model.apply(p, s, x)[0], params, state, input_spec
    )
    out_leaves, out_def = jax.tree.flatten(out)
    paths = [p for p, _ in jax.tree_util.tree_flatten_with_path(out)[0]]
    if len(out_leaves) == 1 and not paths[0]:
        out_names = ["output_0"]
    else:
        out_names = [
            _sanitize("_".join(str(getattr(k, "key", getattr(k, "idx", k))) for k in p))
            for p in paths
        ]
        if all(n.isdigit() or n.startswith("x_") for n in out_names):
            out_names = [f"output_{i}" for i in range(len(out_leaves))]
    return Signature(tuple(names), tuple(specs), treedef, tuple(out_names), out_def)


def flat_inference_fn(model, sig: Signature):
    """`(params, state, *flat_inputs) -> tuple(flat_outputs)` in inference mode."""

    def fn(params, state, *xs):
        y, _ = model.apply(params, state, sig.unflatten_inputs(xs), training=False)
        return tuple(jax.tree.leaves(y))

    return fn


def concrete(spec, batch: int):
    return jax.ShapeDtypeStruct(
        tuple(batch if is_symbolic(d) else d for d in spec.shape), spec.dtype
    )


def sample_inputs(
    specs, batch: int, seed: int = 0, int_high: int = 2
) -> list[np.ndarray]:
    """Deterministic sample inputs (ints small and non-negative: token ids)."""
    rng = np.random.default_rng(seed)
    out = []
    for s in specs:
        c = concrete(s, batch)
        # Other symbolic dims (sequence lengths) get a small fixed size.
        shape = tuple(4 if is_symbolic(d) else d for d in c.shape)
        if jnp.issubdtype(s.dtype, jnp.integer):
            out.append(rng.integers(0, int_high, shape).astype(s.dtype))
        elif s.dtype == jnp.bool_:
            out.append(rng.random(shape) > 0.3)
        else:
            out.append(rng.standard_normal(shape).astype(s.dtype))
    return out


def max_abs_diff(want, got) -> float:
    """The largest |want - got|; NaN where the other has a number is infinite.

    NaN-aware so a broken artifact cannot pass (`max(x, nan)` is `x` in
    Python): NaN in both at the same place matches, NaN in one is a mismatch.
    """
    worst = 0.0
    for w, g in zip(want, got, strict=True):
        w, g = np.asarray(w, np.float64), np.asarray(g, np.float64)
        if w.shape != g.shape:
            return float("inf")
        if not np.size(w):
            continue
        nan_w, nan_g = np.isnan(w), np.isnan(g)
        if np.any(nan_w != nan_g):
            return float("inf")
        with np.errstate(invalid="ignore"):
            d = np.abs(np.where(nan_w, 0.0, w) - np.where(nan_g, 0.0, g))
        d = np.where(np.isinf(w) & (w == g), 0.0, d)
        worst = max(worst, float(np.max(d)))
    return worst


_HOST_CALLBACKS = ("pure_callback", "io_callback", "debug_callback", "callback")


def _sub_jaxprs(value):
    items = value if isinstance(value, (list, tuple)) else [value]
    for sub in items:
        if hasattr(sub, "eqns"):
            yield sub
        elif hasattr(sub, "jaxpr"):
            inner = sub.jaxpr
            yield inner if hasattr(inner, "eqns") else inner.jaxpr


def check_no_host_callbacks(model, params, state, input_spec) -> None:
    """A host callback cannot leave the process: a clear error naming the layer.

    The exporters would otherwise fail deep in XLA or TensorFlow (a C++
    `std::bad_cast`). The layer is found from the named scope kerax puts
    around every layer call.
    """
    closed = jax.make_jaxpr(lambda p, s, x: model.apply(p, s, x)[0])(
        params, state, input_spec
    )
    stack = [closed.jaxpr]
    while stack:
        jaxpr = stack.pop()
        for eqn in jaxpr.eqns:
            if eqn.primitive.name in _HOST_CALLBACKS:
                scope = str(eqn.source_info.name_stack) or model.scope_name
                raise ExportError(
                    f"Export of {model.describe()}: layer '{scope}' calls back into Python "
                    f"({eqn.primitive.name}), which an exported artifact cannot do. Replace the "
                    "callback with jax.numpy operations, or export a model without that layer."
                )
            for value in eqn.params.values():
                stack.extend(_sub_jaxprs(value))


def check_params(model, params, state, input_spec) -> None:
    """Refuses params/state that are not this model's (as `save_model` does)."""
    want = jax.eval_shape(lambda: model.init(jax.random.key(0), input_spec))
    for what, got, exp in (("params", params, want[0]), ("state", state, want[1])):
        g = {
            jax.tree_util.keystr(p): tuple(np.shape(x))
            for p, x in jax.tree_util.tree_flatten_with_path(got)[0]
        }
        w = {
            jax.tree_util.keystr(p): tuple(x.shape)
            for p, x in jax.tree_util.tree_flatten_with_path(exp)[0]
        }
        if set(g) != set(w):
            raise ExportError(
                f"Export of {model.describe()}: {what} do not match the model: missing "
                f"{sorted(set(w) - set(g))}, unexpected {sorted(set(g) - set(w))}."
            )
        for k, shape in w.items():
            if g[k] != shape:
                raise ExportError(
                    f"Export of {model.describe()}: {what}{k} has shape {g[k]}, the model "
                    f"expects {shape}; these weights are from another model."
                )


def check(fmt: str, diff: float, tolerance: float) -> None:
    if not np.isfinite(diff) or diff > tolerance:
        raise ExportError(
            f"{fmt} artifact does not match the JAX model: max |diff| {diff:.3g} > tolerance {tolerance:g}. "
            "Nothing was written."
        )


def host(tree):
    return jax.tree.map(np.asarray, tree)


def atomic_write_dir(path: Path, write) -> None:

    atomic_directory_write(Path(path), write)


def atomic_write_file(path: Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    finally:
        if tmp.exists():
            tmp.unlink()


def dir_size(path: Path) -> int:
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def remove(path: Path) -> None:
    path = Path(path)
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists():
        path.unlink()


def signature_spec(s, where: str):
    """One entry of Keras's `input_signature` (`keras.InputSpec`, `tf.TensorSpec`,
    `jax.ShapeDtypeStruct`, `kerax.spec`) as a kerax spec; `where` names it in errors."""
    if isinstance(s, jax.ShapeDtypeStruct):
        return s
    shape = getattr(s, "shape", None)
    if shape is None:
        raise ValueError(
            f"{where} is {s!r}; expected a keras.InputSpec, tf.TensorSpec, "
            "jax.ShapeDtypeStruct or kerax.spec with a known shape, e.g. "
            "kerax.spec((None, 3))."
        )
    dtype = getattr(s, "dtype", None) or "float32"
    dtype = getattr(dtype, "as_numpy_dtype", dtype)  # tf.DType
    try:
        dims = tuple(None if d is None or is_symbolic(d) else int(d) for d in shape)
    except TypeError:
        raise ValueError(
            f"{where} has an unknown rank ({s!r}); give every dimension (None "
            "for a variable one)."
        ) from None
    return make_spec(dims, dtype)
