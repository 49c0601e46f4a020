"""Saving and loading network states and run results without pickle: numpy `.npz` archives
(read with `allow_pickle=False`) plus JSON metadata stored inside the archive."""

from __future__ import annotations

import json
import os

import jax.numpy as jnp
import numpy as np

from ._run import RunResult

_SEP = "/"


def _flatten(tree, prefix=""):
    out = {}
    if not tree:  # keep empty dicts (e.g. no spike buffers) so the structure round-trips
        out[prefix + "__empty__"] = np.zeros(0)
    for k, v in tree.items():
        if _SEP in k:
            raise ValueError(f"state key {k!r} must not contain {_SEP!r}")
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, name + _SEP))
        else:
            out[name] = np.asarray(v)
    return out


def _unflatten(flat):
    tree: dict = {}
    for name, v in flat.items():
        parts = name.split(_SEP)
        d = tree
        for p in parts[:-1]:
            d = d.setdefault(p, {})
        if parts[-1] != "__empty__":
            d[parts[-1]] = v
    return tree


def save_state(path: str | os.PathLike, state: dict) -> None:
    """Write a network state (nested dict of arrays) to `path` (`.npz`)."""
    flat = _flatten(state, "state/")
    meta = {"format": "spikejax.network.state", "version": 1}
    np.savez(path, __meta__=np.asarray(json.dumps(meta)), **flat)


def load_state(path: str | os.PathLike) -> dict:
    """Read a state written by `save_state` (no code is executed: `allow_pickle=False`)."""
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["__meta__"]))
        if meta.get("format") != "spikejax.network.state":
            raise ValueError(f"{path}: not a spikejax network state file")
        flat = {k[len("state/") :]: jnp.asarray(z[k]) for k in z.files if k.startswith("state/")}
    return _unflatten(flat)


def save_result(path: str | os.PathLike, result: RunResult) -> None:
    """Write a `RunResult` (spikes, rates, recorded states, final state, timing) to `.npz`."""
    arrays = {}
    for p, (i, t) in result.spikes.items():
        arrays[f"spikes/{p}/i"] = i
        arrays[f"spikes/{p}/t"] = t
    for p, (t, r) in result.rates.items():
        arrays[f"rates/{p}/t"] = t
        arrays[f"rates/{p}/r"] = r
    state_keys = sorted(result.states)
    for j, k in enumerate(state_keys):
        t, v = result.states[k]
        arrays[f"states/{j}/t"] = t
        arrays[f"states/{j}/v"] = v
    arrays.update(_flatten(result.state, "state/"))
    meta = {
        "format": "spikejax.network.result",
        "version": 1,
        "dt": result.dt,
        "t_start": result.t_start,
        "t_stop": result.t_stop,
        "n_neurons": result.n_neurons,
        "compile_s": result.compile_s,
        "run_s": result.run_s,
        "spike_buffer_growths": result.spike_buffer_growths,
        "spikes": sorted(result.spikes),
        "rates": sorted(result.rates),
        "states": state_keys,
    }
    np.savez(path, __meta__=np.asarray(json.dumps(meta)), **arrays)


def load_result(path: str | os.PathLike) -> RunResult:
    """Read a `RunResult` written by `save_result` (`allow_pickle=False`)."""
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["__meta__"]))
        if meta.get("format") != "spikejax.network.result":
            raise ValueError(f"{path}: not a spikejax network result file")
        spikes = {p: (z[f"spikes/{p}/i"], z[f"spikes/{p}/t"]) for p in meta["spikes"]}
        rates = {p: (z[f"rates/{p}/t"], z[f"rates/{p}/r"]) for p in meta["rates"]}
        states = {k: (z[f"states/{j}/t"], z[f"states/{j}/v"]) for j, k in enumerate(meta["states"])}
        flat = {k[len("state/") :]: jnp.asarray(z[k]) for k in z.files if k.startswith("state/")}
    return RunResult(
        spikes=spikes,
        rates=rates,
        states=states,
        state=_unflatten(flat),
        dt=meta["dt"],
        t_start=meta["t_start"],
        t_stop=meta["t_stop"],
        n_neurons=meta["n_neurons"],
        compile_s=meta["compile_s"],
        run_s=meta["run_s"],
        spike_buffer_growths=meta["spike_buffer_growths"],
    )
