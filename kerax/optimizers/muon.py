"""Keras's `Muon`: Newton-Schulz orthogonalized momentum, AdamW for the rest.

Keras's Muon (3.15) picks a rule per variable from its *path* and rank:

- a variable that is not 2-D (biases, scalars, conv kernels) uses AdamW;
- with `exclude_embeddings=True` (default), one whose path contains
  "embedding" (any case) uses AdamW;
- one whose path matches (`re.search`) any pattern in `exclude_layers` uses
  AdamW;
- every other variable uses the Muon step: `m = momentum * m + g`, the
  (Nesterov) momentum orthogonalized by `ns_steps` quintic Newton-Schulz
  iterations (`muon_a`, `muon_b`, `muon_c`), scaled by
  `sqrt(max(rows, cols)) * rms_rate` (Moonlight's RMS matching; none with
  `rms_rate=None`).

kerax params are nested dicts keyed by Keras's variable paths, so the path
of `params["dense"]["kernel"]` is `"dense/kernel"` (the keys of the tree
joined by "/"). It starts at the model's own layers: Keras prefixes a
Sequential model's variables with the model's name
(`"sequential/dense/kernel"`), kerax's params tree does not, so anchor
`exclude_layers` patterns on layer names (`"output_dense"`), not on the
model name.

Weight decay is decoupled and scaled by the learning rate, as in Keras:
`weight_decay` for Muon variables, `adam_weight_decay` for AdamW ones (each
may be None); the AdamW step runs at `learning_rate * adam_lr_ratio`.
"""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp

from kerax.optimizers.adam_family import _adam_moments, _adam_step_size
from kerax.optimizers.base import (
    _F32,
    KerasOptimizer,
    Rule,
    _build,
    _check_number,
    _path,
    _step,
)

__all__ = ["Muon", "muon_labels"]


def _uses_adamw(path: str, shape, exclude_embeddings: bool, patterns) -> bool:
    # Keras's `Muon._should_use_adamw`, on the params-tree path.
    if len(shape) != 2:
        return True
    if exclude_embeddings and "embedding" in path.lower():
        return True
    return any(p.search(path) for p in patterns)


def _zeropower_via_newtonschulz5(x, steps: int, a: float, b: float, c: float):
    """Keras's `Muon.zeropower_via_newtonschulz5`, operation for operation."""
    transpose = x.shape[-2] > x.shape[-1]
    if transpose:
        x = jnp.swapaxes(x, -1, -2)
    # Spectral norm at most 1 (the Frobenius norm bounds it).
    x = x / (jnp.linalg.norm(x, axis=(-2, -1), keepdims=True) + 1e-7)
    for _ in range(steps):
        temp_a = x @ jnp.swapaxes(x, -1, -2)
        temp_b = b * temp_a + (c * temp_a) @ temp_a
        x = a * x + temp_b @ x
    if transpose:
        x = jnp.swapaxes(x, -1, -2)
    return x


def _compile_patterns(exclude_layers):
    if exclude_layers is None:
        return []
    if isinstance(exclude_layers, str) or not isinstance(exclude_layers, (list, tuple)):
        raise ValueError(
            "Argument `exclude_layers` must be a list of strings (regular "
            "expressions searched in each variable's path, e.g. "
            f"['output_dense']). Received: exclude_layers={exclude_layers!r}"
        )
    patterns = []
    for keyword in exclude_layers:
        if not isinstance(keyword, str):
            raise ValueError(
                "Argument `exclude_layers` must hold strings. Received an "
                f"element {keyword!r} in exclude_layers={exclude_layers!r}"
            )
        try:
            patterns.append(re.compile(keyword))
        except re.error as e:
            raise ValueError(
                f"Argument `exclude_layers` holds {keyword!r}, which is not a "
                f"valid regular expression: {e}"
            ) from None
    return patterns


def muon_labels(params, exclude_layers=None, exclude_embeddings=True):
    """Which rule `Muon` gives each param: a tree of "muon" / "adamw".

    The same decision the optimizer makes (see the module doc), for
    inspection, e.g. before training to check `exclude_layers`.

    Example:
        >>> import jax.numpy as jnp
        >>> params = {"embedding": {"embeddings": jnp.zeros((10, 4))},
        ...           "dense": {"kernel": jnp.zeros((4, 3)), "bias": jnp.zeros(3)}}
        >>> muon_labels(params)
        {'dense': {'bias': 'adamw', 'kernel': 'muon'}, 'embedding': {'embeddings': 'adamw'}}
    """
    patterns = _compile_patterns(exclude_layers)
    return jax.tree_util.tree_map_with_path(
        lambda path, p: (
            "adamw"
            if _uses_adamw(_path(path), jnp.shape(p), exclude_embeddings, patterns)
            else "muon"
        ),
        params,
    )


def Muon(
    learning_rate=0.001,
    adam_beta_1=0.9,
    adam_beta_2=0.999,
    adam_weight_decay=0.004,
    epsilon=1e-7,
    weight_decay=0.004,
    clipnorm=None,
    clipvalue=None,
    global_clipnorm=None,
    use_ema=False,
    ema_momentum=0.99,
    ema_overwrite_frequency=None,
    loss_scale_factor=None,
    gradient_accumulation_steps=None,
    name=None,
    exclude_layers=None,
    exclude_embeddings=True,
    muon_a=3.4445,
    muon_b=-4.7750,
    muon_c=2.0315,
    adam_lr_ratio=1,
    momentum=0.95,
    ns_steps=5,
    nesterov=True,
    rms_rate=0.2,
) -> KerasOptimizer:
    """Muon (Jordan et al., 2024; Liu et al., 2025), as Keras's `Muon`.

    Matrices (2-D params) get the Muon step, everything else, embeddings
    and `exclude_layers` get AdamW; see the module doc for the rules and how
    paths are read from the params tree (`muon_labels` shows the choice).

    Muon step: `m = momentum * m + g`; `u = NS5(g + momentum * m)` (or
    `NS5(m)` with `nesterov=False`); `w -= lr * u * sqrt(max(rows, cols)) *
    rms_rate`. AdamW step: Keras's Adam with `adam_beta_1`, `adam_beta_2`,
    `epsilon` at `lr * adam_lr_ratio`. Decay before either step:
    `w -= w * wd * lr`, `wd` being `weight_decay` (Muon) or
    `adam_weight_decay` (AdamW).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> tx = Muon(learning_rate=0.01, exclude_layers=["output"])
        >>> params = {"dense": {"kernel": jnp.ones((4, 3)), "bias": jnp.zeros(3)}}
        >>> updates, state = jax.jit(tx.update)(params, tx.init(params), params)
    """
    args = dict(locals())
    patterns = _compile_patterns(exclude_layers)
    args["exclude_layers"] = list(exclude_layers or [])
    _check_number(
        "ns_steps", ns_steps, low=0, integer=True
    )  # Newton-Schulz iterations.
    _check_number("momentum", momentum, low=0, high=1)
    _check_number("rms_rate", rms_rate, allow_none=True, low=0, strict=("low",))
    _check_number("weight_decay", weight_decay, allow_none=True)
    _check_number("adam_weight_decay", adam_weight_decay, allow_none=True)
    _check_number("adam_lr_ratio", adam_lr_ratio)
    for arg in ("adam_beta_1", "adam_beta_2"):
        _check_number(arg, args[arg], low=0, high=1, strict=("high",))
    a, b, c = float(muon_a), float(muon_b), float(muon_c)
    mu = float(momentum)

    def labels(tree):
        # True where the AdamW step applies; None where the tree has no leaf.
        return jax.tree_util.tree_map_with_path(
            lambda path, x: _uses_adamw(
                _path(path), jnp.shape(x), exclude_embeddings, patterns
            ),
            tree,
        )

    def init(params):
        adamw = labels(params)
        return {
            "momentum": jax.tree.map(jnp.zeros_like, params),
            # Keras keeps a velocity for the AdamW variables only.
            "velocity": jax.tree.map(
                lambda p, use: jnp.zeros_like(p) if use else None, params, adamw
            ),
        }

    def adamw_leaf(g, m, v, alpha):
        # Keras's `_adamw_update_step`, with Adam's arithmetic. Keras casts
        # the betas to the variable's dtype first (in bfloat16, 0.999 -> 1.0:
        # no update ever); the scalars here stay float32 as in kerax's Adam,
        # which for float32 variables is Keras's arithmetic exactly.
        m, v = _adam_moments(g.astype(m.dtype), m, v, adam_beta_1, adam_beta_2)
        return -((m * alpha.astype(m.dtype)) / (jnp.sqrt(v) + epsilon)), m, v

    def muon_leaf(g, m, lr):
        m = m + (g + m * (mu - 1))
        g = g + mu * m if nesterov else m
        update = lr * _zeropower_via_newtonschulz5(g, ns_steps, a, b, c)
        if rms_rate is not None:
            scale = jnp.sqrt(jnp.asarray(max(update.shape[0], update.shape[1]), _F32))
            update = update * scale * rms_rate
        return -update, m

    def update(grads, slots, params, lr, iterations):
        alpha = _adam_step_size(
            lr * adam_lr_ratio, adam_beta_1, adam_beta_2, _step(iterations)
        )
        leaves, treedef = jax.tree_util.tree_flatten_with_path(grads)
        ms = treedef.flatten_up_to(slots["momentum"])
        vs = treedef.flatten_up_to(slots["velocity"])
        ps = treedef.flatten_up_to(params) if params is not None else [None] * len(ms)
        deltas, new_m, new_v = [], [], []
        for (path, g), m, v, p in zip(leaves, ms, vs, ps):
            use_adamw = _uses_adamw(_path(path), g.shape, exclude_embeddings, patterns)
            if use_adamw:
                delta, m, v = adamw_leaf(g, m, v, alpha)
            else:
                delta, m = muon_leaf(g, m, lr)
            # Keras's `Muon._apply_weight_decay`, before the step (which does
            # not read the variable, so the decay just adds up).
            wd = adam_weight_decay if use_adamw else weight_decay
            if wd is not None:
                delta = -(p * jnp.asarray(wd, p.dtype) * lr.astype(p.dtype)) + delta
            deltas.append(delta)
            new_m.append(m)
            new_v.append(v)
        return treedef.unflatten(deltas), {
            "momentum": treedef.unflatten(new_m),
            "velocity": treedef.unflatten(new_v),
        }

    needs_params = weight_decay is not None or adam_weight_decay is not None
    # The base's single `weight_decay` is replaced by the per-variable decay
    # above; the config still reports Keras's `weight_decay`.
    tx = _build(
        "Muon", Rule(init, update, needs_params), {**args, "weight_decay": None}
    )
    tx.config = {**tx.config, "weight_decay": weight_decay}
    return tx
