"""``.cgitignore``: the familiar gitignore subset (globs, ``dir/``, ``/anchored``, ``!negation``)."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path

ALWAYS_IGNORED = {".cgit", ".git"}


@dataclass(frozen=True, slots=True)
class _Rule:
    pattern: str
    negate: bool
    dir_only: bool
    anchored: bool


class IgnoreRules:
    """Matches repo-relative POSIX paths; the last matching rule wins, as in git."""

    def __init__(self, rules: list[_Rule]) -> None:
        self._rules = rules

    @classmethod
    def load(cls, root: Path) -> IgnoreRules:
        path = root / ".cgitignore"
        rules: list[_Rule] = []
        if path.exists():
            for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
                line = raw.strip()
                if not line or line.startswith("#"):
                    continue
                negate = line.startswith("!")
                line = line[1:] if negate else line
                dir_only = line.endswith("/")
                line = line.rstrip("/")
                anchored = "/" in line
                rules.append(_Rule(line.lstrip("/"), negate, dir_only, anchored))
        return cls(rules)

    def ignored(self, relpath: str, is_dir: bool) -> bool:
        name = relpath.rsplit("/", 1)[-1]
        if name in ALWAYS_IGNORED:
            return True
        result = False
        for rule in self._rules:
            if rule.dir_only and not is_dir:
                continue
            target = relpath if rule.anchored else name
            if fnmatch.fnmatchcase(target, rule.pattern) or (rule.anchored and _glob_star(relpath, rule.pattern)):
                result = not rule.negate
        return result


def _glob_star(path: str, pattern: str) -> bool:
    """``**`` matches any number of directories."""
    if "**" not in pattern:
        return False
    return fnmatch.fnmatchcase(path, pattern.replace("**/", "*")) or fnmatch.fnmatchcase(path, pattern.replace("/**", "*"))
