"""One call from training: export from a TrainState or a saved model directory."""

from __future__ import annotations

from pathlib import Path

from kerax.export.onnx import onnx
from kerax.export.saved_model import saved_model
from kerax.export.stablehlo import stablehlo
from kerax.export.tflite import tflite
from kerax.saving import load_model

FORMATS = ("saved_model", "tflite", "stablehlo", "onnx")
_EXPORTERS = {
    "saved_model": saved_model,
    "tflite": tflite,
    "stablehlo": stablehlo,
    "onnx": onnx,
}


def from_source(source, params=None, state=None):
    """`(model, params, state)` from a model directory, `(model, TrainState)` or the triple."""
    if isinstance(source, (str, Path)):
        return load_model(source)
    model = source
    if (
        params is not None
        and hasattr(params, "params")
        and hasattr(params, "opt_state")
    ):
        ts = params
        return model, ts.params, ts.state
    if params is None:
        raise ValueError(
            "export: pass (model, params, state), (model, train_state) or a saved model directory."
        )
    return model, params, {} if state is None else state


def export(
    source,
    path,
    formats=("saved_model", "tflite", "stablehlo"),
    params=None,
    state=None,
    *,
    input_spec=None,
    **options,
):
    """Exports to several formats under directory `path`; returns the reports.

    `source` is a saved model directory, or a model with `params`/`state` (or
    a `TrainState` as `params`). Per-format options go in
    `options[format] = {...}` (e.g. `tflite={"quantization": "float16"}`).
    """
    model, params, state = from_source(source, params, state)
    path = Path(path)
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(
            f"export: unknown formats {unknown}; choose from {list(FORMATS)}."
        )
    targets = {
        "saved_model": path / "saved_model",
        "tflite": path / "model.tflite",
        "stablehlo": path / "stablehlo",
        "onnx": path / "model.onnx",
    }
    reports = []
    for fmt in formats:
        fn = _EXPORTERS[fmt]
        reports.append(
            fn(
                model,
                params,
                state,
                targets[fmt],
                input_spec=input_spec,
                **options.get(fmt, {}),
            )
        )
    return reports
