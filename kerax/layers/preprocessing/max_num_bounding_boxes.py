"""MaxNumBoundingBoxes: pads or truncates bounding boxes to a fixed count, like Keras."""

from __future__ import annotations

from collections.abc import Mapping

import jax.numpy as jnp

from kerax.core.fields import field
from kerax.core.layer import Layer
from kerax.core.spec import shape_str
from kerax.layers._args import data_format_field, integer, positive_int
from kerax.layers._docs import document_args
from kerax.layers.preprocessing._fields import ARG_DOCS

_DOCS = {
    **ARG_DOCS,
    "max_number": "Desired output number of bounding boxes.",
    "fill_value": "The padding value of the `boxes` and `labels` in "
    "`bounding_boxes`. Defaults to `-1`.",
    "bounding_box_format": 'The format of the boxes (e.g. `"xyxy"`). Keras requires '
    "it for inputs with a `bounding_boxes` key; the boxes are not read, only "
    "padded or truncated.",
}


def _optional_str(value) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValueError(f'should be a string such as "xyxy" or None, got {value!r}.')
    return value


@document_args(_DOCS)
class MaxNumBoundingBoxes(Layer):
    """Pads or truncates the bounding boxes to `max_number`, like `keras.layers.MaxNumBoundingBoxes`.

    The input is Keras's dict `{"images": ..., "bounding_boxes": {"boxes":
    (batch, n, 4), "labels": (batch, n)}}` (other keys, e.g. `"labels"`,
    pass through), or a single image `(n, 4)` / `(n,)`. The boxes and their
    labels keep their first `max_number` entries, padded with `fill_value`
    up to `max_number`. Images alone (an array) are returned unchanged. The
    same in training and inference; needs no key. `bounding_box_format`
    must be set for a dict with `"bounding_boxes"`, as Keras requires.
    `get_config` also saves `fill_value` (Keras 3.15 leaves it out, so a
    Keras config reloads with `-1`).

    Example:
        >>> layer = kerax.layers.MaxNumBoundingBoxes(max_number=3, bounding_box_format="xyxy")
        >>> boxes = {"boxes": jnp.array([[[0.0, 0.0, 2.0, 2.0]]]), "labels": jnp.array([[4]])}
        >>> y, _ = layer.apply({}, {}, {"images": jnp.zeros((1, 8, 8, 3)), "bounding_boxes": boxes})
        >>> y["bounding_boxes"]["labels"].tolist()
        [[4, -1, -1]]
    """

    max_number: int = field(converter=positive_int)
    fill_value: int = field(-1, converter=integer)
    bounding_box_format: str | None = field(None, converter=_optional_str)
    data_format: str = data_format_field()

    def check_input(self, spec):
        if not isinstance(spec, Mapping):
            return  # Images alone pass through.
        if "images" not in spec:
            raise ValueError(
                f"{self.describe()} expected a dict with an 'images' key (Keras's "
                f"input dict), got keys {sorted(spec)}."
            )
        if "bounding_boxes" not in spec:
            return
        if not self.bounding_box_format:
            raise ValueError(
                f"{self.describe()}: the input has a 'bounding_boxes' key, but "
                "`bounding_box_format` is not set. Pass it to the layer, e.g. "
                "`bounding_box_format='xyxy'`."
            )
        boxes = spec["bounding_boxes"]
        if not isinstance(boxes, Mapping) or set(boxes) != {"boxes", "labels"}:
            got = sorted(boxes) if isinstance(boxes, Mapping) else type(boxes).__name__
            raise ValueError(
                f"{self.describe()} expected `bounding_boxes` to be a dict with the "
                f"keys 'boxes' and 'labels' only, got {got}."
            )
        rank = len(spec["images"].shape)
        want = (3, 2) if rank == 4 else (2, 1)
        got = (len(boxes["boxes"].shape), len(boxes["labels"].shape))
        if rank not in (3, 4) or got != want or boxes["boxes"].shape[-1] != 4:
            raise ValueError(
                f"{self.describe()} expected images of rank 4 with boxes (batch, n, 4) "
                "and labels (batch, n), or one image of rank 3 with boxes (n, 4) and "
                f"labels (n,); got images {shape_str(spec['images'].shape)}, boxes "
                f"{shape_str(boxes['boxes'].shape)}, labels "
                f"{shape_str(boxes['labels'].shape)}."
            )

    def call(self, params, state, x, *, key, training):
        del params, key, training
        self.check_input(x)  # Arrays have the `shape` the checks read.
        if not isinstance(x, Mapping) or "bounding_boxes" not in x:
            return x, state
        batched = x["images"].ndim == 4
        bounding_boxes = x["bounding_boxes"]
        if not batched:
            bounding_boxes = {k: v[None] for k, v in bounding_boxes.items()}
        bounding_boxes = self.transform_bounding_boxes(bounding_boxes)
        if not batched:
            bounding_boxes = {k: v[0] for k, v in bounding_boxes.items()}
        return {**x, "bounding_boxes": bounding_boxes}, state

    def transform_bounding_boxes(self, bounding_boxes, transformation=None):
        """Keras's method: batched `{"boxes", "labels"}` kept to `max_number`, padded with `fill_value`."""
        del transformation  # Deterministic.
        boxes = jnp.asarray(bounding_boxes["boxes"])[:, : self.max_number]
        labels = jnp.asarray(bounding_boxes["labels"])[:, : self.max_number]
        pad = self.max_number - boxes.shape[1]
        boxes = jnp.pad(
            boxes, ((0, 0), (0, pad), (0, 0)), constant_values=self.fill_value
        )
        labels = jnp.pad(labels, ((0, 0), (0, pad)), constant_values=self.fill_value)
        return {**bounding_boxes, "boxes": boxes, "labels": labels}
