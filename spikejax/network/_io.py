"""Saving and loading network states and run results without pickle: numpy `.npz` archives
(read with `allow_pickle=False`) plus JSON metadata stored inside the archive."""

from __future__ import annotations

import json
import os
import zipfile
import zlib

import jax.numpy as jnp
import numpy as np

from ._monitor import SpikeRecord
from ._run import RunResult

_SEP = "/"
#: The format version written by `save_result` (`save_state` writes 1: states did not
#: change).
_VERSION = 2
#: The versions the loaders read (results of version 1 stored float64 spike times, of
#: version 2 int32 steps).
_READABLE = (1, 2)


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


def _open_archive(path, kind: str):
    """`np.load(path)` of a spikejax `kind` file (`"state"` or `"result"`) and its metadata,
    with a `ValueError` naming the file and what is wrong with it."""
    what = f"spikejax network {kind} file"
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such {what}")
    if os.path.getsize(path) == 0:
        raise ValueError(f"{path}: the {what} is empty (0 bytes)")
    f = open(path, "rb")  # noqa: SIM115 - closed by the caller's `with`, or below
    try:
        z = np.load(f, allow_pickle=False)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as err:
        f.close()
        raise ValueError(
            f"{path}: not a readable {what} (truncated or corrupted archive: {err})"
        ) from None
    if not hasattr(z, "files"):
        f.close()
        raise ValueError(f"{path}: not a {what} (a bare array, not an .npz archive)")
    try:
        meta = json.loads(str(z["__meta__"]))
    except KeyError:
        f.close()
        raise ValueError(f"{path}: not a {what} (no __meta__ entry)") from None
    except (json.JSONDecodeError, zipfile.BadZipFile, zlib.error, EOFError, ValueError) as err:
        f.close()
        raise ValueError(f"{path}: corrupted {what} (unreadable metadata: {err})") from None
    if not isinstance(meta, dict) or meta.get("format") != f"spikejax.network.{kind}":
        f.close()
        raise ValueError(f"{path}: not a {what}")
    if meta.get("version") not in _READABLE:
        f.close()
        raise ValueError(
            f"{path}: {what} of format version {meta.get('version')!r}; this spikejax reads "
            f"versions {list(_READABLE)}"
        )
    return f, z, meta


def _read(z, path, kind: str, name: str):
    """Entry `name` of an open archive, with a `ValueError` naming the file and the entry."""
    try:
        return z[name]
    except KeyError:
        raise ValueError(f"{path}: incomplete spikejax network {kind} file: no {name!r}") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as err:
        raise ValueError(
            f"{path}: corrupted spikejax network {kind} file: entry {name!r} is unreadable ({err})"
        ) from None


def save_state(path: str | os.PathLike, state: dict) -> None:
    """Write a network state (nested dict of arrays) to `path` (`.npz`)."""
    flat = _flatten(state, "state/")
    meta = {"format": "spikejax.network.state", "version": 1}
    np.savez(path, __meta__=np.asarray(json.dumps(meta)), **flat)


def load_state(path: str | os.PathLike) -> dict:
    """Read a state written by `save_state` (no code is executed: `allow_pickle=False`)."""
    f, z, _ = _open_archive(path, "state")
    with f, z:
        names = [k for k in z.files if k.startswith("state/")]
        flat = {k[len("state/") :]: jnp.asarray(_read(z, path, "state", k)) for k in names}
    if not flat:
        raise ValueError(f"{path}: the spikejax network state file holds no state")
    return _unflatten(flat)


def save_result(path: str | os.PathLike, result: RunResult) -> None:
    """Write a `RunResult` (spikes as int32 indices and steps, rates, recorded states, final
    state, timing) to `.npz` (records streamed to a store are read into the file)."""
    arrays = {}
    for p, rec in result.spikes.items():
        arrays[f"spikes/{p}/i"] = np.asarray(rec.indices[:], np.int32)
        arrays[f"spikes/{p}/step"] = np.asarray(rec.steps[:], np.int32)
        if rec.offsets is not None:  # a precise population's
            arrays[f"spikes/{p}/offset"] = np.asarray(rec.offsets[:])
    for p, (t, r) in result.rates.items():
        arrays[f"rates/{p}/t"] = t
        arrays[f"rates/{p}/r"] = r
    state_keys = sorted(result.states)
    for j, k in enumerate(state_keys):
        t, v = result.states[k]
        arrays[f"states/{j}/t"] = t
        arrays[f"states/{j}/v"] = np.asarray(v[...])  # a stored record is read from disk
    arrays.update(_flatten(result.state, "state/"))
    meta = {
        "format": "spikejax.network.result",
        "version": _VERSION,
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


def _spike_record(z, read, p: str, dt: float) -> SpikeRecord:
    """Population `p`'s spikes in an open result archive (version 1 stored the times)."""
    i = np.asarray(read(f"spikes/{p}/i"), np.int32)
    if f"spikes/{p}/step" in z.files:
        off = read(f"spikes/{p}/offset") if f"spikes/{p}/offset" in z.files else None
        return SpikeRecord(i, np.asarray(read(f"spikes/{p}/step"), np.int32), dt, off)
    steps = np.rint(np.asarray(read(f"spikes/{p}/t"), np.float64) / dt).astype(np.int32)
    return SpikeRecord(i, steps, dt)


def load_result(path: str | os.PathLike) -> RunResult:
    """Read a `RunResult` written by `save_result` (`allow_pickle=False`)."""
    f, z, meta = _open_archive(path, "result")
    keys = ("spikes", "rates", "states", "dt", "t_start", "t_stop", "n_neurons")
    missing = [k for k in keys if k not in meta]
    if missing:
        f.close()
        raise ValueError(f"{path}: incomplete spikejax network result file: no {missing} in "
                         "its metadata")  # fmt: skip
    with f, z:
        r = lambda name: _read(z, path, "result", name)  # noqa: E731
        spikes = {p: _spike_record(z, r, p, meta["dt"]) for p in meta["spikes"]}
        rates = {p: (r(f"rates/{p}/t"), r(f"rates/{p}/r")) for p in meta["rates"]}
        states = {k: (r(f"states/{j}/t"), r(f"states/{j}/v")) for j, k in enumerate(meta["states"])}
        names = [k for k in z.files if k.startswith("state/")]
        flat = {k[len("state/") :]: jnp.asarray(r(k)) for k in names}
    return RunResult(
        spikes=spikes,
        rates=rates,
        states=states,
        state=_unflatten(flat),
        dt=meta["dt"],
        t_start=meta["t_start"],
        t_stop=meta["t_stop"],
        n_neurons=meta["n_neurons"],
        compile_s=meta.get("compile_s", 0.0),
        run_s=meta.get("run_s", 0.0),
        spike_buffer_growths=meta.get("spike_buffer_growths", 0),
    )
