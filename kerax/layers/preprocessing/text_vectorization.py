"""TextVectorization: texts to token ids or token vectors, on the host, as Keras computes them.

JAX has no string arrays, so the layer runs in NumPy in the data pipeline:
`x = vectorizer(texts)` gives the int32 (or float32 tf-idf) array the model
takes. Standardization and splitting follow TensorFlow's string ops, which
Keras uses: `"lower"` lowercases ASCII letters only (`tf.strings.lower`),
`"whitespace"` splits on ASCII whitespace only (`tf.strings.split`).
"""

from __future__ import annotations

import dataclasses
import re
import string

import numpy as np

from kerax.core.fields import field
from kerax.layers._docs import document_args
from kerax.layers.preprocessing._data_ops import _token_batches
from kerax.layers.preprocessing._host import _HostLayer, as_strings
from kerax.layers.preprocessing.category_encoding import _check_choice
from kerax.layers.preprocessing.lookup import (
    DOCS as LOOKUP_DOCS,
)
from kerax.layers.preprocessing.lookup import (
    StringLookup,
    _output_mode,
    encode_host,
    from_keras_or_kerax_config,
    string_tokens,
    weights,
)

# Keras's DEFAULT_STRIP_REGEX: exactly the ASCII punctuation characters.
PUNCTUATION = re.compile(f"[{re.escape(string.punctuation)}]")
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
# `tf.strings.split`'s separators: ASCII whitespace (not \xa0, \u2003, ...).
_WHITESPACE = re.compile("[ \t\n\v\f\r]+")

_STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation")
_SPLIT = ("whitespace", "character")


def standardize_text(
    text: str, standardize: str | None = "lower_and_strip_punctuation"
) -> str:
    """One text standardized as Keras's `TextVectorization` does with a named `standardize`."""
    if standardize in ("lower", "lower_and_strip_punctuation"):
        text = text.translate(_ASCII_LOWER)
    if standardize in ("strip_punctuation", "lower_and_strip_punctuation"):
        text = PUNCTUATION.sub("", text)
    return text


def split_text(text: str, split: str) -> list[str]:
    """One text split as Keras's `TextVectorization` does with a named `split`."""
    if split == "character":
        return list(text)  # tf.strings.unicode_split: code points.
    return [t for t in _WHITESPACE.split(text) if t]


def _ngrams(tokens: list, widths: tuple[int, ...]) -> list[str]:
    """`tf.strings.ngrams(..., separator=" ")`: all n-grams of each width, width by width."""
    return [
        " ".join(tokens[i : i + w]) for w in widths for i in range(len(tokens) - w + 1)
    ]


def _option(choices):
    def convert(value):
        if value is None or callable(value):
            return value
        if value not in choices:
            raise ValueError(
                f"expected one of {choices}, None or a callable. Received: {value!r}"
            )
        return value

    return convert


def _ngrams_arg(value):
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if isinstance(value, tuple | list) and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        return tuple(value)
    raise ValueError(
        f"`ngrams` must be None, an integer, or a tuple of integers. Received: ngrams={value!r}"
    )


DOCS = {
    **LOOKUP_DOCS,
    "max_tokens": "Maximum size of the vocabulary for this layer. This should only be specified when adapting "
    "a vocabulary or when setting `pad_to_max_tokens=True`. Note that this vocabulary contains 1 OOV token, "
    'so the effective number of tokens is `(max_tokens - 1 - (1 if output_mode == "int" else 0))`.',
    "standardize": "Optional specification for standardization to apply to the input text: `None` (no "
    'standardization), `"lower_and_strip_punctuation"` (lowercase and remove punctuation), `"lower"`, '
    '`"strip_punctuation"`, or a callable taking a NumPy array of `str` and returning one (register it with '
    '`kerax.register` to save the config). Defaults to `"lower_and_strip_punctuation"`.',
    "split": 'Optional specification for splitting the input text: `None` (no splitting), `"whitespace"`, '
    '`"character"` (split on each unicode character), or a callable taking one standardized `str` and '
    'returning its list of tokens (Keras passes a tf string tensor). Defaults to `"whitespace"`.',
    "ngrams": "Optional specification for ngrams to create from the possibly-split input text: `None`, an "
    "integer (all ngrams up to that size) or a tuple of integers (those sizes).",
    "output_mode": 'Optional specification for the output of the layer: `"int"` (token ids), `"multi_hot"`, '
    '`"count"`, `"tf_idf"` (one vector per text, the size of the vocabulary), or `"one_hot"` (only with '
    '`split=None`). Defaults to `"int"`.',
    "output_sequence_length": "Only valid in INT mode. If set, the output will have its time dimension padded "
    "or truncated to exactly `output_sequence_length` values; otherwise texts are padded to the longest one "
    "of the batch.",
    "pad_to_max_tokens": 'Only valid in `"multi_hot"`, `"count"`, and `"tf_idf"` modes. If `True`, the output '
    "will have its feature axis padded to `max_tokens` even if the number of unique tokens in the vocabulary "
    "is less than `max_tokens`. Defaults to `False`.",
    "vocabulary": "Optional. Either an array of strings or a string path to a text file. If this argument is "
    "set, there is no need to `adapt()` the layer.",
    "ragged": "Whether to return a ragged tensor (kerax returns dense padded arrays: must be `False`).",
    "encoding": 'The text encoding used to decode bytes inputs and vocabulary. Defaults to `"utf-8"`.',
}


@document_args(DOCS)
class TextVectorization(_HostLayer):
    """Turns texts into token ids or token vectors on the host, like `keras.layers.TextVectorization`.

    Each text is standardized, split into tokens, expanded to `ngrams`,
    then looked up in the vocabulary (index 0: padding, 1: OOV `"[UNK]"` in
    `"int"` mode). It runs in NumPy on a list or NumPy array of strings, in
    the data pipeline: `x = vectorizer(texts)`, then `fit` on `x`; inside a
    traced model it raises an error saying so. The vocabulary is config:
    `adapt(texts)` and `set_vocabulary` return a new layer, whose
    `get_config` holds the vocabulary. `adapt` orders the vocabulary as
    Keras does (by count, ties by token in descending order) and outputs
    equal Keras's (int32, as Keras gives on JAX; float32 for `"tf_idf"`).

    Example:
        >>> vectorizer = kerax.layers.TextVectorization(output_sequence_length=4)
        >>> vectorizer = vectorizer.adapt(["The cat sat.", "The dog!"])
        >>> vectorizer.get_vocabulary()
        ['', '[UNK]', 'the', 'sat', 'dog', 'cat']
        >>> vectorizer(["the cat and the dog"])
        array([[2, 5, 1, 2]], dtype=int32)
    """

    max_tokens: int | None = None
    standardize: object = field(
        "lower_and_strip_punctuation", converter=_option(_STANDARDIZE)
    )
    split: object = field("whitespace", converter=_option(_SPLIT))
    ngrams: int | tuple[int, ...] | None = field(None, converter=_ngrams_arg)
    output_mode: str = field("int", converter=_output_mode)
    output_sequence_length: int | None = None
    pad_to_max_tokens: bool = False
    vocabulary: tuple[str, ...] | None = field(None, converter=string_tokens())
    idf_weights: tuple[float, ...] | None = field(None, converter=weights)
    sparse: bool = False
    ragged: bool = False
    encoding: str = "utf-8"

    def __post_init__(self):
        if self.encoding != "utf-8" and self.vocabulary is not None:
            object.__setattr__(
                self, "vocabulary", string_tokens(self.encoding)(self.vocabulary)
            )
        super().__post_init__()
        mode = self.output_mode
        _check_choice(
            self,
            "output_mode",
            mode,
            ("int", "one_hot", "multi_hot", "count", "tf_idf"),
        )
        if mode == "one_hot" and self.split is not None:
            raise ValueError(
                f"{self.describe()}: output_mode='one_hot' encodes each token of an unsplit input: use it with "
                "split=None, or use 'multi_hot'/'count' for split texts."
            )
        length = self.output_sequence_length
        if mode == "int" and not (
            length is None
            or (
                isinstance(length, int) and not isinstance(length, bool) and length >= 0
            )
        ):
            raise ValueError(
                f"{self.describe()}: `output_sequence_length` must be either None or an integer when `output_mode` "
                f"is 'int'. Received: output_sequence_length={length!r}"
            )
        if mode != "int" and length is not None:
            raise ValueError(
                f"{self.describe()}: `output_sequence_length` must not be set if `output_mode` is not 'int'. "
                f"Received output_sequence_length={length}."
            )
        if self.ragged:
            raise ValueError(
                f"{self.describe()}: `ragged=True` is not supported: kerax returns dense arrays padded with 0. "
                "Use ragged=False (and output_sequence_length to fix the length)."
            )
        if self.sparse:
            raise ValueError(
                f"{self.describe()}: `sparse=True` is not supported: kerax returns dense arrays. Use sparse=False."
            )
        # Keras's TextVectorization is a StringLookup with mask_token="" behind a tokenizer.
        lookup = StringLookup(
            max_tokens=self.max_tokens,
            vocabulary=self.vocabulary,
            idf_weights=self.idf_weights,
            pad_to_max_tokens=self.pad_to_max_tokens,
            mask_token="",
            output_mode=mode,
            encoding=self.encoding,
            name=self.scope_name,
        )
        vars(self)["_kerax_lookup"] = lookup

    @property
    def _lookup(self) -> StringLookup:
        return vars(self)["_kerax_lookup"]

    # ---------------------------------------------------------- Keras's API
    def get_vocabulary(self, include_special_tokens: bool = True) -> list[str]:
        """The vocabulary; with special tokens (`""`, `"[UNK]"`), a term's position is its index."""
        return self._lookup.get_vocabulary(include_special_tokens)

    def vocabulary_size(self) -> int:
        """The number of indices, padding and OOV included."""
        return self._lookup.vocabulary_size()

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """A copy of this layer with `vocabulary` (and `idf_weights` for `"tf_idf"`): `tv = tv.set_vocabulary(v)`."""
        lookup = self._lookup.set_vocabulary(vocabulary, idf_weights)
        return dataclasses.replace(
            self, vocabulary=lookup.vocabulary, idf_weights=lookup.idf_weights
        )

    def adapt(self, data, batch_size: int | None = None, steps: int | None = None):
        """A copy of this layer with the vocabulary (and idf weights) learned from texts.

        Keras changes the layer in place; kerax returns the new layer:
        `vectorizer = vectorizer.adapt(texts)`.

        Args:
          data: a list or NumPy array of texts, or an iterable of batches of
            texts (a generator, a `tf.data.Dataset`; `(x, y)` tuples
            contribute `x`).
          batch_size: accepted for Keras compatibility; an array is read whole.
          steps: how many batches of an iterable to use (all if None).
        """
        del batch_size
        batches = _token_batches(
            self,
            data,
            steps,
            lambda texts: as_strings(self, texts, self.encoding),
            "a list or array of texts, or an iterable of batches of texts",
        )
        lookup = self._lookup._adapted(self._documents(batches))
        return dataclasses.replace(
            self, vocabulary=lookup.vocabulary, idf_weights=lookup.idf_weights
        )

    @classmethod
    def from_config(cls, config: dict, custom_objects=None):
        """Rebuilds the layer from `get_config()`, or from a Keras layer's config."""
        return from_keras_or_kerax_config(
            cls, super().from_config, config, custom_objects
        )

    # ----------------------------------------------------------- computing
    def _documents(self, batches):
        """Keras's `update_state` documents: each split text, or each row of unsplit tokens."""
        for batch in batches:
            tokens = self._tokenize(batch)
            if isinstance(tokens, list):
                yield from tokens
            else:
                tokens = tokens.reshape(1, -1) if tokens.ndim < 2 else tokens
                yield from tokens.reshape(tokens.shape[0], -1).tolist()

    def _tokenize(self, texts: np.ndarray):
        """Standardized, split, n-grammed tokens: a list of token lists (split) or an array (not split)."""
        if callable(self.standardize):
            result = self.standardize(texts.astype(str))
            texts = as_strings(self, np.asarray(result, dtype=object), self.encoding)
        elif self.standardize is not None:
            texts = np.vectorize(standardize_text, otypes=[object])(
                texts, self.standardize
            )
        widths = (
            tuple(range(1, self.ngrams + 1))
            if isinstance(self.ngrams, int)
            else self.ngrams
        )
        if self.split is None:
            if widths is None or texts.ndim == 0:
                return texts
            rows = [
                _ngrams(row, widths)
                for row in texts.reshape(-1, texts.shape[-1]).tolist()
            ]
            return np.array(rows, dtype=object).reshape(texts.shape[:-1] + (-1,))
        if texts.ndim > 1:
            if texts.shape[-1] != 1:
                raise ValueError(
                    f"{self.describe()}: When using `TextVectorization` to tokenize strings, the input rank must be "
                    f"1 or the last shape dimension must be 1. Received: inputs.shape={texts.shape}"
                )
            texts = texts[..., 0]
        if texts.ndim != 1:
            raise ValueError(
                f"{self.describe()}: expected a batch of texts (rank 1, or (batch, 1)), got shape {texts.shape}."
            )
        split = (
            self.split if callable(self.split) else lambda t: split_text(t, self.split)
        )
        docs = [list(split(text)) for text in texts.tolist()]
        return docs if widths is None else [_ngrams(doc, widths) for doc in docs]

    def _host_call(self, x):
        texts = as_strings(self, x, self.encoding)
        scalar = texts.ndim == 0 and self.split is not None
        tokens = self._tokenize(texts[None] if scalar else texts)
        lookup = self._lookup
        if isinstance(tokens, list):
            # Ragged rows to a dense array: 0 pads ids, -1 (dropped) pads encodings.
            lengths = [len(doc) for doc in tokens]
            flat = np.array([t for doc in tokens for t in doc], dtype=object)
            ids = lookup._lookup_host(flat)
            fill = 0 if self.output_mode == "int" else -1
            width = (
                max(lengths, default=0)
                if self.output_mode == "int"
                else max([1, *lengths])
            )
            dense = np.full((len(tokens), width), fill, np.int64)
            dense[np.arange(width) < np.array(lengths)[:, None]] = ids
        else:
            dense = lookup._lookup_host(tokens)
        if self.output_mode == "int":
            length = self.output_sequence_length
            if length is not None:
                dense = dense[..., :length]
                pad = [(0, 0)] * (dense.ndim - 1) + [(0, length - dense.shape[-1])]
                dense = np.pad(dense, pad)
            out = dense.astype(np.int32)
        else:
            out = encode_host(
                dense, self.output_mode, lookup._depth(), lookup._table.idf
            )
        return out[0] if scalar else out
