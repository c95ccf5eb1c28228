"""Text for line images: a corpus read from a file, or random lines drawn like real text.

A corpus is UTF-8 text with one line per image; lines are normalised to NFC (text typed on
macOS or with some input methods arrives decomposed) and blank lines are skipped. Random lines
are words of Hangul syllables, drawn uniformly from KS X 1001's 2,350 or with the syllable
frequencies of a corpus, with word lengths like those of written Korean, an occasional number
and punctuation at the end of a word. Nothing here knows of models or images.
"""

from __future__ import annotations

import os
import unicodedata
from collections import Counter
from pathlib import Path

import numpy as np

from korean_gan.data.charsets import is_hangul_syllable, ks2350

__all__ = ["CorpusError", "SyllableDistribution", "random_line", "read_corpus"]

# Syllables per word (eojeol) 1..6: most Korean words are 2-4 syllables long, with particles
# attached; a rough profile of running text.
WORD_LENGTHS = np.array([0.10, 0.28, 0.30, 0.18, 0.09, 0.05])
# Per word: the chance that it is a number, and that a punctuation mark follows it.
NUMBER_RATE = 0.05
PUNCTUATION_RATE = 0.08
PUNCTUATION = ".,?!"


class CorpusError(ValueError):
    """A corpus that cannot be read, with the file and the reason."""


def read_corpus(path: str | os.PathLike, max_chars: int = 200) -> list[str]:
    """The lines of a UTF-8 text file, NFC, stripped, blank lines skipped.

    Args:
        path: The file.
        max_chars: Longest line allowed (a recognizer's line, not a paragraph).

    Raises:
        CorpusError: a missing file, text that is not UTF-8, no line with text, or a line
            longer than ``max_chars`` (named by its number).
    """
    path = Path(path)
    if not path.is_file():
        raise CorpusError(f"corpus file {path} does not exist")
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise CorpusError(f"corpus file {path} is not UTF-8 text (byte {err.start}); save it "
                          "as UTF-8") from None
    lines = []
    for number, line in enumerate(raw.splitlines(), start=1):
        line = " ".join(unicodedata.normalize("NFC", line).split())
        if not line:
            continue
        if len(line) > max_chars:
            raise CorpusError(f"corpus file {path}, line {number}: {len(line)} characters; at "
                              f"most {max_chars} make one line image (split it)")
        lines.append(line)
    if not lines:
        raise CorpusError(f"corpus file {path} has no line with text")
    return lines


class SyllableDistribution:
    """Which syllables random lines use, and how often.

    Args:
        syllables: The syllables.
        weights: Their relative frequencies (default: uniform).
    """

    def __init__(self, syllables: list[str], weights: np.ndarray | None = None):
        self.syllables = list(syllables)
        weights = np.ones(len(self.syllables)) if weights is None else np.asarray(weights, float)
        self.p = weights / weights.sum()

    @classmethod
    def uniform_ks2350(cls) -> SyllableDistribution:
        """Every KS X 1001 syllable equally often."""
        return cls(list(ks2350().chars))

    @classmethod
    def from_corpus(cls, lines: list[str]) -> SyllableDistribution:
        """The syllable frequencies of a corpus (its Hangul syllables only).

        Raises:
            CorpusError: the corpus has no Hangul syllable.
        """
        counts = Counter(c for line in lines for c in line if is_hangul_syllable(c))
        if not counts:
            raise CorpusError("the corpus has no Hangul syllable to take frequencies from")
        syllables = sorted(counts)
        return cls(syllables, np.array([counts[s] for s in syllables], float))


def random_line(rng: np.random.Generator, distribution: SyllableDistribution,
                words: tuple[int, int] = (2, 5)) -> str:
    """One line of random words.

    Args:
        rng: The line's random generator.
        distribution: The syllables and their frequencies.
        words: Fewest and most words in the line.

    Returns:
        The line, e.g. ``"갑녹 혀쟁뜸은 12 섭다."``.
    """
    n_words = int(rng.integers(words[0], words[1] + 1))
    out = []
    for _ in range(n_words):
        if rng.random() < NUMBER_RATE:
            word = str(int(rng.integers(1, 10_000)))
        else:
            length = 1 + int(rng.choice(len(WORD_LENGTHS), p=WORD_LENGTHS))
            picks = rng.choice(len(distribution.syllables), size=length, p=distribution.p)
            word = "".join(distribution.syllables[i] for i in picks)
        if rng.random() < PUNCTUATION_RATE:
            word += PUNCTUATION[int(rng.integers(len(PUNCTUATION)))]
        out.append(word)
    return " ".join(out)
