"""Algorithms as objects: time-stepping schemes, the one fixed step, root finding.

Layer: `models -> solvers -> simulate / network / analysis -> fit -> plot -> cli`. Every
engine advances a model with `advance` and solves equations with `root_find` (inside
`jit`) or `newton` (on the host, for continuation).
"""

from ._continuation import BranchStatus as BranchStatus
from ._continuation import ContinuationError as ContinuationError
from ._continuation import ContinuationProblem as ContinuationProblem
from ._continuation import ContinuationResult as ContinuationResult
from ._continuation import LocatedPoint as LocatedPoint
from ._continuation import PseudoArclength as PseudoArclength
from ._continuation import Segment as Segment
from ._continuation import SpecialPointKind as SpecialPointKind
from ._continuation import Stop as Stop
from ._continuation import continue_branch as continue_branch
from ._continuation import solve_at_parameter as solve_at_parameter
from ._root import RESULTS as RESULTS
from ._root import NewtonSolution as NewtonSolution
from ._root import bordered as bordered
from ._root import default_root_tolerances as default_root_tolerances
from ._root import newton as newton
from ._root import promote_diffrax as promote_diffrax
from ._root import root_find as root_find
from ._schemes import RK4 as RK4
from ._schemes import SCHEMES as SCHEMES
from ._schemes import AbstractScheme as AbstractScheme
from ._schemes import Adaptive as Adaptive
from ._schemes import Euler as Euler
from ._schemes import ExactLinear as ExactLinear
from ._schemes import ExponentialEuler as ExponentialEuler
from ._schemes import SplitEuler as SplitEuler
from ._schemes import default_tolerances as default_tolerances
from ._schemes import exponential_euler_step as exponential_euler_step
from ._schemes import get_scheme as get_scheme
from ._schemes import phi1 as phi1
from ._step import Driven as Driven
from ._step import StepOutput as StepOutput
from ._step import advance as advance
