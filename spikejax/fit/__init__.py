"""Fitting: differentiable simulation, implicit-function gradients, losses and the fit API."""

from ._differentiable import FixedStepSolution as FixedStepSolution
from ._differentiable import SpikeTimes as SpikeTimes
from ._differentiable import event_spike_times as event_spike_times
from ._differentiable import scan_checkpointed as scan_checkpointed
from ._differentiable import solve_adaptive as solve_adaptive
from ._differentiable import solve_fixed as solve_fixed
from ._fitting import FitResult as FitResult
from ._fitting import fit as fit
from ._fitting import fit_many as fit_many
from ._fitting import stack_models as stack_models
from ._implicit import BifurcationPoint as BifurcationPoint
from ._implicit import charpoly as charpoly
from ._implicit import hopf_current as hopf_current
from ._implicit import hurwitz_determinant as hurwitz_determinant
from ._implicit import saddle_node_current as saddle_node_current
from ._losses import fi_curve_error as fi_curve_error
from ._losses import firing_rate as firing_rate
from ._losses import population_rate as population_rate
from ._losses import population_rate_error as population_rate_error
from ._losses import trace_mse as trace_mse
from ._losses import van_rossum_distance as van_rossum_distance
