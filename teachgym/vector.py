"""One batched vector env for every TeachGym env whose student can batch.

``TeachVectorEnv`` holds ``num_envs`` real sub-environments of one ``TeachEnv`` class (task, interface,
splits, per-env ``np_random``, episode state) whose students are slots of one batched student
(``Student.batched(n)``, e.g. ``CausalLMStudent.batched`` -> ``BatchedStudent``). A vector step runs each
sub-env's own ``prepare`` (planning, data generation, rehearsal, the accumulate-regime replay), trains
all students together in one batched call, evaluates them in one batched forward, and closes each
sub-env's step with its own ``finish``. Sub-env ``i`` therefore follows the trajectory of an independent
env reset with seed ``seed + i`` (observations identical, rewards equal up to float rounding; see
tests/test_vector.py). An env whose report needs more than per-item correctness and loss (a
``make_report`` override) or whose steps distil from a teacher model cannot batch; registering it with a
vector entry point raises at construction.

An env class gets its vector env as a two-line subclass naming it (``env_class``), which the
registration names as the id's ``vector_entry_point``.

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

from teachgym.core import TeachEnv, empty_stats


class TeachVectorEnv(VectorEnv):
    """``num_envs`` episodes of ``env_class`` trained and evaluated in batched kernels (module docstring).

    Args:
        num_envs: number of sub-environments.
        group: students per set of kernels (None: all; see BatchedStudent).
        **kwargs: the env class's arguments (the same for every sub-env).
    """

    env_class: ClassVar[type[TeachEnv]] = TeachEnv
    metadata: ClassVar[dict[str, Any]] = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(self, num_envs: int = 1, *, group: int | None = None, **kwargs: Any):
        if isinstance(num_envs, bool) or not isinstance(num_envs, int) or num_envs < 1:
            raise ValueError(f"num_envs must be a positive integer, got {num_envs!r}")
        if kwargs.get("render_mode") is not None:
            raise ValueError("the batched vector env does not render; use vectorization_mode='sync' to render")
        self.num_envs = num_envs
        self.envs: list[TeachEnv] = [self.env_class(**kwargs) for _ in range(num_envs)]
        first = self.envs[0]
        if type(first).make_report is not TeachEnv.make_report or first.teacher_model is not None:
            raise TypeError(f"{type(first).__name__} cannot batch: its report or training needs a single student")
        if not hasattr(first.student, "batched"):
            raise TypeError(f"{type(first.student).__name__} cannot batch (it has no batched())")
        self.student = first.student.batched(num_envs, group=group)
        self.eval_set = first._eval  # the split every sub-env evaluates on
        for i, env in enumerate(self.envs):
            if not (env.val == first.val and env.test == first.test):
                raise RuntimeError("sub-environments must share their val/test splits")
            env.student = self.student.slot(i, scratch=env.student)  # its own single student decodes answers
        base = first.evaluate()  # every slot holds the base weights now: one evaluation serves them all
        for env in self.envs:
            env._base_report = base
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
        prepared = {i: self.envs[i].prepare_plan(plans[i]) for i in stepping}
        training = [i for i in stepping if prepared[i].batch is not None]

        t = time.perf_counter()
        data = [prepared[i].batch if i in prepared else None for i in range(n)]
        results = self.student.train(data)
        train_time = time.perf_counter() - t

        t = time.perf_counter()
        evaluated = {}
        if training:
            right, loss = self.student.correct(self.eval_set, indices=training)
            evaluated = {i: (right[j], loss[j]) for j, i in enumerate(training)}
        eval_time = time.perf_counter() - t

        for i in stepping:
            env, p = self.envs[i], prepared[i]
            if i in evaluated:
                p.times.train, p.times.evaluate = train_time, eval_time
                t = time.perf_counter()
                report = env.make_report(*evaluated[i])
                p.times.evaluate += time.perf_counter() - t
                stats = results[i]
            else:  # nothing to train on: the student is unchanged, and so is its report
                report, stats = env.state.report, empty_stats()
            # this sub-env's own time: its prepare and finish, not the other sub-envs'
            p.start = time.perf_counter() - p.times.generate - p.times.train - p.times.evaluate
            self._obs[i], rewards[i], terminations[i], truncations[i], env_infos[i] = env.finish(p, stats, report)
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
        """stable-baselines3 VecEnv over a Gymnasium vector env with next-step autoreset (e.g. TeachVectorEnv).

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
