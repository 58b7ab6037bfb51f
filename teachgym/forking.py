"""Make torch usable in processes forked from a TeachGym process (``AsyncVectorEnv``'s default on Linux).

The problem
-----------
``gym.make_vec(id, vectorization_mode="async")`` builds one environment in the *parent* process to
read its spaces, then forks the workers (the ``multiprocessing`` default on Linux). Building an
environment loads the student's weights (``load_state_dict`` -> ``Tensor.copy_``), and on a machine
with more than one core that copy is large enough for torch to run it as an OpenMP parallel region.
The CPU wheels of torch use GNU OpenMP (libgomp), which on its first parallel region starts a pool of
worker threads and keeps it for reuse.

``fork()`` copies only the calling thread. The child inherits libgomp's bookkeeping, which still
says the pool has ``n - 1`` idle threads, but those threads do not exist in the child. The child's
first parallel region (the same ``load_state_dict`` when the worker builds its own environment) hands
work to the missing threads and waits at the team barrier in ``gomp_team_end`` forever: no error, no
CPU use, a silent hang. libgomp has no fork handler and no way to rebuild its pool. It is not a
TeachGym or Gymnasium bug; the same three lines hang with plain torch::

    torch.randn(512, 512).clone()          # parent: starts libgomp's pool
    if os.fork() == 0:
        torch.randn(512, 512).clone()      # child: waits for threads that were not copied

The ``spawn`` and ``forkserver`` start methods do not hit it because their children start from a
process that has never run a parallel region.

The fix
-------
torch only enters an OpenMP region when its intra-op thread count is above one
(``at::parallel_for`` runs the loop inline otherwise, and MKL and oneDNN follow the same setting).
:func:`install` registers an ``os.register_at_fork`` hook that sets it to one in every forked child,
before any torch op can run there. It is what torch's own ``DataLoader`` does in its
(forked) workers. The hook does nothing in the parent, so a single environment keeps all its threads,
and nothing if the parent never imported torch. Each forked worker then trains on one core. That
suits a vector env, which should have about one worker per core anyway. For workers that use
several threads each, pass ``vector_kwargs={"context": "spawn"}`` (or ``"forkserver"``) to
``gym.make_vec`` and call ``torch.set_num_threads`` in them as usual.

Do not raise the thread count again in a forked child: that brings the hang back.
"""

from __future__ import annotations

import os
import sys

__all__ = ["after_fork_in_child", "install"]

_installed = False


def after_fork_in_child() -> None:
    """In a freshly forked child: keep torch out of the parent's (now threadless) OpenMP pool."""
    torch = sys.modules.get("torch")
    if torch is None or not hasattr(torch, "set_num_threads"):
        return  # the parent never (fully) imported torch, so it has no pool to inherit
    if torch.get_num_threads() > 1:
        torch.set_num_threads(1)


def install() -> None:
    """Register :func:`after_fork_in_child` to run after every ``fork`` (idempotent, imports nothing).

    Call it once in the parent, before it forks: ``import teachgym`` does.
    """
    global _installed
    if _installed or not hasattr(os, "register_at_fork"):  # no fork, no problem (Windows)
        return
    os.register_at_fork(after_in_child=after_fork_in_child)
    _installed = True
