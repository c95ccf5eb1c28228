"""The handwriting API (write, synth, styles) and its CLI, on a small untrained model.

The mechanics (shapes, determinism, spacing, errors, dataset format, sha256 checks) do not
depend on training; the committed pretrained model's quality is tested separately.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from korean_gan.data.charsets import jamo_table

FONTS = ["Alpha-Regular", "Beta-Bold", "Gamma-Regular"]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, make_conditional_model_dir):
    """A conditional run folder (config, generator weights, styles) with random weights."""
    return make_conditional_model_dir(tmp_path_factory.mktemp("hangul-run"), FONTS)


@pytest.fixture(scope="module")
def writer(model_dir):
    from korean_gan.generate import Handwriting

    return Handwriting.load(model_dir)


def test_glyphs_are_uint8_deterministic_and_depend_on_syllable_and_style(writer):
    a = writer.glyphs("가똠", style=0, seed=5)
    assert a.shape == (2, 32, 32) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, writer.glyphs("가똠", style=0, seed=5))
    # Unseen syllables are composed from jamo: 똠 was never in the model's charset.
    assert not np.array_equal(a[0], a[1])
    assert not np.array_equal(a, writer.glyphs("가똠", style=1, seed=5))
    assert not np.array_equal(a, writer.glyphs("가똠", style=0, seed=6))


def test_style_specifications(writer):
    np.testing.assert_array_equal(writer.style_vectors("Beta", 2), np.repeat(
        writer.styles[1:2], 2, axis=0))
    np.testing.assert_array_equal(writer.style_vectors("2", 1), writer.styles[2:3])
    np.testing.assert_allclose(writer.style_vectors("mean", 1)[0], writer.styles.mean(axis=0),
                               rtol=1e-6)
    random = writer.style_vectors("random", 3, seed=1)
    assert random.shape == (3, writer.style_dim) and len({r.tobytes() for r in random}) == 3
    one = writer.style_vectors("random-one", 3, seed=1)
    assert len({r.tobytes() for r in one}) == 1
    with pytest.raises(ValueError, match="style 7 does not exist; styles are 0-2"):
        writer.style_vectors(7, 1)
    with pytest.raises(ValueError, match="unknown style 'Zeta'"):
        writer.style_vectors("Zeta", 1)
    with pytest.raises(ValueError, match="matches several fonts"):
        writer.style_vectors("", 1)


def test_mix_styles_blend_two_different_fonts():
    from korean_gan.models.styles import mixed_styles

    # Orthogonal rows: a blend's coordinates say which two fonts it mixes, and how much.
    table = np.eye(4, dtype=np.float32) * 2.0
    mixed = mixed_styles(table, 500, seed=3)
    assert mixed.shape == (500, 4) and mixed.dtype == np.float32
    np.testing.assert_array_equal(mixed, mixed_styles(table, 500, seed=3))
    weights = mixed / 2.0
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-6)
    assert (weights >= 0).all()
    assert ((weights > 0).sum(axis=1) <= 2).all()  # never more than two fonts
    assert (weights.max(axis=1) < 1.0).all()  # two different fonts, never one with itself
    # Every font takes part, in every pairing, with t spread over (0, 1).
    pairs = {tuple(np.flatnonzero(w)) for w in weights}
    assert pairs == {(a, b) for a in range(4) for b in range(a + 1, 4)}
    assert 0.4 < weights.max(axis=1).mean() < 0.85  # E[max(t, 1 - t)] = 0.75
    np.testing.assert_array_equal(mixed_styles(table[:1], 3), np.repeat(table[:1], 3, axis=0))


def test_synthesize_uses_every_style_entry_with_fewer_images_than_entries(writer, tmp_path):
    from korean_gan.data.dataset import load_dataset

    path, _ = writer.synthesize(charset="가나다라마바", per_class=2, styles=("fonts", "mix"),
                                out=str(tmp_path / "few.npz"), preview=False, progress=False)
    data = load_dataset(path)
    assert data.fonts == FONTS + ["mix"]
    np.testing.assert_array_equal(np.bincount(data.font_ids), [3, 3, 3, 3])
    np.testing.assert_array_equal(data.font_ids, [0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3])
    # Within a syllable, two images never share a style entry and both are its first.
    np.testing.assert_array_equal(data.aug_ids, np.zeros(12))


def test_mix_style_specification(writer):
    mixed = writer.style_vectors("mix", 3, seed=1)
    assert mixed.shape == (3, writer.style_dim) and len({r.tobytes() for r in mixed}) == 3
    one = writer.style_vectors("mix-one", 3, seed=1)
    assert len({r.tobytes() for r in one}) == 1
    # Each blend lies on a segment between two of the model's fonts: row = t·s_a + (1 − t)·s_b
    # with 0 ≤ t ≤ 1 for some pair (a, b).
    assert len(mixed) == 3
    for row in mixed:
        fits = []
        for a in range(3):
            for b in range(a + 1, 3):
                pair = np.stack([writer.styles[a], writer.styles[b]], 1).astype(np.float64)
                coef = np.linalg.lstsq(pair, row.astype(np.float64), rcond=None)[0]
                fits.append((float(np.linalg.norm(pair @ coef - row)), coef))
        distance, coef = min(fits, key=lambda fit: fit[0])
        assert distance < 1e-4 * float(np.linalg.norm(row)), fits
        assert (coef >= -1e-5).all() and abs(coef.sum() - 1.0) < 1e-5, coef
    assert writer.style_name("mix") == "mix"


def test_write_sets_text_with_font_metrics_and_refuses_what_nothing_draws(writer):
    import unicodedata

    from korean_gan.data.charsets import SYLLABLE_FIRST

    metrics = writer.font_metrics.blend(writer.style_weights(writer.style_vectors(0, 1))[0])
    one, placed = writer.typeset("가나", style=0, size=64)
    assert [p.char for p in placed] == ["가", "나"] and one.dtype == np.uint8
    # Each syllable's box is the font's ink box at 64 px per em, the pen moving by advances.
    ga, na = (metrics.boxes[ord(c) - SYLLABLE_FIRST] for c in "가나")
    assert placed[0].box[2] - placed[0].box[0] == pytest.approx((ga[2] - ga[0]) * 64, abs=1)
    assert placed[1].box[3] - placed[1].box[1] == pytest.approx((na[3] - na[1]) * 64, abs=1)
    advance = metrics.advances[ord("가") - SYLLABLE_FIRST] * 64
    assert (placed[1].box[0] - na[0] * 64) - (placed[0].box[0] - ga[0] * 64) == \
        pytest.approx(advance, abs=1)
    # A space moves the pen by the font's space; a line break by the line pitch.
    _, spaced = writer.typeset("가 나", style=0, size=64)
    assert spaced[1].box[0] - placed[1].box[0] == pytest.approx(metrics.space * 64, abs=1)
    two_lines, _ = writer.typeset("가나\n다", style=0, size=64)
    pitch = (metrics.ascender - metrics.descender + metrics.line_gap) * 64
    assert two_lines.shape[0] - one.shape[0] == pytest.approx(pitch, abs=1)
    # Sizes scale the page; scale upsamples the finished image.
    assert writer.write("가나", style=0, size=128).shape[0] == pytest.approx(2 * one.shape[0],
                                                                               abs=2)
    assert writer.write("가나", style=0, size=64, scale=3).shape == (one.shape[0] * 3,
                                                                     one.shape[1] * 3)
    # Digits, punctuation and Latin letters come from a font; NFD text is read as NFC.
    _, mixed = writer.typeset("12월, Hi!", style=0, size=32)
    assert [p.char for p in mixed] == list("12월,Hi!")
    assert {p.source for p in mixed if p.char != "월"} == {"GamjaFlower-Regular"}
    nfd = unicodedata.normalize("NFD", "가나")
    np.testing.assert_array_equal(writer.write(nfd, style=0, size=32),
                                  writer.write("가나", style=0, size=32))
    with pytest.raises(ValueError, match=r"no font can draw '中' \(U\+4E2D\)"):
        writer.write("가中")
    with pytest.raises(ValueError, match="nothing to write"):
        writer.write("  ")
    with pytest.raises(ValueError, match=r"size 100 is not supported; choose one of 32, 64, 128"):
        writer.write("가", size=100)


def test_glyphs_at_64_and_128_px_are_placed_in_the_styles_frame(writer):
    small = writer.glyphs("가똠", style=0, seed=5)
    large = writer.glyphs("가똠", style=0, seed=5, size=128)
    assert large.shape == (2, 128, 128) and large.dtype == np.uint8
    np.testing.assert_array_equal(large, writer.glyphs("가똠", style=0, seed=5, size=128))
    assert writer.glyphs("가똠", style=0, seed=5, size=64).shape == (2, 64, 64)
    assert small.shape == (2, 32, 32)
    with pytest.raises(ValueError, match="size 48 is not supported"):
        writer.glyphs("가", size=48)
    with pytest.raises(ValueError, match=r"character 2 of the syllables, 'A' \(U\+0041\), is "
                                         "not a Hangul syllable; the model draws only Hangul"):
        writer.glyphs("가A", size=128)


def test_draw_hangul_draws_at_64_or_128_px_and_refuses_other_sizes(writer):
    """Text lines up to 64 px high draw with the 64 px upsampler (how closely it follows the
    128 px one on real glyphs: tests/test_upsampler.py)."""
    from korean_gan.generate import HandwritingError

    chars = "가똠읊"
    styles = writer.styles[[0, 1, 2]]
    noise = np.random.default_rng(3).standard_normal((3, writer.noise_dim)).astype(np.float32)
    small = writer.draw_hangul(chars, styles, noise, size=64)
    large = writer.draw_hangul(chars, styles, noise, size=128)
    assert small.shape == (3, 64, 64) and small.dtype == np.uint8
    assert large.shape == (3, 128, 128)
    np.testing.assert_array_equal(small, writer.draw_hangul(chars, styles, noise, size=64))
    assert (small < 128).any() and (small != small[0]).any()
    with pytest.raises(HandwritingError, match="draw_hangul size 48: choose one of 64, 128"):
        writer.draw_hangul(chars, styles, noise, size=48)


def test_synthesize_writes_a_labelled_dataset_in_the_build_format(writer, tmp_path):
    from korean_gan.data.dataset import load_dataset

    out = tmp_path / "synth.npz"
    path, manifest = writer.synthesize(charset="가나다라", per_class=5,
                                       styles=("fonts", "random"), out=str(out),
                                       progress=False)
    data = load_dataset(path)
    assert len(data) == 20 and data.images.dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(data.labels), [5, 5, 5, 5])
    assert data.fonts == FONTS + ["random"]
    # Per syllable, the 5 images go to the 4 style entries in turn.
    np.testing.assert_array_equal(data.font_ids[:5], [0, 1, 2, 3, 0])
    np.testing.assert_array_equal(data.aug_ids[:5], [0, 0, 0, 0, 1])
    # The next syllable goes on from where the first stopped, so each entry gets its share.
    np.testing.assert_array_equal(data.font_ids[5:10], [1, 2, 3, 0, 1])
    np.testing.assert_array_equal(data.aug_ids[5:10], [0, 0, 0, 0, 1])
    np.testing.assert_array_equal(np.bincount(data.font_ids), [5, 5, 5, 5])
    assert manifest["counts"] == {"images": 20, "classes": 4, "per_class": 5, "styles": 4}
    assert json.loads((tmp_path / "synth.json").read_text())["kind"] == "synthetic"
    assert (tmp_path / "synth.preview.png").is_file()
    # The label really is the syllable drawn: the same noise and style give the same image
    # as asking for that syllable directly.
    again, _ = writer.synthesize(charset="가나다라", per_class=5, styles=("fonts", "random"),
                                 out=str(tmp_path / "again.npz"), progress=False)
    np.testing.assert_array_equal(load_dataset(again).images, data.images)


def test_synthesize_imagefolder_and_bad_requests(writer, tmp_path):
    out = tmp_path / "folder"
    writer.synthesize(charset="가나", per_class=2, styles=("0",), out=str(out),
                      format="imagefolder", progress=False, preview=False)
    assert sorted(p.name for p in out.iterdir()) == ["0_가", "1_나", "manifest.json"]
    assert sorted(p.name for p in (out / "0_가").iterdir()) == [
        "Alpha-Regular_gen000.png", "Alpha-Regular_gen001.png"]
    with pytest.raises(ValueError, match="per-class must be a positive integer"):
        writer.synthesize(charset="가", per_class=0, out=str(tmp_path / "x.npz"))
    with pytest.raises(ValueError, match="unknown style 'nobody'"):
        writer.synthesize(charset="가", styles=("nobody",), out=str(tmp_path / "x.npz"))
    assert not (tmp_path / "x.npz").exists()


def test_load_refuses_what_it_cannot_use(model_dir, tmp_path):
    import shutil

    from korean_gan.generate import Handwriting

    with pytest.raises(ValueError, match="is not a model folder"):
        Handwriting.load(tmp_path / "missing")
    dcgan = tmp_path / "dcgan"
    dcgan.mkdir()
    (dcgan / "config.json").write_text(json.dumps({"model": "dcgan"}))
    with pytest.raises(ValueError, match="is a dcgan run; write and synth need a conditional"):
        Handwriting.load(dcgan)
    copy = tmp_path / "copy"
    shutil.copytree(model_dir, copy)
    (copy / "model.json").write_text(json.dumps({"sha256": {"generator.weights.h5": "0" * 64}}))
    with pytest.raises(ValueError, match="does not match the sha256 in model.json"):
        Handwriting.load(copy)
    (copy / "model.json").unlink()
    (copy / "styles.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="styles.npz cannot be read"):
        Handwriting.load(copy)


def test_export_model_packs_a_run_with_its_card_and_checksums(model_dir, writer, tmp_path):
    import hashlib

    from korean_gan.artifacts import export_model
    from korean_gan.generate import Handwriting

    run = tmp_path / "run"
    run.mkdir()
    for name in ("generator.weights.h5", "styles.npz"):
        (run / name).write_bytes((model_dir / name).read_bytes())
    (run / "config.json").write_text(json.dumps({
        "model": "conditional", "noise_dim": 64, "g_filters": 16, "epochs": 12,
        "lr_decay_epochs": 4, "content_weight": 1.0, "content_affine": True,
        "init_from": "default", "run_dir": "/private/path", "verbose": 2}))
    out = export_model(run, tmp_path / "models" / "mine", {"name": "mine", "probe": 0.5})
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "generator.weights.h5",
                                                     "model.json", "styles.npz"]
    # Training settings are kept, the run's own paths and console settings are not.
    assert json.loads((out / "config.json").read_text()) == {
        "model": "conditional", "noise_dim": 64, "g_filters": 16, "content_weight": 1.0,
        "content_affine": True, "init_from": "default", "epochs": 12, "lr_decay_epochs": 4}
    card = json.loads((out / "model.json").read_text())
    assert card["name"] == "mine" and card["probe"] == 0.5
    assert card["sha256"] == {name: hashlib.sha256((out / name).read_bytes()).hexdigest()
                              for name in ("generator.weights.h5", "styles.npz", "config.json")}
    loaded = Handwriting.load(out)
    np.testing.assert_array_equal(loaded.glyphs("가나", style=1, seed=2),
                                  writer.glyphs("가나", style=1, seed=2))
    # Re-exporting replaces the folder as a whole; no temporary folder is left beside it.
    export_model(run, out)
    assert "probe" not in json.loads((out / "model.json").read_text())
    assert [p.name for p in out.parent.iterdir()] == ["mine"]


def test_export_model_can_ship_a_snapshot_instead_of_the_final_weights(model_dir, writer,
                                                                       tmp_path):
    from korean_gan.artifacts import ArtifactError, export_model
    from korean_gan.generate import Handwriting
    from korean_gan.training.conditional import build_conditional_gan

    # The run's final weights come from another seed; its epoch-8 snapshot is model_dir's,
    # the styles file without font names, as GeneratorSnapshots writes it.
    run = tmp_path / "run"
    build_conditional_gan("가나다", FONTS, g_filters=16, d_filters=8, seed=4).export(run)
    (run / "config.json").write_text(json.dumps({"model": "conditional", "noise_dim": 64,
                                                 "g_filters": 16, "epochs": 12}))
    (run / "snapshots").mkdir()
    (run / "snapshots" / "generator_epoch_0008.weights.h5").write_bytes(
        (model_dir / "generator.weights.h5").read_bytes())
    with np.load(model_dir / "styles.npz") as npz:
        styles, fonts = npz["styles"], npz["fonts"]
    np.savez(run / "snapshots" / "styles_epoch_0008.npz", styles=styles)
    assert not np.array_equal(Handwriting.load(run).glyphs("가나", style=1, seed=2),
                              writer.glyphs("가나", style=1, seed=2))
    out = export_model(run, tmp_path / "snap", snapshot=8)
    assert json.loads((out / "config.json").read_text())["epochs"] == 8
    with np.load(out / "styles.npz") as npz:
        np.testing.assert_array_equal(npz["fonts"], fonts)
        np.testing.assert_array_equal(npz["styles"], styles)
    np.testing.assert_array_equal(Handwriting.load(out).glyphs("가나", style=1, seed=2),
                                  writer.glyphs("가나", style=1, seed=2))
    with pytest.raises(ArtifactError, match="has no snapshot of epoch 10 .*--snapshot-every"):
        export_model(run, tmp_path / "snap10", snapshot=10)
    assert not (tmp_path / "snap10").exists()


def _stdin(monkeypatch, data: bytes) -> None:
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


def test_cli_write_takes_text_from_a_file_or_standard_input_as_people_type_it(
        model_dir, tmp_path, capsys, monkeypatch):
    import unicodedata

    from PIL import Image

    from korean_gan.cli import main
    from korean_gan.generate import Handwriting

    text = "가나 다\n라마"
    # write samples in float32 by default.
    expected = Handwriting.load(model_dir, precision="float32").write(text, style=1, size=32)
    common = ["--model", str(model_dir), "--style", "1", "--size", "32"]
    # A file, longer than any one line of a shell; decomposed jamo (NFD, as macOS types them)
    # and a byte-order mark come out the same as the composed text.
    source = tmp_path / "text.txt"
    source.write_bytes(b"\xef\xbb\xbf" + unicodedata.normalize("NFD", text).encode("utf-8"))
    for argv, stdin in ((["--text-file", str(source)], None),
                        (["--text-file", "-"], text.encode("utf-8")),
                        (["-"], unicodedata.normalize("NFD", text).encode("utf-8"))):
        if stdin is not None:
            _stdin(monkeypatch, stdin)
        png = tmp_path / "out.png"
        assert main(["write", *argv, *common, "--out", str(png)]) == 0, \
            capsys.readouterr().err
        assert np.array_equal(np.asarray(Image.open(png)), expected), argv
        png.unlink()
    # .svg: the same image traced into outlines.
    assert main(["write", text, *common, "--out", str(tmp_path / "out.svg")]) == 0
    svg = (tmp_path / "out.svg").read_text(encoding="utf-8")
    assert svg.startswith("<?xml") and "<path " in svg
    assert f'viewBox="0 0 {expected.shape[1]} {expected.shape[0]}"' in svg
    capsys.readouterr()
    for argv, message in (
            (["가", "--text-file", str(source)], "give the text or --text-file, not both"),
            ([], "give the text to write, or --text-file FILE (- for standard input)"),
            (["--text-file", str(tmp_path / "missing.txt")], "missing.txt: no such file"),
            (["--text-file", str(tmp_path)], "is a folder; give a UTF-8 text file"),
            (["--text-file", str(tmp_path / "latin1.txt")], "not UTF-8 text (byte 0)"),
            ([" \\n "], "the text to write is empty")):
        (tmp_path / "latin1.txt").write_bytes("é가".encode("latin-1", "ignore") + b"\xff")
        assert main(["write", *argv, *common, "--out", str(tmp_path / "x.png")]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("korean-gan: error: ") and message in err, (argv, err)
        assert not (tmp_path / "x.png").exists()


def test_cli_write_synth_styles_and_sample(model_dir, tmp_path, capsys, monkeypatch):
    from PIL import Image

    import korean_gan.training.distribute as distribute
    from korean_gan.cli import main
    from korean_gan.generate import Handwriting

    png = tmp_path / "hello.png"
    assert main(["write", "가나 다", "--model", str(model_dir), "--style", "1", "--out",
                 str(png)]) == 0
    expected = Handwriting.load(model_dir, precision="float32").write("가나 다", style=1,
                                                                      size=128)
    # 128 px per em and float32 by default
    assert np.array_equal(np.asarray(Image.open(png)), expected)
    assert main(["write", "가中", "--model", str(model_dir), "--out", str(png)]) == 2
    assert "no font can draw '中' (U+4E2D)" in capsys.readouterr().err
    assert main(["write", "가", "--size", "100", "--model", str(model_dir), "--out",
                 str(png)]) == 2
    assert "size 100 is not supported; choose one of 32, 64, 128" in capsys.readouterr().err
    assert main(["synth", "--model", str(model_dir), "--charset", "가나", "--per-class", "3",
                 "--out", str(tmp_path / "s.npz"), "--quiet"]) == 0
    assert "6 images of 2 syllables × 3 (3 styles)" in capsys.readouterr().out
    # The manifest says what the generator computed in: by default the hardware's choice,
    # here a CPU where bfloat16 is fast (this machine's own choice could be the float32 below).
    manifest = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert manifest["model"]["precision"] in ("float32", "mixed_bfloat16")
    monkeypatch.setattr(distribute, "cpu_supports_bf16", lambda: True)
    monkeypatch.setattr(distribute, "bf16_speedup", lambda: 2.0)
    assert main(["synth", "--model", str(model_dir), "--charset", "가나", "--per-class", "3",
                 "--out", str(tmp_path / "b.npz"), "--quiet"]) == 0
    manifest = json.loads((tmp_path / "b.json").read_text(encoding="utf-8"))
    assert manifest["model"]["precision"] == "mixed_bfloat16"
    monkeypatch.undo()
    assert main(["synth", "--model", str(model_dir), "--charset", "가나", "--per-class", "3",
                 "--out", str(tmp_path / "f.npz"), "--quiet", "--precision", "float32"]) == 0
    manifest = json.loads((tmp_path / "f.json").read_text(encoding="utf-8"))
    assert manifest["model"]["precision"] == "float32"
    assert main(["styles", "--model", str(model_dir)]) == 0
    assert "  1  Beta-Bold" in capsys.readouterr().out
    assert main(["sample", "--run-dir", str(model_dir), "--n", "4", "--chars", "가똠",
                 "--out", str(tmp_path / "s4.npz")]) == 0
    with np.load(tmp_path / "s4.npz", allow_pickle=False) as npz:
        assert npz["images"].shape == (4, 32, 32)
        np.testing.assert_array_equal(npz["labels"], [0, 1, 0, 1])
        assert list(npz["charset"]) == ["가", "똠"]


def test_jamo_table_matches_the_unicode_formula():
    np.testing.assert_array_equal(jamo_table("가각힣"), [[0, 0, 0], [0, 0, 1], [18, 20, 27]])


def test_style_files_by_path_and_by_name(writer, tmp_path, monkeypatch):
    from korean_gan.artifacts import save_style

    vector = np.arange(writer.style_dim, dtype=np.float32) / 10
    save_style(tmp_path / "styles" / "mine.npz", vector, source="test")
    np.testing.assert_array_equal(writer.style_vectors(str(tmp_path / "styles" / "mine.npz"),
                                                       2), [vector, vector])
    monkeypatch.chdir(tmp_path)
    np.testing.assert_array_equal(writer.style_vectors("mine", 1)[0], vector)
    save_style(tmp_path / "short.npz", vector[:3])
    with pytest.raises(ValueError, match="holds 3 numbers; this model's styles have 16"):
        writer.style_vectors(str(tmp_path / "short.npz"), 1)
    with pytest.raises(ValueError, match="style file missing.npz does not exist"):
        writer.style_vectors("missing.npz", 1)


def test_model_folders_of_format_1_and_2_load_and_a_newer_one_is_refused(model_dir,
                                                                          tmp_path):
    import shutil

    from korean_gan.artifacts import FORMAT_VERSION, ArtifactError, export_model
    from korean_gan.generate import Handwriting, HandwritingError

    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    # Folders written before the format had a version (1) hold no format_version.
    assert "format_version" not in config and FORMAT_VERSION == 2
    first = Handwriting.load(model_dir, precision="float32").glyphs("가나", style=0)
    folder = tmp_path / "v2"
    shutil.copytree(model_dir, folder)
    (folder / "config.json").write_text(json.dumps({**config, "format_version": 2}),
                                        encoding="utf-8")
    second = Handwriting.load(folder, precision="float32").glyphs("가나", style=0)
    assert np.array_equal(first, second)
    assert (export_model(folder, tmp_path / "exported") / "model.json").is_file()
    (folder / "config.json").write_text(json.dumps({**config, "format_version": 3}),
                                        encoding="utf-8")
    with pytest.raises(HandwritingError, match="format_version 3 is not one this korean-gan "
                                               r"reads \(1 to 2\); upgrade korean-gan"):
        Handwriting.load(folder)
    with pytest.raises(ArtifactError, match="format_version 3"):
        export_model(folder, tmp_path / "again")


def test_synthesize_at_128_px_streams_to_disk_and_is_deterministic(writer, tmp_path):
    from korean_gan.data.dataset import load_dataset

    paths = [writer.synthesize(charset="가나다", per_class=2, size=128, progress=False,
                               out=str(tmp_path / f"s{k}.npz"))[0] for k in range(2)]
    first, second = (load_dataset(p) for p in paths)
    assert first.images.shape == (6, 128, 128) and first.images.dtype == np.uint8
    np.testing.assert_array_equal(first.images, second.images)
    assert list(first.labels) == [0, 0, 1, 1, 2, 2]
    # Nothing but the dataset, its manifest and preview is left beside it (no spill file).
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "s0.json", "s0.npz", "s0.preview.png", "s1.json", "s1.npz", "s1.preview.png"]
    with pytest.raises(ValueError, match="size 256 is not supported"):
        writer.synthesize(charset="가", per_class=1, size=256, out=str(tmp_path / "x.npz"))
