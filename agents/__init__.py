"""Teacher agents: everything that acts in a TeachGym environment, behind one Teacher protocol."""

import importlib
import inspect

from teachgym.agents.bandits import EXP3Teacher, SECTeacher, TSCLTeacher, UCBTeacher
from teachgym.agents.base import Teacher, Trajectory, run_episode
from teachgym.agents.heuristics import (
    FixedMixTeacher,
    FocusTeacher,
    FrontierTeacher,
    PrerequisiteCurriculumTeacher,
    ProgressTeacher,
    ProximalTeacher,
    RandomTeacher,
    SingleSkillTeacher,
    SpreadTeacher,
    UniformTeacher,
    WeakestSkillTeacher,
)
from teachgym.agents.lookahead import LookaheadTeacher
from teachgym.agents.mix_agents import MIX_AGENT_ENVS, MIX_AGENTS
from teachgym.agents.writers import AGENT_ENVS, AGENTS_EXTRA

# Data-mix and distillation teachers, and those that read a field only some envs observe: their own envs.
AGENT_ENVS = {**AGENT_ENVS, **MIX_AGENT_ENVS, "proximal": "TeachGym/Code-v0"}


def _lazy(module: str, name: str):
    """``teachgym.agents.<module>.<name>``, imported when first built: keeps heavy imports off
    ``import teachgym.agents`` and lets ``python -m teachgym.agents.<module>`` run without a double import."""

    def target() -> type:
        return getattr(importlib.import_module(f"teachgym.agents.{module}"), name)

    def build(**kwargs) -> Teacher:
        return target()(**kwargs)

    build.__name__ = build.__qualname__ = name
    build.target = target  # the class it builds, for make_agent's check of the kwargs
    return build


AGENTS = {
    "random": RandomTeacher,
    "uniform": UniformTeacher,
    "weakest": WeakestSkillTeacher,
    "frontier": FrontierTeacher,
    "focus": FocusTeacher,
    "spread": SpreadTeacher,
    "progress": ProgressTeacher,
    "proximal": ProximalTeacher,  # reads the observation's likelihood field: Code-v0
    "curriculum": PrerequisiteCurriculumTeacher,
    "mastered": SingleSkillTeacher,
    "fixed": FixedMixTeacher,  # weights=: a static mix by skill name
    "tscl": TSCLTeacher,
    "exp3": EXP3Teacher,
    "ucb": UCBTeacher,
    "sec": SECTeacher,
    "lookahead": LookaheadTeacher,
    "sb3": _lazy("sb3", "SB3Teacher"),  # path=: a model saved by python -m teachgym.agents.sb3
    "llm": _lazy("llm", "LLMTeacher"),  # model_path=: a local LM directory or "smollm2-135m"; MathOpenEnded-v0
    **AGENTS_EXTRA,  # writers (MathOpenEnded-v0) and curriculum / skill-tree adapters; see AGENT_ENVS
    **MIX_AGENTS,  # MathDataMix-v0 and MathDistill-v0 teachers (agents/mix_agents.py); see AGENT_ENVS
}


def make_agent(name: str, **kwargs) -> Teacher:
    """A teacher by its registered short name (see ``AGENTS``)."""
    if name not in AGENTS:
        raise ValueError(f"unknown agent {name!r}; choose one of {sorted(AGENTS)}")
    cls = getattr(AGENTS[name], "target", lambda: AGENTS[name])()  # a lazy entry imports its class now
    signature = inspect.signature(cls)
    try:
        signature.bind(**kwargs)
    except TypeError as err:
        raise ValueError(f"agent {name!r}: {err}; it takes {signature}") from None
    return cls(**kwargs)


__all__ = [
    "AGENTS",
    "AGENT_ENVS",
    "EXP3Teacher",
    "FixedMixTeacher",
    "FrontierTeacher",
    "LookaheadTeacher",
    "PrerequisiteCurriculumTeacher",
    "RandomTeacher",
    "SECTeacher",
    "SingleSkillTeacher",
    "TSCLTeacher",
    "Teacher",
    "Trajectory",
    "UCBTeacher",
    "UniformTeacher",
    "WeakestSkillTeacher",
    "make_agent",
    "run_episode",
]
