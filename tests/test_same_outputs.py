"""Same seed, same bytes: every command gives exactly the outputs that the code gave before the
package was reorganised into subpackages.

The expected files in ``tests/golden/`` were written by the commands below at commit fc0907b
(the last flat-layout commit), in float32; each test runs the same command now and compares
every byte of the images (and the arrays stored beside them). The ``write-*.png`` files and
``synth-128.npz`` were rewritten when ``write`` began setting text with the fonts' metrics and
drawing through the glyph upsampler (issue #31, CHANGELOG "Unreleased"). The files of the model
that was the default then run with ``--model hangul-v2``; ``write-default.png`` and
``synth-default.npz`` were written by the commands below when the default model became hangul-v3,
and ``write-v2.png`` again when ``random-one`` began to screen what a style writes (seed 3's
first draw misreads a probe syllable in hangul-v2, so it gets another style).

Float32 kernels sum in an order that depends on TensorFlow's thread count, so the commands that
run a network run in a subprocess with two intra-op threads, as the golden files were written
(a 2-core machine's default); the bytes then hold on a machine with more or fewer cores too.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from train_processes import cli

GOLDEN = Path(__file__).resolve().parent / "golden"

#: sha256 of the image array of ``data build --charset seed16`` over the bundled fonts.
SEED16_IMAGES_SHA256 = "3d3fea096990f9371e1dea0f72f4540bfc5c7b9dedc463102631441476f98557"


def _run(*args) -> None:
    """Runs ``korean-gan args`` in a subprocess with the golden files' thread count."""
    env = {**os.environ, "TF_NUM_INTRAOP_THREADS": "2", "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run(cli(*args), env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]


def _pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path))


def _same_arrays(path: Path, golden: Path) -> None:
    with np.load(path, allow_pickle=False) as now, np.load(golden, allow_pickle=False) as then:
        assert then.files and sorted(now.files) == sorted(then.files)
        for key in then.files:
            assert now[key].dtype == then[key].dtype, key
            assert np.array_equal(now[key], then[key]), key


@pytest.fixture(scope="module")
def seed16(tmp_path_factory):
    from korean_gan.cli import main

    out = tmp_path_factory.mktemp("seed16") / "seed16.npz"
    assert main(["data", "build", "--charset", "seed16", "--out", str(out), "--quiet",
                 "--workers", "1"]) == 0
    return out


def test_data_build_seed16_is_the_same(seed16):
    with np.load(seed16, allow_pickle=False) as npz:
        assert npz["images"].shape == (1680, 32, 32)
        assert hashlib.sha256(npz["images"].tobytes()).hexdigest() == SEED16_IMAGES_SHA256


def test_data_build_with_random_augmentations_is_the_same(tmp_path, run_cli):
    out = tmp_path / "elastic.npz"
    code, _, err = run_cli("data", "build", "--charset", "가나다", "--augment", "elastic,affine",
                           "--copies", "2", "--out", out, "--quiet", "--workers", "1")
    assert code == 0, err
    _same_arrays(out, GOLDEN / "data-elastic-affine.npz")


@pytest.mark.parametrize("argv, golden", [
    (["안녕하세요 한글", "--seed", "3"], "write-default.png"),
    (["안녕하세요 한글", "--model", "hangul-v2", "--seed", "3"], "write-v2.png"),
    (["다람쥐 헌 쳇바퀴", "--model", "hangul-fast", "--style", "mix", "--seed", "1"],
     "write-fast.png"),
    (["가나다", "--model", "hangul-v1", "--style", "2"], "write-v1.png"),
])
def test_write_draws_the_same_pixels(tmp_path, argv, golden):
    out = tmp_path / "w.png"
    _run("write", *argv, "--precision", "float32", "--runtime", "tensorflow", "--out", out)
    now, then = _pixels(out), _pixels(GOLDEN / golden)
    assert now.shape == then.shape
    assert np.array_equal(now, then)


def test_write_in_onnx_runtime_draws_within_a_grey_level_or_two(tmp_path):
    # write's default (float32, --runtime auto) runs the default model in ONNX Runtime: the
    # same glyphs as TensorFlow's golden file to within a grey level or two in a few pixels.
    out = tmp_path / "w.png"
    _run("write", "안녕하세요 한글", "--seed", "3", "--out", out)
    now, then = _pixels(out).astype(int), _pixels(GOLDEN / "write-default.png").astype(int)
    assert now.shape == then.shape
    assert np.abs(now - then).max() <= 2
    assert np.mean(now != then) < 0.002


@pytest.mark.parametrize("model, golden", [("default", "synth-default.npz"),
                                           ("hangul-v2", "synth-fonts-random.npz")])
def test_synth_makes_the_same_dataset(tmp_path, model, golden):
    out = tmp_path / "synth.npz"
    _run("synth", "--charset", "가나다라마", "--per-class", "4", "--styles", "fonts,random",
         "--model", model, "--precision", "float32", "--out", out, "--quiet")
    _same_arrays(out, GOLDEN / golden)


def test_synth_at_128_px_makes_the_same_dataset(tmp_path):
    out = tmp_path / "synth.npz"
    _run("synth", "--charset", "가나다라", "--per-class", "2", "--styles", "fonts,random",
         "--size", "128", "--model", "hangul-v2", "--precision", "float32", "--out", out, "--quiet",
         "--no-preview")
    _same_arrays(out, GOLDEN / "synth-128.npz")


def test_template_draws_the_same_sheet(tmp_path, run_cli):
    out = tmp_path / "sheet.png"
    code, _, err = run_cli("template", "--charset", "가나다라마바", "--out", out)
    assert code == 0, err
    assert np.array_equal(_pixels(out), _pixels(GOLDEN / "template.png"))


@pytest.mark.slow
def test_one_epoch_of_the_reference_gan_samples_the_same_images(tmp_path, seed16):
    run = tmp_path / "run"
    _run("train", "--preset", "reference", "--data", seed16, "--epochs", "1", "--run-dir", run,
         "--no-tensorboard", "--eval-every", "0", "--quiet")
    out = tmp_path / "samples.npz"
    _run("sample", "--run-dir", run, "--n", "8", "--out", out)
    _same_arrays(out, GOLDEN / "reference-1epoch-samples.npz")
