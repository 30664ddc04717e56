"""Keras's `keras.utils.FeatureSpace`: declare, adapt and encode structured (tabular) features.

A `FeatureSpace` composes kerax's preprocessing layers (`Normalization`,
`Discretization`, `Rescaling`, `StringLookup`, `IntegerLookup`, `Hashing`,
`HashedCrossing`, `CategoryEncoding`) the way Keras's does, with the same
sorted feature order, one-hot sizes, crosses and outputs. It runs on the host,
in the data pipeline (strings are NumPy objects; JAX has no strings):
`feature_space(x)` returns NumPy arrays, and in a `tf.data` map it runs as a
`tf.numpy_function`, as Keras's runs in its maps.

Like kerax's lookup layers, whose adapted vocabulary is config, `adapt`
returns a NEW, adapted FeatureSpace (Keras adapts in place):
`feature_space = feature_space.adapt(ds)`. The learned statistics (means and
variances, bin boundaries, vocabularies) sit in its preprocessors' configs, so
`get_config`/`from_config` and `save`/`load` keep them.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import json
import sys
import zipfile

import jax
import numpy as np

__all__ = ["FeatureSpace"]

_FEATURE_MODES = ("int", "one_hot", "float")
_INT_DTYPE = np.int32  # "int"-mode outputs: int32, as Keras on JAX returns them.


def _layers():
    from kerax import layers  # kerax.layers imports kerax.utils; import late.

    return layers


def _deserialize_layer(value):
    """A preprocessor from its serialized form: a kerax one, or a Keras layer config."""
    if not isinstance(value, dict):
        return value
    module = str(value.get("module") or "")
    if module == "keras" or module.startswith("keras."):
        from kerax.interop.converters import layer_from_keras

        return layer_from_keras(value)
    from kerax.saving.serialization_lib import deserialize_keras_object

    return deserialize_keras_object(value)


def _from_serialized(value, cls):
    if isinstance(value, dict):
        if value.get("class_name") != cls.__name__:
            raise ValueError(
                f"FeatureSpace: expected a serialized {cls.__name__}, got class_name={value.get('class_name')!r}."
            )
        return cls.from_config(value["config"])
    return value


class Cross:
    """A feature cross: `feature_names` hashed together into `crossing_dim` bins."""

    def __init__(self, feature_names, crossing_dim, output_mode="one_hot"):
        if output_mode not in {"int", "one_hot"}:
            raise ValueError(
                "Invalid value for argument `output_mode`. Expected one of {'int', 'one_hot'}. "
                f"Received: output_mode={output_mode}"
            )
        self.feature_names = tuple(feature_names)
        self.crossing_dim = crossing_dim
        self.output_mode = output_mode

    @property
    def name(self) -> str:
        return "_X_".join(self.feature_names)

    def get_config(self) -> dict:
        return {
            "feature_names": list(self.feature_names),
            "crossing_dim": self.crossing_dim,
            "output_mode": self.output_mode,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self) -> str:
        return f"Cross({self.feature_names}, crossing_dim={self.crossing_dim}, output_mode={self.output_mode!r})"


class Feature:
    """A feature: its input `dtype`, its `preprocessor` layer, and its `output_mode`."""

    def __init__(self, dtype, preprocessor, output_mode):
        if output_mode not in _FEATURE_MODES:
            raise ValueError(
                "Invalid value for argument `output_mode`. Expected one of {'int', 'one_hot', 'float'}. "
                f"Received: output_mode={output_mode}"
            )
        self.dtype = dtype
        self.preprocessor = _deserialize_layer(preprocessor)
        self.output_mode = output_mode

    def get_config(self) -> dict:
        from kerax.saving.serialization_lib import serialize_keras_object

        return {
            "dtype": self.dtype,
            "preprocessor": serialize_keras_object(self.preprocessor),
            "output_mode": self.output_mode,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self) -> str:
        return f"Feature(dtype={self.dtype!r}, preprocessor={self.preprocessor.describe()}, output_mode={self.output_mode!r})"


def _serialize(obj) -> dict:
    name = type(obj).__name__
    return {
        "module": "kerax.utils.feature_space",
        "class_name": name,
        "config": obj.get_config(),
        "registered_name": name,
    }


def _preprocessor_name(name):
    return None if name is None else f"{name}_preprocessor"


def _is_host_layer(layer) -> bool:
    from kerax.layers.preprocessing._host import _HostLayer

    return isinstance(layer, _HostLayer)


def _run(layer, x):
    """`layer` on NumPy `x`: a host layer's call, or a JAX layer's compiled
    init + apply on the CPU (once per layer and shape: this runs per batch)."""
    if _is_host_layer(layer):
        return np.asarray(layer(x))
    with jax.default_device(jax.devices("cpu")[0]):
        try:
            program = _jax_program(layer)
        except TypeError:  # An unhashable config: compiled for this call only.
            program = _jax_program.__wrapped__(layer)
        return np.asarray(program(x))


@functools.lru_cache(maxsize=256)
def _jax_program(layer):
    """`x -> layer(x)` jitted: a preprocessor's params come from its config
    (adapted statistics included), so init folds into the program."""
    import kerax

    def run(x):
        spec = jax.tree.map(lambda a: kerax.spec(a.shape, a.dtype), x)
        params, state = layer.init(jax.random.key(0), spec)
        return layer.apply(params, state, x)[0]

    return jax.jit(run)


def _needs_adapt(layer) -> bool:
    """Whether `layer` has statistics still to learn (Keras's adaptable preprocessors)."""
    layers = _layers()
    if not hasattr(layer, "adapt"):
        return False
    if isinstance(layer, layers.Normalization):
        return layer.mean is None
    if isinstance(layer, layers.Discretization):
        return layer.bin_boundaries is None
    if hasattr(layer, "vocabulary"):  # StringLookup, IntegerLookup, TextVectorization.
        return layer.vocabulary is None
    return True


def _is_adaptable(layer) -> bool:
    """Keras's `_list_adaptable_preprocessors` rule for one preprocessor."""
    layers = _layers()
    if isinstance(layer, layers.Normalization) and layer.mean is not None:
        return False
    if isinstance(layer, layers.Discretization) and layer.bin_boundaries is not None:
        return False
    if isinstance(layer, layers.TextVectorization) and layer.vocabulary is not None:
        return False
    return hasattr(layer, "adapt")


def _adapt_layer(layer, batches):
    """`layer` with what it learns from `batches` (NumPy arrays) in its config."""
    layers = _layers()
    if isinstance(layer, layers.Normalization):
        stats = layer.adapt(batches)
        return dataclasses.replace(
            layer,
            mean=np.asarray(stats["mean"]).tolist(),
            variance=np.asarray(stats["variance"]).tolist(),
        )
    if isinstance(layer, layers.Discretization):
        stats = layer.adapt(batches)
        return dataclasses.replace(
            layer, bin_boundaries=np.asarray(stats["bin_boundaries"]).tolist()
        )
    new = layer.adapt(batches)
    if not hasattr(new, "apply"):
        raise TypeError(
            f"FeatureSpace.adapt: {layer.describe()}.adapt returned {type(new).__name__}, not a layer; a custom "
            "preprocessor's adapt must return the adapted layer (as kerax's lookup layers do)."
        )
    return new


def _feature_batches(dataset, name):
    """Keras's per-feature adapt stream: scalar elements batched by 32, rank <= 1 given a last axis."""
    tf = sys.modules.get("tensorflow")
    if isinstance(dataset, dict):
        column = dataset[name]
        if hasattr(column, "numpy") and not isinstance(column, np.ndarray):
            column = column.numpy()
        column = np.asarray(column, dtype=object if _is_text(column) else None)
        elements = iter(column)  # tf.data.Dataset.from_tensor_slices's rows.
    elif tf is not None and isinstance(dataset, tf.data.Dataset):
        elements = dataset.map(lambda x: x[name]).as_numpy_iterator()
    else:
        elements = (np.asarray(x[name]) for x in dataset)
    first = next(elements, None)
    if first is None:
        raise ValueError(
            f"FeatureSpace.adapt: the dataset yields no data for feature {name!r}."
        )
    elements = itertools.chain([first], elements)
    rank = np.ndim(first)
    if rank == 0:
        elements = _batched(elements, 32)
    for batch in elements:
        batch = np.asarray(batch)
        yield batch[..., None] if rank <= 1 else batch


def _batched(elements, size):
    while chunk := list(itertools.islice(elements, size)):
        yield np.array(chunk)


def _is_text(x) -> bool:
    arr = np.asarray(x) if not isinstance(x, np.ndarray) else x
    return arr.dtype.kind in "OSU"


def _to_numpy(x, dtype: str) -> np.ndarray:
    if hasattr(x, "numpy") and not isinstance(x, np.ndarray):
        x = x.numpy()  # A tf.Tensor.
    if dtype == "string":
        return np.array(x, dtype=object)
    return np.asarray(x).astype(dtype)


def _lookup_feature(layer, dtype, max_tokens, num_oov_indices, output_mode, name):
    """A categorical feature over Keras's `IntegerLookup`/`StringLookup`."""
    pre = getattr(_layers(), layer)(
        name=_preprocessor_name(name),
        max_tokens=max_tokens,
        num_oov_indices=num_oov_indices,
    )
    return Feature(dtype=dtype, preprocessor=pre, output_mode=output_mode)


class FeatureSpace:
    """One-stop utility for preprocessing and encoding structured data, as `keras.utils.FeatureSpace`.

    Arguments are Keras's: `features` maps each feature name to a type name
    (`"float"`, `"float_rescaled"`, `"float_normalized"`,
    `"float_discretized"`, `"integer_categorical"`, `"string_categorical"`,
    `"integer_hashed"`, `"string_hashed"`) or a `FeatureSpace.<type>(...)`
    feature; `output_mode` is `"concat"` (one float32 vector per sample:
    features sorted by name, then crosses sorted by name) or `"dict"`;
    `crosses` lists `FeatureSpace.cross(...)` or tuples of feature names
    (hashed into `crossing_dim` bins); `hashing_dim` and
    `num_discretization_bins` are the defaults for the string-named types.

    The kerax differences: `adapt` returns the adapted FeatureSpace
    (`fs = fs.adapt(ds)`); calling it returns NumPy arrays (a
    `tf.numpy_function` inside a `tf.data` map); `get_encoded_features()`
    returns `kerax.Input` nodes to start the model from (the encoded
    features are computed in the data pipeline, not in the model).

    Example:
        >>> data = {"x": np.array([0.0, 1.0, 2.0, 3.0]), "c": np.array(["a", "b", "a", "c"])}
        >>> fs = FeatureSpace({"x": "float_normalized", "c": "string_categorical"})
        >>> fs = fs.adapt(data)
        >>> fs(data).shape  # 4 one-hot columns for "c" (OOV, a, c, b), then "x".
        (4, 5)
        >>> fs({"x": 1.5, "c": "a"})
        array([0., 1., 0., 0., 0.], dtype=float32)
    """

    # ------------------------------------------------------------ feature types
    @classmethod
    def cross(cls, feature_names, crossing_dim, output_mode="one_hot"):
        return Cross(feature_names, crossing_dim, output_mode=output_mode)

    @classmethod
    def feature(cls, dtype, preprocessor, output_mode):
        return Feature(dtype, preprocessor, output_mode)

    @classmethod
    def float(cls, name=None):
        pre = _layers().Identity(name=_preprocessor_name(name))
        return Feature(dtype="float32", preprocessor=pre, output_mode="float")

    @classmethod
    def float_rescaled(cls, scale=1.0, offset=0.0, name=None):
        pre = _layers().Rescaling(
            scale=scale, offset=offset, name=_preprocessor_name(name)
        )
        return Feature(dtype="float32", preprocessor=pre, output_mode="float")

    @classmethod
    def float_normalized(cls, name=None):
        pre = _layers().Normalization(axis=-1, name=_preprocessor_name(name))
        return Feature(dtype="float32", preprocessor=pre, output_mode="float")

    @classmethod
    def float_discretized(
        cls, num_bins, bin_boundaries=None, output_mode="one_hot", name=None
    ):
        pre = _layers().Discretization(
            num_bins=num_bins,
            bin_boundaries=bin_boundaries,
            name=_preprocessor_name(name),
        )
        return Feature(dtype="float32", preprocessor=pre, output_mode=output_mode)

    @classmethod
    def integer_categorical(
        cls, max_tokens=None, num_oov_indices=1, output_mode="one_hot", name=None
    ):
        return _lookup_feature(
            "IntegerLookup", "int32", max_tokens, num_oov_indices, output_mode, name
        )

    @classmethod
    def string_categorical(
        cls, max_tokens=None, num_oov_indices=1, output_mode="one_hot", name=None
    ):
        return _lookup_feature(
            "StringLookup", "string", max_tokens, num_oov_indices, output_mode, name
        )

    @classmethod
    def string_hashed(cls, num_bins, output_mode="one_hot", name=None):
        pre = _layers().Hashing(name=_preprocessor_name(name), num_bins=num_bins)
        return Feature(dtype="string", preprocessor=pre, output_mode=output_mode)

    @classmethod
    def integer_hashed(cls, num_bins, output_mode="one_hot", name=None):
        pre = _layers().Hashing(name=_preprocessor_name(name), num_bins=num_bins)
        return Feature(dtype="int32", preprocessor=pre, output_mode=output_mode)

    # ------------------------------------------------------------ construction
    def __init__(
        self,
        features,
        output_mode="concat",
        crosses=None,
        crossing_dim=32,
        hashing_dim=32,
        num_discretization_bins=32,
        name=None,
    ):
        if not features:
            raise ValueError("The `features` argument cannot be None or empty.")
        self.name = name
        self.crossing_dim = crossing_dim
        self.hashing_dim = hashing_dim
        self.num_discretization_bins = num_discretization_bins
        self.features = {
            n: self._standardize_feature(n, v) for n, v in features.items()
        }
        self.crosses = []
        for cross in crosses or ():
            cross = _from_serialized(cross, Cross)
            if not isinstance(cross, Cross):
                if not crossing_dim:
                    raise ValueError(
                        "When specifying `crosses`, the argument `crossing_dim` (dimensionality of the crossing "
                        "space) should be specified as well."
                    )
                cross = Cross(cross, crossing_dim=crossing_dim)
            unknown = [n for n in cross.feature_names if n not in self.features]
            if unknown:
                raise ValueError(
                    "All features referenced in the `crosses` argument should be present in the `features` dict. "
                    f"Received unknown features: {cross.feature_names} ({unknown} not in {sorted(self.features)})"
                )
            self.crosses.append(cross)
        self.crosses_by_name = {c.name: c for c in self.crosses}
        if output_mode not in {"dict", "concat"}:
            raise ValueError(
                "Invalid value for argument `output_mode`. Expected one of {'dict', 'concat'}. "
                f"Received: output_mode={output_mode}"
            )
        self.output_mode = output_mode
        layers = _layers()
        self.crossers = {
            c.name: layers.HashedCrossing(c.crossing_dim, name=c.name)
            for c in self.crosses
        }
        self._is_adapted = not any(
            _needs_adapt(f.preprocessor) for f in self.features.values()
        )
        self._encoded_features = None
        self._inputs = None
        # What `adapt` learned sits in the preprocessors' configs; adapting
        # again starts from the FeatureSpace as it was declared.
        self._declared = None

    @property
    def preprocessors(self) -> dict:
        """The preprocessing layer of each feature, by name."""
        return {n: f.preprocessor for n, f in self.features.items()}

    def _standardize_feature(self, name, feature):
        feature = _from_serialized(feature, Feature)
        if isinstance(feature, Feature):
            return feature
        makers = {
            "float": lambda: self.float(name=name),
            "float_normalized": lambda: self.float_normalized(name=name),
            "float_rescaled": lambda: self.float_rescaled(name=name),
            "float_discretized": lambda: self.float_discretized(
                name=name, num_bins=self.num_discretization_bins
            ),
            "integer_categorical": lambda: self.integer_categorical(name=name),
            "string_categorical": lambda: self.string_categorical(name=name),
            "integer_hashed": lambda: self.integer_hashed(self.hashing_dim, name=name),
            "string_hashed": lambda: self.string_hashed(self.hashing_dim, name=name),
        }
        if not isinstance(feature, str) or feature not in makers:
            raise ValueError(
                f"Invalid feature type: {feature!r} (feature {name!r}). Use one of {sorted(makers)} or a "
                "FeatureSpace.<type>(...) feature."
            )
        return makers[feature]()

    # ------------------------------------------------------------ adapt
    def adapt(self, dataset) -> FeatureSpace:
        """A new FeatureSpace whose preprocessors are adapted to `dataset`.

        `dataset` is a `tf.data.Dataset` of dicts of features (no labels), a
        dict of arrays or lists (one row per sample), or an iterable of dicts
        of batches. Each adaptable preprocessor sees its feature as Keras
        feeds it (scalar rows batched by 32, given a last axis of 1). Keras
        adapts in place; kerax returns the adapted FeatureSpace:
        `feature_space = feature_space.adapt(ds)`. Adapting an adapted
        FeatureSpace again learns everything anew from `dataset`, as Keras's
        second `adapt` does.
        """
        tf = sys.modules.get("tensorflow")
        is_tf = tf is not None and isinstance(dataset, tf.data.Dataset)
        if not (
            is_tf or isinstance(dataset, dict) or isinstance(dataset, list | tuple)
        ):
            raise ValueError(
                "`adapt()` can only be called on a tf.data.Dataset, a dict of arrays/lists, or a list of dicts "
                f"of batches. Received instead: {dataset!r} (of type {type(dataset)})"
            )
        declared = self._declared or self
        features = {}
        for name, feature in declared.features.items():
            layer = feature.preprocessor
            if _is_adaptable(layer):
                layer = _adapt_layer(layer, _feature_batches(dataset, name))
            features[name] = Feature(feature.dtype, layer, feature.output_mode)
        new = FeatureSpace(
            features,
            output_mode=self.output_mode,
            crosses=self.crosses,
            crossing_dim=self.crossing_dim,
            hashing_dim=self.hashing_dim,
            num_discretization_bins=self.num_discretization_bins,
            name=self.name,
        )
        new._is_adapted = True
        new._declared = declared
        return new

    def _check_if_adapted(self):
        if not self._is_adapted:
            raise ValueError(
                "You need to call `.adapt(dataset)` on the FeatureSpace before you can start using it "
                "(in kerax it returns the adapted FeatureSpace: `feature_space = feature_space.adapt(dataset)`)."
            )

    # ------------------------------------------------------------ encoding
    def _cardinality(self, name) -> int:
        layers = _layers()
        layer = self.preprocessors.get(name) or self.crossers.get(name)
        if isinstance(layer, layers.IntegerLookup | layers.StringLookup):
            return layer.vocabulary_size()
        if isinstance(layer, layers.CategoryEncoding):
            return layer.num_tokens
        if isinstance(layer, layers.Discretization):
            if layer.bin_boundaries is not None:
                return len(layer.bin_boundaries) + 1
            return layer.num_bins
        if isinstance(layer, layers.HashedCrossing | layers.Hashing):
            return layer.num_bins
        raise ValueError(
            f"Feature '{name}' has `output_mode='one_hot'`. However it isn't a standard feature and the "
            "dimensionality of its output space is not known, thus it cannot be one-hot encoded. "
            "Try using `output_mode='int'`."
        )

    def _names(self):
        return sorted(self.features), sorted(self.crosses_by_name)

    def _spec(self, name):
        return self.features.get(name) or self.crosses_by_name[name]

    def _encode(self, data: dict) -> dict:
        """Keras's preprocess, cross and merge steps on NumPy arrays of rank >= 2."""
        layers = _layers()
        pre = {n: _run(self.preprocessors[n], data[n]) for n in self.features}
        crossed = {
            c.name: np.asarray(self.crossers[c.name]([pre[n] for n in c.feature_names]))
            for c in self.crosses
        }
        out = {}
        for name in itertools.chain(*self._names()):
            x = pre[name] if name in pre else crossed[name]
            mode = self._spec(name).output_mode
            if mode == "one_hot":
                if x.dtype.kind not in "iu":
                    raise ValueError(
                        f"Feature '{name}' has `output_mode='one_hot'`. Thus its preprocessor should return an "
                        f"integer dtype. Instead it returns a {x.dtype} dtype."
                    )
                encoder = layers.CategoryEncoding(
                    num_tokens=self._cardinality(name), output_mode="multi_hot"
                )
                x = _run(encoder, x.astype(np.int32)).astype(np.float32)
            elif x.dtype.kind in "iu":
                x = x.astype(_INT_DTYPE)
            elif x.dtype.kind == "f":
                x = x.astype(np.float32)
            if self.output_mode == "concat" and x.dtype.kind != "f":
                raise ValueError(
                    f"Cannot concatenate features because feature '{name}' has not been encoded (it has dtype "
                    f"{x.dtype}). Consider using `output_mode='dict'`."
                )
            out[name] = x
        return out

    def _numpy_call(self, data: dict):
        missing = [n for n in self.features if n not in data]
        if missing:
            raise ValueError(
                f"FeatureSpace: the data has no values for features {missing}; it has keys {sorted(data)}."
            )
        arrays, rebatched = {}, False
        for name, feature in self.features.items():
            x = _to_numpy(data[name], feature.dtype)
            if x.ndim == 0:
                x, rebatched = x.reshape(1, 1), True
            elif x.ndim == 1:
                x = x[:, None]
            arrays[name] = x
        out = self._encode(arrays)
        if self.output_mode == "concat":
            merged = np.concatenate(list(out.values()), axis=-1)
            return merged[0] if rebatched else merged
        if rebatched:
            out = {
                n: x[0] if x.ndim == 2 and x.shape[0] == 1 else x
                for n, x in out.items()
            }
        return out

    def _tf_call(self, data: dict):
        """The FeatureSpace in a `tf.data` map or `tf.function`: one `tf.numpy_function`."""
        tf = sys.modules["tensorflow"]
        names = list(self.features)
        widths = self._output_widths()
        rank = len(data[names[0]].shape)

        def host(*arrays):
            out = self._numpy_call(dict(zip(names, arrays)))
            if self.output_mode == "concat":
                return out
            return [out[n] for n in itertools.chain(*self._names())]

        lead = () if rank == 0 else (None,)
        if self.output_mode == "concat":
            y = tf.numpy_function(
                host, [data[n] for n in names], tf.float32, stateful=False
            )
            y.set_shape(lead + (sum(widths.values()),))
            return y
        order = list(itertools.chain(*self._names()))
        touts = [
            tf.int32 if self._spec(n).output_mode == "int" else tf.float32
            for n in order
        ]
        ys = tf.numpy_function(host, [data[n] for n in names], touts, stateful=False)
        for y, n in zip(ys, order):
            y.set_shape(lead + (widths[n],))
        return dict(zip(order, ys))

    def _output_widths(self) -> dict:
        """The last-axis size of each encoded feature: one-hot sizes, else 1."""
        return {
            n: self._cardinality(n) if self._spec(n).output_mode == "one_hot" else 1
            for n in itertools.chain(*self._names())
        }

    def __call__(self, data):
        """Encodes a dict of features (batched arrays, or one sample's scalars).

        Returns a float32 NumPy array (`"concat"`) or a dict of NumPy arrays
        (`"dict"`); inside a `tf.data` map, TF tensors.
        """
        self._check_if_adapted()
        if not isinstance(data, dict):
            raise ValueError(
                f"A FeatureSpace can only be called with a dict. Received: data={data} (of type {type(data)})"
            )
        tf = sys.modules.get("tensorflow")
        if tf is not None and any(tf.is_symbolic_tensor(v) for v in data.values()):
            return self._tf_call(data)
        return self._numpy_call(data)

    # ------------------------------------------------------------ model inputs
    def get_encoded_features(self):
        """`kerax.Input` nodes for the encoded features, to start a model from.

        `"concat"`: one float32 input of the concatenated width, named
        `"encoded_features"`; `"dict"`: one input per encoded feature, named
        like it. The FeatureSpace itself runs in the data pipeline.
        """
        self._check_if_adapted()
        if self._encoded_features is None:
            import kerax

            widths = self._output_widths()
            if self.output_mode == "concat":
                self._encoded_features = kerax.Input(
                    shape=(sum(widths.values()),),
                    dtype="float32",
                    name="encoded_features",
                )
            else:
                self._encoded_features = {
                    n: kerax.Input(
                        shape=(w,),
                        dtype="int32"
                        if self._spec(n).output_mode == "int"
                        else "float32",
                        name=n,
                    )
                    for n, w in widths.items()
                }
        return self._encoded_features

    def get_inputs(self):
        """`kerax.Input` nodes of the raw features, `shape=(1,)` and the feature's dtype.

        kerax models have no string inputs (the lookups run on the host), so a
        FeatureSpace with a string feature raises here: predict on raw data
        with `trainer.predict(ts, feature_space(raw))` instead.
        """
        self._check_if_adapted()
        strings = [n for n, f in self.features.items() if f.dtype == "string"]
        if strings:
            raise ValueError(
                f"FeatureSpace.get_inputs: features {strings} are strings, and kerax models take no string inputs "
                "(JAX has no strings). Encode raw data in the pipeline, `feature_space(raw)`, and feed the result "
                "to the model built on `get_encoded_features()`."
            )
        if self._inputs is None:
            import kerax

            self._inputs = {
                n: kerax.Input(shape=(1,), dtype=f.dtype, name=n)
                for n, f in self.features.items()
            }
        return self._inputs

    # ------------------------------------------------------------ serialization
    def get_config(self) -> dict:
        return {
            "features": {n: _serialize(f) for n, f in self.features.items()},
            "output_mode": self.output_mode,
            "crosses": [_serialize(c) for c in self.crosses],
            "crossing_dim": self.crossing_dim,
            "hashing_dim": self.hashing_dim,
            "num_discretization_bins": self.num_discretization_bins,
        }

    @classmethod
    def from_config(cls, config):
        """A FeatureSpace from `get_config()`, kerax's or Keras's (Keras layer configs are converted).

        A Keras config carries no adapted statistics (Keras keeps them in
        weights and assets), so a FeatureSpace from one must be adapted.
        """
        return cls(**config)

    def save(self, filepath):
        """Writes this FeatureSpace's config (adapted statistics included) to a `.keras` zip.

        Reload it with `kerax.utils.FeatureSpace.load(filepath)`.
        """
        if not str(filepath).endswith(".keras"):
            raise ValueError(
                f"FeatureSpace.save: the filepath must end in `.keras`. Received: filepath={filepath}"
            )
        entry = {
            "module": "kerax.utils",
            "class_name": "FeatureSpace",
            "config": self.get_config(),
            "registered_name": None,
        }
        with zipfile.ZipFile(filepath, "w") as z:
            z.writestr("config.json", json.dumps(entry))
            z.writestr("metadata.json", json.dumps({"kerax_object": "FeatureSpace"}))

    @classmethod
    def load(cls, filepath) -> FeatureSpace:
        """A FeatureSpace written by `save`."""
        with zipfile.ZipFile(filepath) as z:
            entry = json.loads(z.read("config.json"))
        if entry.get("class_name") != "FeatureSpace":
            raise ValueError(
                f"FeatureSpace.load: {filepath} holds a {entry.get('class_name')!r}, not a FeatureSpace."
            )
        return cls.from_config(entry["config"])

    def __repr__(self) -> str:
        return (
            f"FeatureSpace(features={sorted(self.features)}, crosses={[c.name for c in self.crosses]}, "
            f"output_mode={self.output_mode!r}, adapted={self._is_adapted})"
        )
