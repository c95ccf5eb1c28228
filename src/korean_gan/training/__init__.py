"""Training: the GANs as ``keras.Model`` subclasses with their train steps, losses, optimizers,
DiffAugment, callbacks, checkpoints and exact resume, ``tf.distribute``, and distillation.
"""
