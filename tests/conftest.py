"""Shared fixtures: small, fast configurations of every registered environment."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # before transformers is imported: no test may reach a model hub
from pathlib import Path

import pytest
import torch

import teachgym  # noqa: F401  (registers the ids)
from tests.tiny_hf import shared_dir

torch.set_num_threads(int(os.environ.get("TEACHGYM_TEST_THREADS", "1")))

DATA = str(Path(__file__).parent / "data" / "arithmetic.jsonl")  # JSONL items for the Custom envs

# Kwargs that make each registered id cheap enough for unit tests (same code paths as the defaults).
SMALL: dict[str, dict] = {
    "TeachGym/Math-v0": {"horizon": 3, "examples_per_step": 48, "eval_per_level": 4, "warmup": 0},
    "TeachGym/Math-v1": {"horizon": 3, "examples_per_step": 48, "eval_per_level": 4, "warmup": 0},
    "TeachGym/Math-v2": {"horizon": 3, "examples_per_step": 48, "eval_per_level": 4, "warmup": 0},
    "TeachGym/MathStories-v0": {"horizon": 3, "examples_per_step": 48, "eval_per_level": 4, "warmup": 0},
    "TeachGym/MathCurriculum-v0": {"horizon": 3, "examples_per_step": 48, "eval_per_level": 4, "warmup": 0},
    "TeachGym/MathSkillTree-v0": {"horizon": 3, "examples_per_step": 48, "eval_per_level": 4, "warmup": 0},
    "TeachGym/MathOpenEnded-v0": {"horizon": 3, "examples_per_step": 48, "eval_per_level": 4, "warmup": 0},
    "TeachGym/MathDataMix-v0": {"horizon": 3, "examples_per_step": 48, "eval_per_level": 4, "warmup": 0},
    "TeachGym/MathDistill-v0": {"horizon": 3, "examples_per_step": 48, "eval_per_level": 4, "warmup": 0},
    "TeachGym/Custom-v0": {"data": DATA, "horizon": 3, "examples_per_step": 48, "eval_per_level": 4},
    "TeachGym/CustomCurriculum-v0": {"data": DATA, "horizon": 3, "examples_per_step": 48, "eval_per_level": 4},
    "TeachGym/Code-v0": {"horizon": 3, "examples_per_step": 32, "eval_per_level": 2},
    "TeachGym/Code-v1": {"horizon": 3, "examples_per_step": 32, "eval_per_level": 2},
    "TeachGym/CodeCurriculum-v0": {"horizon": 3, "examples_per_step": 32, "eval_per_level": 2},
    "TeachGym/CodeOpenEnded-v0": {"horizon": 3, "examples_per_step": 32, "eval_per_level": 2},
    "TeachGym/VQA-v0": {"horizon": 3, "examples_per_step": 32, "eval_per_level": 2},
    "TeachGym/VQA-v1": {"horizon": 3, "examples_per_step": 32, "eval_per_level": 2},
    "TeachGym/VQACurriculum-v0": {"horizon": 3, "examples_per_step": 32, "eval_per_level": 2},
    "TeachGym/VQAOpenEnded-v0": {"horizon": 3, "examples_per_step": 32, "eval_per_level": 2},
    # reasoning-gym prompts need a pretrained student: a tiny random Llama built offline (tests.tiny_hf)
    "TeachGym/ReasoningGym-v0": {
        "datasets": ["chain_sum", "gcd"],
        "levels": 2,
        "student": shared_dir(),
        "horizon": 3,
        "examples_per_step": 16,
        "eval_per_level": 3,
    },
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


@pytest.fixture(scope="session")
def tiny_hf(tmp_path_factory) -> str:
    """A tiny random Llama with a trained BPE tokenizer in a temp dir (loaded like a user's model)."""
    from tests.tiny_hf import build

    return str(build(tmp_path_factory.mktemp("tiny-llama")))


@pytest.fixture(scope="session")
def tiny_hf_teacher(tmp_path_factory) -> str:
    """A second tiny Llama sharing ``tiny_hf``'s tokenizer (a 'larger model of the same family')."""
    from tests.tiny_hf import build

    return str(build(tmp_path_factory.mktemp("tiny-llama-teacher"), hidden=48, layers=2, seed=1))
