"""`audio_dataset_from_directory`: a folder of WAV files as a grain dataset.

WAV files are read with Python's `wave` module (PCM, 8 to 32 bits) and
scaled to [-1, 1] like `tf.audio.decode_wav` (16-bit samples / 32768).
"""

from __future__ import annotations

import wave

import numpy as np

from kerax.utils import dataset_utils

__all__ = ["audio_dataset_from_directory", "read_wav"]

ALLOWED_FORMATS = (".wav",)


def read_wav(path) -> tuple[np.ndarray, int]:
    """`(audio float32 (samples, channels) in [-1, 1], sample_rate)` of a PCM WAV file.

    Example:
        >>> import os, tempfile, wave
        >>> path = os.path.join(tempfile.mkdtemp(), "a.wav")
        >>> with wave.open(path, "wb") as w:
        ...     w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
        ...     w.writeframes(np.array([0, 16384, -32768], "<i2").tobytes())
        >>> audio, rate = kerax.utils.audio_dataset_utils.read_wav(path)
        >>> audio[:, 0].tolist(), rate
        ([0.0, 0.5, -1.0], 8000)
    """
    try:
        with wave.open(str(path), "rb") as w:
            channels, width = w.getnchannels(), w.getsampwidth()
            rate, frames = w.getframerate(), w.readframes(w.getnframes())
    except (wave.Error, EOFError) as e:
        raise ValueError(
            f"Could not read {path} as a PCM WAV file ({e}); audio datasets read "
            "uncompressed PCM WAV only: convert the file (e.g. with ffmpeg)."
        ) from e
    if width == 1:  # 8-bit WAV is unsigned.
        audio = (np.frombuffer(frames, np.uint8).astype(np.float32) - 128) / 128
    elif width == 2:
        audio = np.frombuffer(frames, "<i2").astype(np.float32) / 32768
    elif width == 3:
        raw = np.frombuffer(frames, np.uint8).reshape(-1, 3).astype(np.int32)
        value = raw[:, 0] | (raw[:, 1] << 8) | (raw[:, 2] << 16)
        value = np.where(value >= 1 << 23, value - (1 << 24), value)
        audio = value.astype(np.float32) / (1 << 23)
    else:
        audio = (np.frombuffer(frames, "<i4").astype(np.float64) / (1 << 31)).astype(
            np.float32
        )
    return audio.reshape(-1, channels), rate


class _AudioSample:
    def __init__(self, paths, labels, sampling_rate, output_sequence_length):
        self.paths, self.labels = list(paths), labels
        self.sampling_rate = sampling_rate
        self.output_sequence_length = output_sequence_length

    def __call__(self, i):
        audio, rate = read_wav(self.paths[i])
        if self.sampling_rate is not None and rate != self.sampling_rate:
            raise ValueError(
                f"{self.paths[i]} is sampled at {rate} Hz, not the requested "
                f"sampling_rate={self.sampling_rate}; kerax does not resample "
                "audio: resample the files, or pass sampling_rate=None."
            )
        length = self.output_sequence_length
        if length is not None:  # decode_wav's desired_samples: cut or zero-pad.
            audio = audio[:length]
            if len(audio) < length:
                audio = np.pad(audio, ((0, length - len(audio)), (0, 0)))
        return audio if self.labels is None else (audio, self.labels[i])


def _pad_batch(audios):
    """Zero-pads to the longest clip of the batch (tf.data's `padded_batch`)."""
    longest = max(len(a) for a in audios)
    out = np.zeros((len(audios), longest, audios[0].shape[1]), np.float32)
    for i, a in enumerate(audios):
        out[i, : len(a)] = a
    return out


def _ragged_batch(audios):
    out = np.empty(len(audios), dtype=object)
    out[:] = audios
    return out


def audio_dataset_from_directory(
    directory,
    labels="inferred",
    label_mode="int",
    class_names=None,
    batch_size=32,
    sampling_rate=None,
    output_sequence_length=None,
    ragged=False,
    shuffle=True,
    seed=None,
    validation_split=None,
    subset=None,
    follow_links=False,
    verbose=True,
    *,
    num_workers=0,
):
    """Generates a dataset from `.wav` files in a directory (Keras's function, on grain).

    Arguments, file order and splits are Keras's (see
    `image_dataset_from_directory`). Clips are float32 `(samples, channels)`
    in [-1, 1]; a batch is zero-padded to its longest clip, or every clip is
    cut/padded to `output_sequence_length`.

    Args:
        directory: the folder (one subfolder per class with
            `labels="inferred"`).
        labels: `"inferred"`, None or a list of integer labels.
        label_mode: `"int"`, `"categorical"`, `"binary"` or None.
        class_names: with `"inferred"`: the subfolders to use, in order.
        batch_size: clips per batch; None yields single clips.
        sampling_rate: the files' expected sample rate; a file at another
            rate is an error (Keras resamples with tensorflow-io; kerax does
            not resample).
        output_sequence_length: cut or zero-pad every clip to this length.
        ragged: batches are object arrays of unpadded clips.
        shuffle: shuffle the files (reshuffled every epoch).
        seed: the shuffling seed.
        validation_split: fraction of the files held out for validation.
        subset: `"training"`, `"validation"` or `"both"`.
        follow_links: descend into symlinked folders.
        verbose: print how many files and classes were found.
        num_workers: kerax only: grain worker processes (0: threads).

    Returns:
        A `FileDataset` of `(audio, labels)` batches with `class_names` and
        `file_paths`, or `(train_ds, val_ds)` for `subset="both"`.

    Example:
        >>> import os, tempfile, wave
        >>> root = tempfile.mkdtemp()
        >>> for c, n in (("no", 3), ("yes", 5)):
        ...     os.makedirs(os.path.join(root, c))
        ...     with wave.open(os.path.join(root, c, "1.wav"), "wb") as w:
        ...         w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
        ...         w.writeframes(np.zeros(n, "<i2").tobytes())
        >>> ds = kerax.utils.audio_dataset_from_directory(root, shuffle=False, verbose=False)
        >>> audio, labels = next(iter(ds))
        >>> audio.shape, labels.tolist()
        ((2, 5, 1), [0, 1])
    """
    labels, label_mode = dataset_utils.check_labels_args(
        labels, label_mode, class_names, "audio"
    )
    if ragged and output_sequence_length is not None:
        raise ValueError("Cannot set both `ragged` and `output_sequence_length`")
    if sampling_rate is not None and (
        not isinstance(sampling_rate, int) or sampling_rate <= 0
    ):
        raise ValueError(
            "`sampling_rate` should be a positive integer. Received: "
            f"sampling_rate={sampling_rate}"
        )
    return dataset_utils.directory_dataset(
        directory,
        labels=labels,
        label_mode=label_mode,
        class_names=class_names,
        formats=ALLOWED_FORMATS,
        what="audio",
        make_sample=lambda paths, encoded: _AudioSample(
            paths, encoded, sampling_rate, output_sequence_length
        ),
        batch_size=batch_size,
        shuffle=shuffle,
        seed=seed,
        validation_split=validation_split,
        subset=subset,
        follow_links=follow_links,
        verbose=verbose,
        num_workers=num_workers,
        collate=_ragged_batch if ragged else _pad_batch,
    )
