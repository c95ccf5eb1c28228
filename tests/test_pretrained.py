"""The committed pretrained conditional models (the default, the two before it and a distilled
fast copy): they
load, are checked, and write what their model cards report."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from korean_gan.artifacts import PRETRAINED_DIR
from korean_gan.generate import Handwriting


@pytest.fixture(scope="module")
def hw() -> Handwriting:
    return Handwriting.load("default")


def test_the_pretrained_models_are_small_and_describe_themselves():
    size = sum(p.stat().st_size for p in PRETRAINED_DIR.glob("*/*"))
    assert size < 26 * 2**20  # every committed model together, the exports included
    for name in ("hangul", "hangul-fast", "hangul-v2", "hangul-v1"):
        card = json.loads((PRETRAINED_DIR / name / "model.json").read_text(encoding="utf-8"))
        model = Handwriting.load(name, precision="float32")
        assert model.fonts == card["training"]["fonts"] and len(model.fonts) == 18
        assert set(card["training"]["never_seen_fonts"]).isdisjoint(model.fonts)
        # The default model also carries its ONNX exports (--runtime onnx, --precision int8),
        # made from its weights and styles.
        onnx = {"generator.onnx", "generator-int8.onnx"} if name == "hangul" else set()
        assert set(card["sha256"]) == {"generator.weights.h5", "styles.npz",
                                       "config.json"} | onnx
        assert set(card.get("derived_from", {})) == onnx


def test_default_and_its_version_name_hangul_v3_are_the_hangul_folder():
    from korean_gan.artifacts import ArtifactError, model_folder

    assert model_folder("default") == model_folder("hangul-v3") == PRETRAINED_DIR / "hangul"
    # 0.7 x hangul-v2 + 0.3 x hangul-v2 fine-tuned with the content loss reading moved and
    # scaled glyphs (its model card and docs/conditional.md): the config is the fine-tune's.
    info = Handwriting.load("default").info
    assert info["config"]["init_from"] == "hangul-v2" and info["config"]["content_affine"] is True
    assert info["config"]["repeat_fonts"] == {"NanumBrushScript-Regular": 4}
    card = json.loads((PRETRAINED_DIR / "hangul" / "model.json").read_text(encoding="utf-8"))
    assert card["interpolated"] == {
        "first": "hangul-v2", "second": "benchmarks/models/hangul-affine", "weight": 0.3,
        "method": card["interpolated"]["method"]}
    previous = Handwriting.load("hangul-v2").info["config"]
    assert previous["init_from"] == "hangul-v1" and "content_affine" not in previous
    # A model that left the package says where it went.
    with pytest.raises(ArtifactError, match="hangul-base is no longer in the package: give "
                                            "its folder benchmarks/models/hangul-base"):
        model_folder("hangul-base")


def test_the_fast_model_is_hangul_v1_distilled():
    hw = Handwriting.load("hangul-v1")
    fast = Handwriting.load("hangul-fast")
    assert fast.fonts == hw.fonts
    np.testing.assert_array_equal(fast.styles, hw.styles)
    widths = [fast.generator.get_layer(f"conv_{b}").filters for b in (1, 2, 3)]
    assert widths == fast.info["config"]["g_block_filters"]
    assert widths[2] < hw.generator.get_layer("conv_3").filters
    # The blocks before the first narrowed one are the default model's own.
    for name in ("dense", "embed_vowel", "conv_1", "cbn_1"):
        for a, b in zip(fast.generator.get_layer(name).get_weights(),
                        hw.generator.get_layer(name).get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", ["hangul", "hangul-fast", "hangul-v2", "hangul-v1"])
def test_the_probe_reads_as_the_model_card_reports(name):
    from korean_gan.data.charsets import ks2350_train
    from korean_gan.evaluation.evaluator import Evaluator

    hw = Handwriting.load(name)
    card = json.loads((PRETRAINED_DIR / name / "model.json").read_text(encoding="utf-8"))
    evaluator = Evaluator.load("ks2350")
    chars = list(ks2350_train().chars[:300])
    n = len(hw.fonts)
    images = np.concatenate([hw.glyphs(chars[i::n], style=i, seed=0) for i in range(n)])
    order = [c for i in range(n) for c in chars[i::n]]
    index = {c: i for i, c in enumerate(evaluator.charset.chars)}
    _, probs = evaluator.predict(images)
    accuracy = float(np.mean(probs.argmax(axis=1) == [index[c] for c in order]))
    # Generation is deterministic; a different CPU may round a pixel differently.
    assert accuracy == pytest.approx(card["probe"]["content_accuracy"], abs=0.02)


def test_a_changed_pretrained_file_is_refused(tmp_path):
    copy = tmp_path / "hangul"
    shutil.copytree(PRETRAINED_DIR / "hangul", copy)
    data = bytearray((copy / "generator.weights.h5").read_bytes())
    data[-200] ^= 0xFF
    (copy / "generator.weights.h5").write_bytes(bytes(data))
    with pytest.raises(ValueError, match="does not match the sha256 in model.json"):
        Handwriting.load(copy)


def test_write_and_synth_work_with_the_pretrained_model(hw, tmp_path):
    from korean_gan.data.dataset import load_dataset

    line = hw.write("안녕 똠", style="random-one", seed=1, scale=1)
    assert line.dtype == np.uint8 and line.min() < 64  # there is ink
    path, _ = hw.synthesize(charset="가나", per_class=3, out=str(tmp_path / "s.npz"),
                            progress=False, preview=False)
    assert len(load_dataset(path)) == 6


def test_keep_legible_keeps_exactly_the_glyphs_the_evaluator_reads_as_asked(hw, tmp_path):
    from korean_gan.data.charsets import ks2350_train
    from korean_gan.data.dataset import load_dataset
    from korean_gan.evaluation.evaluator import Evaluator
    from korean_gan.generate import HandwritingError

    chars = ks2350_train().chars[::50]  # 43 syllables, most not in seed16: ks2350 reads them
    path, manifest = hw.synthesize(charset="".join(chars), per_class=18, keep_legible=True,
                                   out=str(tmp_path / "s.npz"), progress=False, preview=False)
    kept = manifest["keep_legible"]
    evaluator = Evaluator.load("ks2350")
    assert kept["evaluator"] == evaluator.name
    assert kept["kept"] + kept["dropped"] == len(chars) * 18
    assert kept["dropped"] > 0  # the evaluator misreads a few of them
    data = load_dataset(path)
    assert len(data) == kept["kept"] == manifest["counts"]["images"]
    _, probs = evaluator.predict(data.images)
    asked = evaluator.label_map(data.charset)[data.labels]
    np.testing.assert_array_equal(probs.argmax(axis=1), asked)
    # Without the filter, the same glyphs plus the dropped ones.
    full, _ = hw.synthesize(charset="".join(chars), per_class=18, out=str(tmp_path / "f.npz"),
                            progress=False, preview=False)
    _, probs = evaluator.predict(load_dataset(full).images)
    assert int(np.sum(probs.argmax(axis=1) == evaluator.label_map(data.charset)[
        load_dataset(full).labels])) == kept["kept"]
    with pytest.raises(HandwritingError, match="keep-legible needs an evaluator"):
        hw.synthesize(charset="똠", per_class=2, keep_legible=True,
                      out=str(tmp_path / "x.npz"), progress=False, preview=False)
    assert not (tmp_path / "x.npz").exists()


def test_cli_synth_keep_legible_reports_what_it_dropped(tmp_path, capsys):
    from korean_gan.cli import main

    out = tmp_path / "cli.npz"
    assert main(["synth", "--charset", "가나다라", "--per-class", "18", "--keep-legible",
                 "--out", str(out), "--no-preview", "--quiet"]) == 0
    manifest = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    printed = capsys.readouterr().out
    assert f"dropped {manifest['keep_legible']['dropped']:,} glyphs" in printed
    assert manifest["parameters"]["keep_legible"] is True


def test_mixed_bfloat16_sampling_draws_the_float32_glyphs(hw):
    """bf16 sampling (the default on CPUs that have it) stays within a few grey levels of
    float32 and reads the same to the evaluator."""
    exact = Handwriting.load("default", precision="float32")
    fast = Handwriting.load("default", precision="mixed_bfloat16")
    assert exact.precision == "float32"
    assert fast.generator.dtype_policy.name == "mixed_bfloat16"
    chars = "가나다라마바사아자차카타파하똠방각"
    a = exact.glyphs(chars, style=3, seed=2).astype(int)
    b = fast.glyphs(chars, style=3, seed=2).astype(int)
    assert not np.array_equal(a, b)  # it did compute in bf16
    assert np.abs(a - b).mean() < 1.5 and np.abs(a - b).max() <= 64


def test_an_unknown_sampling_precision_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown precision 'fp8'; choose from auto, float32"):
        Handwriting.load("default", precision="fp8")


def test_cli_models_lists_every_committed_model_default_first(capsys):
    from korean_gan.artifacts import pretrained_models
    from korean_gan.cli import main

    assert main(["models"]) == 0
    printed = capsys.readouterr().out
    heads = [line for line in printed.splitlines() if line and not line.startswith(" ")][:-1]
    assert heads[0].startswith("hangul, default, hangul-v3  (")
    assert sorted(h.split(",")[0].split()[0] for h in heads) == sorted(
        p.name for p in PRETRAINED_DIR.iterdir() if (p / "model.json").is_file())
    sizes = {m["name"]: m["megabytes"] for m in pretrained_models()}
    # hangul: its weights and their float32 ONNX export, about 5 MB each, and the int8 one, 2.
    assert 11 < sizes["hangul"] < 13 and sum(sizes.values()) < 27
    assert "--repeat-font" in printed  # a description, wrapped without breaking its words


def test_glyphs_at_128_px_are_crisp_and_placed_as_the_font_places_them(hw):
    """Thin-pen style, complex syllables: few grey pixels at the stroke edges (against the
    32 px glyphs blown up by bicubic resampling), and each glyph's ink where the font's
    metrics put it (the big syllable taller than the small one, as in the font)."""
    from PIL import Image

    from korean_gan.data.layout import ink_box

    chars = "곪읊뷁오늘"
    large = hw.glyphs(chars, style="HiMelody-Regular", seed=0, size=128)
    small = hw.glyphs(chars, style="HiMelody-Regular", seed=0)
    blown = np.stack([np.asarray(Image.fromarray(g).resize((128, 128),
                                                           Image.Resampling.BICUBIC))
                      for g in small])

    def grey_share(images):  # grey edge pixels per ink pixel
        return ((images > 64) & (images < 192)).sum() / (images < 128).sum()

    assert grey_share(large) < 0.6 * grey_share(blown)
    heights = [ink_box(g)[3] - ink_box(g)[1] for g in large]
    metrics = hw.font_metrics.font("HiMelody-Regular")
    font_heights = [metrics.boxes[ord(c) - 0xAC00][3] - metrics.boxes[ord(c) - 0xAC00][1]
                    for c in chars]
    ratio = np.array(heights) / np.array(font_heights)
    assert ratio.max() / ratio.min() < 1.1  # one scale for the style, as in the font
    assert heights[3] < heights[4]  # 오 is shorter than 늘 in HiMelody, as drawn here


def _weights(folder) -> dict:
    import h5py

    with h5py.File(folder / "generator.weights.h5", "r") as f:
        out = {}
        f.visititems(lambda name, obj: out.__setitem__(name, obj[()])
                     if isinstance(obj, h5py.Dataset) else None)
    return out


def test_the_default_is_remade_from_the_repository_by_its_interpolate_command(tmp_path):
    """hangul-v2 and the committed fine-tune give the default's files byte for byte."""
    import hashlib
    from pathlib import Path

    from korean_gan.artifacts import interpolate_models

    fine_tune = Path(__file__).resolve().parent.parent / "benchmarks" / "models" / "hangul-affine"
    if not fine_tune.is_dir():
        pytest.skip("benchmarks/models is in a clone of the repository, not in the package")
    out = interpolate_models("hangul-v2", fine_tune, 0.3, tmp_path / "hangul")
    card = json.loads((PRETRAINED_DIR / "hangul" / "model.json").read_text(encoding="utf-8"))
    for name in ("generator.weights.h5", "styles.npz", "config.json"):
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == card["sha256"][name]


def test_interpolate_models_mixes_weights_and_styles(tmp_path):
    from korean_gan.artifacts import interpolate_models
    from korean_gan.cli import main

    first, second = PRETRAINED_DIR / "hangul-v1", PRETRAINED_DIR / "hangul"
    out = interpolate_models("hangul-v1", "default", 0.25, tmp_path / "quarter")
    a, b, mixed = _weights(first), _weights(second), _weights(out)
    assert sorted(mixed) == sorted(a) and len(a) > 20
    differ = [k for k in a if a[k].dtype.kind == "f" and not np.array_equal(a[k], b[k])]
    assert len(differ) > 20  # the fine-tune moved nearly every weight
    for name in differ:
        np.testing.assert_allclose(mixed[name], 0.75 * a[name] + 0.25 * b[name],
                                   rtol=1e-6, atol=1e-7)
    model = Handwriting.load(str(out), precision="float32")
    v1, v2 = Handwriting.load("hangul-v1"), Handwriting.load("default")
    np.testing.assert_allclose(model.styles, 0.75 * v1.styles + 0.25 * v2.styles, rtol=1e-6)
    card = json.loads((out / "model.json").read_text(encoding="utf-8"))
    assert card["interpolated"]["weight"] == 0.25 and card["interpolated"]["first"] == "hangul-v1"
    assert model.info["config"] == v2.info["config"]  # the second model's settings

    # Weight 0 is the first model itself: the same glyphs, byte for byte.
    assert main(["interpolate", "--models", "hangul-v1", "default", "--weight", "0",
                 "--out", str(tmp_path / "zero")]) == 0
    same = Handwriting.load(str(tmp_path / "zero"), precision="float32")
    exact = Handwriting.load("hangul-v1", precision="float32")
    np.testing.assert_array_equal(same.glyphs("각닭뷁", style=2, seed=4),
                                  exact.glyphs("각닭뷁", style=2, seed=4))
    assert not np.array_equal(model.glyphs("각닭뷁", style=2, seed=4),
                              exact.glyphs("각닭뷁", style=2, seed=4))


@pytest.mark.parametrize("args, message", [
    (("hangul-v1", "default", 1.5), "weight 1.5 is not between 0 and 1"),
    (("hangul-v1", "hangul-fast", 0.5), "differ in g_block_filters"),
])
def test_interpolate_models_refuses_what_does_not_mix(tmp_path, args, message):
    from korean_gan.artifacts import ArtifactError, interpolate_models

    with pytest.raises(ArtifactError, match=message):
        interpolate_models(*args, tmp_path / "out")
    assert not (tmp_path / "out").exists()  # nothing half-written
