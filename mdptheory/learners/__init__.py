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
from mdptheory.learners.lsvi_ucb import LSVIUCB
from mdptheory.learners.lsvi_ucb_pp import LSVIUCBPlusPlus
from mdptheory.learners.lsvi_ucb_restart import LSVIUCBRestart
from mdptheory.learners.dr_lsvi_ucb import DRLSVIUCB
from mdptheory.learners.dr_rpo import DRRPO
from mdptheory.learners.step_based import StepLearner, StepRun, run_steps
from mdptheory.learners.q_learning import QLearning
from mdptheory.learners.double_q import DoubleQLearning
from mdptheory.learners.maxmin_q import MaxminQLearning
from mdptheory.learners.redq import REDQ
from mdptheory.learners.restart_q_ucb import RestartQUCB
from mdptheory.learners.restart_ucbvi import RestartUCBVI
from mdptheory.learners.sliding_window_ucbvi import SlidingWindowUCBVI

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
    "LSVIUCB",
    "LSVIUCBPlusPlus",
    "RestartQUCB",
    "RestartUCBVI",
    "SlidingWindowUCBVI",
    "LSVIUCBRestart",
    "DRLSVIUCB",
    "DRRPO",
    "OptimisticQLearning",
    "PSRL",
    "EpsilonGreedyQLearning",
    "CertaintyEquivalence",
    "UniformRandom",
]
# step-based learners on discounted (or episodic) models: over-estimation bias, not regret
__all__ += ["QLearning", "DoubleQLearning", "MaxminQLearning", "REDQ", "StepLearner", "StepRun", "run_steps"]
