"""Recurrent wrappers: Bidirectional and TimeDistributed."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from kerax.core import naming
from kerax.core.layer import Layer, is_empty
from kerax.core.spec import shape_str
from kerax.layers._docs import document_args
from kerax.layers.core.wrapper import Wrapper
from kerax.layers.recurrent.rnn import num_states

_MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def replace_fields(layer, **changes):
    """`dataclasses.replace` for the fields the layer has."""
    names = {f.name for f in dataclasses.fields(layer)}
    return dataclasses.replace(
        layer, **{k: v for k, v in changes.items() if k in names}
    )


def _removeprefix(name: str, prefix: str) -> str:
    return name[len(prefix) :] if name.startswith(prefix) else name


@document_args(
    {
        "layer": "`keras.layers.RNN` instance, such as `keras.layers.LSTM` or "
        "`keras.layers.GRU` (a kerax recurrent layer with `go_backwards`, "
        "`return_sequences` and `return_state`).",
        "merge_mode": "Mode by which outputs of the forward and backward RNNs will be "
        'combined. One of `{{"sum", "mul", "concat", "ave", None}}`. If `None`, '
        "the outputs will not be combined, they will be returned as a list. "
        'Defaults to `"concat"`.',
        "weights": "Must be `None`: kerax weights live in `params` (build them with "
        "`init` and replace the arrays you want to set).",
        "backward_layer": "Optional recurrent layer to handle backwards input "
        "processing. If `backward_layer` is not provided, the layer instance passed "
        "as the `layer` argument will be used to generate the backward layer "
        "automatically. Its `go_backwards` must differ from `layer`'s, and its "
        "`return_sequences` and `return_state` must match.",
    }
)
class Bidirectional(Wrapper):
    """Runs a recurrent layer forwards and backwards, like `keras.layers.Bidirectional`.

    The forward copy of `layer` is named `forward_<name>`, the backward one
    (`go_backwards=True`) `backward_<name>`, unless `backward_layer` is given;
    params nest under those names, as Keras's variables do
    (`bidirectional/forward_lstm/lstm_cell/kernel`). The backward outputs are
    flipped back to forward time order before merging (`merge_mode`:
    "concat", "sum", "mul", "ave", or None for the pair). With masks, both
    directions output zeros at masked steps when returning sequences, as in
    Keras. `initial_state` is split in halves: forward states, then backward.
    With `return_state=True` the output is `(merged, *forward_states,
    *backward_states)` (`(forward, backward, *states)` when `merge_mode=None`).

    Example:
        >>> bi = kerax.layers.Bidirectional(kerax.layers.LSTM(4, return_sequences=True))
        >>> params, state = bi.init(jax.random.key(0), kerax.spec((None, 5, 3)))
        >>> bi.apply(params, state, jnp.ones((2, 5, 3)))[0].shape
        (2, 5, 8)
        >>> sorted(params)
        ['backward_lstm', 'forward_lstm']
    """

    merge_mode: str | None = "concat"
    # Keras's initial weights list; refused (kerax weights live in params).
    weights: None = None
    backward_layer: Layer | None = None

    supports_masking = True
    autocast = False

    def __post_init__(self):
        super().__post_init__()
        if self.backward_layer is not None and not isinstance(
            self.backward_layer, Layer
        ):
            raise TypeError(
                f"{self.describe()}: `backward_layer` must be a kerax recurrent layer, got {self.backward_layer!r}."
            )
        if self.merge_mode not in _MERGE_MODES:
            raise ValueError(
                f"{self.describe()}: invalid merge_mode {self.merge_mode!r}; expected one of {_MERGE_MODES}."
            )
        if self.weights is not None:
            raise ValueError(
                f"{self.describe()}: `weights` is not supported: kerax weights live in params. "
                "Build params with init() and replace the arrays you want to set."
            )
        for attr in ("go_backwards", "return_sequences", "return_state"):
            if not hasattr(self.layer, attr):
                raise TypeError(
                    f"{self.describe()}: `layer` must be a recurrent layer with `{attr}`, got {self.layer.describe()}."
                )
        layer = self.layer
        forward = replace_fields(
            layer, name=f"forward_{_removeprefix(layer.scope_name, 'forward_')}"
        )
        if self.backward_layer is None:
            backward = replace_fields(
                layer,
                go_backwards=not layer.go_backwards,
                name=f"backward_{_removeprefix(layer.scope_name, 'backward_')}",
            )
        else:
            backward = self.backward_layer
        # Keras: masked steps output zeros in both directions when returning sequences.
        forward = replace_fields(forward, zero_output_for_mask=forward.return_sequences)
        backward = replace_fields(
            backward, zero_output_for_mask=backward.return_sequences
        )
        if forward.go_backwards == backward.go_backwards:
            raise ValueError(
                f"{self.describe()}: the forward and backward layers must have different `go_backwards`, "
                f"both have {forward.go_backwards}."
            )
        for attr in ("stateful", "return_sequences", "return_state"):
            f, b = getattr(forward, attr, None), getattr(backward, attr, None)
            if f != b:
                raise ValueError(
                    f"{self.describe()}: the forward and backward layers must have the same `{attr}`, got {f} and {b}."
                )
        if forward.scope_name == backward.scope_name:
            raise ValueError(
                f"{self.describe()}: the forward and backward layers are both named {forward.scope_name!r}."
            )
        object.__setattr__(self, "_forward", forward)
        object.__setattr__(self, "_backward", backward)

    @property
    def forward_layer(self) -> Layer:
        return self._forward

    @property
    def return_sequences(self) -> bool:
        return self._forward.return_sequences

    @property
    def return_state(self) -> bool:
        return self._forward.return_state

    def children(self):
        return [
            (self._forward.scope_name, self._forward),
            (self._backward.scope_name, self._backward),
        ]

    def check_input(self, spec, *rest):
        del rest
        self._forward.check_input(spec)

    def build(self, key, spec, *rest):
        del rest
        params, state = {}, {}
        for name, layer in self.children():
            p, s = layer.init(naming.child_key(key, name), spec)
            if not is_empty(p):
                params[name] = p
            if not is_empty(s):
                state[name] = s
        return params, state

    def call(
        self, params, state, sequences, *, key, training, mask=None, initial_state=None
    ):
        if initial_state is not None:
            if not isinstance(initial_state, (list, tuple)) or len(initial_state) % 2:
                raise ValueError(
                    f"{self.describe()}: initial_state must be a list of the forward states followed by the "
                    f"backward states (an even number), got {jax.tree.map(lambda a: shape_str(a.shape), initial_state)}."
                )
            half = len(initial_state) // 2
            initials = (list(initial_state[:half]), list(initial_state[half:]))
        else:
            initials = (None, None)
        outs, new_state = [], dict(state)
        for (name, layer), initial in zip(self.children(), initials):
            kwargs = {"mask": mask}
            if initial is not None:
                kwargs["initial_state"] = initial
            y, s = layer.apply(
                params.get(name, {}),
                state.get(name, {}),
                sequences,
                key=naming.child_key(key, name),
                training=training,
                **kwargs,
            )
            if not is_empty(s) or name in new_state:
                new_state[name] = s
            outs.append(y)
        y, y_rev = outs
        states = ()
        if self.return_state:
            states = (*y[1:], *y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = jnp.flip(y_rev, axis=1)
        if self.merge_mode == "concat":
            out = (jnp.concatenate([y, y_rev], axis=-1),)
        elif self.merge_mode == "sum":
            out = (y + y_rev,)
        elif self.merge_mode == "ave":
            out = ((y + y_rev) / 2,)
        elif self.merge_mode == "mul":
            out = (y * y_rev,)
        else:
            out = (y, y_rev)
        if self.return_state or self.merge_mode is None:
            return (*out, *states), new_state
        return out[0], new_state

    def compute_mask(self, sequences, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = jax.tree.leaves(mask)[0] if jax.tree.leaves(mask) else None
        output_mask = mask if self.return_sequences else None
        outputs = (
            (output_mask, output_mask) if self.merge_mode is None else (output_mask,)
        )
        if self.return_state:
            n = (
                num_states(self._forward.cell) + num_states(self._backward.cell)
                if hasattr(self._forward, "cell")
                else 0
            )
            return (*outputs, *([None] * n))
        return outputs if self.merge_mode is None else output_mask
