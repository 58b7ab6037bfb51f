"""The registered TeachGym environments (``teachgym.registration`` names them; ``import teachgym``
registers them)."""

from teachgym.registration import ENV_IDS, VECTOR_ENTRY_POINTS, register_envs

__all__ = ["ENV_IDS", "VECTOR_ENTRY_POINTS", "register_envs"]
