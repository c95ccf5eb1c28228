"""Training throughput: the project's trainer against a plain TensorFlow loop, fp32 and mixed.

For the reference model (``seed`` preset, batch 256) and the conditional model (``hangul``
preset, batch 128), in one run:

(a) the yardstick: a plain ``@tf.function`` training step called in a Python loop over a
    ``tf.data`` pipeline, fp32, timed per epoch (for the reference model, the TensorFlow DCGAN
    tutorial's loop and its ``from_tensor_slices().shuffle().batch(256)`` pipeline, written
    out here); also its step alone, the median step on batches already in memory;
(b) the project's trainer: ``korean_gan.training.trainer.train`` (``fit`` with its callbacks
    and input pipeline), fp32;
(c) the same trainer with mixed precision (``mixed_bfloat16`` on this CPU).

It prints images/s, the ratios b/a and c/a, and achieved GFLOP/s against a dense-matmul peak
measured in the same run (fp32 and bf16), with the step's FLOPs counted from the layer shapes:
per image, 3× the generator's forward FLOPs (forward + backward) plus 6× the discriminator's
(forward on a real and a fake image, and their backward passes). Also the input pipeline alone
and plain-loop steps with XLA (``jit_compile=True``).

    python benchmarks/train_throughput.py [--seconds 40] [--json out.json]

Every throughput is the median of epochs after the first (or of steps, for the step alone);
run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from provenance import write_result  # this folder is on sys.path when run as a script


def dense_peak(dtype: str, n: int = 2048, seconds: float = 3.0) -> float:
    """GFLOP/s of an n×n matmul in ``dtype`` (median of repeated calls)."""
    import tensorflow as tf

    a = tf.random.normal((n, n), dtype=tf.float32)
    a = tf.cast(a, dtype)
    step = tf.function(lambda x: tf.matmul(x, x))
    step(a).numpy()
    times = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        start = time.perf_counter()
        step(a).numpy()
        times.append(time.perf_counter() - start)
    return 2 * n**3 / statistics.median(times) / 1e9


def forward_flops(model) -> int:
    """2 × multiply-adds of one image through the model's Dense and (transposed) convolution
    layers (the small Dense layers inside conditional batch norm are left out)."""
    import keras

    total = 0
    for layer in model.layers:
        inner = getattr(layer, "layer", layer)  # SpectralNormalization wraps a layer
        if isinstance(inner, keras.layers.Dense):
            total += 2 * int(inner.kernel.shape[0]) * int(inner.kernel.shape[1])
        elif isinstance(inner, keras.layers.Conv2D | keras.layers.Conv2DTranspose):
            # A convolution does kh·kw·c_in·c_out multiply-adds per output position; a
            # transposed one per input position.
            transposed = isinstance(inner, keras.layers.Conv2DTranspose)
            shape = layer.input.shape if transposed else layer.output.shape
            total += 2 * int(np.prod(shape[1:3])) * int(np.prod(inner.kernel.shape))
    return total


def time_steps(step, batches, seconds: float) -> float:
    """Median seconds per call of ``step`` over ``batches`` (cycled) after two warm-up calls."""
    for batch in batches[:2]:
        step(*batch)
    times = []
    end = time.perf_counter() + seconds
    i = 0
    while time.perf_counter() < end:
        start = time.perf_counter()
        out = step(*batches[i % len(batches)])
        float(np.asarray(out))
        times.append(time.perf_counter() - start)
        i += 1
    return statistics.median(times)


def epochs_per_second(step, dataset, epochs: int) -> float:
    """Median seconds of one pass of ``step`` over ``dataset``, timed per epoch as the
    TensorFlow DCGAN tutorial does, after a first epoch that traces the step."""
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        for batch in dataset:
            out = step(*batch) if isinstance(batch, tuple) else step(batch)
        float(np.asarray(out))
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def plain_dcgan_loop(images: np.ndarray, seconds: float, epochs: int,
                     jit: bool = False) -> tuple[float, float]:
    """(a) The TensorFlow DCGAN tutorial's loop on the reference networks: images/s of its
    epochs (its ``tf.data`` pipeline of float images, shuffle, batch 256) and of its step alone
    (median of steps on batches already in memory)."""
    import keras
    import tensorflow as tf

    from korean_gan.models.networks import build_discriminator, build_generator

    keras.utils.set_random_seed(0)
    generator, discriminator = build_generator(), build_discriminator()
    cross_entropy = keras.losses.BinaryCrossentropy(from_logits=True)
    g_opt, d_opt = keras.optimizers.Adam(1e-4), keras.optimizers.Adam(1e-4)

    @tf.function(jit_compile=jit)
    def train_step(real):
        noise = tf.random.normal([tf.shape(real)[0], 100])
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = generator(noise, training=True)
            real_out = discriminator(real, training=True)
            fake_out = discriminator(fake, training=True)
            g_loss = cross_entropy(tf.ones_like(fake_out), fake_out)
            d_loss = (cross_entropy(tf.ones_like(real_out), real_out)
                      + cross_entropy(tf.zeros_like(fake_out), fake_out))
        g_grads = g_tape.gradient(g_loss, generator.trainable_variables)
        d_grads = d_tape.gradient(d_loss, discriminator.trainable_variables)
        g_opt.apply_gradients(zip(g_grads, generator.trainable_variables, strict=True))
        d_opt.apply_gradients(zip(d_grads, discriminator.trainable_variables, strict=True))
        return d_loss

    batch = 256
    real = images.astype(np.float32)[..., None] / 127.5 - 1
    steps = len(real) // batch
    dataset = (tf.data.Dataset.from_tensor_slices(real).shuffle(len(real), seed=0)
               .batch(batch, drop_remainder=True))
    per_epoch = steps * batch / epochs_per_second(train_step, dataset, epochs)
    batches = [(tf.constant(real[i:i + batch]),) for i in range(0, steps * batch, batch)]
    return per_epoch, batch / time_steps(train_step, batches, seconds)


def plain_conditional_loop(dataset, seconds: float, epochs: int) -> tuple[float, float]:
    """(a') The conditional model's own train_step in a plain tf.function loop over a
    ``tf.data`` pipeline (images/s of its epochs) and alone (median step)."""
    import tensorflow as tf

    from korean_gan.training.conditional import build_conditional_gan, condition_labels

    gan = build_conditional_gan(dataset.charset.chars, dataset.fonts)
    step = tf.function(lambda x, y: gan.train_step((x, y))["d_loss"])
    batch = 128
    real = dataset.images.astype(np.float32)[..., None] / 127.5 - 1
    labels = condition_labels(dataset)
    steps = len(real) // batch
    pipeline = (tf.data.Dataset.from_tensor_slices((real, labels)).shuffle(len(real), seed=0)
                .batch(batch, drop_remainder=True))
    per_epoch = steps * batch / epochs_per_second(step, pipeline, epochs)
    batches = [(tf.constant(real[i:i + batch]), tf.constant(labels[i:i + batch]))
               for i in range(0, steps * batch, batch)][:20]
    return per_epoch, batch / time_steps(step, batches, seconds)


def trainer(preset: str, data: Path, precision: str, epochs: int, batch: int) -> float:
    """(b)/(c) Images/s of korean_gan.training.trainer.train, from its per-epoch wall times
    (median of the epochs after the first, which traces the step)."""
    import csv

    from korean_gan.data.dataset import load_dataset
    from korean_gan.training.config import TrainConfig
    from korean_gan.training.trainer import train

    n = len(load_dataset(data))
    with tempfile.TemporaryDirectory() as tmp:
        config = TrainConfig.from_preset(preset, data=str(data), run_dir=f"{tmp}/run",
                                         epochs=epochs, batch_size=batch, precision=precision,
                                         eval_every=0, tensorboard=False, verbose=0)
        train(config)
        with open(f"{tmp}/run/log.csv", newline="") as fh:
            seconds = [float(r["seconds"]) for r in csv.DictReader(fh)][1:]
    return (n // batch) * batch / statistics.median(seconds)


def pipeline_only(images: np.ndarray, batch: int, seconds: float = 5.0) -> float:
    """Images/s the input pipeline delivers with no model."""
    from korean_gan.training.pipeline import training_dataset

    data = iter(training_dataset(images, batch, 0, 0, 10_000))
    next(data)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        count += int(next(data).shape[0])
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=40.0,
                        help="timing budget of each plain-loop measurement")
    parser.add_argument("--epochs", type=int, default=6,
                        help="epochs of each trainer measurement (the first is dropped)")
    parser.add_argument("--seed-data", type=Path, default=Path("data/seed16.npz"))
    parser.add_argument("--hangul-data", type=Path, default=Path("data/ks2350-train.npz"))
    parser.add_argument("--hangul-images", type=int, default=6400,
                        help="images of the hangul data the trainer measurement uses")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    from korean_gan.data.dataset import build_dataset, load_dataset, save_dataset
    from korean_gan.models.networks import build_discriminator, build_generator
    from korean_gan.training.conditional import build_conditional_gan
    from korean_gan.training.distribute import cpu_supports_bf16

    if not args.seed_data.is_file():
        build_dataset(out=str(args.seed_data), progress=False)
    seed = load_dataset(args.seed_data)
    report: dict = {"bf16_cpu": cpu_supports_bf16()}
    report["peak_gflops_fp32"] = dense_peak("float32")
    report["peak_gflops_bf16"] = dense_peak("bfloat16")
    print(f"dense matmul peak: {report['peak_gflops_fp32']:.0f} GFLOP/s fp32, "
          f"{report['peak_gflops_bf16']:.0f} bf16", flush=True)

    flops = 3 * forward_flops(build_generator()) + 6 * forward_flops(build_discriminator())
    report["seed_step_gflop_per_image"] = flops / 1e9
    report["seed_pipeline_images_per_s"] = pipeline_only(seed.images, 256)
    report["seed_a"], report["seed_a_step"] = plain_dcgan_loop(seed.images, args.seconds,
                                                               args.epochs)
    report["seed_a_xla"], _ = plain_dcgan_loop(seed.images, args.seconds / 2, 3, jit=True)
    report["seed_b"] = trainer("reference", args.seed_data, "float32", args.epochs, 256)
    report["seed_c"] = trainer("reference", args.seed_data, "mixed_bfloat16", args.epochs, 256)
    print(f"seed: a {report['seed_a']:.0f} img/s, b {report['seed_b']:.0f}, "
          f"c {report['seed_c']:.0f}", flush=True)

    if not args.hangul_data.is_file():  # a fresh clone: build it (a few seconds)
        build_dataset(charset="ks2350-train", augment=("none",), out=str(args.hangul_data),
                      progress=False)
    full = load_dataset(args.hangul_data)
    # A slice of the data keeps epochs short; throughput does not depend on its size.
    hangul = full.subset(np.arange(min(args.hangul_images, len(full))))
    with tempfile.TemporaryDirectory() as tmp:
        small = Path(tmp) / "hangul.npz"
        save_dataset(hangul, small, {}, preview=False)
        gan = build_conditional_gan(hangul.charset.chars, hangul.fonts)
        flops = (3 * forward_flops(gan.generator) + 6 * forward_flops(gan.discriminator))
        report["hangul_step_gflop_per_image"] = flops / 1e9
        report["hangul_a"], report["hangul_a_step"] = plain_conditional_loop(
            hangul, args.seconds, args.epochs)
        report["hangul_b"] = trainer("hangul", small, "float32", args.epochs, 128)
        report["hangul_c"] = trainer("hangul", small, "mixed_bfloat16", args.epochs, 128)

    print()
    print(f"{'model':8} {'(a) plain':>10} {'(a) step':>9} {'(b) trainer':>12} {'(c) mixed':>10} "
          f"{'b/a':>6} {'c/a':>6} {'GFLOP/img':>10} {'GFLOP/s b':>10} {'of peak':>8} "
          f"{'GFLOP/s c':>10} {'of bf16 peak':>12}")
    for model in ("seed", "hangul"):
        if f"{model}_a" not in report:
            continue
        a, b, c = (report[f"{model}_{k}"] for k in "abc")
        per = report[f"{model}_step_gflop_per_image"]
        report[f"{model}_b_over_a"], report[f"{model}_c_over_a"] = b / a, c / a
        print(f"{model:8} {a:10.0f} {report[f'{model}_a_step']:9.0f} {b:12.0f} {c:10.0f} "
              f"{b / a:6.2f} {c / a:6.2f} "
              f"{per:10.3f} {b * per:10.0f} {b * per / report['peak_gflops_fp32']:8.0%} "
              f"{c * per:10.0f} {c * per / report['peak_gflops_bf16']:12.0%}")
    print(f"\nseed: plain loop with XLA {report['seed_a_xla']:.0f} img/s; input pipeline alone "
          f"{report['seed_pipeline_images_per_s']:,.0f} img/s")
    if args.json:
        write_result(args.json, report)


if __name__ == "__main__":
    main()
