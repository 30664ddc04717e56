"""kerax.Trainer: fit / evaluate / predict, data, compilation behaviour."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from training_helpers import mlp

import kerax
from kerax import layers, losses, optimizers
from kerax.training import Trainer
from kerax.training.data import ArrayAdapter

XENT = losses.SparseCategoricalCrossentropy(from_logits=True)


def _close(a, b, **kw):
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), **kw)


def test_fit_evaluate_predict(classification_data):
    x, y = classification_data
    trainer = Trainer(mlp(), optimizers.Adam(0.01), XENT, metrics=["accuracy"])
    ts = trainer.init()
    ts, history = trainer.fit(
        ts, x, y, batch_size=32, epochs=3, validation_split=0.2, verbose=0
    )
    assert history is trainer.history and history.epoch == [0, 1, 2]
    assert set(history.history) == {
        "loss",
        "accuracy",
        "learning_rate",
        "val_loss",
        "val_accuracy",
    }
    assert history.history["loss"][-1] < history.history["loss"][0]
    loss, acc = trainer.evaluate(ts, x, y, verbose=0)
    logs = trainer.evaluate(ts, x, y, verbose=0, return_dict=True)
    assert logs == {"loss": loss, "accuracy": acc}
    probs = trainer.predict(
        ts, x, batch_size=64, verbose=0
    )  # 200 = 3 * 64 + 8: the last batch is padded.
    assert probs.shape == (200, 3) and isinstance(probs, np.ndarray)
    np.testing.assert_allclose(acc, np.mean(np.argmax(probs, -1) == y), rtol=1e-6)
    np.testing.assert_allclose(
        probs[:5], trainer.predict_on_batch(ts, x[:5]), rtol=1e-5, atol=1e-6
    )
    plain = Trainer(mlp(), "sgd", XENT)
    assert isinstance(
        plain.evaluate(plain.init(), x, y, verbose=0), float
    )  # Loss only: a float.


def test_fit_initializes_from_the_first_batch(classification_data):
    x, y = classification_data
    model = kerax.Sequential(
        [layers.Dense(8, activation="relu"), layers.Dense(3)]
    )  # No Input.
    trainer = Trainer(model, "adam", XENT)
    with pytest.raises(ValueError, match="input spec"):
        trainer.init()
    ts, _ = trainer.fit(None, x, y, verbose=0)
    assert ts.params["dense"]["kernel"].shape == (8, 8)
    ts2 = trainer.init(spec=x[:2])
    _close(
        ts2.params,
        Trainer(model, "adam", XENT).init(spec=kerax.spec((None, 8))).params,
        rtol=0,
        atol=0,
    )


def test_digits_classifier_reaches_95_percent():
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int32)
    perm = np.random.default_rng(0).permutation(len(x))
    x, y = x[perm], y[perm]
    n = int(0.8 * len(x))
    model = kerax.Sequential(
        [
            kerax.Input((64,)),
            layers.Dense(64, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ]
    )
    trainer = Trainer(
        model,
        optimizers.Adam(0.005),
        "sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    ts, _ = trainer.fit(
        trainer.init(), x[:n], y[:n], batch_size=32, epochs=12, verbose=0
    )
    logs = trainer.evaluate(ts, x[n:], y[n:], verbose=0, return_dict=True)
    assert logs["accuracy"] > 0.95


class _TraceCounter(kerax.Layer):
    """Identity that counts how often it is traced (Python runs once per trace)."""

    counts = {"train": 0, "infer": 0}

    def call(self, params, state, x, *, key, training):
        _TraceCounter.counts["train" if training else "infer"] += 1
        return x, state


def test_no_retrace_between_epochs_or_fit_and_evaluate(classification_data):
    x, y = classification_data
    _TraceCounter.counts.update(train=0, infer=0)
    model = kerax.Sequential(
        [kerax.Input((8,)), layers.Dense(8), _TraceCounter(), layers.Dense(3)]
    )
    trainer = Trainer(model, "adam", XENT, metrics=["accuracy"])
    # 150 train samples = 4 * 32 + 22; 50 validation samples = 32 + 18.
    ts, _ = trainer.fit(
        trainer.init(), x, y, batch_size=32, epochs=3, validation_split=0.25, verbose=0
    )
    assert (
        _TraceCounter.counts["train"] == 2
    )  # The full batch and the last, smaller one: once each.
    after_fit = _TraceCounter.counts["infer"]
    ts, _ = trainer.fit(
        ts, x, y, batch_size=32, epochs=2, validation_split=0.25, verbose=0
    )
    trainer.evaluate(ts, x[150:], y[150:], batch_size=32, verbose=0)
    # Counted by tracing, not by `jitted._cache_size()`: jaxlib's process-wide
    # jit cache is an LRU that a long test session can evict from.
    assert _TraceCounter.counts == {"train": 2, "infer": after_fit}


def test_predict_pads_the_last_batch_instead_of_recompiling(classification_data):
    x, _ = classification_data
    model = kerax.Sequential(
        [kerax.Input((8,)), layers.Dense(8), _TraceCounter(), layers.Dense(3)]
    )
    trainer = Trainer(model, "sgd", XENT)
    ts = trainer.init()
    before = _TraceCounter.counts["infer"]
    a = trainer.predict(ts, x[:70], batch_size=32, verbose=0)  # 32, 32, 6 rows.
    once = _TraceCounter.counts["infer"]
    b = trainer.predict(ts, x[:45], batch_size=32, verbose=0)  # 32, 13 rows.
    # One trace for every batch of both calls: the short ones are padded.
    assert once - before == 1 and _TraceCounter.counts["infer"] == once
    np.testing.assert_allclose(a[:45], b, rtol=1e-6)


def test_initial_epoch_resume_matches_an_uninterrupted_run(classification_data):
    x, y = classification_data
    model = kerax.Sequential(
        [
            kerax.Input((8,)),
            layers.Dense(16, activation="relu"),
            layers.Dropout(0.3),
            layers.Dense(3),
        ]
    )

    def trainer():
        return Trainer(model, "adam", XENT, seed=7)

    straight, h1 = trainer().fit(trainer().init(), x, y, epochs=4, verbose=0)
    first, _ = trainer().fit(trainer().init(), x, y, epochs=2, verbose=0)
    saved = jax.tree.map(np.asarray, first)  # As a checkpoint would keep it.
    resumed, h2 = trainer().fit(
        jax.tree.map(jnp.asarray, saved), x, y, epochs=4, initial_epoch=2, verbose=0
    )
    assert h2.epoch == [2, 3]
    _close(resumed.params, straight.params, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(h2.history["loss"], h1.history["loss"][2:], rtol=1e-6)


def test_shuffling_is_seeded_per_epoch():
    x = np.arange(10, dtype=np.float32)[:, None]
    adapter = ArrayAdapter(x, x, batch_size=4, shuffle=True, seed=3)

    def order(epoch):
        return np.concatenate([batch[0][:, 0] for batch, _ in adapter.chunks(epoch)])

    assert sorted(order(0)) == list(range(10))
    np.testing.assert_array_equal(order(0), order(0))
    assert not np.array_equal(order(0), order(1))
    same = ArrayAdapter(x, x, batch_size=4, shuffle=True, seed=3)
    np.testing.assert_array_equal(
        np.concatenate([batch[0][:, 0] for batch, _ in same.chunks(1)]), order(1)
    )
    batchwise = ArrayAdapter(x, x, batch_size=4, shuffle="batch", seed=3)
    chunks = [sorted(batch[0][:, 0]) for batch, _ in batchwise.chunks(0)]
    assert chunks == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_multi_input_dict_model(classification_data):
    x, y = classification_data
    a, b = kerax.Input((5,), name="a"), kerax.Input((3,), name="b")
    h = layers.Concatenate()([layers.Dense(4)(a), layers.Dense(4)(b)])
    model = kerax.Model({"a": a, "b": b}, layers.Dense(3)(h))
    trainer = Trainer(model, optimizers.Adam(0.01), XENT, metrics=["accuracy"])
    inputs = {"a": x[:, :5], "b": x[:, 5:]}
    ts, history = trainer.fit(
        trainer.init(), inputs, y, epochs=3, batch_size=50, verbose=0
    )
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert trainer.predict(ts, inputs, verbose=0).shape == (200, 3)


def test_generators_lists_and_steps_per_epoch(classification_data):
    x, y = classification_data
    trainer = Trainer(mlp(), "adam", XENT)
    ts = trainer.init()
    batches = [(x[i : i + 50], y[i : i + 50]) for i in range(0, 200, 50)]
    ts, h = trainer.fit(
        ts, batches, epochs=2, verbose=0
    )  # A re-iterable: one pass per epoch.
    assert int(ts.step) == 8 and len(h.epoch) == 2

    def gen():
        while True:
            yield from batches

    ts, h = trainer.fit(ts, gen(), steps_per_epoch=3, epochs=3, verbose=0)
    assert int(ts.step) == 17

    def finite():
        yield from batches[:2]

    with pytest.warns(UserWarning, match="ran out of data"):
        ts, h = trainer.fit(ts, finite(), epochs=3, verbose=0)
    assert h.epoch == [0] and int(ts.step) == 19
    assert isinstance(trainer.evaluate(ts, batches, verbose=0), float)
    assert trainer.predict(ts, (b[0] for b in batches), verbose=0).shape == (200, 3)


def test_generator_errors_reach_the_caller(classification_data):
    x, y = classification_data
    trainer = Trainer(mlp(), "sgd", XENT)

    def broken():
        yield x[:10], y[:10]
        raise RuntimeError("data pipeline failed")

    with pytest.raises(RuntimeError, match="data pipeline failed"):
        trainer.fit(trainer.init(), broken(), verbose=0)


def test_tf_data_dataset(classification_data):
    tf = pytest.importorskip("tensorflow")
    x, y = classification_data
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(40)
    trainer = Trainer(mlp(), optimizers.Adam(0.01), XENT)
    ts, h = trainer.fit(trainer.init(), ds, epochs=2, validation_data=ds, verbose=0)
    assert int(ts.step) == 10 and "val_loss" in h.history


def test_grain_datasets_train_like_the_same_batches_in_a_list(classification_data):
    """A grain MapDataset (re-iterable, one pass per epoch) and IterDataset
    give exactly the params of the same batches given as a list."""
    gp = pytest.importorskip("grain.python")
    x, y = classification_data
    records = gp.MapDataset.source([(x[i], y[i]) for i in range(len(x))])
    batched = records.batch(40)
    as_list = [(x[i : i + 40], y[i : i + 40]) for i in range(0, len(x), 40)]
    trainer = Trainer(mlp(), optimizers.Adam(0.01), XENT)
    want, _ = trainer.fit(trainer.init(), as_list, epochs=2, verbose=0)
    for ds in (batched, batched.to_iter_dataset()):
        ts, h = trainer.fit(trainer.init(), ds, epochs=2, validation_data=ds, verbose=0)
        assert int(ts.step) == 10 and "val_loss" in h.history
        for a, b in zip(jax.tree.leaves(ts.params), jax.tree.leaves(want.params)):
            np.testing.assert_array_equal(a, b)
    assert trainer.predict(ts, batched.map(lambda b: b[0]), verbose=0).shape == (
        200,
        3,
    )


def test_validation_data_and_freq(classification_data):
    x, y = classification_data
    trainer = Trainer(mlp(), "adam", XENT)
    _, h = trainer.fit(
        trainer.init(),
        x[:150],
        y[:150],
        epochs=4,
        validation_data=(x[150:], y[150:]),
        validation_freq=2,
        verbose=0,
    )
    assert len(h.history["loss"]) == 4 and len(h.history["val_loss"]) == 2
    _, h = trainer.fit(
        trainer.init(),
        x[:150],
        y[:150],
        epochs=3,
        validation_data=(x[150:], y[150:]),
        validation_freq=[1, 3],
        verbose=0,
    )
    assert len(h.history["val_loss"]) == 2


def test_class_weight_equals_the_matching_sample_weight(classification_data):
    x, y = classification_data
    class_weight = {0: 1.0, 1: 3.0, 2: 0.5}

    def run(**kw):
        trainer = Trainer(mlp(), optimizers.SGD(0.1), XENT)
        return trainer.fit(
            trainer.init(), x, y, epochs=2, shuffle=False, verbose=0, **kw
        )

    a, ha = run(class_weight=class_weight)
    b, hb = run(sample_weight=np.array([class_weight[int(c)] for c in y], np.float32))
    _close(a.params, b.params, rtol=1e-6)
    np.testing.assert_allclose(ha.history["loss"], hb.history["loss"], rtol=1e-6)


def test_on_batch_methods(classification_data):
    x, y = classification_data
    trainer = Trainer(mlp(), optimizers.SGD(0.1), XENT, metrics=["accuracy"])
    ts = trainer.init()
    ts, (loss, acc) = trainer.train_on_batch(ts, x[:32], y[:32])
    ts, logs = trainer.train_on_batch(
        ts, x[:32], y[:32], class_weight={0: 1.0, 1: 1.0, 2: 1.0}, return_dict=True
    )
    assert set(logs) == {"loss", "accuracy", "learning_rate"} and int(ts.step) == 2
    logs = trainer.test_on_batch(ts, x[:32], y[:32], return_dict=True)
    assert logs == trainer.evaluate(ts, x[:32], y[:32], verbose=0, return_dict=True)
    assert trainer.predict_on_batch(ts, x[:7]).shape == (7, 3)


def test_steps_per_execution_matches_single_steps(classification_data):
    x, y = classification_data
    runs = {}
    for k, fuse in ((1, "auto"), (4, True), (4, False)):
        trainer = Trainer(
            mlp(),
            optimizers.Adam(0.01),
            XENT,
            steps_per_execution=k,
            fuse_steps=fuse,
            metrics=["accuracy"],
        )
        runs[(k, fuse)] = trainer.fit(
            trainer.init(), x, y, batch_size=16, epochs=2, verbose=0
        )
    (base, hb) = runs[(1, "auto")]
    for key in ((4, True), (4, False)):
        ts, h = runs[key]
        assert (
            int(ts.step) == int(base.step) == 26
        )  # 200 = 12 * 16 + 8: 12 full batches (3 fused runs) + 1.
        _close(ts.params, base.params, rtol=2e-5, atol=1e-6)
        np.testing.assert_allclose(h.history["loss"], hb.history["loss"], rtol=1e-5)


def test_fusion_is_chosen_by_measurement_or_from_the_program(classification_data):
    x, y = classification_data
    trainer = Trainer(mlp(), "adam", XENT, steps_per_execution=2)
    assert trainer.fusion is None
    trainer.fit(
        trainer.init(), x, y, batch_size=8, epochs=1, verbose=0
    )  # 12 fused runs: enough to time both.
    assert trainer.fusion in ("scan", "loop")


def _conv_model():
    return kerax.Sequential(
        [kerax.Input((6, 6, 1)), layers.Conv2D(2, 3), layers.Flatten(), layers.Dense(3)]
    )


@pytest.mark.skipif(jax.default_backend() != "cpu", reason="a CPU rule")
def test_a_conv_model_on_cpu_is_never_fused(rng):
    x = rng.normal(size=(96, 6, 6, 1)).astype(np.float32)
    y = rng.integers(0, 3, 96).astype(np.int32)
    for k in ("auto", 4):
        trainer = Trainer(_conv_model(), "adam", XENT, steps_per_execution=k)
        ts, _ = trainer.fit(trainer.init(), x, y, batch_size=4, verbose=0)
        # Decided from the compiled program's convolutions, before any step.
        assert trainer.fusion == "loop" and int(ts.step) == 24
    # A model without convolutions is measured instead.
    trainer = Trainer(mlp(), "adam", XENT)
    trainer.fit(trainer.init(), *_classes(rng, 8), batch_size=4, verbose=0)
    assert trainer.fusion is None


def _classes(rng, n):
    return (
        rng.normal(size=(n, 8)).astype(np.float32),
        rng.integers(0, 3, n).astype(np.int32),
    )


def test_default_fusion_gives_the_params_of_single_steps(classification_data):
    x, y = classification_data
    model = kerax.Sequential(
        [
            kerax.Input((8,)),
            layers.Dense(16, activation="relu"),
            layers.Dropout(0.3),  # Same keys fused or not: fold_in(base, step).
            layers.Dense(3),
        ]
    )
    runs = {}
    for k, fuse in (("auto", True), (1, "auto")):
        trainer = Trainer(
            model, optimizers.Adam(0.01), XENT, steps_per_execution=k, fuse_steps=fuse
        )
        runs[k] = trainer.fit(trainer.init(), x, y, batch_size=4, epochs=2, verbose=0)
        if k == "auto":
            assert trainer.fusion == "scan"
    (fused, hf), (single, hs) = runs["auto"], runs[1]
    assert int(fused.step) == int(single.step) == 100
    _close(fused.params, single.params, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(hf.history["loss"], hs.history["loss"], rtol=1e-6)


def test_batch_callbacks_see_every_batch_under_auto(classification_data):
    x, y = classification_data
    seen = []

    class Recorder(kerax.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):  # Keras style.
            seen.append((batch, float(logs["loss"])))

    trainer = Trainer(mlp(), "adam", XENT, fuse_steps=True)
    with pytest.warns(UserWarning, match="one step per dispatch"):
        trainer.fit(
            trainer.init(), x, y, batch_size=4, verbose=0, callbacks=[Recorder()]
        )
    assert [b for b, _ in seen] == list(range(50))
    assert len({v for _, v in seen}) > 1


def test_fit_consumes_the_given_train_state(classification_data):
    x, y = classification_data
    trainer = Trainer(mlp(), "adam", XENT)
    ts = trainer.init()
    new, _ = trainer.fit(ts, x, y, verbose=0)
    assert all(leaf.is_deleted() for leaf in jax.tree.leaves(ts.params))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trainer.evaluate(new, x, y, verbose=0)


def test_validation_split_rejects_datasets(classification_data):
    x, y = classification_data
    trainer = Trainer(mlp(), "adam", XENT)
    with pytest.raises(ValueError, match="validation_split"):
        trainer.fit(trainer.init(), [(x, y)], validation_split=0.2, verbose=0)


def test_device_prefetch_path(classification_data, monkeypatch):
    """The accelerator path (batches put on the device one ahead) trains the same."""
    from kerax.training import trainer as trainer_module

    x, y = classification_data
    runs = []
    for helps in (False, True):
        monkeypatch.setattr(
            trainer_module, "_device_prefetch_helps", lambda helps=helps: helps
        )
        trainer = Trainer(mlp(), optimizers.SGD(0.1), XENT)
        ts, h = trainer.fit(
            trainer.init(), x, y, epochs=2, validation_split=0.2, verbose=0
        )
        runs.append((ts, h.history))
    _close(runs[0][0].params, runs[1][0].params, rtol=1e-6)
    assert runs[0][1] == runs[1][1]


def test_data_parallel_matches_one_device(classification_data):
    if jax.device_count() < 2:
        pytest.skip("needs several (simulated) devices")
    import kerax.distribute as kd

    x, y = classification_data
    runs = {}
    for name, strategy in (("one", None), ("dp", kd.DataParallel())):
        trainer = Trainer(
            mlp(), "adam", XENT, metrics=["accuracy"], distribution=strategy
        )
        ts, h = trainer.fit(
            trainer.init(),
            x[:192],
            y[:192],
            batch_size=32,
            epochs=2,
            validation_data=(x[192:], y[192:]),
            verbose=0,
        )
        runs[name] = (
            jax.tree.map(np.asarray, ts.params),
            h.history,
            trainer.predict(ts, x, batch_size=40, verbose=0),
        )
        if strategy is not None:
            assert (
                len(ts.params["dense"]["kernel"].sharding.device_set)
                == jax.device_count()
            )
            assert (
                trainer.train_step.jitted._jitted
            )  # One compiled step for the whole run.
            # 196 rows: the last batch of 4 is padded to 8 with zero weights.
            ts, h = trainer.fit(
                ts, x[:196], y[:196], batch_size=32, epochs=1, verbose=0
            )
            assert np.isfinite(h.history["loss"][0])
    _close(runs["dp"][0], runs["one"][0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        runs["dp"][1]["val_loss"], runs["one"][1]["val_loss"], rtol=1e-5
    )
    np.testing.assert_allclose(runs["dp"][2], runs["one"][2], rtol=1e-5, atol=1e-6)
