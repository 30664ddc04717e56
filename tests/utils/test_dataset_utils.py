"""The `*_dataset_from_*` functions against Keras's own, on generated folders."""

import os
import wave

import numpy as np
import pytest

import kerax
from kerax import utils


def _keras_utils():
    pytest.importorskip("tensorflow")  # Keras's datasets are tf.data.
    keras = pytest.importorskip("keras")
    return keras.utils


def _numpy(batches):
    return [
        tuple(np.asarray(p) for p in b) if isinstance(b, tuple) else np.asarray(b)
        for b in batches
    ]


@pytest.fixture
def image_folder(tmp_path, rng):
    """Two classes, odd sizes, RGB / gray / RGBA / palette PNGs, a nested
    folder, non-image files and a hidden folder (both skipped)."""
    from PIL import Image

    root = tmp_path / "images"
    for c in ("dog", "cat"):
        (root / c / "nested").mkdir(parents=True)
        for i in range(4):
            h, w = rng.integers(5, 23, 2)
            rgb = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
            Image.fromarray(rgb).save(root / c / f"{i}.png")
            Image.fromarray(rgb[..., 0]).save(root / c / "nested" / f"g{i}.png")
            rgba = rng.integers(0, 256, (w, h, 4), dtype=np.uint8)
            Image.fromarray(rgba).save(root / c / f"a{i}.PNG")
        Image.fromarray(rgb).convert("P").save(root / c / "palette.png")
        (root / c / "notes.txt").write_text("not an image")
    (root / ".hidden").mkdir()
    Image.fromarray(rgb).save(root / ".hidden" / "x.png")
    return root


_IMAGE_CASES = [
    dict(),
    dict(color_mode="grayscale", label_mode="categorical"),
    dict(color_mode="rgba", label_mode="binary"),
    dict(crop_to_aspect_ratio=True),
    dict(pad_to_aspect_ratio=True, interpolation="nearest"),
    dict(interpolation="bicubic", class_names=["dog", "cat"]),
    dict(interpolation="area", batch_size=None),
    dict(labels=None),
    dict(data_format="channels_first"),
    # Explicit labels: the whole tree is walked (.hidden too, as Keras).
    dict(labels=[i % 3 for i in range(27)], label_mode="categorical"),
]


@pytest.mark.parametrize("case", range(len(_IMAGE_CASES)))
def test_image_dataset_matches_keras(image_folder, case):
    kwargs = dict(image_size=(9, 14), shuffle=False, batch_size=5, verbose=False)
    kwargs.update(_IMAGE_CASES[case])
    theirs = _keras_utils().image_dataset_from_directory(image_folder, **kwargs)
    mine = utils.image_dataset_from_directory(image_folder, num_workers=0, **kwargs)
    assert mine.file_paths == theirs.file_paths
    assert mine.class_names == theirs.class_names
    expected, got = _numpy(theirs), list(mine)
    assert len(got) == len(expected) == len(mine)
    for e, g in zip(expected, got):
        e, g = (e, g) if isinstance(e, tuple) else ((e,), (g,))
        for a, b in zip(e, g):
            assert a.shape == b.shape and a.dtype == b.dtype
        # Resizing matches TF's kernels to float32 rounding (area sums
        # more terms: 5e-3).
        np.testing.assert_allclose(g[0], e[0], atol=5e-3 if case == 6 else 2e-4)
        for a, b in zip(e[1:], g[1:]):
            np.testing.assert_array_equal(a, b)


def test_pixels_exact_at_file_size(tmp_path, rng):
    from PIL import Image

    for c in ("a", "b"):
        (tmp_path / c).mkdir()
        for i in range(3):
            img = rng.integers(0, 256, (7, 11, 3), dtype=np.uint8)
            Image.fromarray(img).save(tmp_path / c / f"{i}.png")
    kwargs = dict(image_size=(7, 11), shuffle=False, batch_size=4, verbose=False)
    for color_mode in ("rgb", "grayscale", "rgba"):
        theirs = _numpy(
            _keras_utils().image_dataset_from_directory(
                tmp_path, color_mode=color_mode, **kwargs
            )
        )
        mine = list(
            utils.image_dataset_from_directory(
                tmp_path, color_mode=color_mode, num_workers=0, **kwargs
            )
        )
        for (ex, ey), (gx, gy) in zip(theirs, mine):
            np.testing.assert_array_equal(gx, ex)  # Lossless PNG: identical.
            np.testing.assert_array_equal(gy, ey)


def test_jpeg_is_libjpegs_accurate_decode(tmp_path, rng):
    tf = pytest.importorskip("tensorflow")
    from PIL import Image

    path = tmp_path / "photo.jpg"
    Image.fromarray(rng.integers(0, 256, (13, 21, 3), dtype=np.uint8)).save(
        path, quality=90
    )
    raw = path.read_bytes()
    for channels in (3, 1):
        # Pillow runs libjpeg's accurate integer DCT; TensorFlow's default is
        # the fast one (a few units apart): kerax equals TF's accurate mode.
        accurate = tf.io.decode_jpeg(raw, channels, dct_method="INTEGER_ACCURATE")
        got = utils.image_utils.load_image(path, channels)
        np.testing.assert_array_equal(got, accurate.numpy())
        fast = tf.io.decode_image(raw, channels).numpy().astype(int)
        assert np.abs(got.astype(int) - fast).max() <= 8


def test_validation_split_selects_keras_files(image_folder):
    kwargs = dict(
        image_size=(8, 8), validation_split=0.25, seed=7, verbose=False, batch_size=4
    )
    k_train, k_val = _keras_utils().image_dataset_from_directory(
        image_folder, subset="both", **kwargs
    )
    train, val = utils.image_dataset_from_directory(
        image_folder, subset="both", num_workers=0, **kwargs
    )
    assert train.file_paths == k_train.file_paths
    assert val.file_paths == k_val.file_paths
    assert not set(train.file_paths) & set(val.file_paths)
    only_val = utils.image_dataset_from_directory(
        image_folder, subset="validation", num_workers=0, **kwargs
    )
    assert only_val.file_paths == val.file_paths


def test_shuffle_reshuffles_per_epoch_and_is_seeded(image_folder):
    def labels_of(ds):
        return [np.concatenate([y for _, y in ds]) for _ in range(2)]

    kwargs = dict(image_size=(4, 4), batch_size=3, seed=3, verbose=False)
    a = labels_of(
        utils.image_dataset_from_directory(image_folder, num_workers=0, **kwargs)
    )
    b = labels_of(
        utils.image_dataset_from_directory(image_folder, num_workers=0, **kwargs)
    )
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)  # Same seed, same epochs.
    files = utils.image_dataset_from_directory(image_folder, num_workers=0, **kwargs)
    first, second = (
        np.concatenate([x.reshape(len(x), -1) for x, _ in files]) for _ in range(2)
    )
    assert not np.array_equal(first, second)  # Epoch 2 is another order...
    np.testing.assert_array_equal(np.unique(first, axis=0), np.unique(second, axis=0))


def test_worker_processes_give_the_same_batches(tmp_path, rng):
    from PIL import Image

    for c in ("a", "b"):
        (tmp_path / c).mkdir()
        for i in range(5):
            Image.fromarray(rng.integers(0, 256, (6, 6, 3), dtype=np.uint8)).save(
                tmp_path / c / f"{i}.png"
            )
    kwargs = dict(image_size=(6, 6), batch_size=4, seed=1, verbose=False)
    threads = utils.image_dataset_from_directory(tmp_path, num_workers=0, **kwargs)
    workers = utils.image_dataset_from_directory(tmp_path, num_workers=2, **kwargs)
    try:
        for _ in range(2):  # Two epochs from the same worker processes.
            for (x0, y0), (x1, y1) in zip(threads, workers, strict=True):
                np.testing.assert_array_equal(x0, x1)
                np.testing.assert_array_equal(y0, y1)
    finally:
        workers.close()


def test_each_process_reads_its_own_shard(image_folder, monkeypatch):
    import jax

    kwargs = dict(image_size=(4, 4), shuffle=False, verbose=False, num_workers=0)
    full = utils.image_dataset_from_directory(image_folder, **kwargs)
    monkeypatch.setattr(jax, "process_count", lambda: 3)
    shards = []
    for i in range(3):
        monkeypatch.setattr(jax, "process_index", lambda i=i: i)
        shards.append(utils.image_dataset_from_directory(image_folder, **kwargs))
    sizes = {s.num_samples for s in shards}
    assert sizes == {full.num_samples // 3}  # Equal shards: equal step counts.
    paths = [p for s in shards for p in s.file_paths]
    assert len(set(paths)) == len(paths) and set(paths) <= set(full.file_paths)


def test_fit_takes_the_dataset(image_folder):
    train, val = utils.image_dataset_from_directory(
        image_folder,
        image_size=(8, 8),
        batch_size=8,
        validation_split=0.25,
        subset="both",
        seed=0,
        verbose=False,
        num_workers=0,
    )
    model = kerax.Sequential(
        [
            kerax.Input((8, 8, 3)),
            kerax.layers.Rescaling(1 / 255),
            kerax.layers.Flatten(),
            kerax.layers.Dense(len(train.class_names)),
        ]
    )
    trainer = kerax.Trainer(
        model,
        optimizer="adam",
        loss=kerax.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    ts = trainer.init(jax_key())
    ts, history = trainer.fit(ts, train, validation_data=val, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and "val_accuracy" in history.history
    logits = trainer.predict(ts, val, verbose=0)
    assert logits.shape == (val.num_samples, 2)


def jax_key():
    import jax

    return jax.random.key(0)


def test_take_and_map(image_folder):
    ds = utils.image_dataset_from_directory(
        image_folder,
        image_size=(4, 4),
        batch_size=4,
        verbose=False,
        seed=0,
        num_workers=0,
    )
    ((x, y),) = ds.take(1)
    assert x.shape == (4, 4, 4, 3)
    doubled = ds.map(lambda images, labels: (images * 2, labels))
    assert doubled.class_names == ds.class_names
    ((x2, _),) = doubled.take(1)
    assert x2.max() > 255 or x.max() == 0


def test_argument_errors(image_folder, tmp_path):
    f = utils.image_dataset_from_directory
    with pytest.raises(ValueError, match="label_mode"):
        f(image_folder, label_mode="sparse")
    with pytest.raises(ValueError, match="color_mode"):
        f(image_folder, color_mode="cmyk")
    with pytest.raises(ValueError, match="seed"):
        f(image_folder, validation_split=0.2, subset="training")
    with pytest.raises(ValueError, match="class_names"):
        f(image_folder, class_names=["dog", "bird"])
    with pytest.raises(ValueError, match="interpolation"):
        f(image_folder, interpolation="fancy")
    with pytest.raises(ValueError, match="exactly 2"):
        f(image_folder, class_names=["dog"], label_mode="binary")
    with pytest.raises(ValueError, match="Only one of"):
        f(image_folder, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
    with pytest.raises(ValueError, match="lengths of `labels`"):
        f(image_folder, labels=[0, 1])
    (tmp_path / "empty" / "a").mkdir(parents=True)
    with pytest.raises(ValueError, match="No image files found"):
        f(tmp_path / "empty")
    with pytest.raises(ValueError, match="not a folder"):
        f(tmp_path / "missing")


def test_text_dataset_matches_keras(tmp_path, rng):
    words = ["good", "bad", "movie", "plot", "ünïcode"]
    for c in ("neg", "pos"):
        (tmp_path / c / "more").mkdir(parents=True)
        for i in range(5):
            text = " ".join(rng.choice(words, rng.integers(1, 9)))
            sub = "more/" if i % 2 else ""
            (tmp_path / c / f"{sub}{i}.txt").write_text(text, encoding="utf-8")
        (tmp_path / c / "skip.md").write_text("not text data")
    kwargs = dict(shuffle=False, batch_size=3, verbose=False, max_length=12)
    theirs = _keras_utils().text_dataset_from_directory(tmp_path, **kwargs)
    mine = utils.text_dataset_from_directory(tmp_path, **kwargs)
    assert mine.class_names == theirs.class_names == ["neg", "pos"]
    for (ex, ey), (gx, gy) in zip(_numpy(theirs), mine, strict=True):
        # Keras's tf.data yields bytes cut at 12 bytes; kerax str cut at 12
        # characters (like Keras's grain format): compare the ASCII ones.
        for e, g in zip(ex, gx):
            e = e.decode("utf-8", "replace")
            assert g == e or not g.isascii()
        np.testing.assert_array_equal(gy, ey)


def test_timeseries_matches_keras(rng):
    data = rng.normal(size=(50, 3)).astype(np.float32)
    targets = np.arange(50)
    for kwargs in [
        dict(sequence_length=5),
        dict(sequence_length=4, sequence_stride=3, sampling_rate=2, batch_size=7),
        dict(sequence_length=6, start_index=4, end_index=40, batch_size=5),
    ]:
        theirs = _numpy(
            _keras_utils().timeseries_dataset_from_array(data, targets, **kwargs)
        )
        mine = list(utils.timeseries_dataset_from_array(data, targets, **kwargs))
        assert len(mine) == len(theirs)
        for (ex, ey), (gx, gy) in zip(theirs, mine):
            np.testing.assert_array_equal(gx, ex)
            np.testing.assert_array_equal(gy, ey)
    windows = list(utils.timeseries_dataset_from_array(data, None, 10, batch_size=None))
    assert len(windows) == 41 and windows[0].shape == (10, 3)
    with pytest.raises(ValueError, match="sampling_rate"):
        utils.timeseries_dataset_from_array(data, None, 3, sampling_rate=0)
    shuffled = utils.timeseries_dataset_from_array(
        data, targets, 5, shuffle=True, seed=0, batch_size=100
    )
    ((_, y),) = shuffled.take(1)
    assert sorted(y.tolist()) == list(range(46)) and y.tolist() != sorted(y.tolist())


def _write_wav(path, samples, rate=8000, width=2):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(samples.shape[1])
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(samples.astype("<i2").tobytes())


def test_audio_dataset_matches_keras(tmp_path, rng):
    for c in ("no", "yes"):
        (tmp_path / c).mkdir()
        for i in range(3):
            clip = rng.integers(-32768, 32767, (rng.integers(20, 60), 2))
            _write_wav(tmp_path / c / f"{i}.wav", clip)
    for kwargs in [dict(), dict(output_sequence_length=40)]:
        kwargs.update(shuffle=False, batch_size=4, verbose=False)
        theirs = _numpy(_keras_utils().audio_dataset_from_directory(tmp_path, **kwargs))
        mine = list(utils.audio_dataset_from_directory(tmp_path, **kwargs))
        for (ex, ey), (gx, gy) in zip(theirs, mine, strict=True):
            np.testing.assert_array_equal(gx, ex)
            np.testing.assert_array_equal(gy, ey)
    ragged = utils.audio_dataset_from_directory(
        tmp_path, ragged=True, shuffle=False, verbose=False
    )
    ((x, _),) = ragged.take(1)
    assert x.dtype == object and {a.shape[1] for a in x} == {2}
    with pytest.raises(ValueError, match="does not resample"):
        list(
            utils.audio_dataset_from_directory(
                tmp_path, sampling_rate=16000, verbose=False
            )
        )
    (tmp_path / "no" / "broken.wav").write_bytes(b"RIFFjunk")
    with pytest.raises(ValueError, match="PCM WAV"):
        list(utils.audio_dataset_from_directory(tmp_path, verbose=False))


def test_index_directory_follow_links(tmp_path):
    (tmp_path / "data" / "a").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "x.txt").write_text("x")
    (tmp_path / "data" / "a" / "y.txt").write_text("y")
    os.symlink(tmp_path / "elsewhere", tmp_path / "data" / "a" / "link")
    index = utils.dataset_utils.index_directory
    paths, _, _ = index(
        tmp_path / "data", "inferred", (".txt",), shuffle=False, verbose=False
    )
    assert len(paths) == 1
    paths, _, _ = index(
        tmp_path / "data",
        "inferred",
        (".txt",),
        shuffle=False,
        follow_links=True,
        verbose=False,
    )
    assert len(paths) == 2
