"""StableHLO through `jax.export`: a portable, bit-exact deployment artifact.

Writes a directory with the serialized `jax.export.Exported` (symbolic
batch, params as arguments), the params in an `.npz` (no pickles) and a
`signature.json`. `load_stablehlo(path)` runs it with JAX alone, without the
model's code. The serialization format is guaranteed for about 6 months
backward: it is for deployment, not an archive; re-export from params.
"""

from __future__ import annotations

import json
from pathlib import Path

import jax
import numpy as np

from kerax.export import common


def stablehlo(
    model,
    params,
    state=None,
    path="export/stablehlo",
    *,
    input_spec=None,
    platforms=("cpu",),
    verify: bool = True,
    tolerance: float = 1e-6,
) -> common.ExportReport:
    """Exports `model` with `jax.export` to directory `path`.

    Args:
      platforms: lowering platforms, e.g. ("cpu", "cuda", "tpu"); lowering
        for accelerators works on a CPU-only machine.
    """
    from jax import export

    state = {} if state is None else state
    spec = common.resolve_spec(model, input_spec)
    sig = common.signature(model, params, state, spec)
    fn = common.flat_inference_fn(model, sig)
    params, state = common.host(params), common.host(state)
    abstract = jax.tree.map(
        lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype), (params, state)
    )
    exported = export.export(jax.jit(fn), platforms=tuple(platforms))(
        *abstract, *sig.input_specs
    )
    blob = exported.serialize()
    leaves = jax.tree.leaves((params, state))
    holder = {}

    def write(tmp: Path):
        (tmp / "model.jaxexport").write_bytes(blob)
        np.savez(
            tmp / "params.npz", **{f"p{i}": np.asarray(x) for i, x in enumerate(leaves)}
        )
        meta = {
            "inputs": [
                {
                    "name": n,
                    "shape": [None if not isinstance(d, int) else d for d in s.shape],
                    "dtype": np.dtype(s.dtype).name,
                }
                for n, s in zip(sig.input_names, sig.input_specs)
            ],
            "outputs": list(sig.output_names),
            "num_params": len(leaves),
            "platforms": list(platforms),
            "jax_version": jax.__version__,
        }
        (tmp / "signature.json").write_text(json.dumps(meta, indent=1))
        if verify:
            run = load_stablehlo(tmp)
            worst = 0.0
            for batch in (1, 3):
                xs = common.sample_inputs(sig.input_specs, batch, seed=batch)
                want = [np.asarray(y) for y in jax.jit(fn)(params, state, *xs)]
                got_dict = run(**dict(zip(sig.input_names, xs)))
                got = [got_dict[n] for n in sig.output_names]
                scale = max([1.0] + [float(np.max(np.abs(w))) for w in want if w.size])
                worst = max(worst, common.max_abs_diff(want, got) / scale)
            common.check("StableHLO", worst, tolerance)
            holder["diff"] = worst

    target = Path(path)
    common.atomic_write_dir(target, write)
    return common.ExportReport(
        "stablehlo",
        target,
        holder.get("diff", float("nan")),
        tolerance,
        common.dir_size(target),
        sig.input_names,
        sig.output_names,
    )


def load_stablehlo(path):
    """Loads a `stablehlo` export as a function of named inputs -> named outputs.

    Needs only JAX (no kerax model code):

        run = load_stablehlo("export/stablehlo")
        outputs = run(inputs=x)          # or run(x) for a single input
    """
    from jax import export

    path = Path(path)
    exported = export.deserialize(bytearray((path / "model.jaxexport").read_bytes()))
    meta = json.loads((path / "signature.json").read_text())
    with np.load(path / "params.npz", allow_pickle=False) as f:
        leaves = [f[f"p{i}"] for i in range(meta["num_params"])]
    names = [i["name"] for i in meta["inputs"]]

    def run(*args, **kwargs):
        if args and kwargs or len(args) > len(names):
            raise TypeError(f"Pass inputs by name {names} or positionally.")
        xs = list(args) if args else [kwargs[n] for n in names]
        flat_args = jax.tree.unflatten(exported.in_tree, [*leaves, *xs])
        call_args, call_kwargs = flat_args
        outs = exported.call(*call_args, **call_kwargs)
        return {n: np.asarray(o) for n, o in zip(meta["outputs"], outs)}

    return run
