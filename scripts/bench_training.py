"""Training throughput and compile time: kerax vs a hand-written loop vs Keras.

Side by side in one process, interleaved rounds (each round runs one epoch of
every variant, each right after an epoch of the hand loop, so machine noise
hits the pair alike), same synthetic data and architecture in every
framework:

- `hand`: a hand-written `jax.jit` + optax Adam step (params and optimizer
  state donated) over the kerax model's `apply`, batches gathered with NumPy;
  the kerax variants get the same `optax.adam` (`--optimizer keras`: kerax's
  Keras-exact Adam instead);
- `kerax-step`: `kerax.training.make_train_step` called in a Python loop;
- `kerax-fit-auto`: `kerax.Trainer.fit` with its defaults
  (`steps_per_execution="auto"`: kerax measures and fuses where it wins);
- `kerax-fit-K1`: `Trainer.fit`, `steps_per_execution=1`;
- `kerax-fit-K`: `Trainer.fit` with `steps_per_execution=K` for each K given,
  kerax choosing scan fusion or not (reported);
- `hand-scan-K` (tiny MLP): the hand-written step fused K at a time with
  `lax.scan`, the floor for `kerax-fit-K`;
- `keras-fit`: Keras 3 `fit` on the JAX backend (`jit_compile=True`).

Models: a tiny MLP 16-32-4 (`tiny16`: batch 64, 1,600 steps an epoch), a
tiny MLP 32-32-32-10 (batch 32, dispatch-bound), an MLP
784-512-512-10 (b128), a CNN conv32-pool-conv64-pool-dense128-dense10 on
28x28x1 (b128), a transformer block (len 64, dim 128, 4 heads, FF 512; b32);
and three more whose steps carry what the five do not, all dispatch-bound:
`dropout` (32-64, BatchNormalization, Dropout 0.3, -10; b32: layer state and
a key every step; the hand loop carries both), `lstm` (Embedding 1000x32,
LSTM 32, Dense 10 over 20 tokens; b32: a scan inside the step) and `embed`
(Embedding 5000x16, average pooling, Dense 16, Dense 10 over 50 tokens; b64:
a scatter-add gradient).

Printed per model: steps/s (best round), the speed relative to `hand` (the
median over rounds of the time ratio of an epoch of the variant and the
hand loop's epoch just before it), and the first-step time (trace + compile
+ one step, median over fresh builds) of each variant; and the leaves one
call of the compiled step takes and returns, kerax's against the hand
loop's.

    python scripts/bench_training.py                # all models, 5 rounds
    python scripts/bench_training.py --models tiny16 --optimizer keras
    python scripts/bench_training.py --models tiny,mlp --rounds 5 --k 8,32

On a loaded machine read the ratios, not the absolute numbers. For models
whose XLA temp buffers exceed 32 MiB, glibc malloc costs every framework
alike; `LD_PRELOAD=libjemalloc.so.2` removes that (see performance.md).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jax  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

import kerax  # noqa: E402
import kerax.losses  # noqa: E402
from kerax import layers as L  # noqa: E402
from kerax.training import Trainer, make_train_step  # noqa: E402

# name: (input shape, batch size, steps per epoch)
MODELS = {
    "tiny16": ((16,), 64, 1600),
    "tiny": ((32,), 32, 400),
    "mlp": ((784,), 128, 60),
    "cnn": ((28, 28, 1), 128, 8),
    "transformer": ((64, 128), 32, 8),
    # Beyond the five: state and randomness in the step, a recurrent
    # scan, and an embedding gradient (a scatter-add), all dispatch-bound.
    "dropout": ((32,), 32, 800),
    "lstm": ((20,), 32, 100),
    "embed": ((50,), 64, 200),
}
# Token models: inputs are ids below VOCAB[name].
VOCAB = {"lstm": 1000, "embed": 5000}


def kerax_model(name):
    shape = MODELS[name][0]
    if name in ("dropout", "lstm", "embed"):
        return _extra_model(kerax, L, name)
    if name == "tiny16":
        return kerax.Sequential(
            [kerax.Input(shape), L.Dense(32, activation="relu"), L.Dense(4)]
        )
    if name == "tiny":
        return kerax.Sequential(
            [
                kerax.Input(shape),
                L.Dense(32, activation="relu"),
                L.Dense(32, activation="relu"),
                L.Dense(10),
            ]
        )
    if name == "mlp":
        return kerax.Sequential(
            [
                kerax.Input(shape),
                L.Dense(512, activation="relu"),
                L.Dense(512, activation="relu"),
                L.Dense(10),
            ]
        )
    if name == "cnn":
        return kerax.Sequential(
            [
                kerax.Input(shape),
                L.Conv2D(32, 3, activation="relu"),
                L.MaxPooling2D(2),
                L.Conv2D(64, 3, activation="relu"),
                L.MaxPooling2D(2),
                L.Flatten(),
                L.Dense(128, activation="relu"),
                L.Dense(10),
            ]
        )
    x = kerax.Input(shape)
    a = L.MultiHeadAttention(num_heads=4, key_dim=32)(x, x)
    h = L.LayerNormalization()(L.Add()([x, a]))
    f = L.Dense(128)(L.Dense(512, activation="relu")(h))
    h = L.LayerNormalization()(L.Add()([h, f]))
    return kerax.Model(x, L.Dense(10)(L.GlobalAveragePooling1D()(h)))


def keras_model(name):
    import keras
    from keras import layers as KL

    shape = MODELS[name][0]
    if name in ("dropout", "lstm", "embed"):
        return _extra_model(keras, KL, name)
    if name == "tiny16":
        return keras.Sequential(
            [keras.Input(shape), KL.Dense(32, activation="relu"), KL.Dense(4)]
        )
    if name == "tiny":
        return keras.Sequential(
            [
                keras.Input(shape),
                KL.Dense(32, activation="relu"),
                KL.Dense(32, activation="relu"),
                KL.Dense(10),
            ]
        )
    if name == "mlp":
        return keras.Sequential(
            [
                keras.Input(shape),
                KL.Dense(512, activation="relu"),
                KL.Dense(512, activation="relu"),
                KL.Dense(10),
            ]
        )
    if name == "cnn":
        return keras.Sequential(
            [
                keras.Input(shape),
                KL.Conv2D(32, 3, activation="relu"),
                KL.MaxPooling2D(2),
                KL.Conv2D(64, 3, activation="relu"),
                KL.MaxPooling2D(2),
                KL.Flatten(),
                KL.Dense(128, activation="relu"),
                KL.Dense(10),
            ]
        )
    x = keras.Input(shape)
    a = KL.MultiHeadAttention(num_heads=4, key_dim=32)(x, x)
    h = KL.LayerNormalization()(KL.Add()([x, a]))
    f = KL.Dense(128)(KL.Dense(512, activation="relu")(h))
    h = KL.LayerNormalization()(KL.Add()([h, f]))
    return keras.Model(x, KL.Dense(10)(KL.GlobalAveragePooling1D()(h)))


def _extra_model(lib, layers, name):
    # The same code builds the kerax and the Keras model.
    shape = MODELS[name][0]
    if name == "dropout":
        body = [
            layers.Dense(64),
            layers.BatchNormalization(),
            layers.Activation("relu"),
            layers.Dropout(0.3),
        ]
    elif name == "lstm":
        body = [layers.Embedding(VOCAB[name], 32), layers.LSTM(32)]
    else:
        body = [
            layers.Embedding(VOCAB[name], 16),
            layers.GlobalAveragePooling1D(),
            layers.Dense(16, activation="relu"),
        ]
    return lib.Sequential([lib.Input(shape), *body, layers.Dense(10)])


def data(name, seed=0):
    shape, batch, steps = MODELS[name]
    n = batch * steps
    rng = np.random.default_rng(seed)
    classes = 4 if name == "tiny16" else 10
    if name in VOCAB:
        x = rng.integers(0, VOCAB[name], size=(n, *shape)).astype(np.int32)
    else:
        x = rng.normal(size=(n, *shape)).astype(np.float32)
    return x, rng.integers(0, classes, n).astype(np.int32)


LOSS = kerax.losses.SparseCategoricalCrossentropy(from_logits=True)
# kerax's optimizer for the kerax variants: "optax" is the very `optax.adam`
# the hand-written loop uses (framework overhead alone); "keras" is kerax's
# Keras-exact Adam (what `optimizer="adam"` gives).
OPTIMIZER = {"kind": "optax"}


def kerax_optimizer():
    return optax.adam(1e-3) if OPTIMIZER["kind"] == "optax" else "adam"


# ---------------------------------------------------------------- variants
# Each variant: `first()` -> seconds for the first step (compile included);
# `epoch(r)` runs one epoch (shuffled with seed r) and waits for the device.


class Hand:
    label = "hand"

    def __init__(self, name, x, y):
        self.x, self.y, self.batch = x, y, MODELS[name][1]
        model = kerax_model(name)
        params, state = model.init(jax.random.key(0), model.input_spec)
        tx = optax.adam(1e-3)
        # BatchNormalization and Dropout: the hand loop carries the layer
        # state and a key (split every step), as one written by hand would.
        stateful = bool(jax.tree.leaves(state))

        def step(weights, opt_state, xb, yb):
            params, state_, key = weights if stateful else (weights, state, None)
            if stateful:
                key, key_ = jax.random.split(key)

            def loss_fn(p):
                logits, new_state = model.apply(
                    p, state_, xb, training=True, key=key_ if stateful else None
                )
                loss = optax.softmax_cross_entropy_with_integer_labels(logits, yb)
                return loss.mean(), new_state

            (loss, new_state), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
            updates, opt_state = tx.update(grads, opt_state, params)
            params = optax.apply_updates(params, updates)
            weights = (params, new_state, key) if stateful else params
            return weights, opt_state, loss

        self.step_fn = step  # Unjitted, for HandScan's loop body.
        self.step = jax.jit(step, donate_argnums=(0, 1))
        self.opt_state = tx.init(params)
        self.params = (params, state, jax.random.key(1)) if stateful else params

    def first(self):
        t = time.perf_counter()
        self.params, self.opt_state, loss = self.step(
            self.params, self.opt_state, self.x[: self.batch], self.y[: self.batch]
        )
        jax.block_until_ready(loss)
        return time.perf_counter() - t

    def epoch(self, r):
        b, x, y = self.batch, self.x, self.y
        perm = np.random.default_rng(r).permutation(len(x))
        p, o = self.params, self.opt_state
        for i in range(len(x) // b):
            idx = perm[i * b : (i + 1) * b]
            p, o, loss = self.step(p, o, x[idx], y[idx])
        jax.block_until_ready(p)
        self.params, self.opt_state = p, o


class HandScan(Hand):
    """The hand-written step fused K at a time with `lax.scan`: the floor for
    `kerax-fit-K` (the same XLA while loop, written by hand)."""

    def __init__(self, name, x, y, k):
        super().__init__(name, x, y)
        self.label, self.k = f"hand-scan-K{k}", k
        step = self.step_fn

        def body(carry, batch):
            params, opt_state, loss = step(*carry, *batch)
            return (params, opt_state), loss

        self.fused = jax.jit(
            lambda c, batches: jax.lax.scan(body, c, batches), donate_argnums=(0,)
        )

    def first(self):
        b, k = self.batch, self.k
        batches = (
            self.x[: k * b].reshape((k, b) + self.x.shape[1:]),
            self.y[: k * b].reshape((k, b) + self.y.shape[1:]),
        )
        t = time.perf_counter()
        (self.params, self.opt_state), loss = self.fused(
            (self.params, self.opt_state), batches
        )
        jax.block_until_ready(loss)
        return time.perf_counter() - t

    def epoch(self, r):
        b, k, x, y = self.batch, self.k, self.x, self.y
        perm = np.random.default_rng(r).permutation(len(x))
        carry = (self.params, self.opt_state)
        steps = len(x) // b
        for i in range(0, steps - steps % k, k):
            idx = perm[i * b : (i + k) * b]
            batches = (
                x[idx].reshape((k, b) + x.shape[1:]),
                y[idx].reshape((k, b) + y.shape[1:]),
            )
            carry, loss = self.fused(carry, batches)
        for i in range(steps - steps % k, steps):  # The remainder, one by one.
            idx = perm[i * b : (i + 1) * b]
            carry = self.step(*carry, x[idx], y[idx])[:2]
        jax.block_until_ready(carry)
        self.params, self.opt_state = carry


class KeraxStep:
    label = "kerax-step"

    def __init__(self, name, x, y):
        self.x, self.y, self.batch = x, y, MODELS[name][1]
        self.step = make_train_step(kerax_model(name), LOSS, kerax_optimizer())
        self.ts = self.step.init(jax.random.key(0))

    def first(self):
        t = time.perf_counter()
        self.ts, logs = self.step(self.ts, (self.x[: self.batch], self.y[: self.batch]))
        jax.block_until_ready(logs)
        return time.perf_counter() - t

    def epoch(self, r):
        b, x, y, step = self.batch, self.x, self.y, self.step
        perm = np.random.default_rng(r).permutation(len(x))
        ts = self.ts
        for i in range(len(x) // b):
            idx = perm[i * b : (i + 1) * b]
            ts, logs = step(ts, (x[idx], y[idx]))
        jax.block_until_ready(ts)
        self.ts = ts


class KeraxFit:
    def __init__(self, name, x, y, k=1):
        self.label = f"kerax-fit-{k}" if k == "auto" else f"kerax-fit-K{k}"
        self.x, self.y, self.batch = x, y, MODELS[name][1]
        self.trainer = Trainer(
            kerax_model(name), kerax_optimizer(), LOSS, steps_per_execution=k
        )
        self.ts = self.trainer.init()

    def first(self):
        t = time.perf_counter()
        self.ts, _ = self.trainer.fit(
            self.ts,
            self.x[: self.batch],
            self.y[: self.batch],
            batch_size=self.batch,
            verbose=0,
        )
        jax.block_until_ready(self.ts)
        return time.perf_counter() - t

    def epoch(self, r):
        self.trainer.seed = r
        self.ts, _ = self.trainer.fit(
            self.ts, self.x, self.y, batch_size=self.batch, epochs=1, verbose=0
        )
        jax.block_until_ready(self.ts)

    def note(self):
        if self.trainer.steps_per_execution == 1:
            return ""
        return f"fusion={self.trainer.fusion}"


class KerasFit:
    label = "keras-fit"

    def __init__(self, name, x, y):
        import keras

        self.x, self.y, self.batch = x, y, MODELS[name][1]
        self.model = keras_model(name)
        self.model.compile(
            optimizer=keras.optimizers.Adam(1e-3),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            jit_compile=True,
        )

    def first(self):
        t = time.perf_counter()
        self.model.fit(
            self.x[: self.batch],
            self.y[: self.batch],
            batch_size=self.batch,
            epochs=1,
            verbose=0,
        )
        return time.perf_counter() - t

    def epoch(self, r):
        del r
        self.model.fit(
            self.x, self.y, batch_size=self.batch, epochs=1, verbose=0, shuffle=True
        )


def make_variants(name, x, y, ks, with_keras):
    variants = [
        Hand(name, x, y),
        KeraxStep(name, x, y),
        KeraxFit(name, x, y, "auto"),
        KeraxFit(name, x, y),
    ]
    variants += [KeraxFit(name, x, y, k) for k in ks]
    if name.startswith("tiny"):  # Where fusion pays: its hand-written floor.
        variants += [HandScan(name, x, y, k) for k in ks]
    if with_keras:
        variants.append(KerasFit(name, x, y))
    return variants


def run_model(name, rounds, ks, with_keras, first_repeats=3):
    x, y = data(name)
    steps = len(x) // MODELS[name][1]
    # First-step times (trace + compile + one step) swing by 20% from one
    # build to the next: each is the median over fresh builds, in turn.
    firsts = {}
    for _ in range(first_repeats - 1):
        for v in make_variants(name, x, y, ks, with_keras):
            firsts.setdefault(v.label, []).append(v.first())
    variants = make_variants(name, x, y, ks, with_keras)
    for v in variants:
        firsts.setdefault(v.label, []).append(v.first())
    first = {k: statistics.median(t) for k, t in firsts.items()}
    for v in variants:  # Warm-up epoch: partial-batch shapes, fusion choice.
        v.epoch(1000)
    hand, others = variants[0], variants[1:]
    times = {v.label: [] for v in variants}
    pairs = {v.label: [] for v in variants}
    for r in range(rounds):
        # Each variant's epoch runs right after an epoch of the hand loop, in
        # an order that turns every round: the ratio of a pair cancels load
        # changes slower than two epochs (on a shared machine they swing a
        # single epoch by 2x); the median over rounds is reported.
        for v in others[r % len(others) :] + others[: r % len(others)]:
            pair = []
            for w in (hand, v):
                t = time.perf_counter()
                w.epoch(r)
                pair.append(time.perf_counter() - t)
                times[w.label].append(pair[-1])
            pairs[v.label].append(pair[0] / pair[1])
    pairs["hand"] = [1.0]
    rates = {k: steps / min(t) for k, t in times.items()}
    ratios = {k: statistics.median(p) for k, p in pairs.items()}
    print(
        f"\n## {name}  (batch {MODELS[name][1]}, {steps} steps/epoch, {rounds} rounds, "
        f"first step: median of {first_repeats} builds)"
    )
    print(f"{'variant':<16}{'steps/s':>10}{'vs hand':>9}{'first step (s)':>16}  note")
    for v in variants:
        note = v.note() if hasattr(v, "note") else ""
        print(
            f"{v.label:<16}{rates[v.label]:>10.1f}{ratios[v.label]:>9.2f}{first[v.label]:>16.2f}  {note}"
        )
    best_k = max(
        (v for v in variants if v.label.startswith("kerax-fit")),
        key=lambda v: ratios[v.label],
    )
    print(f"kerax fit, best K: {best_k.label} at {ratios[best_k.label]:.2f}x hand")
    print(leaf_counts(name, variants[0], variants[1]))
    return ratios, first


def leaf_counts(name, hand, kerax_step):
    """Leaves in and out of one call of each compiled step (each costs dispatch time)."""
    b = MODELS[name][1]
    xb, yb = hand.x[:b], hand.y[:b]
    hand_in = len(jax.tree.leaves((hand.params, hand.opt_state, xb, yb)))
    hand_out = len(
        jax.tree.leaves(
            jax.eval_shape(hand.step_fn, hand.params, hand.opt_state, xb, yb)
        )
    )
    k_in, k_out = kerax_step.step.leaf_counts(kerax_step.ts, (xb, yb))
    return (
        f"leaves per step call, in/out: hand {hand_in}/{hand_out}, "
        f"kerax step {k_in}/{k_out}"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="tiny,mlp,cnn,transformer")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--k", default="8,32", help="steps_per_execution values to try besides 1"
    )
    parser.add_argument(
        "--first-repeats",
        type=int,
        default=3,
        help="fresh builds whose first-step times give the median",
    )
    parser.add_argument("--no-keras", action="store_true")
    parser.add_argument(
        "--optimizer",
        choices=("optax", "keras"),
        default="optax",
        help="Adam of the kerax variants (see OPTIMIZER)",
    )
    args = parser.parse_args(argv)
    OPTIMIZER["kind"] = args.optimizer
    ks = [int(k) for k in args.k.split(",") if k.strip() and int(k) > 1]
    print(
        f"jax {jax.__version__} on {jax.default_backend()} ({jax.devices()[0].device_kind}); kerax {kerax.__version__}; kerax Adam: {args.optimizer}"
    )
    for name in args.models.split(","):
        run_model(name.strip(), args.rounds, ks, not args.no_keras, args.first_repeats)


if __name__ == "__main__":
    main()
