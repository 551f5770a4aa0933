"""Counting tokens and bytes per document, so budgets and weights can be in tokens.

The rules are deterministic functions of the text: ``chars/4`` is ceil(characters / 4) (a
common stand-in for BPE tokens on English), ``words`` counts maximal runs of non-space
characters (ASCII whitespace and Unicode space separators split words), and a
``tokenizer.json`` counts the ids the Hugging Face ``tokenizers`` library produces without
special tokens. A null text counts 0.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from corpusgit.errors import BadInput
from corpusgit.mix.spec import CountRule

_WORD = r"[^\s\p{Z}]+"  # RE2 syntax: \p{Z} adds Unicode spaces (NBSP, ideographic space) to \s

Counter = Callable[[pa.Array], np.ndarray]


def rule_identity(rule: CountRule) -> dict[str, str]:
    """What the mix id records about the rule: a tokenizer by its file's SHA-256, so editing
    the file makes a new mix rather than silently changing an old one."""
    if rule.rule != "tokenizer":
        return {"rule": rule.rule}
    assert rule.file is not None
    return {"rule": "tokenizer", "file": rule.file.name, "sha256": hashlib.sha256(_tokenizer_bytes(rule.file)).hexdigest()}


def _tokenizer_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise BadInput(f"tokenizer file {path} does not exist", hint="point 'tokenizer:' at a tokenizer.json (relative to the spec) or use chars/4") from None
    except OSError as exc:
        raise BadInput(f"cannot read tokenizer file {path}: {exc.strerror}", hint="check the file's permissions") from None


def token_counter(rule: CountRule) -> Counter:
    """A vectorised per-document token counter for ``rule``."""
    if rule.rule == "chars/4":
        return _chars_over_4
    if rule.rule == "words":
        return _words
    assert rule.file is not None
    return _tokenizer_counter(rule.file)


def byte_counts(text: pa.Array) -> np.ndarray:
    """UTF-8 bytes per document (the ``bytes`` budget unit)."""
    return _as_counts(pc.binary_length(text))


def _chars_over_4(text: pa.Array) -> np.ndarray:
    chars = _as_counts(pc.utf8_length(text))
    counts: np.ndarray = (chars + 3) // 4
    return counts


def _words(text: pa.Array) -> np.ndarray:
    return _as_counts(pc.count_substring_regex(text, _WORD))


def _as_counts(arr: Any) -> np.ndarray:
    counts: np.ndarray = arr.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    return counts


def _tokenizer_counter(path: Path) -> Counter:
    data = _tokenizer_bytes(path)
    try:
        from tokenizers import Tokenizer
    except ImportError:
        raise BadInput("counting tokens with a tokenizer.json needs the 'tokenizers' package",
                       hint="pip install 'corpusgit[tokenizers]', or use tokenizer: chars/4") from None
    try:
        tok = Tokenizer.from_str(data.decode("utf-8"))
    except Exception as exc:  # the library raises plain Exception subclasses for bad files
        raise BadInput(f"{path} is not a usable tokenizer.json: {exc}", hint="export it with tokenizer.save('tokenizer.json')") from None

    def count(text: pa.Array) -> np.ndarray:
        docs = [t if t is not None else "" for t in text.to_pylist()]
        return np.array([len(e.ids) for e in tok.encode_batch(docs, add_special_tokens=False)], dtype=np.int64)

    return count
