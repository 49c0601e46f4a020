"""spikejax: spiking neural network simulation and neuron dynamics on JAX."""

from . import analysis as analysis
from . import fit as fit
from . import models as models
from . import network as network
from . import plot as plot
from . import spikes as spikes
from . import stimulus as stimulus
from . import surrogate as surrogate
from ._simulate import SimulationResult as SimulationResult
from ._simulate import simulate as simulate

__version__ = "0.1.0"
