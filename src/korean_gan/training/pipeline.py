"""The training input pipeline: seeded, resumable batches of real glyphs from memory."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

__all__ = ["training_dataset"]


def training_dataset(images: np.ndarray, batch_size: int, seed: int, first_epoch: int,
                     epochs: int, labels: np.ndarray | None = None,
                     shard: tuple[int, int, int] | None = None,
                     first_step: int = 0) -> tf.data.Dataset:
    """Batches of real images in [-1, 1], shape (B, S, S, 1), for epochs [first_epoch, epochs).

    With ``labels`` (N, K), batches are ``(images, labels)`` pairs.

    The uint8 images stay in memory; each epoch's order is a stateless shuffle keyed by
    (seed, epoch), so a resumed run sees exactly the batches an uninterrupted run would.
    Scaling happens in graph ops; batches are prefetched.

    Args:
        shard: ``(pipeline, replicas, pipelines)`` for distributed training: every global batch
            of ``batch_size`` is cut into ``replicas`` equal slices and this pipeline yields its
            ``replicas // pipelines`` consecutive slices, one per local replica, in order.
        first_step: Steps of ``first_epoch`` already done (a run stopped mid-epoch): its first
            batches are skipped, so the run goes on with the batch it would have seen next.
    """
    n = len(images)
    steps = n // batch_size
    pixels = tf.constant(images)
    label_table = None if labels is None else tf.constant(labels)

    def epoch_indices(epoch):
        order = tf.random.experimental.stateless_shuffle(
            tf.range(n), seed=tf.stack([tf.cast(seed, tf.int64), epoch]))
        batches = tf.reshape(order[: steps * batch_size], (steps, batch_size))
        if shard is not None:
            pipeline, replicas, pipelines = shard
            local = replicas // pipelines
            slices = tf.reshape(batches, (steps, replicas, batch_size // replicas))
            batches = tf.reshape(slices[:, pipeline * local:(pipeline + 1) * local],
                                 (steps * local, batch_size // replicas))
        return tf.data.Dataset.from_tensor_slices(batches)

    def gather(indices):
        batch = tf.cast(tf.gather(pixels, indices), tf.float32)[..., None] / 127.5 - 1.0
        if label_table is None:
            return batch
        return batch, tf.gather(label_table, indices)

    per_step = 1 if shard is None else shard[1] // shard[2]
    return (tf.data.Dataset.range(first_epoch, epochs)
            .flat_map(epoch_indices)
            .skip(first_step * per_step)
            .map(gather, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
            .prefetch(tf.data.AUTOTUNE))
