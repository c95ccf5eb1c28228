"""Tests for :mod:`korean_gan.data.dataset`: building, saving, loading and feeding datasets."""

from __future__ import annotations

import hashlib
import json
import os
import zipfile

import numpy as np
import pytest
from PIL import Image

from korean_gan.data.augment import reference_transforms
from korean_gan.data.charsets import SEED16, ks2350
from korean_gan.data.dataset import DatasetError, build_dataset, load_dataset, to_tf_dataset
from korean_gan.data.fonts import load_faces
from korean_gan.data.render import GlyphRenderer

SEED_AUGS = ["orig", "rot+15", "rot-15", "shift-x27", "shift-y27"]


def _build(two_fonts, out, **kwargs):
    options = {"charset": "seed16", "fonts": tuple(map(str, two_fonts)), "out": str(out),
               "workers": 1, "progress": False}
    return build_dataset(**{**options, **kwargs})


@pytest.fixture(scope="module")
def seed16_build(two_fonts, tmp_path_factory):
    """seed16 × the two small fonts × the seed policy, built once for the module."""
    out = tmp_path_factory.mktemp("seed16") / "seed16.npz"
    return _build(two_fonts, out)


# --- building -----------------------------------------------------------------------------------

def test_build_counts_and_arrays(seed16_build):
    result = seed16_build
    assert (result.n_images, result.n_glyphs, result.n_fonts, result.n_classes) == (
        16 * 2 * 5, 32, 2, 16)
    with np.load(result.path, allow_pickle=False) as npz:
        assert sorted(npz.files) == sorted(["images", "labels", "charset", "font_ids", "fonts",
                                            "aug_ids", "augmentations"])
        arrays = {key: npz[key] for key in npz.files}
    assert arrays["images"].dtype == np.uint8 and arrays["images"].shape == (160, 32, 32)
    for key in ("labels", "font_ids", "aug_ids"):
        assert arrays[key].dtype == np.int32 and arrays[key].shape == (160,)
    assert arrays["charset"].dtype.kind == "U" and "".join(arrays["charset"]) == SEED16
    assert list(arrays["fonts"]) == ["CuteFont-Regular", "DoHyeon-Regular"]
    assert list(arrays["augmentations"]) == SEED_AUGS
    # Every (font, syllable, augmentation) appears exactly once.
    triples = set(zip(arrays["font_ids"], arrays["labels"], arrays["aug_ids"], strict=True))
    assert len(triples) == 160
    assert np.array_equal(np.bincount(arrays["labels"]), np.full(16, 10))
    assert arrays["labels"].min() == 0 and arrays["labels"].max() == 15


def test_build_images_are_the_rendered_and_augmented_glyphs(seed16_build, two_fonts):
    data = load_dataset(seed16_build.path)
    faces = load_faces(two_fonts)
    for font_id, label in [(0, 0), (1, 15), (0, 13)]:
        glyph = GlyphRenderer(faces[font_id]).render(SEED16[label])
        expected = [glyph] + [img for _, img in reference_transforms(glyph)]
        for aug_id, image in enumerate(expected):
            (index,) = np.flatnonzero((data.font_ids == font_id) & (data.labels == label)
                                      & (data.aug_ids == aug_id))
            assert np.array_equal(data.images[index], image), (font_id, label, aug_id)


def test_build_manifest_and_preview(seed16_build, two_fonts):
    manifest = json.loads(seed16_build.manifest_path.read_text(encoding="utf-8"))
    assert seed16_build.manifest_path.name == "seed16.json"
    assert manifest["charset"] == {"name": "seed16", "size": 16, "chars": SEED16}
    assert manifest["augmentations"] == SEED_AUGS
    assert manifest["parameters"]["size"] == 32
    assert manifest["parameters"]["augment"] == ["reference"]
    assert manifest["counts"]["images"] == 160 and manifest["counts"]["glyphs"] == 32
    assert manifest["counts"]["fonts"] == 2 and manifest["counts"]["classes"] == 16
    assert manifest["counts"]["glyphs_skipped"] == 0 and manifest["counts"]["per_class_min"] == 10
    assert [f["file"] for f in manifest["fonts"]] == [p.name for p in two_fonts]
    for entry, path in zip(manifest["fonts"], two_fonts, strict=True):
        assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert entry["glyphs"] == 16 and entry["skipped"] == {}
    assert manifest["build"]["workers"] == 1
    preview = seed16_build.preview_path
    assert preview.name == "seed16.preview.png" and preview.is_file()
    with Image.open(preview) as image:
        assert image.format == "PNG" and image.mode == "L"
        assert image.width > image.height       # syllables across, fonts down


def test_build_is_byte_identical_with_one_or_two_workers(tmp_path, two_fonts):
    # 1,100 syllables × 2 fonts is large enough that the builder really starts 2 processes;
    # the random policies check that seeding does not depend on which process renders what.
    charset = tmp_path / "first1100.txt"
    charset.write_text("".join(ks2350().chars[:1100]), encoding="utf-8")
    results = [
        _build(two_fonts, tmp_path / f"w{workers}" / "set.npz", charset=str(charset),
               augment=("reference", "elastic", "affine"), copies=1, workers=workers)
        for workers in (1, 2)
    ]
    assert [r.manifest["build"]["workers"] for r in results] == [1, 2]
    assert results[0].n_images == results[1].n_images == 1100 * 2 * 7
    one, two = results
    assert one.path.read_bytes() == two.path.read_bytes()
    assert one.preview_path.read_bytes() == two.preview_path.read_bytes()


def test_build_with_another_seed_differs_only_in_random_variants(tmp_path, two_fonts):
    a = _build(two_fonts, tmp_path / "a.npz", augment="reference,elastic", copies=1, preview=False)
    b = _build(two_fonts, tmp_path / "b.npz", augment="reference,elastic", copies=1, preview=False,
               seed=1)
    da, db = load_dataset(a.path), load_dataset(b.path)
    elastic = da.augmentations.index("elastic1")
    fixed = da.aug_ids != elastic
    assert np.array_equal(da.images[fixed], db.images[fixed])
    assert not np.array_equal(da.images[~fixed], db.images[~fixed])
    assert b.preview_path is None and not (tmp_path / "b.preview.png").exists()


def test_syllable_a_font_does_not_draw_is_skipped_and_recorded(tmp_path, two_fonts):
    # '똠' is outside KS X 1001: Cute Font has no glyph for it.
    result = _build(two_fonts[:1], tmp_path / "ddom.npz", charset="똠가", augment="none")
    data = load_dataset(result.path)
    assert data.charset.chars == ("똠", "가")
    assert list(data.labels) == [1]                  # only '가', no image for '똠'
    font = result.manifest["fonts"][0]
    assert font["skipped"] == {"no cmap entry": "똠"} and font["glyphs"] == 1
    counts = result.manifest["counts"]
    assert counts["glyphs_skipped"] == 1 and counts["per_class_min"] == 0
    on_disk = json.loads(result.manifest_path.read_text(encoding="utf-8"))
    assert on_disk["fonts"][0]["skipped"] == {"no cmap entry": "똠"}


def test_no_drawable_syllable_is_an_error(tmp_path, two_fonts):
    with pytest.raises(DatasetError, match="no font draws"):
        _build(two_fonts[:1], tmp_path / "none.npz", charset="똠")
    assert not (tmp_path / "none.npz").exists()


def test_bad_build_requests(tmp_path, two_fonts):
    with pytest.raises(DatasetError, match="unknown format"):
        _build(two_fonts, tmp_path / "x.npz", format="hdf5")
    (tmp_path / "folder.npz").mkdir()
    with pytest.raises(OSError, match="is a folder"):
        _build(two_fonts, tmp_path / "folder.npz")
    with pytest.raises(ValueError, match="unknown augmentation policy"):
        _build(two_fonts, tmp_path / "x.npz", augment="reference,mirror")


# --- atomic writes ------------------------------------------------------------------------------

def _previous_build(folder):
    files = {"set.npz": b"previous npz", "set.json": b"{}", "set.preview.png": b"previous png"}
    for name, content in files.items():
        (folder / name).write_bytes(content)
    return files


def test_failed_npz_write_keeps_the_previous_files(tmp_path, two_fonts, monkeypatch):
    previous = _previous_build(tmp_path)
    real_write = np.lib.format.write_array
    calls = []

    def failing_write(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:                          # after two members are in the zip
            raise OSError("disk full (simulated)")
        return real_write(*args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", failing_write)
    with pytest.raises(OSError, match="simulated"):
        _build(two_fonts, tmp_path / "set.npz")
    assert len(calls) == 3
    assert (tmp_path / "set.npz").read_bytes() == previous["set.npz"]
    assert (tmp_path / "set.json").read_bytes() == previous["set.json"]
    assert sorted(os.listdir(tmp_path)) == sorted(previous)     # no temporary file left


def test_failed_preview_write_keeps_the_previous_files(tmp_path, two_fonts, monkeypatch):
    previous = _previous_build(tmp_path)

    def failing_save(self, fp, *args, **kwargs):
        with open(fp, "wb") as fh:
            fh.write(b"\x89PNG half")
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(Image.Image, "save", failing_save)
    with pytest.raises(OSError, match="simulated"):
        _build(two_fonts, tmp_path / "set.npz")
    for name, content in previous.items():
        assert (tmp_path / name).read_bytes() == content, name
    assert sorted(os.listdir(tmp_path)) == sorted(previous)


def test_successful_build_replaces_the_previous_files(tmp_path, two_fonts):
    previous = _previous_build(tmp_path)
    _build(two_fonts, tmp_path / "set.npz")
    assert sorted(os.listdir(tmp_path)) == sorted(previous)
    for name, content in previous.items():
        assert (tmp_path / name).read_bytes() != content, name
    assert len(load_dataset(tmp_path / "set.npz")) == 160


# --- loading ------------------------------------------------------------------------------------

def _valid_arrays():
    return {
        "images": np.full((4, 8, 8), 255, np.uint8),
        "labels": np.array([0, 1, 0, 1], np.int32),
        "charset": np.array(["가", "나"]),
        "font_ids": np.zeros(4, np.int32),
        "fonts": np.array(["f"]),
        "aug_ids": np.zeros(4, np.int32),
        "augmentations": np.array(["orig"]),
    }


def test_load_valid_hand_made_file(tmp_path):
    path = tmp_path / "hand.npz"
    np.savez(path, **_valid_arrays())
    data = load_dataset(path)
    assert len(data) == 4 and data.image_size == 8
    assert data.charset.chars == ("가", "나") and data.charset.name == "hand"
    assert data.labels.dtype == np.int32
    assert len(data.originals()) == 4
    assert len(data.subset(data.labels == 1)) == 2


def test_repeat_fonts_appends_copies_of_the_named_fonts_glyphs(tmp_path):
    arrays = _valid_arrays()
    arrays["images"] = np.arange(4 * 64, dtype=np.uint8).reshape(4, 8, 8)
    arrays["fonts"] = np.array(["a", "b"])
    arrays["font_ids"] = np.array([0, 1, 1, 0], np.int32)
    np.savez(tmp_path / "two.npz", **arrays)
    data = load_dataset(tmp_path / "two.npz")
    twice_b = data.repeat_fonts({"b": 3})
    # The originals first, then font b's rows 1 and 2 twice more.
    assert [int(img[0, 0]) for img in twice_b.images] == [0, 64, 128, 192, 64, 128, 64, 128]
    assert twice_b.font_ids.tolist() == [0, 1, 1, 0, 1, 1, 1, 1]
    assert twice_b.labels.tolist() == [0, 1, 0, 1, 1, 0, 1, 0]
    assert len(data.repeat_fonts({"a": 1})) == 4
    with pytest.raises(DatasetError, match=r"repeat-font: 'c' is not a font of the dataset "
                                           r"\(a, b\)"):
        data.repeat_fonts({"c": 2})
    with pytest.raises(DatasetError, match="b must repeat a whole number of times .* got 0"):
        data.repeat_fonts({"b": 0})


@pytest.mark.parametrize("change, message", [
    ({"images": None}, "lacks the arrays ['images']"),
    ({"aug_ids": None, "fonts": None}, "lacks the arrays ['aug_ids', 'fonts']"),
    ({"images": np.full((4, 8, 8), 1.0, np.float32)}, "images has dtype float32"),
    ({"labels": np.array([0.0, 1.0, 0.0, 1.0])}, "labels has dtype float64"),
    ({"charset": np.array([1, 2])}, "charset has dtype"),
    ({"labels": np.array([0, 1, 2, 1], np.int32)}, "labels out of range"),
    ({"labels": np.array([0, -1, 0, 1], np.int32)}, "labels out of range"),
    ({"font_ids": np.array([0, 0, 0, 1], np.int32)}, "font_ids out of range"),
    ({"labels": np.array([0, 1], np.int32)}, "labels has shape"),
    ({"images": np.full((4, 8, 9), 255, np.uint8)}, "images have shape"),
    ({"images": np.zeros((0, 8, 8), np.uint8), "labels": np.zeros(0, np.int32),
      "font_ids": np.zeros(0, np.int32), "aug_ids": np.zeros(0, np.int32)}, "N > 0"),
    ({"charset": np.array(["가", "가"])}, "charset is not valid"),
    ({"charset": np.array(["가", "A"])}, "charset is not valid"),
])
def test_load_rejects_inconsistent_files(tmp_path, change, message):
    arrays = {**_valid_arrays(), **change}
    path = tmp_path / "bad.npz"
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    with pytest.raises(DatasetError) as info:
        load_dataset(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_load_missing_file(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset(tmp_path / "nothing.npz")


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.0])
def test_load_truncated_or_empty_file(tmp_path, seed16_build, keep):
    data = seed16_build.path.read_bytes()
    path = tmp_path / "cut.npz"
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(DatasetError, match="cannot be read"):
        load_dataset(path)


def test_load_not_a_zip(tmp_path):
    path = tmp_path / "text.npz"
    path.write_text("hello", encoding="utf-8")
    with pytest.raises(DatasetError, match="cannot be read"):
        load_dataset(path)


class _Canary:
    """Unpickling this creates a folder: proof that the loader executed pickle data."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_load_refuses_pickled_object_arrays(tmp_path):
    marker = tmp_path / "unpickled"
    arrays = _valid_arrays()
    arrays["images"] = np.array([_Canary(marker)] * 4, dtype=object)
    path = tmp_path / "pickled.npz"
    np.savez(path, **arrays)
    with zipfile.ZipFile(path) as zf:                 # the premise: pickle data is in the file
        assert b"mkdir" in zf.read("images.npy")
    with pytest.raises(DatasetError, match="cannot be read"):
        load_dataset(path)
    assert not marker.exists()
    # Control: a loader that does allow pickle would run the payload.
    with np.load(path, allow_pickle=True) as npz:
        npz["images"]
    assert marker.is_dir()


# --- image folders ------------------------------------------------------------------------------

def test_imagefolder_loads_with_keras(tmp_path, two_fonts, seed16_build):
    import keras

    out = tmp_path / "folders"
    result = _build(two_fonts, out, format="imagefolder")
    expected_classes = [f"{i:02d}_{c}" for i, c in enumerate(SEED16)]
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == expected_classes
    assert (out / "manifest.json").is_file() and (out / "preview.png").is_file()
    assert result.manifest_path == out / "manifest.json"
    assert all(len(list((out / c).glob("*.png"))) == 10 for c in expected_classes)

    ds = keras.utils.image_dataset_from_directory(
        out, color_mode="grayscale", image_size=(32, 32), shuffle=False, batch_size=200)
    assert ds.class_names == expected_classes
    images, labels = next(iter(ds))
    images, labels = images.numpy(), labels.numpy()
    assert images.shape == (160, 32, 32, 1) and list(labels) == sorted(labels)
    # Unshuffled, classes come in folder order, 10 files each: the first image of the fourth
    # folder (03_라) is image 30, the first file there by name, with label 3.
    first_file = sorted((out / expected_classes[3]).glob("*.png"))[0]
    assert labels[30] == 3 and labels[29] == 2
    with Image.open(first_file) as png:
        assert np.array_equal(images[30, :, :, 0], np.asarray(png, dtype=np.float32))
    # The class-3 images are exactly the '라' images of the npz build.
    npz = load_dataset(seed16_build.path)
    ours = sorted(img.tobytes() for img in npz.images[npz.labels == 3])
    keras_images = sorted(img[..., 0].astype(np.uint8).tobytes() for img in images[labels == 3])
    assert ours == keras_images


def test_imagefolder_refuses_a_foreign_non_empty_folder(tmp_path, two_fonts):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(DatasetError, match="not empty"):
        _build(two_fonts, out, format="imagefolder")
    assert os.listdir(out) == ["notes.txt"]


def test_imagefolder_rebuild_replaces_an_earlier_build(tmp_path, two_fonts):
    out = tmp_path / "folders"
    _build(two_fonts, out, format="imagefolder")
    _build(two_fonts[:1], out, format="imagefolder", charset="가나")
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["0_가", "1_나"]
    assert sorted(p.name for p in (out / "0_가").iterdir()) == [
        f"CuteFont-Regular_{aug}.png" for aug in sorted(SEED_AUGS)]
    assert sorted(os.listdir(tmp_path)) == ["folders"]   # no temporary or old folder left


# --- TensorFlow ---------------------------------------------------------------------------------

def test_to_tf_dataset_scales_to_minus_one_one(seed16_build):
    data = load_dataset(seed16_build.path)
    ds = to_tf_dataset(data, batch_size=32, shuffle=False)
    batches = [b.numpy() for b in ds]
    assert len(batches) == 5
    for batch in batches:
        assert batch.dtype == np.float32 and batch.shape == (32, 32, 32, 1)
        assert batch.min() >= -1.0 and batch.max() <= 1.0
    first = batches[0]
    assert first[0, 0, 0, 0] == 1.0                  # white paper
    assert first.min() == -1.0                       # full ink
    expected = data.images[:32, :, :, None].astype(np.float32) / 127.5 - 1.0
    np.testing.assert_allclose(first, expected, atol=1e-6)


def test_to_tf_dataset_labels_shuffle_and_path(seed16_build):
    ds = to_tf_dataset(seed16_build.path, batch_size=50, shuffle=True, seed=1, with_labels=True)
    images, labels = next(iter(ds))
    assert images.shape == (50, 32, 32, 1) and labels.shape == (50,)
    assert set(labels.numpy()) <= set(range(16))
    data = load_dataset(seed16_build.path)
    assert not np.array_equal(labels.numpy(), data.labels[:50])      # shuffled
    unbatched = [b.numpy() for b in to_tf_dataset(data, 64, shuffle=False, drop_remainder=False)]
    assert [len(b) for b in unbatched] == [64, 64, 32]


@pytest.mark.parametrize("batch_size, message", [(161, "larger than the dataset"),
                                                 (0, "positive"), (2.5, "positive")])
def test_to_tf_dataset_bad_batch_size(seed16_build, batch_size, message):
    with pytest.raises(DatasetError, match=message):
        to_tf_dataset(seed16_build.path, batch_size=batch_size)


def test_exclude_fonts_leaves_named_fonts_out(two_fonts, tmp_path):
    out = tmp_path / "x.npz"
    result = build_dataset(charset="가나", fonts=tuple(map(str, two_fonts)), augment=("none",),
                           exclude_fonts=(two_fonts[0].stem,), out=str(out), workers=1,
                           progress=False, preview=False)
    assert load_dataset(out).fonts == [two_fonts[1].stem]
    assert result.manifest["parameters"]["exclude_fonts"] == [two_fonts[0].stem]
    with pytest.raises(DatasetError, match="--exclude-fonts names Nope, which are not among"):
        build_dataset(charset="가", fonts=tuple(map(str, two_fonts)), exclude_fonts=("Nope",),
                      out=str(out), progress=False)
    with pytest.raises(DatasetError, match="leaves no font to render"):
        build_dataset(charset="가", fonts=tuple(map(str, two_fonts)),
                      exclude_fonts=tuple(p.stem for p in two_fonts), out=str(out),
                      progress=False)
