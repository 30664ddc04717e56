"""StringLookup and IntegerLookup: vocabulary lookups with Keras's indices, OOV and mask rules.

Both follow Keras's `IndexLookup`: index 0 is the mask token (when set, in
`"int"` mode), then `num_oov_indices` OOV indices, then the vocabulary;
`adapt` orders learned tokens by count, ties by token in descending order
(Keras's `np.lexsort(...)[::-1]`).

The vocabulary is CONFIG, not state: its size fixes output shapes
(`"multi_hot"` depth, the `invert` table), and a layer is a frozen config.
So `adapt(data)` and `set_vocabulary(...)` return a NEW layer holding the
vocabulary (and `idf_weights`) as config fields, which `get_config` saves
and a model rebuilt from its config has again:

    lookup = IntegerLookup().adapt(ids)       # Keras: lookup.adapt(ids)

`IntegerLookup` is a JAX layer (jit, inside models). `StringLookup` runs on
the host, since JAX has no string arrays: call it on NumPy string arrays or
Python lists in the data pipeline, before the model.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import os

import jax
import jax.numpy as jnp
import numpy as np

from kerax.core.fields import field
from kerax.core.layer import Layer
from kerax.layers._docs import document_args
from kerax.layers.preprocessing import _hash
from kerax.layers.preprocessing._data_ops import _token_batches
from kerax.layers.preprocessing._host import (
    _HostLayer,
    _is_traced,
    as_strings,
)
from kerax.layers.preprocessing.category_encoding import _check_choice

_OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")


def _output_mode(mode):
    """Keras's aliases: `"binary"` is `"multi_hot"`, `"tf-idf"` is `"tf_idf"`."""
    return {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(mode, mode)


def _read_vocabulary_file(path: str) -> list[str]:
    """Keras's vocabulary file: one token per line, trailing empty lines dropped."""
    if not os.path.isfile(path):
        raise ValueError(f"Vocabulary file {path} does not exist.")
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    while lines and lines[-1] == "":
        lines.pop()
    return lines


def _flat_list(value) -> list | None:
    if value is None:
        return None
    if isinstance(value, dict) and value.get("class_name") == "__numpy__":
        value = value["config"]["value"]  # Keras's serialized numpy array.
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        value = value.numpy()  # A tf.Tensor.
    out = np.asarray(value, dtype=object)
    if out.ndim != 1:
        raise ValueError(f"expected a 1-D list of tokens, got shape {out.shape}.")
    return out.tolist()


def string_tokens(encoding: str = "utf-8"):
    """A vocabulary of strings (bytes decoded), or a text file's lines, as a tuple."""

    def convert(value) -> tuple[str, ...] | None:
        if isinstance(value, str):
            value = _read_vocabulary_file(value)
        value = _flat_list(value)
        if value is None:
            return None
        tokens = [v.decode(encoding) if isinstance(v, bytes) else v for v in value]
        if not all(isinstance(t, str) for t in tokens):
            raise ValueError(f"expected a list of strings, got {value!r}.")
        return tuple(tokens)

    return convert


def integer_tokens(value) -> tuple[int, ...] | None:
    """A vocabulary of integers, or a text file of one integer per line, as a tuple."""
    if isinstance(value, str):
        value = [int(line) for line in _read_vocabulary_file(value)]
    value = _flat_list(value)
    if value is None:
        return None
    if not all(
        isinstance(v, int | np.integer) and not isinstance(v, bool) for v in value
    ):
        raise ValueError(f"expected a list of integers, got {value!r}.")
    return tuple(int(v) for v in value)


def weights(value) -> tuple[float, ...] | None:
    value = _flat_list(value)
    return None if value is None else tuple(float(v) for v in value)


def _salt(value) -> tuple[int, int] | None:
    """Keras's `salt`: one integer (used twice) or two; SipHash's 128-bit key."""
    if value is None:
        return None
    value = _flat_list([value] if isinstance(value, int) else value)
    if value is not None and len(value) == 1:
        value = value * 2
    if (
        len(value) != 2
        or not all(isinstance(v, int | np.integer) for v in value)
        or any(isinstance(v, bool) for v in value)
    ):
        raise ValueError(
            f"can only be a tuple of 2 integers, or a single integer. Received: salt={value!r}."
        )
    return tuple(int(v) for v in value)


# ------------------------------------------------------------ the vocabulary
@dataclasses.dataclass(frozen=True)
class _Table:
    """A lookup layer's vocabulary with Keras's special indices, checked once per layer.

    `tokens` excludes the mask and OOV tokens; `idf` is the full tf-idf weight
    vector (special indices and `pad_to_max_tokens` padding included).
    """

    tokens: tuple
    oov_start: int
    token_start: int
    special: tuple
    depth: int | None
    idf: np.ndarray | None

    @functools.cached_property
    def index(self) -> dict:
        """Token -> index: built once, not on every host call."""
        return {t: i for i, t in enumerate(self.tokens, self.token_start)}

    @property
    def size(self) -> int:
        return self.token_start + len(self.tokens)


class _IndexLookup(Layer):
    """What StringLookup, IntegerLookup (and TextVectorization's lookup) share.

    Subclasses declare the fields, in their Keras argument order.
    """

    autocast = False  # Tokens and indices are never cast to a float policy.

    def __post_init__(self):
        super().__post_init__()
        mode = self.output_mode
        _check_choice(self, "output_mode", mode, _OUTPUT_MODES)
        if self.sparse:
            raise ValueError(
                f"{self.describe()}: `sparse=True` is not supported: kerax returns dense arrays. Use sparse=False."
            )
        if self.max_tokens is not None and (
            not isinstance(self.max_tokens, int) or self.max_tokens <= 1
        ):
            raise ValueError(
                f"{self.describe()}: If set, `max_tokens` must be greater than 1. Received: max_tokens={self.max_tokens!r}"
            )
        if self.pad_to_max_tokens and self.max_tokens is None:
            raise ValueError(
                f"{self.describe()}: If pad_to_max_tokens is True, must set `max_tokens`. Received: max_tokens=None"
            )
        if not isinstance(self.num_oov_indices, int) or self.num_oov_indices < 0:
            raise ValueError(
                f"{self.describe()}: `num_oov_indices` must be greater than or equal to 0. "
                f"Received: num_oov_indices={self.num_oov_indices!r}"
            )
        if self.invert and mode != "int":
            raise ValueError(
                f"{self.describe()}: `output_mode` must be `'int'` when `invert` is true. Received: output_mode={mode}"
            )
        if self.idf_weights is not None and mode != "tf_idf":
            raise ValueError(
                f"{self.describe()}: `idf_weights` should only be set if `output_mode` is `'tf_idf'`. "
                f"Received: output_mode={mode}"
            )
        if (
            mode == "tf_idf"
            and self.vocabulary is not None
            and self.idf_weights is None
        ):
            raise ValueError(
                f"{self.describe()}: When specifying the `vocabulary` argument, in TF-IDF output mode, the "
                "`idf_weights` argument must also be provided."
            )
        self._check_hashing()
        vars(self)["_kerax_table"] = self._make_table()

    def _check_hashing(self):
        """Subclasses check their OOV hashing options."""

    def _make_table(self) -> _Table:
        """Keras's `set_vocabulary` checks and index layout."""
        oov_start = (
            1 if self.mask_token is not None and self.output_mode == "int" else 0
        )
        token_start = oov_start + self.num_oov_indices
        special = (self.mask_token,) * oov_start + (
            self.oov_token,
        ) * self.num_oov_indices
        vocabulary = self.vocabulary
        found_special = False
        tokens = ()
        if vocabulary is not None:
            if not vocabulary:
                raise ValueError(
                    f"{self.describe()}: Cannot set an empty vocabulary. Received: vocabulary={vocabulary}"
                )
            found_special = tuple(vocabulary[:token_start]) == special
            tokens = vocabulary[token_start:] if found_special else vocabulary
            repeated = [t for t, n in collections.Counter(tokens).items() if n > 1]
            if repeated:
                raise ValueError(
                    f"{self.describe()}: The passed vocabulary has at least one repeated term. Please uniquify "
                    f"your dataset. The repeated terms are: {repeated}"
                )
            for what, token in (
                ("mask_token", self.mask_token),
                ("oov_token", self.oov_token),
            ):
                if (
                    token is not None
                    and token in tokens
                    and (what == "mask_token" or self.invert)
                ):
                    raise ValueError(
                        f"{self.describe()}: Found reserved {what} {token!r} at unexpected location in `vocabulary`. "
                        "Note that passed `vocabulary` does not need to include the OOV and mask tokens. Either "
                        "remove all mask and OOV tokens, or include them only at the start of the vocabulary in "
                        f"precisely this order: {list(special)}."
                    )
            if (
                self.max_tokens is not None
                and token_start + len(tokens) > self.max_tokens
            ):
                raise ValueError(
                    f"{self.describe()}: Attempted to set a vocabulary larger than the maximum vocab size. Received "
                    f"vocabulary size is {token_start + len(tokens)}; `max_tokens` is {self.max_tokens}."
                )
        size = token_start + len(tokens)
        if self.pad_to_max_tokens:
            depth = self.max_tokens
        else:
            depth = size if vocabulary is not None else None
        idf = None
        if self.idf_weights is not None:
            given = np.asarray(self.idf_weights, np.float64)
            if vocabulary is None or len(given) != len(vocabulary):
                raise ValueError(
                    f"{self.describe()}: `idf_weights` must be the same length as vocabulary. len(idf_weights) is "
                    f"{len(given)}; len(vocabulary) is {0 if vocabulary is None else len(vocabulary)}"
                )
            # Keras pads the special indices with the mean weight, and the tail with zeros.
            front = 0 if found_special else token_start
            back = depth - front - len(given) if self.pad_to_max_tokens else 0
            idf = np.pad(
                given, (front, back), constant_values=(np.average(given), 0)
            ).astype(np.float32)
        return _Table(tuple(tokens), oov_start, token_start, special, depth, idf)

    @property
    def _table(self) -> _Table:
        return vars(self)["_kerax_table"]

    def _depth(self) -> int:
        """The encoded width; Keras's `_ensure_known_vocab_size` error when unknown."""
        if self._table.depth is None:
            raise RuntimeError(
                f"{self.describe()}: When using `output_mode={self.output_mode}` and `pad_to_max_tokens=False`, "
                "you must set the layer's vocabulary before calling it. Either pass a `vocabulary` argument to the "
                "layer, or adapt it: `layer = layer.adapt(data)`."
            )
        return self._table.depth

    # ---------------------------------------------------------- Keras's API
    def get_vocabulary(self, include_special_tokens: bool = True) -> list:
        """The vocabulary; with special tokens, a term's position is its index.

        Args:
          include_special_tokens: If `True`, the list starts with the mask
            (in `"int"` mode) and OOV tokens.
        """
        table = self._table
        vocabulary = list(table.special) + list(table.tokens)
        return vocabulary if include_special_tokens else vocabulary[table.token_start :]

    def vocabulary_size(self) -> int:
        """The number of indices, mask and OOV indices included."""
        return self._table.size

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """A copy of this layer with `vocabulary` (and, for `"tf_idf"`, `idf_weights`).

        Keras's `set_vocabulary` changes the layer in place; kerax layers are
        frozen configs, so it returns the new layer: `layer = layer.set_vocabulary(...)`.
        """
        if self.output_mode == "tf_idf" and idf_weights is None:
            raise ValueError(
                f"{self.describe()}: `idf_weights` must be set if output_mode is 'tf_idf'."
            )
        return dataclasses.replace(self, vocabulary=vocabulary, idf_weights=idf_weights)

    def adapt(self, data, steps: int | None = None):
        """A copy of this layer whose vocabulary (and idf weights) are learned from `data`.

        Tokens are ranked by count (ties: the larger token first, as Keras
        orders them), capped by `max_tokens`; the mask and OOV tokens are
        never learned. Keras changes the layer in place; kerax returns the
        new layer: `layer = layer.adapt(data)`.

        Args:
          data: an array or (nested) list of tokens (rank 1: one token per
            document), or an iterable of batches (a generator, a
            `tf.data.Dataset`; `(x, y)` tuples contribute `x`).
          steps: how many batches of an iterable to use (all if None).
        """
        return self._adapted(self._documents(data, steps))

    def _documents(self, data, steps):
        """The documents (lists of tokens) of `data`, by Keras's rank rules."""
        batches = _token_batches(
            self,
            data,
            steps,
            self._host_tokens,
            "an array, a list of tokens, or an iterable of batches",
        )
        for batch in batches:
            # Keras's update_state: a scalar or a rank-1 batch is one document.
            batch = batch.reshape(1, -1) if batch.ndim < 2 else batch
            yield from batch.reshape(batch.shape[0], -1).tolist()

    def _adapted(self, documents):
        """Keras's `update_state` over `documents`, then `finalize_state`."""
        counts, doc_counts, num_documents = (
            collections.Counter(),
            collections.Counter(),
            0,
        )
        for doc in documents:
            counts.update(doc)
            if self.output_mode == "tf_idf":
                doc_counts.update(set(doc))
                num_documents += 1
        for special in (self.mask_token, self.oov_token):
            counts.pop(special, None)
        ranked = sorted(counts, key=lambda t: (counts[t], t), reverse=True)
        if self.max_tokens:
            ranked = ranked[: self.max_tokens - self._table.token_start]
        idf = None
        if self.output_mode == "tf_idf" and ranked:
            df = np.array([doc_counts[t] for t in ranked], np.float64)
            idf = np.log(1 + num_documents / (1 + df)).astype(np.float32).tolist()
        return dataclasses.replace(
            self, vocabulary=tuple(ranked) or None, idf_weights=idf
        )

    @classmethod
    def from_config(cls, config: dict, custom_objects=None):
        """Rebuilds the layer from `get_config()`, or from a Keras layer's config."""
        return from_keras_or_kerax_config(
            cls, super().from_config, config, custom_objects
        )

    # ------------------------------------------------------------ host lookup
    def _host_tokens(self, x) -> np.ndarray:
        raise NotImplementedError

    def _lookup_host(self, tokens: np.ndarray) -> np.ndarray:
        """Token ids of a NumPy array of hashable tokens; -1 for masked (dropped) tokens."""
        table = self._table
        index = table.index
        unique, inverse = np.unique(tokens.reshape(-1), return_inverse=True)
        ids = np.empty(len(unique), np.int64)
        oov_rows, oov = [], []
        for j, token in enumerate(unique.tolist()):
            if self.mask_token is not None and token == self.mask_token:
                ids[j] = 0 if self.output_mode == "int" else -1
            elif token in index:
                ids[j] = index[token]
            else:
                oov_rows.append(j)
                oov.append(token)
        if oov and self.num_oov_indices == 0:
            raise ValueError(
                f"{self.describe()}: When `num_oov_indices=0` all inputs should be in vocabulary, found OOV values "
                f"{oov}, consider setting `num_oov_indices=1`."
            )
        if oov:
            ids[oov_rows] = table.oov_start + self._oov_buckets(oov)
        return ids[inverse].reshape(tokens.shape)

    def _oov_buckets(self, tokens: list) -> np.ndarray:
        """The OOV bucket of each token, when `num_oov_indices > 1` (subclasses hash)."""
        del tokens
        return np.int64(0)


def from_keras_or_kerax_config(cls, base_from_config, config: dict, custom_objects):
    """`base_from_config(config)` after reading Keras's extra keys.

    Keras's configs name the dtype policy as a dict and add `vocabulary_size`
    (and, for StringLookup, `oov_method`). An adapted Keras layer keeps its
    vocabulary outside the config (a `vocabulary.txt` asset), so its config
    alone would make an empty lookup: that is an error saying what to pass.
    """
    config = dict(config)
    keras_size = config.pop("vocabulary_size", None)
    fields = {f.name for f in dataclasses.fields(cls)}
    if "oov_method" not in fields:
        config.pop(
            "oov_method", None
        )  # Strings always hash OOVs (only 1 OOV index here).
    dtype = config.get("dtype")
    if isinstance(dtype, dict) and "DTypePolicy" in str(dtype.get("class_name")):
        name = (dtype.get("config") or {}).get("name")
        config["dtype"] = (
            None if name == "float32" else name
        )  # float32: Keras's default.
    layer = base_from_config(config, custom_objects)
    if keras_size is not None and keras_size != layer.vocabulary_size():
        raise ValueError(
            f"{layer.describe()}: this Keras config says vocabulary_size={keras_size} but carries "
            f"{layer.vocabulary_size()} indices: Keras keeps an adapted vocabulary outside the config (a "
            "`vocabulary.txt` asset). Import the layer with its vocabulary: pass "
            "`vocabulary=keras_layer.get_vocabulary()` (and `idf_weights` for tf_idf)."
        )
    return layer


def encode_host(ids: np.ndarray, output_mode: str, depth: int, idf=None) -> np.ndarray:
    """Keras's `encode_categorical_inputs` in NumPy; negative ids (masked tokens) are dropped.

    `"multi_hot"`, `"count"`, `"tf_idf"` reduce the last axis (a rank-1 input
    is one sample); `"one_hot"` encodes each element, replacing a last axis
    of size 1. Integer outputs are int32, as Keras's lookups give on JAX.
    """
    if ids.ndim == 0:
        ids = ids[None]
    if output_mode == "one_hot":
        if ids.ndim > 1 and ids.shape[-1] == 1:
            ids = ids[..., 0]
        return (ids[..., None] == np.arange(depth)).astype(np.int32)
    rows = ids.reshape(-1, ids.shape[-1])
    valid = rows >= 0
    flat = (np.arange(len(rows))[:, None] * depth + rows)[valid]
    counts = np.bincount(flat, minlength=len(rows) * depth).reshape(
        ids.shape[:-1] + (depth,)
    )
    if output_mode == "multi_hot":
        return np.minimum(counts, 1).astype(np.int32)
    if output_mode == "tf_idf":
        return counts.astype(np.float32) * idf
    return counts.astype(np.int32)


DOCS = {
    "max_tokens": "Maximum size of the vocabulary for this layer. This should only be specified when adapting "
    "the vocabulary or when setting `pad_to_max_tokens=True`. If None, there is no cap on the size of the "
    "vocabulary. Note that this size includes the OOV and mask tokens. Defaults to `None`.",
    "num_oov_indices": "The number of out-of-vocabulary tokens to use. If this value is more than 1, OOV inputs "
    "are modulated to determine their OOV value. If this value is 0, OOV inputs will cause an error when "
    "calling the layer. Defaults to `1`.",
    "mask_token": 'A token that represents masked inputs. When `output_mode` is `"int"`, the token is included '
    "in the vocabulary and mapped to index 0. In other output modes, the token will not appear in the "
    "vocabulary and instances of the mask token in the input will be dropped. If set to `None`, no mask term "
    "will be added. Defaults to `None`.",
    "oov_token": "Only used when `invert` is True. The token to return for OOV indices.",
    "vocabulary": "Optional. Either an array of tokens or a string path to a text file (one token per line, "
    "read when the layer is made). If this argument is set, there is no need to `adapt()` the layer.",
    "vocabulary_dtype": 'The dtype of the vocabulary terms. Only `"int64"` is supported.',
    "idf_weights": 'Only valid when `output_mode` is `"tf_idf"`. A tuple, list, or 1D NumPy array of the same '
    "length as the vocabulary, containing the floating point inverse document frequency weights, which will "
    "be multiplied by per sample term counts for the final TF-IDF weight. If the `vocabulary` argument is "
    'set and `output_mode` is `"tf_idf"`, this argument must be supplied.',
    "invert": 'Only valid when `output_mode` is `"int"`. If `True`, this layer will map indices to vocabulary '
    "items instead of mapping vocabulary items to indices. Defaults to `False`.",
    "output_mode": 'Specification for the output of the layer: `"int"` returns the vocabulary indices of the '
    'input tokens; `"one_hot"` encodes each element as an array the size of the vocabulary (a last dimension '
    'of size 1 is replaced); `"multi_hot"` encodes each sample (the last dimension) as one array with a 1 for '
    'each vocabulary term present; `"count"` gives the number of times each term appears; `"tf_idf"` '
    'multiplies the counts by `idf_weights`. Defaults to `"int"`.',
    "pad_to_max_tokens": 'Only applicable when `output_mode` is `"multi_hot"`, `"count"`, or `"tf_idf"`. If '
    "`True`, the output will have its feature axis padded to `max_tokens` even if the number of unique tokens "
    "in the vocabulary is less than `max_tokens`. Defaults to `False`.",
    "sparse": "Whether to return a sparse tensor (kerax has none: must be `False`).",
    "encoding": 'The text encoding used to decode bytes inputs and vocabulary. Defaults to `"utf-8"`.',
    "oov_method": 'Only relevant when `num_oov_indices > 1`: `"floormod"` (default) assigns `token % '
    'num_oov_indices`. (`"farmhash"` hashes in uint64, which a JAX layer cannot do without '
    "`jax_enable_x64`: not supported.)",
    "salt": "Only for OOV buckets (`num_oov_indices > 1`) of strings, or with "
    '`oov_method="farmhash"`: one integer or two; if set, OOV tokens are hashed '
    "with SipHash64 keyed by them instead of FarmHash64. Defaults to `None`.",
}


# -------------------------------------------------------------- StringLookup
@document_args(DOCS)
class StringLookup(_IndexLookup, _HostLayer):
    """Maps strings to vocabulary indices on the host, like `keras.layers.StringLookup`.

    JAX has no string arrays, so this layer runs in NumPy: call it on a
    NumPy string/object array or a (nested) list of strings in the data
    pipeline and feed its int32 (`"tf_idf"`: float32) NumPy output to the
    model; inside a traced model it raises an error saying so. `invert=True`
    maps indices back to a NumPy array of strings. The vocabulary is config:
    `adapt` and `set_vocabulary` return a new layer (see the module doc).
    With `num_oov_indices > 1`, OOV strings go to buckets by FarmHash64
    (SipHash64 with `salt`), bit for bit as Keras's TensorFlow ops.

    Example:
        >>> lookup = kerax.layers.StringLookup().adapt(["b", "a", "b", "c", "c", "c"])
        >>> lookup.get_vocabulary()
        ['[UNK]', 'c', 'b', 'a']
        >>> lookup([["a", "c"], ["d", "b"]])
        array([[3, 1],
               [0, 2]], dtype=int32)
    """

    max_tokens: int | None = None
    num_oov_indices: int = 1
    mask_token: str | None = None
    oov_token: str = "[UNK]"
    vocabulary: tuple[str, ...] | None = field(None, converter=string_tokens())
    idf_weights: tuple[float, ...] | None = field(None, converter=weights)
    invert: bool = False
    output_mode: str = field("int", converter=_output_mode)
    pad_to_max_tokens: bool = False
    sparse: bool = False
    encoding: str = "utf-8"
    salt: tuple[int, int] | None = field(None, converter=_salt)

    def __post_init__(self):
        if self.encoding != "utf-8" and self.vocabulary is not None:
            # The field converter decoded bytes as UTF-8; redo with this layer's encoding.
            object.__setattr__(
                self, "vocabulary", string_tokens(self.encoding)(self.vocabulary)
            )
        super().__post_init__()

    def _oov_buckets(self, tokens: list) -> np.ndarray:
        if self.num_oov_indices <= 1:
            return np.int64(0)
        # TF's to_hash_bucket_fast / _strong: FarmHash64 or salted SipHash, modulo the bucket count.
        data = [t.encode(self.encoding) for t in tokens]
        hashes = (
            _hash.fingerprint64(data)
            if self.salt is None
            else _hash.siphash24(data, self.salt)
        )
        return (hashes % np.uint64(self.num_oov_indices)).astype(np.int64)

    def _host_tokens(self, x) -> np.ndarray:
        return as_strings(self, x, self.encoding)

    def _host_dtype(self) -> np.dtype:
        return np.dtype(object) if self.invert else super()._host_dtype()

    def _host_call(self, x):
        if self.invert:
            ids = np.asarray(x)
            if not np.issubdtype(ids.dtype, np.integer):
                raise TypeError(
                    f"{self.describe()}: with invert=True the inputs must be integer indices."
                )
            vocabulary = np.array(self.get_vocabulary(), dtype=object)
            inside = (ids >= 0) & (ids < len(vocabulary))
            return np.where(
                inside, vocabulary[np.where(inside, ids, 0)], self.oov_token
            )
        ids = self._lookup_host(self._host_tokens(x))
        if self.output_mode == "int":
            return ids.astype(np.int32)
        return encode_host(ids, self.output_mode, self._depth(), self._table.idf)


# ------------------------------------------------------------- IntegerLookup
def encode_jax(ids, output_mode: str, depth: int, idf=None):
    """`encode_host` in JAX (negative ids dropped), for IntegerLookup inside models."""
    if ids.ndim == 0:
        ids = ids[None]
    if output_mode == "one_hot":
        if ids.ndim > 1 and ids.shape[-1] == 1:
            ids = jnp.squeeze(ids, -1)
        return jax.nn.one_hot(ids, depth, dtype=jnp.int32)
    counts = jnp.sum(jax.nn.one_hot(ids, depth, dtype=jnp.int32), axis=-2)
    if output_mode == "multi_hot":
        return jnp.minimum(counts, 1)
    if output_mode == "tf_idf":
        return counts.astype(jnp.float32) * jnp.asarray(idf)
    return counts


@document_args(DOCS)
class IntegerLookup(_IndexLookup):
    """Maps integer tokens to vocabulary indices in JAX, like `keras.layers.IntegerLookup`.

    A JAX layer: it jits and sits inside models. The vocabulary is config
    (a sorted copy is searched with `jnp.searchsorted`), so `adapt` and
    `set_vocabulary` return a new layer (see the module doc). Outputs are
    int32 indices (one-hot, multi-hot and counts too, as Keras gives them on
    JAX), float32 for `"tf_idf"`; `invert=True` maps indices back to tokens.
    Tokens beyond int32 need `jax_enable_x64`. With `num_oov_indices=0` an
    OOV input raises on concrete arrays; under jit it maps to -1.

    Example:
        >>> lookup = kerax.layers.IntegerLookup(vocabulary=[12, 36, 1138, 42])
        >>> lookup.apply({}, {}, jnp.array([[12, 1138, 42], [42, 1000, 36]]))[0]
        Array([[1, 3, 4],
               [4, 0, 2]], dtype=int32)
    """

    max_tokens: int | None = None
    num_oov_indices: int = 1
    mask_token: int | None = None
    oov_token: int = -1
    vocabulary: tuple[int, ...] | None = field(None, converter=integer_tokens)
    vocabulary_dtype: str = "int64"
    idf_weights: tuple[float, ...] | None = field(None, converter=weights)
    invert: bool = False
    output_mode: str = field("int", converter=_output_mode)
    sparse: bool = False
    pad_to_max_tokens: bool = False
    oov_method: str = "floormod"
    salt: tuple[int, int] | None = field(None, converter=_salt)

    def _check_hashing(self):
        if self.vocabulary_dtype != "int64":
            raise ValueError(
                f"{self.describe()}: Only `vocabulary_dtype='int64'` is supported at this time. "
                f"Received: vocabulary_dtype={self.vocabulary_dtype}"
            )
        _check_choice(self, "oov_method", self.oov_method, ("floormod", "farmhash"))
        if self.salt is not None and self.oov_method != "farmhash":
            raise ValueError(
                f"{self.describe()}: `salt` can only be used when `oov_method='farmhash'`. "
                f"Received: oov_method={self.oov_method}"
            )
        if self.oov_method == "farmhash" and self.num_oov_indices > 1:
            raise ValueError(
                f"{self.describe()}: oov_method='farmhash' is not supported: it hashes in uint64, which a JAX "
                "layer cannot do without jax_enable_x64 (kerax never sets it). Use oov_method='floormod'."
            )

    def check_input(self, spec):
        if not jnp.issubdtype(spec.dtype, jnp.integer):
            raise ValueError(
                f"{self.describe()} expects integer inputs, got {spec.dtype}. (For strings use StringLookup in "
                "the data pipeline.)"
            )
        if self.output_mode != "int":
            self._depth()

    def call(self, params, state, x, *, key, training):
        del params, key, training
        x = jnp.asarray(x)  # NumPy int64 becomes JAX's int32 (without x64), quietly.
        table = self._table
        if self.invert:
            if not table.size:
                return jnp.full(x.shape, self.oov_token, x.dtype), state
            vocabulary = jnp.asarray(self.get_vocabulary(), x.dtype)
            inside = (x >= 0) & (x < table.size)
            return jnp.where(
                inside, vocabulary[jnp.clip(x, 0, table.size - 1)], self.oov_token
            ), state
        tokens = np.asarray(table.tokens, np.int64)
        order = np.argsort(tokens)
        keys = jnp.asarray(tokens[order], x.dtype)
        if len(tokens):
            pos = jnp.clip(jnp.searchsorted(keys, x), 0, len(tokens) - 1)
            found = keys[pos] == x
            ids = jnp.asarray(order + table.token_start, jnp.int32)[pos]
        else:
            found, ids = jnp.zeros(x.shape, bool), jnp.zeros(x.shape, jnp.int32)
        if self.num_oov_indices > 1:
            oov = table.oov_start + jnp.mod(x, self.num_oov_indices).astype(jnp.int32)
        else:
            oov = jnp.full(
                x.shape, table.oov_start if self.num_oov_indices else -1, jnp.int32
            )
        ids = jnp.where(found, ids, oov)
        missing = ~found
        if self.mask_token is not None:
            masked = x == self.mask_token
            ids = jnp.where(masked, 0 if self.output_mode == "int" else -1, ids)
            missing &= ~masked
        if self.num_oov_indices == 0 and not _is_traced(x) and bool(jnp.any(missing)):
            raise ValueError(
                f"{self.describe()}: When `num_oov_indices=0` all inputs should be in vocabulary, found OOV values "
                f"{np.unique(np.asarray(x)[np.asarray(missing)]).tolist()}, consider setting `num_oov_indices=1`."
            )
        if self.output_mode == "int":
            return ids, state
        return encode_jax(ids, self.output_mode, self._depth(), table.idf), state

    def _host_tokens(self, x) -> np.ndarray:
        if hasattr(x, "numpy") and not isinstance(x, np.ndarray):
            x = x.numpy()
        x = np.asarray(x)
        if not np.issubdtype(x.dtype, np.integer):
            raise TypeError(
                f"{self.describe()}.adapt: expected integer tokens, got dtype {x.dtype}."
            )
        return x.astype(np.int64)
