"""Language identification with py3langid, whose model ships inside its wheel: nothing is ever
downloaded at run time.

Why py3langid: fasttext-langdetect downloads its model on first use; lingua's wheels carry
~100 MB of models; resiliparse's fast detector misses Chinese. py3langid (pure Python plus
numpy, a 4.6 MB wheel) classifies 97 languages accurately from short prefixes.

Its model is xz-compressed inside the wheel and takes ~0.6 s to unpack, longer than an
incremental check of an append; so the unpacked arrays are kept once per user under
``$XDG_CACHE_HOME/corpusgit`` as ``.npy`` files and memory-mapped (~0.06 s) afterwards. The cache
is derived data, keyed by the py3langid version and model file size; when it cannot be written
the wheel's file is used.
"""

from __future__ import annotations

import io
import lzma
import os
import shutil
import tempfile
import threading
from array import array
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from corpusgit.errors import BadInput

PREFIX_CHARS = 256  # a paragraph: enough for a confident guess; py3langid's time grows linearly
UNDETERMINED = "und"  # ISO 639-2 "undetermined": empty or whitespace-only text
_TYPECODES = {2: "H", 4: "I", 8: "L"}  # numpy itemsize -> stdlib array code, as py3langid wants

_lock = threading.Lock()
_identifier: Any = None


def available() -> bool:
    """True when py3langid is installed (the ``lang`` extra)."""
    try:
        import py3langid  # noqa: F401
    except ImportError:
        return False
    return True


def require(what: str) -> None:
    """Refuse early, with the install command, when ``what`` needs language identification."""
    if not available():
        raise BadInput(f"{what} needs language identification, but py3langid is not installed", hint="pip install 'corpusgit[lang]'")


def detect(texts: Sequence[str]) -> list[str]:
    """ISO 639-1 code per text (``und`` for blank text); thread-safe once the model is loaded."""
    ident = _model()
    out = []
    for text in texts:
        head = text[:PREFIX_CHARS]
        out.append(ident.classify(head)[0] if head.strip() else UNDETERMINED)
    return out


def preload() -> None:
    """Load the model now (e.g. on a worker thread while other work proceeds)."""
    _model()


def _model() -> Any:
    global _identifier
    with _lock:
        if _identifier is None:
            require("language detection")
            _identifier = _load()
        return _identifier


def _load() -> Any:
    import numpy as np
    import py3langid
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    source = Path(MODEL_DIR) / MODEL_FILE
    cached = _cache_dir() / f"py3langid-{py3langid.__version__}-{source.stat().st_size}"
    if not (cached / "done").exists():
        try:
            _unpack(source, cached)
        except Exception:  # a read-only or full home directory only costs speed
            return LanguageIdentifier.from_model_file(MODEL_FILE)
    arrays = {name: np.load(cached / f"{name}.npy", mmap_mode="r", allow_pickle=False) for name in _ARRAYS}
    return LanguageIdentifier(
        arrays["ptc"],  # memory-mapped: only the rows of features a text hits are read
        np.asarray(arrays["pc"]),
        arrays["classes"].tolist(),
        _stdlib_array(arrays["nextmove"]),
        arrays["out_feat"].tolist(),
        tk_row=_stdlib_array(arrays["nextmove_row"]),
    )


_ARRAYS = ("ptc", "pc", "classes", "nextmove", "nextmove_row", "out_feat")  # py3langid 0.4's model layout


def _unpack(source: Path, target: Path) -> None:
    """Unpack the wheel's xz-compressed ``.npz`` into one ``.npy`` per array (loadable with
    ``mmap``), then publish the directory with one rename."""
    import numpy as np

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".py3langid-", dir=target.parent))
    try:
        with np.load(io.BytesIO(lzma.decompress(source.read_bytes())), allow_pickle=False) as data:
            for name in _ARRAYS:
                np.save(tmp / f"{name}.npy", data[name], allow_pickle=False)
        (tmp / "done").write_bytes(b"")
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # left over only when another process won the race


def _stdlib_array(values: Any) -> array[int]:
    out = array(_TYPECODES[values.dtype.itemsize])
    out.frombytes(memoryview(values.tobytes()))
    return out


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "corpusgit"

