"""Where Keras keeps downloaded datasets, and the error when a file is missing."""

from __future__ import annotations

import os
from pathlib import Path


def keras_datasets_dir() -> Path:
    home = os.environ.get("KERAS_HOME") or os.path.join(
        os.path.expanduser("~"), ".keras"
    )
    return Path(home) / "datasets"


def require(path: Path, dataset: str, origin: str) -> Path:
    if not path.exists():
        raise FileNotFoundError(
            f"kerax.datasets.{dataset}: {path} not found. kerax does not download data. "
            f"Download {origin} on a machine with internet access and put it at {path} "
            f"(or run keras.datasets.{dataset}.load_data() there once and copy ~/.keras/datasets), "
            "or set KERAS_HOME to the folder that holds `datasets/`."
        )
    return path
