"""What the adaptive pooling layers share: Keras's (and PyTorch's) bins, static slices."""

from __future__ import annotations

from typing import ClassVar

from kerax.core.layer import Layer
from kerax.core.spec import is_symbolic, shape_str
from kerax.layers._args import spatial_axes
from kerax.ops._pooling import adaptive_reduce  # Shared with kerax.ops.


class BaseAdaptivePooling(Layer):
    """Shared code of the adaptive pooling layers (each declares `output_size` and `data_format`)."""

    rank: ClassVar[int] = 0
    kind: ClassVar[str] = "max"

    def check_input(self, spec):
        self.expect_ndim(spec, ndim=self.rank + 2)
        for ax in spatial_axes(self.rank, self.data_format):
            if is_symbolic(spec.shape[ax]):
                raise ValueError(
                    f"{self.describe()} needs static spatial dimensions, got inputs {shape_str(spec.shape)}."
                )

    def call(self, params, state, x, *, key, training):
        del params, key, training
        for ax, out in zip(spatial_axes(self.rank, self.data_format), self.output_size):
            x = adaptive_reduce(x, ax, out, self.kind)
        return x, state
