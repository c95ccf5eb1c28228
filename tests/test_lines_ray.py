"""Tests for :mod:`korean_gan.lines_ray`: the shards of a line set made as Ray tasks equal the
single-process run, line for line."""

from __future__ import annotations

import sys
import time

import pytest

from korean_gan.cli import main
from korean_gan.data.linesets import read_lineset
from korean_gan.lines_ray import make_lines_on_ray
from korean_gan.textlines import LinesConfig, LinesError, make_lines


def test_without_ray_the_error_says_how_to_install_it(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    with pytest.raises(LinesError, match=r'pip install "korean-gan\[ray\]"'):
        make_lines_on_ray(LinesConfig(random=4, out=str(tmp_path / "set")), 2)
    assert main(["lines", "--random", "4", "--ray", "2", "--out", str(tmp_path / "set")]) == 2
    err = capsys.readouterr().err.strip()
    assert 'pip install "korean-gan[ray]"' in err and "\n" not in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("shards, config, message", [
    (0, {}, "--ray must be a positive integer"),
    (9, {}, "--ray 9 is more than the 8 lines"),
    (2, {"shard": "0/2"}, "not --shard"),
    (2, {"height": 48}, "size 48 is not supported"),
])
def test_bad_requests_fail_before_ray_starts(tmp_path, shards, config, message):
    pytest.importorskip("ray")
    with pytest.raises(ValueError, match=message):
        make_lines_on_ray(LinesConfig(random=8, out=str(tmp_path / "set"), **config), shards)
    assert list(tmp_path.iterdir()) == []


def test_an_output_with_other_things_in_it_is_refused(tmp_path):
    pytest.importorskip("ray")
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(LinesError, match="holds notes.txt, not only the shard folders"):
        make_lines_on_ray(LinesConfig(random=8, out=str(tmp_path)), 2)
    (tmp_path / "notes.txt").unlink()
    (tmp_path / "shard-000-of-003").mkdir()
    with pytest.raises(LinesError, match="a run with 3 shards, not 2; use --ray 3"):
        make_lines_on_ray(LinesConfig(random=8, out=str(tmp_path)), 2)


@pytest.mark.slow
def test_ray_shards_together_equal_the_single_run(tmp_path, monkeypatch):
    ray = pytest.importorskip("ray")
    # Workers run elsewhere: relative paths must reach them made absolute.
    monkeypatch.chdir(tmp_path)
    config = LinesConfig(random=8, styles="fonts,random", seed=3, batch_lines=4, height=32,
                         out="ray", progress=False)
    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING")
    try:
        started = time.perf_counter()
        folders = make_lines_on_ray(config, 3)
        seconds = time.perf_counter() - started
        assert ray.is_initialized()  # a connection made by the caller stays open
        # Running it again replaces the shard folders of the previous run.
        assert make_lines_on_ray(config, 3) == folders
        # Bad input found in a task is its one-line error, not Ray's traceback.
        with pytest.raises(ValueError, match="unknown style 'NoSuchFont'") as caught:
            make_lines_on_ray(LinesConfig(random=2, styles="NoSuchFont", out="bad"), 1)
        assert "\n" not in str(caught.value)
        assert not any((tmp_path / "bad").glob("*"))  # no shard, not even half of one
    finally:
        ray.shutdown()
    print(f"3 shards on Ray: {seconds:.1f} s")
    assert folders == [tmp_path / "ray" / f"shard-{k:03d}-of-003" for k in range(3)]
    assert sorted(p.name for p in (tmp_path / "ray").iterdir()) == [p.name for p in folders]
    on_ray = [record for folder in folders for record in read_lineset(folder)]
    single = list(read_lineset(make_lines(config, out="single").path))
    assert len(single) == 8 and [r.key for r in on_ray] == [f"{i:09d}" for i in range(8)]
    assert on_ray == single
