"""Where mixed_bfloat16 moves the reference model's gradients: per network and per layer.

``bf16_quality.py`` finds bf16 training's FCD somewhat worse at equal steps; this asks which
network's arithmetic is responsible, without training. It loads one trained reference run (the
same weights into float32 and bf16 copies of both networks), then on ``--batches`` real batches
and noise computes the generator's and the critic's gradients of the trainer's losses in four
set-ups: everything float32 (the yardstick), everything bf16, bf16 in the generator only, bf16
in the critic only. It prints each set-up's relative error against float32,
``|g - g32| / |g32|`` over all of a network's weights (and the worst layer's), beside the
minibatch noise of the same gradient (float32, one batch against the next): an error well below
that noise is lost among the noise SGD already has::

    python benchmarks/bf16_gradients.py /tmp/q/float32-s0 [--batches 8]

The critic runs without dropout (``training=False``) so that the set-ups see the same network;
the generator's batch normalisation uses batch statistics, as in training. Seconds to run.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import numpy as np

SETUPS = {  # name: (generator precision, critic precision)
    "bf16 both": ("mixed_bfloat16", "mixed_bfloat16"),
    "bf16 generator only": ("mixed_bfloat16", "float32"),
    "bf16 critic only": ("float32", "mixed_bfloat16"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run_dir", type=Path, help="a finished reference (seed preset) run")
    parser.add_argument("--batches", type=int, default=8)
    parser.add_argument("--layers", action="store_true", help="print every layer's error")
    args = parser.parse_args()

    import tensorflow as tf

    from korean_gan.data.dataset import load_dataset
    from korean_gan.models.networks import build_discriminator, build_generator
    from korean_gan.training.distribute import dtype_policy
    from korean_gan.training.losses import get_losses
    from korean_gan.training.trainer import build_gan, read_run_config

    config = read_run_config(args.run_dir)
    data = load_dataset(Path(config.data))
    gan = build_gan(config, data.image_size)
    manager = tf.train.CheckpointManager(
        tf.train.Checkpoint(generator=gan.generator, discriminator=gan.discriminator),
        str(args.run_dir / "checkpoints"), max_to_keep=None)
    if manager.latest_checkpoint is None:
        raise SystemExit(f"{args.run_dir}/checkpoints holds no checkpoint")
    manager.checkpoint.restore(manager.latest_checkpoint).expect_partial()
    g_loss_fn, d_loss_fn = get_losses(config.loss)

    def copies(precision):
        with dtype_policy(precision):
            g = build_generator(config.noise_dim, data.image_size)
            d = build_discriminator(data.image_size)
        g.set_weights(gan.generator.get_weights())
        d.set_weights(gan.discriminator.get_weights())
        return g, d

    nets = {p: copies(p) for p in ("float32", "mixed_bfloat16")}

    def gradients(g_precision, d_precision, real, noise):
        g, d = nets[g_precision][0], nets[d_precision][1]
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = g(noise, training=True)
            real_logits, fake_logits = d(real, training=False), d(fake, training=False)
            g_loss, d_loss = g_loss_fn(fake_logits), d_loss_fn(real_logits, fake_logits)
        return ([x.numpy() for x in g_tape.gradient(g_loss, g.trainable_variables)],
                [x.numpy() for x in d_tape.gradient(d_loss, d.trainable_variables)])

    def rel(a, b):
        return float(np.linalg.norm(a - b) / np.linalg.norm(b))

    def flat(grads):
        return np.concatenate([x.ravel() for x in grads])

    rng = np.random.default_rng(0)
    names = {"generator": [v.path for v in nets["float32"][0].trainable_variables],
             "critic": [v.path for v in nets["float32"][1].trainable_variables]}
    errors = {s: {"generator": [], "critic": []} for s in SETUPS}
    worst = {s: {"generator": {}, "critic": {}} for s in SETUPS}
    noise_rel = {"generator": [], "critic": []}
    previous = None
    for _ in range(args.batches):
        idx = rng.choice(len(data.images), config.batch_size, replace=False)
        real = tf.constant(data.images[idx, ..., None].astype(np.float32) / 127.5 - 1.0)
        noise = tf.constant(rng.standard_normal((config.batch_size, config.noise_dim),
                                                dtype=np.float32))
        base = gradients("float32", "float32", real, noise)
        if previous is not None:
            for i, net in enumerate(("generator", "critic")):
                noise_rel[net].append(rel(flat(previous[i]), flat(base[i])))
        previous = base
        for setup, precisions in SETUPS.items():
            grads = gradients(*precisions, real, noise)
            for i, net in enumerate(("generator", "critic")):
                errors[setup][net].append(rel(flat(grads[i]), flat(base[i])))
                for name, a, b in zip(names[net], grads[i], base[i], strict=True):
                    worst[setup][net].setdefault(name, []).append(rel(a, b))

    print(f"{config.batch_size}-image batches × {args.batches}, weights of {args.run_dir}")
    print(f"{'':22} {'generator grad error':>22} {'worst layer':>34} {'critic grad error':>20} "
          f"{'worst layer':>30}")
    for setup in SETUPS:
        cells = []
        for net in ("generator", "critic"):
            layer, err = max(((k, statistics.mean(v)) for k, v in worst[setup][net].items()),
                             key=lambda kv: kv[1])
            cells += [f"{statistics.mean(errors[setup][net]):.4f}", f"{layer} {err:.4f}"]
        print(f"{setup:22} {cells[0]:>22} {cells[1]:>34} {cells[2]:>20} {cells[3]:>30}")
    if args.layers:
        for setup in SETUPS:
            for net in ("generator", "critic"):
                print(f"{setup}, {net}: " + ", ".join(
                    f"{k} {statistics.mean(v):.4f}" for k, v in worst[setup][net].items()))
    print(f"{'minibatch noise (fp32)':22} {statistics.mean(noise_rel['generator']):>22.4f} "
          f"{'':>34} {statistics.mean(noise_rel['critic']):>20.4f}")


if __name__ == "__main__":
    main()
