"""Arrow plumbing the detectors share: one contiguous string array in, numpy masks out."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa


def string_array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One contiguous ``string`` array (large/dictionary/view encodings folded), as RE2 kernels
    want; chunked input is combined once here rather than per kernel call."""
    import pyarrow as pa

    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    if not pa.types.is_string(values.type):
        values = values.cast(pa.string())
    return values


def bool_mask(result: pa.Array) -> np.ndarray:
    """A boolean kernel result as a numpy mask; null (a null row) counts as False."""
    import numpy as np

    return np.asarray(result.fill_null(False), dtype=bool)
