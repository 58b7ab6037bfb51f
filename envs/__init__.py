"""The registered TeachGym environments. ``import teachgym`` calls :func:`register_envs`."""

from __future__ import annotations

import gymnasium as gym

ENV_IDS: dict[str, str] = {
    "TeachGym/Math-v0": "teachgym.envs.math:MathEnv",
    "TeachGym/MathCurriculum-v0": "teachgym.envs.curriculum:MathCurriculumEnv",
    "TeachGym/MathSkillTree-v0": "teachgym.envs.skill_tree:MathSkillTreeEnv",
    "TeachGym/MathOpenEnded-v0": "teachgym.envs.open_ended:MathOpenEndedEnv",
    "TeachGym/MathDataMix-v0": "teachgym.envs.data_mix:MathDataMixEnv",
    "TeachGym/MathDistill-v0": "teachgym.envs.distill:MathDistillEnv",
}
# Native vector envs (batched students); gym.make_vec uses them by default when present.
VECTOR_ENTRY_POINTS: dict[str, str] = {"TeachGym/Math-v0": "teachgym.vector:MathVectorEnv"}


def register_envs() -> None:
    """Register every TeachGym id (idempotent)."""
    for env_id, entry_point in ENV_IDS.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=entry_point, vector_entry_point=VECTOR_ENTRY_POINTS.get(env_id))
