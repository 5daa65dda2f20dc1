"""Online exploration algorithms for episodic MDPs, one file per algorithm.

Every learner follows the protocol of :mod:`mdptheory.learners.base` (see
``docs/learner_protocol.md``) and is run with :func:`mdptheory.run`.
"""

from mdptheory.learners.base import CompiledLoop, Learner, RegretBound, check_normalization
from mdptheory.learners.baselines import CertaintyEquivalence, EpsilonGreedyQLearning, UniformRandom
from mdptheory.learners.optimistic_q import OptimisticQLearning
from mdptheory.learners.psrl import PSRL
from mdptheory.learners.ucbvi import UCBVI
from mdptheory.learners.mvp import MVP
from mdptheory.learners.variance_mvp import VarianceMVP
from mdptheory.learners.reference_capped import ReferenceCappedDoubling
from mdptheory.learners.ucb_advantage import UCBAdvantage
from mdptheory.learners.q_earlysettled_advantage import QEarlySettledAdvantage
from mdptheory.learners.euler import EULER

__all__ = [
    "Learner",
    "CompiledLoop",
    "RegretBound",
    "check_normalization",
    "UCBVI",
    "MVP",
    "VarianceMVP",
    "ReferenceCappedDoubling",
    "UCBAdvantage",
    "QEarlySettledAdvantage",
    "EULER",
    "OptimisticQLearning",
    "PSRL",
    "EpsilonGreedyQLearning",
    "CertaintyEquivalence",
    "UniformRandom",
]
