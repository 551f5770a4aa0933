"""Every built-in check, passing and failing, on real tables staged in a repository."""

from __future__ import annotations

import json
from collections.abc import Callable
import pyarrow as pa
import pytest

from corpusgit import Repo
from corpusgit.quality.report import CheckResult, Report
from corpusgit.quality.runner import check_worktree

Stage = Callable[..., None]


def run(repo: Repo, toml: str) -> Report:
    (repo.root / "cgit.toml").write_text(toml, encoding="utf-8")
    report = check_worktree(repo)
    assert report is not None
    return report


def result(report: Report, check: str) -> CheckResult:
    (found,) = [r for r in report.results if r.check == check]
    return found


def commit_base(repo: Repo, stage_table: Stage, table: pa.Table) -> None:
    stage_table(table)
    repo.commit("base", no_verify=True)


def test_schema(repo: Repo, stage_table: Stage, corpus: Callable[..., pa.Table]) -> None:
    commit_base(repo, stage_table, corpus(20))
    stage_table(corpus(20).drop_columns(["url"]).append_column("score", pa.array([1.0] * 20)))
    ok = result(run(repo, '[hooks.pre-commit.schema]\nrequired = { text = "string", score = "double" }\nallow_removed_columns = true\n'), "schema")
    assert ok.status == "pass", ok
    r = result(run(repo, '[hooks.pre-commit.schema]\nrequired = { text = "int64", title = "" }\nallow_new_columns = false\n'), "schema")
    assert r.status == "fail"
    assert "missing column 'title'" in r.message and "column 'text' is string, expected int64" in r.message
    assert "new column(s) score vs parent" in r.message and "removed column(s) url vs parent" in r.message
    stage_table(corpus(20).set_column(0, "id", pa.array([str(i) for i in range(20)])))
    retyped = result(run(repo, "[hooks.pre-commit.schema]\n"), "schema")
    assert retyped.status == "fail" and "id int64 -> string" in retyped.message


def test_nulls(repo: Repo, stage_table: Stage, corpus: Callable[..., pa.Table]) -> None:
    table = corpus(50)
    table = table.set_column(2, "source", pa.array([None if i % 10 == 0 else "web" for i in range(50)]))
    stage_table(table)
    r = result(run(repo, "[hooks.pre-commit.nulls]\n"), "nulls")
    assert r.status == "fail" and r.measures[0].name == "null ratio (source)" and r.measures[0].value == pytest.approx(0.1)
    assert r.offending == 5 and r.samples[0].excerpt.startswith("Document 0 ")
    assert result(run(repo, "[hooks.pre-commit.nulls]\nmax_ratio = 0.2\n"), "nulls").status == "pass"
    assert result(run(repo, '[hooks.pre-commit.nulls]\ncolumns = ["text", "id"]\n'), "nulls").status == "pass"
    missing = result(run(repo, '[hooks.pre-commit.nulls]\ncolumns = ["nope"]\n'), "nulls")
    assert missing.status == "error" and "no column 'nope'" in missing.message


def test_duplicates_within_and_against_the_parent(repo: Repo, stage_table: Stage, corpus: Callable[..., pa.Table]) -> None:
    commit_base(repo, stage_table, corpus(30))
    base_texts = corpus(30).column("text").to_pylist()
    new = corpus(40, bad={35: base_texts[3], 36: base_texts[4], 39: corpus(40).column("text")[38].as_py()})
    stage_table(new)
    r = result(run(repo, "[hooks.pre-commit.dup]\ncheck = \"duplicates\"\nmax_parent_ratio = 0.0\n"), "dup")
    assert r.status == "fail"
    within, parent = r.measures
    assert within.value == pytest.approx(3 / 40)  # rows 35, 36 repeat rows 3, 4; row 39 repeats row 38
    assert parent.value == pytest.approx(2 / 10)  # of the 10 added rows, 2 repeat parent texts
    assert r.offending == 5
    rows = result(run(repo, "[hooks.pre-commit.dup]\ncheck = \"duplicates\"\ncolumn = \"*\"\n"), "dup")
    assert rows.status == "pass"  # ids differ, so no whole row repeats


def test_length(repo: Repo, stage_table: Stage, corpus: Callable[..., pa.Table]) -> None:
    table = corpus(100, bad={1: "tiny", 2: "x" * 500})
    table = table.set_column(1, "text", pa.array([None if i == 3 else t for i, t in enumerate(table.column("text").to_pylist())]))
    stage_table(table)
    r = result(run(repo, "[hooks.pre-commit.length]\nmin = 10\nmax = 200\npercentiles = { p50 = { min = 50, max = 100 } }\n"), "length")
    assert r.status == "fail" and r.offending == 2
    assert [(m.name, m.ok) for m in r.measures] == [("rows outside [10, 200] chars", False), ("p50 chars", True), ("p50 chars", True)]
    assert r.measures[0].value == pytest.approx(2 / 99)  # the null row is not counted
    assert result(run(repo, "[hooks.pre-commit.length]\nmin = 10\nmax = 200\nmax_outside = 0.05\n"), "length").status == "pass"
    words = result(run(repo, "[hooks.pre-commit.length]\nunit = \"words\"\npercentiles = { p50 = { min = 20 } }\n"), "length")
    assert words.status == "fail" and words.measures[0].name == "p50 words" and words.measures[0].value == 10


def test_language(repo: Repo, stage_table: Stage, corpus: Callable[..., pa.Table]) -> None:
    zh = "这是一个关于数据质量和语言模型训练的中文句子，内容很长。"
    stage_table(corpus(40, bad={i: zh for i in range(0, 40, 4)}))
    r = result(run(repo, '[hooks.pre-commit.language]\nallowed = ["en"]\nmax_other = 0.1\n'), "language")
    assert r.status == "fail" and r.measures[0].value == pytest.approx(0.25) and r.offending == 10
    assert "en 75.0%, zh 25.0%" in r.message
    ok = result(run(repo, '[hooks.pre-commit.language]\nallowed = ["en", "zh"]\nmin_share = { en = 0.7 }\nmax_share = { zh = 0.3 }\n'), "language")
    assert ok.status == "pass", ok.measures
    low = result(run(repo, '[hooks.pre-commit.language]\nmin_share = { en = 0.9 }\nseverity = "warn"\n'), "language")
    assert low.status == "warn"


def test_pii_reports_redacted_excerpts(repo: Repo, stage_table: Stage, corpus: Callable[..., pa.Table]) -> None:
    stage_table(corpus(20, bad={4: "Reach Zhang San at zhang.san@example.cn or 13812345678 any time."}))
    report = run(repo, "[hooks.pre-commit.pii]\n")
    r = result(report, "pii")
    assert r.status == "fail" and r.measures[0].value == 2 and "email 1, phone_cn 1" in r.message
    assert r.samples[0].excerpt == "Reach Zhang San at [email] or [phone_cn] any time."
    dumped = json.dumps(report.to_json())
    assert "zhang.san@example.cn" not in dumped and "13812345678" not in dumped
    assert result(run(repo, '[hooks.pre-commit.pii]\nkinds = ["ipv4"]\n'), "pii").status == "pass"
    assert result(run(repo, "[hooks.pre-commit.pii]\nmax_matches = 2\n"), "pii").status == "pass"


def test_banned_terms_match_cjk_inside_running_text(repo: Repo, stage_table: Stage, corpus: Callable[..., pa.Table]) -> None:
    (repo.root / "banned.txt").write_text("# one per line\n违禁词\nForbidden\n", encoding="utf-8")
    stage_table(corpus(20, bad={2: "这段文字里有违禁词出现", 7: "a FORBIDDEN word", 9: "forbiddenly glued"}))
    r = result(run(repo, '[hooks.pre-commit.banned-terms]\nterms = "banned.txt"\n'), "banned-terms")
    assert r.status == "fail" and r.measures[0].value == 3 and r.offending == 3
    assert r.samples[0].excerpt == "这段文字里有违禁词出现"
    strict = result(run(repo, '[hooks.pre-commit.banned-terms]\nterms = "banned.txt"\nignore_case = false\n'), "banned-terms")
    assert strict.measures[0].value == 1
    (repo.root / "banned.txt").write_text("# nothing\n", encoding="utf-8")
    empty = result(run(repo, '[hooks.pre-commit.banned-terms]\nterms = "banned.txt"\n'), "banned-terms")
    assert empty.status == "error" and "has no terms" in empty.message


def test_encoding(repo: Repo, stage_table: Stage, corpus: Callable[..., pa.Table]) -> None:
    stage_table(corpus(20, bad={1: "naÃ¯ve cafÃ© text", 2: "bell\x07 inside", 3: "lost \ufffd byte"}))
    r = result(run(repo, "[hooks.pre-commit.encoding]\n"), "encoding")
    assert r.status == "fail" and r.measures[0].value == pytest.approx(3 / 20)
    assert "replacement in 1 rows" in r.message and "control in 1 rows" in r.message and "mojibake in 1 rows" in r.message
    assert [s.excerpt for s in r.samples] == ["naÃ¯ve cafÃ© text", "bell␇ inside", "lost \ufffd byte"]
    only = result(run(repo, '[hooks.pre-commit.encoding]\nkinds = ["mojibake"]\nmax_ratio = 0.05\n'), "encoding")
    assert only.status == "pass" and only.measures[0].value == pytest.approx(1 / 20)


def test_row_delta(repo: Repo, stage_table: Stage, corpus: Callable[..., pa.Table]) -> None:
    stage_table(corpus(100))
    skipped = result(run(repo, "[hooks.pre-commit.row-delta]\n"), "row-delta")
    assert skipped.status == "skip" and skipped.message == "no parent version to compare with"
    assert result(run(repo, "[hooks.pre-commit.row-delta]\nmin_rows = 200\n"), "row-delta").status == "fail"
    repo.commit("base", no_verify=True)
    stage_table(corpus(100).slice(0, 40))
    r = result(run(repo, "[hooks.pre-commit.row-delta]\n"), "row-delta")
    assert r.status == "fail" and r.measures[0].value == pytest.approx(0.6) and "100 -> 40 rows: 60 removed, 0 added" in r.message
    stage_table(pa.concat_tables([corpus(100), corpus(100, start=100)]))
    grown = result(run(repo, "[hooks.pre-commit.row-delta]\nmax_added_ratio = 0.5\n"), "row-delta")
    assert grown.status == "fail" and grown.measures[1].value == pytest.approx(1.0)


def test_drift(repo: Repo, stage_table: Stage, corpus: Callable[..., pa.Table]) -> None:
    commit_base(repo, stage_table, corpus(200, start=1000))
    stage_table(corpus(200, start=2000))  # new rows, same length and language distribution
    same = result(run(repo, "[hooks.pre-commit.drift]\n"), "drift")
    assert same.status == "pass", same.measures
    longer = corpus(200, start=1000, bad={i: "Much longer documents now arrive from a new source. " * 20 for i in range(100)})
    stage_table(longer)
    r = result(run(repo, "[hooks.pre-commit.drift]\nlanguages = false\n"), "drift")
    assert r.status == "fail" and r.measures[0].name == "length drift (KS)" and r.measures[0].value == pytest.approx(0.5)
    psi = result(run(repo, '[hooks.pre-commit.drift]\nlanguages = false\nlength_test = "psi"\n'), "drift")
    assert psi.status == "fail" and psi.measures[0].name == "length drift (PSI)" and psi.measures[0].value > 1
    zh = "这是一个关于数据质量和语言模型训练的中文句子，内容很长。"
    stage_table(corpus(200, start=1000, bad={i: zh for i in range(80)}))
    lang = result(run(repo, "[hooks.pre-commit.drift]\nmax_length_drift = 1\n"), "drift")
    assert lang.status == "fail" and lang.measures[1].name == "language drift (PSI)" and not lang.measures[1].ok


def test_provenance(repo: Repo, stage_table: Stage, corpus: Callable[..., pa.Table]) -> None:
    table = corpus(10).append_column("license", pa.array(["cc-by"] * 8 + ["", None]))
    stage_table(table)
    r = result(run(repo, "[hooks.pre-commit.provenance]\n"), "provenance")
    assert r.status == "fail" and r.measures[1].value == pytest.approx(0.2) and r.offending == 2
    assert result(run(repo, '[hooks.pre-commit.provenance]\ncolumns = ["source"]\n'), "provenance").status == "pass"
    stage_table(corpus(10))
    gone = result(run(repo, "[hooks.pre-commit.provenance]\n"), "provenance")
    assert gone.status == "fail" and "no column 'license'" in gone.message


def test_checks_apply_only_to_their_paths(repo: Repo, stage_table: Stage, corpus: Callable[..., pa.Table]) -> None:
    stage_table(corpus(5, bad={0: "mail a@b.co"}), "data/web/a.parquet")
    stage_table(corpus(5, bad={0: "mail a@b.co"}), "data/code/a.parquet")
    report = run(repo, '[hooks.pre-commit.pii]\npaths = ["data/web/*"]\n')
    assert [(r.path, r.status) for r in report.results] == [("data/web/a.parquet", "fail")]


def test_duplicate_and_membership_helpers_are_exact_when_lo_lanes_collide() -> None:
    import numpy as np

    from hooks.duplicates import member, repeated

    lo = np.array([7, 7, 7, 3, 7, 3], dtype=np.uint64)  # equal lo lanes, different hi lanes
    hi = np.array([1, 2, 1, 5, 2, 6], dtype=np.uint64)
    assert repeated(hi, lo).tolist() == [False, False, True, False, True, False]
    assert member(hi, lo, np.array([2, 6], dtype=np.uint64), np.array([7, 3], dtype=np.uint64)).tolist() == [False, True, False, False, True, True]
    u = np.uint64
    assert member(np.array([2, 3], u), np.array([7, 7], u), np.array([1, 2], u), np.array([7, 7], u)).tolist() == [True, False]


def test_ks_statistic_counts_small_integers_and_sorts_the_rest() -> None:
    import numpy as np

    from hooks.drift import ks_statistic

    a = np.array([1, 2, 3, 4], dtype=np.int64)
    b = np.array([3, 4, 5, 6], dtype=np.int64)
    assert ks_statistic(a, b) == 0.5 == ks_statistic(a.astype(float), b.astype(float))
    assert ks_statistic(a, a) == 0.0 and ks_statistic(a, a[:0]) == 0.0


def test_samples_of_keyed_tables_show_the_key(repo: Repo, stage_table: Stage, corpus: Callable[..., pa.Table]) -> None:
    (repo.root / "cgit.toml").write_text('[tables."data/*"]\nkey = ["id"]\n[hooks.pre-commit.pii]\n', encoding="utf-8")
    stage_table(corpus(10, start=40, bad={3: "ping 10.1.2.3 please"}))
    (sample,) = result(check_worktree(repo) or pytest.fail("no report"), "pii").samples
    assert (sample.key, sample.excerpt, len(sample.row_id), sample.row) == ("id=43", "ping [ipv4] please", 32, 3)
