"""FusedAdam: TensorFlow's fused Adam kernel gives Keras Adam's updates and state."""

from __future__ import annotations

import numpy as np
import pytest


def _train(optimizer_cls, steps: int = 5, sparse: bool = False):
    """Weights and optimizer state after ``steps`` updates with fixed pseudo-random gradients."""
    import keras
    import tensorflow as tf

    rng = np.random.default_rng(0)
    weights = [keras.Variable(rng.standard_normal((64, 32)).astype(np.float32)),
               keras.Variable(rng.standard_normal((32,)).astype(np.float32))]
    optimizer = optimizer_cls(1e-2, 0.5, 0.999)
    optimizer.build(weights)
    for _ in range(steps):
        grads = [tf.constant(rng.standard_normal(w.shape).astype(np.float32)) for w in weights]
        if sparse:  # an embedding's gradient: rows 3 and 7 of the first variable
            rows = tf.constant([3, 7])
            grads[0] = tf.IndexedSlices(tf.gather(grads[0], rows), rows,
                                        tf.constant([64, 32]))
        optimizer.apply_gradients(zip(grads, weights, strict=True))
    return ([np.asarray(w) for w in weights],
            [np.asarray(v) for v in optimizer.variables], optimizer)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse gradient"])
def test_fused_adam_updates_as_keras_adam_does(sparse):
    import keras

    from korean_gan.training.optimizers import FusedAdam

    keras_weights, keras_state, _ = _train(keras.optimizers.Adam, sparse=sparse)
    fused_weights, fused_state, fused = _train(FusedAdam, sparse=sparse)
    initial, _, _ = _train(FusedAdam, steps=0)
    assert int(fused.iterations) == 5
    for a, b, start in zip(keras_weights, fused_weights, initial, strict=True):
        assert np.abs(b - start).max() > 1e-3  # the weights moved
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
    assert len(keras_state) == len(fused_state) == 6  # iterations, learning rate, 2 × (m, v)
    for a, b in zip(keras_state, fused_state, strict=True):  # iterations, m and v alike
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-7)


def test_a_keras_adam_checkpoint_restores_into_fused_adam(tmp_path):
    import keras
    import tensorflow as tf

    from korean_gan.training.optimizers import adam

    _, state, saved = _train(keras.optimizers.Adam)
    tf.train.Checkpoint(optimizer=saved).write(str(tmp_path / "ckpt"))
    weights = [keras.Variable(np.zeros((64, 32), np.float32)),
               keras.Variable(np.zeros((32,), np.float32))]
    restored = adam(1e-2, 0.5, 0.999)
    restored.build(weights)
    tf.train.Checkpoint(optimizer=restored).read(str(tmp_path / "ckpt")).assert_consumed()
    for a, b in zip(state, restored.variables, strict=True):
        np.testing.assert_array_equal(np.asarray(b), a)
    assert isinstance(adam(1e-3, 0.5, 0.9, loss_scaling=True),
                      keras.optimizers.LossScaleOptimizer)
