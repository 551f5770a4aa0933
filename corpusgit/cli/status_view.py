"""What ``cgit status`` prints, shared by the typer command and the fast path in ``cgit``'s
``main()``; importing it loads neither typer nor rich.

A clean tree, the answer status gives most often, prints at most three lines of plain ASCII;
those are written directly, which is byte-for-byte what the rich console would print for them
(see ``_is_plain``). Everything else (changes, conflicts, styles, user paths) is rendered by
rich as before.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from corpusgit.repo import Repo
from corpusgit.worktree import FileChange, Status, status

if TYPE_CHECKING:
    from rich.text import Text

_STYLE = {"added": "green", "modified": "yellow", "deleted": "red"}


def change_line(change: FileChange, indent: str = "  ") -> Text:
    """``modified: data/x.parquet  (1,000 → 1,200 rows, +200)``, styled by kind of change."""
    from rich.text import Text

    from corpusgit.cli.render import human_count

    line = Text(indent)
    line.append(f"{change.change + ':':<10}", style=_STYLE.get(change.change, ""))
    line.append(change.path)
    if change.kind == "table" and (change.rows_before is not None or change.rows_after is not None):
        before, after = change.rows_before, change.rows_after
        if before is not None and after is not None:
            delta = after - before
            line.append(f"  ({human_count(before)} → {human_count(after)} rows, {delta:+,})", style="dim")
        else:
            line.append(f"  ({human_count(after if after is not None else before)} rows)", style="dim")
    return line


def show_status(json_: bool, short: bool) -> None:
    """Print the status of the repository around the current directory."""
    st = status(Repo.open())
    if json_:
        from corpusgit.cli.render import print_json

        print_json({
            "branch": st.branch, "head": st.head, "staged": st.staged, "unstaged": st.unstaged, "untracked": st.untracked,
            "operation": st.operation, "conflicts": st.conflicts, "clean": st.clean,
        })
        return
    lines = plain_lines(st, short)
    if lines is None:
        render_status(st, short)
        return
    sys.stdout.write("".join(line + "\n" for line in lines))
    sys.stdout.flush()


def plain_lines(st: Status, short: bool) -> list[str] | None:
    """The output for a clean tree when it is plain text (``_is_plain``), else None: then it
    needs rich (``render_status``)."""
    if not st.clean or st.operation:
        return None
    lines = [] if short else [_branch_line(st), *(["No commits yet"] if st.head is None else []), "nothing to commit, working tree clean"]
    return lines if all(_is_plain(line) for line in lines) else None


def _branch_line(st: Status) -> str:
    return f"On branch {st.branch[len('refs/heads/'):]}" if st.branch else f"HEAD detached at {(st.head or '')[:12]}"


def _is_plain(line: str) -> bool:
    """True when the rich console would print ``line`` unchanged: printable ASCII (rich strips
    control codes and expands tabs) without ':' (rich turns ``:name:`` into an emoji). Lines
    are printed unstyled and never wrapped (``soft_wrap``), so nothing else differs."""
    return line.isascii() and line.isprintable() and ":" not in line


def render_status(st: Status, short: bool) -> None:
    """The full status through the rich console: styles, and paths exactly as rich shows them."""
    from rich.text import Text

    from corpusgit.cli.render import out

    if short:
        for c in st.staged:
            out.print(f"{c.change[0].upper()}  {c.path}")
        for c in st.unstaged:
            out.print(f" {c.change[0].upper()} {c.path}")
        for p in st.untracked:
            out.print(f"?? {p}")
        return
    out.print(_branch_line(st))
    if st.head is None:
        out.print("No commits yet")
    if st.operation:
        out.print(f"You are in the middle of a {st.operation}.", style="yellow")
    if st.conflicts:
        out.print("\nUnresolved conflicts:  (see 'cgit conflicts'; settle with 'cgit resolve <path> --ours|--theirs|--union')")
        for p in st.conflicts:
            out.print(Text("    both changed: " + p, style="red"))
    if st.staged:
        out.print("\nChanges to be committed:")
        for c in st.staged:
            out.print(change_line(c, "    "))
    if st.unstaged:
        out.print("\nChanges not staged for commit:  (use 'cgit add <path>' to stage)")
        for c in st.unstaged:
            out.print(change_line(c, "    "))
    if st.untracked:
        out.print("\nUntracked files:  (use 'cgit add <path>' to track)")
        for p in st.untracked:
            out.print(Text("    " + p, style="red"))
    if st.clean:
        out.print("nothing to commit, working tree clean")
