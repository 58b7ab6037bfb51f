"""Heuristic teachers for MathDataMix-v0 (source weights) and MathDistill-v0 (distillation targets).

Data mix (action: one weight per source, ``env.unwrapped.interface.names``):

- ``mix-curated`` (good): correct level-0 data only, the ``easy`` source (the tiny student learns
  level 0 of a new skill long before levels 1-2, so clean data spends two thirds of its examples
  where little is learnt yet; measured in ``envs/data_mix.py``).
- ``mix-clean``: the clean source only.
- ``mix-uniform``: every source equally (the baseline a mix must beat).
- ``mix-noisy`` (bad): the ``noisy-40`` source only.

``SourceMixTeacher(weights={name: weight})`` is any fixed mix.

Distillation (action: per skill weights for labels / soft / generated, then temperature and alpha):

- ``distill-oracle`` (good, privileged): ground-truth labels on the skills the teacher model is known
  to be wrong on (``env.unwrapped.teacher_wrong``, read from its checkpoint), soft targets elsewhere.
- ``distill-detect`` (good, from observations only): labels on the skills where the teacher model
  visibly disagrees with what the student already gets right (``teacher_agreement`` short of the
  student's val ``accuracy`` by ``margin`` or more, with accuracy at least ``min_accuracy``), soft
  elsewhere.
- ``distill-soft`` (bad: trusts the teacher everywhere), ``distill-labels`` (labels everywhere, 1 /
  ``label_cost`` as many examples), ``distill-generated`` (greedy answers everywhere), and
  ``distill-uniform`` (the all-zero action: every type equally, T = 2, alpha = 0.5).
- ``distill-fixed``: a given type per skill, ``FixedTargetTeacher(modes={"word": "soft"},
  default="labels")``.

Each takes ``temperature`` and ``alpha`` (where soft targets are used).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from teachgym.interfaces.base import weights_to_action
from teachgym.interfaces.distill import MODES, encode_action


class _Fixed:
    """Ignores feedback; subclasses decide an action from the observation."""

    def reset(self, env: gym.Env, seed: int | None = None) -> None:
        self.env = env.unwrapped
        self.rng = np.random.default_rng(seed)

    def observe(self, observation: Any, reward: float, terminated: bool, truncated: bool, info: dict) -> None:
        pass


class SourceMixTeacher(_Fixed):
    """Fixed weights per source name (sources not named get 0; all 0 means uniform)."""

    default_weights: ClassVar[Mapping[str, float]] = {}

    def __init__(self, weights: Mapping[str, float] | None = None):
        self.weights = dict(self.default_weights if weights is None else weights)
        if any(not isinstance(w, int | float) or not w >= 0 for w in self.weights.values()):
            raise ValueError(f"weights must be non-negative numbers per source name, got {self.weights!r}")

    def act(self, observation: Any) -> np.ndarray:
        names = self.env.interface.names
        return weights_to_action(np.array([float(self.weights.get(n, 0.0)) for n in names]))


class CuratedMixTeacher(SourceMixTeacher):
    """Correct level-0 data only: the easy source (good)."""

    default_weights: ClassVar[Mapping[str, float]] = {"easy": 1.0}


class UniformMixTeacher(SourceMixTeacher):
    """Every source equally."""

    def act(self, observation: Any) -> np.ndarray:
        return weights_to_action(np.ones(len(self.env.interface.names)))


class CleanMixTeacher(SourceMixTeacher):
    """The clean source only."""

    default_weights: ClassVar[Mapping[str, float]] = {"clean": 1.0}


class NoisyMixTeacher(SourceMixTeacher):
    """The noisy-40 source only (bad)."""

    default_weights: ClassVar[Mapping[str, float]] = {"noisy-40": 1.0}


class TargetTeacher(_Fixed):
    """One target type for every skill (``mode`` in labels / soft / generated; None: all equally)."""

    mode: str | None = "soft"

    def __init__(self, temperature: float = 2.0, alpha: float = 0.5):
        if not 1.0 <= temperature <= 4.0:
            raise ValueError(f"temperature must be in [1, 4], got {temperature!r}")
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1], got {alpha!r}")
        self.temperature, self.alpha = float(temperature), float(alpha)

    def skill_modes(self, observation: Any) -> list[str | None]:
        return [self.mode] * len(self.env.task.skills)

    def act(self, observation: Any) -> np.ndarray:
        weights = np.zeros((len(self.env.task.skills), len(MODES)))
        for i, mode in enumerate(self.skill_modes(observation)):
            weights[i] = 1.0 if mode is None else np.eye(len(MODES))[MODES.index(mode)]
        return encode_action(weights, self.temperature, self.alpha)


class SoftTeacher(TargetTeacher):
    mode = "soft"


class LabelsTeacher(TargetTeacher):
    mode = "labels"


class GeneratedTeacher(TargetTeacher):
    mode = "generated"


class UniformTargetTeacher(TargetTeacher):
    mode = None


class FixedTargetTeacher(TargetTeacher):
    """A fixed target type per skill name (``modes``), ``default`` for the skills not named."""

    def __init__(self, modes: Mapping[str, str] | None = None, default: str = "soft", **kwargs: Any):
        super().__init__(**kwargs)
        self.modes, self.default = dict(modes or {}), default
        if any(m not in MODES for m in [*self.modes.values(), default]):
            raise ValueError(f"modes must be among {list(MODES)}, got {self.modes!r} and default {default!r}")

    def skill_modes(self, observation: Any) -> list[str | None]:
        return [self.modes.get(s.name, self.default) for s in self.env.task.skills]


class OracleTargetTeacher(TargetTeacher):
    """Labels on the skills the teacher model is documented to get wrong, soft targets elsewhere."""

    def skill_modes(self, observation: Any) -> list[str | None]:
        wrong = set(getattr(self.env, "teacher_wrong", {}))
        return ["labels" if s.name in wrong else "soft" for s in self.env.task.skills]


class DetectTargetTeacher(TargetTeacher):
    """Labels where the teacher model disagrees with what the student gets right, soft elsewhere.

    If the teacher model were right on every val item the student gets right, their agreement would
    be at least the student's accuracy; agreement short of the accuracy by ``margin`` or more (with
    accuracy at least ``min_accuracy``) shows the teacher wrong on at least that share of the items.
    A skill once suspected stays so for the episode (imitating the teacher elsewhere does not make it
    right there).
    """

    def __init__(self, margin: float = 0.05, min_accuracy: float = 0.1, **kwargs: Any):
        super().__init__(**kwargs)
        self.margin, self.min_accuracy = margin, min_accuracy

    def reset(self, env: gym.Env, seed: int | None = None) -> None:
        super().reset(env, seed)
        self.suspect = np.zeros(len(self.env.task.skills), dtype=bool)

    def skill_modes(self, observation: Any) -> list[str | None]:
        acc = np.asarray(observation["accuracy"], dtype=np.float64)
        agree = np.asarray(observation["teacher_agreement"], dtype=np.float64)
        self.suspect |= (acc >= self.min_accuracy) & (acc - agree >= self.margin)
        return ["labels" if s else "soft" for s in self.suspect.tolist()]


MIX_AGENTS = {
    "mix-curated": CuratedMixTeacher,
    "mix-clean": CleanMixTeacher,
    "mix-uniform": UniformMixTeacher,
    "mix-noisy": NoisyMixTeacher,
    "distill-oracle": OracleTargetTeacher,
    "distill-detect": DetectTargetTeacher,
    "distill-soft": SoftTeacher,
    "distill-labels": LabelsTeacher,
    "distill-generated": GeneratedTeacher,
    "distill-uniform": UniformTargetTeacher,
    "distill-fixed": FixedTargetTeacher,
}

MIX_AGENT_ENVS = {
    name: "TeachGym/MathDataMix-v0" if name.startswith("mix-") else "TeachGym/MathDistill-v0" for name in MIX_AGENTS
}
