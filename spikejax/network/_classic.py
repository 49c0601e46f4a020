"""The classic benchmark networks as builders returning `(network, monitors)`.

Each builder draws connectivity and initial conditions from `key` and returns a `Network`
and a tuple of monitors suitable for `run`.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from ..models import LIF, Izhikevich
from ..solvers import SplitEuler
from ._connectivity import AllToAll, FixedInDegree, FixedProbability
from ._input import NoiseCurrent, PoissonInput
from ._monitor import SpikeMonitor
from ._network import Network
from ._population import Population
from ._projection import Projection, _rng_from_key
from ._synapse import CurrentPulse, Delta, Exponential


def _vogels_abbott(
    n,
    key,
    conductance: bool,
    dt,
    dtype,
    propagation,
    spike_buffer,
    we=None,
    wi=None,
    method="exponential_euler",
    t_ref=5.0,
    delivery="auto",
):
    if not (int(n) == n and n >= 10):
        raise ValueError(f"n must be an integer >= 10, got {n!r}")
    n = int(n)
    n_e = int(round(0.8 * n))
    n_i = n - n_e
    p = 80.0 / n if n > 80 else 1.0  # 80 synapses per neuron on average (p = 0.02 at 4000)
    k_init, k_ee, k_ei, k_ie, k_ii = jax.random.split(key, 5)
    rng = _rng_from_key(k_init)
    Vt, Vr = -50.0, -60.0
    if conductance:
        lif = LIF(tau_m=20.0, E_L=-60.0, V_th=Vt, V_reset=Vr, t_ref=t_ref, R=1.0)
        I_drive = 20.0
        syn_e, syn_i = Exponential(5.0, E_rev=0.0), Exponential(10.0, E_rev=-80.0)
        we = 0.6 if we is None else we
        wi = 6.7 if wi is None else wi
        sign_e = sign_i = None
    else:
        lif = LIF(tau_m=20.0, E_L=-49.0, V_th=Vt, V_reset=Vr, t_ref=t_ref, R=1.0)
        I_drive = 0.0
        syn_e, syn_i = Exponential(5.0), Exponential(10.0)
        we = 60 * 0.27 / 10 if we is None else we
        wi = 20 * 4.5 / 10 if wi is None else wi
        sign_e, sign_i = 1, -1
    v0 = Vr + rng.random(n) * (Vt - Vr)
    E = Population(
        lif, n_e, name="E", I=I_drive, initial={"V": v0[:n_e]}, sign=sign_e, method=method
    )
    I = Population(
        lif, n_i, name="I", I=I_drive, initial={"V": v0[n_e:]}, sign=sign_i, method=method
    )
    kw = dict(propagation=propagation, spike_buffer=spike_buffer)
    conn = FixedProbability(p)
    projs = [
        Projection(E, E, conn, weight=we, synapse=syn_e, receptor="exc", key=k_ee, **kw),
        Projection(E, I, conn, weight=we, synapse=syn_e, receptor="exc", key=k_ei, **kw),
        Projection(I, E, conn, weight=wi, synapse=syn_i, receptor="inh", key=k_ie, **kw),
        Projection(I, I, conn, weight=wi, synapse=syn_i, receptor="inh", key=k_ii, **kw),
    ]
    net = Network([E, I], projs, dt=dt, dtype=dtype, delivery=delivery)
    return net, (SpikeMonitor("E"), SpikeMonitor("I"))


def coba(
    n: int = 4000,
    *,
    key,
    dt: float = 0.1,
    dtype=None,
    propagation="auto",
    spike_buffer=None,
    we=None,
    wi=None,
    method="exponential_euler",
    t_ref=5.0,
    delivery="auto",
):
    r"""COBA: benchmark 1 of Brette et al. (2007), the Vogels & Abbott (2005) network as in
    Brian2's benchmark script. `n` LIF neurons (80 % excitatory), connection probability
    $80/n$ (0.02 at 4000), $\tau_m = 20$ ms, $V_t = -50$, $V_r = E_L = -60$ mV, 5 ms refractory,
    constant drive $I = 20$ mV; exponential conductances (units of the leak conductance)
    $\tau_e = 5$, $\tau_i = 10$ ms, $E_e = 0$, $E_i = -80$ mV, $w_e = 0.6$, $w_i = 6.7$;
    $V_0 \sim U[V_r, V_t]$; no delay; dt = 0.1 ms. `method`: the neurons' fixed-step scheme
    (exponential Euler, exact for the membrane with frozen conductances; Brian2's benchmark
    script uses `"euler"`). `t_ref` (ms): the membrane is clamped for exactly `t_ref` after
    a spike; Brian2 (`refractory=5*ms`, dt = 0.1 ms) freezes it for 49 steps, i.e. the same
    as `t_ref=4.9` here. `delivery`: how spikes are delivered (see `Network`).
    $$\tau_m \dot V = g_e (E_e - V) + g_i (E_i - V) - (V - E_L) + I.$$"""
    args = (dt, dtype, propagation, spike_buffer, we, wi, method, t_ref, delivery)
    return _vogels_abbott(n, key, True, *args)


def cuba(
    n: int = 4000,
    *,
    key,
    dt: float = 0.1,
    dtype=None,
    propagation="auto",
    spike_buffer=None,
    we=None,
    wi=None,
    method="exponential_euler",
    t_ref=5.0,
    delivery="auto",
):
    r"""CUBA: benchmark 2 of Brette et al. (2007) as in Brian2's example: current-based
    exponential synapses $\tau_e = 5$, $\tau_i = 10$ ms, $w_e = 1.62$ mV, $w_i = -9$ mV,
    $E_L = -49$ mV, $V_t = -50$, $V_r = -60$ mV, 5 ms refractory, $V_0 \sim U[V_r, V_t]$;
    $\tau_m \dot V = -(V - E_L) + I_e + I_i$."""
    args = (dt, dtype, propagation, spike_buffer, we, wi, method, t_ref, delivery)
    return _vogels_abbott(n, key, False, *args)


def izhikevich2003(
    n_exc: int = 800,
    n_inh: int = 200,
    *,
    key,
    dt: float | None = None,
    dtype=None,
    update: str = "net.m",
):
    r"""Izhikevich (2003) network: `n_exc` RS-like excitatory cells
    ($a = 0.02$, $b = 0.2$, $c = -65 + 15 r^2$, $d = 8 - 6 r^2$) and `n_inh` FS/LTS-like
    inhibitory cells ($a = 0.02 + 0.08 r$, $b = 0.25 - 0.05 r$, $c = -65$, $d = 2$), all-to-all
    weights $0.5\,U[0,1]$ (excitatory) and $-U[0,1]$ (inhibitory); thalamic input $5\xi$ (exc)
    and $2\xi$ (inh), $\xi \sim N(0, 1)$ redrawn every 1 ms. Initial $v = -65$, $u = b v$.

    **Arguments:**

    - `n_exc`, `n_inh`, `key` (connectivity and parameters), `dtype`.
    - `update`: `"net.m"` (default) follows the paper's script exactly: steps of 1 ms in
      which the weights of the neurons that fired are added to the input current of the
      same step (`CurrentPulse` synapses, delay 0), $v$ takes two Euler half-steps of 0.5 ms
      and $u$ one step of 1 ms with the new $v$ (`spikejax.solvers.SplitEuler(2)`), the
      fired neurons being reset before the update. `"euler"`: the earlier scheme, Euler
      steps of `dt` for $v$ and $u$ together (default 0.5 ms) with the spikes as
      instantaneous jumps of $v$ (`Delta`); a jump of the summed inhibition moves $v$ far
      below rest, where the quadratic term makes one Euler step overshoot the peak, and
      some seeds run away (every neuron firing every step).
    - `dt`: the step (ms): 1 for `"net.m"` (the only value), default 0.5 for `"euler"`
      (must divide 1 ms).

    **Raises:** `ValueError` for another `update` or an invalid `dt`.
    """
    if update not in ("net.m", "euler"):
        raise ValueError(f"izhikevich2003: update must be 'net.m' or 'euler', got {update!r}")
    if update == "net.m":
        if dt is not None and dt != 1.0:
            raise ValueError(f"izhikevich2003: update='net.m' steps by dt = 1 ms, got dt={dt}")
        dt = 1.0
    dt = 0.5 if dt is None else float(dt)
    hold = int(round(1.0 / dt))
    if not (hold >= 1 and abs(hold * dt - 1.0) < 1e-9):
        raise ValueError(f"izhikevich2003: dt must divide 1 ms, got {dt}")
    k_par, k_ee, k_ei, k_ie, k_ii = jax.random.split(key, 5)
    rng = _rng_from_key(k_par)
    re, ri = rng.random(n_exc), rng.random(n_inh)
    exc = Izhikevich(
        a=np.full(n_exc, 0.02), b=np.full(n_exc, 0.2), c=-65 + 15 * re**2, d=8 - 6 * re**2
    )
    inh = Izhikevich(
        a=0.02 + 0.08 * ri, b=0.25 - 0.05 * ri, c=np.full(n_inh, -65.0), d=np.full(n_inh, 2.0)
    )
    method = SplitEuler(2) if update == "net.m" else "euler"
    syn = CurrentPulse() if update == "net.m" else Delta()
    E = Population(exc, name="E", method=method, initial={"V": -65.0, "u": -65.0 * 0.2})
    I = Population(
        inh, name="I", method=method, initial={"V": -65.0, "u": -65.0 * (0.25 - 0.05 * ri)}
    )

    def w_exc(r, n):
        return 0.5 * r.random(n)

    def w_inh(r, n):
        return -r.random(n)

    projs = [
        Projection(E, E, AllToAll(), weight=w_exc, synapse=syn, receptor="syn", key=k_ee),
        Projection(E, I, AllToAll(), weight=w_exc, synapse=syn, receptor="syn", key=k_ei),
        Projection(I, E, AllToAll(), weight=w_inh, synapse=syn, receptor="syn", key=k_ie),
        Projection(I, I, AllToAll(), weight=w_inh, synapse=syn, receptor="syn", key=k_ii),
    ]
    inputs = [NoiseCurrent("E", 5.0, hold_steps=hold), NoiseCurrent("I", 2.0, hold_steps=hold)]
    net = Network([E, I], projs, inputs, dt=dt, dtype=dtype)
    return net, (SpikeMonitor("E"), SpikeMonitor("I"))


def brunel2000(
    n_exc: int = 10000,
    *,
    g: float = 5.0,
    nu_ext_over_nu_thr: float = 2.0,
    J: float = 0.1,
    epsilon: float = 0.1,
    delay: float = 1.5,
    key,
    dt: float = 0.1,
    dtype=None,
    propagation="auto",
):
    r"""Brunel (2000) sparse network of `n_exc` excitatory and `n_exc/4` inhibitory LIF
    neurons: $\tau = 20$ ms, $\theta = 20$ mV, $V_r = 10$ mV, 2 ms refractory, delta synapses of
    $J$ (excitatory) and $-gJ$ (inhibitory), fixed in-degree $C_E = \epsilon N_E$,
    $C_I = \epsilon N_I$, delay `delay` ms; external Poisson input from $C_E$ sources at
    $\nu_\mathrm{ext} = (\nu_\mathrm{ext}/\nu_\mathrm{thr})\,\theta / (J C_E \tau)$."""
    n_exc = int(n_exc)
    n_inh = n_exc // 4
    c_e, c_i = int(round(epsilon * n_exc)), int(round(epsilon * n_inh))
    tau, theta = 20.0, 20.0
    nu_thr = theta / (J * c_e * tau) * 1e3  # Hz
    nu_ext = nu_ext_over_nu_thr * nu_thr
    lif = LIF(tau_m=tau, E_L=0.0, V_th=theta, V_reset=10.0, t_ref=2.0, R=1.0)
    E = Population(lif, n_exc, name="E")
    I = Population(lif, n_inh, name="I")
    k_ee, k_ei, k_ie, k_ii = jax.random.split(key, 4)
    kw: dict[str, Any] = dict(synapse=Delta(), receptor="syn", delay=delay, propagation=propagation)
    projs = [
        Projection(E, E, FixedInDegree(c_e), weight=J, key=k_ee, **kw),
        Projection(E, I, FixedInDegree(c_e), weight=J, key=k_ei, **kw),
        Projection(I, E, FixedInDegree(c_i), weight=-g * J, key=k_ie, **kw),
        Projection(I, I, FixedInDegree(c_i), weight=-g * J, key=k_ii, **kw),
    ]
    inputs = [
        PoissonInput("E", c_e, nu_ext, J, synapse=Delta(), receptor="syn"),
        PoissonInput("I", c_e, nu_ext, J, synapse=Delta(), receptor="syn"),
    ]
    net = Network([E, I], projs, inputs, dt=dt, dtype=dtype)
    return net, (SpikeMonitor("E"), SpikeMonitor("I"))


#: Builders of the classic networks by name (`coba`, `cuba`, `izhikevich`, `brunel`).
CLASSIC_NETWORKS = {
    "coba": coba,
    "cuba": cuba,
    "izhikevich": izhikevich2003,
    "brunel": brunel2000,
}
