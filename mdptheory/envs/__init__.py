"""MDP families: one function per family, each returning a validated core object.

Every docstring states the family's origin and exact dynamics.
"""

from mdptheory.envs.textbook import mdptoolbox_small, puterman_inventory, puterman_two_state

__all__ = ["puterman_two_state", "puterman_inventory", "mdptoolbox_small"]
