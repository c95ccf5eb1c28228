"""Reliability: bad input never crashes, a killed run loses no work, loading never runs code.

This module holds what the other test modules do not already cover: fonts with CFF outlines,
collections with a bad face, a build over a folder of every kind of bad font, changed bundled
fonts, charsets in other encodings, bad datasets and configurations caught before training,
property tests of the renderer and augmenter, training stopped by SIGTERM, SIGKILL at a random
moment or in the middle of a checkpoint write, a diverging loss, a failing disk and a vanished
run folder, and crafted files (pickles, Keras archives with code, files that are not weights).
"""

from __future__ import annotations

import ast
import csv
import json
import os
import random
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from korean_gan.data.augment import (
    POLICIES,
    AugmentConfig,
    augment_glyph,
    augmentation_names,
    random_affine,
)
from korean_gan.data.charsets import CharsetError, resolve_charset
from korean_gan.data.dataset import DatasetError
from korean_gan.data.fonts import (
    CATALOG_FIELDS,
    FontError,
    FontSkippedWarning,
    drawn_syllables,
    load_faces,
    read_catalog,
)
from korean_gan.data.render import GlyphRenderer, RenderConfig
from train_processes import cli, env, train_args, wait_for  # noqa: E402

SRC = Path(__file__).resolve().parents[1] / "src" / "korean_gan"


def _one_error_line(stderr: str) -> str:
    """The CLI's single error line (and asserts there is exactly one and no traceback)."""
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("korean-gan: error: "), stderr
    return lines[0]


class _Canary:
    """Unpickling this creates a folder: proof that a loader executed data from a file."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def _pickled_npz(path: Path, marker: Path, key: str, **others) -> Path:
    """An .npz whose ``key`` member is an object array that runs ``os.mkdir`` when unpickled."""
    np.savez(path, **{key: np.array([_Canary(marker)] * 2, dtype=object)}, **others)
    with zipfile.ZipFile(path) as zf:              # the premise: the payload is in the file
        assert b"mkdir" in zf.read(f"{key}.npy")
    return path


# --- fonts --------------------------------------------------------------------------------------

def test_cff_outline_font_is_read_checked_and_rendered_like_its_truetype_source(cff_font,
                                                                                  two_fonts):
    (face,) = load_faces([cff_font.path])
    assert (face.family, face.name, face.index) == ("Cute Font CFF", "CuteFontCFF-Regular", 0)
    # The outline check reads CFF charstrings (no glyf table): an empty one is not drawn.
    drawn, skipped = drawn_syllables(face, "가나다라똠")
    assert drawn == list(cff_font.drawn)
    assert skipped == {cff_font.empty: "empty outline", "똠": "no cmap entry"}
    cff = GlyphRenderer(face)
    ttf = GlyphRenderer(load_faces([two_fonts[0]])[0])
    for char in cff_font.drawn:
        image, reference = cff.render(char), ttf.render(char)
        assert image.shape == (32, 32) and image.dtype == np.uint8 and image.min() < 64
        # The same shapes as cubic curves: the images differ only at anti-aliased edges.
        assert np.abs(image.astype(int) - reference).mean() < 8, char
    assert cff.render(cff_font.empty) is None


def test_collection_face_without_hangul_is_skipped_by_face(tmp_path, subset_font):
    from fontTools.ttLib import TTCollection

    collection = TTCollection()
    collection.fonts = [subset_font("CuteFont-Regular.ttf", "가나", as_ttfont=True),
                        subset_font("DoHyeon-Regular.ttf", "ABC", as_ttfont=True)]
    path = tmp_path / "mixed.ttc"
    collection.save(path)
    with pytest.warns(FontSkippedWarning) as record:
        faces = load_faces([path])
    assert [(f.name, f.index) for f in faces] == [("mixed#0", 0)]
    (message,) = [str(w.message) for w in record if issubclass(w.category, FontSkippedWarning)]
    assert message == f"skipping font: {path.resolve()} (face 1) maps no Hangul syllable"
    with pytest.raises(FontError, match=r"mixed\.ttc \(face 1\) maps no Hangul syllable"):
        load_faces([path], strict=True)


def test_build_over_a_folder_of_bad_fonts_warns_once_per_file_and_uses_the_good_ones(
        tmp_path, two_fonts, bad_fonts, cff_font, run_cli):
    import shutil

    bad = [bad_fonts(kind) for kind in ("random", "truncated", "empty", "folder", "no_hangul")]
    folder = bad[0].parent
    bad_fonts("fake_cmap")              # maps 똠햏뙇 to placeholders; draws 가나다
    shutil.copy(cff_font.path, folder)
    for font in two_fonts:
        shutil.copy(font, folder)
    out = tmp_path / "set.npz"
    code, stdout, stderr = run_cli("data", "build", "--charset", "가나다", "--fonts", folder,
                                   "--out", out, "--quiet", "--no-preview", "--workers", "1")
    assert code == 0, stderr
    assert "Traceback" not in stderr
    warned = [line for line in stderr.splitlines() if line.startswith("warning:")]
    assert len(warned) == len(bad) == len(stderr.strip().splitlines())
    for path, line in zip(sorted(bad), warned, strict=True):
        assert line.startswith(f"warning: skipping font: {path.resolve()} "), line
    with np.load(out, allow_pickle=False) as npz:
        assert list(npz["fonts"]) == ["CuteFont-Regular", "CuteFontCFF-Regular",
                                      "DoHyeon-Regular", "fake_cmap"]
        assert npz["images"].shape == (3 * 4 * 5, 32, 32)     # 3 syllables × 4 fonts × 5
    # --strict stops at the first bad file (in name order), with one line naming it.
    code, _, stderr = run_cli("data", "build", "--charset", "가나다", "--fonts", folder,
                              "--out", tmp_path / "strict.npz", "--quiet", "--strict")
    assert code == 2
    line = _one_error_line(stderr)
    assert str((folder / "empty.ttf").resolve()) in line and "not a readable font" in line
    assert not (tmp_path / "strict.npz").exists()


@pytest.fixture
def bundled_copy(tmp_path, two_fonts, monkeypatch) -> Path:
    """A bundled font folder of the two small fonts with their catalog rows, in use."""
    folder = tmp_path / "bundled"
    folder.mkdir()
    names = {p.name for p in two_fonts}
    rows = [asdict(e) for e in read_catalog() if e.file in names]
    assert len(rows) == 2
    with open(folder / "catalog.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=CATALOG_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    for font in two_fonts:
        (folder / font.name).write_bytes(font.read_bytes())
    monkeypatch.setenv("KOREAN_GAN_FONTS", str(folder))
    return folder


def test_changed_bundled_font_is_refused_with_its_name(bundled_copy, two_fonts, run_cli):
    assert [f.name for f in load_faces(["bundled"])] == ["CuteFont-Regular", "DoHyeon-Regular"]
    changed = bundled_copy / two_fonts[1].name
    changed.write_bytes(changed.read_bytes() + b"\0")   # one byte more: still a usable font
    for strict in (False, True):                       # never silently skipped
        with pytest.raises(FontError) as info:
            load_faces(["bundled"], strict=strict)
        message = str(info.value)
        assert str(changed.resolve()) in message and "sha256" in message
        assert "restore it" in message and "\n" not in message
    # The same file given by its path is checked too: it is still the bundled one.
    with pytest.raises(FontError, match="does not match its sha256"):
        load_faces([changed])
    code, _, stderr = run_cli("data", "build", "--charset", "가", "--out",
                              bundled_copy.parent / "x.npz", "--quiet")
    assert code == 2 and "DoHyeon-Regular.ttf does not match its sha256" in _one_error_line(
        stderr)
    # A font the catalog does not list (the user's own, dropped in) is not checked.
    changed.rename(bundled_copy / "Mine.ttf")
    assert [f.name for f in load_faces(["bundled"])] == ["CuteFont-Regular", "Mine"]


# --- charsets -----------------------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["cp949", "utf-16", "utf-32", "utf-16-be"])
def test_charset_file_in_another_encoding_is_refused_naming_it(tmp_path, encoding):
    path = tmp_path / f"set-{encoding}.txt"
    path.write_bytes("가나다똠".encode(encoding))
    with pytest.raises(CharsetError) as info:
        resolve_charset(str(path))
    assert str(info.value) == f"charset file {path} is not UTF-8 text (byte 0); save it as UTF-8"


def test_jamo_are_not_syllables_but_decomposed_text_is(tmp_path):
    import unicodedata

    # A file saved decomposed (NFD, as some macOS tools do): 가 is then ᄀ + ᅡ; it is
    # composed back (NFC) and read as the syllables it spells.
    path = tmp_path / "nfd.txt"
    path.write_text(unicodedata.normalize("NFD", "가나"), encoding="utf-8")
    assert resolve_charset(str(path)).chars == ("가", "나")
    # A syllable followed by a conjoining final composes into one syllable: 가 + ᆨ = 각.
    assert resolve_charset("가\u11a8").chars == ("각",)
    with pytest.raises(CharsetError, match=r"character 1, 'ᄀ' \(U\+1100\), is not a "):
        resolve_charset("\u1100가")            # a lone initial consonant, then a syllable
    with pytest.raises(CharsetError, match=r"character 2, 'ㅏ' \(U\+314F\), is not a "):
        resolve_charset("가ㅏ")                   # a compatibility vowel
    # Jamo alone read as a charset name that does not exist: still one clear line.
    with pytest.raises(CharsetError, match="^unknown charset 'ㅏ': use one of seed16"):
        resolve_charset("ㅏ")


# --- datasets and configuration: refused before any training ------------------------------------

def _arrays(path: Path) -> dict:
    with np.load(path, allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


@pytest.mark.parametrize("damage, message", [
    ("float_images", "images has dtype float32, expected uint8"),
    ("label_range", "labels out of range [0, 2)"),
    ("no_labels", "lacks the arrays ['labels']"),
    ("flat_images", "images have shape (20, 1024)"),
    ("truncated", "cannot be read"),
])
def test_bad_dataset_stops_training_before_it_starts(tiny_data, tmp_path, damage, message):
    from korean_gan.training.config import TrainConfig
    from korean_gan.training.trainer import train

    arrays = _arrays(tiny_data)
    path = tmp_path / "bad.npz"
    if damage == "truncated":
        path.write_bytes(tiny_data.read_bytes()[:3000])
    else:
        if damage == "float_images":
            arrays["images"] = arrays["images"].astype(np.float32)
        elif damage == "label_range":
            arrays["labels"][3] = 2
        elif damage == "no_labels":
            del arrays["labels"]
        elif damage == "flat_images":
            arrays["images"] = arrays["images"].reshape(20, -1)
        np.savez(path, **arrays)
    run = tmp_path / "run"
    with pytest.raises(DatasetError) as info:
        train(TrainConfig.from_preset("reference", data=str(path), run_dir=str(run), epochs=1,
                                      batch_size=4, verbose=0, tensorboard=False))
    assert message in str(info.value) and str(path) in str(info.value)
    assert not run.exists()                            # nothing started, nothing written


@pytest.mark.parametrize("override, message", [
    ({"epochs": -3}, "epochs must be a positive integer, got -3"),
    ({"epochs": 0}, "epochs must be a positive integer, got 0"),
    ({"batch_size": 0}, "batch-size must be a positive integer, got 0"),
    ({"batch_size": 21}, "batch size 21 is larger than the dataset"),
    ({"checkpoint_every": -1}, "checkpoint-every must be a positive integer, got -1"),
    ({"eval_every": -10}, "eval-every must be 0 or a positive integer, got -10"),
    ({"g_learning_rate": -1e-4}, "g-learning-rate must be positive"),
    ({"beta_1": 1.0}, "beta-1 must be in [0, 1), got 1.0"),
    ({"model": "vae"}, "unknown model 'vae'"),
    ({"loss": "wasserstein"}, "unknown loss 'wasserstein'"),
    ({"strategy": "tpu"}, "unknown strategy 'tpu'"),
    ({"precision": "fp8"}, "unknown precision 'fp8'"),
    ({"diffaugment": "translation,flip"}, "unknown DiffAugment transform 'flip'"),
    ({"preset": "hangul2"}, "unknown preset 'hangul2'"),
])
def test_bad_training_configuration_is_named_before_training(tiny_data, tmp_path, override,
                                                             message):
    from korean_gan.training.config import TrainConfig
    from korean_gan.training.trainer import train

    run = tmp_path / "run"
    config = TrainConfig.from_preset("reference", data=str(tiny_data), run_dir=str(run), epochs=1,
                                     batch_size=4, verbose=0, tensorboard=False)
    if not all(hasattr(config, key) for key in override):  # a conditional model's own setting
        config = TrainConfig.from_preset("hangul", data=str(tiny_data), run_dir=str(run),
                                         epochs=1, batch_size=4, verbose=0, tensorboard=False)
    assert all(hasattr(config, key) for key in override)
    for key, value in override.items():
        setattr(config, key, value)
    with pytest.raises(ValueError) as info:
        train(config)
    assert message in str(info.value)
    assert not run.exists()


def test_run_folder_that_is_a_file_or_not_writable(tiny_data, tmp_path, monkeypatch):
    from korean_gan.training.config import TrainConfig, TrainError
    from korean_gan.training.trainer import train

    def attempt(run_dir):
        with pytest.raises(TrainError) as info:
            train(TrainConfig.from_preset("reference", data=str(tiny_data), run_dir=str(run_dir),
                                          epochs=1, batch_size=4, verbose=0, tensorboard=False))
        return str(info.value)

    afile = tmp_path / "afile"
    afile.write_text("x")
    assert attempt(afile) == f"run folder {afile} is a file; choose another --run-dir"
    assert attempt(afile / "runs" / "r") == (f"run folder {afile / 'runs' / 'r'} cannot be "
                                             f"created: {afile} is a file; choose another "
                                             "--run-dir")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    if os.access(locked, os.W_OK):
        # Running as root, permissions do not bind: report the folder as the OS would to others.
        real_access = os.access
        monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if Path(p) == locked
                            else real_access(p, mode, **kw))
    assert attempt(locked / "run") == (f"run folder {locked / 'run'}: {locked} is not writable; "
                                       "choose another --run-dir")
    locked.chmod(0o755)


def test_cli_configuration_errors_are_one_line(tiny_data, tmp_path, run_cli):
    afile = tmp_path / "afile"
    afile.write_text("x")
    cases = [
        (["train", "--data", tiny_data, "--epochs", "-1", "--run-dir", tmp_path / "r1"],
         "argument --epochs: must be from 1 to 100,000, got -1"),
        (["train", "--data", tiny_data, "--epochs", "1", "--run-dir", tmp_path / "r2"],
         f"batch size 256 is larger than the dataset {tiny_data} (20 images)"),
        (["train", "--preset", "nope", "--data", tiny_data], "unknown preset 'nope'"),
        (["train", "--data", tiny_data, "--run-dir", afile], f"run folder {afile} is a file"),
        (["data", "build", "--charset", "가", "--out", afile / "x.npz"],
         f"cannot write {afile / 'x.npz'}: {afile} is a file, not a folder"),
        (["data", "build", "--charset", "가", "--out", tmp_path], f"output {tmp_path} is a folder"),
        (["data", "build", "--charset", "가", "--augment", "reference,mirror", "--out",
          tmp_path / "m.npz"], "unknown augmentation policy 'mirror'"),
    ]
    for argv, message in cases:
        code, _, stderr = run_cli(*argv)
        assert code == 2, argv
        assert message in _one_error_line(stderr), (argv, stderr)
    assert not (tmp_path / "r1").exists() and not (tmp_path / "r2").exists()


# --- properties of the renderer and the augmenter -----------------------------------------------

#: Cute Font draws exactly the 2,350 KS syllables, Gamja Flower all 11,172 (see the catalog).
PROPERTY_FONTS = ("CuteFont-Regular.ttf", "GamjaFlower-Regular.ttf")
_faces: dict = {}


def _render(font_dir: Path, font: str, size: int, char: str) -> tuple[np.ndarray | None, dict]:
    """The glyph (or None) and the outline check's reasons, from a renderer closed after use."""
    if font not in _faces:
        (_faces[font],) = load_faces([font_dir / font])
    renderer = GlyphRenderer(_faces[font], RenderConfig(size=size))
    try:
        return renderer.render(char), renderer.check([char])
    finally:
        renderer.close()


syllables = st.integers(0xAC00, 0xD7A3).map(chr)
sizes = st.integers(8, 128)


@settings(max_examples=40, deadline=None, database=None)
@given(char=syllables, size=sizes, font=st.sampled_from(PROPERTY_FONTS))
def test_render_any_syllable_at_any_size(font_dir, char, size, font):
    image, not_drawn = _render(font_dir, font, size, char)
    if not_drawn:
        assert image is None                     # an undrawn syllable is never an image
        assert font == PROPERTY_FONTS[0]         # (the all-11,172 font draws every one)
        return
    assert image is not None
    assert image.shape == (size, size) and image.dtype == np.uint8
    assert image.max() == 255 and image.min() < 128          # paper and real ink
    # Ink stays inside the image, within the margin: every pixel outside the box is paper.
    margin = (size - RenderConfig(size=size).box) // 2
    outside = np.ones_like(image, dtype=bool)
    outside[margin:size - margin, margin:size - margin] = False
    assert (image[outside] == 255).all()


def _ink(image: np.ndarray) -> float:
    return float((255 - image.astype(np.float64)).sum())


@settings(max_examples=30, deadline=None, database=None)
@given(char=st.integers(0, 2349), size=sizes, seed=st.integers(0, 2**32 - 1),
       policies=st.lists(st.sampled_from(sorted(POLICIES)), min_size=1, max_size=5, unique=True),
       copies=st.integers(1, 3))
def test_augment_any_glyph_with_any_policy_and_seed(font_dir, char, size, seed, policies,
                                                    copies):
    from korean_gan.data.charsets import ks2350

    glyph, _ = _render(font_dir, PROPERTY_FONTS[0], size, ks2350().chars[char])
    config = AugmentConfig(tuple(policies), copies)
    names = augmentation_names(config)
    outputs = augment_glyph(glyph, config, np.random.default_rng(seed))
    assert len(outputs) == len(names)
    np.testing.assert_array_equal(outputs[0], glyph)
    # The same seed gives the same images.
    again = augment_glyph(glyph, config, np.random.default_rng(seed))
    assert all(np.array_equal(a, b) for a, b in zip(outputs, again, strict=True))
    ink = _ink(glyph)
    for name, image in zip(names, outputs, strict=True):
        assert image.shape == (size, size) and image.dtype == np.uint8, name
        assert image.min() < 255, f"{name}: all ink lost"
        ratio = _ink(image) / ink
        if name.startswith("shift"):
            # A wrap shift moves pixels around the image: nothing is lost or added.
            assert sorted(image.ravel().tolist()) == sorted(glyph.ravel().tolist())
        elif name.startswith("rot"):
            # The reference's ±15° rotation keeps the frame, so it may cut a corner's ink.
            assert 0.97 <= ratio <= 1.02, (name, ratio)
        elif name == "thick":
            assert (image <= glyph).all()        # only darker: strokes grow
        elif name == "thin":
            assert (image >= glyph).all()        # only lighter: strokes shrink
        elif name.startswith("elastic"):
            assert 0.8 <= ratio <= 1.25, (name, ratio)
        elif name.startswith("affine"):
            # Scale 0.85-1 shrinks the ink's area by up to 0.85² = 0.72 (a little more for a
            # glyph that no longer fits a tiny frame: see the next test).
            assert 0.65 <= ratio <= 1.02, (name, ratio)


@settings(max_examples=25, deadline=None, database=None)
@given(char=st.integers(0, 2349), size=sizes, seed=st.integers(0, 2**32 - 1))
def test_affine_never_cuts_ink_at_the_frame(font_dir, char, size, seed):
    """The glyph keeps every ink pixel of the same random change made on a sheet with room
    around it (the frame moves by whole pixels to hold it), unless the changed glyph is larger
    than the frame, which then shrinks it to fit."""
    from korean_gan.data.charsets import ks2350

    glyph, _ = _render(font_dir, PROPERTY_FONTS[0], size, ks2350().chars[char])
    out = random_affine(glyph, np.random.default_rng(seed))
    assert out.shape == glyph.shape and out.dtype == np.uint8 and out.min() < 255
    pad = size // 2
    free = random_affine(np.pad(glyph, pad, constant_values=255), np.random.default_rng(seed))
    rows = np.flatnonzero((free < 255).any(axis=1))
    cols = np.flatnonzero((free < 255).any(axis=0))
    if rows[-1] - rows[0] < size and cols[-1] - cols[0] < size:
        np.testing.assert_array_equal(np.sort(out[out < 255]), np.sort(free[free < 255]))
    else:
        assert _ink(out) < _ink(free)                 # shrunk to fit, not cut


# --- training survives interruption (real processes) --------------------------------------------

def _log_epochs(run: Path) -> list[int]:
    with open(run / "log.csv", newline="") as fh:
        return [int(row["epoch"]) for row in csv.DictReader(fh)]


def _latest_number(run: Path) -> int:
    import tensorflow as tf

    latest = tf.train.latest_checkpoint(str(run / "checkpoints"))
    assert latest is not None
    return int(latest.rsplit("-", 1)[1])


def _checkpoint_is_finite(prefix: str) -> bool:
    import tensorflow as tf

    reader = tf.train.load_checkpoint(prefix)
    floats = [name for name, dtype in reader.get_variable_to_dtype_map().items()
              if dtype.is_floating]
    # Both networks' weights and the optimizers' slots: an empty list would be "finite" too.
    assert len(floats) > 10, f"{prefix} holds only {floats}"
    return all(np.isfinite(reader.get_tensor(name)).all() for name in floats)


@pytest.mark.slow
def test_sigkill_at_a_random_moment_always_resumes(tiny_data, tmp_path):
    seed = int.from_bytes(os.urandom(4), "little")
    delay = random.Random(seed).uniform(0.0, 3.0)
    where = f"(random seed {seed}: killed {delay:.2f} s after the first checkpoint)"
    run = tmp_path / "run"
    proc = subprocess.Popen(cli(*train_args(tiny_data, run, 500)), env=env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    wait_for(run / "checkpoints" / "checkpoint", proc)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL, where
    saved = _latest_number(run)
    done = subprocess.run(cli("train", "--resume", "--run-dir", run, "--epochs", saved + 2,
                               "--quiet"), env=env(), capture_output=True, text=True)
    assert done.returncode == 0, f"{where}: {done.stderr[-2000:]}"
    assert _log_epochs(run) == list(range(1, saved + 3)), where
    assert _latest_number(run) == saved + 2, where
    assert _checkpoint_is_finite(str(run / "checkpoints" / f"ckpt-{saved + 2}")), where


# Kills the training process while it writes the checkpoint of epoch 3: the data files are
# written (the data file then cut in half, as a kill in mid-write leaves it), but not yet the
# `checkpoint` index that names the latest one.
_KILL_IN_CHECKPOINT_WRITE = """
import os, signal, sys
from tensorflow.python.checkpoint import checkpoint_management as cm

real_update = cm.update_checkpoint_state_internal

def update(save_dir, model_checkpoint_path, *args, **kwargs):
    if model_checkpoint_path.endswith("ckpt-3"):
        data = model_checkpoint_path + ".data-00000-of-00001"
        os.truncate(data, os.path.getsize(data) // 2)
        os.kill(os.getpid(), signal.SIGKILL)
    return real_update(save_dir, model_checkpoint_path, *args, **kwargs)

cm.update_checkpoint_state_internal = update
from korean_gan.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_kill_while_writing_a_checkpoint_keeps_the_previous_one(tiny_data, tmp_path):
    run = tmp_path / "run"
    killed = subprocess.run([sys.executable, "-c", _KILL_IN_CHECKPOINT_WRITE,
                             *map(str, train_args(tiny_data, run, 5))], env=env(),
                            capture_output=True, text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    # The premise: a half-written ckpt-3 is on disk; the index still names ckpt-2.
    data3 = run / "checkpoints" / "ckpt-3.data-00000-of-00001"
    assert data3.is_file() and data3.stat().st_size < (
        run / "checkpoints" / "ckpt-2.data-00000-of-00001").stat().st_size
    assert _latest_number(run) == 2
    done = subprocess.run(cli("train", "--resume", "--run-dir", run, "--quiet"), env=env(),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    # The half-written one is named and skipped.
    assert "ckpt-3 is damaged" in done.stderr and "resuming from ckpt-2" in done.stderr, \
        done.stderr[-2000:]
    assert _log_epochs(run) == [1, 2, 3, 4, 5]
    assert _latest_number(run) == 5
    assert _checkpoint_is_finite(str(run / "checkpoints" / "ckpt-5"))


# --- training stops cleanly on divergence and failing storage (in-process) ----------------------

@pytest.fixture
def handlers_kept():
    """Checks that training hands SIGINT/SIGTERM back even when it stops with an error."""
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    yield
    after = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGINT, before[0])
    signal.signal(signal.SIGTERM, before[1])
    assert after == before


def _tiny_config(data: Path, run: Path, epochs: int = 3):
    from korean_gan.training.config import TrainConfig

    return TrainConfig.from_preset("reference", data=str(data), run_dir=str(run), epochs=epochs,
                                   batch_size=8, checkpoint_every=1, verbose=0,
                                   tensorboard=False, eval_every=0)


def _at_epoch_end(epoch: int, action):
    """A callback that runs ``action(model)`` after the given (1-based) epoch; it comes after
    the trainer's own callbacks, so that epoch's checkpoint is already written."""
    import keras

    class AtEpochEnd(keras.callbacks.Callback):
        def on_epoch_end(self, index, logs=None):
            if index + 1 == epoch:
                action(self.model)

    return AtEpochEnd()


def _poison(variables, value: float) -> None:
    for variable in variables:
        variable.assign(np.full(variable.shape, value, np.float32))


def test_nan_loss_stops_at_its_step_and_keeps_the_last_good_checkpoint(tiny_data, tmp_path,
                                                                      handlers_kept):
    from korean_gan.training.config import TrainError
    from korean_gan.training.trainer import train

    run = tmp_path / "run"
    diverge = _at_epoch_end(1, lambda model: _poison(model.discriminator.trainable_variables[:1],
                                                     np.nan))
    with pytest.raises(TrainError) as info:
        train(_tiny_config(tiny_data, run), callbacks=[diverge])
    message = str(info.value)
    assert message.startswith("loss is not finite at epoch 2, step 1 (d_loss=nan")
    assert f"the last good checkpoint {run / 'checkpoints' / 'ckpt-1'} is kept" in message
    assert _latest_number(run) == 1 and _checkpoint_is_finite(str(run / "checkpoints" / "ckpt-1"))
    assert not (run / "checkpoints" / "ckpt-2.index").exists()
    assert _log_epochs(run) == [1]
    assert not (run / "generator.weights.h5").exists()    # no diverged model exported


def test_diverged_weights_are_never_checkpointed(tiny_data, tmp_path, handlers_kept):
    import keras

    from korean_gan.training.config import TrainError
    from korean_gan.training.trainer import train

    class DivergeInLastStep(keras.callbacks.Callback):
        """Weights blow up in epoch 2's last step, after its (finite) loss was measured."""

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if self.epoch == 1 and batch + 1 == self.params["steps"]:
                _poison(self.model.generator.trainable_variables[-1:], np.inf)

    run = tmp_path / "run"
    with pytest.raises(TrainError) as info:
        train(_tiny_config(tiny_data, run), callbacks=[DivergeInLastStep()])
    assert str(info.value).startswith("weights are not finite after epoch 2; not saving them, "
                                      f"so the last good checkpoint "
                                      f"{run / 'checkpoints' / 'ckpt-1'} is kept")
    assert _log_epochs(run) == [1, 2]                  # the epoch ran; its losses were finite
    assert _latest_number(run) == 1 and _checkpoint_is_finite(str(run / "checkpoints" / "ckpt-1"))


@pytest.mark.skipif(sys.platform != "linux", reason="uses RLIMIT_FSIZE to make writes fail")
def test_failing_checkpoint_write_is_a_clear_error_and_resume_continues(tiny_data, tmp_path,
                                                                       handlers_kept):
    """A file-size limit makes the checkpoint write fail inside TensorFlow's C++ writer, the way
    a full disk does (EFBIG instead of ENOSPC); the earlier checkpoint survives."""
    import resource

    from korean_gan.training.config import TrainError
    from korean_gan.training.trainer import train

    run = tmp_path / "run"
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # fail the write, not the process
    limit = _at_epoch_end(1, lambda model: resource.setrlimit(resource.RLIMIT_FSIZE,
                                                              (10_000_000, hard)))
    try:
        with pytest.raises(TrainError) as info:
            train(_tiny_config(tiny_data, run), callbacks=[limit])
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)
    message = str(info.value)
    assert message.startswith(f"cannot write the checkpoint of epoch 2 in {run / 'checkpoints'}")
    assert "File too large" in message and "\n" not in message
    assert message.endswith(f"the last good checkpoint {run / 'checkpoints' / 'ckpt-1'} is kept: "
                            "free disk space and resume with --resume")
    assert _latest_number(run) == 1
    # With room again, the run resumes from epoch 1 and finishes.
    history = train(_tiny_config(tiny_data, run), resume=True)
    assert history.epoch == [1, 2]
    assert _log_epochs(run) == [1, 2, 3] and _latest_number(run) == 3


@pytest.fixture
def handlers_reset():
    """Puts SIGINT/SIGTERM back after a training that another callback stopped with an error:
    train() must hand them back then."""
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGINT, before[0])
    signal.signal(signal.SIGTERM, before[1])


def test_signal_handlers_are_handed_back_when_another_callback_fails(tiny_data, tmp_path,
                                                                      handlers_reset):
    before = signal.getsignal(signal.SIGINT)

    def fail(model):
        raise OSError("TensorBoard could not write (simulated)")

    with pytest.raises(OSError, match="simulated"):
        from korean_gan.training.trainer import train

        train(_tiny_config(tiny_data, tmp_path / "run", epochs=1), callbacks=[
            _at_epoch_end(1, fail)])
    assert signal.getsignal(signal.SIGINT) == before


def test_run_folder_that_disappears_is_a_clear_error(tiny_data, tmp_path, handlers_reset):
    import shutil

    from korean_gan.training.config import TrainError
    from korean_gan.training.trainer import train

    run = tmp_path / "run"
    vanish = _at_epoch_end(1, lambda model: shutil.rmtree(run))
    with pytest.raises(TrainError) as info:
        train(_tiny_config(tiny_data, run), callbacks=[vanish])
    assert str(info.value) == (f"run folder {run} disappeared during epoch 2; training stopped: "
                               "restore the folder and resume with --resume, or start a new run")
    assert not run.exists()                            # not recreated, half-empty, by a later write


# --- loading never runs code from a file --------------------------------------------------------

def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            owner = ast.unparse(func.value) if isinstance(func, ast.Attribute) else ""
            yield node, owner, name


def test_the_package_never_loads_code_from_files():
    unsafe = []
    np_loads = 0
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                if any(n.split(".")[0] in ("pickle", "dill", "marshal", "joblib", "shelve",
                                           "cloudpickle") for n in names):
                    unsafe.append(f"{path.name}:{node.lineno} imports {names}")
        for node, owner, name in _calls(tree):
            where = f"{path.name}:{node.lineno} {ast.unparse(node)[:80]}"
            keywords = {k.arg: k.value for k in node.keywords}
            if name in ("eval", "exec") and not owner:
                unsafe.append(where)
            elif owner in ("np", "numpy") and name == "load":
                np_loads += 1
                flag = keywords.get("allow_pickle")
                if not (isinstance(flag, ast.Constant) and flag.value is False):
                    unsafe.append(where)
            elif name == "load_model":
                # Keras's safe mode refuses serialised Python code (Lambda layers, ...).
                flag = keywords.get("safe_mode")
                if not (isinstance(flag, ast.Constant) and flag.value is True):
                    unsafe.append(where)
            elif name in ("enable_unsafe_deserialization", "load_pickle"):
                unsafe.append(where)
            elif owner.endswith("saved_model") and name == "load":
                unsafe.append(where)
    assert unsafe == []
    assert np_loads >= 6            # the scan does see the package's loaders


def _evil_keras_file(path: Path, marker: Path) -> Path:
    """A .keras archive whose Lambda layer creates ``marker`` when deserialised and called."""
    import keras

    # Built from source so the path is a constant in the function's code (Keras serialises
    # the bytecode; a closure or default argument would be stored differently).
    code = f"lambda x: (__import__('pathlib').Path({str(marker)!r}).mkdir(), x)[1]"
    inputs = keras.Input((100,))
    outputs = keras.layers.Dense(4)(keras.layers.Lambda(eval(code))(inputs))
    keras.Model(inputs, outputs).save(path)
    marker.rmdir()                  # building the model called the lambda once
    return path


@pytest.mark.filterwarnings("ignore:Skipping nested container")
def test_crafted_keras_archive_with_code_is_refused(tmp_path):
    import keras

    from korean_gan.artifacts import ArtifactError, load_generator

    marker = tmp_path / "code-ran"
    evil = _evil_keras_file(tmp_path / "evil.keras", marker)
    with pytest.raises(ValueError, match="Lambda"):
        keras.saving.load_model(evil, safe_mode=True)
    assert not marker.exists()
    # The project's loader reads weights only, into an architecture built in code.
    with pytest.raises(ArtifactError) as info:
        load_generator(weights=evil)
    assert str(info.value).startswith(f"{evil} does not hold this generator's weights")
    assert "\n" not in str(info.value)
    assert not marker.exists()
    # Control: the payload is real; loading without safe mode runs it at once.
    keras.saving.load_model(evil, safe_mode=False)
    assert marker.exists()


@pytest.fixture(scope="module")
def conditional_run(tmp_path_factory) -> Path:
    """A small conditional model folder (config, generator weights, styles), random weights."""
    import json

    from korean_gan.training.conditional import build_conditional_gan

    run = tmp_path_factory.mktemp("conditional")
    build_conditional_gan("가나", ["A-Regular", "B-Regular"], g_filters=16, d_filters=8,
                          seed=1).export(run)
    (run / "config.json").write_text(json.dumps({"model": "conditional", "noise_dim": 64,
                                                 "g_filters": 16}))
    return run


def test_pickled_npz_is_refused_by_every_loader(tiny_data, tmp_path, conditional_run, run_cli):
    import json
    import shutil

    from korean_gan.artifacts import ArtifactError, load_generator, load_style
    from korean_gan.data.dataset import load_dataset
    from korean_gan.generate import Handwriting, HandwritingError

    marker = tmp_path / "unpickled"
    # A dataset.
    arrays = _arrays(tiny_data)
    del arrays["images"]
    dataset = _pickled_npz(tmp_path / "data.npz", marker, "images", **arrays)
    with pytest.raises(DatasetError, match="cannot be read"):
        load_dataset(dataset)
    # A handwriting style file, and a model folder's styles.
    with pytest.raises(ArtifactError, match="cannot be read"):
        load_style(_pickled_npz(tmp_path / "style.npz", marker, "style"))
    model = tmp_path / "model"
    shutil.copytree(conditional_run, model)
    _pickled_npz(model / "styles.npz", marker, "styles", fonts=np.array(["A", "B"]))
    with pytest.raises(HandwritingError, match="styles.npz cannot be read"):
        Handwriting.load(model)
    # Samples to evaluate (read before any model is loaded).
    samples = _pickled_npz(tmp_path / "samples.npz", marker, "images")
    code, _, stderr = run_cli("evaluate", "--samples", samples, "--data", tiny_data)
    assert code == 2 and f"samples file {samples} cannot be read" in _one_error_line(stderr)
    # A run folder whose dataset is pickled (sampling reads the image size from it).
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"model": "dcgan", "data": str(dataset)}))
    with pytest.raises(ArtifactError, match=f"the run's dataset {dataset} cannot be read"):
        load_generator(run)
    assert not marker.exists()


@pytest.mark.filterwarnings("ignore:Skipping nested container")
def test_files_that_are_not_weights_are_refused(tmp_path, conditional_run, run_cli):
    import json
    import shutil

    import h5py

    from korean_gan.artifacts import ArtifactError, load_generator
    from korean_gan.generate import Handwriting, HandwritingError

    junk = tmp_path / "junk.weights.h5"
    junk.write_bytes(os.urandom(4096))
    other = tmp_path / "other.weights.h5"
    with h5py.File(other, "w") as fh:               # valid HDF5, but not a generator's weights
        fh["numbers"] = np.arange(5)
    for path in (junk, other):
        with pytest.raises(ArtifactError) as info:
            load_generator(weights=path)
        assert str(info.value).startswith(f"{path} does not hold this generator's weights")
        assert "\n" not in str(info.value)
    # The same file as a run folder's final generator.
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"model": "dcgan", "noise_dim": 100}))
    shutil.copy(junk, run / "generator.weights.h5")
    with pytest.raises(ArtifactError, match="generator.weights.h5 does not hold"):
        load_generator(run)
    code, _, stderr = run_cli("sample", "--run-dir", run, "--out", tmp_path / "s.png")
    assert code == 2 and "does not hold this generator's weights" in _one_error_line(stderr)
    # A conditional model folder with a damaged generator.
    model = tmp_path / "model"
    shutil.copytree(conditional_run, model)
    shutil.copy(junk, model / "generator.weights.h5")
    with pytest.raises(HandwritingError, match="generator.weights.h5 does not hold this model's"):
        Handwriting.load(model)


@pytest.fixture
def small_disk(tmp_path):
    """A 512 MB tmpfs: a disk that really fills up (ENOSPC)."""
    from conftest import tmpfs_disk

    with tmpfs_disk(tmp_path / "disk", "512m") as disk:
        yield disk


def _fill(folder: Path) -> None:
    """Writes a file until the disk holding ``folder`` is full."""
    import errno

    chunk = b"\0" * 2**20
    with open(folder / "filler", "wb") as fh:
        try:
            while True:
                fh.write(chunk)
                fh.flush()
        except OSError as err:
            assert err.errno == errno.ENOSPC, err


@pytest.mark.skipif(sys.platform != "linux", reason="mounts a tmpfs")
def test_a_full_disk_is_a_clear_error_and_resume_continues(tiny_data, small_disk,
                                                           handlers_kept):
    from korean_gan.training.config import TrainError
    from korean_gan.training.trainer import train

    run = small_disk / "run"
    with pytest.raises(TrainError) as info:
        train(_tiny_config(tiny_data, run), callbacks=[_at_epoch_end(1, lambda m: _fill(run))])
    message = str(info.value)
    assert "\n" not in message and "No space left on device" in message, message
    assert "free disk space" in message and "--resume" in message, message
    # Epoch 1's checkpoint is whole; with room again the run resumes and finishes.
    assert _latest_number(run) == 1 and _checkpoint_is_finite(str(run / "checkpoints" / "ckpt-1"))
    (run / "filler").unlink()
    history = train(_tiny_config(tiny_data, run), resume=True)
    assert history.epoch == [1, 2]
    assert _log_epochs(run) == [1, 2, 3] and _latest_number(run) == 3


def test_atomic_dir_replaces_a_folder_whole_or_not_at_all(tmp_path):
    from korean_gan._io import atomic_dir

    target = tmp_path / "model"
    with atomic_dir(target) as tmp:
        (tmp / "a.txt").write_text("first")
    assert sorted(p.name for p in target.iterdir()) == ["a.txt"]
    assert target.stat().st_mode & 0o777 == 0o755
    # A failure half-way leaves the earlier folder as it was, and no temporary folder behind.
    with pytest.raises(RuntimeError, match="half-way"), atomic_dir(target) as tmp:
        (tmp / "b.txt").write_text("second")
        raise RuntimeError("half-way")
    assert sorted(p.name for p in target.iterdir()) == ["a.txt"]
    assert (target / "a.txt").read_text() == "first"
    # Success replaces it as a whole: nothing of the earlier folder is kept.
    with atomic_dir(target) as tmp:
        (tmp / "b.txt").write_text("second")
    assert sorted(p.name for p in target.iterdir()) == ["b.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def _dead_pid() -> int:
    """The id of a process that has ended."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.mark.parametrize("exchange", [True, False], ids=["swap", "two-renames"])
def test_replacing_a_folder_never_leaves_the_path_empty(tmp_path, monkeypatch, exchange):
    import korean_gan._io as io_module
    from korean_gan._io import atomic_dir

    target = tmp_path / "lines"
    target.mkdir()
    (target / "a.txt").write_text("earlier")
    if not exchange:  # a file system that cannot swap two folders in one step
        monkeypatch.setattr(io_module, "_exchange", lambda a, b: False)
    seen = []
    real_replace = os.replace

    def watching(src, dst):  # every rename, and what is at the target right after it
        real_replace(src, dst)
        seen.append(sorted(p.name for p in target.iterdir()) if target.is_dir() else None)

    monkeypatch.setattr(io_module.os, "replace", watching)
    with atomic_dir(target) as tmp:
        (tmp / "b.txt").write_text("new")
    assert (target / "b.txt").read_text() == "new" and sorted(os.listdir(target)) == ["b.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lines"]
    # With a swap there is no rename at all; with two, the path is empty between them.
    assert seen == ([] if exchange else [None, ["b.txt"]])


def test_a_folder_moved_aside_by_a_killed_run_is_put_back(tmp_path):
    from korean_gan._io import atomic_dir, sweep_stale_temps

    # What a run killed between its two renames leaves: the earlier output aside, the new one
    # complete in its temporary folder, nothing at the path.
    pid = _dead_pid()
    target = tmp_path / "lines"
    aside = tmp_path / f".lines.{pid}-aside"
    aside.mkdir()
    (aside / "a.txt").write_text("earlier")
    (tmp_path / f".lines.{pid}-k2j4x9qa").mkdir()
    (tmp_path / f".lines.{pid}-k2j4x9qa" / "b.txt").write_text("new")
    sweep_stale_temps(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lines"]
    assert (target / "a.txt").read_text() == "earlier"
    # Once the path holds an output again, a dead run's aside folder is only removed.
    aside.mkdir()
    (aside / "c.txt").write_text("older")
    with atomic_dir(target) as tmp:
        (tmp / "d.txt").write_text("newest")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lines"]
    assert sorted(os.listdir(target)) == ["d.txt"]


# --- outputs that are not regular files ---------------------------------------------------------

def test_a_device_is_written_through_never_replaced(tmp_path, monkeypatch):
    from korean_gan._io import write_bytes_atomic

    before = os.stat(os.devnull)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where its temporary file goes
    write_bytes_atomic(os.devnull, b"x" * 1000)
    after = os.stat(os.devnull)
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino
    assert after.st_rdev == before.st_rdev
    assert not [p for p in Path("/dev").iterdir() if p.name.startswith(".null.")]
    assert not any(tmp_path.iterdir())  # the temporary file is gone


def test_a_named_pipe_gets_the_whole_content_and_stays_a_pipe(tmp_path):
    import threading

    from korean_gan._io import write_bytes_atomic

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    data = bytes(range(256)) * 4096  # more than a pipe's buffer
    write_bytes_atomic(fifo, data)
    reader.join(timeout=30)
    assert received == [data]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


def test_a_symlink_stays_a_link_and_its_target_is_written(tmp_path):
    from korean_gan._io import write_bytes_atomic

    target = tmp_path / "real" / "out.bin"
    target.parent.mkdir()
    target.write_bytes(b"old")
    link = tmp_path / "link.bin"
    link.symlink_to(target)
    write_bytes_atomic(link, b"new")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in target.parent.iterdir()) == ["out.bin"]


def test_a_socket_or_a_file_where_a_folder_goes_is_refused_and_kept(tmp_path):
    import socket

    from korean_gan._io import OutputError, atomic_dir, write_bytes_atomic

    path = tmp_path / "s"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    try:
        with pytest.raises(OutputError, match=r"is a socket, not a file; give a file name"):
            write_bytes_atomic(path, b"data")
        assert stat.S_ISSOCK(os.stat(path).st_mode)
    finally:
        server.close()
    plain = tmp_path / "notes.txt"
    plain.write_text("mine")
    with pytest.raises(OutputError, match=r"is a file, not a folder"), atomic_dir(plain):
        pass
    assert plain.read_text() == "mine"


def test_write_to_dev_null_leaves_it_a_device(run_cli):
    before = os.stat(os.devnull)
    code, out, err = run_cli("write", "안녕하세요", "--size", "32", "--out", os.devnull)
    assert code == 0, err
    assert f"wrote {os.devnull}" in out
    after = os.stat(os.devnull)
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino


# --- model folders: every field checked, named with its file ------------------------------------

def _model_copy(tmp_path, name="hangul-fast") -> Path:
    from korean_gan.artifacts import PRETRAINED_DIR

    folder = tmp_path / name
    shutil.copytree(PRETRAINED_DIR / name, folder)
    return folder


@pytest.mark.parametrize(("field", "value", "message"), [
    ("g_block_filters", [-80, 32, 16], "g_block_filters[0] must be a positive integer, got -80"),
    ("g_block_filters", "wide", "g_block_filters must be a list of positive integers or null"),
    ("noise_dim", None, "noise_dim must be a positive integer, got null"),
    ("g_filters", "256", 'g_filters must be a positive integer, got "256"'),
    ("g_filters", 256.0, "g_filters must be a positive integer, got 256.0"),
    ("model", ["conditional"], "model must be one of dcgan, conditional, upsampler"),
    ("beta_2", 1.5, "beta_2 must be a number from 0 to below 1, got 1.5"),
    ("spectral_norm", "yes", "spectral_norm must be true or false"),
    ("content_affine", 1, "content_affine must be true or false"),
    ("repeat_fonts", {"Gaegu": 0}, "repeat_fonts must be an object of font: positive integer"),
    ("format_version", "2", "format_version '2' is not one this korean-gan reads"),
])
def test_a_bad_field_in_config_json_is_named_in_one_line(tmp_path, run_cli, field, value,
                                                         message):
    folder = _model_copy(tmp_path)
    config = folder / "config.json"
    settings = json.loads(config.read_text(encoding="utf-8"))
    settings[field] = value
    config.write_text(json.dumps(settings), encoding="utf-8")
    code, out, err = run_cli("write", "가", "--model", folder, "--size", "32",
                             "--out", tmp_path / "x.png")
    assert code == 2 and out == ""
    assert err == f"korean-gan: error: {config}: {message}\n" or (
        err.startswith(f"korean-gan: error: {config}: ") and message in err
        and err.count("\n") == 1), err
    assert not (tmp_path / "x.png").exists()


def test_a_bad_model_card_or_upsampler_architecture_is_named(tmp_path):
    from korean_gan.artifacts import (
        UPSAMPLER_DIR,
        ArtifactError,
        load_upsampler,
        read_conditional_model,
    )

    folder = _model_copy(tmp_path)
    card = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    card["image_size"] = "32"
    (folder / "model.json").write_text(json.dumps(card), encoding="utf-8")
    with pytest.raises(ArtifactError, match=r"model\.json: image_size must be a positive "
                                            r'integer, got "32"'):
        read_conditional_model(folder)
    upsampler = tmp_path / "upsampler"
    shutil.copytree(UPSAMPLER_DIR, upsampler)
    settings = json.loads((upsampler / "config.json").read_text(encoding="utf-8"))
    settings["architecture"]["filters"] = -32
    (upsampler / "config.json").write_text(json.dumps(settings), encoding="utf-8")
    with pytest.raises(ArtifactError, match=r"config\.json: architecture\.filters must be a "
                                            r"positive integer, got -32"):
        load_upsampler(upsampler)


def test_sample_falls_back_from_a_truncated_checkpoint_or_names_it(tiny_data, tmp_path,
                                                                   run_cli, handlers_kept):
    from korean_gan.training.trainer import train

    run = tmp_path / "run"
    train(_tiny_config(tiny_data, run, epochs=2))
    (run / "generator.weights.h5").unlink()  # as a run killed before its end leaves it
    out = tmp_path / "grid.png"
    code, _, err = run_cli("sample", "--run-dir", run, "--n", 4, "--out", out)
    assert code == 0 and err == "", err
    intact = out.read_bytes()
    # A killed write or a full disk cuts the newest checkpoint's data file short.
    data2 = run / "checkpoints" / "ckpt-2.data-00000-of-00001"
    os.truncate(data2, data2.stat().st_size // 2)
    out.unlink()
    code, _, err = run_cli("sample", "--run-dir", run, "--n", 4, "--out", out)
    assert code == 0, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("warning: checkpoint "), err
    assert "ckpt-2 is damaged" in err and "sampling from ckpt-1, an earlier one" in err
    assert out.is_file() and out.read_bytes() != intact  # epoch 1's generator, not epoch 2's
    # Every checkpoint damaged: one line naming the newest and why, nothing written.
    data1 = run / "checkpoints" / "ckpt-1.data-00000-of-00001"
    os.truncate(data1, data1.stat().st_size // 2)
    out.unlink()
    code, _, err = run_cli("sample", "--run-dir", run, "--n", 4, "--out", out)
    assert code == 2 and err.count("\n") == 1, err
    assert "every checkpoint in" in err and "ckpt-2 is damaged" in err, err
    assert not out.exists()


# --- time limits --------------------------------------------------------------------------------

def test_a_time_limit_measures_the_pace_after_the_first_unit_and_estimates_once():
    from korean_gan._budget import BudgetError, TimeLimit

    now = [100.0]
    limit = TimeLimit("a job", hours=1, hint="pass --yes", measure_seconds=20,
                      clock=lambda: now[0])
    limit.check(10, 100_000)  # the first batch (slow: it builds kernels) only starts the clock
    now[0] += 10
    limit.check(20, 100_000)  # 10 s in: still measuring
    assert limit.estimate is None
    now[0] += 10
    with pytest.raises(BudgetError) as info:  # 20 units in 20 s: 99,970 more take 27.8 h
        limit.check(30, 100_000)
    assert str(info.value) == ("a job would take about 1.2 days on this machine (measured over "
                               "its first 20 s), more than 1.0 h: pass --yes")
    assert limit.estimate == pytest.approx(20 + 99_970)
    quick = TimeLimit("a job", hours=1, hint="", measure_seconds=20, clock=lambda: now[0])
    quick.check(1_000, 100_000)
    now[0] += 20
    quick.check(11_000, 100_000)  # 500 units/s: 89,000 more take 3 min
    assert quick.estimate == pytest.approx(20 + 178)
    now[0] += 1e6
    quick.check(12_000, 100_000)  # estimated once: a later stall is not a refusal


@pytest.mark.parametrize("command", [
    ["synth", "--charset", "ks2350", "--per-class", "2", "--batch-size", "128"],
    ["lines", "--random", "60", "--batch-lines", "4", "--height", "32"],
])
def test_a_job_too_long_for_the_limit_stops_having_written_nothing_unless_yes(
        run_cli, tmp_path, monkeypatch, command):
    import korean_gan._budget as budget
    import korean_gan.cli._common as common

    monkeypatch.setattr(budget, "MEASURE_SECONDS", 0.3)
    monkeypatch.setattr(common, "MAX_HOURS", 1e-5)  # 36 ms: any job is longer
    out = tmp_path / ("glyphs.npz" if command[0] == "synth" else "lines")
    code, _, err = run_cli(*command, "--quiet", "--out", out)
    assert code == 2, err
    assert err.count("\n") == 1 and "would take about" in err and "pass --yes" in err, err
    assert list(tmp_path.iterdir()) == []
    code, _, err = run_cli(*command, "--quiet", "--out", out, "--yes")
    assert code == 0, err
    assert out.exists()


# --- one writer per run folder ------------------------------------------------------------------

def test_a_run_folder_in_use_by_another_trainer_is_refused_and_left_alone(tiny_data, tmp_path):
    from korean_gan._io import LOCK_NAME, folder_lock
    from korean_gan.training.config import TrainError
    from korean_gan.training.trainer import train

    run = tmp_path / "run"
    # Another process's lock: flock locks belong to the open file, so holding it here stands
    # for a second trainer (the kernel refuses the trainer's own open of the same file).
    with folder_lock(run, "choose another --run-dir"):
        with pytest.raises(TrainError) as info:
            train(_tiny_config(tiny_data, run, epochs=1))
        assert str(info.value) == (f"{run} is in use by another korean-gan process (process "
                                   f"{os.getpid()}): wait for it to finish, or choose another "
                                   "--run-dir")
        assert sorted(os.listdir(run)) == [LOCK_NAME]
    history = train(_tiny_config(tiny_data, run, epochs=1))  # free again
    assert history.epoch == [0] and (run / "config.json").is_file()


def test_a_failed_fresh_run_leaves_no_folder_and_a_killed_lock_holder_frees_it(tiny_data,
                                                                                tmp_path):
    from korean_gan._io import folder_lock
    from korean_gan.training.config import TrainError
    from korean_gan.training.trainer import train

    run = tmp_path / "new" / "run"
    with pytest.raises(TrainError, match="larger than the dataset"):
        train(_tiny_config(tiny_data, run, epochs=1), batch_size=100_000)
    assert not run.exists()
    # A holder killed outright (SIGKILL) leaves the lock file, not the lock.
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from korean_gan._io import folder_lock\n"
        f"with folder_lock({str(run)!r}, 'x'):\n    print('held', flush=True); time.sleep(600)")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(OSError, match=rf"in use by another korean-gan process \(process "
                                          rf"{holder.pid}\)"), folder_lock(run, "x"):
            pass
    finally:
        holder.kill()
        holder.wait()
    with folder_lock(run, "x"):
        pass
