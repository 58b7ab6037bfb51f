"""benchmarks/curves.py writes the command that reproduces its table."""

from __future__ import annotations

import shlex


def test_the_written_command_reproduces_the_curves(tmp_path):
    from benchmarks import curves

    first = tmp_path / "first.md"
    argv = ["--family", "math", "--skills", "mul", "--levels", "0", "--chunk", "32", "--chunks", "2"]
    argv += ["--seed", "3", "--rehearsal", "0.5", "--eval-per-level", "4", "--lr", "0.001"]
    curves.main([*argv, "--out", str(first)])
    text = first.read_text()
    command = next(line for line in text.splitlines() if line.startswith("Command: "))
    words = shlex.split(command.removeprefix("Command: ").strip("`"))
    assert words[:2] == ["python", "benchmarks/curves.py"]
    for flag in ("--seed", "--rehearsal", "--eval-per-level", "--lr", "--levels", "--chunks"):
        assert flag in words, (flag, command)
    again = tmp_path / "again.md"
    curves.main([*words[2:], "--out", str(again)])
    rows = [[line for line in f.read_text().splitlines() if line.startswith("| mul ")] for f in (first, again)]
    assert len(rows[0]) == 1
    # the same figures (the last column is the seconds it took)
    assert rows[0][0].rsplit("|", 2)[0] == rows[1][0].rsplit("|", 2)[0]
