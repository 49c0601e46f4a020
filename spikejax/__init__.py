"""spikejax: spiking neural network simulation and neuron dynamics on JAX."""

from . import models as models

__version__ = "0.1.0"
