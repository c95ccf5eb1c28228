"""The conditional model's content loss (a frozen jamo recogniser) and fine-tuning a trained
model (``init_from``), on tiny models."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from korean_gan.data.charsets import jamo_table

CHARS = "가나다라마바사아"


def _recognizer(chars: str, seed: int):
    """A jamo recogniser of the trainer's architecture with random (but fixed) weights, its
    heads scaled ×10 so that it reads confidently and its gradients matter."""
    import keras

    from korean_gan.evaluation.evaluator import RECOGNIZER_WIDTHS
    from korean_gan.models.networks import build_evaluator

    keras.utils.set_random_seed(seed)
    model = build_evaluator(len(chars), jamo_table=jamo_table(chars), widths=RECOGNIZER_WIDTHS)
    for part in ("initial", "vowel", "final"):
        kernel, bias = model.get_layer(part).get_weights()
        model.get_layer(part).set_weights([kernel * 10, bias])
    return model


def test_the_content_loss_teaches_the_generator_to_write_what_the_recogniser_reads():
    from korean_gan.training.conditional import build_conditional_gan

    gan = build_conditional_gan(CHARS, ["a", "b"], g_filters=16, d_filters=8,
                                recon_weight=0.0, content_weight=1.0, g_learning_rate=2e-3,
                                seed=4)
    recognizer = _recognizer(CHARS, seed=5)
    gan.set_recognizer(recognizer)
    frozen = [w.copy() for w in recognizer.get_weights()]
    assert {m.name for m in gan.metrics} == {"d_loss", "g_loss", "content_ce"}
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (16, 32, 32, 1)).astype(np.float32)
    labels = np.concatenate([jamo_table(CHARS * 2), np.repeat([[0], [1]], 8, axis=0)],
                            axis=1).astype(np.int32)
    ce = gan.fit(images, labels, batch_size=8, epochs=15, verbose=0,
                 shuffle=False).history["content_ce"]
    # The recogniser's jamo cross-entropy on the generated glyphs (about 10 nats at the
    # start) falls as the generator learns to write what it reads as the jamo asked for;
    # nothing else in this set-up (no L1 term, random "real" images) pulls it down.
    assert ce[0] > 8.0
    assert ce[-1] < ce[0] - 1.5
    assert np.mean(ce[-3:]) < np.mean(ce[:3]) - 1.0
    # The recogniser itself never trains.
    for before, after in zip(frozen, recognizer.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)


def test_the_content_loss_reads_through_random_affines_when_asked():
    """With ``content_affine`` the recogniser reads scaled and moved glyphs: the same step
    on the same batch gives another content loss, and the loss still teaches."""
    from korean_gan.training.conditional import build_conditional_gan

    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (16, 32, 32, 1)).astype(np.float32)
    labels = np.concatenate([jamo_table(CHARS * 2), np.repeat([[0], [1]], 8, axis=0)],
                            axis=1).astype(np.int32)
    first = {}
    for affine in (False, True):
        gan = build_conditional_gan(CHARS, ["a", "b"], g_filters=16, d_filters=8,
                                    recon_weight=0.0, content_weight=1.0,
                                    content_affine=affine, g_learning_rate=2e-3, seed=4)
        gan.set_recognizer(_recognizer(CHARS, seed=5))
        ce = gan.fit(images, labels, batch_size=8, epochs=15, verbose=0,
                     shuffle=False).history["content_ce"]
        first[affine] = ce[0]
        assert np.mean(ce[-3:]) < np.mean(ce[:3]) - 1.0
    # Same weights, noise and batch: only what the recogniser is shown differs.
    assert first[True] != pytest.approx(first[False], abs=1e-3)


def _exported(tmp_path, fonts, g_filters=16, seed=3):
    from korean_gan.training.conditional import build_conditional_gan

    gan = build_conditional_gan("가나다", fonts, g_filters=g_filters, d_filters=8, seed=seed)
    gan.export(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"model": "conditional", "noise_dim": 64,
                                                      "g_filters": g_filters}))
    return gan


def test_start_from_copies_the_generator_and_each_fonts_style_by_name(tmp_path):
    from korean_gan.training.conditional import build_conditional_gan

    source = _exported(tmp_path / "src", ["Alpha", "Beta", "Gamma"])
    # Other syllables, other fonts' order, another seed: only the shapes must agree.
    gan = build_conditional_gan("똠방", ["Gamma", "Alpha"], g_filters=16, d_filters=8, seed=9)
    critic_before = [w.copy() for w in gan.discriminator.get_weights()]
    gan.start_from(tmp_path / "src")
    np.testing.assert_array_equal(np.asarray(gan.style_table.embeddings),
                                  np.asarray(source.style_table.embeddings)[[2, 0]])
    for got, want in zip(gan.generator.get_weights(), source.sampling_generator.get_weights(),
                         strict=True):
        np.testing.assert_array_equal(got, want)
    for got, want in zip(gan.ema_generator.get_weights(), gan.generator.get_weights(),
                         strict=True):
        np.testing.assert_array_equal(got, want)
    # The critic keeps its own fresh weights.
    for got, want in zip(gan.discriminator.get_weights(), critic_before, strict=True):
        np.testing.assert_array_equal(got, want)

    stranger = build_conditional_gan("가", ["Alpha", "Delta"], g_filters=16, d_filters=8)
    with pytest.raises(ValueError, match=r"has no style for the training fonts \['Delta'\]"):
        stranger.start_from(tmp_path / "src")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="has no generator.weights.h5: not a finished"):
        stranger.start_from(tmp_path / "empty")
    wider = build_conditional_gan("가", ["Alpha"], g_filters=32, d_filters=8)
    with pytest.raises(ValueError, match="does not fit this generator"):
        wider.start_from(tmp_path / "src")


@pytest.mark.slow
def test_the_trainer_fine_tunes_with_a_content_loss_and_resumes(tiny_data, tmp_path, capsys):
    from korean_gan.data.dataset import load_dataset
    from korean_gan.training.config import TrainConfig, TrainError
    from korean_gan.training.trainer import train

    common = dict(data=str(tiny_data), batch_size=10, g_filters=16, d_filters=8, eval_every=0,
                  checkpoint_every=1, verbose=0, tensorboard=False)
    first = tmp_path / "first"
    train(TrainConfig.from_preset("hangul", run_dir=str(first), epochs=1, **common))
    run = tmp_path / "tuned"
    config = TrainConfig.from_preset("hangul", run_dir=str(run), epochs=1, content_weight=1.0,
                                     recognizer_epochs=1, init_from=str(first), **common)
    train(config)
    recognizer = run / "recognizer.weights.h5"
    assert recognizer.is_file()
    with open(run / "log.csv", newline="") as fh:
        row = list(csv.DictReader(fh))[-1]
    # Two syllables: a recogniser trained one epoch reads them somewhere between perfectly
    # and at chance over the 19 × 21 × 28 jamo.
    assert 0.0 < float(row["content_ce"]) < 10.0
    saved = json.loads((run / "config.json").read_text())
    assert (saved["content_weight"], saved["init_from"]) == (1.0, str(first))
    # A resume keeps the recogniser it trained with (not trained again) and goes on.
    stamp = recognizer.stat().st_mtime_ns, recognizer.read_bytes()
    config.epochs = 2
    capsys.readouterr()
    assert train(config, resume=True).epoch == [1]
    assert (recognizer.stat().st_mtime_ns, recognizer.read_bytes()) == stamp
    assert f"content loss: using the jamo recogniser in {recognizer}" in capsys.readouterr().out

    # --repeat-font: the run trains (and fits its recogniser) on the font's glyphs K times over.
    repeated = TrainConfig.from_preset("hangul", run_dir=str(tmp_path / "rep"), epochs=1,
                                       content_weight=1.0, recognizer_epochs=1,
                                       repeat_fonts={"CuteFont-Regular": 3}, **common)
    fonts = load_dataset(tiny_data).fonts
    capsys.readouterr()
    train(repeated)
    # tiny_data: 10 glyphs per font; CuteFont's 10 twice more.
    assert fonts == ["CuteFont-Regular", "DoHyeon-Regular"]
    assert "recogniser on the 40 training glyphs" in capsys.readouterr().out
    assert json.loads((tmp_path / "rep" / "config.json").read_text())["repeat_fonts"] == {
        "CuteFont-Regular": 3}

    with pytest.raises(TrainError, match="content-weight is for the conditional model"):
        train(TrainConfig.from_preset("reference", data=str(tiny_data), run_dir=str(tmp_path / "s"),
                                      content_weight=1.0))
    with pytest.raises(TrainError, match="content-weight must be 0 or positive"):
        train(TrainConfig.from_preset("hangul", run_dir=str(tmp_path / "n"),
                                      content_weight=-1.0, **common))
    bad = TrainConfig.from_preset("hangul", run_dir=str(tmp_path / "w"), epochs=1,
                                  init_from=str(first), **{**common, "g_filters": 32})
    with pytest.raises(TrainError, match="init-from: .* does not fit this generator"):
        train(bad)


def test_cli_maps_content_weight_and_init_from(tiny_data, tmp_path, cli_train_config):
    from korean_gan.training.config import ConditionalConfig, TrainConfig, TrainError

    args = ["train", "--preset", "hangul", "--data", tiny_data, "--run-dir", tmp_path / "r"]
    config = cli_train_config(*args, "--content-weight", "0.5", "--init-from", "default",
                              "--recognizer-epochs", "3", "--recognizer-warmup", "0.5")
    assert (config.content_weight, config.init_from, config.recognizer_epochs,
            config.recognizer_warmup_epochs) == (0.5, "default", 3, 0.5)
    config = cli_train_config(*args)
    assert (config.content_weight, config.init_from, config.recognizer_epochs,
            config.recognizer_warmup_epochs) == (0.0, "", ConditionalConfig.recognizer_epochs,
                                                 0.0)
    with pytest.raises(TrainError, match="recognizer-warmup must be a number from 0 to below "
                                         r"recognizer-epochs \(3\), got 3"):
        TrainConfig.from_preset("hangul", data=tiny_data, recognizer_epochs=3,
                                recognizer_warmup_epochs=3).validate()


def test_cli_maps_content_affine(tiny_data, tmp_path, cli_train_config):
    from korean_gan.training.config import TrainConfig, TrainError

    args = ["train", "--preset", "hangul", "--data", tiny_data, "--run-dir", tmp_path / "r"]
    config = cli_train_config(*args, "--content-weight", "1", "--content-affine")
    assert (config.content_weight, config.content_affine) == (1.0, True)
    assert cli_train_config(*args).content_affine is False
    with pytest.raises(TrainError, match="content-affine .* give --content-weight above 0"):
        TrainConfig.from_preset("hangul", data=tiny_data, content_affine=True).validate()


def test_cli_maps_repeat_font(tiny_data, tmp_path, cli_train_config):
    from korean_gan.training.config import TrainConfig, TrainError

    args = ["train", "--preset", "hangul", "--data", tiny_data, "--run-dir", tmp_path / "r"]
    config = cli_train_config(*args, "--repeat-font", "Gaegu-Regular=4",
                              "--repeat-font", "A=B=2")
    assert config.repeat_fonts == {"Gaegu-Regular": 4, "A=B": 2}
    assert cli_train_config(*args).repeat_fonts == {}
    with pytest.raises(TrainError, match=r"repeat-font: .* got \{'x': 0\}"):
        TrainConfig.from_preset("hangul", data=tiny_data, repeat_fonts={"x": 0}).validate()
