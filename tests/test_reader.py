"""The evaluator's jamo heads in ONNX Runtime (``evaluation.reader``) and the random-style
screen that uses them (``Handwriting.crisp_random_style``)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import numpy as np
import pytest

from korean_gan.data.charsets import jamo_table
from korean_gan.evaluation.reader import EVALUATOR_DIR, JamoReader, ReaderError
from korean_gan.generate import PROBE_SYLLABLES, Handwriting


@pytest.fixture(scope="module")
def hw() -> Handwriting:
    return Handwriting.load("default", precision="float32", runtime="onnx")


@pytest.fixture(scope="module")
def reader() -> JamoReader:
    return JamoReader.load("ks2350")


def test_the_reader_is_the_keras_evaluators_jamo_heads(hw, reader):
    from korean_gan.evaluation.evaluator import Evaluator
    from korean_gan.models.onnx_io import export_evaluator_jamo

    evaluator = Evaluator.load("ks2350")
    # The committed file is what exporting the committed weights gives, byte for byte.
    card = json.loads((EVALUATOR_DIR / "ks2350.json").read_text(encoding="utf-8"))
    exported = export_evaluator_jamo(evaluator.model)
    assert hashlib.sha256(exported).hexdigest() == card["jamo_onnx_sha256"]
    # Glyphs in every font style and in random ones: the same jamo as Keras's heads.
    glyphs = np.concatenate([hw.glyphs("닭꽃쥐햇읊곪뷁똠", style=s, seed=1)
                             for s in [*range(18), "random", "mix"]])
    out = evaluator.model(glyphs[..., None].astype(np.float32), training=False)
    keras_jamo = np.stack([np.asarray(out[h]).argmax(1) for h in ("initial", "vowel", "final")],
                          axis=1)
    np.testing.assert_array_equal(reader.read(glyphs), keras_jamo)


def test_the_reader_reads_the_font_styles_probe(hw, reader):
    for style in (0, "Gaegu-Regular", "NanumBrushScript-Regular"):
        glyphs = hw.glyphs(PROBE_SYLLABLES, style=style, seed=0)
        read = reader.read(glyphs)
        # Every KS X 1001 probe syllable reads as itself (뷁, outside it, may not).
        known = [len(c.encode("euc-kr")) == 2 for c in PROBE_SYLLABLES]
        assert sum(known) == len(PROBE_SYLLABLES) - 1
        np.testing.assert_array_equal(read[known], jamo_table(PROBE_SYLLABLES)[known])


def test_a_damaged_reader_is_refused(tmp_path, reader):
    card = json.loads((EVALUATOR_DIR / "ks2350.json").read_text(encoding="utf-8"))
    copy = tmp_path / "ks2350-jamo.onnx"
    data = bytearray((EVALUATOR_DIR / "ks2350-jamo.onnx").read_bytes())
    data[-100] ^= 0xFF
    copy.write_bytes(bytes(data))
    with pytest.raises(ReaderError, match="does not match the sha256 in its evaluator's JSON"):
        JamoReader(copy, card["jamo_onnx_sha256"])
    with pytest.raises(ReaderError, match="does not exist; make it with `korean-gan evaluator "
                                          "export-onnx`"):
        JamoReader(tmp_path / "missing.onnx")
    with pytest.raises(ReaderError, match=r"takes uint8 glyphs of shape \(N, 32, 32\)"):
        reader.read(np.zeros((2, 64, 64), np.uint8))


def test_random_one_is_a_draw_that_passes_the_screen(hw):
    from korean_gan.models.styles import random_styles

    grey_limit = 1.1 * float(hw._probe(hw.styles)[0].max())
    replaced = 0
    for seed in range(12):
        style = hw.crisp_random_style(seed)
        np.testing.assert_array_equal(style, hw.crisp_random_style(seed))  # same seed, same
        grey, misread = hw._probe(style[None])
        assert grey[0] <= grey_limit and misread[0] == 0, seed
        first = random_styles(hw.styles, 1, seed)
        first_grey, first_misread = hw._probe(first)
        passes = first_grey[0] <= grey_limit and first_misread[0] == 0
        # A seed whose first draw passes keeps it; one whose draw fails gets another.
        assert np.array_equal(style, first[0]) == passes, seed
        replaced += not passes
    # Most first draws misread a probe syllable (about 7 in 10): the screen is not idle.
    assert replaced >= 4


def test_cli_export_refuses_an_evaluator_without_jamo_heads(tmp_path):
    before = sorted(p.name for p in EVALUATOR_DIR.iterdir())
    done = subprocess.run([sys.executable, "-m", "korean_gan.cli", "evaluator", "export-onnx",
                           "seed16"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2  # bad input
    assert done.stderr.strip().splitlines()[-1] == (
        "korean-gan: error: the evaluator seed16 reads syllables with one head, not jamo: "
        "export one trained with jamo heads (ks2350)")
    assert sorted(p.name for p in EVALUATOR_DIR.iterdir()) == before
