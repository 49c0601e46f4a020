r"""The Potjans & Diesmann (2014) cortical microcircuit as a built-in network.

77,169 current-based LIF neurons in 8 populations (excitatory and inhibitory cells of layers
2/3, 4, 5 and 6) under about 1 mm$^2$ of early sensory cortex, about $3\times10^8$ synapses,
driven by Poisson (or equivalent DC) background input.

Parameters follow the paper (Table 5) and the reference implementation
(INM-6 / NEST `microcircuit-PD14-model`, `network_params.py`):

* LIF (`iaf_psc_exp`): $C_m = 250$ pF, $\tau_m = 10$ ms, $E_L = V_\mathrm{reset} = -65$ mV,
  $V_\mathrm{th} = -50$ mV, $t_\mathrm{ref} = 2$ ms; exponential PSCs $\tau_s = 0.5$ ms.
* Connections: `fixed_total_number` with multapses and autapses; the number of synapses
  from $j$ to $i$ is $S_{ij} = \ln(1 - C_{ij}) / \ln(1 - 1/(N_i N_j))$ for the connection
  probability table $C_{ij}$, times `scale * k_scale`.
* Weights: mean PSP 0.15 mV, i.e. a PSC of 87.81 pA (the peak of the PSP of an
  exponential current), relative sd 0.1; inhibitory $g = -4$; L4e $\to$ L2/3e doubled.
  Resampled until the sign is right.
* Delays: normal, mean 1.5 ms (excitatory) / 0.75 ms (inhibitory), relative sd 0.5,
  resampled until $\geq \Delta t / 2$, rounded to steps (so $\geq \Delta t$).
* Background: `K_ext` = (1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100) Poisson inputs at
  8 Hz per neuron (binomial draws per neuron, no stored synapses), or their mean as a DC
  current $I = \nu_\mathrm{bg} K_\mathrm{ext} J \tau_s$.
* Down-scaling the in-degrees by $k$ (`k_scale`) multiplies weights by $1/\sqrt{k}$ (keeping
  the input variance) and adds the lost mean input as DC,
  $\Delta I_i = \tau_s (1 - \sqrt{k}) \sum_j J_{ij} K_{ij} \nu_j$ with the full-scale rates
  $\nu_j$ (and likewise for the Poisson background), as in the reference implementation.

Membrane and exponential PSCs are integrated exactly with their propagators (Rotter &
Diesmann 1999), as NEST's `iaf_psc_exp` does (`Population(synapse_integration="exact")`, the
default), so every PSC carries its exact charge $J\tau_s$ and the PSP does not depend on
$\Delta t$. With `synapse_integration="held"` the current of each step's start is held over
the step, and a PSC of weight $J$ then delivers the charge
$J\,\Delta t / (1 - e^{-\Delta t/\tau_s})$ instead of $J \tau_s$ (10 % more at
$\Delta t = 0.1$, $\tau_s = 0.5$ ms); only there `charge_correction` (default: on with
`"held"`) multiplies every PSC by $(\tau_s/\Delta t)(1 - e^{-\Delta t/\tau_s})$ so that
each PSC carries the exact charge (its PSP is still first order in $\Delta t$). With the exact
propagators a charge correction would count the correction twice, and is refused.

Against NEST 3.10 run side by side on the same derived parameters
(`benchmarks/bench_microcircuit_nest.py`; scale 0.1, float64, 5 seeds each, rates over
0.2-1.2 s; `benchmarks/results/microcircuit_nest_0.1_200-1200ms.json`), mean $\pm$ sd over
seeds (Hz), spikejax / NEST: L2/3e 0.478 $\pm$ 0.028 / 0.494 $\pm$ 0.030, L2/3i 2.14 $\pm$ 0.05
/ 2.13 $\pm$ 0.02, L4e 4.01 $\pm$ 0.05 / 4.00 $\pm$ 0.04, L4i 5.01 $\pm$ 0.01 / 5.03 $\pm$
0.04, L5e 6.80 $\pm$ 0.28 / 6.64 $\pm$ 0.23, L5i 7.83 $\pm$ 0.04 / 7.80 $\pm$ 0.05, L6e 0.85
$\pm$ 0.04 / 0.85 $\pm$ 0.04, L6i 7.01 $\pm$ 0.04 / 7.02 $\pm$ 0.02: every population within
NEST's spread over seeds. Over 0.5-1.5 s (the reference implementation's window; 3 seeds
each, `microcircuit_nest_0.1_500-1500ms.json`) L2/3e is 0.478 $\pm$ 0.009 / 0.493 $\pm$
0.044. The held path with the charge correction gives 0.497 Hz for L2/3e (seed 0), within
the same spread. The rates are below the published full-scale ones
(`MICROCIRCUIT_REFERENCE_RATES`) at scale 0.1 in both simulators, and approach them as the
in-degree scaling approaches 1 (at 0.02 the upper layers nearly fall silent).

Reference: Potjans TC, Diesmann M (2014) The cell-type specific cortical microcircuit:
relating structure and activity in a full-scale spiking network model. Cereb Cortex
24(3):785-806. doi:10.1093/cercor/bhs358.
"""

from __future__ import annotations

import math
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..models import LIF
from ..spikes._poisson import binomial_cdf_table, binomial_counts
from ._connectivity import Explicit, ExplicitRows
from ._input import PoissonInput
from ._monitor import SpikeMonitor
from ._network import Network, _check_dtype
from ._population import Population
from ._projection import Projection, _rng_from_key
from ._synapse import Exponential

__all__ = [
    "MICROCIRCUIT_NAME",
    "MICROCIRCUIT_POPULATIONS",
    "MICROCIRCUIT_REFERENCE_RATES",
    "microcircuit",
    "microcircuit_memory_estimate",
    "microcircuit_parameters",
    "microcircuit_rates",
]

#: Name of the single population of the `"merged"` layout.
MICROCIRCUIT_NAME = "microcircuit"

#: Population names (layer and type), in the order of every table below.
MICROCIRCUIT_POPULATIONS = ("L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I")

_FULL_N = np.array([20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948])

# Connection probabilities C[target, source] (Potjans & Diesmann 2014, Table 5).
_CONN_PROBS = np.array(
    [
        [0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0],
        [0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0],
        [0.0077, 0.0059, 0.0497, 0.1350, 0.0067, 0.0003, 0.0453, 0.0],
        [0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0],
        [0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0],
        [0.0548, 0.0269, 0.0257, 0.0022, 0.0600, 0.3158, 0.0086, 0.0],
        [0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252],
        [0.0364, 0.0010, 0.0034, 0.0005, 0.0277, 0.0080, 0.0658, 0.1443],
    ]
)

_K_EXT = np.array([1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100])

#: Mean rates (Hz) of the full-scale model in the reference implementation
#: (`full_mean_rates` of INM-6 microcircuit-PD14-model, one NEST run; also used for the
#: DC compensation of down-scaled in-degrees).
MICROCIRCUIT_REFERENCE_RATES = dict(
    zip(MICROCIRCUIT_POPULATIONS, (0.903, 2.965, 4.414, 5.876, 7.569, 8.633, 1.105, 7.829))
)

_BG_RATE = 8.0  # Hz
_PSP_EXC = 0.15  # mV
_G = -4.0
_W_REL_SD = 0.1
_D_EXC, _D_INH, _D_REL_SD = 1.5, 0.75, 0.5  # ms
_C_M, _TAU_M, _TAU_SYN = 250.0, 10.0, 0.5  # pF, ms, ms
_E_L, _V_TH, _V_RESET, _T_REF = -65.0, -50.0, -65.0, 2.0
_V0_MEAN = np.array([-68.28, -63.16, -63.33, -63.45, -63.11, -61.66, -66.72, -61.43])
_V0_SD = np.array([5.36, 4.57, 4.74, 4.94, 4.94, 4.55, 5.46, 4.48])


def _psc_over_psp(C_m, tau_m, tau_s):
    """PSC amplitude (pA) per mV of PSP peak for an exponential current into an LIF membrane."""
    t_peak = tau_m * tau_s / (tau_m - tau_s) * math.log(tau_m / tau_s)
    peak = (
        tau_s
        / (C_m * (1 - tau_s / tau_m))
        * (math.exp(-t_peak / tau_m) - math.exp(-t_peak / tau_s))
    )
    return 1.0 / peak


def microcircuit_parameters(
    scale: float = 1.0, *, k_scale: float | None = None, background: str = "poisson"
) -> dict:
    r"""Derived parameters of the microcircuit at neuron-number scaling `scale` and in-degree
    scaling `k_scale` (default: `scale`), as numpy arrays in `MICROCIRCUIT_POPULATIONS` order:
    `n` (neurons), `n_synapses[target, source]`, `indegree[target, source]` (mean synapses per
    target neuron), `weight[target, source]` (mean PSC, pA, signed), `weight_ext` (pA),
    `k_ext` (Poisson inputs per neuron), `dc` (pA per neuron), `full_n_synapses`."""
    _check_scale("scale", scale)
    k_scale = scale if k_scale is None else k_scale
    _check_scale("k_scale", k_scale)
    if background not in ("poisson", "dc"):
        raise ValueError(f"background must be 'poisson' or 'dc', got {background!r}")
    prod = np.outer(_FULL_N, _FULL_N).astype(float)
    full_syn = np.log1p(-_CONN_PROBS) / np.log1p(-1.0 / prod)
    n = np.round(_FULL_N * scale).astype(np.int64)
    if np.any(n < 1):
        raise ValueError(f"scale={scale} leaves a population empty; use scale >= {1 / 1065:.4g}")
    n_syn = np.round(full_syn * scale * k_scale).astype(np.int64)
    k_ext = np.round(_K_EXT * k_scale).astype(np.int64)
    J = _PSP_EXC * _psc_over_psp(_C_M, _TAU_M, _TAU_SYN)  # 87.81 pA
    W = np.tile(np.array([J, _G * J]), (8, 4))
    W[0, 2] = 2.0 * J  # L4e -> L2/3e doubled
    w_ext = J
    dc = _BG_RATE * _K_EXT * w_ext * _TAU_SYN * 1e-3 if background == "dc" else np.zeros(8)
    if k_scale != 1.0:
        rates = np.array([MICROCIRCUIT_REFERENCE_RATES[p] for p in MICROCIRCUIT_POPULATIONS])
        full_indeg = full_syn / _FULL_N[:, None]
        lost = 1e-3 * _TAU_SYN * (1.0 - math.sqrt(k_scale))
        dc = dc + lost * np.sum(W * full_indeg * rates, axis=1)
        if background == "poisson":
            dc = dc + lost * w_ext * _K_EXT * _BG_RATE
        W = W / math.sqrt(k_scale)
        w_ext = w_ext / math.sqrt(k_scale)
    return {
        "n": n,
        "n_synapses": n_syn,
        "indegree": n_syn / n[:, None],
        "weight": W,
        "weight_ext": float(w_ext),
        "k_ext": k_ext,
        "dc": dc,
        "full_n_synapses": full_syn,
        "scale": float(scale),
        "k_scale": float(k_scale),
        "background": background,
    }


class _PerNeuronPoissonInput(PoissonInput):
    r"""`PoissonInput` whose number of sources depends on the neuron: neuron $i$ gets
    $\mathrm{Binomial}(K_{g_i}, \nu\,\Delta t)$ inputs of weight `weight` per step, $g_i$ its
    group (population) and $K_g$ = `group_sources[g]`. Sampled by inversion against each
    group's CDF (one row per group, built in float64 like `PoissonInput`'s)."""

    groups: Any
    group_sources: tuple = eqx.field(static=True)

    def __init__(self, target, groups, group_sources, rate, weight, *, synapse=None, receptor=None):
        ks = tuple(int(k) for k in group_sources)
        super().__init__(target, max(ks), rate, weight, synapse=synapse, receptor=receptor)
        self.groups = jnp.asarray(groups, jnp.int32)
        self.group_sources = ks

    def count_table(self, dt: float, dtype) -> np.ndarray:
        """One CDF row per group (`spikejax.spikes.binomial_cdf_table`, float64 on the host)."""
        return binomial_cdf_table(self.group_sources, float(self.rate) * dt * 1e-3, dtype)

    def draw(self, key, n: int, dt: float, dtype, table=None):
        table = self.count_table(dt, dtype) if table is None else table
        counts = binomial_counts(key, table, (n,), dtype, rows=self.groups).astype(dtype)
        return counts * jnp.asarray(self.weight, dtype)


def microcircuit_rates(result, n=None, *, t_start: float = 0.0) -> dict[str, float]:
    """Mean rate (Hz) of each of the 8 populations in `result` (a `RunResult` with spike
    monitors) over spikes after `t_start` ms. `n`: population sizes
    (`microcircuit_parameters(scale)["n"]`), needed for the `"merged"` layout."""
    dur = (result.t_stop - max(t_start, result.t_start)) * 1e-3
    if not (dur > 0):
        raise ValueError(f"t_start must be < the end of the run ({result.t_stop} ms)")
    if MICROCIRCUIT_NAME not in result.spikes:
        out = {}
        for p in MICROCIRCUIT_POPULATIONS:
            _, t = result.spikes[p]
            out[p] = float(np.sum(t > t_start) / (result.n_neurons[p] * dur))
        return out
    if n is None:
        raise ValueError("microcircuit_rates: give the population sizes n for the merged layout")
    offs = np.concatenate([[0], np.cumsum(n)])
    i, t = result.spikes[MICROCIRCUIT_NAME]
    counts = np.bincount(np.searchsorted(offs, i[t > t_start], side="right") - 1, minlength=8)
    return {p: float(counts[k] / (n[k] * dur)) for k, p in enumerate(MICROCIRCUIT_POPULATIONS)}


def _check_scale(name, s):
    if not (isinstance(s, (int, float, np.floating)) and 0 < s <= 1):
        raise ValueError(f"{name} must be a number in (0, 1], got {s!r}")


def _redraw_normal(rng, mean, sd, n, ok):
    """Normal samples, redrawing those that fail `ok` (NEST's `redraw`): each round draws
    as many values as failed, in index order, and checks only the redrawn ones."""
    x = rng.normal(mean, sd, n)
    bad = np.flatnonzero(~ok(x))
    for _ in range(100):
        if not bad.size:
            return x
        v = rng.normal(mean, sd, bad.size)
        x[bad] = v
        bad = bad[~ok(v)]
    raise RuntimeError("could not draw values in the allowed range")  # pragma: no cover


def _draw_pair(prm, keys, i, j, dt, *, only_pre: bool = False):
    """The synapses of the (target `i`, source `j`) pair as `(pre, post, weight pA, delay
    ms)`, indices local to the populations (`only_pre`: the pre indices alone, the first draw
    of the pair's stream)."""
    s = int(prm["n_synapses"][i, j])
    rng = _rng_from_key(keys[8 * i + j])
    pre = rng.integers(0, int(prm["n"][j]), s)
    if only_pre:
        return pre
    post = rng.integers(0, int(prm["n"][i]), s)
    w_mean = prm["weight"][i, j]
    if w_mean > 0:
        w = _redraw_normal(rng, w_mean, _W_REL_SD * w_mean, s, lambda x: x >= 0)
    else:
        w = _redraw_normal(rng, w_mean, -_W_REL_SD * w_mean, s, lambda x: x <= 0)
    d_mean = _D_EXC if j % 2 == 0 else _D_INH
    d = _redraw_normal(rng, d_mean, _D_REL_SD * d_mean, s, lambda x: x >= 0.5 * dt)
    return pre, post, w, d


def _pairs(prm):
    """The non-empty (target, source) pairs, target-major (the order of the streams)."""
    return [(i, j) for i in range(8) for j in range(8) if int(prm["n_synapses"][i, j]) > 0]


def _draw_blocks(prm, key, dt):
    """The synapses of every non-empty (target i, source j) pair as
    `(i, j, pre, post, weight pA, delay ms)`, indices local to the populations."""
    keys = jax.random.split(key, 64)
    return [(i, j, *_draw_pair(prm, keys, i, j, dt)) for i, j in _pairs(prm)]


def _merged_rows(prm, key, dt, corr: float, wdtype):
    """Every synapse of the merged layout grouped by global pre index (`ExplicitRows`:
    int64 offsets, int32 post, `wdtype` weights (pA, times `corr`), float32 delays (ms, whole
    steps of `dt`)), built one (target, source) pair at a time straight into the final
    arrays: the temporaries are those of the largest pair, not of the whole network.

    The same streams as `_draw_blocks` and the same order as sorting the concatenation of
    its pairs by `(pre, post)` (stably): a pre neuron's row holds its synapses onto target
    population 0, then 1, ..., each sorted by post index. A first pass over the pairs
    redraws only their pre indices to count the out-degrees."""
    keys = jax.random.split(key, 64)
    n = prm["n"]
    offs = np.concatenate([[0], np.cumsum(n)])
    n_tot = int(offs[-1])
    counts = np.zeros(n_tot, np.int64)
    pairs = _pairs(prm)
    for i, j in pairs:
        pre = _draw_pair(prm, keys, i, j, dt, only_pre=True)
        counts[offs[j] : offs[j + 1]] += np.bincount(pre, minlength=int(n[j]))
        del pre
    offsets = np.zeros(n_tot + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    n_syn = int(offsets[-1])
    post_out = np.empty(n_syn, np.int32)
    w_out = np.empty(n_syn, wdtype)
    d_out = np.empty(n_syn, np.float32)
    fill = offsets[:-1].copy()  # the next free position of each row
    for i, j in pairs:
        pre, post, w, d = _draw_pair(prm, keys, i, j, dt)
        ni, nj, s = int(n[i]), int(n[j]), pre.size
        c = np.bincount(pre, minlength=nj)
        # one int64 sort key per synapse, (pre, post, draw index): sorting its values (no
        # argsort, no lexsort) gives the stable (pre, post) order, and the key holds the
        # permutation and the sorted post indices (ni * nj < 2**29 and s < 2**26 at full scale)
        b = max(1, (s - 1).bit_length())
        if (ni * nj - 1) >> (62 - b):  # pragma: no cover - beyond full scale
            raise RuntimeError(f"pair ({i}, {j}): sort key of {ni} x {nj} x {s} overflows")
        key = pre
        del pre
        key *= ni
        key += post
        del post
        key <<= b
        key |= np.arange(s, dtype=np.int64)
        key.sort()
        order = key & ((1 << b) - 1)
        key >>= b
        key %= ni  # the sorted post indices
        key += offs[i]
        # row p of the pair starts at `fill[p]`; the k-th sorted synapse of row p goes to
        # fill[p] + k, i.e. (fill[p] - first[p]) + (its position in the sorted pair)
        first = np.cumsum(c) - c
        pos = np.repeat(fill[offs[j] : offs[j + 1]] - first, c)
        pos += np.arange(s, dtype=np.int64)
        post_out[pos] = key
        del key
        if corr != 1.0:
            w *= corr
        w_out[pos] = w[order]
        del w
        # delays rounded to whole steps here (in float64, as `CompiledProjection` would),
        # stored as float32 milliseconds that round back to the same steps
        d /= dt
        np.rint(d, out=d)
        d *= dt
        d_out[pos] = d[order]
        del d, order, pos
        fill[offs[j] : offs[j + 1]] += c
    return ExplicitRows(offsets, post_out, weight=w_out, delay=d_out)


#: Bytes of the process before the network exists (Python, numpy, JAX and XLA's CPU client
#: with spikejax imported; measured: 0.35-0.45 GB), plus XLA's compilation of the step.
_BASE_BYTES = 700_000_000
#: Host temporaries per synapse of the pair being drawn (`_merged_rows`), an upper bound: its
#: int64 pre and post indices (the pre array becomes the sort key), float64 weights and
#: delays, the permutation, the positions and one gathered copy (about 52 bytes at once).
_PAIR_BYTES_PER_SYNAPSE = 64


def microcircuit_memory_estimate(
    scale: float = 0.1, *, k_scale: float | None = None, dtype=None
) -> int:
    r"""Peak bytes of resident memory to build and run `microcircuit(scale, k_scale=...,
    dtype=...)` (the default `"merged"` layout) on a CPU, from the array sizes alone (no
    random draw): the largest of

    * drawing: the final host arrays (int32 post index, weight, float32 delay: $8 + w$ bytes
      per synapse, $w$ the weight's width) plus the temporaries of the largest (target,
      source) pair (64 bytes per synapse of that pair);
    * moving to the device: the host arrays, the device table (int32 targets, weights, int8
      delay steps: $5 + w$ bytes per synapse, plus the largest out-degree $K$ and the
      offsets) and one host copy of its widest column while it is transferred,

    plus 0.7 GB for the process itself and the compilation. The run adds only per-neuron
    state. Checked against the measured peak in `benchmarks/bench_memory.py`
    (`benchmarks/results/memory_profile_*.json`) and against the arrays' bytes in
    `tests/test_microcircuit_memory.py`.

    **Returns:** bytes (int)."""
    parts = _memory_parts(scale, k_scale, dtype)
    return int(parts["base"] + max(parts["drawing"], parts["moving"]))


def _memory_parts(scale, k_scale, dtype) -> dict[str, int]:
    """The terms of `microcircuit_memory_estimate` (bytes)."""
    prm = microcircuit_parameters(scale, k_scale=k_scale)
    wb = _check_dtype(dtype).itemsize
    S = int(prm["n_synapses"].sum())
    S_pair = int(prm["n_synapses"].max())
    n = int(prm["n"].sum())
    # the largest out-degree: the largest mean over source populations plus 8 of its sd
    mean_out = prm["n_synapses"].sum(axis=0) / prm["n"]
    K = int(mean_out.max() + 8 * math.sqrt(mean_out.max())) + 1
    host = S * (8 + wb) + 8 * (n + 1)
    device = (S + K) * (5 + wb) + 4 * (n + 2)
    drawing = host + _PAIR_BYTES_PER_SYNAPSE * S_pair
    moving = host + device + S * max(4, wb)
    return dict(host=host, device=device, drawing=drawing, moving=moving, base=_BASE_BYTES)


def microcircuit(
    scale: float = 0.1,
    *,
    key,
    k_scale: float | None = None,
    background: str = "poisson",
    dt: float = 0.1,
    dtype=None,
    synapse_integration: str = "exact",
    charge_correction: bool | None = None,
    layout: str = "merged",
    propagation: str = "auto",
    spike_buffer: int | None = None,
):
    r"""The Potjans & Diesmann (2014) microcircuit (see the module docstring for every
    parameter) at `scale` times the neuron numbers (1.0: 77,169 neurons, about $3\times10^8$
    synapses) and `k_scale` (default `scale`) times the in-degrees, with the reference
    implementation's weight and DC compensation for `k_scale < 1`.

    **Arguments:**

    - `scale`, `k_scale`: in (0, 1].
    - `key`: PRNG key for connectivity, weights, delays and initial potentials
      ($V_0 \sim N(\mu_p, \sigma_p)$, the reference's "optimized" per-population values).
    - `background`: `"poisson"` (binomial draws per neuron and step, as the paper) or `"dc"`.
    - `dt`: time step (ms).
    - `synapse_integration`: `"exact"` (default; exact propagators, as NEST) or `"held"`
      (the PSC held over each step, first order); see `Population`.
    - `charge_correction`: scale the PSCs to the exact charge; only with
      `synapse_integration="held"` (default there: on; see the module docstring).
    - `layout`: `"merged"` (default): one population `"microcircuit"` of all neurons in
      `MICROCIRCUIT_POPULATIONS` order and one projection holding every synapse (one event
      delivery per step; compiles in seconds), built one population pair at a time
      straight into int32 indices and `dtype` weights (peak memory:
      `microcircuit_memory_estimate`, about 8 GB at full scale); `"populations"`: 8
      populations and one projection per non-empty pair (up to 64; each compiled and
      delivered separately, about 70x slower per step and 60x slower to compile on CPU at
      scale 0.02, measured).
      `microcircuit_rates` reads per-population rates from either.
    - `propagation`, `spike_buffer`: passed to every `Projection`. The default (None) lets
      the engine's event delivery walk exactly the neurons that spiked in each step; an
      explicit buffer caps the spikes per step (`run` grows it, repeating the chunk, if a
      step has more).

    **Returns:** `(network, monitors)`, one `SpikeMonitor` per population. Currents are in
    pA ($R = \tau_m / C_m = 0.04$ mV/pA)."""
    prm = microcircuit_parameters(scale, k_scale=k_scale, background=background)
    if layout not in ("merged", "populations"):
        raise ValueError(f"layout must be 'merged' or 'populations', got {layout!r}")
    if not (float(dt) > 0):
        raise ValueError(f"dt must be > 0 ms, got {dt!r}")
    if synapse_integration not in ("exact", "held"):
        raise ValueError(
            f"synapse_integration must be 'exact' or 'held', got {synapse_integration!r}"
        )
    if charge_correction is None:
        charge_correction = synapse_integration == "held"
    if charge_correction and synapse_integration == "exact":
        raise ValueError(
            "charge_correction=True needs synapse_integration='held': the exact propagators "
            "already give every PSC its exact charge (the correction would count twice)"
        )
    corr = (_TAU_SYN / dt) * (1.0 - math.exp(-dt / _TAU_SYN)) if charge_correction else 1.0
    lif = LIF(tau_m=_TAU_M, E_L=_E_L, V_th=_V_TH, V_reset=_V_RESET, t_ref=_T_REF, R=_TAU_M / _C_M)
    syn = Exponential(_TAU_SYN)
    k_init, k_conn = jax.random.split(key)
    rng0 = _rng_from_key(k_init)
    v0 = [rng0.normal(_V0_MEAN[i], _V0_SD[i], int(prm["n"][i])) for i in range(8)]
    kw: dict[str, Any] = dict(
        synapse=syn, receptor="syn", propagation=propagation, spike_buffer=spike_buffer
    )
    if layout == "merged":
        offs = np.concatenate([[0], np.cumsum(prm["n"])])
        n_tot = int(offs[-1])
        pop = Population(
            lif,
            n_tot,
            name=MICROCIRCUIT_NAME,
            I=np.repeat(prm["dc"], prm["n"]),
            initial={"V": np.concatenate(v0)},
            synapse_integration=synapse_integration,
        )
        wdtype = _check_dtype(dtype)
        rows = _merged_rows(prm, k_conn, dt, corr, wdtype)
        projs = [Projection(pop, pop, rows, name=MICROCIRCUIT_NAME, **kw)]
        del rows
        inputs = []
        if background == "poisson":
            inputs.append(
                _PerNeuronPoissonInput(
                    MICROCIRCUIT_NAME,
                    np.repeat(np.arange(8), prm["n"]),
                    prm["k_ext"],
                    _BG_RATE,
                    corr * prm["weight_ext"],
                    synapse=syn,
                    receptor="syn",
                )
            )
        net = Network([pop], projs, inputs, dt=dt, dtype=dtype)
        return net, (SpikeMonitor(MICROCIRCUIT_NAME),)
    pops = [
        Population(
            lif,
            int(prm["n"][i]),
            name=name,
            I=float(prm["dc"][i]),
            initial={"V": v0[i]},
            synapse_integration=synapse_integration,
        )
        for i, name in enumerate(MICROCIRCUIT_POPULATIONS)
    ]
    projs = [
        Projection(
            pops[j],
            pops[i],
            Explicit(pre, post, weight=corr * w, delay=d),
            name=f"{MICROCIRCUIT_POPULATIONS[j]}->{MICROCIRCUIT_POPULATIONS[i]}",
            **kw,
        )
        for i, j, pre, post, w, d in _draw_blocks(prm, k_conn, dt)
    ]
    inputs = []
    if background == "poisson":
        inputs = [
            PoissonInput(
                name,
                int(prm["k_ext"][i]),
                _BG_RATE,
                corr * prm["weight_ext"],
                synapse=syn,
                receptor="syn",
            )
            for i, name in enumerate(MICROCIRCUIT_POPULATIONS)
        ]
    net = Network(pops, projs, inputs, dt=dt, dtype=dtype)
    return net, tuple(SpikeMonitor(p) for p in MICROCIRCUIT_POPULATIONS)
