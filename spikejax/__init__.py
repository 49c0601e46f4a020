"""spikejax: spiking neural network simulation and neuron dynamics on JAX."""

from . import analysis as analysis
from . import fit as fit
from . import models as models
from . import network as network
from . import plot as plot
from . import solvers as solvers
from . import spikes as spikes
from . import stimulus as stimulus
from . import surrogate as surrogate
from ._simulate import SimulationResult as SimulationResult
from ._simulate import simulate as simulate
from .cpu import enable_loop_kernels as _enable_loop_kernels

__version__ = "0.1.0"


def __getattr__(name: str):
    # `spikejax.explore` (the interactive explorer; calling it starts the app) is imported on
    # first use, so that `import spikejax` stays fast and needs no Panel.
    if name == "explore":
        import importlib

        return importlib.import_module(".explore", __name__)
    raise AttributeError(f"module 'spikejax' has no attribute {name!r}")


# Importing the modules above runs no JAX computation, so XLA has not read XLA_FLAGS yet:
# let it compile small CPU loops into single kernels (`spikejax.cpu`; opt out with
# SPIKEJAX_LOOP_KERNELS=0). A test checks that the option is set on import.
_enable_loop_kernels()
