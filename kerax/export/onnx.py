"""ONNX through jax2onnx (optional), verified with onnxruntime.

tf2onnx cannot read jax2tf SavedModels (no handler for `XlaCallModule`), so
kerax converts the JAX function directly with `jax2onnx`. jax2onnx 0.17
declares `orbax-checkpoint<0.11.37` while kerax needs orbax 0.12, so it is
installed WITHOUT its declared dependencies next to the `onnx` extra, which
brings what it really imports:

    pip install -e ".[onnx]" && pip install --no-deps jax2onnx==0.17.1

Max pooling in kerax is written in the form onnxruntime accepts (rule R2).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import jax
import numpy as np

from kerax.export import common

INSTALL_HINT = 'pip install -e ".[onnx]" && pip install --no-deps jax2onnx==0.17.1'


def _require():
    try:
        import jax2onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError as e:
        raise common.ExportError(
            f"ONNX export needs jax2onnx and onnxruntime ({e}). Install them with: {INSTALL_HINT} "
            "(jax2onnx pins an older orbax-checkpoint than kerax uses, hence --no-deps)."
        ) from None


@contextlib.contextmanager
def _jax_functions_restored():
    """Puts back any `jax.numpy`/`jax.lax`/`jax.nn` function jax2onnx swapped.

    jax2onnx 0.17 patches JAX functions while it traces and leaves
    `jnp.cumsum` patched afterwards (its version rejects a positional
    `axis`), which would break the caller's own JAX code after an export.
    """
    modules = (jax.numpy, jax.lax, jax.nn)
    saved = [(m, dict(vars(m))) for m in modules]
    try:
        yield
    finally:
        for module, attrs in saved:
            for name, value in attrs.items():
                if getattr(module, name, None) is not value:
                    setattr(module, name, value)


def onnx(
    model,
    params,
    state=None,
    path="export/model.onnx",
    *,
    input_spec=None,
    opset: int = 17,
    verify: bool = True,
    tolerance: float = 1e-5,
) -> common.ExportReport:
    """Exports an `.onnx` file with a symbolic batch dimension `B`."""
    _require()
    import tempfile

    import jax2onnx

    state = {} if state is None else state
    spec = common.resolve_spec(model, input_spec)
    sig = common.signature(model, params, state, spec)
    fn = common.flat_inference_fn(model, sig)
    params, state = common.host(params), common.host(state)

    def closed(*xs):
        return fn(params, state, *xs)

    inputs = [
        jax.ShapeDtypeStruct(
            tuple("B" if not isinstance(d, int) else d for d in s.shape), s.dtype
        )
        for s in sig.input_specs
    ]
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="kerax-onnx-") as tmp:
        out = Path(tmp) / "model.onnx"
        try:
            with _jax_functions_restored():
                jax2onnx.to_onnx(
                    closed,
                    inputs=inputs,
                    opset=opset,
                    input_names=list(sig.input_names),
                    output_names=list(sig.output_names),
                    return_mode="file",
                    output_path=str(out),
                )
        except Exception as e:
            raise common.ExportError(
                f"jax2onnx could not convert {model.describe()}: {e}"
            ) from e
        data = out.read_bytes()
    diff = float("nan")
    if verify:
        import onnxruntime as ort

        sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
        worst = 0.0
        for batch in (1, 3):
            xs = common.sample_inputs(sig.input_specs, batch, seed=batch)
            want = [np.asarray(y) for y in jax.jit(fn)(params, state, *xs)]
            try:
                got = sess.run(list(sig.output_names), dict(zip(sig.input_names, xs)))
            except Exception as e:
                raise common.ExportError(
                    f"onnxruntime cannot run the exported model: {e}"
                ) from e
            scale = max([1.0] + [float(np.max(np.abs(w))) for w in want if w.size])
            worst = max(worst, common.max_abs_diff(want, got) / scale)
        common.check("ONNX", worst, tolerance)
        diff = worst
    common.atomic_write_file(path, data)
    return common.ExportReport(
        "onnx", path, diff, tolerance, len(data), sig.input_names, sig.output_names
    )
