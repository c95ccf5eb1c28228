"""The evaluator network and the sample metrics built on it (the maths is in test_metrics)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from korean_gan.data.dataset import build_dataset, load_dataset  # noqa: E402
from korean_gan.evaluation import metrics  # noqa: E402
from korean_gan.evaluation.evaluator import (  # noqa: E402
    EVALUATOR_DIR,
    CASConfig,
    EvaluationError,
    Evaluator,
    classification_accuracy_score,
    evaluate_samples,
    find_evaluator,
    real_statistics,
)


@pytest.fixture(scope="module")
def evaluator() -> Evaluator:
    return Evaluator.load("seed16")


@pytest.fixture(scope="module")
def held_out_data(tmp_path_factory, font_dir, evaluator):
    """Originals of seed16 in the evaluator's held-out fonts plus two of its training fonts."""
    names = evaluator.info["held_out_fonts"] + ["CuteFont-Regular", "DoHyeon-Regular"]
    out = tmp_path_factory.mktemp("held") / "seed16.npz"
    build_dataset(charset="seed16", fonts=tuple(str(font_dir / f"{n}.ttf") for n in names),
                  augment=("none",), out=str(out), workers=1, progress=False, preview=False)
    return out


def test_committed_evaluator_reproduces_its_reported_held_out_accuracy(evaluator,
                                                                        held_out_data):
    info = evaluator.info
    assert set(info["held_out_fonts"]).isdisjoint(info["train_fonts"])
    assert len(info["train_fonts"]) + len(info["held_out_fonts"]) == 21
    data = load_dataset(held_out_data)
    held = np.isin(data.font_ids, [data.fonts.index(f) for f in info["held_out_fonts"]])
    _, probs = evaluator.predict(data.images[held])
    accuracy = metrics.content_accuracy(probs, data.labels[held])
    assert int(held.sum()) == info["held_out_images"]
    assert accuracy == pytest.approx(info["held_out_accuracy"], abs=1e-4)
    assert accuracy >= 0.97


#: The committed evaluators, found by their weight files (the test below runs once for each).
COMMITTED = sorted(p.name.split(".")[0] for p in EVALUATOR_DIR.glob("*.weights.h5"))


def test_the_committed_evaluators_are_found():
    # An empty list would leave the parametrized test below with nothing to check.
    assert {"seed16", "ks2350"} <= set(COMMITTED)


@pytest.mark.parametrize("name", COMMITTED)
def test_every_committed_evaluator_scores_its_held_out_fonts_as_reported(name, font_dir,
                                                                         tmp_path):
    committed = Evaluator.load(name)
    info = committed.info
    assert info["charset_name"] == name
    assert set(info["held_out_fonts"]).isdisjoint(info["train_fonts"])
    out = tmp_path / f"{name}.npz"
    build_dataset(charset=name, fonts=tuple(str(font_dir / f"{n}.ttf")
                                            for n in info["held_out_fonts"]),
                  augment=("none",), out=str(out), progress=False, preview=False)
    data = load_dataset(out)
    assert len(data) == info["held_out_images"]
    _, probs = committed.predict(data.images)
    assert metrics.content_accuracy(probs, data.labels) == pytest.approx(
        info["held_out_accuracy"], abs=1e-4)


def test_evaluator_weights_are_checked_against_their_sha256(tmp_path):
    for name in ("seed16.weights.h5", "seed16.json"):
        shutil.copy(EVALUATOR_DIR / name, tmp_path / name)
    weights = tmp_path / "seed16.weights.h5"
    assert Evaluator.load(weights).charset.name == "seed16"
    data = bytearray(weights.read_bytes())
    data[-100] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(EvaluationError, match="do not match the sha256"):
        Evaluator.load(weights)
    with pytest.raises(EvaluationError, match="no committed evaluator 'nope'"):
        Evaluator.load("nope")


def test_real_glyphs_score_far_better_than_noise(evaluator, held_out_data, tmp_path):
    data = load_dataset(held_out_data)
    real = real_statistics(held_out_data, evaluator)
    assert real.n == len(data)
    # Cached beside the dataset; the second call reads the cache and agrees.
    assert len(list(held_out_data.parent.glob(".seed16.evalstats-*.npz"))) == 1
    again = real_statistics(held_out_data, evaluator)
    np.testing.assert_allclose(again.mu, real.mu, rtol=1e-6)
    good = evaluate_samples(data.images, evaluator, real, labels=data.labels)
    noise = np.random.default_rng(0).integers(0, 256, data.images.shape, dtype=np.uint8)
    bad = evaluate_samples(noise, evaluator, real)
    assert good["content_accuracy"] >= 0.97
    assert good["legibility"] > 0.8 and good["classes_covered"] == 16
    assert good["precision"] > 0.8 and good["recall"] > 0.8
    assert bad["fcd"] > 5 * good["fcd"] and bad["kid"] > good["kid"]
    assert bad["precision"] < 0.2
    # Mode collapse shows in the coverage: one syllable repeated.
    one = np.repeat(data.images[:1], 40, axis=0)
    collapsed = evaluate_samples(one, evaluator)
    assert collapsed["classes_covered"] == 1 and collapsed["coverage_entropy"] == 0.0
    # Float images in [-1, 1] are the generator's convention and give the same result.
    as_float = data.images.astype(np.float32) / 127.5 - 1.0
    assert evaluate_samples(as_float, evaluator)["legibility"] == pytest.approx(
        evaluate_samples(data.images, evaluator)["legibility"])


def test_bad_samples_get_clear_errors(evaluator):
    with pytest.raises(EvaluationError, match=r"shape \(4, 28, 28\)"):
        evaluator.predict(np.zeros((4, 28, 28), np.uint8))
    with pytest.raises(EvaluationError, match=r"must be in \[-1, 1\]"):
        evaluator.predict(np.full((2, 32, 32), 3.0, np.float32))
    with pytest.raises(EvaluationError, match="NaN"):
        evaluator.predict(np.full((2, 32, 32), np.nan, np.float32))
    with pytest.raises(EvaluationError, match="labels out of range"):
        evaluate_samples(np.zeros((2, 32, 32), np.uint8), evaluator, labels=np.array([0, 16]))


def test_find_evaluator_matches_charsets(evaluator):
    from korean_gan.data.charsets import resolve_charset

    assert find_evaluator(resolve_charset("seed16")).info["sha256"] == evaluator.info["sha256"]
    # A sub-charset is read by the smallest committed evaluator that holds it.
    assert find_evaluator(resolve_charset("가나")).charset.name == "seed16"
    assert find_evaluator(resolve_charset("가각")).charset.name == "ks2350"
    with pytest.raises(EvaluationError, match="no committed evaluator reads the charset"):
        find_evaluator(resolve_charset("똠"))  # famously missing from KS X 1001


def test_classifier_schedule_warms_up_linearly_then_decays_to_zero():
    from korean_gan.evaluation.evaluator import _classifier_schedule

    # 1,280 glyphs in batches of 128: 10 steps an epoch, 100 steps in 10 epochs.
    plain = _classifier_schedule(1280, 128, 10, 2e-3)
    assert float(plain(0)) == pytest.approx(2e-3)
    assert float(plain(50)) == pytest.approx(1e-3)
    assert float(plain(100)) == pytest.approx(0.0, abs=1e-9)
    warm = _classifier_schedule(1280, 128, 10, 2e-3, warmup_epochs=2)
    assert float(warm(0)) == 0.0
    assert float(warm(5)) == pytest.approx(0.5e-3)  # a quarter of the way up at step 5 of 20
    assert float(warm(20)) == pytest.approx(2e-3)
    assert float(warm(60)) == pytest.approx(1e-3)  # halfway through the 80 decay steps
    assert float(warm(100)) == pytest.approx(0.0, abs=1e-9)


@pytest.mark.slow
def test_cas_of_real_training_glyphs_equals_the_real_baseline(evaluator, held_out_data):
    data = load_dataset(held_out_data)
    train = ~np.isin(data.font_ids,
                     [data.fonts.index(f) for f in evaluator.info["held_out_fonts"]])
    config = CASConfig(epochs=2, seeds=(0, 1), real_plus_generated=True)
    result = classification_accuracy_score(data.images[train], data.labels[train], evaluator,
                                           data, config=config)
    # "Generated" samples that are exactly the real training glyphs train the same classifiers
    # (augmented with the same transforms): the same accuracy, seed by seed.
    assert result["per_seed"]["cas"] == result["per_seed"]["real_baseline"]
    assert len(result["per_seed"]["cas"]) == 2
    losses = result["final_training_loss"]
    assert losses["cas"] == losses["real_baseline"] and len(losses["cas"]) == 2
    assert all(np.isfinite(v) and v > 0 for v in losses["cas"])
    assert result["cas"] == pytest.approx(np.mean(result["per_seed"]["cas"]))
    assert result["cas_ratio"] == pytest.approx(1.0)
    assert result["test_images"] == 48
    assert 0.0 <= result["real_plus_generated"] <= 1.0
    assert result["config"]["seeds"] == (0, 1) and result["config"]["augment"] is True
    # A baseline measured before is reused, not trained again: only the CAS arm is.
    again = classification_accuracy_score(
        data.images[train], data.labels[train], evaluator, data,
        config=CASConfig(epochs=2, seeds=(0, 1)),
        real_baseline=tuple(result["per_seed"]["real_baseline"]))
    assert again["per_seed"] == {k: result["per_seed"][k] for k in ("cas", "real_baseline")}
    assert again["cas_ratio"] == pytest.approx(1.0)
    with pytest.raises(EvaluationError, match="real_baseline has 1 accuracies for 2 classifier"):
        classification_accuracy_score(data.images[train], data.labels[train], evaluator, data,
                                      config=CASConfig(epochs=2, seeds=(0, 1)),
                                      real_baseline=(0.5,))


def test_cli_evaluate_samples_npz(evaluator, held_out_data, tmp_path):
    from korean_gan.cli import main

    data = load_dataset(held_out_data)
    samples = tmp_path / "s.npz"
    np.savez(samples, images=data.images[:40], labels=data.labels[:40])
    out = tmp_path / "r.json"
    assert main(["evaluate", "--samples", str(samples), "--data", str(held_out_data),
                 "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["n"] == 40 and result["content_accuracy"] >= 0.95
    assert {"fcd", "fcd_floor", "kid", "legibility", "precision", "recall"} <= set(result)
    np.savez(samples, pictures=data.images[:4])
    assert main(["evaluate", "--samples", str(samples), "--data", str(held_out_data)]) == 2


def test_cli_evaluate_cas_averages_over_the_seeds_given(evaluator, held_out_data, tmp_path,
                                                        monkeypatch):
    from dataclasses import dataclass

    import korean_gan.evaluation.evaluator as evaluator_module
    from korean_gan.cli import main

    @dataclass
    class TwoEpochCAS(CASConfig):
        """The CLI's CAS recipe with 2 epochs instead of 10 (the seeds are what is tested)."""

        epochs: int = 2

    monkeypatch.setattr(evaluator_module, "CASConfig", TwoEpochCAS)
    data = load_dataset(held_out_data)
    samples = tmp_path / "s.npz"
    np.savez(samples, images=data.images[:40], labels=data.labels[:40])
    out = tmp_path / "r.json"
    assert main(["evaluate", "--samples", str(samples), "--data", str(held_out_data), "--cas",
                 "--cas-seeds", "3", "4", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["config"]["seeds"] == [3, 4] and result["config"]["epochs"] == 2
    assert len(result["per_seed"]["cas"]) == len(result["per_seed"]["real_baseline"]) == 2
    assert result["cas"] == pytest.approx(np.mean(result["per_seed"]["cas"]))
    assert result["cas_ratio"] == pytest.approx(result["cas"] / result["real_baseline"])


def test_training_callback_logs_metrics_and_keeps_the_best(two_fonts, tmp_path):
    from korean_gan.training.config import TrainConfig
    from korean_gan.training.trainer import train

    data = tmp_path / "seed16.npz"
    build_dataset(charset="seed16", fonts=tuple(map(str, two_fonts)), augment=("none",),
                  out=str(data), workers=1, progress=False, preview=False)
    run = tmp_path / "run"
    train(TrainConfig.from_preset("reference", data=str(data), run_dir=str(run), epochs=2,
                                  batch_size=16, eval_every=1, eval_samples=64, verbose=0,
                                  tensorboard=False))
    with open(run / "eval.csv") as fh:
        rows = fh.read().splitlines()
    assert rows[0] == ("epoch,fcd,fcd_floor,kid,legibility,coverage_entropy,classes_covered,"
                       "content_accuracy,unseen_content_accuracy")
    assert [r.split(",")[0] for r in rows[1:]] == ["1", "2"]
    best = json.loads((run / "best.json").read_text())
    fcds = [float(r.split(",")[1]) for r in rows[1:]]
    assert best["fcd"] == pytest.approx(min(fcds), rel=1e-5)
    assert (run / "generator.best.weights.h5").is_file()


def test_train_evaluator_records_its_fonts_and_split(font_dir, tmp_path):
    from korean_gan.evaluation.evaluator import EvaluatorConfig, train_evaluator

    fonts = ["CuteFont-Regular", "DoHyeon-Regular", "Gaegu-Regular"]
    config = EvaluatorConfig(charset="가나다", fonts=tuple(str(font_dir / f"{f}.ttf")
                                                          for f in fonts),
                             held_out=("Gaegu-Regular",), augment=("reference",), epochs=1)
    out = tmp_path / "tiny.weights.h5"
    _, report = train_evaluator(config, out, verbose=0)
    info = json.loads((tmp_path / "tiny.json").read_text())
    assert info == json.loads(json.dumps(report))
    assert info["train_fonts"] == ["CuteFont-Regular", "DoHyeon-Regular"]
    assert info["held_out_fonts"] == ["Gaegu-Regular"]
    assert info["held_out_images"] == 3 and info["held_out_images_augmented"] == 15
    assert info["train_images"] == 2 * 3 * 5
    import hashlib

    assert info["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    loaded = Evaluator.load(out)
    assert loaded.charset.chars == ("가", "나", "다")
    features, probs = loaded.predict(np.full((2, 32, 32), 255, np.uint8))
    assert features.shape == (2, 256) and probs.shape == (2, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    with pytest.raises(EvaluationError, match="not among the dataset's fonts"):
        train_evaluator(EvaluatorConfig(charset="가나", fonts=config.fonts,
                                        held_out=("Nope",), epochs=1), tmp_path / "x.weights.h5",
                        verbose=0)


def test_jamo_heads_compose_syllable_probabilities_over_the_charset():
    from korean_gan.data.charsets import jamo_table
    from korean_gan.models.networks import build_evaluator

    chars = "가각나힣"
    model = build_evaluator(len(chars), jamo_table=jamo_table(chars))
    images = np.random.default_rng(0).integers(0, 256, (5, 32, 32, 1)).astype(np.float32)
    out = {k: np.asarray(v, np.float64) for k, v in model(images, training=False).items()}
    assert out["initial"].shape == (5, 19) and out["final"].shape == (5, 28)
    table = jamo_table(chars)
    product = (out["initial"][:, table[:, 0]] * out["vowel"][:, table[:, 1]]
               * out["final"][:, table[:, 2]])
    np.testing.assert_allclose(out["probs"], product / product.sum(axis=1, keepdims=True),
                               rtol=1e-4)
    with pytest.raises(ValueError, match=r"jamo_table must have shape \(3, 3\)"):
        build_evaluator(3, jamo_table=table)


def test_find_evaluator_takes_a_superset_and_maps_labels(tmp_path, monkeypatch):
    import korean_gan.evaluation.evaluator as evaluate
    from korean_gan._io import sha256_file
    from korean_gan.data.charsets import Charset, jamo_table
    from korean_gan.models.networks import build_evaluator

    chars = list("가나다라마")
    weights = tmp_path / "five.weights.h5"
    build_evaluator(5, jamo_table=jamo_table(chars), widths=(8, 8, 8)).save_weights(weights)
    (tmp_path / "five.json").write_text(json.dumps({
        "charset_name": "five", "charset": chars, "jamo_heads": True, "widths": [8, 8, 8],
        "sha256": sha256_file(weights)}))
    monkeypatch.setattr(evaluate, "EVALUATOR_DIR", tmp_path)
    found = find_evaluator(Charset("sub", ("라", "가")))
    assert found.charset.name == "five"
    np.testing.assert_array_equal(found.label_map(Charset("sub", ("라", "가"))), [3, 0])
    with pytest.raises(EvaluationError, match="does not read 1 syllables of 'other'"):
        found.label_map(Charset("other", ("가", "힣")))
    with pytest.raises(EvaluationError, match="no committed evaluator reads the charset"):
        find_evaluator(Charset("other", ("가", "힣")))


def test_classifier_batches_reshuffle_every_epoch_as_fresh_iterators_would():
    import tensorflow as tf

    from korean_gan.data.augment import random_affine_batch
    from korean_gan.evaluation.evaluator import _classifier_batches

    # Glyph i is filled with grey level 10·i, so images and labels can be checked as pairs.
    images = np.repeat(np.arange(10, dtype=np.uint8)[:, None, None] * 10, 8, axis=1)
    images = np.repeat(images, 8, axis=2)
    labels = np.arange(10)
    batches = [(x.numpy(), y.numpy()) for x, y in
               _classifier_batches(images, labels, batch_size=4, seed=3, epochs=3)]
    assert [len(y) for _, y in batches] == [4, 4, 2] * 3
    orders = [np.concatenate([y for _, y in batches[k:k + 3]]) for k in (0, 3, 6)]
    for order in orders:
        assert sorted(order) == list(range(10))  # every glyph once per epoch
    assert len({tuple(o) for o in orders}) == 3  # a new order every epoch
    for x, y in batches:
        assert x.dtype == np.float32 and x.shape[1:] == (8, 8, 1)
        np.testing.assert_array_equal(x[:, 0, 0, 0], 10.0 * y)

    # Augmented: epoch k gets exactly the batches of the (2k - 1)-th iterator of a one-epoch
    # pipeline, what Keras's fit trained on when it was given a new iterator per epoch (it
    # made two per epoch), and the same seed gives the same bytes.
    glyphs = np.full((10, 16, 16), 255, np.uint8)
    glyphs[:, 4:12, 6:10] = 0
    form_before = (tf.data.Dataset.from_tensor_slices((glyphs[..., None], labels))
                   .shuffle(10, seed=5).batch(4).enumerate()
                   .map(lambda i, xy: (random_affine_batch(tf.cast(xy[0], tf.float32),
                                                           tf.stack([tf.constant(5, tf.int64),
                                                                     i])), xy[1])))
    iterations = [list(form_before) for _ in range(3)]
    per_epoch = iterations[0] + iterations[2]
    assert not np.array_equal(iterations[0][0][1].numpy(), iterations[1][0][1].numpy())
    repeated = list(_classifier_batches(glyphs, labels, 4, seed=5, epochs=2, augment=True))
    again = list(_classifier_batches(glyphs, labels, 4, seed=5, epochs=2, augment=True))
    assert len(per_epoch) == len(repeated) == 6
    for (x0, y0), (x1, y1), (x2, _) in zip(per_epoch, repeated, again, strict=True):
        np.testing.assert_array_equal(y0.numpy(), y1.numpy())
        np.testing.assert_array_equal(x0.numpy(), x1.numpy())
        np.testing.assert_array_equal(x1.numpy(), x2.numpy())
    assert not np.array_equal(repeated[0][0].numpy(), glyphs[repeated[0][1].numpy(), ..., None])
