"""Shared cases of the fuzz suite (`test_fuzz*.py`): the model classes and their fields."""

from __future__ import annotations

import dataclasses

import numpy as np

from spikejax.models import (
    LIF,
    FitzHughNagumo,
    HodgkinHuxley,
    INaP,
    INaPIK,
    Izhikevich,
    MorrisLecar,
    RateUnit,
    ReducedHodgkinHuxley,
)

MODELS = [LIF, Izhikevich, FitzHughNagumo, HodgkinHuxley, ReducedHodgkinHuxley, INaP, INaPIK,
          RateUnit, MorrisLecar]  # fmt: skip


def fields(cls):
    """The numeric parameter fields of a model class (`dataclasses.fields`, not static)."""
    out = []
    for f in dataclasses.fields(cls):
        if f.metadata.get("static", False):
            continue
        if isinstance(f.default, int | float) and not isinstance(f.default, bool):
            out.append(f.name)
    return out


MODEL_FIELDS = [(cls, name) for cls in MODELS for name in fields(cls)]


def lif_closed_form(t, I, tau=20.0, E_L=-65.0):
    """The subthreshold LIF membrane potential from rest under a constant input `I` (mV)."""
    return E_L + I * (1 - np.exp(-t / tau))
