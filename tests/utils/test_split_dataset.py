"""`kerax.utils.split_dataset` against Keras's: the same samples, in the same order."""

import jax
import keras
import numpy as np
import optax
import pytest
import tensorflow as tf

import kerax


def _rows(ds):
    """Every sample of a dataset (grain or tf.data, batched or not), as NumPy."""
    if hasattr(ds, "as_numpy_iterator"):
        if getattr(ds, "_batch_size", None) is not None:
            ds = ds.unbatch()
        return list(ds.as_numpy_iterator())
    return [ds[i] for i in range(len(ds))]


def _assert_same_rows(got, want):
    assert len(got) == len(want)
    for a, b in zip(got, want):
        jax.tree.map(
            np.testing.assert_array_equal, tuple(a) if isinstance(a, list) else a, b
        )


@pytest.mark.parametrize(
    "left_size,right_size,shuffle,seed",
    [
        (0.8, None, False, None),
        (None, 3, True, 7),
        (4, 5, True, 123),  # Both given, summing to less: the middle is left out.
        (0.25, 0.5, False, None),
    ],
)
def test_same_samples_as_keras(left_size, right_size, shuffle, seed):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 3)).astype("float32")
    y = np.arange(12)
    args = dict(left_size=left_size, right_size=right_size, shuffle=shuffle, seed=seed)
    mine = kerax.utils.split_dataset((x, y), **args)
    theirs = keras.utils.split_dataset((x, y), **args)
    for got, want in zip(mine, theirs):
        _assert_same_rows(_rows(got), _rows(want))


def test_tf_dataset_in_tf_dataset_out_batched_like_the_input():
    x = np.arange(20, dtype="float32").reshape(10, 2)
    ds = tf.data.Dataset.from_tensor_slices((x, np.arange(10))).batch(4)
    left, right = kerax.utils.split_dataset(ds, left_size=0.6, shuffle=True, seed=3)
    k_left, k_right = keras.utils.split_dataset(ds, left_size=0.6, shuffle=True, seed=3)
    assert isinstance(left, tf.data.Dataset)
    assert [b[0].shape[0] for b in left.as_numpy_iterator()] == [4, 2]
    _assert_same_rows(_rows(left), _rows(k_left))
    _assert_same_rows(_rows(right), _rows(k_right))


def test_single_array_dict_and_grain_inputs():
    x = np.arange(10)
    left, right = kerax.utils.split_dataset(x, right_size=0.3)
    assert [int(v) for v in _rows(left)] == list(range(7))
    assert [int(v) for v in _rows(right)] == [7, 8, 9]
    d = {"a": np.arange(6), "b": np.ones((6, 2))}
    left, right = kerax.utils.split_dataset(d, left_size=2)
    assert len(left) == 2 and set(left[0]) == {"a", "b"} and left[1]["a"] == 1
    # A grain dataset splits into grain datasets of its own samples.
    left2, right2 = kerax.utils.split_dataset(right, left_size=1)
    assert int(left2[0]["a"]) == 2 and len(right2) == 3


def test_splits_train_with_fit():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 4)).astype("float32")
    y = (x.sum(-1) > 0).astype("int32")
    train, val = kerax.utils.split_dataset((x, y), left_size=0.75, shuffle=True, seed=0)
    model = kerax.Sequential([kerax.Input((4,)), kerax.layers.Dense(2)])
    trainer = kerax.Trainer(
        model, optax.sgd(0.1), "sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    ts, history = trainer.fit(
        trainer.init(jax.random.key(0)),
        train.batch(10),
        validation_data=val.batch(10),
        epochs=2,
        verbose=0,
    )
    assert len(history.history["val_accuracy"]) == 2
    assert int(ts.step) == 6  # 30 training samples in batches of 10, twice.


@pytest.mark.parametrize(
    "args,error,match",
    [
        (dict(), ValueError, "give `left_size` or `right_size`"),
        (dict(left_size=0), ValueError, "`left_size` must be an int in"),
        (dict(left_size=12), ValueError, r"\(0, 12\)"),
        (dict(right_size=1.5), ValueError, "`right_size`"),
        (dict(left_size="half"), TypeError, "`left_size` must be an int, a float"),
        (dict(left_size=0.7, right_size=0.6), ValueError, "more than the dataset's 12"),
        (dict(left_size=0.01), ValueError, "leave the left split empty"),
        (dict(left_size=0.5, preferred_backend="torch"), ValueError, "PyTorch"),
    ],
)
def test_bad_arguments_say_what_is_wrong(args, error, match):
    with pytest.raises(error, match=match):
        kerax.utils.split_dataset((np.zeros((12, 2)), np.zeros(12)), **args)


def test_bad_datasets_say_what_is_wrong():
    with pytest.raises(ValueError, match="same length"):
        kerax.utils.split_dataset((np.zeros((4, 2)), np.zeros(5)), left_size=0.5)
    with pytest.raises(TypeError, match="must be a NumPy array"):
        kerax.utils.split_dataset(iter([1, 2]), left_size=0.5)
    with pytest.raises(ValueError, match="empty"):
        kerax.utils.split_dataset(np.zeros((0, 2)), left_size=0.5)
