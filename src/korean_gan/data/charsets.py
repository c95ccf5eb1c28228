"""Character sets: which Hangul syllables a dataset or a model covers.

A character set ("charset") is an ordered tuple of distinct precomposed Hangul syllables
(U+AC00..U+D7A3). The order is the label order: label ``i`` is ``charset[i]``.

Named sets:

* ``seed16``: the reference project's 16 syllables, in its order
  (가 나 다 라 마 바 아 사 자 차 타 파 하 전 미 정).
* ``ks2350``: the 2,350 syllables of KS X 1001 (the EUC-KR repertoire most Korean fonts draw).
* ``ks2350-train`` / ``ks2350-holdout``: a fixed seeded 90% / 10% split of ks2350; the default
  conditional model trains on the first and is measured on the second.
* ``all11172``: every modern Hangul syllable.

A charset can also be given as a path to a UTF-8 text file (whitespace separates nothing and is
ignored) or as a literal string such as ``"가나다"``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "Charset",
    "CharsetError",
    "NAMED_CHARSETS",
    "SEED16",
    "compose",
    "decompose",
    "from_chars",
    "is_hangul_syllable",
    "jamo_table",
    "ks2350",
    "ks2350_holdout",
    "ks2350_train",
    "all11172",
    "resolve_charset",
]

#: First and last precomposed Hangul syllable code points.
SYLLABLE_FIRST = 0xAC00
SYLLABLE_LAST = 0xD7A3
#: Number of initial consonants (choseong), vowels (jungseong) and finals incl. none (jongseong).
N_INITIAL, N_VOWEL, N_FINAL = 19, 21, 28

#: The reference project's syllables, in its order.
SEED16 = "가나다라마바아사자차타파하전미정"


class CharsetError(ValueError):
    """A character set specification that cannot be used, with the reason."""


@dataclass(frozen=True)
class Charset:
    """An ordered set of distinct Hangul syllables.

    Attributes:
        name: A short name for manifests and file names (``seed16``, the file stem, ...).
        chars: The syllables; label ``i`` is ``chars[i]``.
    """

    name: str
    chars: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.chars)

    def __iter__(self):
        return iter(self.chars)

    def __getitem__(self, index: int) -> str:
        return self.chars[index]

    def index(self, char: str) -> int:
        """Returns the label of ``char``; raises CharsetError if it is not in the set."""
        try:
            return self.chars.index(char)
        except ValueError:
            raise CharsetError(f"{char!r} is not in charset {self.name!r}") from None

    @property
    def text(self) -> str:
        """The syllables as one string."""
        return "".join(self.chars)


def is_hangul_syllable(char: str) -> bool:
    """True if ``char`` is one precomposed Hangul syllable (U+AC00..U+D7A3)."""
    return len(char) == 1 and SYLLABLE_FIRST <= ord(char) <= SYLLABLE_LAST


def decompose(char: str) -> tuple[int, int, int]:
    """Splits a syllable into its jamo indices (initial 0-18, vowel 0-20, final 0-27; 0 = none).

    Uses the Unicode composition formula: code = 0xAC00 + (initial*21 + vowel)*28 + final.

    Raises:
        CharsetError: if ``char`` is not a precomposed Hangul syllable.
    """
    if not is_hangul_syllable(char):
        raise CharsetError(f"{_describe(char)} is not a precomposed Hangul syllable")
    offset = ord(char) - SYLLABLE_FIRST
    return offset // (N_VOWEL * N_FINAL), (offset // N_FINAL) % N_VOWEL, offset % N_FINAL


def jamo_table(chars):
    """``(C, 3)`` int32 array of each syllable's (initial, vowel, final) indices.

    Raises:
        CharsetError: if a character is not a precomposed Hangul syllable.
    """
    import numpy as np

    return np.array([decompose(c) for c in chars], dtype=np.int32).reshape(-1, 3)


def compose(initial: int, vowel: int, final: int = 0) -> str:
    """Inverse of :func:`decompose`."""
    if not (0 <= initial < N_INITIAL and 0 <= vowel < N_VOWEL and 0 <= final < N_FINAL):
        raise CharsetError(f"jamo indices out of range: ({initial}, {vowel}, {final})")
    return chr(SYLLABLE_FIRST + (initial * N_VOWEL + vowel) * N_FINAL + final)


def all11172() -> Charset:
    """All 11,172 modern Hangul syllables in code point order."""
    chars = tuple(chr(c) for c in range(SYLLABLE_FIRST, SYLLABLE_LAST + 1))
    return Charset("all11172", chars)


def ks2350() -> Charset:
    """The 2,350 syllables of KS X 1001, in code point order.

    Python's ``euc-kr`` codec encodes every syllable (the rest via an 8-byte escape), so the
    KS X 1001 ones are exactly those whose encoding is two bytes long.
    """
    chars = tuple(c for c in all11172().chars if len(c.encode("euc-kr")) == 2)
    return Charset("ks2350", chars)


#: Seed and share of the fixed split of ks2350 into syllables a model trains on and syllables
#: kept from it, to measure how well it composes syllables it never saw.
HOLDOUT_SEED = 2350
HOLDOUT_FRACTION = 0.1


def _ks2350_split() -> tuple[tuple[str, ...], tuple[str, ...]]:
    import numpy as np

    chars = ks2350().chars
    n_held = round(len(chars) * HOLDOUT_FRACTION)
    held = set(np.random.default_rng(HOLDOUT_SEED).permutation(len(chars))[:n_held].tolist())
    return (tuple(c for i, c in enumerate(chars) if i not in held),
            tuple(c for i, c in enumerate(chars) if i in held))


def ks2350_train() -> Charset:
    """The 2,115 syllables of ks2350 outside :func:`ks2350_holdout` (code point order)."""
    return Charset("ks2350-train", _ks2350_split()[0])


def ks2350_holdout() -> Charset:
    """A fixed, seeded 10% of ks2350 (235 syllables) kept out of the default conditional
    model's training, so its accuracy on them measures composition from jamo."""
    return Charset("ks2350-holdout", _ks2350_split()[1])


NAMED_CHARSETS = {
    "seed16": lambda: Charset("seed16", tuple(SEED16)),
    "ks2350": ks2350,
    "ks2350-train": ks2350_train,
    "ks2350-holdout": ks2350_holdout,
    "all11172": all11172,
}


def _describe(char: str) -> str:
    if len(char) != 1:
        return repr(char)
    return f"{char!r} (U+{ord(char):04X})"


def from_chars(chars: Sequence[str] | str, name: str = "custom", source: str = "") -> Charset:
    """Validates syllables and returns them as a Charset.

    Whitespace is ignored. Anything else that is not a precomposed Hangul syllable, or a
    syllable given twice, is refused.

    Args:
        chars: The syllables, as a string or a sequence of one-character strings.
        name: The charset's name.
        source: Where the characters came from, for error messages (a file name).

    Raises:
        CharsetError: naming the offending character and its position.
    """
    where = f" in {source}" if source else ""
    if isinstance(chars, str):
        # Text saved decomposed (NFD: 가 as ᄀ + ᅡ, as macOS file names are) means syllables.
        chars = unicodedata.normalize("NFC", chars)
    seen: dict[str, int] = {}
    out: list[str] = []
    for position, char in enumerate(chars, start=1):
        if isinstance(char, str) and char.isspace():
            continue
        if not isinstance(char, str) or not is_hangul_syllable(char):
            raise CharsetError(
                f"character {position}{where}, {_describe(str(char))}, is not a precomposed "
                "Hangul syllable (U+AC00..U+D7A3); remove it"
            )
        if char in seen:
            raise CharsetError(
                f"syllable {char!r}{where} is given twice (characters {seen[char]} and "
                f"{position}); list each syllable once"
            )
        seen[char] = position
        out.append(char)
    if not out:
        raise CharsetError(f"the charset{where or ' ' + repr(name)} is empty; give at least one "
                           "Hangul syllable")
    return Charset(name, tuple(out))


def resolve_charset(spec: str | Charset | Sequence[str]) -> Charset:
    """Turns a user's charset specification into a Charset.

    Args:
        spec: A Charset; a named set (``seed16``, ``ks2350``, ``all11172``); a path to a UTF-8
            text file of syllables; or a literal string of syllables such as ``"가나다"``.

    Returns:
        The validated Charset.

    Raises:
        CharsetError: the spec is none of these, or holds something that is not a syllable.
    """
    if isinstance(spec, Charset):
        return spec
    if not isinstance(spec, str):
        return from_chars(list(spec))
    if spec in NAMED_CHARSETS:
        return NAMED_CHARSETS[spec]()
    path = Path(spec)
    # A missing file with a Hangul name ("글자.txt") must be reported as missing, not as a
    # literal charset with a bad character '.'.
    suffix = path.suffix[1:]
    looks_like_path = "/" in spec or "\\" in spec or (suffix.isascii() and suffix.isalnum())
    try:
        is_file = path.is_file()
    except OSError:  # a long literal charset is no valid file name ("File name too long")
        is_file = False
    composed = unicodedata.normalize("NFC", spec)
    if any(is_hangul_syllable(c) for c in composed) and not is_file and not looks_like_path:
        return from_chars(composed)
    if is_file:
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            raise CharsetError(
                f"charset file {spec} is not UTF-8 text (byte {err.start}); save it as UTF-8"
            ) from None
        return from_chars(text, name=path.stem, source=str(spec))
    if path.suffix or "/" in spec or "\\" in spec:
        raise CharsetError(f"charset file {spec} does not exist")
    names = ", ".join(NAMED_CHARSETS)
    raise CharsetError(
        f"unknown charset {spec!r}: use one of {names}, a UTF-8 text file, or Hangul syllables"
    )
