"""corpusgit.detect.encoding, .terms and .language: what they find, and that the vectorised
counts equal the Python references."""

from __future__ import annotations

import sys
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpusgit.detect import language
from corpusgit.detect.encoding import KINDS, count_encoding_issues, find_encoding_issues
from corpusgit.detect.terms import TermList, count_terms, find_terms
from corpusgit.errors import BadInput


def test_encoding_issues_by_kind() -> None:
    text = "caf\ufffd ok\x00\x07 tab\tand newline\n fine; Ã©tÃ© and â€™quoteâ€\x9d; Ð¼Ð¸Ñ€"
    found = [(i.kind, i.text) for i in find_encoding_issues(text)]
    assert ("replacement", "\ufffd") in found
    assert [t for k, t in found if k == "control"] == ["\x00", "\x07", "\x9d"]
    assert {t for k, t in found if k == "mojibake"} >= {"Ã©", "â€™", "Ð¼"}
    assert find_encoding_issues("naïve café, Ελληνικά, 数据 — “quotes” ✓") == []
    with pytest.raises(BadInput, match="unknown encoding issue"):
        find_encoding_issues(text, ["mojibak"])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.sampled_from(list("aé ÃÂâ€™©\ufffd\x00\x1f\x7f\x85\t\n中")), max_size=10).map("".join), min_size=1, max_size=6))
def test_encoding_counts_equal_reference(texts: list[str]) -> None:
    counts = count_encoding_issues(pa.array(texts + [None]))
    for i, text in enumerate(texts):
        found = find_encoding_issues(text)
        for kind in KINDS:
            assert counts[kind][i] == sum(1 for f in found if f.kind == kind)
    assert all(counts[k][-1] == 0 for k in KINDS)


def test_term_list_file_cjk_case_and_longest_first(tmp_path: Path) -> None:
    path = tmp_path / "terms.txt"
    path.write_text("# comment\n\n坏\n坏人\nBad.Word\n", encoding="utf-8")
    terms = TermList.load(path)
    assert terms.terms == ("坏", "坏人", "Bad.Word")
    assert [m.text for m in find_terms("他是坏人吗？很坏。bad.word, BadXWord", terms)] == ["坏人", "坏", "bad.word"]
    strict = TermList.load(path, ignore_case=False)
    assert [m.text for m in find_terms("bad.word Bad.Word", strict)] == ["Bad.Word"]
    assert terms.digest != strict.digest
    assert count_terms(pa.array(["坏人坏人", None, "Bad.Word"]), terms).tolist() == [2, 0, 1]


@pytest.mark.parametrize(("content", "message"), [(None, "not found"), ("# only comments\n\n", "has no terms"), (b"\xff\xfe bad", "cannot read")])
def test_bad_term_list_files(tmp_path: Path, content: str | bytes | None, message: str) -> None:
    path = tmp_path / "terms.txt"
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    elif isinstance(content, bytes):
        path.write_bytes(content)
    with pytest.raises(BadInput, match=message):
        TermList.load(path)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["a", "A", "b", "坏", "坏人", ".", " ", "x.y"]), max_size=10).map("".join), min_size=1, max_size=5))
def test_term_counts_equal_reference(texts: list[str]) -> None:
    terms = TermList(("坏人", "坏", "a.b", "x.y", "B"), ignore_case=True)
    assert count_terms(pa.array(texts), terms).tolist() == [len(find_terms(t, terms)) for t in texts]


def test_language_detection() -> None:
    found = language.detect([
        "The quick brown fox jumps over the lazy dog while the farmer watches.",
        "敏捷的棕色狐狸跳过了懒狗，农夫在一旁看着。",
        "Der schnelle braune Fuchs springt über den faulen Hund.",
        "   ",
    ])
    assert found == ["en", "zh", "de", language.UNDETERMINED]


def test_missing_language_package_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "py3langid", None)  # the import of the third-party package fails
    assert not language.available()
    with pytest.raises(BadInput, match="py3langid is not installed") as info:
        language.require("the language check")
    assert info.value.hint == "pip install 'corpusgit[lang]'"


def test_model_cache_is_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    first = language._load()
    (cached,) = (tmp_path / "corpusgit").glob("py3langid-*")
    assert sorted(p.name for p in cached.iterdir()) == ["classes.npy", "done", "nextmove.npy", "nextmove_row.npy", "out_feat.npy", "pc.npy", "ptc.npy"]
    second = language._load()
    text = "Ceci est une phrase écrite en français, sans aucun doute."
    assert first.classify(text)[0] == second.classify(text)[0] == "fr"


def test_unwritable_cache_falls_back_to_the_wheel_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert language._load().classify("This is plainly an English sentence about corpora.")[0] == "en"
