"""Matplotlib figures (headless-safe); every function returns `(fig, ax)` for the user to adjust."""

from ._bifurcation import bifurcation_diagram as bifurcation_diagram
from ._bifurcation import fi_plot as fi_plot
from ._network import plot_network as plot_network
from ._phase_plane import phase_line as phase_line
from ._phase_plane import phase_portrait as phase_portrait
from ._phase_plane import trace_determinant_chart as trace_determinant_chart
from ._traces import plot_trace as plot_trace
from ._traces import raster as raster
