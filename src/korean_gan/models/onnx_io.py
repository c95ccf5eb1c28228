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
* evaluator's jamo heads: ``image (N, S, S) uint8`` (255 = paper) to ``jamo_logits (N, 68)
  float32``, the initial, vowel and final heads' logits side by side (19 + 21 + 28); each
  batch norm is folded into the convolution before it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

__all__ = ["OPSET", "OnnxNetwork", "export_evaluator_jamo", "export_generator",
           "export_generator_int8", "export_upsampler"]

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

    def model(self, name: str, inputs: list, outputs: list, doc: str,
              precision: str = "float32") -> bytes:
        helper = self.onnx.helper
        graph = helper.make_graph(self.nodes, name, inputs, outputs, self.initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                  producer_name="korean-gan", doc_string=doc)
        if precision != "float32":
            helper.set_model_props(model, {"precision": precision})
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
    return _generator_graph(generator, "transposed")[0]


def export_generator_int8(generator, noise: np.ndarray, jamo: np.ndarray,
                          style: np.ndarray, percentile: float = 99.999) -> bytes:
    """The ONNX graph of a conditional generator with its convolutions in 8-bit integers.

    Post-training static quantization (Jacob et al., https://arxiv.org/abs/1712.05877): each
    upsampling convolution is four 2x2 convolutions, one per output phase (the same function
    as the 4x4 transposed convolution, a quarter of its arithmetic each), run as
    ``QLinearConv`` with int8 weights (one scale per output channel) on uint8 activations;
    the phases are interleaved in uint8. The output convolution is quantized too, its logits
    to [-4.5, 4.5], where tanh is within 0.03 grey levels of +-1. Embeddings, the dense layer
    and conditional batch norm stay float32. Activation ranges come from running the
    float32 phase graph on the calibration inputs (``percentile`` of each tensor's values).

    Args:
        generator: From :func:`~korean_gan.models.networks.build_conditional_generator`.
        noise: ``(N, Z)`` calibration noise; jamo ``(N, 3)`` int; style ``(N, D)``, as the
            network takes them (a thousand glyphs of the syllables and styles it will draw).
        percentile: Where each activation's range is clipped.

    Returns:
        The serialised model, with the same inputs and output as :func:`export_generator`'s.
    """
    data, probes = _generator_graph(generator, "phases")
    values = OnnxNetwork(data).session.run(probes, {
        "noise": np.asarray(noise, np.float32), "jamo": np.asarray(jamo, np.int32),
        "style": np.asarray(style, np.float32)})
    ranges = {}
    for name, value in zip(probes, values, strict=True):
        value = value.ravel()
        ranges[name] = (min(0.0, float(np.percentile(value, 100.0 - percentile))),
                        max(float(np.percentile(value, percentile)), 1e-6))
    return _generator_graph(generator, "int8", ranges)[0]


# Output phase a (0 even row, 1 odd) of nearest 2x upsampling then a 3x3 convolution, as a
# 2x2 convolution of the input: its rows sum these 3x3 rows, and it reads input rows
# (i - 1, i) for even outputs, (i, i + 1) for odd ones (ONNX pads: before, after).
_PHASE_ROWS = (((1, 0, 0), (0, 1, 1)), ((1, 1, 0), (0, 0, 1)))
_PHASE_PADS = ((1, 0), (0, 1))
# Logits beyond this are 0 or 255 after tanh and rounding: the int8 output's range.
_LOGIT_RANGE = 4.5


def _generator_graph(generator, form: str, ranges: dict | None = None):
    """The generator's graph with its upsampling convolutions as one ``form``:

    * ``transposed``: a stride-2 4x4 ``ConvTranspose`` (float32, the shipped export);
    * ``phases``: four 2x2 ``Conv`` and ``DepthToSpace`` (float32), for calibration: returns
      the names of the tensors ``int8`` quantizes (each convolution's input and output);
    * ``int8``: the same as ``QLinearConv`` with the ``ranges`` calibrated on ``phases``.

    Returns:
        ``(serialised model, probe tensor names)``.
    """
    from onnx import TensorProto, helper

    from korean_gan.models.networks import _TRANSPOSED_TAPS, generator_dims

    dims = generator_dims(generator)
    side = dims["image_size"] // 8
    base = dims["base_filters"]
    g = _Graph()
    probes: list[str] = []
    jamo = "jamo"
    parts = []
    for column, part in enumerate(("initial", "vowel", "final")):
        table = _weights(generator.get_layer(f"embed_{part}"))[0]
        index = g.op("Gather", jamo, g.const(column, "column", np.int64), axis=1)
        parts.append(g.op("Gather", g.const(table, f"embed_{part}"), index, axis=0))
    condition = g.op("Concat", *parts, "style", axis=1)
    latent = g.op("Concat", "noise", condition, axis=1)
    dense = _weights(generator.get_layer("dense"))[0]
    if form == "int8":
        # The int8 file keeps this, its largest weight, in int8 too (a scale per column); it
        # is dequantized once per call, a twentieth of the time its product takes.
        peak = np.maximum(np.abs(dense).max(axis=0), 1e-12)
        scale = (peak / 127.0).astype(np.float32)
        weights = np.clip(np.round(dense / scale), -127, 127)
        dense = g.op("DequantizeLinear", g.const(weights, "dense", np.int8),
                     g.const(scale, "dense_scale"),
                     g.const(np.zeros_like(scale, np.int8), "dense_zero", np.int8), axis=1)
    else:
        dense = g.const(dense, "dense")
    x = g.op("MatMul", latent, dense)
    x = g.op("Reshape", x, g.const([-1, side, side, base], "shape", np.int64))
    x = g.op("Transpose", x, perm=[0, 3, 1, 2])
    for block in range(4):
        if block:
            kernel = _weights(generator.get_layer(f"conv_{block}"))[0]  # (3, 3, in, out)
            if form == "transposed":
                x = _transposed_conv(g, x, kernel, _TRANSPOSED_TAPS)
            else:
                x = _phase_conv(g, x, kernel, form, ranges, probes)
        # Fixed names for the tensors that calibration measures and int8 quantizes.
        out = None if form == "transposed" else f"features_{block}"
        x = _conditional_norm(g, generator.get_layer(f"cbn_{block}"), x, condition, out)
    head = generator.get_layer("to_image")
    kernel, bias = _weights(head)
    kernel = _conv_kernel(kernel)
    if form == "int8":
        lo, hi = -_LOGIT_RANGE, _LOGIT_RANGE
        q, x_scale = _quantize_input(g, x, ranges[x])
        w, w_scale = _int8_weights(kernel)
        bias_q = np.round(bias / (x_scale * w_scale)).astype(np.int32)
        y_scale, y_zero = (hi - lo) / 255.0, 128
        x = g.op("QLinearConv", q, g.const(x_scale, "x_scale"), g.const(0, "x_zero", np.uint8),
                 g.const(w, "to_image", np.int8), g.const(w_scale, "w_scale"),
                 g.const(np.zeros_like(w_scale, np.int8), "w_zero", np.int8),
                 g.const(y_scale, "y_scale"), g.const(y_zero, "y_zero", np.uint8),
                 g.const(bias_q, "bias", np.int32), pads=[1, 1, 1, 1], kernel_shape=[3, 3])
        x = g.op("DequantizeLinear", x, g.const(y_scale, "y_scale"),
                 g.const(y_zero, "y_zero", np.uint8))
    else:
        if form == "phases":
            probes.append(x)
        x = g.op("Conv", x, g.const(kernel, "to_image"), g.const(bias, "bias"),
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
    outputs += [helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", "c", "h", "w"])
                for name in probes]
    what = " (int8 convolutions)" if form == "int8" else ""
    return (g.model(generator.name, inputs, outputs,
                    f"korean-gan conditional generator{what}: noise, jamo, style -> image in "
                    "[-1, 1]", "int8" if form == "int8" else "float32"), probes)


def _transposed_conv(g: _Graph, x: str, kernel: np.ndarray, rows) -> str:
    """Nearest 2x upsampling then a 3x3 convolution as one stride-2 4x4 ConvTranspose."""
    # (4, 4, in, out): each transposed tap sums the 3x3 taps it stands for. In ONNX Runtime
    # this runs 1.7x faster than the plain form (nearest Resize then a 3x3 Conv) or a 3x3 Conv
    # to four phases and DepthToSpace, both with 2.25x the arithmetic. The file keeps the 3x3
    # kernel (16/9 smaller); ONNX Runtime folds the product into the 4x4 kernel once, when it
    # loads the graph.
    k_in, k_out = kernel.shape[2], kernel.shape[3]
    rows = np.array(rows, np.float32)  # the 3x3 rows each 4x4 row sums
    taps = np.einsum("py,qx->pqyx", rows, rows).reshape(16, 9)
    kernel4 = g.op("MatMul", g.const(taps, "taps"),
                   g.const(kernel.reshape(9, k_in * k_out), "kernel"))
    kernel4 = g.op("Transpose", g.op("Reshape", kernel4, g.const(
        [4, 4, k_in, k_out], "shape", np.int64)), perm=[2, 3, 0, 1])
    # ConvTranspose weights are (in, out, kh, kw); "same" output 2H pads one a side.
    return g.op("ConvTranspose", x, kernel4, strides=[2, 2], pads=[1, 1, 1, 1],
                kernel_shape=[4, 4])


def _phase_conv(g: _Graph, x: str, kernel: np.ndarray, form: str, ranges: dict | None,
                probes: list) -> str:
    """Nearest 2x upsampling then a 3x3 convolution as four 2x2 convolutions (one per output
    phase, channels phase-major) and DepthToSpace; in int8 (``QLinearConv``) or float32."""
    rows = np.array(_PHASE_ROWS, np.float32)
    phases, kernels = [], []
    for a in (0, 1):
        for b in (0, 1):
            k = np.einsum("py,qx,yxio->oipq", rows[a], rows[b], kernel)  # (out, in, 2, 2)
            pads = [_PHASE_PADS[a][0], _PHASE_PADS[b][0], _PHASE_PADS[a][1], _PHASE_PADS[b][1]]
            kernels.append((k, pads))
    out = f"{x}_phases"
    if form == "phases":
        probes.append(x)
        for k, pads in kernels:
            phases.append(g.op("Conv", x, g.const(k, "phase"), pads=pads, kernel_shape=[2, 2]))
        probes.append(g.op("Concat", *phases, axis=1, out=out))
        return g.op("DepthToSpace", out, blocksize=2, mode="DCR")
    q, x_scale = _quantize_input(g, x, ranges[x])
    lo, hi = ranges[out]
    y_scale = (hi - lo) / 255.0
    y_zero = int(np.clip(np.round(-lo / y_scale), 0, 255))
    x_scale_c, x_zero = g.const(x_scale, "x_scale"), g.const(0, "x_zero", np.uint8)
    y_scale_c, y_zero_c = g.const(y_scale, "y_scale"), g.const(y_zero, "y_zero", np.uint8)
    for k, pads in kernels:
        w, w_scale = _int8_weights(k)
        phases.append(g.op("QLinearConv", q, x_scale_c, x_zero, g.const(w, "phase", np.int8),
                           g.const(w_scale, "w_scale"),
                           g.const(np.zeros_like(w_scale, np.int8), "w_zero", np.int8),
                           y_scale_c, y_zero_c, pads=pads, kernel_shape=[2, 2]))
    # Interleaving in uint8 moves a quarter of the bytes of float32.
    y = g.op("DepthToSpace", g.op("Concat", *phases, axis=1), blocksize=2, mode="DCR")
    return g.op("DequantizeLinear", y, y_scale_c, y_zero_c)


def _quantize_input(g: _Graph, x: str, value_range) -> tuple[str, float]:
    """``x`` (after a ReLU: not negative) as uint8 with zero point 0, and its scale."""
    scale = float(np.float32(value_range[1] / 255.0))
    return g.op("QuantizeLinear", x, g.const(scale, "x_scale"),
                g.const(0, "x_zero", np.uint8)), scale


def _int8_weights(kernel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An ``(out, in, kh, kw)`` kernel as int8 in [-127, 127] with a scale per output channel."""
    peak = np.abs(kernel).reshape(len(kernel), -1).max(axis=1)
    scale = (np.maximum(peak, 1e-12) / 127.0).astype(np.float32)
    weights = np.clip(np.round(kernel / scale[:, None, None, None]), -127, 127)
    return weights.astype(np.int8), scale


def _conditional_norm(g: _Graph, layer, x: str, condition: str, out: str | None = None) -> str:
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
    return g.op("Relu", g.op("Add", g.op("Mul", x, scale), shift), out=out)


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


def export_evaluator_jamo(model) -> bytes:
    """The ONNX graph of an evaluator's jamo heads, from grey-level glyphs to logits.

    Args:
        model: From :func:`~korean_gan.models.networks.build_evaluator` with a ``jamo_table``
            (float32 weights).

    Returns:
        The serialised model (input ``image`` uint8; output ``jamo_logits``).
    """
    from onnx import TensorProto, helper

    size = int(model.input_shape[1])
    g = _Graph()
    image = g.op("Cast", "image", to=TensorProto.FLOAT)
    # The model's own Rescaling: grey levels to [-1, 1].
    x = g.op("Sub", g.op("Div", image, g.const(127.5, "half")), g.const(1.0, "one"))
    x = g.op("Unsqueeze", x, g.const([1], "axis", np.int64))
    for block in range(1, 4):
        kernel = _weights(model.get_layer(f"conv{block}"))[0]
        norm = model.get_layer(f"bn{block}")
        gamma, beta, mean, var = _weights(norm)
        scale = gamma / np.sqrt(var + norm.epsilon)
        x = g.op("Conv", x, g.const(_conv_kernel(kernel) * scale[:, None, None, None],
                                    f"conv{block}"),
                 g.const(beta - mean * scale, f"conv{block}_b"), pads=[1, 1, 1, 1],
                 kernel_shape=[3, 3])
        x = g.op("MaxPool", g.op("Relu", x), kernel_shape=[2, 2], strides=[2, 2])
    # Keras flattens channels-last.
    x = g.op("Flatten", g.op("Transpose", x, perm=[0, 2, 3, 1]), axis=1)
    weights, bias = _weights(model.get_layer("features"))
    x = g.op("Relu", g.op("Gemm", x, g.const(weights, "features"), g.const(bias, "features_b")))
    heads = []
    for part in ("initial", "vowel", "final"):
        weights, bias = _weights(model.get_layer(part))
        heads.append(g.op("Gemm", x, g.const(weights, part), g.const(bias, part + "_b")))
    g.op("Concat", *heads, axis=1, out="jamo_logits")
    width = sum(int(model.get_layer(p).units) for p in ("initial", "vowel", "final"))
    inputs = [helper.make_tensor_value_info("image", TensorProto.UINT8, ["n", size, size])]
    outputs = [helper.make_tensor_value_info("jamo_logits", TensorProto.FLOAT, ["n", width])]
    return g.model(model.name, inputs, outputs,
                   "korean-gan evaluator, jamo heads: grey levels -> initial, vowel and final "
                   "logits")


class OnnxNetwork:
    """One exported network in an ONNX Runtime session (CPU).

    A call splits its batch into blocks of ``block`` rows and runs them side by side on
    ``threads`` threads, one block per thread at a time, each block single-threaded. These
    networks' layers are small: ONNX Runtime's own intra-op threads split each one and wait
    for each other, where whole blocks side by side keep every core busy (on 2 cores the
    generator draws 1.9x its one-thread rate this way; ``benchmarks/int8_quality.py``).
    Every row's result depends only on the block it is in, so outputs are the same byte for
    byte with any number of threads.

    Args:
        path: The ``.onnx`` file, or a serialised model.
        threads: Blocks run at once (None: one per core available to this process).
        block: Rows per session run. The generator draws 10% more glyphs a second on one
            thread in blocks of 64 than of 640 (1,398 against 1,271): a block's feature maps
            stay in cache.
    """

    def __init__(self, path: str | os.PathLike | bytes, threads: int | None = None,
                 block: int = 64):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.path = None if isinstance(path, bytes) else Path(path)
        # One session serves every thread: ONNX Runtime's run is thread-safe and releases the
        # GIL, and the weights are held once.
        self.session = ort.InferenceSession(path if self.path is None else str(self.path),
                                            options, providers=["CPUExecutionProvider"])
        self.threads = max(1, threads or _cores())
        self.block = block
        self._pool = None
        self.inputs = [i.name for i in self.session.get_inputs()]
        #: Each input's shape (the batch as a name), and the output's.
        self.input_shapes = {i.name: i.shape for i in self.session.get_inputs()}
        self.output_shape = self.session.get_outputs()[0].shape
        #: What the network computes in: ``int8`` (quantized convolutions) or ``float32``.
        self.precision = self.session.get_modelmeta().custom_metadata_map.get(
            "precision", "float32")

    def _run(self, arrays) -> np.ndarray:
        return self.session.run(None, dict(zip(self.inputs, arrays, strict=True)))[0]

    def __call__(self, *arrays: np.ndarray) -> np.ndarray:
        n = len(arrays[0])
        blocks = [tuple(a[start:start + self.block] for a in arrays)
                  for start in range(0, n, self.block)]
        if len(blocks) <= 1 or self.threads == 1:
            outs = [self._run(b) for b in blocks] if blocks else [self._run(arrays)]
        else:
            if self._pool is None:
                from concurrent.futures import ThreadPoolExecutor

                self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="onnx")
            outs = list(self._pool.map(self._run, blocks))
        return outs[0] if len(outs) == 1 else np.concatenate(outs)

    def __del__(self):
        if getattr(self, "_pool", None) is not None:
            self._pool.shutdown(wait=False)


def _cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS reports it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1
