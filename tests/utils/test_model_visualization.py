"""plot_model draws models to SVG and PNG without Graphviz."""

import pytest

import kerax
from kerax import layers, utils


def _two_branch_model():
    inputs = kerax.Input((8,), name="features")
    a = layers.Dense(4, activation="relu", name="left")(inputs)
    b = layers.Dense(4, name="right")(inputs)
    outputs = layers.Dense(2, name="head")(layers.Concatenate(name="merge")([a, b]))
    return kerax.Model(inputs, outputs, name="branches")


def test_svg_has_every_layer_edge_and_shape(tmp_path):
    path = str(tmp_path / "model.svg")
    out = utils.plot_model(
        _two_branch_model(),
        to_file=path,
        show_shapes=True,
        show_layer_names=True,
        show_dtype=True,
        show_layer_activations=True,
        show_trainable=True,
    )
    assert out == path
    svg = open(path).read()
    for text in (
        "features (InputLayer)",
        "left (Dense)",
        "merge (Concatenate)",
        "head (Dense)",
        "Output shape: (None, 2)",
        "Input shape: [(None, 4), (None, 4)]",
        "Output dtype: float32",
        "Trainable: True",
    ):
        assert text in svg, text
    assert (
        svg.count("<line ") == 5
    )  # in->left, in->right, left->merge, right->merge, merge->head.
    assert svg.count("<rect ") == 5


@pytest.mark.parametrize("rankdir", ["TB", "LR"])
def test_png_is_written_without_graphviz(tmp_path, rankdir):
    model = kerax.Sequential([kerax.Input((3,)), layers.Dense(2), layers.Dense(1)])
    path = tmp_path / "seq.png"
    utils.plot_model(
        model, to_file=str(path), show_shapes=True, rankdir=rankdir, dpi=50
    )
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_arguments_are_errors(tmp_path):
    model = _two_branch_model()
    with pytest.raises(ValueError, match="rankdir"):
        utils.plot_model(model, to_file=str(tmp_path / "m.svg"), rankdir="XY")
    with pytest.raises(ValueError, match="expand_nested"):
        utils.plot_model(model, to_file=str(tmp_path / "m.svg"), expand_nested=True)
