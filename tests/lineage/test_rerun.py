"""``cgit rerun``: a recorded run re-executed from its recorded input and config; identical
outputs are reported as such, and a changed operator is caught."""

from __future__ import annotations

from pathlib import Path

from clirun import Cli
from lineagehelp import RAW

from corpusgit import Repo
from corpusgit.lineage.rerun import rerun
from corpusgit.lineage.run import Step, commit_runs, run_step

LOCAL_OP = '''
import pyarrow.compute as pc
from corpusgit.ops import MapOperator, NoConfig


class Tidy(MapOperator[NoConfig]):
    """Trim whitespace."""

    name = "tidy"

    def apply(self, batch, rows):
        i = batch.schema.get_field_index("text")
        return batch.set_column(i, "text", pc.utf8_trim_whitespace(batch.column(i)))
'''


def test_rerun_of_a_run_whose_input_moved_on(corpus_repo: Repo, write_parquet: object) -> None:
    """The input path now holds another version; rerun still reads the recorded table id."""
    repo = corpus_repo
    first = run_step(repo, Step("sample", RAW, "data/sample/web.parquet", {"fraction": 0.5, "seed": 9}))
    commit_runs(repo, "sample", [first.record_id])
    (repo.root / RAW).unlink()
    repo.add([RAW])
    repo.commit("raw shard removed")
    result = rerun(repo, first.record_id)
    assert result.identical and result.effects_identical and result.table == first.record.outputs[0].table
    assert result.rows == first.record.stats["rows_out"]


def test_rerun_detects_a_changed_operator(corpus_repo: Repo, cli: Cli) -> None:
    op_file = Path("ops/tidy.py")
    op_file.parent.mkdir()
    op_file.write_text(LOCAL_OP, encoding="utf-8")
    Path("cgit.toml").write_text('[tables."data/*"]\nkey = ["id"]\n\n[operators]\npaths = ["ops/tidy.py"]\n', encoding="utf-8")
    cli("run", "tidy", "-i", RAW, "-o", "data/tidy/web.parquet", "--commit", "-q")
    record_id = corpus_repo.read_commit("HEAD").lineage[0]
    assert cli.json("rerun", record_id)["identical"] is True

    op_file.write_text(LOCAL_OP.replace("utf8_trim_whitespace", "utf8_upper"), encoding="utf-8")
    result = cli("rerun", record_id, code=1)
    assert "different: output table" in result.stdout and "the operator's code changed since the recorded run" in result.stdout
    assert "row effects differ" in result.stdout
    error, hint = cli.fails("rerun", "0000")
    assert error == "error: no lineage record '0000'"
