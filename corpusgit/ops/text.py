"""Text measures shared by the built-in operators, vectorised with pyarrow compute (RE2).

Chinese, Japanese and Korean text has no spaces between words, so a "word" here is a
whitespace-separated token of other scripts *or* a single CJK character. Word counts, n-grams and
stop-word rules then mean the same thing for ``"the cat sat"`` and ``"猫坐在垫子上"``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from corpusgit.errors import BadInput

CJK = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}"
CJK_CHAR = f"[{CJK}]"
SPACE = r"\s\p{Z}"  # RE2's \s is ASCII only; \p{Z} adds the ideographic space U+3000 and kin
OTHER_WORD = rf"[^{SPACE}{CJK}]+"
ALPHA_WORD = rf"[^{SPACE}{CJK}]*\p{{L}}[^{SPACE}{CJK}]*"  # a CJK character is a letter, so it matches alone
# Gopher's English stop words, plus the commonest CJK function characters (的 of, 了 done, 是 is,
# 在 at, 和 and, の of, は/が/を/に particles, 은/는/이/가 particles): real prose has several.
STOP_WORDS = r"(?i)\b(?:the|be|to|of|and|that|have|with)\b|[的了是在和有这也就のはがをに은는이가을를]"
SYMBOLS = r"#|\.\.\.|…"
BULLET_LINE = rf"^[{SPACE}]*(?:[•●○▪‣◦·\-–*]|\d+[.)])[{SPACE}]"
ELLIPSIS_LINE = rf"(?:\.\.\.|…)[{SPACE}]*$"
TERMINAL_LINE = rf"[.!?。！？\"'”’」』)）][{SPACE}]*$"
SENTENCE_END = r"[.!?。！？]+"


def text_column(batch: pa.RecordBatch, column: str, op_name: str) -> pa.Array:
    """The named string column, nulls read as empty text; a clear error when it is missing."""
    if column not in batch.schema.names:
        raise BadInput(f"{op_name}: no column {column!r} in the input", hint=f"set -c column=NAME; columns are: {', '.join(batch.schema.names)}")
    arr = batch.column(column)
    if not pa.types.is_string(arr.type):
        raise BadInput(f"{op_name}: column {column!r} is {arr.type}, not text", hint="choose a string column with -c column=NAME")
    return arr.fill_null("") if arr.null_count else arr


def normalise(arr: pa.Array, lowercase: bool = True, nfkc: bool = True, whitespace: bool = True) -> pa.Array:
    """NFKC (full-width letters, ligatures), collapsed whitespace, optional case folding."""
    if nfkc:
        arr = pc.utf8_normalize(arr, "NFKC")
    if whitespace:
        arr = pc.utf8_trim_whitespace(pc.replace_substring_regex(arr, f"[{SPACE}]+", " "))
    if lowercase:
        arr = pc.utf8_lower(arr)
    return arr


def words(arr: pa.Array, lowercase: bool = True) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """Word tokens of every row: (distinct normalised words, word index per token, row offsets).

    Rows are split on whitespace (after spacing out CJK characters, in the rows that have any);
    normalisation (NFKC, case, punctuation removal) then runs once per *distinct* word, which is
    far cheaper than rewriting the text: a corpus batch has a few thousand distinct words for
    every million tokens. Tokens that normalise to nothing (pure punctuation) are dropped.
    """
    has_cjk = pc.match_substring_regex(arr, CJK_CHAR).to_numpy(zero_copy_only=False)
    if has_cjk.any():
        spaced = pc.replace_substring_regex(arr.filter(pa.array(has_cjk)), f"({CJK_CHAR})", r" \1 ")
        arr = pc.replace_with_mask(arr, pa.array(has_cjk), spaced)
    lists = pc.utf8_split_whitespace(arr)
    encoded = pc.dictionary_encode(pc.list_flatten(lists))
    vocab = pc.utf8_normalize(encoded.dictionary, "NFKC")
    vocab = pc.replace_substring_regex(pc.utf8_lower(vocab) if lowercase else vocab, r"[^\p{L}\p{N}]+", "")
    real = pc.greater(pc.utf8_length(vocab), 0).to_numpy(zero_copy_only=False)
    ids = encoded.indices.to_numpy()
    keep = real[ids]
    parent = pc.list_parent_indices(lists).to_numpy()[keep]
    offsets = np.zeros(len(arr) + 1, dtype=np.int64)
    np.cumsum(np.bincount(parent, minlength=len(arr)), out=offsets[1:])
    return vocab, ids[keep], offsets


def _count(arr: pa.Array, pattern: str) -> np.ndarray:
    counts: np.ndarray = pc.count_substring_regex(arr, pattern).to_numpy(zero_copy_only=False).astype(np.int64)
    return counts


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.divide(num, den, out=np.zeros(len(num), dtype=np.float64), where=den > 0)
    return out


class Measures:
    """Lazily computed per-row measures of one text column (each computed at most once)."""

    def __init__(self, arr: pa.Array) -> None:
        self.arr = arr
        self._cache: dict[str, np.ndarray] = {}
        self._lines: tuple[pa.Array, np.ndarray] | None = None

    def get(self, name: str) -> np.ndarray:
        if name not in self._cache:
            if name not in SIGNALS:
                raise BadInput(f"unknown text signal '{name}'", hint="signals are: " + ", ".join(SIGNALS))
            self._cache[name] = SIGNALS[name](self)
        return self._cache[name]

    def lines(self) -> tuple[pa.Array, np.ndarray]:
        """Non-blank lines, flattened, with the row each belongs to."""
        if self._lines is None:
            lists = pc.split_pattern(self.arr, "\n")
            flat = pc.list_flatten(lists)
            parent = pc.list_parent_indices(lists).to_numpy()
            keep = pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(flat)), 0)
            self._lines = pc.filter(flat, keep), parent[keep.to_numpy(zero_copy_only=False)]
        return self._lines

    def per_row(self, line_mask: pa.Array | np.ndarray) -> np.ndarray:
        """Count of lines per row where ``line_mask`` holds."""
        _, parent = self.lines()
        mask = np.asarray(line_mask.to_numpy(zero_copy_only=False) if isinstance(line_mask, pa.Array) else line_mask, dtype=bool)
        counts: np.ndarray = np.bincount(parent[mask], minlength=len(self.arr)).astype(np.int64)
        return counts


def _n_lines(m: Measures) -> np.ndarray:
    lines, _ = m.lines()
    return m.per_row(np.ones(len(lines), dtype=bool))


def _mean_word_length(m: Measures) -> np.ndarray:
    other = _count(m.arr, OTHER_WORD)
    chars = pc.utf8_length(m.arr).to_numpy(zero_copy_only=False) - _count(m.arr, f"[{SPACE}]") - m.get("cjk_chars")
    return _ratio(chars.astype(np.float64), other)


def _dup_line_ratio(m: Measures) -> np.ndarray:
    """Share of a row's lines that repeat an earlier line of the same row (Gopher repetition)."""
    lines, parent = m.lines()
    if len(lines) == 0:
        return np.zeros(len(m.arr))
    ids = pc.dictionary_encode(pc.utf8_trim_whitespace(lines)).indices.to_numpy().astype(np.int64)
    key = parent.astype(np.int64) * (int(ids.max()) + 1) + ids
    unique_rows = np.bincount(parent[np.unique(key, return_index=True)[1]], minlength=len(m.arr))
    total = m.get("n_lines")
    return _ratio((total - unique_rows).astype(np.float64), total)


SIGNALS: dict[str, Callable[[Measures], np.ndarray]] = {
    "n_chars": lambda m: pc.utf8_length(m.arr).to_numpy(zero_copy_only=False).astype(np.int64),
    "cjk_chars": lambda m: _count(m.arr, CJK_CHAR),
    "n_words": lambda m: _count(m.arr, OTHER_WORD) + m.get("cjk_chars"),
    "n_lines": _n_lines,
    "n_sentences": lambda m: _count(m.arr, SENTENCE_END),
    "cjk_ratio": lambda m: _ratio(m.get("cjk_chars").astype(np.float64), m.get("n_words")),
    "mean_word_length": _mean_word_length,
    "symbol_ratio": lambda m: _ratio(_count(m.arr, SYMBOLS).astype(np.float64), m.get("n_words")),
    "alpha_word_ratio": lambda m: _ratio(_count(m.arr, ALPHA_WORD).astype(np.float64), m.get("n_words")),
    "stop_words": lambda m: _count(m.arr, STOP_WORDS),
    "bullet_line_ratio": lambda m: _ratio(m.per_row(pc.match_substring_regex(m.lines()[0], BULLET_LINE)).astype(np.float64), m.get("n_lines")),
    "ellipsis_line_ratio": lambda m: _ratio(m.per_row(pc.match_substring_regex(m.lines()[0], ELLIPSIS_LINE)).astype(np.float64), m.get("n_lines")),
    "terminal_line_ratio": lambda m: _ratio(m.per_row(pc.match_substring_regex(m.lines()[0], TERMINAL_LINE)).astype(np.float64), m.get("n_lines")),
    "dup_line_ratio": _dup_line_ratio,
    "has_lorem_ipsum": lambda m: pc.match_substring(m.arr, "lorem ipsum", ignore_case=True).to_numpy(zero_copy_only=False),
    "has_curly_bracket": lambda m: pc.match_substring(m.arr, "{").to_numpy(zero_copy_only=False),
}
