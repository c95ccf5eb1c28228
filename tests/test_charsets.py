"""Tests for :mod:`korean_gan.data.charsets`."""

from __future__ import annotations

import itertools

import pytest

from korean_gan.data.charsets import (
    Charset,
    CharsetError,
    all11172,
    compose,
    decompose,
    from_chars,
    is_hangul_syllable,
    ks2350,
    resolve_charset,
)


def ks_x_1001_syllables_by_decoding() -> list[str]:
    """The KS X 1001 Hangul block, derived from the code table rather than from encode lengths.

    KS X 1001 puts its 2,350 syllables in rows 0x30-0x48 (EUC-KR lead bytes 0xB0-0xC8), 94 cells
    each (trail bytes 0xA1-0xFE), in dictionary order, which is also Unicode order.
    """
    return [bytes([lead, trail]).decode("euc-kr")
            for lead in range(0xB0, 0xC9) for trail in range(0xA1, 0xFF)]


# --- named sets -------------------------------------------------------------------------------

def test_seed16_is_the_reference_list_in_order():
    expected = ("가", "나", "다", "라", "마", "바", "아", "사", "자", "차", "타", "파", "하", "전",
                "미", "정")
    charset = resolve_charset("seed16")
    assert charset.chars == expected
    assert charset.name == "seed16"
    assert [charset.index(c) for c in expected] == list(range(16))


def test_ks2350_matches_the_ks_x_1001_code_table():
    charset = resolve_charset("ks2350")
    decoded = ks_x_1001_syllables_by_decoding()
    assert len(charset) == 2350 == len(decoded)
    assert charset.chars == tuple(decoded)
    assert charset.chars[0] == "가" and charset.chars[-1] == "힝"
    assert "가" in charset.chars and "힝" in charset.chars


@pytest.mark.parametrize("char", ["똠", "햏", "힣"])
def test_ks2350_excludes_syllables_outside_ks_x_1001(char):
    # Not in the decoded code table, and the codec needs more than one 2-byte cell for it.
    assert char not in ks_x_1001_syllables_by_decoding()
    assert len(char.encode("euc-kr")) != 2
    assert char not in ks2350().chars
    assert char in all11172().chars


def test_ks2350_is_in_code_point_order_and_distinct():
    chars = ks2350().chars
    assert list(chars) == sorted(set(chars))


def test_all11172_covers_the_whole_syllable_block():
    charset = all11172()
    assert len(charset) == 11172 == 19 * 21 * 28
    assert ord(charset[0]) == 0xAC00 and ord(charset[-1]) == 0xD7A3
    assert [ord(c) for c in charset] == list(range(0xAC00, 0xD7A4))
    assert set(ks2350().chars) < set(charset.chars)


# --- jamo composition -------------------------------------------------------------------------

@pytest.mark.parametrize("char, jamo", [
    ("가", (0, 0, 0)),
    ("각", (0, 0, 1)),
    ("힣", (18, 20, 27)),
    ("한", (18, 0, 4)),    # ㅎ ㅏ ㄴ
    ("글", (0, 18, 8)),    # ㄱ ㅡ ㄹ
    ("까", (1, 0, 0)),     # ㄲ
    ("와", (11, 9, 0)),    # ㅇ ㅘ
])
def test_decompose_known_values(char, jamo):
    assert decompose(char) == jamo
    assert compose(*jamo) == char


def test_decompose_enumerates_all_jamo_triples_in_order():
    triples = [decompose(c) for c in all11172()]
    assert triples == list(itertools.product(range(19), range(21), range(28)))
    assert all(compose(*t) == c for t, c in zip(triples, all11172(), strict=True))


def test_compose_default_final_is_none():
    assert compose(2, 0) == "나"


@pytest.mark.parametrize("bad", [(19, 0, 0), (0, 21, 0), (0, 0, 28), (-1, 0, 0)])
def test_compose_rejects_out_of_range_indices(bad):
    with pytest.raises(CharsetError, match="out of range"):
        compose(*bad)


@pytest.mark.parametrize("bad", ["A", "ㄱ", "가나", "", "\u0301"])
def test_decompose_rejects_non_syllables(bad):
    with pytest.raises(CharsetError, match="not a precomposed Hangul syllable"):
        decompose(bad)


def test_is_hangul_syllable_bounds():
    assert is_hangul_syllable("\uac00") and is_hangul_syllable("\ud7a3")
    assert not is_hangul_syllable("\uabff") and not is_hangul_syllable("\ud7a4")
    assert not is_hangul_syllable("ㄱ") and not is_hangul_syllable("가가")


# --- literal strings and files ----------------------------------------------------------------

def test_literal_string_keeps_order_and_ignores_whitespace():
    charset = resolve_charset(" 다가\t나\n")
    assert charset.chars == ("다", "가", "나")
    assert charset.text == "다가나"
    assert len(charset) == 3 and list(charset) == ["다", "가", "나"]


def test_sequence_and_charset_specs():
    assert resolve_charset(["나", "가"]).chars == ("나", "가")
    charset = Charset("mine", ("가",))
    assert resolve_charset(charset) is charset


@pytest.mark.parametrize("encoding, text", [
    ("utf-8", "가나다"),
    ("utf-8-sig", "가나다"),                    # with a byte order mark
    ("utf-8", "가 나\r\n다\n\n"),               # spaces, CRLF, blank lines
    ("utf-8-sig", "\n  가\n나\t다  \n"),
])
def test_charset_text_files(tmp_path, encoding, text):
    path = tmp_path / "my-set.txt"
    path.write_bytes(text.encode(encoding))
    charset = resolve_charset(str(path))
    assert charset.chars == ("가", "나", "다")
    assert charset.name == "my-set"


def test_charset_file_with_hangul_name(tmp_path):
    path = tmp_path / "글자.txt"
    path.write_text("하호", encoding="utf-8")
    assert resolve_charset(str(path)).chars == ("하", "호")


# --- errors -----------------------------------------------------------------------------------

@pytest.mark.parametrize("spec, named", [
    ("가A나", "'A' (U+0041)"),
    ("가ㄱ나", "'ㄱ' (U+3131)"),       # a compatibility jamo is not a syllable
    ("가나1", "'1' (U+0031)"),
])
def test_non_syllable_is_named(spec, named):
    with pytest.raises(CharsetError) as info:
        resolve_charset(spec)
    message = str(info.value)
    assert named in message
    assert "not a precomposed Hangul syllable" in message


def test_non_syllable_position_is_given():
    with pytest.raises(CharsetError, match="character 3"):
        from_chars("가나A")


def test_non_syllable_in_file_names_the_file(tmp_path):
    path = tmp_path / "set.txt"
    path.write_text("가\nB\n", encoding="utf-8")
    with pytest.raises(CharsetError) as info:
        resolve_charset(str(path))
    assert "'B' (U+0042)" in str(info.value) and str(path) in str(info.value)


def test_duplicate_syllable_is_refused():
    with pytest.raises(CharsetError) as info:
        resolve_charset("가나다가")
    message = str(info.value)
    assert "'가'" in message and "twice" in message
    assert "1" in message and "4" in message


@pytest.mark.parametrize("spec", ["   \n", "\t"])
def test_whitespace_only_literal_is_refused(spec):
    with pytest.raises(CharsetError, match="unknown charset"):
        resolve_charset(spec)


def test_empty_charset_is_refused(tmp_path):
    with pytest.raises(CharsetError, match="empty"):
        from_chars("")
    path = tmp_path / "blank.txt"
    path.write_text(" \n\n ", encoding="utf-8")
    with pytest.raises(CharsetError, match="empty"):
        resolve_charset(str(path))


@pytest.mark.parametrize("name", ["missing.txt", "sub/missing", "없는파일.txt"])
def test_missing_charset_file(tmp_path, name):
    spec = str(tmp_path / name)
    with pytest.raises(CharsetError, match="does not exist"):
        resolve_charset(spec)


def test_non_utf8_charset_file(tmp_path):
    path = tmp_path / "euckr.txt"
    path.write_bytes("가나다".encode("euc-kr"))
    with pytest.raises(CharsetError) as info:
        resolve_charset(str(path))
    assert "not UTF-8" in str(info.value) and str(path) in str(info.value)


@pytest.mark.parametrize("spec", ["seed17", "KS2350", "hangul"])
def test_unknown_charset_name(spec):
    with pytest.raises(CharsetError) as info:
        resolve_charset(spec)
    message = str(info.value)
    assert f"unknown charset {spec!r}" in message
    assert all(name in message for name in ("seed16", "ks2350", "all11172"))


def test_charset_index_of_foreign_syllable():
    with pytest.raises(CharsetError, match="not in charset 'seed16'"):
        resolve_charset("seed16").index("힣")


def test_charset_error_is_a_value_error():
    assert issubclass(CharsetError, ValueError)


def test_ks2350_holdout_split_is_fixed_disjoint_and_composable():
    from korean_gan.data.charsets import jamo_table, ks2350, ks2350_holdout, ks2350_train

    train, held = ks2350_train(), ks2350_holdout()
    assert (len(train), len(held)) == (2115, 235)
    assert set(train.chars).isdisjoint(held.chars)
    assert sorted(train.chars + held.chars) == list(ks2350().chars)
    # Every jamo of a held-out syllable is seen in training: held-out syllables are new
    # combinations of known parts, which is what the split measures.
    seen, unseen = jamo_table(train.chars), jamo_table(held.chars)
    for part in range(3):
        assert set(unseen[:, part]) <= set(seen[:, part])
    assert held.chars[:5] == tuple("갓객갯겆겪")  # the seeded choice never changes
    assert resolve_charset("ks2350-holdout").chars == held.chars


def test_a_long_literal_charset_is_not_mistaken_for_a_file_name():
    from korean_gan.data.charsets import ks2350

    text = "".join(ks2350().chars[:500])  # 1,500 bytes: longer than any file name may be
    assert resolve_charset(text).chars == ks2350().chars[:500]


def test_decomposed_text_means_its_syllables():
    import unicodedata

    nfd = unicodedata.normalize("NFD", "가나다")
    assert len(nfd) == 6
    assert resolve_charset(nfd).chars == ("가", "나", "다")
