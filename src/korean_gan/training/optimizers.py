"""The trainers' optimizer: Keras' Adam with its update done by TensorFlow's fused kernel.

Keras 3's ``Adam.update_step`` is written in backend-neutral ops: five or six element-wise
kernels per variable, each streaming the weights, both moments and the gradient through memory.
The reference generator has 8.4 million weights in one Dense layer, so on a CPU that costs
≈ 30 ms per step of the reference model (4–9% of a step). TensorFlow's ``ResourceApplyAdam``
does the same update in one multi-threaded pass (≈ 10 ms), so ``FusedAdam`` calls it.

The arithmetic is Adam's (Kingma & Ba 2015, https://arxiv.org/abs/1412.6980) with the same
"epsilon hat" placement Keras uses, so both agree to float rounding; the optimizer's variables
(iterations, momentums, velocities) are Keras' own, so checkpoints of either load into the
other. Under a ``tf.distribute`` strategy, for sparse gradients and with AMSGrad, it is plain
Keras Adam.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

__all__ = ["FusedAdam", "adam"]


class FusedAdam(keras.optimizers.Adam):
    """``keras.optimizers.Adam`` whose update is TensorFlow's fused ``ResourceApplyAdam``."""

    def update_step(self, gradient, variable, learning_rate):
        # Distributed variables need the strategy's update path, and embeddings' sparse
        # gradients (IndexedSlices) a scatter: Keras' own code handles both.
        if (self.amsgrad or tf.distribute.has_strategy()
                or isinstance(gradient, tf.IndexedSlices)):
            return super().update_step(gradient, variable, learning_rate)
        dtype = variable.dtype
        step = ops.cast(self.iterations + 1, dtype)
        index = self._get_variable_index(variable)
        tf.raw_ops.ResourceApplyAdam(
            var=variable.handle, m=self._momentums[index].handle,
            v=self._velocities[index].handle,
            beta1_power=ops.power(ops.cast(self.beta_1, dtype), step),
            beta2_power=ops.power(ops.cast(self.beta_2, dtype), step),
            lr=ops.cast(learning_rate, dtype), beta1=ops.cast(self.beta_1, dtype),
            beta2=ops.cast(self.beta_2, dtype), epsilon=ops.cast(self.epsilon, dtype),
            grad=ops.cast(gradient, dtype), use_locking=False)


def adam(learning_rate: float, beta_1: float, beta_2: float,
         loss_scaling: bool = False) -> keras.optimizers.Optimizer:
    """A ``FusedAdam``, wrapped in a ``LossScaleOptimizer`` when ``loss_scaling`` (float16:
    small gradients underflow without it; bfloat16 has float32's range and needs none)."""
    optimizer = FusedAdam(learning_rate, beta_1, beta_2)
    if loss_scaling:
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer
