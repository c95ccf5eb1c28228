"""Distributed training on one CPU split into two logical devices (MirroredStrategy), and the
precision and strategy helpers."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from korean_gan.training.distribute import cpu_supports_bf16, is_chief, scaled_loss

# Runs in a fresh interpreter: logical devices must be configured before TensorFlow starts.
MIRRORED_RUN = textwrap.dedent("""
    import json, sys
    import numpy as np
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from korean_gan.training.config import TrainConfig
    from korean_gan.training.trainer import train
    preset, data, run = sys.argv[1:4]
    # The conditional model narrowed (the strategy, not the width, is under test).
    widths = {"g_filters": 32, "d_filters": 8} if preset == "hangul" else {}
    config = TrainConfig.from_preset(preset, data=data, run_dir=run, epochs=1, batch_size=16,
                                     strategy="mirrored", eval_every=0, verbose=0,
                                     tensorboard=False, checkpoint_every=1, **widths)
    history = train(config)
    print(json.dumps({"replicas": len(tf.config.list_logical_devices("CPU")),
                      "losses": {k: float(v[-1]) for k, v in history.history.items()}}))
""")


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory, two_fonts):
    from korean_gan.data.dataset import build_dataset

    out = tmp_path_factory.mktemp("dist") / "seed16.npz"
    build_dataset(charset="seed16", fonts=tuple(map(str, two_fonts)), augment=("none",),
                  out=str(out), workers=1, progress=False, preview=False)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("preset", ["reference", "hangul"])
def test_mirrored_run_on_two_logical_cpus_trains_and_its_checkpoint_loads_on_one(
        preset, tiny_data, tmp_path):
    run = tmp_path / "run"
    done = subprocess.run([sys.executable, "-c", MIRRORED_RUN, preset, str(tiny_data), str(run)],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["replicas"] == 2
    assert set(result["losses"]) >= {"d_loss", "g_loss"}
    assert all(np.isfinite(v) for v in result["losses"].values())
    # A single-device run continues the mirrored run's checkpoint.
    from korean_gan.training.trainer import read_run_config, train

    config = read_run_config(run)
    assert config.strategy == "mirrored"
    config.strategy, config.epochs, config.verbose = "default", 2, 0
    history = train(config, resume=True)
    assert history.epoch == [1]
    assert (run / "samples" / "epoch_0002.png").is_file()


def test_shards_of_a_global_batch_are_its_replica_slices():
    from korean_gan.training.pipeline import training_dataset

    images = np.arange(12, dtype=np.uint8).reshape(12, 1, 1).repeat(2, 1).repeat(2, 2)
    whole = [b.numpy()[:, 0, 0, 0] for b in training_dataset(images, 4, 0, 0, 1)]
    parts = [[b.numpy()[:, 0, 0, 0] for b in training_dataset(images, 4, 0, 0, 1,
                                                                shard=(i, 4, 2))]
             for i in range(2)]
    # 12 images in global batches of 4: 3 steps; each pipeline yields 2 slices (of 1) a step.
    assert [len(b) for b in whole] == [4, 4, 4]
    assert [len(p) for p in parts] == [6, 6] and all(len(s) == 1 for p in parts for s in p)
    # Pipeline 0 yields replicas 0 and 1's slices of each global batch, pipeline 1 the rest.
    for step, batch in enumerate(whole):
        np.testing.assert_array_equal(np.concatenate(parts[0][2 * step:2 * step + 2]
                                                     + parts[1][2 * step:2 * step + 2]), batch)


def test_a_dataset_resumed_mid_epoch_goes_on_with_the_next_batch():
    from korean_gan.training.pipeline import training_dataset

    images = np.arange(20, dtype=np.uint8).reshape(20, 1, 1).repeat(2, 1).repeat(2, 2)
    whole = [b.numpy()[:, 0, 0, 0] for b in training_dataset(images, 4, 0, 1, 3)]
    resumed = [b.numpy()[:, 0, 0, 0] for b in training_dataset(images, 4, 0, 1, 3,
                                                                 first_step=2)]
    assert len(whole) == 10 and len(resumed) == 8  # 5 steps per epoch, 2 of epoch 2 done
    np.testing.assert_array_equal(np.stack(resumed), np.stack(whole[2:]))
    # Each pipeline of a sharded run skips its own slices of the steps already done.
    parts = [[b.numpy()[:, 0, 0, 0] for b in training_dataset(images, 4, 0, 1, 3,
                                                                shard=(i, 4, 2), first_step=2)]
             for i in range(2)]
    assert [len(p) for p in parts] == [16, 16]  # 8 steps left, 2 slices each
    for step, batch in enumerate(whole[2:]):
        np.testing.assert_array_equal(np.concatenate(parts[0][2 * step:2 * step + 2]
                                                     + parts[1][2 * step:2 * step + 2]), batch)


def test_scaled_loss_divides_by_replicas_and_applies_the_loss_scale():
    import keras
    import tensorflow as tf

    loss = tf.constant(6.0)
    assert float(scaled_loss(loss, keras.optimizers.Adam())) == 6.0
    scaler = keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam(),
                                                 initial_scale=1024.0)
    assert float(scaled_loss(loss, scaler)) == 6.0 * 1024
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    assert float(strategy.run(lambda: scaled_loss(loss, keras.optimizers.Adam()))) == 6.0
    assert is_chief(tf.distribute.get_strategy())


def test_cpu_bf16_detection_reads_the_flags(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor : 0\nflags : fpu avx2 avx512f avx512_bf16\n")
    assert cpu_supports_bf16(info)
    info.write_text("processor : 0\nflags : fpu avx2 avx512f\n")
    assert not cpu_supports_bf16(info)
    assert not cpu_supports_bf16(tmp_path / "missing")


def test_unknown_strategy_and_precision_are_refused(tiny_data, tmp_path):
    from korean_gan.training.config import TrainConfig, TrainError
    from korean_gan.training.trainer import train

    for field, value in (("strategy", "ring"), ("precision", "fp8")):
        config = TrainConfig.from_preset("reference", data=str(tiny_data),
                                         run_dir=str(tmp_path / "r"), **{field: value})
        with pytest.raises(TrainError, match=f"unknown {field} '{value}'; choose from"):
            train(config)
    config = TrainConfig.from_preset("reference", data=str(tiny_data), run_dir=str(tmp_path / "m"),
                                     strategy="multiworker", batch_size=16)
    with pytest.raises(ValueError, match="multiworker needs TF_CONFIG"):
        train(config)


def test_mixed_bfloat16_trains_in_bfloat16_and_exports_float32_weights(tiny_data, tmp_path):
    import keras

    from korean_gan.artifacts import load_generator
    from korean_gan.generate import sample_images
    from korean_gan.training.config import TrainConfig
    from korean_gan.training.trainer import build_gan, train

    config = TrainConfig.from_preset("reference", data=str(tiny_data), run_dir=str(tmp_path / "bf"),
                                     epochs=1, batch_size=16, precision="mixed_bfloat16",
                                     eval_every=0, verbose=0, tensorboard=False)
    gan = build_gan(config, 32)
    dense = gan.generator.get_layer("dense_1")
    assert dense.compute_dtype == "bfloat16" and dense.variable_dtype == "float32"
    assert gan.generator.output.dtype == "float32"
    assert keras.config.dtype_policy().name == "float32"  # restored after building
    history = train(config)
    assert np.isfinite(history.history["d_loss"][-1])
    images = sample_images(load_generator(tmp_path / "bf"), 4)  # a float32 generator loads it
    assert images.shape == (4, 32, 32) and images.dtype == np.uint8


def test_auto_precision_is_saved_as_the_precision_it_chose(tiny_data, tmp_path, monkeypatch):
    """config.json names the real precision, so a resume on other hardware can tell whether
    the optimizer state has a loss scale."""
    import korean_gan.training.distribute as distribute
    from korean_gan.training.config import TrainConfig
    from korean_gan.training.trainer import read_run_config, train

    # Hardware where auto takes bfloat16 (not this machine's own answer, which could be
    # float32, the same as the default): the saved precision must be that choice.
    monkeypatch.setattr(distribute, "cpu_supports_bf16", lambda: True)
    monkeypatch.setattr(distribute, "bf16_speedup", lambda: 2.0)
    config = TrainConfig.from_preset("reference", data=str(tiny_data), run_dir=str(tmp_path / "a"),
                                     epochs=1, batch_size=16, precision="auto", eval_every=0,
                                     verbose=0, tensorboard=False)
    train(config)
    assert read_run_config(tmp_path / "a").precision == "mixed_bfloat16"


def test_cli_takes_strategy_and_precision(tiny_data, tmp_path, capsys, monkeypatch):
    from korean_gan.cli import main

    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert main(["train", "--strategy", "multiworker", "--precision", "mixed_bfloat16",
                 "--data", str(tiny_data), "--run-dir", str(tmp_path / "r"),
                 "--batch-size", "16"]) == 2
    assert "strategy multiworker needs TF_CONFIG" in capsys.readouterr().err


def test_auto_precision_takes_bf16_only_where_it_is_faster(monkeypatch):
    """CPU flags say bf16 exists, not that it is fast: auto needs both."""
    import korean_gan.training.distribute as distribute

    for flags, speedup, expected in [(True, 2.0, "mixed_bfloat16"), (True, 0.55, "float32"),
                                     (True, 1.2, "float32"), (False, 2.0, "float32")]:
        monkeypatch.setattr(distribute, "cpu_supports_bf16", lambda flags=flags: flags)
        monkeypatch.setattr(distribute, "bf16_speedup", lambda speedup=speedup: speedup)
        assert distribute.resolve_precision("auto") == expected, (flags, speedup)
    assert distribute.resolve_precision("mixed_bfloat16") == "mixed_bfloat16"


def test_bf16_speedup_is_measured_once_per_process():
    from korean_gan.training.distribute import bf16_speedup

    first = bf16_speedup()
    assert 0.05 < first < 50
    assert bf16_speedup() == first  # cached: a run never changes its mind
