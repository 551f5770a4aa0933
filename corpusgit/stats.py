"""Corpus composition (``cgit stats``): rows, bytes, chars, estimated tokens, language and source
mix, a length histogram, and the top domains when a url column exists.

Built on the quality checks' per-chunk facts, so stats are computed once per chunk and cached
under its id (``.cgit/cache/quality``): stats of the next version of a table only measure its
new chunks, and ``stats A B`` measures shared chunks once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from corpusgit.errors import RevisionNotFound
from corpusgit.objects import TABLE, read_commit, read_tree
from corpusgit.revparse import resolve_commit

if TYPE_CHECKING:
    from corpusgit.quality.facts import FactStore
    from corpusgit.quality.table import TableData
    from corpusgit.repo import Repo

BYTES_PER_TOKEN = 4.0  # BPE tokenizers average ~4 UTF-8 bytes per token on English web text
#                        (CJK: ~3 bytes = one character per token); an estimate, labelled as such
TOP = 10  # languages, sources and domains listed
TEXT_NAMES = ("text", "content", "document", "body")
SOURCE_NAMES = ("source", "dataset", "origin", "subset")
URL_NAMES = ("url", "uri", "link", "source_url")


@dataclass
class Stats:
    """Composition of a set of tables; counts add up, so tables merge by summing."""

    tables: int = 0
    rows: int = 0
    bytes: int = 0  # logical bytes of every column
    text_rows: int = 0  # rows with a non-null text value
    chars: int = 0
    text_bytes: int = 0
    languages: dict[str, int] = field(default_factory=dict)  # over the language sample
    sources: dict[str, int] = field(default_factory=dict)
    domains: dict[str, int] = field(default_factory=dict)
    length_bins: dict[int, int] = field(default_factory=dict)  # bin k: chars in [2**(k-1), 2**k); 0: empty
    columns: dict[str, str | None] = field(default_factory=dict)  # role -> column (for one table)

    @property
    def est_tokens(self) -> int:
        return int(round(self.text_bytes / BYTES_PER_TOKEN))

    @property
    def mean_chars(self) -> float:
        return self.chars / self.text_rows if self.text_rows else 0.0

    def add(self, other: Stats) -> None:
        self.tables += other.tables
        self.rows += other.rows
        self.bytes += other.bytes
        self.text_rows += other.text_rows
        self.chars += other.chars
        self.text_bytes += other.text_bytes
        for mine, theirs in ((self.languages, other.languages), (self.sources, other.sources), (self.domains, other.domains)):
            for k, v in theirs.items():
                mine[k] = mine.get(k, 0) + v
        for b, v in other.length_bins.items():
            self.length_bins[b] = self.length_bins.get(b, 0) + v

    def to_json(self) -> dict[str, object]:
        return {
            "tables": self.tables, "rows": self.rows, "bytes": self.bytes, "text_rows": self.text_rows, "chars": self.chars,
            "text_bytes": self.text_bytes, "est_tokens": self.est_tokens, "bytes_per_token": BYTES_PER_TOKEN,
            "mean_chars": round(self.mean_chars, 1),
            "languages": _top(self.languages, None, "sampled_rows"), "sources": _top(self.sources, None), "top_domains": _top(self.domains, TOP),
            "length_histogram": [{"min": lo, "max": hi, "rows": n} for lo, hi, n in histogram(self.length_bins)],
        }


@dataclass
class CorpusStats:
    rev: str
    commit: str
    path: str | None
    total: Stats
    per_table: dict[str, Stats]
    chunks_computed: int = 0
    chunks_cached: int = 0

    def to_json(self) -> dict[str, object]:
        return {
            "rev": self.rev, "commit": self.commit, "path": self.path, "total": self.total.to_json(),
            "tables": {p: {**s.to_json(), "columns": s.columns} for p, s in self.per_table.items()},
            "chunks": {"computed": self.chunks_computed, "cached": self.chunks_cached},
        }


def corpus_stats(
    repo: Repo,
    rev: str = "HEAD",
    path: str | None = None,
    text_column: str | None = None,
    source_column: str | None = None,
    url_column: str | None = None,
    facts: FactStore | None = None,
) -> CorpusStats:
    """Composition of the tables of ``rev`` (all, or those at/under ``path``)."""
    from corpusgit.quality.facts import FactStore
    from corpusgit.quality.table import TableData
    from corpusgit.table.model import TableObject

    oid = resolve_commit(repo, rev)
    tree = read_tree(repo.store, read_commit(repo.store, oid).tree, needed_by=f"commit {oid[:12]}")
    prefix = path.strip("/") if path else None
    chosen = sorted(p for p, e in tree.entries.items() if e.kind == TABLE and (prefix is None or p == prefix or p.startswith(prefix + "/")))
    if prefix is not None and not chosen:
        raise RevisionNotFound(f"no table at or under '{prefix}' in '{rev}'", hint=f"'cgit show {rev}' lists the files")
    store = facts or FactStore(repo.cgit / "cache" / "quality")
    total = Stats()
    per_table: dict[str, Stats] = {}
    for p in chosen:
        entry = tree.entries[p]
        table = TableObject.from_json(repo.store.get_meta(entry.id, needed_by=f"{rev}:{p}"))
        data = TableData.from_object(repo.store, p, table, store, entry.id)
        stats = table_stats(data, table.logical_bytes, text_column, source_column, url_column)
        per_table[p] = stats
        total.add(stats)
    return CorpusStats(rev, oid, prefix, total, per_table, store.chunks_computed, store.chunks_cached)


def table_stats(data: TableData, logical_bytes: int, text_column: str | None, source_column: str | None, url_column: str | None) -> Stats:
    """One table's composition; columns not given are recognised by their usual names."""
    from corpusgit.detect.language import UNDETERMINED, available
    from corpusgit.quality.facts import Fact, is_text_type

    text_cols = [f.name for f in data.schema if is_text_type(f.type)]
    text = text_column or _pick(text_cols, TEXT_NAMES, fallback=True)
    source = source_column or _pick(list(data.schema.names), SOURCE_NAMES)
    url = url_column or _pick(text_cols, URL_NAMES)
    stats = Stats(tables=1, rows=data.num_rows, bytes=logical_bytes, columns={"text": text, "source": source, "url": url})
    wanted = [Fact("chars", text), Fact("bytes", text)] if text else []
    if text and available():
        wanted.append(Fact("lang", text))
    if source:
        wanted.append(Fact("category", source))
    if url:
        wanted.append(Fact("domain", url))
    data.facts.ensure(data.work(wanted))
    if text:
        chars = data.fact(Fact("chars", text))["n"]
        valid = chars >= 0
        stats.text_rows = int(valid.sum())
        stats.chars = int(chars[valid].sum())
        stats.text_bytes = int(data.fact(Fact("bytes", text))["n"][valid].sum())
        stats.length_bins = length_bins(chars[valid])
        if available():
            stats.languages = {k: v for k, v in _counts(data.fact(Fact("lang", text))).items() if k != UNDETERMINED}
    if source:
        stats.sources = _counts(data.fact(Fact("category", source)))
    if url:
        stats.domains = _counts(data.fact(Fact("domain", url)))
    return stats


def _pick(names: list[str], preferred: tuple[str, ...], fallback: bool = False) -> str | None:
    lowered = {n.lower(): n for n in names}
    for want in preferred:
        if want in lowered:
            return lowered[want]
    return names[0] if fallback and names else None


def _counts(fact: dict[str, np.ndarray]) -> dict[str, int]:
    codes = fact["codes"]
    counts = np.bincount(codes[codes >= 0], minlength=len(fact["vocab"]))
    return {str(v): int(c) for v, c in zip(fact["vocab"], counts) if c}


def length_bins(chars: np.ndarray) -> dict[int, int]:
    """Rows per power-of-two length bin: bin k >= 1 holds [2**(k-1), 2**k) chars, bin 0 empty text."""
    if not len(chars):
        return {}
    k = np.zeros(len(chars), dtype=np.int64)
    positive = chars > 0
    k[positive] = np.floor(np.log2(chars[positive])).astype(np.int64) + 1
    counts = np.bincount(k)
    return {int(b): int(n) for b, n in enumerate(counts) if n}


def histogram(bins: dict[int, int]) -> list[tuple[int, int, int]]:
    """(min chars, max chars, rows) for every bin from the first to the last non-empty one."""
    if not bins:
        return []
    out = []
    for k in range(min(bins), max(bins) + 1):
        lo, hi = (0, 0) if k == 0 else (2 ** (k - 1), 2**k - 1)
        out.append((lo, hi, bins.get(k, 0)))
    return out


def _top(counts: dict[str, int], n: int | None, unit: str = "rows") -> list[dict[str, object]]:
    total = sum(counts.values())
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [{"name": k, unit: v, "share": round(v / total, 4) if total else 0.0} for k, v in (ranked[:n] if n else ranked)]


def compare_stats(
    repo: Repo, args: list[str], text_column: str | None = None, source_column: str | None = None, url_column: str | None = None
) -> list[CorpusStats]:
    """``cgit stats [REV] [PATH]`` (one result) or ``cgit stats A B [PATH]`` (two).

    With two arguments the second is a revision when it names one, else a path; shared chunks
    are measured once for both versions.
    """
    from corpusgit.errors import BadInput
    from corpusgit.quality.facts import FactStore

    if len(args) > 3:
        raise BadInput(f"stats takes at most three arguments, got {len(args)}", hint="cgit stats [REV] [PATH], or cgit stats A B [PATH]")
    revs, path = _split_args(repo, args)
    facts = FactStore(repo.cgit / "cache" / "quality")
    return [corpus_stats(repo, rev, path, text_column, source_column, url_column, facts) for rev in revs]


def _split_args(repo: Repo, args: list[str]) -> tuple[list[str], str | None]:
    if not args:
        return ["HEAD"], None
    if len(args) == 3:
        return args[:2], args[2]
    if len(args) == 2:
        return (args, None) if _is_revision(repo, args[1]) else ([args[0]], args[1])
    return ([args[0]], None) if _is_revision(repo, args[0]) else (["HEAD"], args[0])


def _is_revision(repo: Repo, spec: str) -> bool:
    try:
        resolve_commit(repo, spec)
    except RevisionNotFound:
        return False
    return True
