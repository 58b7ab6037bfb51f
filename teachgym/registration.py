"""Which environments and agents exist, named by entry-point strings: the one place the engine names them.

The engine (``teachgym/``) never imports ``teachgym.envs`` or ``teachgym.agents``: Gymnasium imports an
env's module when the env is first made, and the leaderboard and CLI look agents up in ``AGENTS_MODULE``
when they build one.
"""

from __future__ import annotations

import importlib
from types import ModuleType

import gymnasium as gym

ENV_IDS: dict[str, str] = {
    "TeachGym/Math-v0": "teachgym.envs.math:MathEnv",
    "TeachGym/Math-v1": "teachgym.envs.math:MathV1Env",
    "TeachGym/Math-v2": "teachgym.envs.math:MathV2Env",
    "TeachGym/MathStories-v0": "teachgym.envs.math:MathStoriesEnv",
    "TeachGym/MathCurriculum-v0": "teachgym.envs.curriculum:MathCurriculumEnv",
    "TeachGym/MathSkillTree-v0": "teachgym.envs.skill_tree:MathSkillTreeEnv",
    "TeachGym/MathOpenEnded-v0": "teachgym.envs.open_ended:MathOpenEndedEnv",
    "TeachGym/MathDataMix-v0": "teachgym.envs.data_mix:MathDataMixEnv",
    "TeachGym/MathDistill-v0": "teachgym.envs.distill:MathDistillEnv",
    "TeachGym/Custom-v0": "teachgym.envs.custom:CustomEnv",
    "TeachGym/CustomCurriculum-v0": "teachgym.envs.custom:CustomEnv",
    "TeachGym/ReasoningGym-v0": "teachgym.envs.reasoning:ReasoningGymEnv",
    "TeachGym/Code-v0": "teachgym.envs.code:CodeEnv",
    "TeachGym/Code-v1": "teachgym.envs.code:CodeEnv",
    "TeachGym/CodeCurriculum-v0": "teachgym.envs.code:CodeEnv",
    "TeachGym/CodeOpenEnded-v0": "teachgym.envs.code:CodeOpenEndedEnv",
    "TeachGym/VQA-v0": "teachgym.envs.vqa:VQAEnv",
    "TeachGym/VQA-v1": "teachgym.envs.vqa:VQAV1Env",
    "TeachGym/VQACurriculum-v0": "teachgym.envs.vqa:VQAEnv",
    "TeachGym/VQAOpenEnded-v0": "teachgym.envs.vqa:VQAOpenEndedEnv",
}
# Ids that are another id's env class with some kwargs fixed (Gymnasium's registered ``kwargs``).
ENV_KWARGS: dict[str, dict] = {
    "TeachGym/CustomCurriculum-v0": {"interface": "curriculum"},
    "TeachGym/CodeCurriculum-v0": {"interface": "curriculum"},
    # Code-v1: a slower student and a longer episode, where a state-aware teacher wins 1.5x (envs/code.py)
    "TeachGym/Code-v1": {"lr": 4e-4, "horizon": 8},
    "TeachGym/VQACurriculum-v0": {"interface": "curriculum"},
}
# Batched vector envs (``teachgym.vector.TeachVectorEnv``); ``gym.make_vec`` uses them by default.
# MathOpenEnded-v0 (error lines decoded per student), MathDataMix-v0 (per-example training loss) and
# MathDistill-v0 (a teacher model's soft targets) need more than the batched student gives.
VECTOR_ENTRY_POINTS: dict[str, str] = {
    "TeachGym/Math-v0": "teachgym.envs.math:MathVectorEnv",
    "TeachGym/Math-v1": "teachgym.envs.math:MathV1VectorEnv",
    "TeachGym/Math-v2": "teachgym.envs.math:MathV2VectorEnv",
    "TeachGym/MathStories-v0": "teachgym.envs.math:MathStoriesVectorEnv",
    "TeachGym/MathCurriculum-v0": "teachgym.envs.curriculum:MathCurriculumVectorEnv",
    "TeachGym/MathSkillTree-v0": "teachgym.envs.skill_tree:MathSkillTreeVectorEnv",
}
# The module whose ``make_agent(name, **kwargs)``, ``AGENTS`` and ``run_episode`` build and run teachers.
AGENTS_MODULE = "teachgym.agents"
# The module whose ``build_checkpoints`` rebuilds the shipped checkpoints (``teachgym pretrain``).
CHECKPOINTS_MODULE = "teachgym.envs.checkpoints"


def register_envs() -> None:
    """Register every TeachGym id (idempotent)."""
    for env_id, entry_point in ENV_IDS.items():
        if env_id not in gym.registry:
            gym.register(
                id=env_id,
                entry_point=entry_point,
                vector_entry_point=VECTOR_ENTRY_POINTS.get(env_id),
                kwargs=ENV_KWARGS.get(env_id, {}),
            )


def agents_module(name: str = AGENTS_MODULE) -> ModuleType:
    """The agents module (imported on first use)."""
    return importlib.import_module(name)
