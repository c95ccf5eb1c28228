"""Parts of the conditional model: jamo/style generator, projection critic, DiffAugment."""

from __future__ import annotations

import keras
import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from korean_gan.data.charsets import decompose  # noqa: E402
from korean_gan.models.networks import (  # noqa: E402
    JAMO_SIZES,
    build_conditional_generator,
    build_projection_discriminator,
)
from korean_gan.training.diffaugment import diff_augment, rand_affine, rand_cutout, rand_translation  # noqa: E402


def _jamo(text: str) -> np.ndarray:
    return np.array([decompose(c) for c in text], dtype=np.int32)


def test_jamo_sizes_match_the_unicode_composition():
    from korean_gan.data.charsets import N_FINAL, N_INITIAL, N_VOWEL

    assert JAMO_SIZES == (N_INITIAL, N_VOWEL, N_FINAL)


def test_conditional_generator_writes_any_syllable():
    generator = build_conditional_generator()
    jamo = _jamo("가힣각똠")  # 힣 uses the last index of every jamo table
    noise = np.zeros((4, 64), np.float32)
    style = np.zeros((4, 16), np.float32)
    images = np.asarray(generator([noise, jamo, style], training=False))
    assert images.shape == (4, 32, 32, 1) and images.dtype == np.float32
    assert np.all(np.abs(images) <= 1.0)
    # Content and style both reach the image.
    assert not np.allclose(images[0], images[1])
    other = np.asarray(generator([noise, jamo, style + 1.0], training=False))
    assert not np.allclose(images, other)
    with pytest.raises(ValueError, match="multiple of 8"):
        build_conditional_generator(image_size=36)


def test_projection_discriminator_scores_image_and_condition():
    critic = build_projection_discriminator(n_styles=5)
    assert sum("sn_" in layer.name for layer in critic.layers) == 7  # 6 convolutions + linear
    images = np.random.default_rng(0).uniform(-1, 1, (3, 32, 32, 1)).astype(np.float32)
    labels = np.array([[0, 0, 0, 0], [18, 20, 27, 4], [3, 4, 5, 2]], np.int32)
    logits = np.asarray(critic([images, labels], training=False))
    assert logits.shape == (3, 1) and logits.dtype == np.float32
    # The projection head: another font for the same image changes the score.
    labels_other = labels.copy()
    labels_other[:, 3] = (labels[:, 3] + 1) % 5
    head = critic.get_layer("projection")
    head.tables[3].embeddings.assign(tf.random.normal(head.tables[3].embeddings.shape, seed=1))
    a = np.asarray(critic([images, labels], training=False))
    b = np.asarray(critic([images, labels_other], training=False))
    assert not np.allclose(a, b)
    with pytest.raises(ValueError, match="n_styles"):
        build_projection_discriminator(n_styles=0)


def test_the_critic_without_spectral_norm_has_the_same_layers_unnormalised():
    """The ablation switch: same names, shapes and float32 first layer; no power iteration."""
    normed = build_projection_discriminator(n_styles=3, base_filters=8)
    plain = build_projection_discriminator(n_styles=3, base_filters=8, spectral_norm=False)
    sn_names = [layer.name for layer in normed.layers
                if isinstance(layer, keras.layers.SpectralNormalization)]
    assert len(sn_names) == 7
    assert not any(isinstance(layer, keras.layers.SpectralNormalization)
                   for layer in plain.layers)
    assert [layer.name for layer in plain.layers] == [layer.name for layer in normed.layers]
    assert plain.get_layer("sn_conv_1a").dtype_policy.compute_dtype == "float32"
    # The same trainable weights; only the normalised layers' power-iteration vectors go.
    count = lambda model, ws: sum(int(np.prod(w.shape)) for w in getattr(model, ws))  # noqa: E731
    assert count(plain, "trainable_weights") == count(normed, "trainable_weights")
    assert len(normed.non_trainable_weights) - len(plain.non_trainable_weights) == 7
    images = np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 1)).astype(np.float32)
    logits = np.asarray(plain([images, np.zeros((2, 4), np.int32)], training=True))
    assert logits.shape == (2, 1) and np.isfinite(logits).all()


def test_translation_moves_ink_by_at_most_an_eighth_and_fills_with_paper():
    image = np.ones((1, 32, 32, 1), np.float32)
    image[0, 16, 16, 0] = -1.0  # one ink pixel
    seen = set()
    for s in range(40):
        out = np.asarray(rand_translation(tf.constant(image), seed=tf.constant([s, 7])))
        ink = np.argwhere(out[0, :, :, 0] < 0)
        assert len(ink) == 1 and out.min() == -1.0
        dy, dx = ink[0] - 16
        assert abs(dy) <= 4 and abs(dx) <= 4
        seen.add((int(dy), int(dx)))
        assert np.count_nonzero(out == 1.0) == 32 * 32 - 1  # everything else is paper
    assert len(seen) > 10  # it really moves


def test_affine_scales_and_moves_ink_within_its_range_and_fills_with_paper():
    image = np.ones((1, 32, 32, 1), np.float32)
    image[0, 8:24, 8:24, 0] = -1.0  # a 16 px square of ink in the middle
    areas, centres = [], []
    for s in range(40):
        out = np.asarray(rand_affine(tf.constant(image), seed=tf.constant([s, 7])))[0, :, :, 0]
        assert out.min() >= -1.0 - 1e-5 and out.max() <= 1.0 + 1e-5
        assert (out[0] == 1.0).all() and (out[:, 0] == 1.0).all()  # paper comes in
        ink = out < 0
        areas.append(ink.sum())
        centres.append(np.argwhere(ink).mean(axis=0) - 15.5)
    # Scale 0.75-1.05: the square's side 12-16.8 px, its area 144-282 px (±1 px of edge).
    assert 120 <= min(areas) and max(areas) <= 320
    assert max(areas) - min(areas) > 60  # it really scales
    # Shifts up to 3 px in each direction.
    centres = np.array(centres)
    assert np.abs(centres).max() <= 3.5 and np.abs(centres).max() > 1.5
    # Same seed, same picture; and it passes gradients to the glyph.
    again = rand_affine(tf.constant(image), seed=tf.constant([3, 7]))
    np.testing.assert_array_equal(again, rand_affine(tf.constant(image),
                                                     seed=tf.constant([3, 7])))
    variable = tf.Variable(image)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(rand_affine(variable, seed=tf.constant([3, 7])))
    assert float(tf.reduce_sum(tape.gradient(loss, variable))) > 0


def test_cutout_blanks_a_square_to_paper():
    ink = -np.ones((8, 32, 32, 1), np.float32)
    out = np.asarray(rand_cutout(tf.constant(ink), seed=tf.constant([3, 4])))
    for image in out[..., 0]:
        cut = image == 1.0
        rows, cols = np.nonzero(cut)
        assert cut.sum() <= 16 * 16 and cut.sum() > 0
        # The blanked area is one axis-aligned rectangle (a square clipped at the border).
        assert cut[rows.min():rows.max() + 1, cols.min():cols.max() + 1].all()


def test_diff_augment_is_differentiable_and_checks_names():
    images = tf.Variable(tf.random.uniform((2, 32, 32, 1), -1, 1, seed=2))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(diff_augment(images, "translation,cutout"))
    grad = tape.gradient(loss, images)
    assert grad is not None and float(tf.reduce_sum(grad)) > 0
    np.testing.assert_array_equal(diff_augment(images, ""), images)
    with pytest.raises(ValueError, match="unknown DiffAugment transform 'flip'"):
        diff_augment(images, "flip")


def test_conditional_gan_trains_styles_and_averages_the_generator():
    from korean_gan.data.charsets import jamo_table
    from korean_gan.training.conditional import build_conditional_gan

    np.testing.assert_array_equal(jamo_table("가힣"), [[0, 0, 0], [18, 20, 27]])
    gan = build_conditional_gan("가나다라마바사아", ["a", "b", "c"], ema_decay=0.5, seed=1,
                                g_filters=16, d_filters=8)  # narrow: a quicker test
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (8, 32, 32, 1)).astype(np.float32)
    labels = np.concatenate([jamo_table("가나다라마바사아"),
                             rng.integers(0, 3, (8, 1)).astype(np.int32)], axis=1)
    styles_before = np.asarray(gan.style_table.embeddings).copy()
    ema_before = [w.copy() for w in gan.ema_generator.get_weights()]
    logs = gan.fit(images, labels, batch_size=4, epochs=1, verbose=0, shuffle=False)
    assert {"d_loss", "g_loss"} <= set(logs.history)
    assert all(np.isfinite(v[-1]) for v in logs.history.values())
    # The styles of the fonts in the batch were trained with the generator.
    assert not np.allclose(styles_before, np.asarray(gan.style_table.embeddings))
    # EMA weights moved towards the trained weights (decay 0.5, warmed up to 0.1 and 0.18).
    ema_after = gan.ema_generator.get_weights()
    current = gan.generator.get_weights()
    moved = [not np.allclose(a, b) for a, b in zip(ema_before, ema_after, strict=True)]
    assert any(moved)
    kernel = [i for i, w in enumerate(current) if w.ndim == 4][0]
    assert not np.allclose(ema_after[kernel], current[kernel])
    out = gan.generate(jamo_table("똠"), gan.random_styles(1, seed=0), seed=0)
    assert out.shape == (1, 32, 32, 1)
    np.testing.assert_array_equal(out, gan.generate(jamo_table("똠"),
                                                    gan.random_styles(1, seed=0), seed=0))


def test_the_generator_average_warms_up_then_decays_at_its_rate():
    from korean_gan.training.conditional import build_conditional_gan

    gan = build_conditional_gan("가나", ["a"], ema_decay=0.999, seed=1)
    gan.ema_generator.set_weights([np.zeros_like(w) for w in gan.ema_generator.get_weights()])
    gan.generator.set_weights([np.ones_like(w) for w in gan.generator.get_weights()])
    # Step 0: decay min(0.999, 1/10) = 0.1, so the average moves 90% of the way.
    gan.update_ema()
    for w in gan.ema_generator.get_weights():
        np.testing.assert_allclose(w, 0.9, rtol=1e-6)
    # Step 990: decay min(0.999, 991/1000) = 0.991.
    gan.step_counter.assign(990)
    gan.update_ema()
    for w in gan.ema_generator.get_weights():
        np.testing.assert_allclose(w, 0.991 * 0.9 + 0.009, rtol=1e-6)
    # Late in training the configured decay rules: 0.999.
    gan.step_counter.assign(10**6)
    gan.generator.set_weights([np.full_like(w, 2.0) for w in gan.generator.get_weights()])
    before = gan.ema_generator.get_weights()[0]
    gan.update_ema()
    np.testing.assert_allclose(gan.ema_generator.get_weights()[0],
                               0.999 * before + 0.001 * 2.0, rtol=1e-6)
    # Decay 0: the "average" is the generator itself.
    gan.ema_decay = 0.0
    gan.update_ema()
    for w in gan.ema_generator.get_weights():
        np.testing.assert_array_equal(w, 2.0)


@pytest.mark.slow
def test_the_trainer_runs_the_conditional_model_with_resume(two_fonts, tmp_path):
    import json

    from korean_gan.data.dataset import build_dataset
    from korean_gan.training.config import TrainConfig
    from korean_gan.training.trainer import train

    data = tmp_path / "seed16.npz"
    build_dataset(charset="seed16", fonts=tuple(map(str, two_fonts)), augment=("none",),
                  out=str(data), workers=1, progress=False, preview=False)
    config = TrainConfig.from_preset("hangul", data=str(data), run_dir=str(tmp_path / "run"),
                                     epochs=1, batch_size=16, eval_every=1, eval_samples=32,
                                     checkpoint_every=1, verbose=0, tensorboard=False,
                                     g_filters=16, d_filters=8)  # narrow: a quicker test
    train(config)
    config.epochs = 2
    history = train(config, resume=True)
    assert history.epoch == [1]
    run = tmp_path / "run"
    assert json.loads((run / "config.json").read_text())["model"] == "conditional"
    assert (run / "samples" / "epoch_0002.png").is_file()
    with np.load(run / "styles.npz", allow_pickle=False) as npz:
        assert npz["styles"].shape == (2, 16)
        assert list(npz["fonts"]) == [p.stem for p in two_fonts]
    import csv

    with open(run / "eval.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [row["epoch"] for row in rows] == ["1", "2"]
    accuracy = float(rows[-1]["content_accuracy"])  # labelled samples
    assert 0.0 <= accuracy <= 1.0
    # seed16 evaluator reads exactly the training syllables: nothing unseen to measure.
    assert rows[-1]["unseen_content_accuracy"] == ""


def test_cli_sets_the_conditional_model_widths(tiny_data, tmp_path, capsys, monkeypatch,
                                               cli_train_config):
    from korean_gan.cli import main

    args = ["train", "--preset", "hangul", "--data", str(tiny_data), "--run-dir",
            str(tmp_path / "r")]
    config = cli_train_config(*args, "--g-filters", "192", "--d-filters", "64")
    assert (config.g_filters, config.d_filters) == (192, 64)
    config = cli_train_config(*args)
    assert (config.g_filters, config.d_filters) == (256, 32)  # the preset's
    monkeypatch.undo()
    assert main([*args, "--g-filters", "4"]) == 2
    assert "g-filters must be at least 8 for the conditional model, got 4" in (
        capsys.readouterr().err)


def test_auxiliary_classifier_and_reconstruction_terms():
    from korean_gan.data.charsets import jamo_table
    from korean_gan.training.conditional import build_conditional_gan

    gan = build_conditional_gan("가나다라", ["a", "b"], aux_weight=1.0, recon_weight=20.0,
                                g_filters=16, d_filters=8, seed=2)
    out = gan.discriminator([np.zeros((3, 32, 32, 1), np.float32), np.zeros((3, 4), np.int32)])
    assert [tuple(o.shape) for o in out] == [(3, 1), (3, 19), (3, 21), (3, 28)]
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (8, 32, 32, 1)).astype(np.float32)
    labels = np.concatenate([jamo_table("가나다라가나다라"), np.repeat([[0], [1]], 4, axis=0)],
                            axis=1).astype(np.int32)
    logs = gan.fit(images, labels, batch_size=4, epochs=1, verbose=0, shuffle=False).history
    assert {"l1", "real_jamo_ce", "fake_jamo_ce"} <= set(logs)
    # Random images against a fresh generator: L1 is about the mean |u - g|, u ~ U(-1, 1).
    assert 0.3 < logs["l1"][-1] < 1.5
    # The jamo heads start near chance (log 19 + log 21 + log 28 = 9.3).
    assert 5.0 < logs["real_jamo_ce"][-1] < 15.0
    plain = build_conditional_gan("가나", ["a"], aux_weight=0.0, recon_weight=0.0,
                                  g_filters=16, d_filters=8)
    assert {m.name for m in plain.metrics} == {"d_loss", "g_loss"}
