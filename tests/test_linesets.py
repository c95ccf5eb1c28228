"""Tests for :mod:`korean_gan.data.linesets`: writing and reading line sets in every format.

The records are small synthetic lines made with numpy; no model and no TensorFlow.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from korean_gan.data.linesets import (
    FORMATS,
    LineRecord,
    LineSetError,
    LineSetWriter,
    check_lineset_target,
    crop_quad,
    read_lineset,
)

TEXTS = ["가나다", "한글 손글씨", "안녕하세요!", "OCR 123", "", "값 (1.5)", "ㄱ 뷁"]


def _records(n: int = 7, start: int = 0) -> list[LineRecord]:
    """``n`` lines of random ink blobs, one box per non-space character."""
    rng = np.random.default_rng(start)
    records = []
    for i in range(start, start + n):
        text = TEXTS[i % len(TEXTS)]
        width = 24 * max(len(text), 1) + 8
        height = 32 + i % 3
        image = np.full((height, width), 255, np.uint8)
        boxes, chars = [], []
        for j, char in enumerate(text):
            if char.isspace():
                continue  # no ink, no box
            x0, y0 = 4 + 24 * j + int(rng.integers(0, 3)), int(rng.integers(2, 8))
            x1, y1 = x0 + 18, y0 + 20
            image[y0:y1, x0:x1] = rng.integers(0, 200, (y1 - y0, x1 - x0), dtype=np.uint8)
            boxes.append((x0, y0, x1, y1))
            chars.append(char)
        params = {"slant": round(float(rng.normal()), 6), "seed": i, "ops": ["warp", "blur"],
                  "nested": {"sigma": [0.5, 1.25]}}
        # Even lines have quads (the boxes turned a little), odd ones none (older sets).
        quads = [(x0 + 1.5, y0, x1, y0 + 0.5, x1 - 1.5, y1, x0, y1 - 0.5)
                 for x0, y0, x1, y1 in boxes] if i % 2 == 0 else []
        records.append(LineRecord(key=f"{i:09d}", image=image, text=text, boxes=boxes,
                                  chars=chars, style=f"style{i % 2}", params=params,
                                  quads=quads))
    return records


def _write(out: Path, fmt: str, records: list[LineRecord], shard_size: int = 5000,
           **manifest) -> Path:
    with LineSetWriter(out, fmt, shard_size=shard_size) as writer:
        for record in records:
            writer.write(record)
        writer.manifest.update(manifest)
    return out


def _tree_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _leftovers(parent: Path, name: str) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(f".{name}"))


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip(tmp_path, fmt):
    records = _records(7)
    out = _write(tmp_path / "lines", fmt, records, shard_size=3, charset="test")
    back = list(read_lineset(out))
    assert [r.key for r in back] == [r.key for r in records]
    for got, want in zip(back, records, strict=True):
        assert got == want, got.key
        assert got.image.dtype == np.uint8 and got.image.shape == want.image.shape
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["kind"] == "lines" and manifest["format"] == fmt
    assert manifest["count"] == 7 and manifest["charset"] == "test"
    assert _leftovers(tmp_path, "lines") == []


def test_record_equality_compares_pixels():
    a, b = _records(1), _records(1)
    assert a == b
    b[0].image[0, 0] = 0
    assert a != b


def test_paddle_labels_txt_exact(tmp_path):
    out = _write(tmp_path / "p", "paddle", _records(2))
    assert (out / "labels.txt").read_bytes() == (
        "images/000000000.png\t가나다\nimages/000000001.png\t한글 손글씨\n").encode()
    assert sorted(p.name for p in (out / "images").iterdir()) == ["000000000.png",
                                                                  "000000001.png"]
    first = json.loads((out / "labels.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert first["key"] == "000000000" and first["file"] == "images/000000000.png"
    assert first["chars"] == ["가", "나", "다"] and len(first["boxes"]) == 3


def test_imagefolder_loads_with_hugging_face(tmp_path):
    datasets = pytest.importorskip("datasets")
    records = _records(5)
    out = _write(tmp_path / "hf", "imagefolder", records)
    ds = datasets.load_dataset("imagefolder", data_dir=str(out), split="train",
                               cache_dir=str(tmp_path / "cache"))
    assert len(ds) == 5
    assert {"image", "text", "boxes", "quads", "chars", "style", "params"} \
        <= set(ds.column_names)
    for row, record in zip(ds, records, strict=True):
        assert np.array_equal(np.asarray(row["image"].convert("L")), record.image)
        assert row["text"] == record.text
        assert [tuple(b) for b in row["boxes"]] == record.boxes
        assert [tuple(q) for q in row["quads"]] == record.quads
        assert row["chars"] == record.chars
        assert json.loads(row["params"]) == record.params


def test_webdataset_loads_with_webdataset(tmp_path):
    wds = pytest.importorskip("webdataset")
    records = _records(7)
    out = _write(tmp_path / "wds", "webdataset", records, shard_size=3)
    urls = [str(out / name) for name in json.loads((out / "manifest.json").read_text())["shards"]]
    loaded = list(wds.WebDataset(urls, shardshuffle=False).decode("l8"))
    assert [s["__key__"] for s in loaded] == [r.key for r in records]
    for sample, record in zip(loaded, records, strict=True):
        assert np.array_equal(sample["png"], record.image)
        assert sample["txt"] == record.text
        assert sample["json"]["chars"] == record.chars
        assert sample["json"]["params"] == record.params


def test_webdataset_shards(tmp_path):
    out = _write(tmp_path / "wds", "webdataset", _records(7), shard_size=3)
    assert sorted(p.name for p in out.glob("*.tar")) == [
        "lines-000000.tar", "lines-000001.tar", "lines-000002.tar"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["shards"] == ["lines-000000.tar", "lines-000001.tar", "lines-000002.tar"]
    import tarfile

    with tarfile.open(out / "lines-000002.tar") as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == ["000000006.png", "000000006.txt", "000000006.json"]
    assert all(m.mtime == 0 and m.uid == 0 and m.gid == 0 for m in members)


@pytest.mark.parametrize("fmt", FORMATS)
def test_deterministic_bytes(tmp_path, fmt):
    first = _write(tmp_path / "a", fmt, _records(5), shard_size=2)
    second = _write(tmp_path / "b", fmt, _records(5), shard_size=2)
    assert _tree_digest(first) == _tree_digest(second)


def test_same_png_bytes_in_every_format(tmp_path):
    import tarfile

    records = _records(2)
    pngs = {}
    for fmt in FORMATS:
        out = _write(tmp_path / fmt, fmt, records)
        if fmt == "webdataset":
            with tarfile.open(out / "lines-000000.tar") as tar:
                pngs[fmt] = tar.extractfile("000000001.png").read()
        else:
            pngs[fmt] = (out / "images" / "000000001.png").read_bytes()
    assert len(set(pngs.values())) == 1


@pytest.mark.parametrize("fmt", FORMATS)
def test_error_inside_with_leaves_nothing(tmp_path, fmt):
    out = tmp_path / "lines"
    with pytest.raises(RuntimeError, match="boom"):
        with LineSetWriter(out, fmt) as writer:
            writer.write(_records(1)[0])
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_leaves_nothing(tmp_path):
    out = tmp_path / "lines"
    with pytest.raises(KeyboardInterrupt):
        with LineSetWriter(out, "webdataset") as writer:
            writer.write(_records(1)[0])
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_failed_rewrite_keeps_earlier_set(tmp_path, fmt):
    out = _write(tmp_path / "lines", fmt, _records(3))
    before = _tree_digest(out)
    bad = _records(2, start=8)
    bad[1].chars = bad[1].chars[:-1]  # one box without its character
    with pytest.raises(LineSetError, match="line 000000009"):
        _write(out, fmt, bad)
    assert _tree_digest(out) == before
    assert _leftovers(tmp_path, "lines") == []


def test_rewrite_replaces_earlier_set(tmp_path):
    out = _write(tmp_path / "lines", "paddle", _records(3))
    _write(out, "webdataset", _records(2, start=5))
    assert [r.key for r in read_lineset(out)] == ["000000005", "000000006"]
    assert not (out / "images").exists()


def _one_line(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert "\n" not in message and message
    return message


def test_refuses_unknown_format(tmp_path):
    with pytest.raises(LineSetError) as error:
        LineSetWriter(tmp_path / "x", "lmdb")
    assert "lmdb" in _one_line(error) and "paddle" in str(error.value)
    with pytest.raises(LineSetError):
        check_lineset_target(tmp_path / "x", "tfrecord")
    assert list(tmp_path.iterdir()) == []


def test_refuses_foreign_folder_and_file(tmp_path):
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "cat.jpg").write_bytes(b"meow")
    with pytest.raises(LineSetError) as error:
        check_lineset_target(foreign, "paddle")
    assert str(foreign) in _one_line(error)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "manifest.json").write_text('{"kind": "glyphs"}')
    with pytest.raises(LineSetError):
        LineSetWriter(tmp_path / "other", "imagefolder")
    (tmp_path / "file").write_text("x")
    with pytest.raises(LineSetError) as error:
        check_lineset_target(tmp_path / "file", "webdataset")
    assert "is a file" in _one_line(error)
    assert (foreign / "cat.jpg").read_bytes() == b"meow"


def test_accepts_empty_missing_and_earlier_set(tmp_path):
    (tmp_path / "empty").mkdir()
    assert check_lineset_target(tmp_path / "empty", "paddle") == tmp_path / "empty"
    assert check_lineset_target(tmp_path / "a" / "b", "paddle") == tmp_path / "a" / "b"
    assert not (tmp_path / "a").exists()  # checking creates nothing
    out = _write(tmp_path / "lines", "paddle", _records(1))
    check_lineset_target(out, "webdataset")


@pytest.mark.parametrize("text", ["a\tb", "a\nb", "a\rb"])
def test_paddle_refuses_tab_or_newline(tmp_path, text):
    record = _records(1)[0]
    record.text = text
    with pytest.raises(LineSetError) as error:
        _write(tmp_path / "p", "paddle", [record])
    assert "000000000" in _one_line(error)
    assert list(tmp_path.iterdir()) == []
    # The other formats hold such text.
    out = _write(tmp_path / "w", "webdataset", [record])
    assert next(read_lineset(out)).text == text


@pytest.mark.parametrize(("change", "match"), [
    ({"key": "42"}, "9-digit"),
    ({"image": np.zeros((4, 4, 3), np.uint8)}, "uint8 \\(H, W\\)"),
    ({"image": np.zeros((4, 4), np.float32)}, "uint8"),
    ({"text": "\u1100\u1161"}, "NFC"),  # 가 as conjoining jamo
    ({"params": {"x": object()}}, "JSON"),
    ({"params": {"x": float("nan")}}, "JSON"),
    ({"boxes": [(1, 2, 3)], "chars": ["a"]}, "x0, y0, x1, y1"),
    ({"quads": [(0, 0, 1, 0, 1, 1, 0, 1)]}, "one quad of 8 finite numbers per box \\(3\\)"),
    ({"quads": [(0, 0, 1, 0, 1, 1, 0)] * 3}, "one quad of 8"),
    ({"quads": [(0, 0, 1, 0, 1, 1, 0, float("nan"))] * 3}, "finite"),
    ({"quads": [("a",) * 8] * 3}, "quads must be 8 numbers each"),
])
def test_refuses_malformed_records(tmp_path, change, match):
    record = _records(1)[0]
    for name, value in change.items():
        setattr(record, name, value)
    with pytest.raises(LineSetError, match=match) as error:
        _write(tmp_path / "x", "imagefolder", [record])
    _one_line(error)
    assert list(tmp_path.iterdir()) == []


def test_refuses_keys_out_of_order(tmp_path):
    records = _records(3)
    with pytest.raises(LineSetError, match="increasing key order"):
        _write(tmp_path / "x", "paddle", [records[1], records[0]])
    with pytest.raises(LineSetError, match="increasing key order"):
        _write(tmp_path / "x", "paddle", [records[0], records[0]])


def test_numpy_params_are_written_as_plain_values(tmp_path):
    record = _records(1)[0]
    record.params = {"angle": np.float32(1.5), "size": np.int64(3), "m": np.eye(2)}
    out = _write(tmp_path / "x", "webdataset", [record])
    assert next(read_lineset(out)).params == {"angle": 1.5, "size": 3,
                                              "m": [[1.0, 0.0], [0.0, 1.0]]}


def test_empty_set(tmp_path):
    for fmt in FORMATS:
        out = _write(tmp_path / fmt, fmt, [])
        assert list(read_lineset(out)) == []
        assert json.loads((out / "manifest.json").read_text())["count"] == 0


def test_writer_manifest_cannot_override_own_keys(tmp_path):
    out = _write(tmp_path / "x", "paddle", _records(2), count=99, kind="glyphs", note="hi")
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["count"], manifest["kind"], manifest["note"]) == (2, "lines", "hi")


def test_write_outside_with_block(tmp_path):
    writer = LineSetWriter(tmp_path / "x", "paddle")
    with pytest.raises(RuntimeError, match="inside its with-block"):
        writer.write(_records(1)[0])


def test_read_refuses_non_lineset(tmp_path):
    with pytest.raises(LineSetError) as error:
        list(read_lineset(tmp_path))
    assert "not a line set" in _one_line(error)


@pytest.mark.parametrize("angle", [0.0, 8.0, -12.0])
def test_crop_quad_turns_a_turned_character_upright(angle):
    import cv2

    from korean_gan.data.lineaug import glyph_quads, rotate_glyph

    # An upright "L" (a thick left bar and bottom bar), turned and pasted onto a line.
    glyph = np.full((40, 30), 255, np.uint8)
    glyph[:, :6] = 0
    glyph[-6:, :] = 0
    turned = rotate_glyph(glyph, angle)
    line = np.full((80, 120), 255, np.uint8)
    y0, x0 = 20, 40
    line[y0:y0 + turned.shape[0], x0:x0 + turned.shape[1]] = turned
    box = (x0, y0, x0 + turned.shape[1], y0 + turned.shape[0])
    (quad,) = glyph_quads([box], [angle])
    upright = crop_quad(line, quad)
    assert abs(upright.shape[0] - 40) <= 1 and abs(upright.shape[1] - 30) <= 1
    assert abs(crop_quad(line, quad, scale=2).shape[0] - 80) <= 2
    back = cv2.resize(upright, (30, 40), interpolation=cv2.INTER_AREA) < 128
    want = glyph < 128
    assert (back & want).sum() / (back | want).sum() > 0.85
    # An upright box of the turned glyph holds the L only turned: far from the upright one.
    if angle:
        boxed = cv2.resize(line[box[1]:box[3], box[0]:box[2]], (30, 40),
                           interpolation=cv2.INTER_AREA) < 128
        assert (back & want).sum() / (back | want).sum() \
            > (boxed & want).sum() / (boxed | want).sum() + 0.1


@pytest.mark.parametrize("scale", [0, -1, float("nan"), 100, "2"])
def test_crop_quad_refuses_a_bad_scale(scale):
    with pytest.raises(LineSetError, match="scale must be a number in"):
        crop_quad(np.full((10, 10), 255, np.uint8), (0, 0, 5, 0, 5, 5, 0, 5), scale=scale)
