"""A native vector env for TeachGym/Math-v0: E episodes, one BatchedStudent.

``MathVectorEnv(num_envs, **MathEnv kwargs)`` holds ``num_envs`` real :class:`~teachgym.envs.math.MathEnv`
sub-environments (task, interface, splits, per-env ``np_random``, episode state) whose students are
slots of one :class:`~teachgym.students.batched.BatchedStudent`. A vector step runs each sub-env's own
code path for planning, data generation, rehearsal, the accumulate-regime replay and the episode
bookkeeping, while all students train together in one batched call and are evaluated in one batched
forward. Sub-env ``i`` therefore follows the trajectory of an independent ``MathEnv`` reset with seed
``seed + i`` (observations identical, rewards equal up to float rounding; see tests/test_vector.py).

Autoreset follows Gymnasium's next-step mode (``metadata["autoreset_mode"]``): the step after an episode
ends resets that sub-env (its action is ignored; reward 0, not terminated, not truncated, reset info).
``reset(options={"reset_mask": mask})`` resets only the masked sub-envs, as ``SyncVectorEnv`` does.

``SB3VecEnv`` adapts it to stable-baselines3's ``VecEnv`` API (same-step reset, ``terminal_observation``
in the infos), so that SB3 algorithms train on it directly (defined on first access: importing
stable-baselines3 costs seconds that ``gym.make_vec`` need not pay).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space, concatenate, create_empty_array, iterate

from teachgym.core import TeachEnv
from teachgym.envs.math import MathEnv
from teachgym.students.batched import BatchedStudent
from teachgym.students.causal_lm import Encoded
from teachgym.types import DataPlan, Example, StepTimes, TrainStats


class SlotStudent:
    """Sub-env ``index``'s student: a slot of a BatchedStudent.

    ``reset`` resets the slot. ``train`` records the step's data and returns a TrainStats that the
    vector env fills in after the batched training. ``correct`` returns the batched evaluation the
    vector env prepared for this step (or, right after a reset, the base student's evaluation).
    """

    def __init__(self, batched: BatchedStudent, index: int):
        self.batched, self.index = batched, index
        self.config = batched.config
        self.pending: Encoded | None = None  # data recorded by train(), consumed by the vector env
        self.stats: TrainStats | None = None
        self.prepared: tuple[np.ndarray, np.ndarray] | None = None  # this step's evaluation
        self.base: tuple[Encoded, np.ndarray, np.ndarray] | None = None  # evaluation of the base weights
        self.at_base = False

    def reset(self, seed: int) -> None:
        self.batched.reset(self.index, seed)
        self.pending, self.stats, self.prepared, self.at_base = None, None, None, True

    def train(self, examples: Sequence[Example] | Encoded) -> TrainStats:
        if self.pending is not None:
            raise RuntimeError("SlotStudent.train called twice in one step")
        self.pending = examples if isinstance(examples, Encoded) else Encoded.of(examples)
        self.stats = TrainStats(loss=float("nan"), updates=0, examples=len(self.pending), tokens=0)
        self.at_base = False
        return self.stats

    def correct(self, data: Sequence[Example] | Encoded) -> tuple[np.ndarray, np.ndarray]:
        if self.prepared is not None:
            out, self.prepared = self.prepared, None
            return out
        data = data if isinstance(data, Encoded) else Encoded.of(data)
        if self.at_base and self.base is not None and _same(self.base[0], data):
            return self.base[1].copy(), self.base[2].copy()
        right, loss = self.batched.correct(data, indices=[self.index])
        return right[0], loss[0]

    @property
    def num_params(self) -> int:
        return self.batched.num_params


def _same(a: Encoded, b: Encoded) -> bool:
    return a is b or (a.ids.shape == b.ids.shape and bool((a.ids == b.ids).all()) and bool((a.mask == b.mask).all()))


class _Pending:
    """What a sub-env's step holds between data generation and the batched train/evaluate."""

    __slots__ = ("own", "stats", "times")

    def __init__(self, stats: TrainStats, times: StepTimes, own: float):
        self.stats, self.times, self.own = stats, times, own  # own: seconds of this sub-env's bookkeeping


def begin_step(env: TeachEnv, plan: DataPlan) -> _Pending:
    """TeachEnv.step up to training: generate, rehearse, compose the training data (recorded by the slot)."""
    t0 = time.perf_counter()
    times = StepTimes()
    examples, batch, replay = env.compose(plan, times)
    stats = env._train(batch, replay)  # the SlotStudent records the data; training runs batched
    env.count_used(examples)
    return _Pending(stats, times, time.perf_counter() - t0 - times.generate)


def finish_step(env: TeachEnv, pending: _Pending, train_time: float, eval_time: float):
    """TeachEnv.step after training: evaluate (prepared, batched), update the episode, observe, reward."""
    t = time.perf_counter()
    times, stats = pending.times, pending.stats
    times.train = train_time
    report = env.evaluate()
    times.evaluate = eval_time + time.perf_counter() - t
    t = time.perf_counter()
    obs, reward, terminated, truncated = env.advance(report, stats)
    times.other = pending.own + time.perf_counter() - t  # this sub-env's own bookkeeping
    return obs, reward, terminated, truncated, env._info(times, stats)


class MathVectorEnv(VectorEnv):
    """``num_envs`` TeachGym/Math-v0 episodes trained and evaluated in batched kernels (module docstring).

    Args:
        num_envs: number of sub-environments.
        group: students per set of kernels (None: all; see BatchedStudent).
        **kwargs: MathEnv arguments (the same for every sub-env).
    """

    metadata: ClassVar[dict[str, Any]] = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(self, num_envs: int = 1, *, group: int | None = None, **kwargs: Any):
        if isinstance(num_envs, bool) or not isinstance(num_envs, int) or num_envs < 1:
            raise ValueError(f"num_envs must be a positive integer, got {num_envs!r}")
        self.num_envs = num_envs
        self.envs: list[MathEnv] = [MathEnv(**kwargs) for _ in range(num_envs)]
        self.student = BatchedStudent.from_student(self.envs[0].student, num_envs, group=group)
        first = self.envs[0]
        self.eval_set = Encoded.of(first.val + first.test)  # the split every sub-env evaluates on
        base = self.student.correct(self.eval_set, indices=[0])  # all slots hold the base weights now
        for i, env in enumerate(self.envs):
            if not (env.val == first.val and env.test == first.test):
                raise RuntimeError("sub-environments must share their val/test splits")
            env.student = SlotStudent(self.student, i)  # the MathEnv's own CausalLMStudent is dropped
            env.student.base = (self.eval_set, base[0][0], base[1][0])
        self.single_observation_space = first.observation_space
        self.single_action_space = first.action_space
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.metadata = {**type(self).metadata, "render_modes": []}
        self.render_mode = None
        self._obs: list[Any] = [None] * num_envs
        self._autoreset = np.zeros(num_envs, dtype=np.bool_)

    # -- gymnasium vector API -----------------------------------------------------------------
    def reset(self, *, seed: int | Sequence[int | None] | None = None, options: dict[str, Any] | None = None):
        n = self.num_envs
        if seed is None:
            seeds: list[int | None] = [None] * n
        elif isinstance(seed, int | np.integer):
            seeds = [int(seed) + i for i in range(n)]
        else:
            seeds = list(seed)
            if len(seeds) != n:
                raise ValueError(
                    f"If seeds are passed as a list the length must match num_envs={n} but got length={len(seeds)}."
                )
        mask = np.ones(n, dtype=np.bool_)
        if options is not None and "reset_mask" in options:
            options = dict(options)
            mask = options.pop("reset_mask")
            if not isinstance(mask, np.ndarray) or mask.shape != (n,) or mask.dtype != np.bool_:
                raise TypeError(f"options['reset_mask'] must be a bool numpy array of shape ({n},), got {mask!r}")
            if not mask.any():
                raise ValueError("options['reset_mask'] must contain at least one True value")
        infos: dict[str, Any] = {}
        for i in np.flatnonzero(mask):
            self._obs[i], info = self.envs[i].reset(seed=seeds[i], options=options)
            self._autoreset[i] = False
            infos = self._add_info(infos, info, int(i))
        if any(o is None for o in self._obs):
            raise RuntimeError("reset with a reset_mask before a full reset: some sub-environments have no episode")
        return self._observations(), infos

    def step(self, actions: Any):
        if any(o is None for o in self._obs):
            raise RuntimeError("call reset() before step()")
        n = self.num_envs
        actions = list(iterate(self.action_space, actions))
        stepping = [i for i in range(n) if not self._autoreset[i]]
        # validate every action before any sub-env changes (as TeachEnv.step plans before acting)
        plans = {i: self.envs[i].interface.plan(actions[i], self.envs[i].state) for i in stepping}
        rewards = np.zeros(n, dtype=np.float64)
        terminations = np.zeros(n, dtype=np.bool_)
        truncations = np.zeros(n, dtype=np.bool_)
        env_infos: list[dict[str, Any]] = [{} for _ in range(n)]
        for i in range(n):
            if self._autoreset[i]:  # next-step autoreset: a new episode; the action is ignored
                self._obs[i], env_infos[i] = self.envs[i].reset()
        pending = {i: begin_step(self.envs[i], plans[i]) for i in stepping}

        t = time.perf_counter()
        slots = [env.student for env in self.envs]
        data = [slot.pending for slot in slots]
        for slot in slots:
            slot.pending = None
        results = self.student.train(data)
        for slot, d, result in zip(slots, data, results, strict=True):
            if d is not None:  # fill in the TrainStats the sub-env already holds (examples is its own)
                slot.stats.loss, slot.stats.updates = result.loss, result.updates
                slot.stats.tokens, slot.stats.diverged = result.tokens, result.diverged
        train_time = time.perf_counter() - t

        t = time.perf_counter()
        if stepping:
            right, loss = self.student.correct(self.eval_set, indices=stepping)
            for j, i in enumerate(stepping):
                slots[i].prepared = (right[j], loss[j])
        eval_time = time.perf_counter() - t

        for i in stepping:
            self._obs[i], rewards[i], terminations[i], truncations[i], env_infos[i] = finish_step(
                self.envs[i], pending[i], train_time, eval_time
            )
        infos: dict[str, Any] = {}
        for i in range(n):
            infos = self._add_info(infos, env_infos[i], i)
        self._autoreset = terminations | truncations
        return self._observations(), rewards, terminations, truncations, infos

    def _observations(self):
        out = create_empty_array(self.single_observation_space, n=self.num_envs, fn=np.zeros)
        return concatenate(self.single_observation_space, self._obs, out)

    def render(self) -> None:
        return None

    def close_extras(self, **kwargs: Any) -> None:
        for env in self.envs:
            env.close()

    # -- sub-environment access (as SyncVectorEnv) --------------------------------------------
    def call(self, name: str, *args: Any, **kwargs: Any) -> tuple[Any, ...]:
        out = []
        for env in self.envs:
            attr = getattr(env, name)
            out.append(attr(*args, **kwargs) if callable(attr) else attr)
        return tuple(out)

    def get_attr(self, name: str) -> tuple[Any, ...]:
        return tuple(getattr(env, name) for env in self.envs)

    def set_attr(self, name: str, values: Any) -> None:
        values = values if isinstance(values, list | tuple) else [values] * self.num_envs
        if len(values) != self.num_envs:
            raise ValueError(f"values must be a list of length {self.num_envs}, got {len(values)}")
        for env, value in zip(self.envs, values, strict=True):
            setattr(env, name, value)

    @property
    def np_random(self) -> tuple[np.random.Generator, ...]:
        return tuple(env.np_random for env in self.envs)

    @property
    def np_random_seed(self) -> tuple[int, ...]:
        return tuple(env.np_random_seed for env in self.envs)


def unbatch_info(infos: dict[str, Any], index: int) -> dict[str, Any]:
    """Sub-env ``index``'s info dict out of a vector env's batched infos (keys with their ``_key`` mask)."""
    out = {}
    for key, value in infos.items():
        if key.startswith("_") and key[1:] in infos:
            continue
        present = infos.get(f"_{key}")
        if present is not None and not present[index]:
            continue
        out[key] = unbatch_info(value, index) if isinstance(value, dict) else _item(value[index])
    return out


def _item(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _sb3_vec_env_class() -> type:
    """Define SB3VecEnv on first use (importing stable-baselines3 costs ~2 s that make_vec need not pay)."""
    from stable_baselines3.common.env_util import is_wrapped
    from stable_baselines3.common.vec_env.base_vec_env import VecEnv
    from stable_baselines3.common.vec_env.base_vec_env import VecEnvIndices as Indices

    class SB3VecEnv(VecEnv):
        """stable-baselines3 VecEnv over a Gymnasium vector env with next-step autoreset (e.g. MathVectorEnv).

        SB3 resets finished sub-envs in the same step: a finished sub-env's final observation goes to
        ``infos[i]["terminal_observation"]`` and the returned observation is that of its new episode (a
        partial ``reset_mask`` reset of the vector env). Seeds given to ``seed()`` and options given to
        ``set_options()`` are used at the next ``reset()``, as in DummyVecEnv.
        """

        def __init__(self, venv: VectorEnv):
            if venv.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP) != AutoresetMode.NEXT_STEP:
                raise ValueError("SB3VecEnv needs a vector env with next-step autoreset and reset_mask support")
            self.venv = venv
            self._actions: np.ndarray | None = None
            super().__init__(venv.num_envs, venv.single_observation_space, venv.single_action_space)

        def reset(self):
            seeds = None if all(s is None for s in self._seeds) else list(self._seeds)
            options = self._options[0]
            if any(o != options for o in self._options):
                raise NotImplementedError("per-env reset options differ; a vector env takes one options dict")
            obs, infos = self.venv.reset(seed=seeds, options=dict(options) or None)
            self.reset_infos = [unbatch_info(infos, i) for i in range(self.num_envs)]
            self._reset_seeds()
            self._reset_options()
            return obs

        def step_async(self, actions: np.ndarray) -> None:
            self._actions = actions

        def step_wait(self):
            obs, rewards, terminated, truncated, infos = self.venv.step(self._actions)
            dones = terminated | truncated
            info_list = [unbatch_info(infos, i) for i in range(self.num_envs)]
            for i in np.flatnonzero(dones):
                info_list[i]["terminal_observation"] = _index_obs(obs, i)
                info_list[i]["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
            if dones.any():
                new_obs, reset_infos = self.venv.reset(options={"reset_mask": dones})
                for i in np.flatnonzero(dones):
                    _assign_obs(obs, new_obs, i)
                    self.reset_infos[i] = unbatch_info(reset_infos, i)
            return obs, rewards.astype(np.float32), dones, info_list

        def close(self) -> None:
            self.venv.close()

        def _targets(self, indices: Indices) -> list[gym.Env]:
            return [self.venv.envs[i] for i in self._get_indices(indices)]

        def get_attr(self, attr_name: str, indices: Indices = None) -> list[Any]:
            return [getattr(env, attr_name) for env in self._targets(indices)]

        def set_attr(self, attr_name: str, value: Any, indices: Indices = None) -> None:
            for env in self._targets(indices):
                setattr(env, attr_name, value)

        def env_method(self, method_name: str, *method_args, indices: Indices = None, **method_kwargs) -> list[Any]:
            return [getattr(env, method_name)(*method_args, **method_kwargs) for env in self._targets(indices)]

        def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: Indices = None) -> list[bool]:
            return [is_wrapped(env, wrapper_class) for env in self._targets(indices)]

    return SB3VecEnv


def __getattr__(name: str) -> Any:
    if name == "SB3VecEnv":
        cls = globals()["SB3VecEnv"] = _sb3_vec_env_class()
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _index_obs(obs: Any, i: int) -> Any:
    if isinstance(obs, dict):
        return {k: _index_obs(v, i) for k, v in obs.items()}
    if isinstance(obs, tuple):
        return tuple(_index_obs(v, i) for v in obs)
    return np.array(obs[i], copy=True)


def _assign_obs(obs: Any, new: Any, i: int) -> None:
    if isinstance(obs, dict):
        for k in obs:
            _assign_obs(obs[k], new[k], i)
    elif isinstance(obs, tuple):
        for a, b in zip(obs, new, strict=True):
            _assign_obs(a, b, i)
    else:
        obs[i] = new[i]
