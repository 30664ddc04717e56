"""Forward+backward speed of Conv2D, LSTM and MultiHeadAttention, side by side.

Three implementations of each layer, timed in interleaved rounds in ONE
process (ratios are what count on a noisy machine):

- kerax: `layer.apply` under `jax.jit(jax.grad(...))`;
- hand-written JAX: the same math written directly with lax/jnp;
- Keras 3 (JAX backend): `layer.stateless_call` under the same jit+grad.

Prints median ms per step and the ratios kerax/hand and keras/kerax.
Target: kerax within 5% of hand-written JAX, never slower than Keras.

    python scripts/bench_layers.py [--rounds 7] [--small]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import kerax  # noqa: E402
from kerax import layers  # noqa: E402


def timeit(fn, *args, reps=5):
    jax.block_until_ready(fn(*args))
    start = time.perf_counter()
    for _ in range(reps):
        out = fn(*args)
    jax.block_until_ready(out)
    return (time.perf_counter() - start) / reps * 1e3


def kerax_step(layer, x, extra=()):
    params, state = layer.init(
        jax.random.key(0), *(kerax.spec(a.shape, a.dtype) for a in (x, *extra))
    )

    @jax.jit
    def step(p, x, *extra):
        return jax.grad(lambda p: jnp.sum(layer.apply(p, state, x, *extra)[0] ** 2))(p)

    return step, (params, x, *extra), params


def keras_step(keras_layer, x, extra=()):
    keras_layer(x, *extra)  # Build.
    tv = [v.value for v in keras_layer.trainable_variables]
    ntv = [v.value for v in keras_layer.non_trainable_variables]

    @jax.jit
    def step(tv, x, *extra):
        def loss(tv):
            y, _ = keras_layer.stateless_call(tv, ntv, x, *extra)
            return jnp.sum(y**2)

        return jax.grad(loss)(tv)

    return step, (tv, x, *extra)


# ------------------------------------------------------- hand-written JAX
def hand_conv(p, x):
    y = jax.lax.conv_general_dilated(
        x, p["kernel"], (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
    )
    return jax.nn.relu(y + p["bias"])


def hand_lstm(p, x):
    units = p["recurrent_kernel"].shape[0]
    xs = jnp.swapaxes(x @ p["kernel"] + p["bias"], 0, 1)

    def cell(carry, z):
        h, c = carry
        z = z + h @ p["recurrent_kernel"]
        i, f, g, o = jnp.split(z, 4, axis=-1)
        c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
        h = jax.nn.sigmoid(o) * jnp.tanh(c)
        return (h, c), None

    zeros = jnp.zeros((x.shape[0], units), x.dtype)
    (h, _), _ = jax.lax.scan(cell, (zeros, zeros), xs)
    return h


def hand_mha(p, x, heads):
    q = jnp.einsum("btd,dhk->bthk", x, p["query"]["kernel"]) + p["query"]["bias"]
    k = jnp.einsum("btd,dhk->bthk", x, p["key"]["kernel"]) + p["key"]["bias"]
    v = jnp.einsum("btd,dhk->bthk", x, p["value"]["kernel"]) + p["value"]["bias"]
    o = jax.nn.dot_product_attention(q, k, v)
    return (
        jnp.einsum("bthk,hkd->btd", o, p["attention_output"]["kernel"])
        + p["attention_output"]["bias"]
    )


def hand_step(fn, params, x):
    step = jax.jit(lambda p, x: jax.grad(lambda p: jnp.sum(fn(p, x) ** 2))(p))
    return step, (params, x)


def cases(small: bool):
    import keras

    rng = np.random.default_rng(0)
    b = 8 if small else 32
    img = rng.standard_normal((b, 16 if small else 32, 16 if small else 32, 16)).astype(
        np.float32
    )
    seq = rng.standard_normal((b, 20 if small else 50, 64)).astype(np.float32)
    tok = rng.standard_normal((b // 2, 32 if small else 64, 128)).astype(np.float32)

    conv = layers.Conv2D(32, 3, padding="same", activation="relu")
    step, args, params = kerax_step(conv, img)
    yield (
        "Conv2D 3x3x16->32",
        (step, args),
        hand_step(hand_conv, params, img),
        keras_step(keras.layers.Conv2D(32, 3, padding="same", activation="relu"), img),
    )

    lstm = layers.LSTM(128)
    step, args, params = kerax_step(lstm, seq)
    hp = params["lstm_cell"]  # Keras's nesting: lstm/lstm_cell/kernel.
    yield (
        "LSTM 64->128",
        (step, args),
        hand_step(hand_lstm, hp, seq),
        keras_step(keras.layers.LSTM(128), seq),
    )

    mha = layers.MultiHeadAttention(num_heads=4, key_dim=32)
    step, args, params = kerax_step(mha, tok, (tok,))
    yield (
        "MHA 4x32 on 128",
        (step, args),
        hand_step(lambda p, x: hand_mha(p, x, 4), params, tok),
        keras_step(
            keras.layers.MultiHeadAttention(num_heads=4, key_dim=32), tok, (tok,)
        ),
    )


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--small", action="store_true", help="small sizes (a quick check)")
    args = ap.parse_args(argv)
    print(
        f"{'layer':<20} {'kerax ms':>9} {'hand ms':>9} {'keras ms':>9} {'kerax/hand':>11} {'keras/kerax':>12}"
    )
    for name, kx, hand, ks in cases(args.small):
        times = {"kerax": [], "hand": [], "keras": []}
        for _ in range(args.rounds):  # Interleaved rounds: the noise hits all three.
            for label, (fn, fargs) in (("kerax", kx), ("hand", hand), ("keras", ks)):
                times[label].append(timeit(fn, *fargs))
        med = {k: statistics.median(v) for k, v in times.items()}
        print(
            f"{name:<20} {med['kerax']:9.2f} {med['hand']:9.2f} {med['keras']:9.2f} {med['kerax'] / med['hand']:11.3f} {med['keras'] / med['kerax']:12.3f}"
        )


if __name__ == "__main__":
    main()
