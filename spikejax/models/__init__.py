"""Neuron models: each an `equinox.Module` whose fields are its parameters."""

from ._base import NeuronModel as NeuronModel
from ._base import State as State
from ._fitzhugh_nagumo import FitzHughNagumo as FitzHughNagumo
from ._izhikevich import IZHIKEVICH_PRESETS as IZHIKEVICH_PRESETS
from ._izhikevich import Izhikevich as Izhikevich
from ._lif import LIF as LIF
