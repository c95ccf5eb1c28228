"""Where and in what precision training runs: ``tf.distribute`` strategies and mixed precision.

* Strategies (https://www.tensorflow.org/guide/distributed_training): ``default`` (one device),
  ``mirrored`` (``tf.distribute.MirroredStrategy``: synchronous data parallelism over the GPUs of
  one machine, or over logical CPU devices), ``multiworker``
  (``tf.distribute.MultiWorkerMirroredStrategy`` across machines described by ``TF_CONFIG``).
  The batch size a user gives is the global batch; each replica takes its share, and
  :func:`scaled_loss` scales per-replica losses so that the all-reduced gradient equals
  the gradient of the global batch's mean loss (the learning rate then means what it means on
  one device).
* Mixed precision (Micikevicius et al. 2017, https://arxiv.org/abs/1710.03740; the Keras
  mixed-precision guide): ``mixed_bfloat16`` on CPUs with AVX512-BF16 or AMX, ``mixed_float16``
  (with dynamic loss scaling) on GPUs; variables and model outputs stay float32. A CPU's
  bfloat16 flags do not say that bfloat16 is fast there (CPUs with AMX run a bf16 matmul at
  about 2× their float32 speed, CPUs with only AVX512-BF16 at about half), so ``auto`` times
  both once.

The trainer and the high-level API (sampling precision) use this module; it imports
TensorFlow lazily.
"""

from __future__ import annotations

import json
import os
import time
from contextlib import contextmanager
from functools import cache
from pathlib import Path

__all__ = [
    "BF16_MIN_SPEEDUP",
    "PRECISIONS",
    "STRATEGIES",
    "bf16_speedup",
    "cpu_supports_bf16",
    "dtype_policy",
    "is_chief",
    "make_strategy",
    "scaled_loss",
    "step_logs",
    "resolve_precision",
]

STRATEGIES = ("default", "mirrored", "multiworker")
PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")
# ``auto`` takes bfloat16 on a CPU only when its matmul is at least this much faster than
# float32's: CPUs with AMX measure about 2×, CPUs with only AVX512-BF16 about 0.55×, far on
# either side, so the choice does not flicker with the machine's load.
BF16_MIN_SPEEDUP = 1.25


def cpu_supports_bf16(cpuinfo: str | os.PathLike = "/proc/cpuinfo") -> bool:
    """True if the CPU has native bfloat16 arithmetic (AVX512-BF16 or AMX-BF16)."""
    try:
        text = Path(cpuinfo).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    flags = set()
    for line in text.splitlines():
        if line.startswith("flags"):
            flags.update(line.split(":", 1)[-1].split())
    return bool(flags & {"avx512_bf16", "amx_bf16"})


@cache
def bf16_speedup(size: int = 1024, repeats: int = 5) -> float:
    """How many times faster this CPU multiplies matrices in bfloat16 than in float32.

    Times ``size``² matmuls (after one warm-up each, best of ``repeats``), about 0.2 s once per
    process; the answer is cached.

    Args:
        size: Side of the square matrices.
        repeats: Timed multiplications per dtype; the fastest counts.

    Returns:
        float32 seconds / bfloat16 seconds (> 1: bfloat16 is faster).
    """
    import tensorflow as tf

    with tf.device("/CPU:0"):
        a = tf.random.stateless_uniform([size, size], seed=(0, 0))
        best = {}
        for dtype in (tf.float32, tf.bfloat16):
            x = tf.cast(a, dtype)
            tf.matmul(x, x).numpy()  # warm-up: oneDNN builds its kernel on the first call
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                tf.matmul(x, x).numpy()
                times.append(time.perf_counter() - start)
            best[dtype] = min(times)
    return best[tf.float32] / best[tf.bfloat16]


def resolve_precision(name: str) -> str:
    """The dtype policy name for a precision setting (``auto`` picks by hardware).

    ``auto``: ``mixed_float16`` with a GPU; ``mixed_bfloat16`` on a CPU with native bfloat16
    whose bf16 matmul is at least :data:`BF16_MIN_SPEEDUP` times faster than float32's
    (:func:`bf16_speedup`, measured once per process); otherwise ``float32``.

    Raises:
        ValueError: an unknown name.
    """
    if name not in PRECISIONS:
        raise ValueError(f"unknown precision {name!r}; choose from {', '.join(PRECISIONS)}")
    if name != "auto":
        return name
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        return "mixed_float16"
    fast = cpu_supports_bf16() and bf16_speedup() >= BF16_MIN_SPEEDUP
    return "mixed_bfloat16" if fast else "float32"


@contextmanager
def dtype_policy(name: str):
    """Builds models under a Keras dtype policy, then restores the previous one."""
    import keras

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def make_strategy(name: str = "default"):
    """A ``tf.distribute`` strategy by name.

    ``mirrored`` uses every GPU; with no GPU, every logical CPU device (one CPU device is one
    replica: split it with ``tf.config.set_logical_device_configuration`` before TensorFlow
    starts). ``multiworker`` reads the cluster from ``TF_CONFIG``.

    Raises:
        ValueError: an unknown name, or ``multiworker`` without ``TF_CONFIG``.
    """
    if name not in STRATEGIES:
        raise ValueError(f"unknown strategy {name!r}; choose from {', '.join(STRATEGIES)}")
    import tensorflow as tf

    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        devices = [d.name for d in (gpus or tf.config.list_logical_devices("CPU"))]
        return tf.distribute.MirroredStrategy(devices)
    if not os.environ.get("TF_CONFIG"):
        raise ValueError("strategy multiworker needs TF_CONFIG describing the cluster (see "
                         "docs/scaling.md)")
    try:
        json.loads(os.environ["TF_CONFIG"])
    except json.JSONDecodeError as err:
        raise ValueError(f"TF_CONFIG is not valid JSON ({err})") from None
    return tf.distribute.MultiWorkerMirroredStrategy()


def is_chief(strategy) -> bool:
    """True for the one worker that writes the run folder (always true off a cluster)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not getattr(resolver, "task_type", None):
        return True
    if resolver.task_type == "chief":
        return True
    # Without a "chief" task, worker 0 is the chief.
    cluster = resolver.cluster_spec().as_dict()
    return resolver.task_type == "worker" and resolver.task_id == 0 and "chief" not in cluster


def scaled_loss(loss, optimizer):
    """A replica's mean loss made ready for its gradient; call it inside the gradient tape.

    Optimizers sum gradients over replicas, so each replica's loss is divided by the number of
    replicas (the sum is then the gradient of the global mean), and multiplied by the
    optimizer's loss scale (``LossScaleOptimizer`` under ``mixed_float16``, which unscales the
    gradients when applying them).
    """
    import tensorflow as tf

    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    if replicas > 1:
        loss = loss / tf.cast(replicas, loss.dtype)
    return optimizer.scale_loss(loss)


def step_logs(metrics) -> dict:
    """What a ``train_step`` returns: each metric's result.

    Under ``MultiWorkerMirroredStrategy`` Keras averages step outputs across workers along
    axis 0, which a scalar does not have; there each result is returned with shape (1,) (the
    average is a scalar again).
    """
    import tensorflow as tf

    logs = {m.name: m.result() for m in metrics}
    if isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy):
        logs = {name: tf.reshape(value, [1]) for name, value in logs.items()}
    return logs
