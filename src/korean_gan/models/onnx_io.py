"""ONNX files of the sampling networks: export from Keras, and sessions that run them.

ONNX Runtime (https://onnxruntime.ai) loads in a tenth of a second where TensorFlow takes
about four, which is most of a short command's time (``write`` one sentence, ``lines`` a
thousand lines). This module owns the ``.onnx`` graphs: :func:`export_generator` and
:func:`export_upsampler` serialise the same functions as the Keras networks (checked against
them in the tests; :func:`korean_gan.artifacts.add_card_file` puts them in a model folder),
and :class:`OnnxNetwork` runs one. Export needs the ``onnx`` package and a
loaded Keras model; running needs only ``onnxruntime`` and numpy.

The graphs work channels-first (ONNX's convention) and take and give what the Keras sampling
code does:

* generator: ``noise (B, Z) float32``, ``jamo (B, 3) int32``, ``style (B, D) float32`` to
  ``image (B, S, S) float32`` in [-1, 1]. Each conditional batch norm is folded into one
  product of the condition (scale and shift from the moving statistics, as at inference), each
  upsampling + 3x3 convolution is the one stride-2 transposed convolution of
  :class:`~korean_gan.models.networks.UpsampleConv2D`.
* upsampler: ``small (N, S, S) uint8`` (255 = paper) and ``offsets (N,) float32`` to
  ``large (N, fS, fS) uint8``: ink, the network's logits, the stroke offset subtracted before
  the sigmoid, rounded back to grey levels.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

__all__ = ["OPSET", "OnnxNetwork", "export_generator", "export_upsampler"]

#: The ONNX operator set the exports use (ONNX Runtime 1.14 and later run it).
OPSET = 17


class _Graph:
    """A small builder over ``onnx.helper``: named constants and nodes, auto-named outputs."""

    def __init__(self):
        import onnx

        self.onnx = onnx
        self.nodes, self.initializers = [], []
        self._count = 0

    def _name(self, hint: str) -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def const(self, value, hint: str = "c", dtype=np.float32) -> str:
        name = self._name(hint)
        # np.array, not ascontiguousarray: that turns a scalar into shape (1,)
        self.initializers.append(self.onnx.numpy_helper.from_array(
            np.array(value, dtype, order="C"), name))
        return name

    def op(self, op_type: str, *inputs: str, out: str | None = None, **attrs) -> str:
        out = out or self._name(op_type.lower())
        self.nodes.append(self.onnx.helper.make_node(op_type, list(inputs), [out], **attrs))
        return out

    def model(self, name: str, inputs: list, outputs: list, doc: str) -> bytes:
        helper = self.onnx.helper
        graph = helper.make_graph(self.nodes, name, inputs, outputs, self.initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                  producer_name="korean-gan", doc_string=doc)
        model.ir_version = 8  # the oldest IR that holds opset 17: more runtimes load it
        self.onnx.checker.check_model(model)
        return model.SerializeToString()


def _weights(layer) -> list[np.ndarray]:
    return [np.asarray(w, np.float32) for w in layer.get_weights()]


def _conv_kernel(kernel: np.ndarray) -> np.ndarray:
    """Keras ``(kh, kw, in, out)`` to ONNX Conv's ``(out, in, kh, kw)``."""
    return kernel.transpose(3, 2, 0, 1)


def export_generator(generator) -> bytes:
    """The ONNX graph of a conditional generator (either form, float32 weights).

    Args:
        generator: From :func:`~korean_gan.models.networks.build_conditional_generator`.

    Returns:
        The serialised model (inputs ``noise``, ``jamo``, ``style``; output ``image``).
    """
    from onnx import TensorProto, helper

    from korean_gan.models.networks import _TRANSPOSED_TAPS, generator_dims

    dims = generator_dims(generator)
    side = dims["image_size"] // 8
    base = dims["base_filters"]
    g = _Graph()
    jamo = "jamo"
    parts = []
    for column, part in enumerate(("initial", "vowel", "final")):
        table = _weights(generator.get_layer(f"embed_{part}"))[0]
        index = g.op("Gather", jamo, g.const(column, "column", np.int64), axis=1)
        parts.append(g.op("Gather", g.const(table, f"embed_{part}"), index, axis=0))
    condition = g.op("Concat", *parts, "style", axis=1)
    latent = g.op("Concat", "noise", condition, axis=1)
    x = g.op("MatMul", latent, g.const(_weights(generator.get_layer("dense"))[0], "dense"))
    x = g.op("Reshape", x, g.const([-1, side, side, base], "shape", np.int64))
    x = g.op("Transpose", x, perm=[0, 3, 1, 2])
    for block in range(4):
        if block:
            kernel = _weights(generator.get_layer(f"conv_{block}"))[0]  # (3, 3, in, out)
            # (4, 4, in, out): each transposed tap sums the 3x3 taps it stands for. In ONNX
            # Runtime this runs 1.7x faster than the plain form (nearest Resize then a 3x3 Conv)
            # or a 3x3 Conv to four phases and DepthToSpace, both with 2.25x the arithmetic.
            # The file keeps the 3x3 kernel (16/9 smaller); ONNX Runtime folds the product
            # into the 4x4 kernel once, when it loads the graph.
            k_in, k_out = kernel.shape[2], kernel.shape[3]
            rows = np.array(_TRANSPOSED_TAPS, np.float32)  # the 3x3 rows each 4x4 row sums
            taps = np.einsum("py,qx->pqyx", rows, rows).reshape(16, 9)
            kernel4 = g.op("MatMul", g.const(taps, "taps"),
                           g.const(kernel.reshape(9, k_in * k_out), "kernel"))
            kernel4 = g.op("Transpose", g.op("Reshape", kernel4, g.const(
                [4, 4, k_in, k_out], "shape", np.int64)), perm=[2, 3, 0, 1])
            # ConvTranspose weights are (in, out, kh, kw); "same" output 2H pads one a side.
            x = g.op("ConvTranspose", x, kernel4, strides=[2, 2], pads=[1, 1, 1, 1],
                     kernel_shape=[4, 4])
        x = _conditional_norm(g, generator.get_layer(f"cbn_{block}"), x, condition)
    head = generator.get_layer("to_image")
    kernel, bias = _weights(head)
    x = g.op("Conv", x, g.const(_conv_kernel(kernel), "to_image"), g.const(bias, "bias"),
             pads=[1, 1, 1, 1], kernel_shape=[3, 3])
    x = g.op("Tanh", x)
    size = dims["image_size"]
    g.op("Reshape", x, g.const([-1, size, size], "shape", np.int64), out="image")
    inputs = [helper.make_tensor_value_info("noise", TensorProto.FLOAT,
                                            ["batch", dims["noise_dim"]]),
              helper.make_tensor_value_info("jamo", TensorProto.INT32, ["batch", 3]),
              helper.make_tensor_value_info("style", TensorProto.FLOAT,
                                            ["batch", dims["style_dim"]])]
    outputs = [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", size, size])]
    return g.model(generator.name, inputs, outputs,
                   "korean-gan conditional generator: noise, jamo, style -> image in [-1, 1]")


def _conditional_norm(g: _Graph, layer, x: str, condition: str) -> str:
    """ConditionalBatchNorm at inference, then ReLU: ``x * scale(c) + shift(c)`` with scale and
    shift one product of the condition (the moving statistics folded into its weights)."""
    norm = layer.norm
    mean = np.asarray(norm.moving_mean, np.float64)
    inv_std = 1.0 / np.sqrt(np.asarray(norm.moving_variance, np.float64) + norm.epsilon)
    w_gamma, b_gamma = (np.asarray(w, np.float64) for w in layer.gamma.get_weights())
    w_beta, b_beta = (np.asarray(w, np.float64) for w in layer.beta.get_weights())
    # scale = (1 + c·Wg + bg) / std;  shift = c·Wb + bb - mean · scale
    w_scale, b_scale = w_gamma * inv_std, (1.0 + b_gamma) * inv_std
    w_shift, b_shift = w_beta - w_scale * mean, b_beta - b_scale * mean
    channels = len(mean)
    both = g.op("Add", g.op("MatMul", condition, g.const(np.hstack([w_scale, w_shift]), "cbn")),
                g.const(np.concatenate([b_scale, b_shift]), "cbn_bias"))
    both = g.op("Reshape", both, g.const([-1, 2 * channels, 1, 1], "shape", np.int64))
    scale, shift = (g.op("Slice", both, g.const([start], "s", np.int64),
                         g.const([start + channels], "e", np.int64), g.const([1], "a", np.int64))
                    for start in (0, channels))
    return g.op("Relu", g.op("Add", g.op("Mul", x, scale), shift))


def export_upsampler(model) -> bytes:
    """The ONNX graph of a glyph upsampler with its grey-level input and output.

    Args:
        model: From :func:`~korean_gan.models.upsampler.build_upsampler` (float32 weights).

    Returns:
        The serialised model (inputs ``small`` uint8, ``offsets``; output ``large`` uint8).
    """
    from onnx import TensorProto, helper

    from korean_gan.models.upsampler import upsampler_dims

    dims = upsampler_dims(model)
    size, factor = dims["input_size"], dims["factor"]
    g = _Graph()
    small = g.op("Cast", "small", to=TensorProto.FLOAT)
    # ink = 1 - grey / 255, as (N, 1, S, S)
    ink = g.op("Sub", g.const(1.0, "one"), g.op("Div", small, g.const(255.0, "white")))
    x = g.op("Unsqueeze", ink, g.const([1], "axis", np.int64))

    def conv(h: str, name: str, relu: bool) -> str:
        kernel, bias = _weights(model.get_layer(name))
        h = g.op("Conv", h, g.const(_conv_kernel(kernel), name), g.const(bias, name + "_b"),
                 pads=[1, 1, 1, 1], kernel_shape=[3, 3])
        return g.op("Relu", h) if relu else h

    h = conv(x, "head", True)
    for i in range(dims["blocks"]):
        r = conv(conv(h, f"block{i}_a", True), f"block{i}_b", False)
        h = g.op("Add", h, r)
    logits = g.op("DepthToSpace", conv(h, "to_subpixels", False), blocksize=factor, mode="DCR")
    offsets = g.op("Reshape", "offsets", g.const([-1, 1, 1, 1], "shape", np.int64))
    prob = g.op("Sigmoid", g.op("Sub", logits, offsets))
    grey = g.op("Round", g.op("Mul", g.const(255.0, "white"),
                              g.op("Sub", g.const(1.0, "one"), prob)))
    large = g.op("Reshape", grey, g.const([-1, size * factor, size * factor], "shape", np.int64))
    g.op("Cast", large, to=TensorProto.UINT8, out="large")
    inputs = [helper.make_tensor_value_info("small", TensorProto.UINT8, ["n", size, size]),
              helper.make_tensor_value_info("offsets", TensorProto.FLOAT, ["n"])]
    outputs = [helper.make_tensor_value_info("large", TensorProto.UINT8,
                                             ["n", size * factor, size * factor])]
    return g.model(model.name, inputs, outputs,
                   "korean-gan glyph upsampler: grey levels and stroke offsets -> grey levels")


class OnnxNetwork:
    """One exported network in an ONNX Runtime session (CPU).

    Args:
        path: The ``.onnx`` file, or a serialised model.
        threads: Intra-op threads (None: ONNX Runtime's default, one per core).
    """

    def __init__(self, path: str | os.PathLike | bytes, threads: int | None = None):
        import onnxruntime as ort

        options = ort.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.path = None if isinstance(path, bytes) else Path(path)
        self.session = ort.InferenceSession(path if self.path is None else str(self.path),
                                            options, providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self.session.get_inputs()]
        #: Each input's shape (the batch as a name), and the output's.
        self.input_shapes = {i.name: i.shape for i in self.session.get_inputs()}
        self.output_shape = self.session.get_outputs()[0].shape

    def __call__(self, *arrays: np.ndarray) -> np.ndarray:
        return self.session.run(None, dict(zip(self.inputs, arrays, strict=True)))[0]
