"""A real-text demo corpus built only from text every Python machine already has.

Why: `cgit quickstart` and the storage benchmarks need a corpus that compresses, chunks and
deduplicates like real training text. Random bytes would not compress at all and lorem ipsum
would compress far too well, so both would make the benchmark numbers lie. We also must not
download anything or ship data, so the text comes from the Python standard library (source
and docstrings), `/usr/share/doc` and the man pages, when those exist.

Guarantees:
  * For a given machine and seed the document stream is deterministic, and prefix-stable:
    `target_bytes` only decides where it stops, so a larger target starts with exactly the
    documents of a smaller one.
  * Every document text in one stream is unique, and every `id` is unique across seeds.
  * Choices are derived from xxhash of (seed, counter), never from `random`, whose streams
    may change between Python versions.
  * Memory is bounded by the harvested text pool (cached in-process, a few hundred MB at
    most) plus one 64-bit hash per emitted document; the corpus itself is streamed.
"""

from __future__ import annotations

import bisect
import functools
import gzip
import html
import inspect
import os
import re
import struct
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import xxhash

from corpusgit.errors import BadInput, CorpusGitError

SCHEMA: pa.Schema = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("lang", pa.string(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("n_chars", pa.int64(), nullable=False),
    ]
)

DOC_ROOT = Path("/usr/share/doc")
MAN_ROOT = Path("/usr/share/man")

# Document lengths, in characters: typical of web and code documents in pre-training sets,
# and long enough (several KB) for row-level storage overheads to be realistic.
DEFAULT_MIN_CHARS = 2000
DEFAULT_MAX_CHARS = 8000
# Pieces longer than this are split at line breaks: documents are then made of several
# blocks, and the text carried over after a cut is never longer than a default-minimum
# document.
PARA_MAX_CHARS = 2000
# Recombined documents copy runs of up to this many consecutive paragraphs, so they read as
# excerpts rather than as shuffled sentences.
RUN_MAX_PARAGRAPHS = 3
# Only this much of a file is inspected to guess its script: enough letters to be sure,
# cheap enough for tens of thousands of files.
LANG_SAMPLE_CHARS = 4096
# A non-Latin script must cover this share of letters before a text is labelled with it;
# English changelogs with a few translators' names stay "en".
SCRIPT_MIN_SHARE = 0.3
# Kana appear in every Japanese text but make up a minority of its letters (Han do the rest).
KANA_MIN_SHARE = 0.05
# Debian ships one near-identical licence per package; thousands of copies would make the
# corpus far more compressible than real training text.
DOC_SKIP_NAMES = frozenset({"copyright"})
# Data and markup formats that hold no prose worth training on.
DOC_SKIP_SUFFIXES = frozenset({".json", ".js", ".css", ".svg", ".map", ".xpm", ".pdf", ".ps"})
DOC_CODE_SUFFIXES = frozenset({".c", ".h", ".pl", ".py", ".sh", ".awk", ".cocci", ".el", ".rb"})
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})
# Rows per Parquet row group written by write_corpus: ~10 MB of text, big enough for good
# zstd ratios and small enough to stream.
WRITE_BATCH_ROWS = 2048
BINARY_MAGIC = (b"%PDF", b"%!PS", b"\x89PNG", b"GIF8", b"\x1f\x8b", b"PK\x03\x04")

# Stream tags keep the hash-derived choices of different purposes independent.
_STREAM_ORDER, _STREAM_LEN, _STREAM_ANCHOR, _STREAM_PICK, _STREAM_RUN = range(5)
_KEY = struct.Struct("<QQQ")
_MASK64 = (1 << 64) - 1
_SEP = "\n\n"

_PARAGRAPH_BREAK = re.compile(r"\n[ \t\f]*\n(?:[ \t\f]*\n)*")
_DOCSTRING = re.compile(
    r"""(?:\A(?:[ \t]*(?:\#[^\n]*)?\n)*|:[ \t]*(?:\#[^\n]*)?\n[ \t]+)"""
    r"""[rRuU]?(\"\"\"|''')(.*?)\1""",
    re.DOTALL,
)
_HTML_DROP = re.compile(r"<(script|style)\b.*?</\1\s*>|<!--.*?-->", re.DOTALL | re.IGNORECASE)
_HTML_BLOCK = re.compile(r"</?(?:p|div|h[1-6]|li|ul|ol|pre|table|tr|br|hr|dd|dt)\b[^>]*>", re.I)
_HTML_TAG = re.compile(r"<[^>]+>")
_LETTER = re.compile(r"[^\W\d_]")
_NON_LATIN = re.compile("[^\x00-\u024f\u2000-\u206f]+")
_KANA = re.compile("[\u3040-\u30ff]")
_SCRIPTS = (
    ("ko", re.compile("[\uac00-\ud7af\u1100-\u11ff]")),
    ("zh", re.compile("[\u4e00-\u9fff]")),
    ("ru", re.compile("[\u0400-\u04ff]")),
    ("el", re.compile("[\u0370-\u03ff]")),
    ("he", re.compile("[\u0590-\u05ff]")),
    ("ar", re.compile("[\u0600-\u06ff]")),
    ("th", re.compile("[\u0e00-\u0e7f]")),
    ("hi", re.compile("[\u0900-\u097f]")),
)
_ROFF_ESCAPE = re.compile(
    r"\\(?:f(?:\(..|\[[^\]]*\]|.)|s[-+]?\d+|\*(?:\(..|\[[^\]]*\]|.)|\((..)|\[([^\]]*)\]|(.))"
)
_ROFF_GLYPHS = {
    "em": "\u2014", "en": "\u2013", "bu": "\u2022", "aq": "'", "dq": '"', "lq": "\u201c",
    "rq": "\u201d", "oq": "\u2018", "cq": "\u2019", "co": "\u00a9", "hy": "-", "ti": "~",
    "ha": "^", "mu": "\u00d7", "rs": "\\", "ga": "`", "aa": "\u00b4", "de": "\u00b0",
}
_ROFF_CHARS = {"-": "-", "e": "\\", "\\": "\\", " ": " ", "~": " ", "0": " ", ".": ".", "'": "'"}
_ROFF_BREAKS = frozenset({"PP", "LP", "P", "SH", "SS", "TP", "IP", "HP", "sp", "TH", "SY"})
_ROFF_LINE_BREAKS = frozenset({"br", "nf", "fi", "EX", "EE", "RS", "RE", "TS", "TE"})
_ROFF_HEADINGS = frozenset({"SH", "SS"})
_ROFF_TEXT = frozenset({"B", "I", "SM", "SB", "UR", "MT", "OP"})
_ROFF_ALTERNATING = frozenset({"BR", "BI", "IB", "IR", "RB", "RI"})
_ROFF_DEFINITIONS = frozenset({"de", "de1", "am", "ig"})


@dataclass(frozen=True, slots=True)
class _Unit:
    """One file read one way: a .py file is both a python-source and a python-docstring unit."""

    source: str
    path: str
    lang: str | None  # None: guess from the text's script


@dataclass(frozen=True, slots=True)
class _Harvest:
    """A unit's paragraphs; `digest` lets identical files (git vs git-man) count once."""

    digest: int
    lang: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Pool:
    """All harvested paragraphs, grouped by (source, lang) so recombination stays in one kind."""

    paragraphs: tuple[str, ...]
    starts: tuple[int, ...]  # group g spans paragraphs[starts[g]:starts[g + 1]]
    groups: tuple[tuple[str, str], ...]


def _choose(seed: int, stream: int, a: int, b: int, n: int) -> int:
    """A number in [0, n) fixed by (seed, stream, a, b): stable across Python versions."""
    return xxhash.xxh3_64_intdigest(_KEY.pack(stream, a, b), seed=seed & _MASK64) % n


def _read_text(path: str) -> str | None:
    """Decode a (possibly gzipped) file as UTF-8, or None when it is binary or not UTF-8."""
    data = Path(path).read_bytes()
    if path.endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError):
            return None
    if data.startswith(BINARY_MAGIC) or b"\x00" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _split_paragraphs(text: str) -> tuple[str, ...]:
    """Split at blank lines, then cut long blocks at line breaks to at most PARA_MAX_CHARS."""
    pieces: list[str] = []
    for block in _PARAGRAPH_BREAK.split(text.replace("\r\n", "\n")):
        block = block.strip("\n").rstrip()
        if block.strip():
            pieces.extend(_cut_block(block))
    return tuple(pieces)


def _cut_block(block: str) -> Iterator[str]:
    """Yield pieces of `block` no longer than PARA_MAX_CHARS, preferring line breaks."""
    while len(block) > PARA_MAX_CHARS:
        cut = block.rfind("\n", 0, PARA_MAX_CHARS)
        if cut <= 0:
            cut = block.rfind(" ", 0, PARA_MAX_CHARS)
        if cut <= 0:
            cut = PARA_MAX_CHARS
        head, block = block[:cut].rstrip(), block[cut:].lstrip("\n")
        if head.strip():
            yield head
    if block.strip():
        yield block


def _detect_lang(text: str, default: str) -> str:
    """Guess a language code from the dominant non-Latin script; crude, but needs no data."""
    sample = text[:LANG_SAMPLE_CHARS]
    foreign = "".join(_NON_LATIN.findall(sample))
    if len(foreign) < KANA_MIN_SHARE * len(sample):
        return default  # cheap exit for English text with a few dashes or accented names
    letters = len(_LETTER.findall(sample)) or 1
    if len(_KANA.findall(foreign)) >= KANA_MIN_SHARE * letters:
        return "ja"
    counts = [(len(pattern.findall(foreign)), lang) for lang, pattern in _SCRIPTS]
    best, lang = max(counts)
    return lang if best >= SCRIPT_MIN_SHARE * letters else default


class _RoffText:
    """Output of a crude roff-to-text conversion, joining filled lines as troff would."""

    __slots__ = ("lines", "fill", "joinable", "tag_next")

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.fill = True  # between .nf and .fi lines are kept as they are
        self.joinable = False  # whether the next text line continues the last one
        self.tag_next = False  # the line after .TP is a tag and stands alone

    def text(self, line: str) -> None:
        """Add a line of text, continuing the current output line in fill mode."""
        if self.fill and self.joinable:
            self.lines[-1] += " " + line
        else:
            self.lines.append(line)
        self.joinable = self.fill and not self.tag_next
        self.tag_next = False

    def paragraph(self) -> None:
        """End the current paragraph."""
        self.lines.append("")
        self.joinable = False

    def macro(self, name: str, args: str) -> None:
        """Apply one request or macro: breaks, fill mode and macros that carry text."""
        if name in ("nf", "EX", "fi", "EE"):
            self.fill = name in ("fi", "EE")
        if name in _ROFF_BREAKS:
            self.paragraph()
        elif name in _ROFF_LINE_BREAKS:
            self.joinable = False
        self.tag_next = self.tag_next or name == "TP"
        args = args.replace('"', " ").strip()
        if not args:
            return
        if name in _ROFF_HEADINGS:
            self.lines.append(args)
            self.joinable = False
        elif name in _ROFF_TEXT:
            self.text(args)
        elif name in _ROFF_ALTERNATING:
            self.text("".join(args.split()))


def _strip_roff(src: str) -> str:
    """Turn man-page roff into plain text: keep text lines and macro arguments, drop the rest."""
    out = _RoffText()
    in_definition = False
    for line in src.splitlines():
        if in_definition:
            in_definition = not line.startswith("..")
        elif line.startswith((".", "'")):
            name, _, args = line[1:].strip().partition(" ")
            in_definition = name in _ROFF_DEFINITIONS
            out.macro(name, args)
        elif line.strip():
            out.text(line)
        else:
            out.paragraph()
    return _ROFF_ESCAPE.sub(_roff_escape, "\n".join(out.lines))


def _roff_escape(match: re.Match[str]) -> str:
    """Replace one roff escape with the character it prints, or nothing."""
    glyph = match.group(1) or match.group(2)
    if glyph is not None:
        return _ROFF_GLYPHS.get(glyph, "")
    char = match.group(3)
    return _ROFF_CHARS.get(char, "") if char is not None else ""


def _strip_html(src: str) -> str:
    """Crude tag stripping: block tags become paragraph breaks, entities are unescaped."""
    text = _HTML_BLOCK.sub("\n\n", _HTML_DROP.sub("", src))
    return html.unescape(_HTML_TAG.sub("", text))


def _docstrings(src: str) -> str:
    """Module, class and function docstrings, found by regex: ast.parse is ~30x slower."""
    found = (inspect.cleandoc(m.group(2)) for m in _DOCSTRING.finditer(src))
    return _SEP.join(doc for doc in found if doc)


def _doc_text(path: str) -> str | None:
    """Readable text of a /usr/share/doc file, or None for binaries and data formats."""
    text = _read_text(path)
    if text is not None and Path(path.removesuffix(".gz")).suffix.lower() in HTML_SUFFIXES:
        return _strip_html(text)
    return text


def _unit_text(unit: _Unit) -> str | None:
    """The raw text of a unit, already converted from roff or HTML where needed."""
    if unit.source == "man":
        text = _read_text(unit.path)
        return None if text is None else _strip_roff(text)
    if unit.source == "usr-share-doc":
        return _doc_text(unit.path)
    text = _read_text(unit.path)
    if text is not None and unit.source == "python-docstring":
        return _docstrings(text)
    return text


@functools.lru_cache(maxsize=None)
def _harvest(unit: _Unit) -> _Harvest:
    """Read and split one unit once per process; later streams and seeds reuse it."""
    text = _unit_text(unit) or ""
    lang = unit.lang or _detect_lang(text, "en")
    return _Harvest(xxhash.xxh3_64_intdigest(text.encode("utf-8", "replace")), lang,
                    _split_paragraphs(text))


def _walk(root: Path) -> Iterator[Path]:
    """Regular files under root in sorted order, not following symlinks (no double counting)."""
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in ("site-packages", "__pycache__"))
        for name in sorted(files):
            path = Path(directory, name)
            if not path.is_symlink():
                yield path


def _stdlib_units(root: Path) -> Iterator[_Unit]:
    """Each stdlib .py file twice (source, docstrings) plus the CJK sample texts of its tests."""
    for path in _walk(root):
        if path.suffix == ".py":
            yield _Unit("python-source", str(path), "code")
            yield _Unit("python-docstring", str(path), None)
        elif path.parent.name == "cjkencodings" and path.name.endswith("-utf8.txt"):
            yield _Unit("python-test-data", str(path), None)


def _doc_units(root: Path) -> Iterator[_Unit]:
    """Package documentation, minus licences, binaries and data formats."""
    for path in _walk(root):
        name = path.name.removesuffix(".gz")
        suffix = Path(name).suffix.lower()
        if name in DOC_SKIP_NAMES or suffix in DOC_SKIP_SUFFIXES:
            continue
        yield _Unit("usr-share-doc", str(path), "code" if suffix in DOC_CODE_SUFFIXES else None)


def _man_units(root: Path) -> Iterator[_Unit]:
    """Gzipped man pages; a locale directory (man/zh_CN/man5) names the language."""
    for path in _walk(root):
        if path.suffix != ".gz":
            continue
        top = path.relative_to(root).parts[0]
        yield _Unit("man", str(path), None if top.startswith("man") else top.split("_")[0])


@functools.lru_cache(maxsize=1)
def _list_units() -> tuple[_Unit, ...]:
    """Every text unit on this machine, in a fixed order."""
    units = list(_stdlib_units(Path(sysconfig.get_paths()["stdlib"])))
    for root, lister in ((DOC_ROOT, _doc_units), (MAN_ROOT, _man_units)):
        if root.is_dir():
            units.extend(lister(root))
    return tuple(units)


@functools.lru_cache(maxsize=1)
def _pool() -> _Pool:
    """Every distinct unit's paragraphs, grouped; built only once the real text runs out."""
    grouped: dict[tuple[str, str], list[str]] = {}
    seen: set[int] = set()
    for unit in _list_units():
        harvest = _harvest(unit)
        if harvest.paragraphs and harvest.digest not in seen:
            seen.add(harvest.digest)
            grouped.setdefault((unit.source, harvest.lang), []).extend(harvest.paragraphs)
    if not grouped:
        raise CorpusGitError("no text to build a demo corpus from",
                             hint="the Python standard library sources (.py files) are missing")
    groups = tuple(sorted(grouped))
    starts = [0]
    for group in groups:
        starts.append(starts[-1] + len(grouped[group]))
    paragraphs = tuple(p for group in groups for p in grouped[group])
    return _Pool(paragraphs, tuple(starts), groups)


class _Builder:
    """Accumulates paragraphs and cuts one document at a hash-chosen length.

    Cutting inside a paragraph (at a space or line break) rather than between paragraphs
    means two seeds practically never produce the same document: their cuts would have to
    fall on the same character twice in a row.
    """

    __slots__ = ("parts", "length", "target", "min_chars")

    def __init__(self, target: int, min_chars: int, first: str = "") -> None:
        self.parts: list[str] = [first] if first else []
        self.length = len(first)
        self.target = target
        self.min_chars = min_chars

    def add(self, paragraph: str) -> bool:
        """Append a paragraph; True once there is enough text to cut a document."""
        self.length += len(paragraph) + (len(_SEP) if self.parts else 0)
        self.parts.append(paragraph)
        return self.length >= self.target

    def cut(self) -> tuple[str, str]:
        """The document (min_chars..target chars) and the text left over after it."""
        text = _SEP.join(self.parts)
        window = (self.min_chars, self.target + 1)
        at = max(text.rfind(" ", *window), text.rfind("\n", *window))
        at = at if at > 0 else self.target
        head = text[:at].rstrip()
        if len(head) < self.min_chars:  # whitespace run straddling min_chars: cut mid-word
            at = self.target
            head = text[:at]
        return head, text[at:].lstrip()


def _target_len(seed: int, counter: int, min_chars: int, max_chars: int) -> int:
    """Hash-chosen document length, uniform in [min_chars, max_chars]."""
    return min_chars + _choose(seed, _STREAM_LEN, counter, 0, max_chars - min_chars + 1)


def _iter_natural(seed: int, min_chars: int, max_chars: int) -> Iterator[tuple[str, str, str]]:
    """Consecutive text of real files, visited in a seed-dependent order.

    Files of one (source, lang) kind run on into each other, so short man pages still end up
    in a document instead of being dropped; a kind's last partial document is dropped.
    """
    units = sorted(_list_units(), key=lambda u: xxhash.xxh3_64_intdigest(
        f"{_STREAM_ORDER}:{u.source}:{u.path}".encode(), seed=seed & _MASK64))
    open_docs: dict[tuple[str, str], _Builder] = {}
    seen: set[int] = set()
    started = 0
    for unit in units:
        harvest = _harvest(unit)
        if harvest.digest in seen:
            continue
        seen.add(harvest.digest)
        group = (unit.source, harvest.lang)
        builder = open_docs.get(group) or _Builder(
            _target_len(seed, started, min_chars, max_chars), min_chars)
        for paragraph in harvest.paragraphs:
            while builder.add(paragraph):
                text, paragraph = builder.cut()
                yield group[0], group[1], text
                started += 1
                builder = _Builder(_target_len(seed, started, min_chars, max_chars), min_chars)
                if not paragraph:
                    break
        open_docs[group] = builder


def _recombined(seed: int, attempt: int, pool: _Pool, min_chars: int, max_chars: int
                ) -> tuple[str, str, str]:
    """One document of hash-chosen runs of paragraphs, all from the anchor paragraph's group."""
    anchor = _choose(seed, _STREAM_ANCHOR, attempt, 0, len(pool.paragraphs))
    g = bisect.bisect_right(pool.starts, anchor) - 1
    lo, hi = pool.starts[g], pool.starts[g + 1]
    builder = _Builder(_target_len(seed, attempt, min_chars, max_chars), min_chars)
    start, pick = anchor, 0
    while True:
        run = 1 + _choose(seed, _STREAM_RUN, attempt, pick, RUN_MAX_PARAGRAPHS)
        for paragraph in pool.paragraphs[start: min(start + run, hi)]:
            if builder.add(paragraph):
                source, lang = pool.groups[g]
                return source, lang, builder.cut()[0]
        pick += 1
        start = lo + _choose(seed, _STREAM_PICK, attempt, pick, hi - lo)


def _iter_texts(seed: int, min_chars: int, max_chars: int) -> Iterator[tuple[str, str, str]]:
    """Real consecutive text first, then endless recombinations once it is used up."""
    yield from _iter_natural(seed, min_chars, max_chars)
    pool = _pool()
    attempt = 0
    while True:
        attempt += 1
        yield _recombined(seed, attempt, pool, min_chars, max_chars)


def _iter_sized(target_bytes: int, seed: int, min_chars: int, max_chars: int
                ) -> Iterator[tuple[dict[str, str | int], int]]:
    """Unique documents with their UTF-8 size, until their total reaches target_bytes."""
    if seed < 0 or not 0 < min_chars <= max_chars:
        raise BadInput(f"need seed >= 0 and 0 < min_chars <= max_chars, got "
                         f"seed={seed} min_chars={min_chars} max_chars={max_chars}")
    seen: set[int] = set()
    total = index = 0
    texts = _iter_texts(seed, min_chars, max_chars)
    while total < target_bytes:
        source, lang, text = next(texts)
        encoded = text.encode("utf-8")
        digest = xxhash.xxh3_64_intdigest(encoded)
        if digest in seen:
            continue
        seen.add(digest)
        doc: dict[str, str | int] = {"id": f"doc-{seed}-{index:09d}", "source": source,
                                     "lang": lang, "text": text, "n_chars": len(text)}
        yield doc, len(encoded)
        total += len(encoded)
        index += 1


def iter_documents(target_bytes: int, seed: int = 0, min_chars: int = DEFAULT_MIN_CHARS,
                   max_chars: int = DEFAULT_MAX_CHARS) -> Iterator[dict[str, str | int]]:
    """Yield unique real-text documents until their UTF-8 text totals at least target_bytes.

    Deterministic for a seed on a given machine, and prefix-stable: a larger target yields the
    same documents first, so "the next N documents" of a seed are new ones. Ids look like
    ``doc-<seed>-<index>`` and so never clash between seeds.

    Args:
        target_bytes: stop once the texts' UTF-8 bytes reach this; 0 yields nothing.
        seed: selects file order, document lengths and recombinations; must be >= 0.
        min_chars: shortest document (except where a file kind has less text in total).
        max_chars: longest document.

    Yields:
        Dicts with the fields of SCHEMA.
    """
    for doc, _ in _iter_sized(target_bytes, seed, min_chars, max_chars):
        yield doc


def _batch(rows: list[dict[str, str | int]]) -> pa.RecordBatch:
    """Column-wise RecordBatch of SCHEMA from row dicts."""
    return pa.RecordBatch.from_arrays(
        [pa.array([row[f.name] for row in rows], type=f.type) for f in SCHEMA], schema=SCHEMA)


def iter_batches(target_bytes: int, batch_rows: int = 2048, seed: int = 0
                 ) -> Iterator[pa.RecordBatch]:
    """The documents of `iter_documents` as RecordBatches of at most batch_rows rows.

    Why: writers and `cgit` ingest stream batches, so a corpus of any size never has to fit in
    memory; 2048 rows of ~5 KB keep a batch near 10 MB.
    """
    rows: list[dict[str, str | int]] = []
    for doc in iter_documents(target_bytes, seed=seed):
        rows.append(doc)
        if len(rows) == batch_rows:
            yield _batch(rows)
            rows = []
    if rows:
        yield _batch(rows)


def _open_writer(path: Path) -> pq.ParquetWriter:
    """A Parquet writer with every option spelled out: pyarrow defaults change across releases."""
    return pq.ParquetWriter(
        path, SCHEMA, version="2.6", compression="zstd", compression_level=3,
        use_dictionary=["source", "lang"], write_statistics=True, data_page_size=1 << 20,
    )


def _iter_shard_batches(target_bytes: int, shards: int, seed: int
                        ) -> Iterator[tuple[int, pa.RecordBatch]]:
    """Row batches tagged with their shard: shard k gets the k-th 1/shards of the text bytes."""
    rows: list[dict[str, str | int]] = []
    shard = written = 0
    for doc, size in _iter_sized(target_bytes, seed, DEFAULT_MIN_CHARS, DEFAULT_MAX_CHARS):
        due = min(shards - 1, written * shards // max(target_bytes, 1))
        if rows and (due != shard or len(rows) == WRITE_BATCH_ROWS):
            yield shard, _batch(rows)
            rows = []
        shard = due
        rows.append(doc)
        written += size
    if rows:
        yield shard, _batch(rows)


def write_corpus(out_dir: Path, target_bytes: int, shards: int, seed: int = 0) -> list[Path]:
    """Stream the documents into `shards` Parquet files of roughly equal text bytes.

    Files are named ``part-00000.parquet`` onwards; every shard file is written, even when
    the target is too small to give it rows, so callers can rely on the count. Rows keep the
    `iter_documents` order, so shard k holds a contiguous stretch of the stream, and one
    batch of WRITE_BATCH_ROWS rows is the most ever held in memory.

    Returns:
        The shard paths in order.
    """
    if shards < 1:
        raise BadInput(f"shards must be >= 1, got {shards}")
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"part-{i:05d}.parquet" for i in range(shards)]
    writer, current = _open_writer(paths[0]), 0
    try:
        for shard, batch in _iter_shard_batches(target_bytes, shards, seed):
            while current < shard:
                writer.close()
                current += 1
                writer = _open_writer(paths[current])
            writer.write_batch(batch)
    finally:
        writer.close()
    for path in paths[current + 1:]:
        _open_writer(path).close()
    return paths
