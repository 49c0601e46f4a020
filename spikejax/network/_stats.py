"""Network activity statistics: re-exported from `spikejax.spikes`, their one implementation."""

from ..spikes import mean_rate as mean_rate
from ..spikes import population_cv_isi as cv_isi
from ..spikes import synchrony_index as synchrony_index

__all__ = ["cv_isi", "mean_rate", "synchrony_index"]
