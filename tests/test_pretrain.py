"""`teachgym pretrain` rebuilds its checkpoints reproducibly, and `--verify` can tell when they differ."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file, save_file

from teachgym.cli import main
from teachgym.envs.checkpoints import MATH_BASE, build_math_base
from teachgym.students.pretrain import checkpoint_differences


def test_same_seed_rebuilds_the_same_tensors_and_metadata(tmp_path):
    a = build_math_base(tmp_path / "a.safetensors", updates=16)
    b = build_math_base(tmp_path / "b.safetensors", updates=16)
    assert checkpoint_differences(a, b) == []
    c = build_math_base(tmp_path / "c.safetensors", updates=16, seed=1)
    assert any("values differ" in d for d in checkpoint_differences(a, c))


def test_differences_name_what_differs(tmp_path):
    state = load_file(str(MATH_BASE))
    name = sorted(k for k in state if state[k].dtype == torch.float32)[0]
    state[name] = state[name].clone()
    state[name].view(-1)[0] += 1.0
    del state[sorted(state)[-1]]
    save_file(state, str(tmp_path / "x.safetensors"), metadata={"config": "{}"})
    diffs = checkpoint_differences(MATH_BASE, tmp_path / "x.safetensors")
    assert f"tensor {name!r}: values differ (max abs difference 1)" in diffs
    assert any(d.startswith(f"tensor {sorted(load_file(str(MATH_BASE)))[-1]!r} only in") for d in diffs)
    assert "metadata 'config'" in diffs and "metadata 'adam_step'" in diffs
    assert checkpoint_differences(MATH_BASE, MATH_BASE) == []


def test_verify_refuses_options_that_change_the_build(capsys):
    with pytest.raises(SystemExit, match="--updates"):
        main(["pretrain", "--verify", "--updates", "16"])


def test_code_base_rebuilds_the_same_and_keeps_its_alphabet(tmp_path):
    from teachgym.envs.checkpoints import CODE_BASE, CODE_BASE_CONFIG, build_code_base
    from teachgym.students.causal_lm import checkpoint_config

    a = build_code_base(tmp_path / "a.safetensors", updates=16)
    b = build_code_base(tmp_path / "b.safetensors", updates=16)
    assert checkpoint_differences(a, b) == []
    assert checkpoint_config(a) == CODE_BASE_CONFIG == checkpoint_config(CODE_BASE)
    assert checkpoint_config(MATH_BASE).alphabet != CODE_BASE_CONFIG.alphabet  # Math's default, as shipped


def test_vqa_base_rebuilds_the_same_from_the_command_line(tmp_path, capsys):
    from teachgym.envs.checkpoints import VQA_BASE
    from teachgym.students.vlm import checkpoint_config

    a, b = tmp_path / "a.safetensors", tmp_path / "b.safetensors"
    for path in (a, b):
        main(["pretrain", "--only", "vqa-base", "--updates", "16", "--vqa-out", str(path)])
    assert f"wrote {a}" in capsys.readouterr().out.replace("\n", "")
    assert checkpoint_differences(a, b) == []
    assert checkpoint_config(a) == checkpoint_config(VQA_BASE)  # the shipped base's architecture and vocabulary


def test_vqa_v1_base_is_the_vqa_base_primed_and_rebuilds_the_same(tmp_path):
    from teachgym.envs.checkpoints import VQA_BASE, VQA_V1_BASE, build_vqa_v1_base
    from teachgym.students.vlm import checkpoint_config

    a = build_vqa_v1_base(tmp_path / "a.safetensors", examples=4)
    b = build_vqa_v1_base(tmp_path / "b.safetensors", examples=4)
    assert checkpoint_differences(a, b) == []
    assert checkpoint_differences(a, VQA_BASE) != []  # trained on from it
    assert checkpoint_differences(a, build_vqa_v1_base(tmp_path / "c.safetensors", examples=8)) != []
    assert checkpoint_config(a) == checkpoint_config(VQA_BASE) == checkpoint_config(VQA_V1_BASE)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="examples must be a positive integer"):
            build_vqa_v1_base(tmp_path / "bad.safetensors", examples=bad)


def test_long_math_base_is_math_v0_recipe_longer(tmp_path, capsys):
    from teachgym.envs.checkpoints import MATH_BASE, MATH_LONG_BASE, build_math_base
    from teachgym.students.causal_lm import checkpoint_config

    path = tmp_path / "long.safetensors"
    main(["pretrain", "--only", "base-long", "--updates", "16", "--long-out", str(path)])
    assert f"wrote {path}" in capsys.readouterr().out.replace("\n", "")
    # with the same number of updates it is exactly Math-v0's base recipe
    assert checkpoint_differences(path, build_math_base(tmp_path / "v0.safetensors", updates=16)) == []
    assert checkpoint_config(MATH_LONG_BASE) == checkpoint_config(MATH_BASE)
