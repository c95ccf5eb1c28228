"""Tests for :mod:`korean_gan.textlines` and ``korean-gan lines``: labelled handwritten line
images made with the pretrained model, in every format, exactly reproducible by shard."""

from __future__ import annotations

import json
import unicodedata

import numpy as np
import pytest

from korean_gan.cli import main
from korean_gan.data.lineaug import LineAugment
from korean_gan.data.linesets import read_lineset
from korean_gan.generate import Handwriting
from korean_gan.textlines import LinesError, make_lines, parse_shard

CORPUS = ["다람쥐 헌 쳇바퀴에 타고파", "2026년 12월 6일, 오늘은 Hello!", "닭 한 마리 中 주세요",
          "키스의 고유조건은 입술끼리 만나야 하고"]


@pytest.fixture(scope="module")
def writer() -> Handwriting:
    return Handwriting.load("default", precision="float32")


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    # NFD (decomposed) like text typed on macOS: lines must come out NFC.
    path.write_text("\n".join(unicodedata.normalize("NFD", line) for line in CORPUS) + "\n\n",
                    encoding="utf-8")
    return path


def test_parse_shard_splits_into_blocks_that_cover_everything():
    blocks = [parse_shard(f"{k}/3", 10) for k in range(3)]
    assert [list(b) for b in blocks] == [[0, 1, 2], [3, 4, 5], [6, 7, 8, 9]]
    assert parse_shard(None, 4) == range(4)
    for bad in ("3/3", "1", "a/b", "-1/2"):
        with pytest.raises(LinesError, match="--shard"):
            parse_shard(bad, 10)


def test_lines_are_labelled_exactly(writer, corpus, tmp_path):
    with pytest.warns(UserWarning, match=r"line 2 skipped: no font can draw '中' \(U\+4E2D\)"):
        result = make_lines(out=tmp_path / "set", text=str(corpus), styles="Gaegu-Regular",
                            augment=LineAugment.none(), progress=False, writer=writer)
    assert (result.lines, result.skipped) == (3, 1)
    records = list(read_lineset(result.path))
    assert [r.key for r in records] == ["000000000", "000000001", "000000003"]
    assert [r.text for r in records] == [CORPUS[0], CORPUS[1], CORPUS[3]]
    from korean_gan.data.charsets import is_hangul_syllable, ks2350
    from korean_gan.data.render import RenderConfig, fit_to_box
    from korean_gan.evaluation.evaluator import find_evaluator

    evaluator = find_evaluator(ks2350())
    crops, labels = [], []
    for record in records:
        assert record.image.shape[0] == 64 and record.style == "Gaegu-Regular"
        assert record.chars == [c for c in record.text if c != " "]
        height, width = record.image.shape
        for char, (x0, y0, x1, y1) in zip(record.chars, record.boxes, strict=True):
            assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height
            assert (record.image[y0:y1, x0:x1] < 128).any(), char  # ink in every box
            if is_hangul_syllable(char) and char in ks2350().chars:
                crops.append(fit_to_box(record.image[y0:y1, x0:x1], RenderConfig(size=32)))
                labels.append(ks2350().chars.index(char))
        # Boxes go left to right along the line.
        assert [b[0] for b in record.boxes] == sorted(b[0] for b in record.boxes)
        # Nothing turned or slanted: each quad is its box's corners (the box rounded).
        for quad, (x0, y0, x1, y1) in zip(record.quads, record.boxes, strict=True):
            assert quad == pytest.approx((x0, y0, x1, y0, x1, y1, x0, y1), abs=0.5)
    # The evaluator reads the boxed syllables as the labels say.
    _, probs = evaluator.predict(np.stack(crops))
    read = probs.argmax(axis=1) == evaluator.label_map(ks2350())[labels]
    assert len(crops) >= 25 and read.mean() >= 0.9


def test_quads_turn_and_slant_inside_their_boxes(writer, tmp_path):
    result = make_lines(out=tmp_path / "set", random=12, styles="fonts", seed=3,
                        progress=False, writer=writer)
    records = list(read_lineset(result.path))
    slanted = turned = 0
    for record in records:
        assert len(record.quads) == len(record.boxes) > 0
        for (x0, y0, x1, y1), quad in zip(record.boxes, record.quads, strict=True):
            xs, ys = np.asarray(quad[0::2]), np.asarray(quad[1::2])
            # Inside its upright box (which rounds outwards), up to the rounding of both.
            assert x0 - 1 <= xs.min() and xs.max() <= x1 + 1, (record.key, quad)
            assert y0 - 1 <= ys.min() and ys.max() <= y1 + 1, (record.key, quad)
            left, right = xs[3] - xs[0], xs[2] - xs[1]  # how the sides lean
            turned += abs(ys[1] - ys[0]) > 0.2  # a top edge that is not level
            slanted += min(abs(left), abs(right)) > 0.5 and left * right > 0
    # The default augmentation turns most glyphs a little and slants most lines.
    n = sum(len(r.quads) for r in records)
    assert turned > n / 2 and slanted > n / 3, (turned, slanted, n)


def test_shards_together_equal_the_single_run(writer, tmp_path):
    common = dict(random=10, styles="fonts,random:2,mix", seed=5, batch_lines=4,
                  progress=False, writer=writer)
    whole = list(read_lineset(make_lines(out=tmp_path / "whole", **common).path))
    parts = [r for k in range(3) for r in read_lineset(
        make_lines(out=tmp_path / f"part{k}", shard=f"{k}/3", **common).path)]
    assert len(whole) == 10 and parts == whole
    again = list(read_lineset(make_lines(out=tmp_path / "again", **common).path))
    assert again == whole
    other = list(read_lineset(make_lines(out=tmp_path / "other", **{**common, "seed": 6}).path))
    assert [r.text for r in other] != [r.text for r in whole]
    assert {r.style for r in whole} >= {"random"}
    # Random lines are Hangul words with a few numbers and marks, and augmented.
    assert all(2 <= len(r.text.split()) <= 5 for r in whole)
    assert any(r.params["slant"] != 0 for r in whole)


@pytest.mark.parametrize("fmt", ["paddle", "imagefolder", "webdataset"])
def test_the_cli_writes_each_format_and_its_library_loads_it(tmp_path, capsys, corpus, fmt):
    out = tmp_path / fmt
    argv = ["lines", "--text", str(corpus), "--count", "6", "--format", fmt, "--out", str(out),
            "--styles", "random", "--quiet"]
    assert main(argv) == 0
    said = capsys.readouterr()
    assert f"wrote 5 lines to {out} ({fmt}, 1 skipped" in said.out
    assert "warning: line 2 skipped: no font can draw '中' (U+4E2D)" in said.err
    texts = [CORPUS[i % 4] for i in range(6) if i % 4 != 2]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["kind"] == "lines" and manifest["lines"]["written"] == 5
    if fmt == "paddle":
        rows = (out / "labels.txt").read_text(encoding="utf-8").splitlines()
        assert [row.split("\t") for row in rows] == [
            [f"images/{i:09d}.png", CORPUS[i % 4]] for i in range(6) if i % 4 != 2]
        assert all((out / row.split("\t")[0]).is_file() for row in rows)
    elif fmt == "imagefolder":
        datasets = pytest.importorskip("datasets")
        loaded = datasets.load_dataset("imagefolder", data_dir=str(out), split="train",
                                       cache_dir=str(tmp_path / "hf-cache"))
        assert loaded.num_rows == 5 and sorted(loaded["text"]) == sorted(texts)
        row = loaded[0]
        assert row["image"].height == 64 and len(row["boxes"]) == len(row["chars"])
    else:
        wds = pytest.importorskip("webdataset")
        urls = [str(out / name) for name in manifest["shards"]]
        samples = list(wds.WebDataset(urls, shardshuffle=False).decode("l8"))
        assert [s["txt"] for s in samples] == texts
        assert samples[0]["png"].shape[0] == 64 and samples[0]["json"]["text"] == texts[0]


def test_the_corpus_may_come_from_standard_input(tmp_path, capsys, monkeypatch, corpus):
    import io
    import sys

    common = ["--count", "3", "--styles", "Gaegu", "--augment", "none", "--quiet"]
    assert main(["lines", "--text", str(corpus), "--out", str(tmp_path / "file"), *common]) == 0
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(corpus.read_bytes()),
                                                       encoding="utf-8"))
    assert main(["lines", "--text", "-", "--out", str(tmp_path / "stdin"), *common]) == 0
    capsys.readouterr()
    assert (tmp_path / "stdin" / "labels.txt").read_bytes() == \
        (tmp_path / "file" / "labels.txt").read_bytes()
    for name in ("000000000.png", "000000001.png"):
        assert (tmp_path / "stdin" / "images" / name).read_bytes() == \
            (tmp_path / "file" / "images" / name).read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b" \n\n"), encoding="utf-8"))
    assert main(["lines", "--text", "-", "--out", str(tmp_path / "empty"), *common]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "korean-gan: error: --text - has no line with text", err


@pytest.mark.parametrize("argv, message", [
    (["--text", "missing.txt"], "corpus file missing.txt does not exist"),
    (["--random", "5", "--height", "48"], "size 48 is not supported"),
    (["--random", "5", "--shard", "4/4"], "--shard 4/4: K must be 0 to N-1"),
    (["--random", "5", "--styles", "Gaegu:x"], "the weight after ':' must be a number"),
    (["--random", "5", "--styles", "NoSuchFont"], "unknown style 'NoSuchFont'"),
    (["--random", "0"], "argument --random: must be from 1 to 10,000,000, got 0"),
    (["--random", "5", "--augment", "none.json"], "--augment none.json: give default, none"),
    (["--random", "5", "--ray", "9"], "--ray 9 is more than the 5 lines"),
])
def test_bad_requests_are_one_line_errors_and_write_nothing(tmp_path, capsys, monkeypatch,
                                                            argv, message):
    monkeypatch.chdir(tmp_path)
    assert main(["lines", "--out", "set", "--quiet", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("korean-gan: error: ") and message in err and "\n" not in err
    assert list(tmp_path.iterdir()) == []


def test_an_augmentation_file_sets_the_jitter(tmp_path, writer):
    from korean_gan.textlines import augment_from_spec as _augment

    path = tmp_path / "aug.json"
    path.write_text(json.dumps({"rotation": 0.0, "slant": 0.3}), encoding="utf-8")
    augment = _augment(str(path))
    assert augment.rotation == 0.0 and augment.slant == 0.3 and augment.blur == LineAugment().blur
    path.write_text(json.dumps({"noise": 3.0}), encoding="utf-8")
    with pytest.raises(ValueError, match="noise"):
        _augment(str(path))
