"""Export: TF SavedModel (serving), TFLite/LiteRT (mobile), StableHLO, ONNX.

Every exporter verifies its artifact against the JAX model on sample inputs
and raises `ExportError` (writing nothing) when it does not match.

Example:
    >>> report = kerax.export.saved_model(model, params, state, "export/sm")
    >>> print(report)
"""

from kerax.export.common import ExportError, ExportReport
from kerax.export.onnx import onnx
from kerax.export.saved_model import saved_model
from kerax.export.source import export, from_source
from kerax.export.stablehlo import load_stablehlo, stablehlo
from kerax.export.tflite import run_tflite, tflite

__all__ = ["ExportError", "ExportReport", "export", "from_source", "load_stablehlo", "onnx", "run_tflite", "saved_model", "stablehlo", "tflite"]
