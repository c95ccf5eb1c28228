"""Tests for ``data build --extra``: a dataset of one's own handwriting (``korean-gan ingest``)
joins a font build as a style of its own."""

from __future__ import annotations

import numpy as np
import pytest

from korean_gan.data.charsets import Charset
from korean_gan.data.dataset import (
    DatasetError,
    GlyphDataset,
    build_dataset,
    load_dataset,
    save_dataset,
)


def _own_set(path, chars="다가각", style="mine", size=32):
    """A small set like ingest writes: one style, originals only, labels into ``chars``."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(4, size, size)).astype(np.uint8)
    labels = np.array([0, 1, 1, 2], np.int32)  # 가 twice, as two photos of one page give
    zeros = np.zeros(4, np.int32)
    save_dataset(GlyphDataset(images, labels, Charset("mine", tuple(chars)), [style], zeros,
                              ["orig"], zeros.copy()), path, {}, preview=False)
    return images


def test_extra_glyphs_join_the_build_as_their_own_style(tmp_path, two_fonts):
    images = _own_set(tmp_path / "mine.npz")
    result = build_dataset(charset="가나다", fonts=tuple(map(str, two_fonts)),
                           augment=("reference",),
                           extra=(str(tmp_path / "mine.npz"),), out=str(tmp_path / "b.npz"),
                           progress=False)
    data = load_dataset(result.path)
    assert data.fonts[-1] == "mine" and result.n_fonts == 3
    mine = data.subset(data.font_ids == 2)
    assert len(mine) == 3 * 5  # 각 is not in the charset; every glyph has the seed variants
    originals = mine.originals()
    # 다 (label 2 of the build) then 가 twice (label 0), in the set's order.
    assert originals.labels.tolist() == [2, 0, 0]
    assert (originals.images == images[:3]).all()
    entry = result.manifest["fonts"][-1]
    assert entry["name"] == "mine" and entry["glyphs"] == 3 and len(entry["sha256"]) == 64


@pytest.mark.parametrize("kwargs, message", [
    ({"style": "CuteFont-Regular"}, "already a font of the build"),
    ({"size": 48}, "has 48 px images"),
    ({"chars": "각갂갃"}, "holds no syllable of charset"),
])
def test_unusable_extra_sets_are_refused_before_writing(tmp_path, two_fonts, kwargs, message):
    _own_set(tmp_path / "mine.npz", **kwargs)
    with pytest.raises(DatasetError, match=message):
        build_dataset(charset="가나다", fonts=tuple(map(str, two_fonts)),
                      extra=(str(tmp_path / "mine.npz"),), out=str(tmp_path / "b.npz"),
                      progress=False)
    assert not (tmp_path / "b.npz").exists()
