"""The trainer: run folder contents, exact resume, interruption by signals, CLI train/sample/gif."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
import keras  # noqa: E402

from korean_gan.artifacts import load_generator  # noqa: E402
from korean_gan.generate import sample_images  # noqa: E402
from korean_gan.training.config import TrainConfig, TrainError  # noqa: E402
from korean_gan.training.reference import GAN  # noqa: E402
from korean_gan.training.trainer import build_gan, train  # noqa: E402
from train_processes import cli, env, train_args, wait_for  # noqa: E402

TINY = dict(epochs=2, batch_size=8, checkpoint_every=1, verbose=0, tensorboard=False)


def _log_rows(run_dir: Path) -> list[dict]:
    with open(run_dir / "log.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def _weights(run_dir: Path) -> list[np.ndarray]:
    weights = load_generator(run_dir).get_weights()
    assert len(weights) > 5  # the comparisons below zip over these
    return weights


@dataclass(frozen=True)
class TinyRun:
    """A finished run of the reference preset with the ``TINY`` settings on ``tiny_data``.

    Attributes:
        path: The run folder, alone in a folder of its own. Tests only read it; a test that
            changes a run works on a copy (:func:`_copy_run`).
        epochs: ``train``'s ``history.epoch``.
        interrupted: ``train``'s ``history.interrupted``.
    """

    path: Path
    epochs: list[int]
    interrupted: bool


@contextmanager
def _locked(path: Path):
    """Holds an exclusive lock on ``path`` (created if missing) while the block runs."""
    import fcntl

    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@pytest.fixture(scope="module")
def tiny_run(tiny_data, tmp_path_factory) -> TinyRun:
    """The TINY run, trained once per test session and shared by the tests that only read it
    or copy it (each test used to train its own).

    Under pytest-xdist the first worker to need it trains it into the folder that all workers
    of the session share; the others wait for it and use it.
    """
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # this session's folder, above each worker's own
    run, record = shared / "tiny-run" / "run", shared / "tiny-run.json"
    with _locked(shared / "tiny-run.lock"):
        if not record.is_file():
            history = train(TrainConfig.from_preset("reference", data=str(tiny_data),
                                                    run_dir=str(run), **TINY))
            record.write_text(json.dumps({"epochs": history.epoch,
                                          "interrupted": history.interrupted}))
    done = json.loads(record.read_text())
    return TinyRun(run, done["epochs"], done["interrupted"])


def _copy_run(tiny_run: TinyRun, to: Path) -> Path:
    """A copy of the TINY run at ``to``, for a test that changes it."""
    shutil.copytree(tiny_run.path, to)
    return to


def test_train_writes_everything_into_the_run_folder(tiny_run):
    run = tiny_run.path
    assert tiny_run.epochs == [0, 1]
    assert not tiny_run.interrupted
    saved = json.loads((run / "config.json").read_text())
    assert saved["epochs"] == 2 and saved["batch_size"] == 8 and saved["preset"] == "reference"
    noise = np.load(run / "fixed_noise.npy")
    assert noise.shape == (16, 100) and noise.dtype == np.float32
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["epoch_0001.png",
                                                                  "epoch_0002.png"]
    import imageio.v3 as iio

    gif = iio.imread(run / "samples.gif", index=None)
    assert gif.shape[0] == 2  # one frame per epoch
    rows = _log_rows(run)
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    assert all(np.isfinite(float(r["d_loss"])) and np.isfinite(float(r["g_loss"])) for r in rows)
    assert tf.train.latest_checkpoint(str(run / "checkpoints")).endswith("ckpt-2")
    # The sample metrics (measured every 10 epochs and after the last), and the best generator.
    with open(run / "eval.csv", newline="") as fh:
        assert [int(r["epoch"]) for r in csv.DictReader(fh)] == [2]
    assert (run / "best.json").is_file() and (run / "generator.best.weights.h5").is_file()
    images = sample_images(load_generator(run), 5, seed=3)
    assert images.shape == (5, 32, 32) and images.dtype == np.uint8
    # Same seed, same samples.
    np.testing.assert_array_equal(images, sample_images(load_generator(run), 5, seed=3))
    # Nothing written outside the run folder.
    assert sorted(p.name for p in run.parent.iterdir()) == ["run"]


def test_train_step_updates_both_networks(tiny_data):
    gan = build_gan(TrainConfig(batch_size=8), image_size=32)
    real = tf.random.uniform((8, 32, 32, 1), -1, 1, seed=1)
    g_before = [w.copy() for w in gan.generator.get_weights()]
    d_before = [w.copy() for w in gan.discriminator.get_weights()]
    logs = gan.train_step(real)
    assert np.isfinite(float(logs["d_loss"])) and np.isfinite(float(logs["g_loss"]))
    g_after, d_after = gan.generator.get_weights(), gan.discriminator.get_weights()
    assert any(not np.array_equal(a, b) for a, b in zip(g_before, g_after, strict=True))
    assert any(not np.array_equal(a, b) for a, b in zip(d_before, d_after, strict=True))
    assert isinstance(gan, GAN)


@pytest.mark.slow
def test_resume_continues_exactly_like_an_uninterrupted_run(tiny_data, tmp_path):
    tf.config.experimental.enable_op_determinism()
    whole, split = tmp_path / "whole", tmp_path / "split"
    train(TrainConfig.from_preset("reference", data=str(tiny_data), run_dir=str(whole),
                                  **{**TINY, "epochs": 4}))
    config = TrainConfig.from_preset("reference", data=str(tiny_data), run_dir=str(split), **TINY)
    train(config)
    config.epochs = 4
    history = train(config, resume=True)
    assert history.epoch == [2, 3]
    # In a fresh process the two are bit-identical (see the SIGKILL test below); inside this
    # long-lived test process, oneDNN may pick kernels that round differently once other
    # models ran, so allow float32 rounding noise. A resume bug (other noise, data order or
    # optimizer state) moves weights by orders of magnitude more.
    for a, b in zip(_weights(whole), _weights(split), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    losses = [[float(r["d_loss"]), float(r["g_loss"])] for r in _log_rows(whole)]
    np.testing.assert_allclose(losses, [[float(r["d_loss"]), float(r["g_loss"])]
                                        for r in _log_rows(split)], rtol=1e-4)
    np.testing.assert_array_equal(np.load(whole / "fixed_noise.npy"),
                                  np.load(split / "fixed_noise.npy"))


class _RecordRates(keras.callbacks.Callback):
    """The learning rates each epoch trains with (read after the trainer's own callbacks)."""

    def __init__(self):
        super().__init__()
        self.rates = []

    def on_epoch_begin(self, epoch, logs=None):
        self.rates.append((float(self.model.g_optimizer.learning_rate),
                           float(self.model.d_optimizer.learning_rate)))


def test_learning_rates_decay_linearly_over_the_last_epochs_also_after_a_resume(tiny_data,
                                                                               tiny_run,
                                                                               tmp_path):
    run = tmp_path / "run"
    config = TrainConfig.from_preset("reference", data=str(tiny_data), run_dir=str(run),
                                     **{**TINY, "epochs": 3}, lr_decay_epochs=2,
                                     g_learning_rate=3e-4, d_learning_rate=6e-4)
    record = _RecordRates()
    train(config, callbacks=[record])
    # pix2pix's rule: base × min(1, (epochs − e) / (decay + 1)) for epoch e = 0, 1, 2.
    np.testing.assert_allclose(record.rates, [(3e-4, 6e-4), (2e-4, 4e-4), (1e-4, 2e-4)],
                               rtol=1e-6)
    # A resume may add a decay to a run trained at constant rates: the checkpoint restores
    # the optimizer's last rate, and the schedule overrides it from the first resumed epoch.
    constant = _copy_run(tiny_run, tmp_path / "constant")  # 2 epochs at constant rates
    record = _RecordRates()
    train(TrainConfig(run_dir=str(constant), epochs=5, lr_decay_epochs=3, verbose=0),
          resume=True, callbacks=[record])
    # epochs 2, 3, 4 of 5 with 3 decay epochs: 3/4, 2/4, 1/4 of the seed preset's 1e-4.
    np.testing.assert_allclose([g for g, _ in record.rates], [7.5e-5, 5e-5, 2.5e-5], rtol=1e-6)
    assert json.loads((constant / "config.json").read_text())["lr_decay_epochs"] == 3


@pytest.mark.slow
def test_a_signal_mid_epoch_checkpoints_that_step_and_resume_goes_on_exactly(tiny_data,
                                                                            tmp_path):
    import keras

    tf.config.experimental.enable_op_determinism()
    settings = {**TINY, "epochs": 3, "batch_size": 4}  # 5 steps per epoch
    whole, split = tmp_path / "whole", tmp_path / "split"
    train(TrainConfig.from_preset("reference", data=str(tiny_data), run_dir=str(whole), **settings))

    class CtrlC(keras.callbacks.Callback):
        """Presses Ctrl-C during step 2 of epoch 2 (the trainer then finishes step 3)."""

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if self.epoch == 1 and batch == 1:
                os.kill(os.getpid(), signal.SIGINT)

    config = TrainConfig.from_preset("reference", data=str(tiny_data), run_dir=str(split),
                                     **settings)
    history = train(config, callbacks=[CtrlC()])
    assert history.interrupted
    latest = tf.train.latest_checkpoint(str(split / "checkpoints"))
    assert latest.endswith("ckpt-2")  # numbered by the epoch in progress
    reader = tf.train.load_checkpoint(latest)
    assert reader.get_tensor("epoch/.ATTRIBUTES/VARIABLE_VALUE") == 1
    assert reader.get_tensor("epoch_step/.ATTRIBUTES/VARIABLE_VALUE") == 3
    # The cut-short epoch has no log row and no sample frame yet.
    assert [int(r["epoch"]) for r in _log_rows(split)] == [1]
    assert sorted(p.name for p in (split / "samples").iterdir()) == ["epoch_0001.png"]

    history = train(config, resume=True)
    assert history.epoch == [1, 2] and not history.interrupted
    assert [int(r["epoch"]) for r in _log_rows(split)] == [1, 2, 3]
    assert sorted(p.name for p in (split / "samples").iterdir()) == [
        "epoch_0001.png", "epoch_0002.png", "epoch_0003.png"]
    # Steps 4 and 5 of epoch 2 saw the batches and noise an uninterrupted run sees: the same
    # weights (up to the float32 noise explained in the resume test above).
    for a, b in zip(_weights(whole), _weights(split), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    rows = [_log_rows(run) for run in (whole, split)]
    np.testing.assert_allclose(float(rows[0][2]["g_loss"]), float(rows[1][2]["g_loss"]),
                               rtol=1e-4)


def test_a_run_checkpointed_without_a_step_count_still_resumes(tiny_data, tiny_run, tmp_path):
    """Checkpoints written before runs could stop mid-epoch hold no step variable."""
    from korean_gan.training.trainer import _checkpoint

    run = _copy_run(tiny_run, tmp_path / "run")
    config = TrainConfig.from_preset("reference", data=str(tiny_data), run_dir=str(run), **TINY)
    gan = build_gan(config, 32)
    epoch = tf.Variable(2, dtype=tf.int64)
    old = _checkpoint(gan, epoch, None)
    old.restore(tf.train.latest_checkpoint(str(run / "checkpoints")))
    old.write(str(run / "checkpoints" / "ckpt-2"))  # the same state, without "epoch_step"
    assert "epoch_step/.ATTRIBUTES/VARIABLE_VALUE" not in dict(
        tf.train.list_variables(str(run / "checkpoints" / "ckpt-2")))
    config.epochs = 3
    assert train(config, resume=True).epoch == [2]


def test_cli_resume_of_a_copied_run_continues_the_copy(tiny_run, tmp_path):
    from korean_gan.cli import main

    original = tiny_run.path
    copy = _copy_run(tiny_run, tmp_path / "copy")
    assert main(["train", "--resume", "--run-dir", str(copy), "--epochs", "3", "--quiet",
                 "--no-tensorboard"]) == 0
    assert [int(r["epoch"]) for r in _log_rows(copy)] == [1, 2, 3]
    assert [int(r["epoch"]) for r in _log_rows(original)] == [1, 2]  # untouched
    assert json.loads((original / "config.json").read_text())["run_dir"] == str(original)
    assert json.loads((copy / "config.json").read_text())["run_dir"] == str(copy)


def test_training_refuses_bad_requests(tiny_data, tiny_run, tmp_path):
    base = dict(data=str(tiny_data), verbose=0, tensorboard=False)
    with pytest.raises(TrainError, match="epochs must be a positive integer, got 0"):
        train(TrainConfig.from_preset("reference", run_dir=str(tmp_path / "a"), epochs=0, **base))
    with pytest.raises(TrainError, match="batch size 256 is larger than the dataset"):
        train(TrainConfig.from_preset("reference", run_dir=str(tmp_path / "b"), epochs=1, **base))
    with pytest.raises(TrainError, match="unknown preset 'nope'"):
        TrainConfig.from_preset("nope")
    with pytest.raises(TrainError, match="not a run folder to resume"):
        train(TrainConfig.from_preset("reference", run_dir=str(tmp_path / "c"), epochs=1, **base),
              resume=True)
    (tmp_path / "file").write_text("x")
    with pytest.raises(TrainError, match="is a file"):
        train(TrainConfig.from_preset("reference", run_dir=str(tmp_path / "file"), epochs=1,
                                      batch_size=8, **base))
    run = _copy_run(tiny_run, tmp_path / "d")  # a finished run of 2 epochs
    with pytest.raises(TrainError, match="already holds a run; pass --resume"):
        train(TrainConfig.from_preset("reference", run_dir=str(run), epochs=2, batch_size=8,
                                      **base))
    with pytest.raises(TrainError, match="already finished 2 epochs"):
        train(TrainConfig.from_preset("reference", run_dir=str(run), epochs=2, batch_size=8,
                                      **base), resume=True)


# --- real processes ---------------------------------------------------------------------------

@pytest.mark.slow
def test_a_killed_training_process_resumes_to_the_same_weights(tiny_data, tmp_path):
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    subprocess.run(cli(*train_args(tiny_data, whole, 5)), env=env(), check=True,
                   capture_output=True)
    proc = subprocess.Popen(cli(*train_args(tiny_data, killed, 5)), env=env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    wait_for(killed / "checkpoints" / "ckpt-2.index", proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = subprocess.run(cli("train", "--resume", "--run-dir", str(killed), "--quiet"),
                          env=env(), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    for a, b in zip(_weights(whole), _weights(killed), strict=True):
        np.testing.assert_array_equal(a, b)
    assert [int(r["epoch"]) for r in _log_rows(killed)] == [1, 2, 3, 4, 5]


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_finishes_the_step_checkpoints_and_exits(signum, tiny_data, tmp_path):
    run = tmp_path / "run"
    # Batch 4: 5 steps per epoch, so the signal mostly lands inside an epoch.
    proc = subprocess.Popen(cli(*train_args(tiny_data, run, 500), "--batch-size", "4"),
                            env=env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    wait_for(run / "samples" / "epoch_0001.png", proc)
    proc.send_signal(signum)
    out, _ = proc.communicate(timeout=180)
    text = out.decode(errors="replace")
    assert proc.returncode == 130, text[-2000:]
    assert f"{signal.Signals(signum).name}: finishing this step" in text
    assert "korean-gan train --resume" in text and "Traceback" not in text
    epochs_logged = len(_log_rows(run))
    latest = tf.train.latest_checkpoint(str(run / "checkpoints"))
    reader = tf.train.load_checkpoint(latest)
    step = int(reader.get_tensor("epoch_step/.ATTRIBUTES/VARIABLE_VALUE"))
    # Either inside epoch N + 1 (steps 1-4 done) or, if it landed on an epoch's last step,
    # right after epoch N; the checkpoint holds every epoch logged.
    assert int(reader.get_tensor("epoch/.ATTRIBUTES/VARIABLE_VALUE")) == epochs_logged
    assert 0 <= step < 5
    assert latest.endswith(f"ckpt-{epochs_logged + (step > 0)}")
    assert (run / "generator.weights.h5").is_file() and (run / "samples.gif").is_file()


def test_cli_sample_and_gif(tiny_run, tmp_path):
    from korean_gan.cli import main

    run = tiny_run.path
    assert main(["sample", "--run-dir", str(run), "--n", "6", "--out",
                 str(tmp_path / "s.npz")]) == 0
    with np.load(tmp_path / "s.npz", allow_pickle=False) as npz:
        assert npz["images"].shape == (6, 32, 32) and npz["images"].dtype == np.uint8
    assert main(["sample", "--weights", str(run / "generator.weights.h5"), "--n", "4",
                 "--out", str(tmp_path / "g.png")]) == 0
    from PIL import Image

    assert Image.open(tmp_path / "g.png").size == (2 * 34 + 2, 2 * 34 + 2)  # 2×2 grid, 2 px gaps
    assert main(["gif", "--run-dir", str(run), "--out", str(tmp_path / "a.gif")]) == 0
    assert (tmp_path / "a.gif").stat().st_size > 0
    assert main(["sample", "--run-dir", str(run), "--out", str(tmp_path / "x.txt")]) == 2


@pytest.mark.slow
def test_cli_demo_writes_the_gif_and_final_grid(two_fonts, tmp_path):
    from korean_gan.cli import main

    code = main(["demo", "--epochs", "1", "--fonts", *map(str, two_fonts),
                 "--data", str(tmp_path / "d.npz"), "--run-dir", str(tmp_path / "run"),
                 "--media", str(tmp_path / "media")])
    assert code == 0
    assert (tmp_path / "media" / "ganadalama.gif").is_file()
    assert (tmp_path / "media" / "ganadalama-final.png").is_file()
    # Step 4: a sentence in three generated handwriting styles, one line each.
    from PIL import Image

    from korean_gan.cli.demo import DEMO_TEXT
    from korean_gan.generate import Handwriting

    sentence = Image.open(tmp_path / "media" / "handwriting.png")
    writer = Handwriting.load("default")
    lines = [writer.write(DEMO_TEXT, style=style, seed=seed)
             for style, seed in ((0, 0), (len(writer.fonts) // 2, 0), ("random-one", 3))]
    assert sentence.height == sum(line.shape[0] for line in lines)  # at 128 px per em
    assert sentence.width == max(line.shape[1] for line in lines)
    rows = _log_rows(tmp_path / "run")
    assert len(rows) == 1


def test_each_model_has_its_own_config_and_the_old_preset_name_still_works():
    from korean_gan.training.config import ConditionalConfig, ReferenceConfig

    reference = TrainConfig.from_preset("reference")
    assert type(reference) is ReferenceConfig and reference.model == "dcgan"
    assert not hasattr(reference, "g_filters")
    hangul = TrainConfig.from_preset("hangul", g_filters=64)
    assert type(hangul) is ConditionalConfig and hangul.g_filters == 64
    with pytest.warns(FutureWarning, match="'seed' is now called 'reference'"):
        old = TrainConfig.from_preset("seed", epochs=3)
    assert old == TrainConfig.from_preset("reference", epochs=3)
    with pytest.raises(TrainError, match="g-filters is for the conditional model"):
        TrainConfig.from_preset("reference", g_filters=64)


def test_a_run_folder_of_the_previous_format_still_resumes_with_its_config(tmp_path):
    from korean_gan.training.config import ReferenceConfig
    from korean_gan.training.trainer import read_run_config

    # Before each model had its own config, a reference run saved every field of both models
    # and called its preset "seed".
    old = {"preset": "seed", "data": "data/seed16.npz", "run_dir": "runs/seed", "epochs": 50,
           "model": "dcgan", "noise_dim": 100, "batch_size": 256, "g_filters": 256,
           "content_weight": 0.0, "init_from": "", "seed": 3}
    (tmp_path / "config.json").write_text(json.dumps(old), encoding="utf-8")
    config = read_run_config(tmp_path)
    assert type(config) is ReferenceConfig
    assert (config.preset, config.seed, config.noise_dim) == ("reference", 3, 100)
