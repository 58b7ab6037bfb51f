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


def test_vqa_v1_curves_start_from_vqa_v1s_base(tmp_path):
    """The vqa-v1 family trains VQA-v1's skills (the checks among them) from the env's primed base."""
    import gymnasium as gym
    import numpy as np

    from benchmarks import curves

    out = tmp_path / "v1.md"
    argv = ["--family", "vqa-v1", "--skills", "verify-colour", "--chunk", "16", "--chunks", "2"]
    curves.main([*argv, "--out", str(out)])
    (row,) = [line for line in out.read_text().splitlines() if line.startswith("| verify-colour ")]
    start = float(row.split("|")[2])
    env = gym.make("TeachGym/VQA-v1", eval_per_level=16)
    _, info = env.reset(seed=0)
    names = [s.name for s in env.unwrapped.task.skills]
    assert start == round(float(np.asarray(info["val_accuracy"])[names.index("verify-colour")]), 2)
