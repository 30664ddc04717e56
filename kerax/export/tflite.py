"""TFLite / LiteRT for mobile and edge: static shapes, builtin ops, verified.

The model is converted to a fixed-batch SavedModel (static shapes give clean
builtin ops such as FULLY_CONNECTED, CONV_2D and fused SOFTMAX, and files
smaller; figures in docs/performance.md), then `tf.lite.TFLiteConverter` runs in a
SUBPROCESS: the converter is known to segfault (full int8 calibration of
models with `lax.scan`), and a crash there must become a clear error, never
kill the caller. The process is kept for the next export (TensorFlow's
import, a few seconds, is paid once) and started again after a crash. The artifact is verified with `ai_edge_litert`'s
Interpreter against the JAX model.

Quantization and the tolerance each is checked against (max |diff| divided
by max(1, max |y|)):

| quantization | weights | tolerance |
| --- | --- | --- |
| None | float32 | 1e-5 |
| "float16" | float16 | 1e-2 |
| "dynamic_range" | int8 weights, float activations | 5e-2 |
| "int8" | int8 weights and activations (needs `representative_data`), float I/O | 0.15 |

Keras's `model.export(path, format="litert", ...)` arguments are accepted
too: `input_signature` (a list with one spec per positional argument of the
model's call: `InputSpec`, `tf.TensorSpec` or `jax.ShapeDtypeStruct`; `None`
dimensions are symbolic), and the converter's `optimizations`
(`[tf.lite.Optimize.DEFAULT]`: dynamic-range quantization) with
`target_spec={"supported_types": [tf.float16]}` (float16).
"""

from __future__ import annotations

import atexit
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import jax
import numpy as np

from kerax.export import common
from kerax.export.saved_model import tf_module

TOLERANCES = {None: 1e-5, "float16": 1e-2, "dynamic_range": 5e-2, "int8": 0.15}

# The converter process: one per exporting process, reused (TensorFlow
# imports once, a few seconds), started again after a crash. It reads one
# work folder a line and answers one JSON line; anything the converter prints
# goes to its stderr, so replies stay parseable. EOF on stdin (the exporting
# process is gone) ends it.
_WORKER = r"""
import json, os, sys, traceback
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
replies = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)
import numpy as np
import tensorflow as tf


def convert(work):
    opts = json.load(open(os.path.join(work, "options.json")))
    conv = tf.lite.TFLiteConverter.from_saved_model(os.path.join(work, "saved_model"), signature_keys=["serving_default"])
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    q = opts["quantization"]
    if q in ("float16", "dynamic_range", "int8"):
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
    if q == "float16":
        conv.target_spec.supported_types = [tf.float16]
    if q == "int8":
        data = np.load(os.path.join(work, "representative.npz"), allow_pickle=False)
        names = opts["input_names"]
        n = len(data[names[0]])
        batch = opts["batch_size"]

        def gen():
            for i in range(0, n - batch + 1, batch):
                yield {name: data[name][i : i + batch] for name in names}

        conv.representative_dataset = gen
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    open(os.path.join(work, "model.tflite"), "wb").write(conv.convert())


while True:
    line = sys.stdin.readline()
    if not line:
        break
    try:
        convert(line.rstrip("\n"))
        reply = {"ok": True}
    except Exception as e:
        reply = {"ok": False, "error": "".join(traceback.format_exception_only(type(e), e))[-4000:]}
    replies.write(json.dumps(reply) + "\n")
    replies.flush()
"""


class _Converter:
    """The converter process, started on first use and kept for the next
    export; a crash or a timeout ends it (the next export starts another)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._proc = None
        self._pid = None
        self._stderr = None

    def _start(self) -> subprocess.Popen:
        self._stderr = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _WORKER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
        )
        self._pid = os.getpid()
        return self._proc

    def _stderr_tail(self, lines: int = 15) -> str:
        self._stderr.seek(0)
        text = self._stderr.read().decode(errors="replace")
        return "\n".join(text.strip().splitlines()[-lines:])

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def convert(self, work: Path, timeout: float) -> None:
        with self._lock:
            proc = self._proc
            if proc is None or proc.poll() is not None or self._pid != os.getpid():
                self.stop()
                proc = self._start()
            # Only this export's messages in an error: the file starts empty.
            self._stderr.seek(0)
            self._stderr.truncate()
            try:
                proc.stdin.write(f"{work}\n")
                proc.stdin.flush()
                ready, _, _ = select.select([proc.stdout], [], [], timeout)
                line = proc.stdout.readline() if ready else None
            except OSError:  # The process died before it read the request.
                line = ""
            if line is None:
                self.stop()
                raise common.ExportError(
                    f"The TFLite converter did not finish within timeout={timeout} s; nothing was written."
                )
            if not line:
                returncode = proc.wait()
                self._proc = None
                if returncode < 0:
                    sig = signal.Signals(-returncode).name
                    raise common.ExportError(
                        f"The TFLite converter crashed ({sig}). This is a known converter bug for full-int8 "
                        "quantization of models with recurrent layers (lax.scan): use quantization='float16' or "
                        "'dynamic_range' for them. Your process is unaffected; nothing was written."
                    )
                raise common.ExportError(
                    f"The TFLite converter failed; nothing was written:\n{self._stderr_tail()}"
                )
            reply = json.loads(line)
            if not reply["ok"]:
                raise common.ExportError(
                    f"The TFLite converter failed; nothing was written:\n{reply['error'].strip()}"
                )


_CONVERTER = _Converter()
atexit.register(_CONVERTER.stop)


def _signature_spec(input_signature):
    """Keras's `input_signature` (one spec per positional argument) as a kerax spec."""
    sig = input_signature
    if isinstance(sig, (list, tuple)) and len(sig) == 1:
        sig = sig[0]  # A kerax model's call takes one (nested) input.

    def one(s):
        return common.signature_spec(s, "tflite: an input_signature entry")

    return jax.tree.map(one, sig)


def _quantization_from_converter_options(quantization, optimizations, target_spec):
    """Keras's converter options (`optimizations`, `target_spec`) as a quantization."""
    target_spec = dict(target_spec or {})
    unknown = sorted(set(target_spec) - {"supported_types"})
    if unknown:
        raise ValueError(
            f"tflite: target_spec supports 'supported_types' only (kerax exports builtin ops), got {unknown}."
        )
    if not optimizations:
        if target_spec.get("supported_types"):
            raise ValueError(
                "tflite: target_spec={'supported_types': ...} needs optimizations=[tf.lite.Optimize.DEFAULT]."
            )
        return quantization
    if quantization is not None:
        raise ValueError(
            "tflite: pass either quantization= or Keras's optimizations=, not both."
        )
    types = {
        np.dtype(getattr(t, "as_numpy_dtype", t))
        for t in target_spec.get("supported_types", ())
    }
    if types - {np.dtype("float16")}:
        raise ValueError(
            f"tflite: target_spec supported_types must be [tf.float16], got {sorted(map(str, types))}."
        )
    return "float16" if types else "dynamic_range"


def ops_of(tflite_bytes: bytes) -> tuple[str, ...]:
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_content=tflite_bytes)
    return tuple(sorted({op["op_name"] for op in interp._get_ops_details()}))


def run_tflite(tflite_bytes: bytes, inputs: dict) -> dict:
    """Runs a .tflite model's `serving_default` signature with LiteRT."""
    from ai_edge_litert.interpreter import Interpreter

    runner = Interpreter(model_content=tflite_bytes).get_signature_runner(
        "serving_default"
    )
    return runner(**inputs)


def tflite(
    model,
    params,
    state=None,
    path="export/model.tflite",
    *,
    input_spec=None,
    batch_size: int = 1,
    quantization: str | None = None,
    representative_data=None,
    verify: bool = True,
    tolerance: float | None = None,
    timeout: float = 900,
    input_signature=None,
    optimizations=None,
    target_spec=None,
) -> common.ExportReport:
    """Exports a `.tflite` file for LiteRT with a fixed batch size.

    Args:
      model, params, state: what to export (inference mode).
      path: the `.tflite` file to write.
      input_spec: input spec (default: the model's); symbolic dimensions
        other than the batch must be made concrete here.
      batch_size: the fixed batch of the artifact.
      quantization: None, "float16", "dynamic_range" or "int8".
      representative_data: for "int8": inputs (an array, or a dict/list like
        the model's inputs) of at least `batch_size` samples.
      verify: run the artifact with LiteRT and compare with JAX.
      tolerance: override the table in the module docstring.
      input_signature: Keras's form of `input_spec`: a list with one spec
        per positional argument of the call (`InputSpec`, `tf.TensorSpec`).
      optimizations, target_spec: Keras's converter options:
        `[tf.lite.Optimize.DEFAULT]` is `quantization="dynamic_range"`, and
        with `target_spec={"supported_types": [tf.float16]}` it is "float16".
    """
    import tensorflow as tf  # Optional and heavy: only when exporting.

    quantization = _quantization_from_converter_options(
        quantization, optimizations, target_spec
    )
    if input_signature is not None:
        if input_spec is not None:
            raise ValueError(
                "tflite: pass either input_spec= or Keras's input_signature=, not both."
            )
        input_spec = _signature_spec(input_signature)
    if quantization not in TOLERANCES:
        raise ValueError(
            f"tflite: quantization must be one of {list(TOLERANCES)}, got {quantization!r}."
        )
    tolerance = TOLERANCES[quantization] if tolerance is None else tolerance
    state = {} if state is None else state
    spec = common.resolve_spec(model, input_spec)
    sig = common.signature(model, params, state, spec)
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="kerax-tflite-") as tmp:
        work = Path(tmp)
        module = tf_module(model, params, state, sig, batch_size=batch_size)
        tf.saved_model.save(
            module,
            str(work / "saved_model"),
            signatures={"serving_default": module.serve.get_concrete_function()},
        )
        if quantization == "int8":
            if representative_data is None:
                raise ValueError(
                    "tflite: quantization='int8' needs representative_data (a few hundred typical inputs)."
                )
            flat = [
                np.asarray(x, dtype=s.dtype)
                for x, s in zip(jax.tree.leaves(representative_data), sig.input_specs)
            ]
            if len(flat) != len(sig.input_names) or len(flat[0]) < batch_size:
                raise ValueError(
                    f"tflite: representative_data must hold the model's {len(sig.input_names)} inputs with >= {batch_size} samples."
                )
            np.savez(work / "representative.npz", **dict(zip(sig.input_names, flat)))
        (work / "options.json").write_text(
            json.dumps(
                {
                    "quantization": quantization,
                    "input_names": list(sig.input_names),
                    "batch_size": batch_size,
                }
            )
        )
        _CONVERTER.convert(work, timeout)
        data = (work / "model.tflite").read_bytes()

    diff = float("nan")
    if verify:
        fn = jax.jit(common.flat_inference_fn(model, sig))
        xs = common.sample_inputs(sig.input_specs, batch_size, seed=1)
        if quantization == "int8":
            xs = [
                np.asarray(x)[:batch_size] for x in flat
            ]  # In-distribution inputs for int8.
        want = [np.asarray(y) for y in fn(params, state, *xs)]
        got_dict = run_tflite(data, dict(zip(sig.input_names, xs)))
        got = [got_dict[n] for n in sig.output_names]
        scale = max([1.0] + [float(np.max(np.abs(w))) for w in want if w.size])
        diff = common.max_abs_diff(want, got) / scale
        common.check(f"TFLite ({quantization or 'float32'})", diff, tolerance)
    common.atomic_write_file(path, data)
    return common.ExportReport(
        "tflite",
        path,
        diff,
        tolerance,
        len(data),
        sig.input_names,
        sig.output_names,
        ops=ops_of(data),
        notes=f"batch {batch_size}, quantization {quantization}",
    )
