"""What one call of a small jitted step costs on the CPU, apart from its math.

Two measurements behind `docs/performance.md` ("What a step carries"):

1. `leaves`: a trivial donated program over N float32[32] leaves in and
   out, for N = 10..40: the slope is the dispatch cost of one leaf.
2. `batches`: kerax's compiled train step (`TrainStep.jitted`) against the
   bench's hand-written step on the same model, fed (a) batches gathered
   beforehand, (b) batches gathered with `x[idx]` just before each call,
   (c) as (b) but waiting for every step.

Times are per step, min / 10th percentile / median over blocks of 50 calls
that alternate between the variants.

    python scripts/bench_dispatch.py                 # both, the tiny MLP
    python scripts/bench_dispatch.py --model embed --blocks 100
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_training as bench  # noqa: E402  (sets KERAS_BACKEND and the path)
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

CALLS = 50


def summary(times) -> str:
    p10 = statistics.quantiles(times, n=10)[0]
    return f"min {min(times):6.1f}  p10 {p10:6.1f}  median {statistics.median(times):6.1f} us"


def alternate(variants: dict, blocks: int) -> None:
    times = {name: [] for name in variants}
    for _ in range(blocks):
        for name, run in variants.items():
            times[name].append(run())
    for name, t in times.items():
        print(f"  {name:<36}{summary(t)}")


def leaves(blocks: int) -> None:
    print("one donated call over N float32[32] leaves in and out:")
    variants = {}
    for n in (10, 20, 30, 40):

        @functools.partial(jax.jit, donate_argnums=(0,))
        def plus_one(xs):
            return [x + 1 for x in xs]

        state = {"xs": plus_one([jnp.zeros((32,)) for _ in range(n)])}

        def run(f=plus_one, state=state):
            t = time.perf_counter()
            for _ in range(CALLS):
                state["xs"] = f(state["xs"])
            jax.block_until_ready(state["xs"])
            return (time.perf_counter() - t) / CALLS * 1e6

        variants[f"N={n}"] = run
    alternate(variants, blocks)


def batches(name: str, blocks: int) -> None:
    b = bench.MODELS[name][1]
    x, y = bench.data(name)
    hand, kerax_step = bench.Hand(name, x, y), bench.KeraxStep(name, x, y)
    hand.first(), kerax_step.first()
    jitted = kerax_step.step.jitted
    perm = np.random.default_rng(0).permutation(len(x))
    made = [
        (x[perm[i * b : (i + 1) * b]], y[perm[i * b : (i + 1) * b]])
        for i in range(CALLS)
    ]

    def gathered(i):
        idx = perm[i * b : (i + 1) * b]
        return x[idx], y[idx]

    def hand_run(source, wait):
        def run():
            p, o = hand.params, hand.opt_state
            t = time.perf_counter()
            for i in range(CALLS):
                p, o, _ = hand.step(p, o, *source(i))
                if wait:
                    jax.block_until_ready(p)
            jax.block_until_ready(p)
            hand.params, hand.opt_state = p, o
            return (time.perf_counter() - t) / CALLS * 1e6

        return run

    def kerax_run(source, wait):
        def run():
            ts = kerax_step.ts
            t = time.perf_counter()
            for i in range(CALLS):
                ts = jitted(ts, source(i))
                if wait:
                    jax.block_until_ready(ts)
            jax.block_until_ready(ts)
            kerax_step.ts = ts
            return (time.perf_counter() - t) / CALLS * 1e6

        return run

    print(
        f"{name}: one train step (batch {b}), kerax's compiled step against the hand loop's:"
    )
    variants = {}
    for label, source, wait in (
        ("batches made beforehand", made.__getitem__, False),
        ("x[idx] before each call", gathered, False),
        ("x[idx], waiting each step", gathered, True),
    ):
        variants[f"hand, {label}"] = hand_run(source, wait)
        variants[f"kerax, {label}"] = kerax_run(source, wait)
    alternate(variants, blocks)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="tiny", choices=sorted(bench.MODELS))
    parser.add_argument("--blocks", type=int, default=100)
    parser.add_argument("--only", choices=("leaves", "batches"))
    args = parser.parse_args(argv)
    print(f"jax {jax.__version__} on {jax.default_backend()}")
    if args.only != "batches":
        leaves(args.blocks)
    if args.only != "leaves":
        batches(args.model, args.blocks)


if __name__ == "__main__":
    main()
