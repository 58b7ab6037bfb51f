"""Heuristic teachers for skill-list environments (Math-v0): the baselines every leaderboard shows.

Each decides per-skill weights (any non-negative scale) and returns them as the env's action in
[-1, 1] (``weights_to_action``); the env splits the step's examples in proportion to the weights.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from teachgym.interfaces.base import weights_to_action


def _skills(env: gym.Env):
    return env.unwrapped.task.skills


def topological_order(skills) -> list[int]:
    """Skill indices ordered so that every skill comes after its prerequisites (stable otherwise)."""
    names = [s.name for s in skills]
    done: list[int] = []
    while len(done) < len(skills):
        for i, s in enumerate(skills):
            if i not in done and all(p not in names or names.index(p) in done for p in s.prerequisites):
                done.append(i)
                break
    return done


ABSENT = ("met", "unmet")


def check_absent(absent: str) -> str:
    """``absent`` if it is one of ``ABSENT`` (how ``within_reach`` counts a prerequisite the env lacks)."""
    if absent not in ABSENT:
        raise ValueError(f"absent must be one of {ABSENT}, got {absent!r}")
    return absent


def easiest_level(observation: Any, k: int) -> np.ndarray:
    """Per skill, the val accuracy of its easiest level (from a skill-list observation's ``level_accuracy``)."""
    return np.asarray(observation["level_accuracy"], dtype=np.float64).reshape(k, -1)[:, 0]


def within_reach(skills, easiest: np.ndarray, ready: float, absent: str = "met") -> np.ndarray:
    """Per skill: every prerequisite has accuracy >= ``ready`` on its easiest level. A prerequisite that is
    not among ``skills`` (the env neither measures nor teaches it) counts as met (``absent="met"``) or as
    unmet (``"unmet"``: a skill that needs it is out of reach)."""
    check_absent(absent)
    names = [s.name for s in skills]

    def met(p: str) -> bool:
        return easiest[names.index(p)] >= ready if p in names else absent == "met"

    return np.array([all(met(p) for p in s.prerequisites) for s in skills])


def even_over(targeted: np.ndarray, rehearsal: float) -> np.ndarray:
    """The action that gives the ``targeted`` skills ``1 - rehearsal`` of the step evenly and the others
    ``rehearsal`` evenly (evenly over all when none or all are targeted)."""
    if not targeted.any() or targeted.all():
        return weights_to_action(np.ones(len(targeted)))
    return weights_to_action(np.where(targeted, (1.0 - rehearsal) / targeted.sum(), rehearsal / (~targeted).sum()))


class _Base:
    """Stores the env's skills, its levels per skill and a seeded rng; counts steps; ignores feedback."""

    def reset(self, env: gym.Env, seed: int | None = None) -> None:
        self.skills = _skills(env)
        self.num_levels = env.unwrapped.task.num_levels
        self.rng = np.random.default_rng(seed)
        self.step = 0

    def observe(self, observation: Any, reward: float, terminated: bool, truncated: bool, info: dict) -> None:
        self.step += 1


class RandomTeacher(_Base):
    """Random weights each step, i.i.d. uniform in [0, 1] per skill (seeded by ``reset``)."""

    def act(self, observation: Any) -> np.ndarray:
        return weights_to_action(self.rng.random(len(self.skills)))


class UniformTeacher(_Base):
    """The same share for every skill, every step: the baseline a teacher must beat."""

    def act(self, observation: Any) -> np.ndarray:
        return weights_to_action(np.ones(len(self.skills)))


class WeakestSkillTeacher(_Base):
    """Weights proportional to each skill's val error, ``1 - accuracy`` (naive targeting)."""

    def act(self, observation: Any) -> np.ndarray:
        err = 1.0 - np.asarray(observation["accuracy"], dtype=np.float64)
        return weights_to_action(np.clip(err, 0.0, 1.0))


class _GiveUp:
    """Patience with skills that do not move: a skill targeted for ``patience`` consecutive steps whose
    accuracy has not risen by ``min_gain`` over where the targeting began (with ``recent``: over where it
    was ``patience`` steps ago, so a skill that rose and then stalls is given up on too) is given up on
    (``dropped``)."""

    def __init__(self, k: int, patience: int, min_gain: float, recent: bool = False):
        self.patience, self.min_gain, self.recent = patience, min_gain, recent
        self.steps = np.zeros(k, dtype=int)  # consecutive steps targeted
        self.start = np.zeros(k)  # accuracy when the targeting began
        self.dropped = np.zeros(k, dtype=bool)
        self.seen: list[np.ndarray] = []  # (recent) the accuracy at the last ``patience`` steps

    def check(self, acc: np.ndarray) -> np.ndarray:
        """Give up on the skills that stalled; returns ``dropped``."""
        ref = self.seen[-self.patience] if self.recent and len(self.seen) >= self.patience else self.start
        self.dropped |= (self.steps >= self.patience) & (acc < ref + self.min_gain)
        return self.dropped

    def target(self, targeted: np.ndarray, acc: np.ndarray) -> None:
        """Record which skills this step targets."""
        self.start = np.where(self.steps == 0, acc, self.start)
        self.steps = np.where(targeted, self.steps + 1, 0)
        if self.recent:
            self.seen = [*self.seen, np.array(acc, dtype=np.float64)][-self.patience :]


class FrontierTeacher(_Base):
    """Targets weak skills *within reach*, and rehearses the rest.

    A skill is within reach when each of its prerequisites has val accuracy of at least ``ready``
    on its easiest level. Within-reach skills get weight proportional to their val error, the others
    ``rehearsal`` each, so that mastered skills keep some practice. ``ready`` defaults to 0.3: the base
    student's ``sub`` level 0 is at 0.38, and at 0.5 it kept ``word`` (the most learnable skill) out of reach.

    With ``patience`` (None: off), a skill that has been targeted for ``patience`` steps without its
    accuracy rising by ``min_gain`` over where the targeting started is given up on (rehearsal weight
    from then on): error-proportional weights otherwise pour the most data into skills out of reach.
    ``absent="unmet"`` counts a prerequisite that is not among the env's skills as unknown (``within_reach``).
    """

    def __init__(
        self,
        ready: float = 0.3,
        rehearsal: float = 0.05,
        patience: int | None = None,
        min_gain: float = 0.1,
        absent: str = "met",
    ):
        self.ready, self.rehearsal, self.patience, self.min_gain = ready, rehearsal, patience, min_gain
        self.absent = check_absent(absent)

    def reset(self, env: gym.Env, seed: int | None = None) -> None:
        super().reset(env, seed)
        self.give_up = _GiveUp(len(self.skills), self.patience, self.min_gain) if self.patience is not None else None

    def act(self, observation: Any) -> np.ndarray:
        acc = np.asarray(observation["accuracy"], dtype=np.float64)
        easiest = easiest_level(observation, len(acc))
        reach = within_reach(self.skills, easiest, self.ready, self.absent)
        if self.give_up is not None:
            reach &= ~self.give_up.check(acc)
            self.give_up.target(reach & (acc < 1.0), acc)
        err = 1.0 - acc
        weights = np.where(reach, err, 0.0)
        if weights.sum() > 0:
            weights = weights / weights.sum()
        return weights_to_action(np.maximum(weights, self.rehearsal))


class SpreadTeacher(_Base):
    """Evenly over the skills still to learn, a little on the rest; gives up on skills that do not move.

    A skill is still to learn while its val accuracy is below ``done``. Uniform spends as much on the
    skills the student already knows as on the ones it does not; this spends ``1 - rehearsal`` of every
    step evenly on the open skills and the rest evenly on the others. A skill that has been open for
    ``patience`` steps without its accuracy rising by ``min_gain`` over where it started is given up on
    (out of reach within the budget) and closed, as Frontier's ``patience``. With ``recent``, the rise is
    measured over the last ``patience`` steps instead, so a skill that jumped and then stalls (a yes/no
    question at its chance floor) is closed too. When no skill is open, the given-up ones are tried again.
    With ``watch="easiest"`` the rise is measured on the skill's easiest level instead of its mean over
    levels (where each level is a threshold of its own, a skill being learnt shows it there first). On
    Math-v1's tuning seeds it changed nothing at patience 2 and lost 1.3 points at patience 1 (suite
    ``v1-tune4``). With ``ready`` (None: off), only skills within reach are open: every prerequisite at
    least ``ready`` on its easiest level, a prerequisite not among the env's skills counting as ``absent``
    (``within_reach``), so a skill that needs what the student does not know gets no data to find it out.
    With ``done_on="easiest"`` a skill is still to learn while its *easiest* level is below ``done``: where
    the env moves a skill's data to its next level once the easiest is mastered (the skill-list envs, at
    ``mastery``), and that level is beyond the student, a ``done`` just below ``mastery`` stops feeding the
    skill before its data moves there. On Math-v1 a story whose level 0 reached 0.9 lost half of it in the
    next step (``benchmarks/results/math-v1.md``, section 7), but closing it does not prevent that: a story
    this gave 1% of a step fell as far while the other stories were trained (section 9), and a closed skill
    is not replayed, so it falls back while it gets no data (section 8). The edge over ``done_on="mean"``
    was small: +0.28 [-0.21, +0.79] on 20 held-out seeds.
    """

    def __init__(
        self,
        done: float = 0.8,
        rehearsal: float = 0.05,
        patience: int = 3,
        min_gain: float = 0.05,
        recent: bool = False,
        watch: str = "mean",
        ready: float | None = None,
        absent: str = "unmet",
        done_on: str = "mean",
    ):
        if not 0.0 <= rehearsal <= 1.0:
            raise ValueError(f"rehearsal must be a share in [0, 1], got {rehearsal}")
        if patience < 1:
            raise ValueError(f"patience must be a number of steps >= 1, got {patience}")
        for name, value in (("watch", watch), ("done_on", done_on)):
            if value not in ("mean", "easiest"):
                raise ValueError(f"{name} must be 'mean' or 'easiest', got {value!r}")
        self.done, self.rehearsal, self.patience, self.min_gain = done, rehearsal, patience, min_gain
        self.recent, self.watch, self.ready, self.absent = bool(recent), watch, ready, check_absent(absent)
        self.done_on = done_on

    def reset(self, env: gym.Env, seed: int | None = None) -> None:
        super().reset(env, seed)
        self.give_up = _GiveUp(len(self.skills), self.patience, self.min_gain, self.recent)

    def act(self, observation: Any) -> np.ndarray:
        acc = np.asarray(observation["accuracy"], dtype=np.float64)
        easiest = easiest_level(observation, len(acc))
        watched = easiest if self.watch == "easiest" else acc
        learnt = easiest if self.done_on == "easiest" else acc
        todo = learnt < self.done
        if self.ready is not None:
            todo &= within_reach(self.skills, easiest, self.ready, self.absent)
        open_ = todo & ~self.give_up.check(watched)
        if not open_.any():
            self.give_up.dropped[:] = False
            open_ = todo if todo.any() else learnt < self.done
        self.give_up.target(open_, watched)
        return even_over(open_, self.rehearsal)


class ProximalTeacher(_Base):
    """Evenly over the ``k`` skills still to learn that the student is nearest to; a little on the rest.

    A skill is still to learn while its val accuracy is below ``done``; of those, the ``k`` whose gold
    answers the student finds most likely (the observation's ``likelihood``: exp of minus the val
    answer-token loss) get ``1 - rehearsal`` of the step evenly, the others ``rehearsal`` evenly. The
    likelihood rises before accuracy does and stays near zero on a skill out of reach, so the teacher
    spends nothing on skills the student cannot yet approach and needs no patience to give up on them
    (``spread`` must spend ``patience`` steps on each to learn that). The zone of proximal development,
    read off the student's loss. Needs an env whose observation has ``likelihood`` (Code-v0 and v1; Math-v0
    and MathStories-v0 with ``likelihood=True``).
    """

    def __init__(self, k: int = 4, done: float = 0.8, rehearsal: float = 0.05):
        if not isinstance(k, int | np.integer) or isinstance(k, bool) or k < 1:
            raise ValueError(f"k must be a number of skills >= 1, got {k!r}")
        if not 0.0 <= rehearsal <= 1.0:
            raise ValueError(f"rehearsal must be a share in [0, 1], got {rehearsal}")
        self.k, self.done, self.rehearsal = int(k), done, rehearsal

    def reset(self, env: gym.Env, seed: int | None = None) -> None:
        space = env.observation_space
        if not isinstance(space, gym.spaces.Dict) or "likelihood" not in space.spaces:
            raise ValueError(
                "agent 'proximal' reads the observation's 'likelihood' field, which this env does not have "
                "(TeachGym/Code-v0 and v1 have it; the Math skill-list envs with likelihood=True)"
            )
        super().reset(env, seed)

    def act(self, observation: Any) -> np.ndarray:
        acc = np.asarray(observation["accuracy"], dtype=np.float64)
        near = np.asarray(observation["likelihood"], dtype=np.float64)
        open_ = np.flatnonzero(acc < self.done)
        chosen = np.zeros(len(acc), dtype=bool)
        chosen[open_[np.argsort(-near[open_], kind="stable")[: self.k]]] = True
        return even_over(chosen, self.rehearsal)


class ProgressTeacher(_Base):
    """Data where it paid last: each open skill's share follows its measured learning progress.

    A skill is open while its val accuracy is below ``done``. The first step spreads evenly over the open
    skills; after that each open skill's weight is its *rate*, the rise of its val accuracy per step's
    worth of data it was given (an average over steps, the last step weighing ``beta``), plus ``explore``
    of the mean weight so that a stalled skill is still tried a little (its prerequisites may be learnt
    since). ``1 - rehearsal`` of the step goes to the open skills that way, ``rehearsal`` evenly to the
    others. Unlike ``spread`` it does not wait ``patience`` steps: a skill that stops moving (a yes/no
    question at its chance floor, a skill out of reach) loses its data at once, and a skill that moves
    fast gets more. A hand-made cousin of the learning-progress bandits (``tscl``), deterministic and
    without their exploration schedule.
    """

    def __init__(self, done: float = 0.8, rehearsal: float = 0.05, beta: float = 0.5, explore: float = 0.1):
        for name, value in (("rehearsal", rehearsal), ("beta", beta), ("explore", explore)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be a share in [0, 1], got {value}")
        self.done, self.rehearsal, self.beta, self.explore = done, rehearsal, beta, explore

    def reset(self, env: gym.Env, seed: int | None = None) -> None:
        super().reset(env, seed)
        k = len(self.skills)
        self.previous: np.ndarray | None = None  # val accuracy when the last action was chosen
        self.share = np.zeros(k)  # each skill's share of the last step's data
        self.rate = np.zeros(k)  # rise of val accuracy per step's worth of data
        self.tried = np.zeros(k, dtype=bool)

    def act(self, observation: Any) -> np.ndarray:
        acc = np.asarray(observation["accuracy"], dtype=np.float64)
        if self.previous is not None:
            given = self.share > 0
            rise = (acc - self.previous) / np.where(given, self.share, 1.0)
            first = given & ~self.tried
            self.rate = np.where(
                first, rise, np.where(given, (1 - self.beta) * self.rate + self.beta * rise, self.rate)
            )
            self.tried |= given
        open_ = acc < self.done
        if not open_.any() or (open_.all() and not self.tried.any()):
            weights = np.ones(len(acc))
        else:
            fresh = open_ & ~self.tried  # never given data: as good as the best so far, to be measured
            rate = np.clip(self.rate, 0.0, None)
            best = rate[open_ & self.tried].max(initial=0.0)
            w = np.where(fresh, max(best, 1e-9), np.where(open_, rate, 0.0))
            if w.sum() <= 0:
                w = open_.astype(np.float64)
            w = w / w.sum()
            w = np.where(open_, w + self.explore / open_.sum(), 0.0)
            w = (1.0 - self.rehearsal) * w / w.sum()
            closed = ~open_
            weights = np.where(closed, self.rehearsal / max(1, closed.sum()), w) if closed.any() else w
        self.previous, self.share = acc, weights / weights.sum()
        return weights_to_action(weights)


class PrerequisiteCurriculumTeacher(_Base):
    """A fixed easy-to-hard schedule: skills in prerequisite order, one at a time, equal time each.

    At step t of a horizon H, the focus is the skill at position ``floor(t * K / H)`` of the
    topological order; it gets ``focus`` of the weight, every skill (focus included) shares the rest.
    The schedule never looks at the student (an open-loop curriculum).
    """

    def __init__(self, focus: float = 0.7):
        self.focus = focus

    def reset(self, env: gym.Env, seed: int | None = None) -> None:
        super().reset(env, seed)
        self.order = topological_order(self.skills)
        self.horizon = env.unwrapped.horizon

    def act(self, observation: Any) -> np.ndarray:
        k = len(self.skills)
        focus = self.order[min(k - 1, self.step * k // self.horizon)]
        weights = np.full(k, (1 - self.focus) / k)
        weights[focus] += self.focus
        return weights_to_action(weights)


def check_weights(weights: Any) -> dict[str, float]:
    """A data mix by skill name, checked: a non-empty dict of finite non-negative numbers, some positive (any
    scale). Raises ValueError naming what is wrong."""
    if not isinstance(weights, dict) or not weights:
        raise ValueError(f"weights must be a non-empty dict of skill name -> weight, got {weights!r}")
    for name, w in weights.items():
        if isinstance(w, bool) or not isinstance(w, int | float) or not 0 <= w < float("inf"):
            raise ValueError(f"weights[{name!r}] must be a finite non-negative number, got {w!r}")
    if not any(weights.values()):
        raise ValueError(f"weights must give some skill a positive weight, got {weights!r}")
    return {str(k): float(v) for k, v in weights.items()}


class FixedMixTeacher(_Base):
    """The same data mix every step, given by skill name (an open-loop static mixture).

    ``weights`` maps skill names to non-negative weights (any scale); skills not named get 0. Useful
    as a hindsight yardstick: e.g. all data on the skills a past run showed to be learnable.
    """

    def __init__(self, weights: dict[str, float]):
        self.weights = check_weights(weights)

    def reset(self, env: gym.Env, seed: int | None = None) -> None:
        super().reset(env, seed)
        names = [s.name for s in self.skills]
        unknown = sorted(set(self.weights) - set(names))
        if unknown:
            raise ValueError(f"weights name skills {unknown} that this env does not have; its skills: {names}")
        self.mix = np.array([self.weights.get(n, 0.0) for n in names])

    def act(self, observation: Any) -> np.ndarray:
        return weights_to_action(self.mix)


class SingleSkillTeacher(_Base):
    """All data on one skill: by default the skill the student is best at (a deliberately bad teacher)."""

    def __init__(self, skill: str | None = None):
        self.skill = skill

    def act(self, observation: Any) -> np.ndarray:
        names = [s.name for s in self.skills]
        if self.skill is None:
            self.skill = names[int(np.argmax(observation["accuracy"]))]
        weights = np.zeros(len(names))
        weights[names.index(self.skill)] = 1.0
        return weights_to_action(weights)


class FocusTeacher(_Base):
    """Most data on the one skill nearest to mastery, some on the other open skills, a little on the rest.

    Open skills are within reach (every prerequisite at least ``ready`` on its easiest level), below
    ``done`` val accuracy and not given up on. The focus is the open skill with the highest val accuracy
    (the one already taking off; ties go to the earlier skill in prerequisite order); it gets ``focus``
    of the weight, the other open skills share ``explore`` (so that the next focus shows itself), and the
    remaining skills share what is left (rehearsal). A focus that has not gained ``min_gain`` for
    ``patience`` steps is given up on, so a skill out of reach does not eat the budget. Where Frontier
    spreads data over the weak skills (the weakest most), this crosses one threshold after another.
    """

    def __init__(
        self,
        focus: float = 0.6,
        explore: float = 0.3,
        ready: float = 0.5,
        done: float = 0.8,
        patience: int = 2,
        min_gain: float = 0.05,
    ):
        if not (focus >= 0 and explore >= 0 and focus + explore <= 1):
            raise ValueError(
                f"focus and explore must be non-negative shares summing to at most 1, got {focus}, {explore}"
            )
        self.focus, self.explore, self.ready, self.done = focus, explore, ready, done
        self.patience, self.min_gain = patience, min_gain

    def reset(self, env: gym.Env, seed: int | None = None) -> None:
        super().reset(env, seed)
        self.order = topological_order(self.skills)
        self.current: int | None = None
        self.best, self.idle = 0.0, 0
        self.dropped: set[int] = set()

    def act(self, observation: Any) -> np.ndarray:
        acc = np.asarray(observation["accuracy"], dtype=np.float64)
        easiest = easiest_level(observation, len(acc))
        if self.current is not None:
            if acc[self.current] >= self.best + self.min_gain:
                self.best, self.idle = acc[self.current], 0
            else:
                self.idle += 1
            if self.idle >= self.patience:
                self.dropped.add(self.current)
        reach = within_reach(self.skills, easiest, self.ready)
        open_ = [i for i in self.order if reach[i] and acc[i] < self.done and i not in self.dropped]
        k = len(self.skills)
        if not open_:
            return weights_to_action(np.ones(k))
        focus = max(open_, key=lambda i: acc[i])  # max keeps the first of equals: prerequisite order
        if focus != self.current:
            self.current, self.best, self.idle = focus, acc[focus], 0
        others = [i for i in open_ if i != focus]
        rest = [i for i in range(k) if i not in open_]
        weights = np.zeros(k)
        weights[focus] = self.focus
        if others:
            weights[others] = self.explore / len(others)
        if rest:
            weights[rest] = (1.0 - self.focus - self.explore) / len(rest)
        return weights_to_action(weights)
