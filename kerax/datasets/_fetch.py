"""Where the Keras datasets come from, and how a file is fetched and read safely.

Files are downloaded with `kerax.utils.get_file` from Keras's own origins
with Keras's SHA-256 hashes, into `$KERAX_HOME/datasets` (default
`~/.kerax/datasets`). A verified copy already in Keras's cache
(`$KERAS_HOME/datasets`, default `~/.keras/datasets`) is used instead of
downloading again. `KERAX_DATASETS_BASE_URL` (or a loader's `base_url=`)
replaces the folder part of every origin: a mirror, or a local server.
"""

from __future__ import annotations

import io
import os
import pickle
import zipfile

import numpy as np

from kerax.utils.file_utils import get_file, validate_file

KERAS_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
BASE_URL_ENV = "KERAX_DATASETS_BASE_URL"


def keras_datasets_dir() -> str:
    home = os.environ.get("KERAS_HOME") or os.path.join(
        os.path.expanduser("~"), ".keras"
    )
    return os.path.join(home, "datasets")


def _origin(origin: str, base_url: str | None) -> str:
    base = base_url or os.environ.get(BASE_URL_ENV)
    if not base:
        return origin
    return base.rstrip("/") + "/" + origin.rsplit("/", 1)[1]


def fetch(
    fname: str,
    origin: str,
    file_hash: str | None,
    *,
    base_url: str | None = None,
    cache_subdir: str = "datasets",
    extract: bool = False,
) -> str:
    """The local path of a dataset file (or extracted folder), downloading if needed."""
    keras_name = f"{fname}_archive" if extract and "." not in fname else fname
    keras_copy = os.path.join(
        keras_datasets_dir(), os.path.relpath(cache_subdir, "datasets"), keras_name
    )
    trusted = os.path.isfile(keras_copy) and (
        file_hash is None or validate_file(keras_copy, file_hash)
    )
    if trusted and not extract:
        return keras_copy
    origin = _origin(origin, base_url)
    if trusted:  # Extract Keras's archive into kerax's cache, no download.
        origin = "file://" + os.path.abspath(keras_copy)
    return get_file(
        fname,
        origin=origin,
        file_hash=file_hash,
        cache_subdir=cache_subdir,
        extract=extract,
    )


_ALLOWED_GLOBALS = frozenset(
    {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
    }
)


class SafeUnpickler(pickle.Unpickler):
    """Builds dicts, lists, strings, numbers and NumPy arrays, nothing else.

    Pickle opcodes for Python's own containers need no global; anything that
    names a global outside NumPy's array reconstruction (`os.system`,
    `builtins.eval`, ...) is refused, so a tampered data file cannot run code.
    """

    def find_class(self, module, name):
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"kerax.datasets: refusing to load {module}.{name} from a data file; "
            "the file may be corrupted or malicious."
        )


def load_pickle(path, **kwargs):
    with open(path, "rb") as f:
        return SafeUnpickler(f, **kwargs).load()


def load_npz(path) -> dict:
    """An `.npz` as a dict: numeric members with `allow_pickle=False`.

    Object (ragged) members, which NumPy can only store as a pickle stream
    (IMDB's and Reuters's sequences), go through `SafeUnpickler`.
    """
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            if not member.endswith(".npy"):
                continue
            buffer = io.BytesIO(archive.read(member))
            try:
                array = np.lib.format.read_array(buffer, allow_pickle=False)
            except ValueError:
                buffer.seek(0)
                version = np.lib.format.read_magic(buffer)
                if version[0] == 1:
                    np.lib.format.read_array_header_1_0(buffer)
                else:
                    np.lib.format.read_array_header_2_0(buffer)
                array = SafeUnpickler(buffer).load()
            arrays[member[: -len(".npy")]] = array
    return arrays
