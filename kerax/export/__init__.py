"""Export: TF SavedModel (serving), TFLite/LiteRT (mobile), StableHLO, ONNX.

Every exporter verifies its artifact against the JAX model on sample inputs
and raises `ExportError` (writing nothing) when it does not match.

Example:
    >>> import tempfile
    >>> model = kerax.Sequential([kerax.Input((3,)), kerax.layers.Dense(2)])
    >>> params, state = model.init(jax.random.key(0))
    >>> report = kerax.export.stablehlo(model, params, state, tempfile.mkdtemp())
    >>> report.max_abs_diff <= report.tolerance
    True
    >>> report = kerax.export.saved_model(model, params, state, "export/sm")  # doctest: +SKIP
    >>> print(report)  # doctest: +SKIP
    saved_model: export/sm/1 (21.6 KiB), max |diff| vs JAX 0 (tolerance 1e-05)
"""

from kerax.export.archive import ExportArchive
from kerax.export.common import ExportError, ExportReport
from kerax.export.onnx import onnx
from kerax.export.saved_model import saved_model
from kerax.export.source import export, from_source
from kerax.export.stablehlo import load_stablehlo, stablehlo
from kerax.export.tflite import run_tflite, tflite

__all__ = [
    "ExportArchive",
    "ExportError",
    "ExportReport",
    "export",
    "from_source",
    "load_stablehlo",
    "onnx",
    "run_tflite",
    "saved_model",
    "stablehlo",
    "tflite",
]
