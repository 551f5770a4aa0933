"""Language identification through ``py3langid``, whose model ships inside its wheel.

Nothing is downloaded at run time, so a run is reproducible offline. It is an optional extra
(``pip install 'corpusgit[lang]'``); the import happens only when an operator needs it.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from corpusgit.errors import CorpusGitError

UNDETERMINED = "und"  # ISO 639-2 code for text with nothing to identify (empty rows)
MAX_CHARS = 2000  # prefix classified: language is clear long before, and cost grows with length


class LanguageId:
    """A loaded model; construct once per run (loading takes ~0.3 s)."""

    def __init__(self, max_chars: int = MAX_CHARS) -> None:
        try:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier
        except ImportError as exc:
            raise CorpusGitError(
                "language identification needs the py3langid package",
                hint="install it with: pip install 'corpusgit[lang]'",
            ) from exc
        self._identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        self._max_chars = max_chars

    def classify(self, texts: pa.Array) -> tuple[pa.Array, np.ndarray]:
        """ISO 639-1 code and probability per row."""
        langs: list[str] = []
        scores = np.zeros(len(texts), dtype=np.float64)
        classify = self._identifier.classify
        for i, text in enumerate(texts.to_pylist()):
            sample = (text or "")[: self._max_chars]
            if not sample.strip():
                langs.append(UNDETERMINED)
                continue
            lang, score = classify(sample)
            langs.append(str(lang))
            scores[i] = float(score)
        return pa.array(langs, pa.string()), scores
