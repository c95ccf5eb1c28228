"""The evaluator's jamo heads in ONNX Runtime: reads glyphs without loading TensorFlow.

``write`` and ``font`` screen a new random style by reading what it writes (see
:meth:`korean_gan.generate.Handwriting.crisp_random_style`); loading the Keras evaluator for
that would cost a short command four seconds of TensorFlow start-up. The committed evaluator's
three jamo heads (initial, vowel, final) are exported once to ``evaluators/<name>-jamo.onnx``
(:func:`korean_gan.evaluation.evaluator.export_jamo_reader`, ``korean-gan evaluator
export-onnx``), its sha256 kept in the evaluator's sidecar JSON; :class:`JamoReader` runs it.
Reading jamo rather than syllables works for all 11,172 syllables, not only the evaluator's
charset.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

__all__ = ["EVALUATOR_DIR", "JamoReader", "ReaderError", "reader_files"]

#: The committed evaluators: ``<name>.weights.h5``, ``<name>.json`` and ``<name>-jamo.onnx``.
EVALUATOR_DIR = Path(__file__).resolve().parents[1] / "evaluators"
#: Sizes of the three heads, in the order of the exported logits.
_HEADS = (19, 21, 28)


class ReaderError(ValueError):
    """A jamo reader that is missing, damaged or cannot read the glyphs given."""


def reader_files(name: str) -> tuple[Path, Path]:
    """A committed evaluator's jamo reader (``<name>-jamo.onnx``) and sidecar JSON."""
    return EVALUATOR_DIR / f"{name}-jamo.onnx", EVALUATOR_DIR / f"{name}.json"


class JamoReader:
    """Reads the initial, vowel and final of grey-level glyphs with an exported evaluator.

    Args:
        path: The ``.onnx`` file, checked against ``sha256`` when given.
        sha256: Its expected sha256.
    """

    def __init__(self, path: str | os.PathLike, sha256: str | None = None):
        from korean_gan._io import sha256_file
        from korean_gan.models.onnx_io import OnnxNetwork

        path = Path(path)
        if not path.is_file():
            raise ReaderError(f"the jamo reader {path} does not exist; make it with "
                              "`korean-gan evaluator export-onnx`")
        if sha256 is not None and sha256_file(path) != sha256:
            raise ReaderError(f"{path} does not match the sha256 in its evaluator's JSON (file "
                              "changed or damaged); make it again with `korean-gan evaluator "
                              "export-onnx`")
        self.network = OnnxNetwork(path)
        self.image_size = int(self.network.input_shapes["image"][1])

    @classmethod
    def load(cls, name: str = "ks2350") -> JamoReader:
        """The committed evaluator ``name``'s reader, checked against its sidecar."""
        path, sidecar = reader_files(name)
        if not sidecar.is_file():
            raise ReaderError(f"no committed evaluator {name!r} ({sidecar} is missing)")
        sha = json.loads(sidecar.read_text(encoding="utf-8")).get("jamo_onnx_sha256")
        if sha is None:
            raise ReaderError(f"the evaluator {name} has no jamo reader; make it with "
                              f"`korean-gan evaluator export-onnx {name}`")
        return cls(path, sha)

    def read(self, images: np.ndarray) -> np.ndarray:
        """The jamo each glyph reads as: ``(N, 3)`` int64 indices (initial, vowel, final),
        numbered as :func:`korean_gan.data.charsets.jamo_table` numbers them.

        Args:
            images: uint8 ``(N, S, S)``, 255 = paper.
        """
        images = np.asarray(images)
        if images.dtype != np.uint8 or images.shape[1:] != (self.image_size,) * 2:
            raise ReaderError(f"the jamo reader takes uint8 glyphs of shape (N, "
                              f"{self.image_size}, {self.image_size}); got {images.dtype} "
                              f"{images.shape}")
        logits = self.network(images)
        bounds = np.cumsum((0,) + _HEADS)
        return np.stack([logits[:, a:b].argmax(axis=1)
                         for a, b in zip(bounds[:-1], bounds[1:], strict=True)], axis=1)
