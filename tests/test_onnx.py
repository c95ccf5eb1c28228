"""ONNX exports of the sampling networks and the ONNX Runtime path (``--runtime onnx``)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from korean_gan.artifacts import (
    MODEL_CARD,
    PRETRAINED_DIR,
    UPSAMPLER64_DIR,
    UPSAMPLER_DIR,
    ArtifactError,
    add_card_file,
    stale_source,
)
from korean_gan.data.charsets import jamo_table
from korean_gan.generate import Handwriting, HandwritingError, export_onnx, resolve_runtime
from korean_gan.models.styles import convex_weights

FONTS = ["Gaegu-Regular", "HiMelody-Regular"]


def _random_inputs(n: int, noise_dim: int, style_dim: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal((n, noise_dim)).astype(np.float32)
    jamo = jamo_table([chr(0xAC00 + int(i)) for i in rng.integers(0, 11172, n)])
    styles = rng.standard_normal((n, style_dim)).astype(np.float32)
    return noise, jamo.astype(np.int32), styles


@pytest.mark.parametrize("fast", [False, True])
def test_generator_export_computes_what_keras_does(fast):
    from korean_gan.models.onnx_io import OnnxNetwork, export_generator

    generator = _perturbed_generator(1, fast_upsampling=fast)
    noise, jamo, styles = _random_inputs(12, 8, 4)
    expected = generator([noise, jamo, styles], training=False).numpy()[..., 0]
    got = OnnxNetwork(export_generator(generator), threads=1)(noise, jamo, styles)
    assert got.shape == (12, 32, 32)
    assert np.abs(got - expected).max() < 1e-5
    assert expected.std() > 0.05  # not a constant picture that anything would match


@pytest.mark.parametrize("factor", [2, 4])
def test_upsampler_export_rounds_as_the_traced_keras_path_does(factor):
    import keras

    from korean_gan.models.onnx_io import OnnxNetwork, export_upsampler
    from korean_gan.models.upsampler import build_upsampler

    keras.utils.set_random_seed(3)
    model = build_upsampler(filters=8, blocks=1, factor=factor)
    rng = np.random.default_rng(4)
    small = rng.integers(0, 256, (6, 32, 32)).astype(np.uint8)
    offsets = rng.normal(0, 1, 6).astype(np.float32)
    logits = keras.Model(model.input, model.get_layer("depth_to_space").output)(
        1.0 - small[..., None] / 255.0).numpy()[..., 0]
    expected = np.round(255.0 / (1.0 + np.exp(logits - offsets[:, None, None])))
    got = OnnxNetwork(export_upsampler(model))(small, offsets)
    assert got.dtype == np.uint8 and got.shape == (6, 32 * factor, 32 * factor)
    assert np.abs(got.astype(float) - expected).max() <= 1
    assert len(np.unique(got)) > 10


def test_committed_exports_draw_what_the_committed_keras_networks_draw():
    tf_writer = Handwriting.load("default", precision="float32", runtime="tensorflow")
    onnx_writer = Handwriting.load("default", precision="float32", runtime="onnx")
    assert (tf_writer.runtime, onnx_writer.runtime) == ("tensorflow", "onnx")
    assert onnx_writer.precision == "float32"
    text = "다람쥐헌쳇바퀴에타고파곪읊뷁"
    for size in (32, 64, 128):
        a = tf_writer.glyphs(text, style="Gaegu-Regular", seed=5, size=size).astype(int)
        b = onnx_writer.glyphs(text, style="Gaegu-Regular", seed=5, size=size).astype(int)
        assert a.shape == b.shape == (len(text), size, size)
        assert np.abs(a - b).max() <= 2, size
        assert np.mean(a != b) < 0.002, size
    styles = np.repeat(tf_writer.styles[3:4], len(text), axis=0)
    noise = np.random.default_rng(6).standard_normal((len(text), 64)).astype(np.float32)
    for size in (64, 128):
        a = tf_writer.draw_hangul(text, styles, noise, size=size).astype(int)
        b = onnx_writer.draw_hangul(text, styles, noise, size=size).astype(int)
        assert np.abs(a - b).max() <= 2 and np.mean(a != b) < 0.002, size


def test_onnx_runtime_is_deterministic_and_loads_no_tensorflow():
    code = (
        "import sys, hashlib\n"
        "from korean_gan.generate import Handwriting\n"
        "w = Handwriting.load('default', precision='float32', runtime='onnx', threads=1)\n"
        "g = w.glyphs('가나다라', style='mean', seed=7, size=64)\n"
        "print(hashlib.sha256(g.tobytes()).hexdigest(), 'tensorflow' in sys.modules)\n")
    outputs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              check=True).stdout.split() for _ in range(2)]
    assert outputs[0] == outputs[1]
    assert outputs[0][1] == "False"


def test_runtime_choice_and_its_errors(tmp_path):
    assert resolve_runtime("default", "float32", "auto") == "onnx"
    assert resolve_runtime("default", "auto", "auto") == "tensorflow"  # may mean bf16
    assert resolve_runtime("hangul-v1", "float32", "auto") == "tensorflow"  # no export
    assert resolve_runtime("hangul-v1", "float32", "tensorflow") == "tensorflow"
    with pytest.raises(HandwritingError, match="choose one of auto, tensorflow, onnx"):
        resolve_runtime("default", "float32", "torch")
    with pytest.raises(HandwritingError, match="float32 or int8, not mixed_bfloat16.*"
                                               "--precision"):
        resolve_runtime("default", "mixed_bfloat16", "onnx")
    assert resolve_runtime("default", "int8", "auto") == "onnx"
    with pytest.raises(HandwritingError, match="int8 runs in ONNX Runtime only"):
        resolve_runtime("default", "int8", "tensorflow")
    with pytest.raises(HandwritingError, match=r"hangul-v1/generator-int8.onnx does not exist"):
        Handwriting.load("hangul-v1", precision="int8", runtime="onnx")
    with pytest.raises(HandwritingError, match=r"hangul-v1/generator.onnx does not exist: "
                                               r"export it with `korean-gan export-onnx"):
        Handwriting.load("hangul-v1", precision="float32", runtime="onnx")


def test_export_of_a_run_folder_is_used_until_the_run_changes(tmp_path,
                                                             make_conditional_model_dir):
    folder = make_conditional_model_dir(tmp_path / "run", FONTS)
    assert resolve_runtime(folder, "float32", "auto") == "tensorflow"
    paths = export_onnx(folder)
    assert paths == [folder / "generator.onnx", folder / "generator-int8.onnx"]
    card = json.loads((folder / MODEL_CARD).read_text(encoding="utf-8"))
    for name in ("generator.onnx", "generator-int8.onnx"):
        assert set(card["derived_from"][name]) == {"generator.weights.h5", "styles.npz"}
    assert resolve_runtime(folder, "float32", "auto") == "onnx"
    assert resolve_runtime(folder, "int8", "auto") == "onnx"
    a = Handwriting.load(folder, precision="float32", runtime="tensorflow").glyphs("가나다",
                                                                                   seed=1)
    b = Handwriting.load(folder, precision="float32", runtime="onnx").glyphs("가나다", seed=1)
    assert np.abs(a.astype(int) - b.astype(int)).max() <= 1
    # Trained on: the weights change, the export is stale and no longer used.
    weights = folder / "generator.weights.h5"
    weights.write_bytes(weights.read_bytes() + b"\0")
    assert stale_source(folder, "generator.onnx") == "generator.weights.h5"
    assert resolve_runtime(folder, "float32", "auto") == "tensorflow"
    with pytest.raises(HandwritingError, match="is older than .*generator.weights.h5"):
        resolve_runtime(folder, "float32", "onnx")
    with pytest.raises(HandwritingError, match="generator-int8.onnx is older than"):
        resolve_runtime(folder, "int8", "auto")


def test_add_card_file_keeps_the_card_and_its_checks(tmp_path):
    folder = tmp_path / "up"
    shutil.copytree(UPSAMPLER64_DIR, folder)
    before = json.loads((folder / MODEL_CARD).read_text(encoding="utf-8"))
    add_card_file(folder, "extra.bin", b"abc", sources=("config.json",))
    after = json.loads((folder / MODEL_CARD).read_text(encoding="utf-8"))
    assert {k: v for k, v in after.items() if k not in ("sha256", "derived_from")} == \
        {k: v for k, v in before.items() if k not in ("sha256", "derived_from")}
    assert after["sha256"]["extra.bin"] == \
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert stale_source(folder, "extra.bin") is None
    (folder / "extra.bin").write_bytes(b"abd")
    with pytest.raises(ArtifactError, match="extra.bin does not match the sha256"):
        add_card_file(folder, "other.bin", b"x")
    (folder / "extra.bin").write_bytes(b"abc")
    with pytest.raises(ArtifactError, match="nothing.json does not exist"):
        add_card_file(tmp_path / "up", "x.bin", b"x", sources=("nothing.json",))


def test_committed_exports_are_current():
    for folder, name in ((PRETRAINED_DIR / "hangul", "generator.onnx"),
                         (PRETRAINED_DIR / "hangul", "generator-int8.onnx"),
                         (UPSAMPLER_DIR, "upsampler.onnx"), (UPSAMPLER64_DIR, "upsampler.onnx")):
        assert (folder / name).is_file(), folder
        card = json.loads((folder / MODEL_CARD).read_text(encoding="utf-8"))
        assert name in card["derived_from"], folder
        assert stale_source(folder, name) is None, folder


def test_convex_weights_of_a_basis_row_is_that_row_alone():
    basis = np.random.default_rng(0).normal(size=(5, 3))
    vectors = np.vstack([basis[2], basis[4], 0.5 * basis[0] + 0.5 * basis[1]])
    weights = convex_weights(vectors, basis)
    assert np.array_equal(weights[0], np.eye(5)[2])
    assert np.array_equal(weights[1], np.eye(5)[4])
    np.testing.assert_allclose(weights[2], [0.5, 0.5, 0, 0, 0], atol=1e-6)


def test_cli_export_and_runtime_errors(run_cli):
    code, _, err = run_cli("export-onnx", "--no-model")
    assert code == 2 and "nothing to export" in err
    code, _, err = run_cli("lines", "--random", "2", "--out", "unused", "--runtime", "onnx",
                           "--precision", "mixed_bfloat16")
    assert code == 2 and "onnx runtime computes in float32" in err
    code, _, err = run_cli("write", "가", "--out", "unused.png", "--precision", "int8",
                           "--runtime", "tensorflow")
    assert code == 2 and "int8 runs in ONNX Runtime only" in err


def test_onnx_glyphs_do_not_depend_on_the_thread_count():
    text = "다람쥐헌쳇바퀴에타고파" * 3
    drawn = [Handwriting.load("default", precision="float32", runtime="onnx", threads=t)
             .glyphs(text, style="random", seed=3, size=64) for t in (1, 3)]
    assert np.array_equal(drawn[0], drawn[1])


def _perturbed_generator(seed: int, fast_upsampling: bool = True):
    """A small random generator whose batch-norm statistics and condition weights are not the
    identity (so folding them is really checked)."""
    import keras

    from korean_gan.models.networks import build_conditional_generator

    keras.utils.set_random_seed(seed)
    generator = build_conditional_generator(noise_dim=8, style_dim=4, jamo_dim=6,
                                            base_filters=32, block_filters=(16, 8, 4),
                                            fast_upsampling=fast_upsampling)
    rng = np.random.default_rng(seed + 1)
    for block in range(4):
        layer = generator.get_layer(f"cbn_{block}")
        layer.norm.moving_mean.assign(rng.normal(0, 0.5, layer.norm.moving_mean.shape))
        layer.norm.moving_variance.assign(rng.uniform(0.5, 2.0, layer.norm.moving_mean.shape))
        for dense in (layer.gamma, layer.beta):
            dense.set_weights([rng.normal(0, 0.2, w.shape) for w in dense.get_weights()])
    return generator


def test_phase_convolutions_compute_the_upsampling_convolution():
    from korean_gan.models.onnx_io import OnnxNetwork, _generator_graph

    generator = _perturbed_generator(5)
    noise, jamo, styles = _random_inputs(10, 8, 4, seed=1)
    expected = generator([noise, jamo, styles], training=False).numpy()[..., 0]
    data, probes = _generator_graph(generator, "phases")
    assert probes == ["features_0", "features_0_phases", "features_1", "features_1_phases",
                      "features_2", "features_2_phases", "features_3"]
    got = OnnxNetwork(data, threads=1)(noise, jamo, styles)
    assert np.abs(got - expected).max() < 1e-5
    assert expected.std() > 0.05


def test_int8_export_is_quantized_and_close_to_keras():
    import onnx

    from korean_gan.models.onnx_io import OnnxNetwork, export_generator_int8

    generator = _perturbed_generator(7)
    data = export_generator_int8(generator, *_random_inputs(256, 8, 4, seed=2))
    ops = [node.op_type for node in onnx.load_from_string(data).graph.node]
    assert ops.count("QLinearConv") == 3 * 4 + 1  # four phases per upsampling, and the head
    assert "ConvTranspose" not in ops and "Conv" not in ops
    network = OnnxNetwork(data, threads=1)
    assert network.precision == "int8"
    noise, jamo, styles = _random_inputs(64, 8, 4, seed=3)  # not the calibration inputs
    expected = generator([noise, jamo, styles], training=False).numpy()[..., 0]
    grey = np.abs(np.round(127.5 * (network(noise, jamo, styles) - expected)))
    assert grey.mean() < 2.0
    assert np.quantile(grey, 0.99) <= 16
    assert np.abs(np.round(127.5 * expected)).mean() > 20  # a picture, not a flat grey


def test_committed_int8_generator_draws_the_float32_glyphs_in_any_thread_count():
    text = "다람쥐헌쳇바퀴에타고파곪읊뷁" * 4
    f32 = Handwriting.load("default", precision="float32", runtime="onnx")
    int8 = [Handwriting.load("default", precision="int8", runtime=runtime, threads=threads)
            for runtime, threads in (("onnx", 1), ("auto", 2))]
    assert [w.precision for w in int8] == ["int8", "int8"]
    assert [w.runtime for w in int8] == ["onnx", "onnx"]
    a = f32.glyphs(text, style="random", seed=2).astype(int)
    b, c = (w.glyphs(text, style="random", seed=2) for w in int8)
    assert np.array_equal(b, c)
    grey = np.abs(a - b)
    assert grey.mean() < 1.5 and np.mean(grey > 32) < 0.002
    assert np.array_equal(b, int8[0].glyphs(text, style="random", seed=2))  # same seed
    assert not np.array_equal(b, int8[0].glyphs(text, style="random", seed=3))


def test_lines_pick_their_workers_and_make_the_same_lines_with_any_count(tmp_path):
    import os

    from korean_gan.data.linesets import read_lineset
    from korean_gan.textlines import make_lines

    common = dict(random=6, batch_lines=2, height=32, styles="fonts,random", seed=4,
                  progress=False)
    auto = make_lines(out=str(tmp_path / "auto"), workers=None, **common)
    one = make_lines(out=str(tmp_path / "one"), workers=1, **common)
    assert auto.manifest["build"]["workers"] == min(os.cpu_count() or 1, 3)
    assert one.manifest["build"]["workers"] == 1
    assert auto.manifest["build"]["runtime"] == "onnx"
    assert auto.manifest["build"]["precision"] == "int8"  # the default where it is exported
    assert auto.manifest["parameters"]["precision"] == "int8"
    assert list(read_lineset(auto.path)) == list(read_lineset(one.path))
    small = make_lines(out=str(tmp_path / "small"), workers=None,
                       **{**common, "random": 2})  # one batch: drawn in this process
    assert small.manifest["build"]["workers"] == 1


def test_fitting_a_style_asks_for_the_tensorflow_runtime():
    from korean_gan.handwriting.adapt import fit_style

    writer = Handwriting.load("default", precision="float32", runtime="onnx")
    glyphs = writer.glyphs("가나", style="mean")
    with pytest.raises(HandwritingError, match="runtime='tensorflow'"):
        fit_style(writer, glyphs, "가나", steps=1)


def test_synth_in_int8_runs_in_onnx_runtime_without_asking_for_it(run_cli, tmp_path):
    out = tmp_path / "set.npz"
    code, _, err = run_cli("synth", "--charset", "가나다", "--per-class", "2", "--precision",
                           "int8", "--quiet", "--no-preview", "--out", out)
    assert code == 0, err
    manifest = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    assert manifest["model"]["precision"] == "int8"
    assert manifest["build"]["runtime"] == "onnx"
    assert manifest["counts"]["images"] == 6
    with np.load(out) as data:
        assert data["images"].shape[0] == 6 and data["images"].std() > 20


def test_a_network_runs_blocks_side_by_side_and_gives_the_same_rows_in_order():
    from korean_gan.models.onnx_io import OnnxNetwork

    writer = Handwriting.load("default", precision="float32", runtime="onnx")
    path = writer.generator.path
    z = writer.noise_dim
    rng = np.random.default_rng(4)
    noise = rng.standard_normal((150, z)).astype(np.float32)  # blocks of 64, 64 and 22
    jamo = np.stack([rng.integers(0, n, 150) for n in (19, 21, 28)], 1).astype(np.int32)
    styles = rng.dirichlet(np.ones(writer.style_dim), 150).astype(np.float32)
    one, two = (OnnxNetwork(path, threads=t) for t in (1, 2))
    assert (one.threads, two.threads, two.block) == (1, 2, 64)
    got = two(noise, jamo, styles)
    assert got.shape == (150, writer.image_size, writer.image_size)
    assert np.array_equal(got, one(noise, jamo, styles))
    for start in (0, 64, 128):  # each block where it belongs
        rows = slice(start, start + 64)
        assert np.array_equal(got[rows], one(noise[rows], jamo[rows], styles[rows]))
    assert not np.array_equal(got[:64], got[64:128])
