"""Populations: a neuron model (possibly heterogeneous) of `n` cells, or a Poisson source."""

from __future__ import annotations

import copy
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._validation import check_finite, check_nonnegative
from ..models import LIF
from ..models._base import NeuronModel
from ..models._equations import EquationModel
from ..solvers import AbstractScheme, ExactLinear, ExponentialEuler, get_scheme
from ..stimulus import Constant, Stimulus, as_stimulus
from ..surrogate import Heaviside, SpikeFunction
from ._synapse import exp_kernel_integral


def _check_name(name):
    if not (isinstance(name, str) and name and "/" not in name and ":" not in name):
        raise ValueError(
            f"population name must be a non-empty str without '/' or ':', got {name!r}"
        )


def _check_n(n):
    if not (isinstance(n, (int, np.integer)) and n > 0):
        raise ValueError(f"population size n must be an integer > 0, got {n!r}")


#: Newton steps for a precise population's threshold crossings (from the chord, quadratic
#: convergence: 3-4 reach float64 resolution in the tests; the rest is margin)
_NEWTON_STEPS = 8
#: threshold crossings solved per step and precise population at least in one packed solve
_ROOT_PACK = 32


class Population(eqx.Module):
    r"""`n` neurons of one model. Array-valued model fields of shape `(n,)` give every neuron its
    own parameters (a heterogeneous population).

    **Arguments:**

    - `model`: any `spikejax.models.NeuronModel` (shape `()` or `(n,)`).
    - `n`: number of neurons (default: `model.shape[0]`).
    - `name`: unique name within a network.
    - `I`: the injected current (model's current unit), a `spikejax.stimulus.Stimulus` of shape
      `()` or `(n,)` (`Constant`, `Step`, `PulseTrain`, `Function`, `Noise`, their `Sum`), or a
      number or `(n,)` array (a `Constant`). It is sampled with `Stimulus.sample` at the start
      of each step and held over it, exactly as in `spikejax.simulate`; a stochastic
      stimulus (`Noise`) keeps its state in the network state (`state["stimuli"]`) and draws
      from the network's key, so chunked, resumed and `vmap`-ed runs are exact.
    - `initial`: initial values of state variables, name -> scalar or `(n,)` array.
    - `method`: fixed-step scheme: `"auto"` (default: the model's `default_scheme`, e.g.
      the scheme picked for a model written as equations; exponential Euler for a model
      without a preference, every built-in model), `"exponential_euler"`, `"exact"`,
      `"euler"`, `"rk4"` or a scheme object.
    - `spike_fn`: spike nonlinearity of the threshold distance (`Heaviside()` exact; a
      surrogate from `spikejax.surrogate` for gradients). The step is
      `spikejax.solvers.advance`: with `Heaviside` the reset replaces the state where a spike
      occurred, with a surrogate it is $y \leftarrow (1-s)\,y + s\,\mathrm{reset}(y)$.
    - `sign`: Dale's law: `+1` (excitatory) or `-1` (inhibitory) or `None`; projections from a
      signed population into current-based synapses get weights of that sign.
    - `synapse_integration`: how current-based synapses (`Exponential`, `Alpha`,
      `DualExponential` with `E_rev=None`) drive the membrane over a step. `"exact"`
      (default): a population with a linear membrane and without conductance synapses
      integrates membrane and synaptic currents exactly with their propagators
      (Rotter & Diesmann 1999; NEST's `iaf_psc_*`), so PSPs do not depend on `dt`
      (`Synapse.membrane_current`): an `LIF` stepped with exponential Euler, or a model
      written as equations whose `membrane_time_constant()` is not None (its membrane
      equation is $\dot V = aV + cI + b$ with $a \ne 0$, $b$, $c$ functions of the
      parameters only, and the input current $I$ enters no other equation) stepped with
      exponential Euler or `"exact"`. Any other population holds the current of the step's
      start over the step. `"held"`: every population holds it (first order in `dt`: an
      exponential current of $\tau_s$ delivers the charge
      $w\,\Delta t/(1 - e^{-\Delta t/\tau_s})$ instead of $w\tau_s$, 10 % more at
      $\Delta t = 0.1$, $\tau_s = 0.5$ ms), kept for comparison. Conductance synapses are
      always frozen over the step (exponential Euler, exact for the membrane given $g$).
    - `precise`: precise (off-grid) spike times, as NEST's `iaf_psc_exp_ps` (default False:
      spikes at the end of their step). An `LIF` population only (one `tau_m` for all its
      cells, `t_ref` >= `dt`), stepped exactly, with `Exponential` current synapses: the
      threshold crossing is the root of the exact membrane solution inside the step, the
      refractory period ends at its exact time, and each spike carries its time to the
      synapses it reaches (arriving at spike time + delay, in continuous time). See
      `Population.precise_step` and the networks guide, "Precise spike times".

    **Raises:** `ValueError` naming the population and the argument: a model that is not a
    `NeuronModel` or whose shape does not match `n`, an `I` that is a bare function (wrap it
    as `spikejax.stimulus.Function`), not finite, or of another shape, unknown or non-finite
    `initial` values, a `synapse_integration` other than `"exact"` or `"held"`, `precise=True`
    for anything but an `LIF` with one `tau_m`, exponential Euler, the `Heaviside` spike
    function and exact synapse integration.
    """

    model: NeuronModel
    I: Stimulus
    initial: dict
    spike_fn: SpikeFunction
    n: int = eqx.field(static=True)
    name: str = eqx.field(static=True)
    method: AbstractScheme = eqx.field(static=True)
    sign: int | None = eqx.field(static=True)
    synapse_integration: str = eqx.field(static=True)
    precise: bool = eqx.field(static=True)

    def __init__(
        self,
        model: NeuronModel,
        n: int | None = None,
        *,
        name: str,
        I: Any = 0.0,
        initial: dict | None = None,
        method: str | AbstractScheme = "auto",
        spike_fn: SpikeFunction | None = None,
        sign: int | None = None,
        synapse_integration: str = "exact",
        precise: bool = False,
    ):
        _check_name(name)
        if synapse_integration not in ("exact", "held"):
            raise ValueError(
                f"Population {name!r}: synapse_integration must be 'exact' or 'held', got "
                f"{synapse_integration!r}"
            )
        self.synapse_integration = synapse_integration
        if not isinstance(model, NeuronModel):
            raise ValueError(f"Population.model must be a NeuronModel, got {type(model).__name__}")
        shape = model.shape
        if n is None:
            if len(shape) != 1:
                raise ValueError(
                    f"Population {name!r}: give n, or a model of shape (n,); model shape {shape}"
                )
            n = shape[0]
        _check_n(n)
        if shape not in ((), (n,)):
            raise ValueError(f"Population {name!r}: model shape {shape} does not match n={n}")
        if sign not in (None, 1, -1):
            raise ValueError(f"Population.sign must be +1, -1 or None, got {sign!r}")
        self.model = model
        self.n = int(n)
        self.name = name
        self.method = get_scheme(method, model, default="exponential_euler")
        self.spike_fn = Heaviside() if spike_fn is None else spike_fn
        self.sign = sign
        if callable(I) and not isinstance(I, Stimulus):
            raise ValueError(
                f"Population {name!r}: I must be a number, an array or a "
                f"spikejax.stimulus.Stimulus, got the function {I!r}; wrap a function of "
                "t (ms) as spikejax.stimulus.Function(fn)"
            )
        try:
            # a plain number stays a Python float (a compile-time constant of the step, as
            # before stimuli; an array amplitude would be a traced input)
            if isinstance(I, (int, float, np.number)) and not isinstance(I, bool):
                stim = Constant(float(I))
            else:
                stim = as_stimulus(I)
        except ValueError as err:
            raise ValueError(f"Population {name!r}: {err}") from None
        shape = tuple(stim.shape())
        if shape not in ((), (1,), (self.n,)):
            raise ValueError(
                f"Population {name!r}: I must have shape () or ({self.n},), got {shape}"
            )
        self.I = stim
        initial = dict(initial or {})
        unknown = sorted(set(initial) - set(model.state_names))
        if unknown:
            raise ValueError(
                f"Population {name!r}: initial has unknown state variable(s) {unknown}; "
                f"state variables: {list(model.state_names)}"
            )
        for k, v in initial.items():
            check_finite(f"Population {name!r}: initial[{k!r}]", v)
            if np.shape(v) not in ((), (self.n,)):
                raise ValueError(
                    f"Population {name!r}: initial[{k!r}] must be scalar or ({self.n},), "
                    f"got {np.shape(v)}"
                )
        self.initial = initial
        if precise not in (True, False):
            raise ValueError(f"Population {name!r}: precise must be True or False, got {precise!r}")
        self.precise = bool(precise)
        if self.precise:
            self._check_precise()

    def _check_precise(self) -> None:
        """Refuse `precise=True` where its exact solution does not apply."""
        what = f"Population {self.name!r}: precise=True"
        model = self.model
        if type(model) is not LIF:
            raise ValueError(
                f"{what} needs an LIF model (the crossing is the root of its exact membrane "
                f"solution), got {type(model).__name__}"
            )
        if np.ndim(model.tau_m) != 0:
            raise ValueError(
                f"{what} needs one tau_m for the population (the synaptic arrivals of a step "
                f"are summed per target with it), got tau_m of shape {np.shape(model.tau_m)}"
            )
        if not isinstance(self.method, ExponentialEuler):
            raise ValueError(
                f"{what} integrates the membrane exactly; method must be 'auto' or "
                f"'exponential_euler', got {self.method!r}"
            )
        if not isinstance(self.spike_fn, Heaviside):
            raise ValueError(
                f"{what} locates threshold crossings exactly and has no surrogate gradient; "
                f"spike_fn must be Heaviside(), got {self.spike_fn!r}"
            )
        if self.synapse_integration != "exact":
            raise ValueError(
                f"{what} needs synapse_integration='exact', got {self.synapse_integration!r}"
            )

    def check_precise_step(self, dt: float) -> None:
        """Raise a `ValueError` unless the refractory period of this precise population lasts
        at least one step `dt` (ms), so that a cell spikes at most once per step (NEST's
        `_ps` models require the same)."""
        model = self.model
        if not isinstance(model, LIF):
            raise RuntimeError(f"Population {self.name!r} is not precise")
        t_ref = np.asarray(model.t_ref, float)
        if not np.all(t_ref >= dt * (1 - 1e-12)):
            raise ValueError(
                f"Population {self.name!r}: precise=True needs t_ref >= dt = {dt} ms (at most "
                f"one spike per step), got t_ref min {float(t_ref.min())} ms"
            )

    def precise_step(self, y: dict, I: Any, inputs: list, dt: float):
        r"""One step of `dt` ms of a precise LIF population (`precise=True`).

        Between a neuron's own events the membrane and its `Exponential` current synapses
        form a linear system with the exact solution, after a time $s$ from a state
        $(V_a, g_r)$,
        $$V(s) = V_\infty + (V_a - V_\infty)e^{-s/\tau_m}
          + R\sum_r g_r\,A(s, \tau_m, \tau_r),\qquad V_\infty = E_L + R I,$$
        $A$ the kernel integral of `spikejax.network.Synapse` (no division by
        $\tau_r - \tau_m$). The spikes that arrive inside the step, at offsets $\delta_j$,
        come summed per target in two channels, $a_r = \sum_j w_j e^{-(\Delta t-\delta_j)/\tau_r}$
        and $c_r = \sum_j w_j A(\Delta t - \delta_j)$, their exact contributions to $g_r$ and
        (over $R$) to $V$ at the end of the step. So:

        - the state at the end of a step with no event of the neuron is exact, whatever the
          number and times of the arrivals;
        - a refractory period ending inside the step (at $t_a$) ends at its exact time;
        - a threshold crossing is the root of $V(t) = V_\mathrm{th}$ on the exact trajectory
          that ends in that end state (8 safeguarded Newton steps on the closed form, from
          the chord: to the dtype's resolution; solved for the spiking cells only);
          the refractory period starts there, so the next step may end it.

        Both event times are exact when the step's arrivals to the neuron precede them (the
        arrivals are then moved to the start of the free interval with their end-of-step
        effect kept); an arrival in the same step after the event shifts it by
        $O(w\,\Delta t)$, as if it had come just before. A crossing is detected at the end
        of the step (as NEST's `iaf_psc_exp_ps`; a membrane that rises above threshold and
        falls back inside one step is missed).

        **Arguments:** `y`: the state (`V`, `refractory` in ms left) at the step's start;
        `I`: the current held over the step; `inputs`: a list of `(synapse, g, a, c)` per
        receptor (`g` at the step's start, `a`, `c` the step's arrival channels); `dt`.

        **Returns:** `(state, g_end, spikes, offsets)`: the state at the end of the step,
        each receptor's `g` at the end, 0/1 spikes and their offsets in the step (a
        fraction of `dt` in [0, 1]; 1 where no spike).
        """
        m = self.model
        if not isinstance(m, LIF):
            raise RuntimeError(f"Population {self.name!r} is not precise")
        V0, ref0 = y["V"], y["refractory"]
        dtype = V0.dtype

        def c(x):
            return jnp.asarray(x, dtype)

        tau_m = c(m.tau_m)
        E_L, R, V_th, V_reset, t_ref = (c(x) for x in (m.E_L, m.R, m.V_th, m.V_reset, m.t_ref))
        h = c(dt)
        V_inf = E_L + R * I
        t_a = jnp.clip(ref0, 0.0, h)  # where the free interval starts (h: refractory all step)
        ending = ref0 > 0  # refractory at the start: V restarts from V_reset at t_a
        rest = h - t_a
        # the state at t_a with the step's arrivals moved there (end-of-step effect kept)
        V_a = jnp.where(ending, V_reset, V0)
        V_end_exact = V_inf + (V_a - V_inf) * jnp.exp(-rest / tau_m)
        G, g_end = [], []
        for syn, g0, a, cc in inputs:
            tau = c(syn.tau)
            grow = jnp.exp(rest / tau)
            G.append((tau, g0 * jnp.exp(-t_a / tau) + a * grow))
            g_end.append(g0 * jnp.exp(-h / tau) + a)
            k_h = exp_kernel_integral(h, tau_m, tau)
            back = (cc - a * grow * k_h) * jnp.exp(h / tau_m)
            V_a = V_a + jnp.where(ending, 0.0, R * back)
            # the end state: exact (not through the moved arrivals) for a free step
            own = jnp.where(ending, G[-1][1], g0) * exp_kernel_integral(rest, tau_m, tau)
            V_end_exact = V_end_exact + R * (own + jnp.where(ending, 0.0, cc))
        free = ref0 < h
        spike = free & (V_end_exact >= V_th)

        # the crossing, in fractions of the step: a root of V on [t_a, dt], started from the
        # chord between (t_a, V_a) and (dt, V_end); solved for the spiking cells only, packed
        # into `cap` slots (all cells, in one more solve, in a step where more spike)
        n = V0.shape[0]
        full = lambda x: jnp.broadcast_to(x, (n,))  # noqa: E731
        lo = t_a / h
        chord = (V_th - V_a) / jnp.where(spike, V_end_exact - V_a, 1.0)
        cells = {
            "spike": spike, "lo": lo, "t_a": t_a, "V_a": V_a, "V_inf": full(V_inf),
            "V_th": full(V_th), "R": full(R), "G": [full(g) for _, g in G],
            "u0": jnp.where(spike, jnp.clip(lo + (1 - lo) * chord, lo, 1.0), 1.0),
        }  # fmt: skip
        taus = [tau for tau, _ in G]

        def crossing(c):
            """Safeguarded Newton on the closed form (a fixed number of steps, unrolled: a
            solver loop costs more per step on CPU than the whole update): the bracket
            [lo, 1] shrinks to the last points below and above threshold, and a Newton step
            that leaves it is replaced by its midpoint."""
            a, b, u = c["lo"], jnp.ones_like(c["lo"]), c["u0"]
            for _ in range(_NEWTON_STEPS):
                s = u * h - c["t_a"]
                v = c["V_inf"] + (c["V_a"] - c["V_inf"]) * jnp.exp(-s / tau_m)
                g = 0.0
                for tau, G_r in zip(taus, c["G"]):
                    v = v + c["R"] * G_r * exp_kernel_integral(s, tau_m, tau)
                    g = g + G_r * jnp.exp(-s / tau)
                f = v - c["V_th"]
                slope = h * (c["V_inf"] - v + c["R"] * g) / tau_m  # dV/du
                below = f < 0
                a, b = jnp.where(below, u, a), jnp.where(below, b, u)
                step = u - f / jnp.where(slope == 0, 1.0, slope)
                inside = (step >= a) & (step <= b)  # False for NaN
                u = jnp.where(inside, step, 0.5 * (a + b))
            return u

        cap = min(n, max(_ROOT_PACK, -(-n // 32)))
        if cap < n:
            count = jnp.sum(spike, dtype=jnp.int32)
            idx = jnp.nonzero(spike, size=cap, fill_value=n)[0]
            packed = jax.tree.map(lambda x: x.at[idx].get(mode="fill", fill_value=0), cells)
            u_packed = jnp.ones((n,), dtype).at[idx].set(crossing(packed), mode="drop")
            u_all = jax.lax.cond(count > cap, crossing, lambda c: u_packed, cells)
        else:
            u_all = crossing(cells)
        u = jnp.where(spike, u_all, 1.0)
        t_spike = u * h
        V_new = jnp.where(spike, V_reset, jnp.where(free, V_end_exact, V0))
        ref_new = jnp.where(
            spike, t_spike + t_ref - h, jnp.where(free, jnp.zeros_like(ref0), ref0 - h)
        )
        state = {"V": V_new.astype(dtype), "refractory": ref_new.astype(dtype)}
        return state, [g.astype(dtype) for g in g_end], spike.astype(dtype), u.astype(dtype)

    @property
    def state_names(self) -> tuple[str, ...]:
        return self.model.state_names

    def exact_synapses(self, conductances: bool) -> bool:
        """Whether current synapses into this population use exact propagators:
        `synapse_integration="exact"`, no conductance synapses (`conductances`: whether the
        population has any), and a linear membrane stepped exactly: an `LIF` with
        exponential Euler, or an equation-defined model with a `membrane_time_constant()`
        stepped with exponential Euler or `ExactLinear`.

        **Arguments:** `conductances`: whether conductance synapses target the population.

        **Returns:** a bool.
        """
        if self.synapse_integration != "exact" or conductances:
            return False
        if isinstance(self.model, LIF):
            return isinstance(self.method, ExponentialEuler)
        if not isinstance(self.model, EquationModel):
            return False
        if self.drives_states():  # a coupled linear system: EquationModel.synaptic_drive
            return isinstance(self.method, ExactLinear)
        return isinstance(self.method, ExponentialEuler | ExactLinear) and (
            self.model.membrane_time_constant() is not None
        )

    def drives_states(self) -> bool:
        """Whether exact current synapses drive every state variable
        (`EquationModel.synaptic_drive`: equations linear with constant coefficients whose
        membrane is not a lone linear equation) rather than the membrane with one current."""
        model = self.model
        return (
            isinstance(model, EquationModel)
            and model.membrane_time_constant() is None
            and model.linear_input() is not None
        )

    def synaptic_drive(self, I: Any, synapses: list, dt: float) -> Any:
        """The model's input for a step with the exact drive of `synapses` (pairs of a
        current synapse and its state; `EquationModel.synaptic_drive`, see `drives_states`)."""
        if not isinstance(self.model, EquationModel):
            raise TypeError("synaptic_drive needs a model written as equations")
        return self.model.synaptic_drive(I, synapses, dt)

    def synaptic_current(self, synapse: Any, s: dict, dt: float, *, exact: bool) -> Any:
        """The current of the current-based `synapse` (state `s` at the start of the step)
        held over the step: its exact mean (`Synapse.membrane_current`) when `exact`, else its
        value at the start of the step.

        **Arguments:** `synapse`, its state `s`, the step `dt` (ms), `exact` (from
        `exact_synapses`).

        **Returns:** the current, shape `(n,)` or broadcastable.
        """
        if not exact:
            return synapse.output(s)
        model = self.model
        tau_m = model.tau_m if isinstance(model, LIF) else None
        if isinstance(model, EquationModel):
            tau_m = model.membrane_time_constant()
        if tau_m is None:
            raise RuntimeError("exact synaptic propagators need a linear membrane")
        return synapse.membrane_current(s, dt, tau_m)

    def init_state(self, dtype) -> dict:
        y = self.model.resting_state()
        y = {k: jnp.broadcast_to(jnp.asarray(v, dtype), (self.n,)) for k, v in y.items()}
        for k, v in self.initial.items():
            y[k] = jnp.broadcast_to(jnp.asarray(v, dtype), (self.n,))
        return y


class PoissonPopulation(eqx.Module):
    r"""`n` independent Poisson spike sources with rate `rate` (Hz, scalar or `(n,)`): in each
    step of `dt` ms a source spikes with probability $\nu\,\Delta t$
    (requires $\nu \Delta t < 1$)."""

    rate: Any
    n: int = eqx.field(static=True)
    name: str = eqx.field(static=True)
    sign: int | None = eqx.field(static=True)

    state_names = ()

    def __init__(self, n: int, rate, *, name: str, sign: int | None = None):
        _check_name(name)
        _check_n(n)
        check_nonnegative(f"PoissonPopulation({name!r}).rate", rate, "Hz")
        if np.shape(rate) not in ((), (n,)):
            raise ValueError(
                f"PoissonPopulation {name!r}: rate must be scalar or ({n},), got {np.shape(rate)}"
            )
        if sign not in (None, 1, -1):
            raise ValueError(f"PoissonPopulation.sign must be +1, -1 or None, got {sign!r}")
        self.n = int(n)
        self.name = name
        self.rate = rate
        self.sign = sign

    def init_state(self, dtype) -> dict:
        return {}


class SpikeSource(eqx.Module):
    """`n` sources that spike at given times: source `indices[j]` at `times[j]` (ms).

    The times are stored as times; the `Network` puts them on its own step grid when it is
    built: a time is rounded to the grid and the spike is emitted at the end of the step
    that ends there (so it reaches a synapse of delay $d$ at `times[j] + d`). `dt` is
    optional: when given it must be the network's (a `ValueError` naming both otherwise).

    **Raises:** `ValueError` for indices outside `[0, n)`, non-finite times, or (when the
    network is built) times before the end of its first step.
    """

    times: Any
    indices: Any
    steps: Any
    n: int = eqx.field(static=True)
    name: str = eqx.field(static=True)
    sign: int | None = eqx.field(static=True)
    dt: float | None = eqx.field(static=True)

    state_names = ()

    def __init__(
        self, n: int, indices, times, *, name: str, dt: float | None = None, sign: int | None = None
    ):
        _check_name(name)
        _check_n(n)
        idx = np.asarray(indices).reshape(-1)
        if idx.size and not np.issubdtype(idx.dtype, np.integer):
            raise ValueError(f"SpikeSource {name!r}: indices must be integers, got {idx.dtype}")
        idx = idx.astype(np.int64)
        check_finite(f"SpikeSource({name!r}).times", times)
        t = np.asarray(times, dtype=float).reshape(-1)
        if idx.shape != t.shape:
            raise ValueError(
                f"SpikeSource {name!r}: indices and times must have the same length, got "
                f"{idx.shape} and {t.shape}"
            )
        if idx.size and not (idx.min() >= 0 and idx.max() < n):
            raise ValueError(f"SpikeSource {name!r}: indices must be in [0, {n})")
        check_finite(f"SpikeSource({name!r}).times", t)
        if dt is not None and not (dt > 0 and np.isfinite(dt)):
            raise ValueError(f"SpikeSource.dt must be finite and > 0 ms, got {dt!r}")
        self.n, self.name, self.sign = int(n), name, sign
        self.dt = None if dt is None else float(dt)
        self.times = t
        self.indices = jnp.asarray(idx.astype(np.int32))
        self.steps = None if dt is None else self._steps(float(dt))

    def _steps(self, dt: float):
        t = self.times
        if t.size and not (t.min() >= dt * (1 - 1e-9)):
            raise ValueError(
                f"SpikeSource {self.name!r}: times must be >= dt = {dt} ms (the first step's "
                f"end), got {t.min()}"
            )
        return jnp.asarray(np.rint(t / dt).astype(np.int32))

    def on_grid(self, dt: float) -> SpikeSource:
        """This source with its spike steps on the grid of step `dt` (ms); `Network` calls it.

        **Raises:** `ValueError` if the source was built with another `dt`.
        """
        if self.dt is not None and not np.isclose(self.dt, dt, rtol=1e-12, atol=0):
            raise ValueError(
                f"SpikeSource {self.name!r} was built with dt={self.dt} ms but its network "
                f"steps by dt={dt} ms; give the network's dt (or none)"
            )
        if self.times is None:  # already on this grid
            return self
        new = copy.copy(self)
        object.__setattr__(new, "steps", self._steps(dt))
        object.__setattr__(new, "dt", float(dt))
        # the network's copy keeps the steps only (no float64 host array among its leaves)
        object.__setattr__(new, "times", None)
        return new

    def spikes(self, k, dtype):
        """0/1 spikes emitted at the end of step `k` (time `(k + 1) dt`)."""
        if self.steps is None:
            raise ValueError(f"SpikeSource {self.name!r}: not on a step grid; use it in a Network")
        hit = (self.steps == k + 1).astype(dtype)
        return jnp.zeros((self.n,), dtype).at[self.indices].add(hit).clip(0, 1)

    def init_state(self, dtype) -> dict:
        return {}
