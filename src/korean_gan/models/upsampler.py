"""The glyph upsampler: a small convolutional network that redraws a 32 px glyph at 128 px.

Sub-pixel convolution (ESPCN, Shi et al. 2016, https://arxiv.org/abs/1609.05158): every
convolution runs at the input's 32×32, the last one predicts the 4×4 output pixels under each
input pixel, and ``depth_to_space`` lays them out. That keeps the cost per glyph close to the
generator's own, so 128 px output stays fast on a CPU. Residual blocks (EDSR, Lim et al. 2017,
https://arxiv.org/abs/1707.02921, without batch normalisation) give the depth that sharp
stroke edges need. Nothing runs at the output size but the layout and the sigmoid: a
convolution there would cost more than all the others together.

Input and output are ink in ``[0, 1]`` (1 = full ink); the output is a probability of ink, so
strokes come out crisp rather than as the grey average of possible edges.
"""

from __future__ import annotations

import keras
from keras import layers

__all__ = ["build_upsampler", "upsampler_dims"]


def build_upsampler(filters: int = 48, blocks: int = 3, factor: int = 4,
                    input_size: int = 32, name: str = "upsampler") -> keras.Model:
    """Builds the upsampler.

    Args:
        filters: Channels of the convolutions at input size.
        blocks: Residual blocks (two 3×3 convolutions each).
        factor: Upsampling factor (the output is ``factor`` × ``input_size`` px).
        input_size: Side of the input glyphs in pixels.
        name: The model's name.

    Returns:
        A model from ``(N, S, S, 1)`` ink to ``(N, factor·S, factor·S, 1)`` ink probability.
    """
    for label, value in (("filters", filters), ("blocks", blocks), ("factor", factor),
                         ("input_size", input_size)):
        if not isinstance(value, int) or value < (0 if label == "blocks" else 1):
            raise ValueError(f"upsampler {label} must be a positive integer, got {value!r}")
    inputs = keras.Input((input_size, input_size, 1), name="ink")
    h = layers.Conv2D(filters, 3, padding="same", activation="relu", name="head")(inputs)
    for i in range(blocks):
        r = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"block{i}_a")(h)
        r = layers.Conv2D(filters, 3, padding="same", name=f"block{i}_b")(r)
        h = layers.Add(name=f"block{i}_add")([h, r])
    h = layers.Conv2D(factor * factor, 3, padding="same", name="to_subpixels")(h)
    logits = layers.Lambda(lambda t: _depth_to_space(t, factor), name="depth_to_space",
                           output_shape=(input_size * factor, input_size * factor, 1))(h)
    outputs = layers.Activation("sigmoid", dtype="float32", name="ink_probability")(logits)
    return keras.Model(inputs, outputs, name=name)


def _depth_to_space(tensor, factor: int):
    import tensorflow as tf

    return tf.nn.depth_to_space(tensor, factor)


def upsampler_dims(model: keras.Model) -> dict:
    """The keyword arguments of :func:`build_upsampler` that rebuild ``model``'s architecture."""
    blocks = sum(1 for layer in model.layers if layer.name.endswith("_add"))
    factor = int(model.output_shape[1]) // int(model.input_shape[1])
    return {"filters": int(model.get_layer("head").filters), "blocks": blocks,
            "factor": factor, "input_size": int(model.input_shape[1])}
