"""Dynamical-systems analysis: equilibria, Jacobians, phase planes, bifurcations, excitability."""

from ._classify import FixedPointType as FixedPointType
from ._classify import classify as classify
from ._classify import unstable_dimension as unstable_dimension
