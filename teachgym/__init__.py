"""TeachGym: Gymnasium environments in which the agent is a teacher and the student is a real model.

>>> import gymnasium as gym
>>> import teachgym
>>> env = gym.make("TeachGym/Math-v0")
"""

from teachgym import forking
from teachgym.registration import ENV_IDS, register_envs

__version__ = "0.1.0"

forking.install()  # torch works in forked children (AsyncVectorEnv's default start method on Linux)
register_envs()

__all__ = ["ENV_IDS", "__version__", "register_envs"]
