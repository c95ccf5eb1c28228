"""Where the training step spends its time: a TensorFlow profiler trace of the trainer, summed.

Runs the project's trainer (``fit`` on ``build_gan`` with its ``tf.data`` pipeline) for a few
warm-up steps, then records ``--steps`` steps with ``tf.profiler.experimental`` and reads the
trace back (the XSpace protobuf the profiler writes) to print, per step:

- the wall time of the step and the time the step waited for its input batch;
- the time of every TensorFlow op, summed over the compute threads, by op type and by layer
  (forward / backward), with its share of all op time;
- how many ops ran at once on average (op time / wall time): TensorFlow runs independent ops
  side by side on its inter-op threads, each op on oneDNN's intra-op threads.

The trace stays in ``--logdir`` for TensorBoard's profile plugin (``tensorboard_plugin_profile``).

    python benchmarks/profile_step.py [--preset reference|hangul]
                                      [--precision float32|mixed_bfloat16] [--steps 10]
                                      [--logdir /tmp/korean-gan-profile]

Run it on an otherwise idle machine; the figures are the trace's, not a timing benchmark's.
"""

from __future__ import annotations

import argparse
import collections
import re
from pathlib import Path

# Scopes that say nothing about the layer: the function call, Keras' name suffixes.
_NOISE = re.compile(r"^(StatefulPartitionedCall/|PartitionedCall/)+")


def op_events(xspace_path: Path):
    """(op name, op type, duration in ms) of every TensorFlow op the host's compute threads ran,
    and the wall times (ms) of the trainer's step-function calls, from one XSpace file."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    space = xplane_pb2.XSpace()
    space.ParseFromString(xspace_path.read_bytes())
    ops, steps, waits = [], [], []
    for plane in space.planes:
        if plane.name != "/host:CPU":
            continue
        for line in plane.lines:
            for event in line.events:
                name = plane.event_metadata[event.metadata_id].name
                ms = event.duration_ps / 1e9
                if line.name.startswith("tf_Compute") and ":" in name and "::" not in name:
                    # Op events are named "<node name>:<op type>".
                    node, op_type = name.rsplit(":", 1)
                    ops.append((node, op_type, ms))
                elif line.name == "python" and name.startswith("EagerLocalExecute: __inference"):
                    steps.append(ms)
                elif line.name.startswith("tf_data_iterator_get_next") and \
                        name == "IteratorGetNextOp::DoCompute":
                    waits.append(ms)
    return ops, steps, waits


def layer_of(node: str) -> str:
    """'generator/deconv_1' + ' (backward)' from a node name such as
    'StatefulPartitionedCall/gradient_tape/generator_1/deconv_1_1/conv_transpose/Conv2D'."""
    node = _NOISE.sub("", node)
    backward = node.startswith("gradient_tape/")
    parts = node.removeprefix("gradient_tape/").split("/")
    if len(parts) < 3:  # optimizer updates, losses, metrics: not inside a layer
        return "optimizer, losses, metrics"
    # Keras 3 appends _<n> to a scope each time a model or layer is called again.
    model, layer = (re.sub(r"_\d+$", "", p) for p in parts[:2])
    return f"{model}/{layer}" + (" (backward)" if backward else "")


def summarise(ops, steps, waits, n_steps: int, top: int = 12) -> str:
    """The printed report."""
    total = sum(ms for _, _, ms in ops)
    wall = sum(steps) / n_steps
    lines = [f"step: {wall:.0f} ms wall; ops ran {total / n_steps:.0f} ms in all "
             f"({total / max(sum(steps), 1e-9):.2f} at once on average); "
             f"waiting for the input batch: {sum(waits) / n_steps:.1f} ms/step", ""]
    for title, key in (("op type", lambda node, kind: kind),
                       ("layer", lambda node, kind: layer_of(node))):
        sums = collections.Counter()
        for node, kind, ms in ops:
            sums[key(node, kind)] += ms
        lines.append(f"{title:<48} {'ms/step':>8} {'share':>6}")
        for name, ms in sums.most_common(top):
            lines.append(f"{name[:48]:<48} {ms / n_steps:8.1f} {ms / total:6.1%}")
        rest = sum(ms for _, ms in sums.most_common()[top:])
        if rest:
            lines.append(f"{'(the rest)':<48} {rest / n_steps:8.1f} {rest / total:6.1%}")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="reference", choices=("reference", "hangul"))
    parser.add_argument("--data", type=Path, default=None,
                        help="dataset (default data/seed16.npz or data/ks2350-train.npz)")
    parser.add_argument("--precision", default="float32")
    parser.add_argument("--steps", type=int, default=10, help="steps recorded")
    parser.add_argument("--warmup", type=int, default=5, help="steps before the recording")
    parser.add_argument("--logdir", type=Path, default=Path("/tmp/korean-gan-profile"))
    args = parser.parse_args()

    import tensorflow as tf

    from korean_gan.data.dataset import load_dataset
    from korean_gan.training.config import TrainConfig
    from korean_gan.training.pipeline import training_dataset
    from korean_gan.training.trainer import build_gan

    data = args.data or Path("data/seed16.npz" if args.preset == "reference"
                             else "data/ks2350-train.npz")
    if not data.is_file():
        raise SystemExit(f"{data} not found: build it with `korean-gan data build`")
    dataset = load_dataset(data)
    config = TrainConfig.from_preset(args.preset, data=str(data), precision=args.precision)
    gan = build_gan(config, dataset.images.shape[1], dataset)
    labels = None
    if config.model == "conditional":
        from korean_gan.training.conditional import condition_labels

        labels = condition_labels(dataset)
    batches = training_dataset(dataset.images, config.batch_size, config.seed, 0, 10_000,
                               labels=labels)
    gan.fit(batches, steps_per_epoch=args.warmup, epochs=1, verbose=0)

    tf.profiler.experimental.start(str(args.logdir))
    gan.fit(batches, steps_per_epoch=args.steps, epochs=1, verbose=0)
    tf.profiler.experimental.stop()

    newest = max(args.logdir.glob("plugins/profile/*/*.xplane.pb"),
                 key=lambda p: p.stat().st_mtime)
    ops, steps, waits = op_events(newest)
    print(f"{args.preset} trainer, {args.precision}, batch {config.batch_size}, "
          f"{args.steps} steps after {args.warmup} warm-up steps")
    print(summarise(ops, steps, waits, args.steps))
    print(f"trace: {newest} (TensorBoard's profile plugin reads {args.logdir})")


if __name__ == "__main__":
    main()
