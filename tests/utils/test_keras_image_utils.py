"""`kerax.utils.load_img` / `img_to_array` / `array_to_img` / `save_img` against Keras's."""

import keras
import numpy as np
import pytest

import kerax


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"color_mode": "grayscale"},
        {"color_mode": "rgba", "target_size": (5, 7)},
        {"target_size": (6, 4), "interpolation": "bilinear", "keep_aspect_ratio": True},
    ],
)
def test_load_img_and_img_to_array_match_keras(tmp_path, rng, kwargs):
    path = tmp_path / "x.png"
    keras.utils.save_img(path, rng.uniform(0, 255, (9, 12, 3)), scale=False)
    want = keras.utils.img_to_array(keras.utils.load_img(path, **kwargs))
    got = kerax.utils.img_to_array(kerax.utils.load_img(path, **kwargs))
    np.testing.assert_array_equal(got, want)
    first = kerax.utils.img_to_array(kerax.utils.load_img(path), "channels_first")
    np.testing.assert_array_equal(
        first, keras.utils.img_to_array(keras.utils.load_img(path), "channels_first")
    )


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_array_to_img_and_save_img_match_keras(tmp_path, rng, channels):
    x = rng.normal(size=(6, 5, channels))  # Rescaled to 0..255 (scale=True).
    want = np.asarray(keras.utils.array_to_img(x))
    np.testing.assert_array_equal(np.asarray(kerax.utils.array_to_img(x)), want)
    kerax.utils.save_img(tmp_path / "k.png", x)
    keras.utils.save_img(tmp_path / "K.png", x)
    assert (tmp_path / "k.png").read_bytes() == (tmp_path / "K.png").read_bytes()


def test_bad_arguments_are_named(tmp_path):
    with pytest.raises(ValueError, match="rank 3"):
        kerax.utils.array_to_img(np.zeros((2, 2)))
    kerax.utils.save_img(tmp_path / "a.png", np.zeros((2, 2, 3)))
    with pytest.raises(ValueError, match="color_mode"):
        kerax.utils.load_img(tmp_path / "a.png", color_mode="cmyk")
    with pytest.raises(ValueError, match="interpolation"):
        kerax.utils.load_img(tmp_path / "a.png", target_size=(3, 3), interpolation="x")
