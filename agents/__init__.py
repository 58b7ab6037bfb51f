"""Teacher agents: everything that acts in a TeachGym environment, behind one Teacher protocol."""

from teachgym.agents.base import Teacher, Trajectory, run_episode
from teachgym.agents.heuristics import (
    FrontierTeacher,
    PrerequisiteCurriculumTeacher,
    RandomTeacher,
    SingleSkillTeacher,
    UniformTeacher,
    WeakestSkillTeacher,
)

AGENTS = {
    "random": RandomTeacher,
    "uniform": UniformTeacher,
    "weakest": WeakestSkillTeacher,
    "frontier": FrontierTeacher,
    "curriculum": PrerequisiteCurriculumTeacher,
    "mastered": SingleSkillTeacher,
}


def make_agent(name: str, **kwargs) -> Teacher:
    """A teacher by its registered short name (see ``AGENTS``)."""
    if name not in AGENTS:
        raise ValueError(f"unknown agent {name!r}; choose one of {sorted(AGENTS)}")
    return AGENTS[name](**kwargs)


__all__ = ["AGENTS", "FrontierTeacher", "PrerequisiteCurriculumTeacher", "RandomTeacher", "SingleSkillTeacher",
           "Teacher", "Trajectory", "UniformTeacher", "WeakestSkillTeacher", "make_agent", "run_episode"]
