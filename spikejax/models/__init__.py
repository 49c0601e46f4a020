"""Neuron models: each an `equinox.Module` whose fields are its parameters."""

from ._base import NeuronModel as NeuronModel
from ._base import State as State
from ._base import fill as fill
from ._base import input_current as input_current
from ._conductance import BoltzmannGate as BoltzmannGate
from ._conductance import ConductanceModel as ConductanceModel
from ._conductance import ExpRate as ExpRate
from ._conductance import FunctionRate as FunctionRate
from ._conductance import Gate as Gate
from ._conductance import IonCurrent as IonCurrent
from ._conductance import LinoidRate as LinoidRate
from ._conductance import RateFunction as RateFunction
from ._conductance import RateGate as RateGate
from ._conductance import SigmoidRate as SigmoidRate
from ._fitzhugh_nagumo import FitzHughNagumo as FitzHughNagumo
from ._hodgkin_huxley import HodgkinHuxley as HodgkinHuxley
from ._izhikevich import IZHIKEVICH_2004 as IZHIKEVICH_2004
from ._izhikevich import IZHIKEVICH_PRESETS as IZHIKEVICH_PRESETS
from ._izhikevich import Izhikevich as Izhikevich
from ._izhikevich import IzhikevichRegime as IzhikevichRegime
from ._lif import LIF as LIF
from ._persistent_sodium import INaP as INaP
from ._persistent_sodium import INaPIK as INaPIK
from ._rate_unit import RateUnit as RateUnit
from ._rate_unit import artificial_neuron as artificial_neuron
from ._reduced_hh import ReducedHodgkinHuxley as ReducedHodgkinHuxley
