"""Tests for :mod:`korean_gan.data.fonts`: the bundled catalog, bad font files, drawn syllables."""

from __future__ import annotations

import gc
import hashlib
import shutil
import warnings

import pytest

from korean_gan.data.charsets import all11172, ks2350
from korean_gan.data.fonts import (
    FONT_SUFFIXES,
    FontError,
    FontSkippedWarning,
    drawn_syllables,
    find_font_files,
    load_faces,
    read_catalog,
)

#: The ``bad_fonts`` kinds (see conftest.py) that are not usable fonts.
UNUSABLE_KINDS = ("random", "truncated", "empty", "folder", "no_hangul")

# --- the bundled catalog ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalog():
    entries = read_catalog()
    # The tests below loop over the catalog: an empty one must fail, not pass vacuously.
    assert len(entries) >= 20, f"the bundled catalog lists only {len(entries)} fonts"
    return entries


def _font_files(folder):
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in FONT_SUFFIXES)


def test_catalog_lists_exactly_the_bundled_font_files(catalog, font_dir):
    files = _font_files(font_dir)
    assert all(p.parent == font_dir for p in files), "fonts in subfolders are not catalogued"
    listed = [entry.file for entry in catalog]
    assert len(listed) == len(set(listed)), "a file is listed twice"
    assert sorted(listed) == sorted(p.name for p in files)


def test_catalog_sha256_matches_each_file(catalog, font_dir):
    for entry in catalog:
        digest = hashlib.sha256((font_dir / entry.file).read_bytes()).hexdigest()
        assert entry.sha256 == digest, entry.file


def test_no_two_bundled_fonts_are_the_same_file(font_dir):
    digests = [hashlib.sha256(p.read_bytes()).hexdigest() for p in _font_files(font_dir)]
    assert len(digests) >= 20
    assert len(digests) == len(set(digests))


def test_catalog_licences_are_ofl_with_their_text(catalog, font_dir):
    for entry in catalog:
        assert entry.license == "OFL-1.1", entry.file
        licence = font_dir / entry.license_file
        assert licence.is_file(), f"{entry.file}: {licence} is missing"
        text = licence.read_text(encoding="utf-8")
        assert "sil open font license" in text.lower(), licence
        assert "Version 1.1" in text, licence


def test_catalog_curated_columns(catalog):
    assert len(catalog) >= 20
    for entry in catalog:
        assert entry.style in {"handwriting", "brush", "display"}, entry.file
        assert entry.family and entry.source and entry.copyright, entry.file


def test_bundled_folder_is_under_100_mb(font_dir):
    total = sum(p.stat().st_size for p in font_dir.rglob("*") if p.is_file())
    assert 0 < total < 100 * 1024 * 1024


def test_catalog_drawn_counts_match_the_fonts(catalog, font_dir):
    ks, everything = set(ks2350().chars), all11172().chars
    faces = {face.path.name: face for face in load_faces([font_dir])}
    assert set(faces) == {entry.file for entry in catalog}
    for entry in catalog:
        drawn, skipped = drawn_syllables(faces[entry.file], everything)
        assert len(drawn) + len(skipped) == 11172
        assert entry.all11172_drawn == len(drawn), entry.file
        assert entry.ks2350_drawn == sum(c in ks for c in drawn), entry.file
        assert entry.ks2350_drawn <= 2350 and entry.ks2350_drawn <= entry.all11172_drawn


def test_read_catalog_errors(tmp_path):
    with pytest.raises(FontError, match="does not exist"):
        read_catalog(tmp_path / "nope.csv")
    bad = tmp_path / "catalog.csv"
    bad.write_text("file,family\nx.ttf,X\n", encoding="utf-8")
    with pytest.raises(FontError, match="columns"):
        read_catalog(bad)


# --- finding and loading faces ----------------------------------------------------------------

def test_load_faces_reads_names_and_hashes(two_fonts):
    faces = load_faces(two_fonts)
    assert [f.name for f in faces] == ["CuteFont-Regular", "DoHyeon-Regular"]
    assert [f.family for f in faces] == ["Cute Font", "Do Hyeon"]
    assert all(f.index == 0 for f in faces)
    for face, path in zip(faces, two_fonts, strict=True):
        assert face.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_find_font_files_folder_is_sorted_and_deduplicated(tmp_path, two_fonts):
    for path in reversed(two_fonts):
        shutil.copy(path, tmp_path / path.name)
    (tmp_path / "notes.txt").write_text("not a font", encoding="utf-8")
    found = find_font_files([tmp_path, tmp_path / two_fonts[0].name])
    assert [p.name for p in found] == [p.name for p in two_fonts]


def test_find_font_files_errors(tmp_path):
    with pytest.raises(FontError, match="does not exist"):
        find_font_files([tmp_path / "missing.ttf"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(FontError, match="holds no"):
        find_font_files([tmp_path / "empty"])


def test_bundled_keyword_finds_the_corpus(font_dir):
    expected = [p.resolve() for p in _font_files(font_dir)]
    assert len(expected) >= 20
    assert find_font_files(["bundled"]) == expected


def test_same_stem_in_two_folders_gets_distinct_names(tmp_path, two_fonts):
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        shutil.copy(two_fonts[0], tmp_path / sub / two_fonts[0].name)
    faces = load_faces([tmp_path / "a", tmp_path / "b"])
    assert [f.name for f in faces] == ["CuteFont-Regular~1", "CuteFont-Regular~2"]


# --- bad font files ---------------------------------------------------------------------------

@pytest.mark.parametrize("kind", UNUSABLE_KINDS)
def test_bad_font_is_skipped_with_a_warning(kind, bad_fonts, two_fonts):
    bad = bad_fonts(kind)
    with pytest.warns(FontSkippedWarning) as record:
        faces = load_faces([two_fonts[0], bad, two_fonts[1]])
    assert [f.path for f in faces] == [p.resolve() for p in two_fonts]
    messages = [str(w.message) for w in record if issubclass(w.category, FontSkippedWarning)]
    assert len(messages) == 1
    assert bad.name in messages[0] and "\n" not in messages[0]


@pytest.mark.parametrize("kind", ["random", "truncated", "empty"])
def test_bad_font_file_is_closed(kind, bad_fonts):
    bad = bad_fonts(kind)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        with pytest.raises(FontError, match="no usable font among: .*" + kind):
            load_faces([bad])
        gc.collect()
    leaks = [str(w.message) for w in record if issubclass(w.category, ResourceWarning)]
    assert leaks == []


@pytest.mark.parametrize("kind, reason", [
    ("random", "not a readable font"),
    ("truncated", "not a readable font"),
    ("empty", "not a readable font"),
    ("folder", "is a folder"),
    ("no_hangul", "maps no Hangul syllable"),
])
def test_bad_font_raises_when_strict(kind, reason, bad_fonts, two_fonts):
    bad = bad_fonts(kind)
    with pytest.raises(FontError) as info:
        load_faces([two_fonts[0], bad], strict=True)
    assert bad.name in str(info.value)
    assert reason in str(info.value)


def test_all_bad_fonts_in_a_folder(bad_fonts, two_fonts):
    paths = [bad_fonts(kind) for kind in UNUSABLE_KINDS]
    folder = paths[0].parent
    with pytest.warns(FontSkippedWarning) as record:
        with pytest.raises(FontError, match="no usable font"):
            load_faces([folder])
    warned = " ".join(str(w.message) for w in record)
    assert all(p.name in warned for p in paths)
    # A good font beside them is kept, alone.
    shutil.copy(two_fonts[0], folder / two_fonts[0].name)
    with pytest.warns(FontSkippedWarning):
        faces = load_faces([folder])
    assert [f.name for f in faces] == ["CuteFont-Regular"]


def test_only_bad_fonts_raise(bad_fonts):
    paths = [bad_fonts(kind) for kind in UNUSABLE_KINDS]
    with pytest.warns(FontSkippedWarning):
        with pytest.raises(FontError) as info:
            load_faces(paths)
    assert "no usable font" in str(info.value)
    assert all(p.name in str(info.value) for p in paths)


# --- fonts that map syllables they do not draw ------------------------------------------------

def test_fake_cmap_font_shared_and_empty_glyphs(fake_cmap_font):
    from fontTools.ttLib import TTFont

    cmap = TTFont(fake_cmap_font.path).getBestCmap()
    fake = fake_cmap_font.shared + fake_cmap_font.empty
    # The premise: every syllable asked about is in the cmap.
    assert all(ord(c) in cmap for c in fake_cmap_font.real + fake)

    (face,) = load_faces([fake_cmap_font.path])
    drawn, skipped = drawn_syllables(face, "힣" + fake + fake_cmap_font.real)
    assert drawn == list(fake_cmap_font.real)
    assert skipped == {
        "힣": "no cmap entry",
        **{c: "shared placeholder glyph" for c in fake_cmap_font.shared},
        fake_cmap_font.empty: "empty outline",
    }


def test_drawn_syllables_on_bundled_fonts(two_fonts):
    cute, dohyeon = load_faces(two_fonts)
    drawn, skipped = drawn_syllables(cute, ["똠", "가", "힝"])
    assert drawn == ["가", "힝"] and skipped == {"똠": "no cmap entry"}
    drawn, skipped = drawn_syllables(dohyeon, list("정하미"))
    assert drawn == list("정하미") and skipped == {}


def test_bm_font_maps_all_syllables_but_draws_few(font_dir):
    from fontTools.ttLib import TTFont

    (face,) = load_faces([font_dir / "BMJua-Regular.ttf"])
    cmap = TTFont(face.path, lazy=True).getBestCmap()
    assert all(cp in cmap for cp in range(0xAC00, 0xD7A4))
    drawn, skipped = drawn_syllables(face, all11172().chars)
    assert set(ks2350().chars) <= set(drawn)
    assert len(drawn) < 3000
    assert set(skipped.values()) == {"empty outline"}


# --- collections --------------------------------------------------------------------------------

def test_ttc_collection_yields_one_face_per_font(tmp_path, subset_font):
    from fontTools.ttLib import TTCollection

    collection = TTCollection()
    collection.fonts = [subset_font("CuteFont-Regular.ttf", "가나다", as_ttfont=True),
                        subset_font("DoHyeon-Regular.ttf", "가나다", as_ttfont=True)]
    path = tmp_path / "pair.ttc"
    collection.save(path)

    faces = load_faces([path])
    assert [(f.name, f.index) for f in faces] == [("pair#0", 0), ("pair#1", 1)]
    assert [f.family for f in faces] == ["Cute Font", "Do Hyeon"]
    assert {f.sha256 for f in faces} == {hashlib.sha256(path.read_bytes()).hexdigest()}
    for face in faces:
        assert drawn_syllables(face, "가나다라") == (["가", "나", "다"], {"라": "no cmap entry"})

    # Each face renders its own font: the two faces' glyphs differ.
    from korean_gan.data.render import GlyphRenderer

    first, second = (GlyphRenderer(f).render("가") for f in faces)
    assert first is not None and second is not None
    assert (first != second).any()
