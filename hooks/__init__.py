"""Built-in quality checks, one module per check; each module's ``CHECK`` declares its
parameters, the per-chunk facts it needs, and its ``run(ctx) -> Outcome``.

Also the home of the pre-commit framework integration: ``.pre-commit-hooks.yaml`` at the
repository root points at ``cgit check``, which runs these same checks on plain Parquet and
JSON-lines files with the parameters of the project's ``cgit.toml``.

Importing this package is cheap (no pyarrow, no numpy): ``cgit.toml`` validation needs the
parameter declarations, not the computations.
"""

from __future__ import annotations

from corpusgit.quality.api import BuiltinCheck
from hooks import banned_terms, drift, duplicates, encoding, language, length, nulls, pii, provenance, row_delta, schema

BUILTINS: dict[str, BuiltinCheck] = {
    module.CHECK.name: module.CHECK
    for module in (schema, nulls, duplicates, length, language, pii, banned_terms, encoding, row_delta, drift, provenance)
}
