"""Hashing and HashedCrossing: strings and integers into hash bins, on the host.

Keras computes both with TensorFlow string ops; kerax computes the same
64-bit hashes in NumPy (`_hash`), so the bins equal Keras's bit for bit
without TensorFlow. Strings have no JAX dtype, so these layers run on the
host, like StringLookup: `layer(x)` (or `layer.apply({}, {}, x)`) takes
NumPy arrays or lists and returns NumPy arrays. They belong in the input
pipeline, as Keras recommends for its own (TF-backed) versions; traced
values and graph nodes raise a clear error.

Computing integer hashes in JAX instead would need uint64 arithmetic, which
JAX has only with `jax_enable_x64` (kerax never sets global config), so the
integer path stays on the host too.
"""

from __future__ import annotations

import jax
import numpy as np

from kerax.core.fields import field
from kerax.layers._args import is_int
from kerax.layers._docs import document_args
from kerax.layers.preprocessing import _hash
from kerax.layers.preprocessing._fields import ARG_DOCS
from kerax.layers.preprocessing._host import _HostLayer, _is_traced, host_only_error
from kerax.layers.preprocessing.category_encoding import (
    _ENCODE_MODES,
    _check_choice,
    _check_sparse,
)


# ------------------------------------------------------------ host-side data
def _host_array(layer, x) -> np.ndarray:
    """`x` (a list, NumPy, JAX or tf array) as a NumPy array; traced values are refused."""
    if _is_traced(x):
        raise host_only_error(layer)
    if hasattr(x, "numpy") and not isinstance(x, np.ndarray | jax.Array):
        x = x.numpy()  # A tf.Tensor.
    return np.asarray(x)


def _is_text(a: np.ndarray) -> bool:
    return a.dtype.kind in "USO"


def _as_bytes(layer, value) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    raise TypeError(
        f"{layer.describe()} expected strings, bytes or numbers, got an element of type "
        f"{type(value).__name__}: {value!r}."
    )


def _to_strings(layer, a: np.ndarray) -> list[bytes]:
    """TF's `as_string` (floats truncated to int64 first, as Keras does), flattened."""
    if _is_text(a):
        return [_as_bytes(layer, v) for v in a.ravel().tolist()]
    if a.dtype.kind == "b":
        return [b"true" if v else b"false" for v in a.ravel().tolist()]
    if a.dtype.kind == "f":
        a = a.astype(np.int64)  # Truncates toward zero, as tf.cast does.
    if a.dtype.kind not in "iu":
        raise TypeError(
            f"{layer.describe()} expected string, integer, float or bool inputs, got dtype {a.dtype}."
        )
    return a.ravel().astype("S").tolist()


def _encode(bins: np.ndarray, output_mode: str, depth: int, dtype) -> np.ndarray:
    """Keras's `encode_categorical_inputs` for TF, in NumPy (dense).

    `multi_hot` and `count` reduce axis 1 (axis 0 for rank-1 inputs);
    `one_hot` encodes each element, replacing a last axis of size 1.
    """
    if output_mode == "int":
        return bins.astype(dtype)
    if bins.ndim == 0:
        bins = bins[None]
    if output_mode == "one_hot":
        if bins.ndim > 1 and bins.shape[-1] == 1:
            bins = bins[..., 0]
        return (bins[..., None] == np.arange(depth)).astype(dtype)
    one_hot = bins[..., None] == np.arange(depth)
    axis = 1 if bins.ndim > 1 else 0
    if output_mode == "multi_hot":
        return one_hot.any(axis=axis).astype(dtype)
    return one_hot.sum(axis=axis).astype(dtype)


def _output_dtype(layer) -> np.dtype:
    """Keras's default: int32 bin indices in `"int"` mode (what Keras on JAX
    returns, as StringLookup does; Keras declares int64, which JAX narrows
    without x64), float32 encodings otherwise."""
    if layer.dtype is None:
        return np.dtype(np.int32 if layer.output_mode == "int" else np.float32)
    name = getattr(layer.dtype, "name", layer.dtype)
    return np.dtype(name)


def _check_num_bins(layer):
    if not is_int(layer.num_bins) or layer.num_bins <= 0:
        raise ValueError(
            f"{layer.describe()}: The `num_bins` for `{type(layer).__name__}` cannot be `None` or "
            f"non-positive values. Received: num_bins={layer.num_bins!r}."
        )


def _check_dtype(layer):
    try:
        dtype = _output_dtype(layer)
    except TypeError:
        raise ValueError(
            f"{layer.describe()}: `dtype` must name a NumPy dtype, got {layer.dtype!r}."
        ) from None
    if layer.output_mode == "int" and dtype not in (np.int32, np.int64):
        raise ValueError(
            f'{layer.describe()}: When `output_mode="int"`, `dtype` should be an integer type, '
            f"'int32' or 'int64'. Received: dtype={layer.dtype!r}"
        )


def _salt(value) -> tuple[int, int] | None:
    """Keras's `salt`: one integer (used twice) or two integers; SipHash's 128-bit key."""
    if value is None:
        return None
    if is_int(value):
        return (int(value), int(value))
    if isinstance(value, tuple | list) and len(value) == 2 and all(map(is_int, value)):
        return tuple(int(v) for v in value)
    raise ValueError(
        "The `salt` argument for `Hashing` can only be a tuple of size 2 integers, or a "
        f"single integer. Received: salt={value!r}."
    )


DOCS = {
    **ARG_DOCS,
    "num_bins": "Number of hash bins. Note that this includes the `mask_value` bin, "
    "so the effective number of bins is `(num_bins - 1)` if `mask_value` is set.",
    "mask_value": "A value that represents masked inputs, which are mapped to index "
    "0. `None` means no mask term will be added and the hashing will start at index "
    "0. Defaults to `None`.",
    "salt": "A single unsigned integer or None. If passed, the hash function used "
    "will be SipHash64, with these values used as an additional input (known as a "
    '"salt" in cryptography). These should be non-zero. If `None`, uses the '
    "FarmHash64 hash function. It also supports tuple/list of 2 unsigned integer "
    "numbers. Defaults to `None`.",
    "output_mode": 'Specification for the output of the layer. Values can be `"int"`, '
    '`"one_hot"`, `"multi_hot"`, or `"count"`: `"int"` returns the integer bin '
    'indices directly; `"one_hot"` encodes each element into an array of size '
    "`num_bins` (on the last dimension if it has size 1, else on a new one); "
    '`"multi_hot"` encodes each sample into a single array of size `num_bins` with a '
    '1 for each bin present; `"count"` is like `"multi_hot"` but counts. Defaults to '
    '`"int"`.',
}


# ------------------------------------------------------------------- Hashing
@document_args(DOCS)
class Hashing(_HostLayer):
    """Hashes strings or numbers into `num_bins` bins, like `keras.layers.Hashing`.

    FarmHash64 (TF's `Fingerprint64`) by default; SipHash-2-4 keyed by
    `salt` when given. Numbers are hashed as their decimal strings (floats
    truncated to integers first), as Keras does, so bins equal Keras's.
    Runs on the host: `layer(x)` takes NumPy arrays or (nested) lists and
    returns NumPy arrays: int32 bin indices by default, as Keras on JAX
    returns them (`dtype="int64"` for more), float32 encodings in the other
    modes (or `dtype`). Not usable under `jax.jit`.

    Example:
        >>> layer = kerax.layers.Hashing(num_bins=3)
        >>> layer([["A"], ["B"], ["C"], ["D"], ["E"]]).ravel()
        array([1, 0, 1, 1, 2], dtype=int32)
    """

    num_bins: int
    mask_value: str | int | float | None = None
    salt: tuple[int, int] | None = field(None, converter=_salt)
    output_mode: str = "int"
    sparse: bool = False

    autocast = False  # Strings and integers: nothing to cast.

    def __post_init__(self):
        super().__post_init__()
        _check_num_bins(self)
        _check_choice(self, "output_mode", self.output_mode, ("int", *_ENCODE_MODES))
        _check_sparse(self)
        _check_dtype(self)

    def _host_call(self, x):
        x = _host_array(self, x)
        if self.output_mode == "one_hot" and x.ndim and x.shape[-1] == 1:
            x = x[..., 0]
        bins = self.num_bins
        mask = None
        if self.mask_value is not None and bins > 1:
            bins -= 1  # Bin 0 is the mask's.
            mask = self._is_mask(x)
        strings = _to_strings(self, x)
        if self.salt is None:
            hashes = _hash.fingerprint64(strings)
        else:
            hashes = _hash.siphash24(strings, self.salt)
        indices = (hashes % np.uint64(bins)).astype(np.int64).reshape(x.shape)
        if mask is not None:
            indices = np.where(mask, 0, indices + 1)
        return _encode(indices, self.output_mode, self.num_bins, _output_dtype(self))

    def _host_dtype(self) -> np.dtype:
        return _output_dtype(self)

    def _is_mask(self, x: np.ndarray) -> np.ndarray:
        if _is_text(x):
            if not isinstance(self.mask_value, str | bytes):
                raise TypeError(
                    f"{self.describe()}: string inputs need a string `mask_value`, got "
                    f"mask_value={self.mask_value!r}."
                )
            mask = _as_bytes(self, self.mask_value)
            flat = [_as_bytes(self, v) == mask for v in x.ravel().tolist()]
            return np.asarray(flat, bool).reshape(x.shape)
        return np.equal(x, self.mask_value)


# ------------------------------------------------------------ HashedCrossing
CROSSING_DOCS = {
    **ARG_DOCS,
    "num_bins": "Number of hash bins.",
    "output_mode": 'Specification for the output of the layer. Values can be `"int"`, '
    'or `"one_hot"`: `"int"` returns the integer bin indices directly; `"one_hot"` '
    "encodes each individual element in the input into an array the same size as "
    '`num_bins`, containing a 1 at the input\'s bin index. Defaults to `"int"`.',
}


@document_args(CROSSING_DOCS)
class HashedCrossing(_HostLayer):
    """Crosses categorical features with the hashing trick, like `keras.layers.HashedCrossing`.

    `hash(concatenate(features)) % num_bins`, computed as TF's
    `tf.sparse.cross_hashed` does (strings fingerprinted with FarmHash64,
    integers taken as they are, chained with `FingerprintCat64`), so bins
    equal Keras's. Call it on a tuple of two or more features of equal
    shape `()`, `(batch,)` or `(batch, 1)`, integer or string. Runs on the
    host: `layer((a, b))` takes NumPy arrays (or lists) and returns NumPy
    arrays (int64, or float32 one-hot); not usable under `jax.jit`.

    Example:
        >>> layer = kerax.layers.HashedCrossing(num_bins=5)
        >>> feat1 = np.array(["A", "B", "A", "B", "A"])
        >>> feat2 = np.array([101, 101, 101, 102, 102])
        >>> layer((feat1, feat2))
        array([1, 4, 1, 1, 3], dtype=int32)
    """

    num_bins: int
    output_mode: str = "int"
    sparse: bool = False

    autocast = False

    def __post_init__(self):
        super().__post_init__()
        _check_num_bins(self)
        _check_choice(self, "output_mode", self.output_mode, ("int", "one_hot"))
        _check_sparse(self)
        _check_dtype(self)

    def _host_call(self, inputs):
        if not isinstance(inputs, tuple | list) or len(inputs) < 2:
            raise ValueError(
                f"{self.describe()} should be called on a list or tuple of at least two inputs. "
                f"Received: inputs={inputs!r}"
            )
        features = [_host_array(self, x) for x in inputs]
        shape = features[0].shape
        if len(shape) > 2 or (len(shape) == 2 and shape[-1] != 1):
            raise ValueError(
                f"{self.describe()}: All `HashedCrossing` inputs should have shape `()`, "
                f"`(batch_size)` or `(batch_size, 1)`. Received shapes {[f.shape for f in features]}."
            )
        if any(f.shape != shape for f in features[1:]):
            raise ValueError(
                f"{self.describe()}: All `HashedCrossing` inputs should have equal shape. "
                f"Received shapes {[f.shape for f in features]}."
            )
        crossed = np.full(int(np.prod(shape)), _hash.CROSS_HASH_KEY, np.uint64)
        for f in features:
            if _is_text(f):
                feature_hash = _hash.fingerprint64(
                    [_as_bytes(self, v) for v in f.ravel().tolist()]
                )
            elif f.dtype.kind in "iu":
                # TF crosses integers as their int64 values, not their strings.
                feature_hash = f.ravel().astype(np.int64).view(np.uint64)
            else:
                raise ValueError(
                    f"{self.describe()}: All `HashedCrossing` inputs should have an integer or "
                    f"string dtype. Received dtypes {[str(f.dtype) for f in features]}."
                )
            crossed = _hash.fingerprint_cat64(crossed, feature_hash)
        indices = (crossed % np.uint64(self.num_bins)).astype(np.int64).reshape(shape)
        return _encode(indices, self.output_mode, self.num_bins, _output_dtype(self))

    def _host_dtype(self) -> np.dtype:
        return _output_dtype(self)
