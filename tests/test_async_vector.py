"""Every registered id runs as an async vector env with the default start method (fork on Linux).

``gym.make_vec(id, vectorization_mode="async")`` builds one env in the parent (for its spaces) and then
forks the workers; a torch that has run a parallel region in the parent hangs in a forked child
unless ``teachgym.forking`` is installed (see its docstring). The work runs in a fresh interpreter
that sets nothing itself, as a user's script would: the pytest process pins torch to one thread
(``conftest.py``), which would hide the hang. A hang fails the test after ``STALL_S`` seconds
without progress, and the whole process group (the forked workers included) is killed.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import teachgym
from tests.conftest import small_kwargs

STALL_S = 150  # one id (build 3 envs, reset, step, close) takes <= 16 s on 2 cores under load

SCRIPT = r"""
import json, sys
import gymnasium as gym
import numpy as np
import teachgym  # what a user imports; nothing else is set up here

for env_id, kwargs in json.loads(sys.argv[1]):
    print("@@ start", env_id, flush=True)
    envs = gym.make_vec(env_id, num_envs=2, vectorization_mode="async", **kwargs)
    try:
        assert isinstance(envs, gym.vector.AsyncVectorEnv), type(envs)
        obs, info = envs.reset(seed=0)
        envs.action_space.seed(0)
        obs, reward, terminated, truncated, info = envs.step(envs.action_space.sample())
        assert np.shape(reward) == (2,) and np.isfinite(reward).all(), reward
        assert envs.observation_space.contains(obs), obs
    finally:
        envs.close()
    print("@@ done", env_id, flush=True)
"""


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)  # the forked workers too, not only the interpreter
        else:
            proc.kill()
    except ProcessLookupError:
        pass
    proc.wait()


def test_every_id_runs_as_a_default_async_vector_env():
    ids = list(teachgym.ENV_IDS)
    work = json.dumps([[env_id, small_kwargs(env_id)] for env_id in ids])
    env = dict(os.environ)
    # Several intra-op threads in the parent is the condition for the hang; force it even on a
    # one-core runner or under an inherited OMP_NUM_THREADS=1.
    env["OMP_NUM_THREADS"] = "2"
    root = str(Path(teachgym.__file__).resolve().parent.parent)  # the teachgym this test imported
    env["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [env.get("PYTHONPATH")])])
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, work],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=os.name == "posix",
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    output: list[str] = []
    done: list[str] = []
    current, deadline = None, time.monotonic() + STALL_S
    try:
        while True:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                _kill_group(proc)
                raise AssertionError(
                    f"gym.make_vec({current or ids[0]!r}, num_envs=2, vectorization_mode='async') made no "
                    f"progress in {STALL_S} s with the default start method "
                    f"({multiprocessing.get_all_start_methods()[0]!r}): the workers hang. Does `import teachgym` "
                    f"call teachgym.forking.install()? Finished: {done}. Output:\n{''.join(output)[-4000:]}"
                ) from None
            if line is None:
                break
            output.append(line)
            if line.startswith("@@ start "):
                current, deadline = line.split(maxsplit=2)[2].strip(), time.monotonic() + STALL_S
            elif line.startswith("@@ done "):
                done.append(line.split(maxsplit=2)[2].strip())
        rc = proc.wait(timeout=STALL_S)
    finally:
        if proc.poll() is None:
            _kill_group(proc)
    assert rc == 0, f"the async vector env script failed (exit {rc}):\n{''.join(output)[-4000:]}"
    assert done == ids, (done, ids)
