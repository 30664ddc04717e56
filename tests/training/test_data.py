"""Data adapters: arrays, iterables, sequences, class weights, splits, prefetch."""

import jax
import numpy as np
import pytest

from kerax.training import data


def test_array_adapter_batches_and_fuses():
    x = np.arange(22, dtype=np.float64)[:, None]
    adapter = data.ArrayAdapter({"a": x}, x[:, 0] * 2, batch_size=4, shuffle=False)
    assert (
        adapter.num_batches == 6 and adapter.x["a"].dtype == np.float32
    )  # float64 -> float32 once.
    chunks = list(adapter.chunks(0, fuse=2))
    assert [n for _, n in chunks] == [
        2,
        2,
        1,
        1,
    ]  # 5 full batches: 2 fused runs, then 1 + the partial one.
    (bx, by, bsw), n = chunks[0]
    assert bx["a"].shape == (2, 4, 1) and by.shape == (2, 4) and bsw is None
    single = list(adapter.chunks(0))
    assert [b[0]["a"].shape[0] for b, _ in single] == [4, 4, 4, 4, 4, 2]
    shuffled = list(data.ArrayAdapter(x, x, batch_size=4, seed=1).chunks(0, fuse=2))
    assert [n for _, n in shuffled] == [2, 2, 1, 1]
    assert sorted(
        np.concatenate([b[0].reshape(-1) for b, _ in shuffled]).tolist()
    ) == list(range(22))
    assert (
        len(list(adapter.chunks(0, steps=9))) == 9
    )  # steps_per_epoch beyond one pass.


@pytest.mark.parametrize("shuffle", [True, "batch", False])
@pytest.mark.parametrize("block_batches", [1, 3, 64])
def test_block_gathered_batches_equal_per_batch_indexing(shuffle, block_batches):
    """Batches sliced from gathered blocks are exactly `x[idx]` per batch,
    whatever the block size, with steps beyond one pass and skipped batches."""
    rng = np.random.default_rng(0)
    x = {"a": rng.normal(size=(23, 3)), "b": rng.normal(size=(23, 2, 2))}
    y = rng.integers(0, 5, 23)
    sw = rng.random(23)
    adapter = data.ArrayAdapter(x, y, sw, batch_size=4, shuffle=shuffle, seed=7)
    adapter.max_block_batches = block_batches
    for epoch, steps, skip in [(0, None, 0), (3, 9, 0), (1, None, 2)]:
        indices = adapter._batch_indices(epoch, steps)[skip:]
        got = list(adapter.chunks(epoch, steps, skip=skip))
        assert len(got) == len(indices) and all(n == 1 for _, n in got)
        for (batch, _), ix in zip(got, indices):
            want = (
                {k: v[ix].astype(np.float32) for k, v in x.items()},
                y[ix],
                sw[ix].astype(np.float32),
            )
            for g, w in zip(jax.tree.leaves(batch), jax.tree.leaves(want), strict=True):
                np.testing.assert_array_equal(g, w)


def test_mismatched_lengths_raise():
    with pytest.raises(ValueError, match="same number of samples"):
        data.ArrayAdapter(np.zeros((5, 2)), np.zeros((4,)))


def test_validation_split_takes_the_last_samples():
    x = np.arange(10)
    (tx, ty, tsw), (vx, vy, vsw) = data.train_validation_split((x, x * 2, None), 0.3)
    assert (
        tx.tolist() == list(range(7))
        and vx.tolist() == [7, 8, 9]
        and vy.tolist() == [14, 16, 18]
    )
    assert tsw is None and vsw is None
    with pytest.raises(ValueError, match="not sufficient"):
        data.train_validation_split((np.arange(1),), 0.5)


def test_class_weight_to_sample_weight():
    cw = {0: 1.0, 1: 2.0, 2: 0.5}
    np.testing.assert_allclose(
        data.class_weight_to_sample_weight(np.array([0, 2, 1]), cw), [1.0, 0.5, 2.0]
    )
    np.testing.assert_allclose(
        data.class_weight_to_sample_weight(np.array([[2], [1]]), cw), [0.5, 2.0]
    )
    np.testing.assert_allclose(
        data.class_weight_to_sample_weight(np.eye(3)[[1, 0]], cw, np.array([3.0, 1.0])),
        [6.0, 1.0],
    )
    with pytest.raises(ValueError, match="single output"):
        data.class_weight_to_sample_weight({"a": np.zeros(3)}, cw)


def test_is_array_data():
    assert data.is_array_data(np.zeros(3)) and data.is_array_data(
        [np.zeros(3), np.zeros(3)]
    )
    assert data.is_array_data({"a": np.zeros(3)})
    assert not data.is_array_data([(np.zeros(3), np.zeros(3))])  # A list of batches.
    assert not data.is_array_data(iter([np.zeros(3)])) and not data.is_array_data(None)


class _Sequence:
    """A keras.utils.PyDataset-like object: __len__ and __getitem__ only."""

    def __len__(self):
        return 3

    def __getitem__(self, i):
        return np.full((2, 1), i, np.float32), np.full((2,), i, np.float32)


def test_sequences_and_iterables():
    adapter = data.get_adapter(_Sequence())
    assert adapter.num_batches == 3 and not adapter.one_shot
    for epoch in range(2):
        batches = [b for b, _ in adapter.chunks(epoch)]
        assert [float(b[0][0, 0]) for b in batches] == [0.0, 1.0, 2.0]
    gen = data.get_adapter((np.zeros((2, 1)), np.zeros(2)) for _ in range(5))
    assert gen.one_shot and gen.num_batches is None
    assert (
        len(list(gen.chunks(0, steps=3))) == 3
        and len(list(gen.chunks(1, steps=3))) == 2
        and gen.exhausted
    )
    ragged = data.get_adapter(
        [(np.zeros((2, 1)), np.zeros(2))] * 3 + [(np.zeros((1, 1)), np.zeros(1))] * 2
    )
    assert [n for _, n in ragged.chunks(0, fuse=2)] == [
        2,
        1,
        1,
        1,
    ]  # Unequal shapes are not stacked.
    with pytest.raises(ValueError, match="only be given with array"):
        data.get_adapter([(np.zeros(1), np.zeros(1))], y=np.zeros(1))
    with pytest.raises(ValueError, match="Unrecognized data"):
        data.get_adapter(3)


def test_thread_prefetcher_forwards_items_and_errors():
    def gen():
        yield 1
        yield 2
        raise KeyError("boom")

    it = data.ThreadPrefetcher(gen(), 2)
    assert next(it) == 1 and next(it) == 2
    with pytest.raises(KeyError, match="boom"):
        next(it)
    it = data.ThreadPrefetcher(iter(range(100)), 1)
    assert next(it) == 0
    it.close()


def test_prefetch_to_device_keeps_order():
    import jax

    chunks = [((np.full((2, 1), i, np.float32), None, None), 1) for i in range(4)]
    out = list(data.prefetch_to_device(iter(chunks), 1))
    assert [float(b[0][0, 0]) for b, _ in out] == [0.0, 1.0, 2.0, 3.0]
    assert all(isinstance(b[0], jax.Array) and b[1] is None for b, _ in out)
