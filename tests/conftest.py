"""Shared fixtures: small, fast configurations of every registered environment."""

from __future__ import annotations

import os

import pytest
import torch

import teachgym  # noqa: F401  (registers the ids)

torch.set_num_threads(int(os.environ.get("TEACHGYM_TEST_THREADS", "1")))

# Kwargs that make each registered id cheap enough for unit tests (same code paths as the defaults).
SMALL: dict[str, dict] = {
    "TeachGym/Math-v0": {"horizon": 3, "examples_per_step": 48, "eval_per_level": 4, "warmup": 0},
    "TeachGym/MathCurriculum-v0": {"horizon": 3, "examples_per_step": 48, "eval_per_level": 4, "warmup": 0},
    "TeachGym/MathSkillTree-v0": {"horizon": 3, "examples_per_step": 48, "eval_per_level": 4, "warmup": 0},
    "TeachGym/MathOpenEnded-v0": {"horizon": 3, "examples_per_step": 48, "eval_per_level": 4, "warmup": 0},
    "TeachGym/MathDataMix-v0": {"horizon": 3, "examples_per_step": 48, "eval_per_level": 4, "warmup": 0},
    "TeachGym/MathDistill-v0": {"horizon": 3, "examples_per_step": 48, "eval_per_level": 4, "warmup": 0},
}


def small_kwargs(env_id: str) -> dict:
    return dict(SMALL.get(env_id, {}))


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
