r"""Resumable compiled loops: a learner's episode loop split into an ``init`` that allocates
the whole learner state as a tuple of arrays and a ``chunk`` that runs episodes
``k0 .. k1-1`` from that state, updating it in place.

A learner offering one implements ``resumable(mdp, episodes) -> ResumableLoop`` (called after
``prepare``, like ``compiled``). Its :class:`~mdptheory.learners.base.CompiledLoop` is built
from the same two functions (``init`` then one ``chunk(0, K)``), so a run cut into chunks, or
stopped after any chunk and continued from the saved arrays and the saved state of the
``numpy.random.Generator`` (which numba advances in place), makes exactly the draws and the
floating-point operations of :func:`mdptheory.run`. :func:`mdptheory.regret.long_run.long_run`
drives these loops with checkpoints.

The signatures (``@njit(cache=True, nogil=True)``)::

    init(S, A, params) -> tuple of arrays            # names: ResumableLoop.state_names
    chunk(P, R, initial, noise, noise_std, v_star, k0, k1, eval_every, rng, params, state,
          regret_out, returns_out) -> None

``P, R, initial, noise, noise_std, v_star, eval_every, rng, params`` are those of the compiled
loop (``docs/learner_protocol.md``); ``regret_out`` and ``returns_out`` have length
``k1 - k0`` and receive episode ``k`` at index ``k - k0`` (``regret_out`` pre-filled with NaN;
only episodes with ``k % eval_every == 0`` are evaluated). Scalars that must survive a chunk
boundary live in small arrays of the state; every array of the state is saved in a checkpoint,
work buffers included, so that a resumed run starts from exactly the bytes it stopped at.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

__all__ = ["ResumableLoop"]


@dataclass(frozen=True)
class ResumableLoop:
    """``init``/``chunk`` of a learner's compiled loop (see the module docstring).

    Attributes
    ----------
    init : callable
        ``init(S, A, params) -> tuple of arrays``: the state before episode 0.
    chunk : callable
        ``chunk(P, R, initial, noise, noise_std, v_star, k0, k1, eval_every, rng, params,
        state, regret_out, returns_out)``: episodes ``k0 .. k1-1``.
    params : tuple
        Read-only hyper-parameters and constants (those of ``compiled(mdp, episodes)``).
    state_names : tuple of str
        One name per array of the state, in order (the keys of a checkpoint).
    """

    init: Callable
    chunk: Callable
    params: tuple
    state_names: tuple

    def new_state(self, S: int, A: int) -> tuple:
        """The state before episode 0 (a fresh tuple of arrays)."""
        state = tuple(self.init(int(S), int(A), self.params))
        if len(state) != len(self.state_names):  # pragma: no cover - learner contract
            raise RuntimeError(f"init returned {len(state)} arrays, state_names has {len(self.state_names)}")
        return state
