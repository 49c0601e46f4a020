"""Spike trains: Poisson generators, spike detection and spike-train statistics.

Units: spikejax times are in ms and rates in Hz (a rate `r` Hz and a step `dt` ms give a
spike probability `r * dt / 1000` per step).
"""

from ._detect import detect_spikes as detect_spikes
from ._poisson import bernoulli_spikes as bernoulli_spikes
from ._poisson import binomial_cdf_table as binomial_cdf_table
from ._poisson import binomial_counts as binomial_counts
from ._poisson import count_at_most as count_at_most
from ._poisson import poisson_spike_times as poisson_spike_times
from ._poisson import poisson_spikes as poisson_spikes
from ._stats import cv_isi as cv_isi
from ._stats import fano_factor as fano_factor
from ._stats import firing_rate as firing_rate
from ._stats import isi as isi
from ._stats import mean_rate as mean_rate
from ._stats import population_cv_isi as population_cv_isi
from ._stats import spike_counts as spike_counts
from ._stats import spike_trains as spike_trains
from ._stats import synchrony_index as synchrony_index
