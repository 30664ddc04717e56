"""`keras_parity`: a Keras layer and its kerax import compute the same thing."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from kerax.core.layer import Layer
from kerax.core.spec import to_spec
from kerax.interop import layer_from_keras, layer_weights
from kerax.testing.contract import assert_trees_close

__all__ = ["keras_parity"]


def keras_parity(
    keras_layer,
    *inputs,
    layer: Layer | None = None,
    params=None,
    state=None,
    training_modes=(False, True),
    mask=None,
    atol: float = 1e-5,
    rtol: float = 1e-5,
    call_kwargs=None,
    keras_kwargs=None,
    kerax_kwargs=None,
):
    """Imports `keras_layer` into kerax and compares outputs with Keras's.

    The Keras layer is built on `inputs` (called once) if it is not built
    yet. The kerax layer comes from `kerax.interop.layer_from_keras` unless
    `layer` is given; its weights come from the Keras layer's variables
    (`kerax.interop.layer_weights`, checked against `layer.init`'s
    structure and shapes) unless `params`/`state` are given. Outputs are
    compared in each of `training_modes`, in order (Keras's own state, such
    as BatchNormalization's moving statistics, moves in a training call).

    Args:
        keras_layer: A Keras 3 layer, built or not.
        *inputs: The inputs both layers are called on (NumPy arrays, or
            lists of them for merging layers).
        layer: The kerax layer to compare; default: imported from Keras.
        params: kerax params to use instead of the Keras layer's weights.
        state: kerax state to use instead of the Keras layer's weights.
        training_modes: The `training` values to compare in.
        mask: The mask of the first input (a list of masks for a list of
            inputs), or None. It rides on the Keras inputs as in a Keras
            graph and is passed as `mask=` to kerax; the output masks are
            compared too.
        atol: Absolute tolerance.
        rtol: Relative tolerance.
        call_kwargs: Keyword arguments for both calls (e.g. `mask=`).
        keras_kwargs: Extra keyword arguments for the Keras call only.
        kerax_kwargs: Extra keyword arguments for the kerax call only.

    Returns:
        `(layer, params, state)`: the kerax layer and the weights compared.

    Example:
        >>> import keras
        >>> x = np.ones((2, 3), np.float32)
        >>> layer, params, state = keras_parity(keras.layers.Dense(4), x)
        >>> params["kernel"].shape
        (3, 4)
    """
    # Keras is an optional extra: only parity tests need it. Its masks have no
    # public accessor; a Keras graph keeps them as `_keras_mask` on tensors.
    from keras.src.backend.common.masking import get_keras_mask

    keras_call = {**(call_kwargs or {}), **(keras_kwargs or {})}
    kerax_call = {**(call_kwargs or {}), **(kerax_kwargs or {})}
    if not keras_layer.built:
        keras_layer(*inputs, **keras_call)
    if layer is None:
        layer = layer_from_keras(keras_layer)
    if params is None and state is None:
        specs = to_spec(tuple(jax.tree.map(np.asarray, inputs)))
        params, state = layer_weights(keras_layer, layer, specs)
    params = {} if params is None else params
    state = {} if state is None else state
    xs = [jax.tree.map(jnp.asarray, x) for x in inputs]
    # A `mask` in `call_kwargs` goes to both calls explicitly (as Keras's
    # `layer(x, mask=m)`), instead of riding on the Keras inputs.
    explicit_mask = kerax_call.pop("mask", None)
    keras_inputs = inputs if mask is None else _with_keras_masks(inputs, mask)
    for training in training_modes:
        want = keras_layer(*keras_inputs, training=training, **keras_call)
        what = f"{layer.describe()} vs Keras (training={training})"
        got, _, got_mask = layer.apply_masked(
            params,
            state,
            *xs,
            key=jax.random.key(0) if training else None,
            training=training,
            mask=mask if mask is not None else explicit_mask,
            **kerax_call,
        )
        assert_trees_close(
            got, jax.tree.map(np.asarray, want), atol=atol, rtol=rtol, what=what
        )
        if mask is not None:
            # Several outputs (an RNN's `(output, *states)`): one mask each.
            if isinstance(want, list | tuple):
                want_mask = tuple(get_keras_mask(w) for w in want)
                if all(m is None for m in want_mask):
                    want_mask = None
            else:
                want_mask = get_keras_mask(want)
            if isinstance(got_mask, list | tuple) and all(m is None for m in got_mask):
                got_mask = None
            if want_mask is None or got_mask is None:
                assert got_mask is None and want_mask is None, (
                    f"{what}: output mask {got_mask} vs Keras's {want_mask}"
                )
            else:
                assert_trees_close(
                    tuple(got_mask) if isinstance(got_mask, list) else got_mask,
                    jax.tree.map(np.asarray, want_mask),
                    atol=0,
                    rtol=0,
                    what=what + " mask",
                )
    return layer, params, state


def _with_keras_masks(inputs, mask):
    """The inputs as backend tensors carrying `mask` as `_keras_mask` (a Keras graph's way)."""
    from keras.src.backend.common.masking import set_keras_mask

    first = inputs[0]
    if isinstance(first, list | tuple):
        tensors = [jnp.asarray(x) for x in first]
        masks = list(mask)
    else:
        tensors, masks = [jnp.asarray(first)], [mask]
    for x, m in zip(tensors, masks):
        if m is not None:
            set_keras_mask(x, jnp.asarray(m))
    first = tensors if isinstance(first, list | tuple) else tensors[0]
    return (first, *inputs[1:])
