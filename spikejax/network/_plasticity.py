r"""Synaptic plasticity: rules written once as small `eqx.Module`s, and the event-driven update
of a plastic projection inside the network step.

A **rule** (`PlasticityRule`) describes what happens at one synapse:

- `on_pre(w, pre, post) -> (w, pre, psc)` when a pre-synaptic spike *arrives* at the synapse
  (after its delay): the new weight, the new per-synapse traces and the value transmitted
  to the post-synaptic receptor (for most rules the weight before the update);
- `on_post(w, pre, post) -> w` when the post-synaptic neuron spikes;
- `post_spike(post) -> post`: the post-synaptic traces' jump at a post-synaptic spike;
- `decay_pre(pre, elapsed)`, `decay_post(post, dt)`: the exact evolution of the traces
  between spikes (default: exponential decay with the time constants of `pre_taus` and
  `post_taus`).

`pre` holds the rule's per-synapse traces (`pre_traces`), `post` the traces of the synapse's
post-synaptic neuron (`post_traces`), both as scalars at the current time.

**Timing convention (the delay is axonal).** A spike emitted by neuron $j$ at $t_j$ reaches
a synapse of delay $d$ at $t_j + d$: `on_pre` runs then, the pre-synaptic traces jump then,
and the transmitted value enters the post-synaptic receptor then (it acts in the step
that starts at $t_j + d$, as for a static projection). A post-synaptic spike at $t_i$
acts on the synapse at $t_i$ (no back-propagation delay). The pairing interval seen by
the rule is therefore $\Delta t = t_i - (t_j + d)$. Within one time step, arrivals are
processed before the post-synaptic spikes of the same instant (Brian2's order: a pair
with $\Delta t = 0$ potentiates). This is Brian2's convention for `Synapses(delay=...)`
with `on_pre`/`on_post` pathways.

**Exactness.** The traces are advanced every step by their exact propagator: the
post-synaptic traces per post-synaptic neuron, the pre-synaptic ones per pre-synaptic
neuron and delay (all synapses of a neuron with the same delay see the same arrivals, so
they share their pre-synaptic traces; `on_pre`'s new traces must therefore depend on
`pre` alone, as in every rule here). Weights change only at spikes, so the update is
event-driven: a step touches the synapses of the neurons whose spikes arrive or are
emitted, nothing else.
"""

from __future__ import annotations

import functools
from typing import Any, ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._validation import (
    check_finite,
    check_less,
    check_nonnegative,
    check_positive,
    is_concrete,
)


def _exp_decay(traces: dict, taus: tuple, elapsed) -> dict:
    out = {}
    for (name, x), tau in zip(traces.items(), taus):
        out[name] = x * jnp.exp(-elapsed / jnp.asarray(tau, jnp.result_type(x)))
    return out


class PlasticityRule(eqx.Module):
    r"""Abstract plasticity rule of one synapse (see the module docstring for the interface
    and the timing convention).

    Subclasses set the class variables `pre_traces` (names of per-synapse traces, updated at
    pre-synaptic arrivals) and `post_traces` (per post-synaptic neuron, updated at its
    spikes), the fields `w_min` and `w_max` (the weight range), and implement `on_pre`,
    `on_post` and `post_spike`. The traces decay exponentially with `pre_taus()` /
    `post_taus()` unless `decay_pre` / `decay_post` are overridden. A rule that does nothing
    at post-synaptic spikes sets `uses_post = False`, so that step skips them.
    """

    pre_traces: ClassVar[tuple[str, ...]] = ()
    post_traces: ClassVar[tuple[str, ...]] = ()
    #: whether `on_post` is called at post-synaptic spikes
    uses_post: ClassVar[bool] = True
    #: whether the rule changes the weights (False: only what is transmitted, as in
    #: short-term plasticity; the weight bounds are then not enforced)
    changes_weights: ClassVar[bool] = True

    #: the weight range (keyword-only in every rule)
    w_min: Any = eqx.field(default=-np.inf, kw_only=True)
    w_max: Any = eqx.field(default=np.inf, kw_only=True)

    def pre_taus(self) -> tuple:
        """Time constants (ms) of the per-synapse traces, in `pre_traces` order."""
        return ()

    def post_taus(self) -> tuple:
        """Time constants (ms) of the post-synaptic traces, in `post_traces` order."""
        return ()

    def pre_initial(self) -> dict[str, float]:
        """Initial values of the per-synapse traces (default 0)."""
        return {n: 0.0 for n in self.pre_traces}

    def decay_pre(self, pre: dict, elapsed) -> dict:
        """The per-synapse traces `elapsed` ms later with no spike (exact)."""
        return _exp_decay(pre, self.pre_taus(), elapsed)

    def decay_post(self, post: dict, dt) -> dict:
        """The post-synaptic traces `dt` ms later with no spike (exact)."""
        return _exp_decay(post, self.post_taus(), dt)

    def on_pre(self, w, pre: dict, post: dict):
        """At a pre-synaptic arrival: `(new weight, new per-synapse traces, transmitted
        value)`. `pre` and `post` are the traces just before the arrival."""
        raise NotImplementedError

    def on_post(self, w, pre: dict, post: dict):
        """At a post-synaptic spike: the new weight (`post`: traces just before the spike)."""
        return w

    def post_spike(self, post: dict) -> dict:
        """The post-synaptic traces just after a post-synaptic spike."""
        return post

    def clip(self, w):
        """`w` clipped to `[w_min, w_max]`."""
        return jnp.clip(w, self.w_min, self.w_max)

    # -- what the network step calls. Rules with per-synapse state besides the weight (an
    # eligibility trace: `Neuromodulated`) override these three; the others inherit them.

    #: names of per-synapse variables besides the weight (none for the pair and triplet rules,
    #: whose per-synapse traces are shared by a neuron's synapses of one delay)
    synapse_traces: ClassVar[tuple[str, ...]] = ()

    def synapse_initial(self) -> dict[str, float]:
        """Initial values of the per-synapse variables `synapse_traces` (default 0)."""
        return {n: 0.0 for n in self.synapse_traces}

    def pre_event(self, w, syn: dict, pre: dict, post: dict):
        """At a pre-synaptic arrival: `(new weight, new per-synapse variables, new
        pre-synaptic traces, transmitted value)` (default: `on_pre`)."""
        w, pre, psc = self.on_pre(w, pre, post)
        return w, syn, pre, psc

    def post_event(self, w, syn: dict, pre: dict, post: dict):
        """At a post-synaptic spike: `(new weight, new per-synapse variables)` (default:
        `on_post`)."""
        return self.on_post(w, pre, post), syn

    def check_weights(self, where: str, w) -> None:
        """Raise `ValueError` if an initial weight lies outside `[w_min, w_max]`."""
        w = np.asarray(w, dtype=float)
        lo, hi = float(self.w_min), float(self.w_max)
        bad = ~((w >= lo) & (w <= hi))
        if np.any(bad):
            i = int(np.flatnonzero(bad.reshape(-1))[0])
            raise ValueError(
                f"{where}: initial weights must lie in [w_min, w_max] = [{lo}, {hi}] of "
                f"{type(self).__name__}, got {float(w.reshape(-1)[i])!r} at synapse {i}"
            )


def _check_bounds(owner: str, w_min, w_max) -> None:
    check_finite(f"{owner}.w_min", w_min)
    check_finite(f"{owner}.w_max", w_max)
    check_less(f"{owner}.w_min", w_min, f"{owner}.w_max", w_max)


_PAIRINGS = ("all", "nearest")


def _jump(pairing: str, x):
    """A trace at its neuron's spike: `x + 1` (all-to-all pairing) or 1 (nearest-spike)."""
    return jnp.ones_like(x) if pairing == "nearest" else x + 1


class PairSTDP(PlasticityRule):
    r"""Pair-based spike-timing-dependent plasticity (Song, Miller & Abbott 2000; Morrison,
    Diesmann & Gerstner 2008, *Biol. Cybern.* 98:459).

    A pair with $\Delta t = t_\mathrm{post} - t_\mathrm{pre,arrival}$ changes the weight by
    $$\Delta w = \begin{cases} A_+\,e^{-\Delta t/\tau_+} & \Delta t \ge 0 \\
      -A_-\,e^{\Delta t/\tau_-} & \Delta t < 0 \end{cases}$$
    (additive), or by $A_+ (w_\max - w)\,e^{-\Delta t/\tau_+}$ and
    $-A_- (w - w_\min)\,e^{\Delta t/\tau_-}$ (`multiplicative=True`, soft bounds). Additive
    updates are clipped to $[w_\min, w_\max]$. It is computed with a per-synapse trace
    $x$ ($\tau_+$) and a post-synaptic trace $y$ ($\tau_-$): at an arrival
    $w \leftarrow w - A_- y$, $x \leftarrow x + 1$; at a post spike $w \leftarrow w + A_+ x$,
    $y \leftarrow y + 1$. `pairing="nearest"` sets the traces to 1 instead of adding 1
    (symmetric nearest-spike pairing: each spike pairs with the nearest spike of the other
    side before it). The transmitted value is the weight before the arrival's update.

    **Arguments:** `A_plus`, `A_minus` (>= 0, weight units), `tau_plus`, `tau_minus` (ms,
    > 0), `w_min` < `w_max`, `multiplicative` (bool), `pairing` (`"all"` or `"nearest"`).
    """

    A_plus: Any = 0.01
    A_minus: Any = 0.0105
    tau_plus: Any = 20.0
    tau_minus: Any = 20.0
    w_min: Any = eqx.field(default=0.0, kw_only=True)
    w_max: Any = eqx.field(default=1.0, kw_only=True)
    multiplicative: bool = eqx.field(default=False, static=True)
    pairing: str = eqx.field(default="all", static=True)

    pre_traces: ClassVar[tuple[str, ...]] = ("x",)
    post_traces: ClassVar[tuple[str, ...]] = ("y",)

    def __check_init__(self):
        check_nonnegative("PairSTDP.A_plus", self.A_plus)
        check_nonnegative("PairSTDP.A_minus", self.A_minus)
        check_positive("PairSTDP.tau_plus", self.tau_plus, "ms")
        check_positive("PairSTDP.tau_minus", self.tau_minus, "ms")
        _check_bounds("PairSTDP", self.w_min, self.w_max)
        if self.pairing not in _PAIRINGS:
            raise ValueError(f"PairSTDP.pairing must be 'all' or 'nearest', got {self.pairing!r}")

    def pre_taus(self):
        return (self.tau_plus,)

    def post_taus(self):
        return (self.tau_minus,)

    def on_pre(self, w, pre, post):
        y = post["y"]
        if self.multiplicative:
            new = w - self.A_minus * (w - self.w_min) * y
        else:
            new = self.clip(w - self.A_minus * y)
        return new, {"x": _jump(self.pairing, pre["x"])}, w

    def on_post(self, w, pre, post):
        x = pre["x"]
        if self.multiplicative:
            return w + self.A_plus * (self.w_max - w) * x
        return self.clip(w + self.A_plus * x)

    def post_spike(self, post):
        return {"y": _jump(self.pairing, post["y"])}


#: Pfister & Gerstner (2006), Tables 3 (visual cortex, Sjöström et al. 2001 data) and 4
#: (hippocampal cultures, Wang et al. 2005): (A2+, A3+, A2-, A3-, tau_x, tau_y) per data set,
#: pairing and model; tau_+ = 16.8 ms and tau_- = 33.7 ms in every row. The minimal models
#: have A3- = 0, so their tau_x (no entry in the tables) is unused; it is set to the full
#: model's of the same column.
_TRIPLET_SETS = {
    ("visual_cortex", "all", "full"): (5e-10, 6.2e-3, 7e-3, 2.3e-4, 101.0, 125.0),
    ("visual_cortex", "all", "minimal"): (0.0, 6.5e-3, 7.1e-3, 0.0, 101.0, 114.0),
    ("visual_cortex", "nearest", "full"): (8.8e-11, 5.3e-2, 6.6e-3, 3.1e-3, 714.0, 40.0),
    ("visual_cortex", "nearest", "minimal"): (0.0, 5.0e-2, 8.0e-3, 0.0, 714.0, 40.0),
    ("hippocampal", "all", "full"): (6.1e-3, 6.7e-3, 1.6e-3, 1.4e-3, 946.0, 27.0),
    ("hippocampal", "all", "minimal"): (5.3e-3, 8.0e-3, 3.5e-3, 0.0, 946.0, 40.0),
    ("hippocampal", "nearest", "full"): (4.6e-3, 9.1e-3, 3.0e-3, 7.5e-9, 575.0, 47.0),
    ("hippocampal", "nearest", "minimal"): (4.6e-3, 9.1e-3, 3.0e-3, 0.0, 575.0, 48.0),
}
_TRIPLET_MODELS = ("full", "minimal")


class TripletSTDP(PlasticityRule):
    r"""Triplet spike-timing-dependent plasticity (Pfister & Gerstner 2006, *J. Neurosci.*
    26:9673, eqs. 1-4), all-to-all or nearest-spike interactions.

    Pre-synaptic traces $r_1$ ($\tau_+$), $r_2$ ($\tau_x$), post-synaptic $o_1$ ($\tau_-$),
    $o_2$ ($\tau_y$), each jumping by 1 at its neuron's spikes (`pairing="all"`) or set to 1
    (`pairing="nearest"`: each spike interacts with the nearest earlier spike of the other
    side, and the triplet terms see only the last spike of their own side). At a
    pre-synaptic arrival $w \leftarrow w - o_1 (A_2^- + A_3^- r_2)$; at a post-synaptic spike
    $w \leftarrow w + r_1 (A_2^+ + A_3^+ o_2)$ ($r_2$, $o_2$ taken just before the
    spike's own jump). Weights are clipped to $[w_\min, w_\max]$. Published parameter sets
    (full and minimal models, both pairings): `TripletSTDP.visual_cortex()` and
    `TripletSTDP.hippocampal()`.

    **Arguments:** `A2_plus`, `A3_plus`, `A2_minus`, `A3_minus` (>= 0), `tau_plus`,
    `tau_minus`, `tau_x`, `tau_y` (ms, > 0), `w_min` < `w_max`, `pairing` (`"all"` or
    `"nearest"`).
    """

    A2_plus: Any = 5e-10
    A3_plus: Any = 6.2e-3
    A2_minus: Any = 7e-3
    A3_minus: Any = 2.3e-4
    tau_plus: Any = 16.8
    tau_minus: Any = 33.7
    tau_x: Any = 101.0
    tau_y: Any = 125.0
    w_min: Any = eqx.field(default=0.0, kw_only=True)
    w_max: Any = eqx.field(default=1.0, kw_only=True)
    pairing: str = eqx.field(default="all", static=True, kw_only=True)

    pre_traces: ClassVar[tuple[str, ...]] = ("r1", "r2")
    post_traces: ClassVar[tuple[str, ...]] = ("o1", "o2")

    def __check_init__(self):
        for n in ("A2_plus", "A3_plus", "A2_minus", "A3_minus"):
            check_nonnegative(f"TripletSTDP.{n}", getattr(self, n))
        for n in ("tau_plus", "tau_minus", "tau_x", "tau_y"):
            check_positive(f"TripletSTDP.{n}", getattr(self, n), "ms")
        _check_bounds("TripletSTDP", self.w_min, self.w_max)
        if self.pairing not in _PAIRINGS:
            raise ValueError(
                f"TripletSTDP.pairing must be 'all' or 'nearest', got {self.pairing!r}"
            )

    @classmethod
    def _published(cls, data: str, pairing: str, model: str, kw: dict) -> TripletSTDP:
        if pairing not in _PAIRINGS:
            raise ValueError(
                f"TripletSTDP.{data}: pairing must be 'all' or 'nearest', got {pairing!r}"
            )
        if model not in _TRIPLET_MODELS:
            raise ValueError(
                f"TripletSTDP.{data}: model must be 'full' or 'minimal', got {model!r}"
            )
        a2p, a3p, a2m, a3m, tau_x, tau_y = _TRIPLET_SETS[(data, pairing, model)]
        p: dict[str, Any] = dict(A2_plus=a2p, A3_plus=a3p, A2_minus=a2m, A3_minus=a3m)
        p.update(tau_x=tau_x, tau_y=tau_y, tau_plus=16.8, tau_minus=33.7, pairing=pairing)
        return cls(**{**p, **kw})

    @classmethod
    def visual_cortex(cls, pairing: str = "all", model: str = "full", **kw) -> TripletSTDP:
        """Pfister & Gerstner (2006), Table 3: the fits to the visual cortex data of Sjöström
        et al. (2001) ($\tau_+ = 16.8$, $\tau_- = 33.7$ ms), e.g. all-to-all, full model:
        $A_2^+ = 5\times10^{-10}$, $A_3^+ = 6.2\times10^{-3}$, $A_2^- = 7\times10^{-3}$,
        $A_3^- = 2.3\times10^{-4}$, $\tau_x = 101$, $\tau_y = 125$ ms. The minimal models
        have $A_2^+ = A_3^- = 0$ (all-to-all: $A_3^+ = 6.5\times10^{-3}$,
        $A_2^- = 7.1\times10^{-3}$, $\tau_y = 114$ ms; nearest-spike: $A_3^+ = 5\times10^{-2}$,
        $A_2^- = 8\times10^{-3}$, $\tau_y = 40$ ms); nearest-spike, full: $A_2^+ =
        8.8\times10^{-11}$, $A_3^+ = 5.3\times10^{-2}$, $A_2^- = 6.6\times10^{-3}$,
        $A_3^- = 3.1\times10^{-3}$, $\tau_x = 714$, $\tau_y = 40$ ms.

        **Arguments:** `pairing` (`"all"` or `"nearest"`), `model` (`"full"` or
        `"minimal"`), `kw`: fields to override (e.g. `w_max`).

        **Returns:** the rule.
        """
        return cls._published("visual_cortex", pairing, model, kw)

    @classmethod
    def hippocampal(cls, pairing: str = "all", model: str = "full", **kw) -> TripletSTDP:
        """Pfister & Gerstner (2006), Table 4: the fits to the hippocampal culture data of
        Wang et al. (2005) ($\tau_+ = 16.8$, $\tau_- = 33.7$ ms), e.g. all-to-all, full
        model: $A_2^+ = 6.1\times10^{-3}$, $A_3^+ = 6.7\times10^{-3}$,
        $A_2^- = 1.6\times10^{-3}$, $A_3^- = 1.4\times10^{-3}$, $\tau_x = 946$,
        $\tau_y = 27$ ms. All-to-all, minimal: $A_2^+ = 5.3\times10^{-3}$,
        $A_3^+ = 8\times10^{-3}$, $A_2^- = 3.5\times10^{-3}$, $A_3^- = 0$, $\tau_y = 40$ ms;
        nearest-spike, full: $A_2^+ = 4.6\times10^{-3}$, $A_3^+ = 9.1\times10^{-3}$,
        $A_2^- = 3\times10^{-3}$, $A_3^- = 7.5\times10^{-9}$, $\tau_x = 575$,
        $\tau_y = 47$ ms; nearest-spike, minimal: the same with $A_3^- = 0$, $\tau_y = 48$ ms.

        **Arguments:** `pairing` (`"all"` or `"nearest"`), `model` (`"full"` or
        `"minimal"`), `kw`: fields to override.

        **Returns:** the rule.
        """
        return cls._published("hippocampal", pairing, model, kw)

    def pre_taus(self):
        return (self.tau_plus, self.tau_x)

    def post_taus(self):
        return (self.tau_minus, self.tau_y)

    def on_pre(self, w, pre, post):
        new = self.clip(w - post["o1"] * (self.A2_minus + self.A3_minus * pre["r2"]))
        return new, {"r1": _jump(self.pairing, pre["r1"]), "r2": _jump(self.pairing, pre["r2"])}, w

    def on_post(self, w, pre, post):
        return self.clip(w + pre["r1"] * (self.A2_plus + self.A3_plus * post["o2"]))

    def post_spike(self, post):
        return {"o1": _jump(self.pairing, post["o1"]), "o2": _jump(self.pairing, post["o2"])}


class VogelsSTDP(PlasticityRule):
    r"""Inhibitory spike-timing-dependent plasticity (Vogels, Sprekeler, Zenke, Clopath &
    Gerstner 2011, *Science* 334:1569): a symmetric window that balances excitation.

    Traces $x$ (per synapse) and $y$ (post-synaptic), time constant $\tau$, jump 1. At a
    pre-synaptic arrival $w \leftarrow w + \eta\,(y - \alpha)$; at a post-synaptic spike
    $w \leftarrow w + \eta\,x$; clipped to $[w_\min, w_\max]$. The depression factor
    $\alpha = 2\rho_0\tau$ sets the post-synaptic target rate $\rho_0$ (Vogels et al.:
    $\tau = 20$ ms, $\rho_0 = 5$ Hz, $\alpha = 0.2$).

    **Arguments:** `eta` (learning rate, >= 0), `alpha` (>= 0), `tau` (ms, > 0), `w_min` <
    `w_max`.
    """

    eta: Any = 1e-3
    alpha: Any = 0.2
    tau: Any = 20.0
    w_min: Any = eqx.field(default=0.0, kw_only=True)
    w_max: Any = eqx.field(default=1.0, kw_only=True)

    pre_traces: ClassVar[tuple[str, ...]] = ("x",)
    post_traces: ClassVar[tuple[str, ...]] = ("y",)

    def __check_init__(self):
        check_nonnegative("VogelsSTDP.eta", self.eta)
        check_nonnegative("VogelsSTDP.alpha", self.alpha)
        check_positive("VogelsSTDP.tau", self.tau, "ms")
        _check_bounds("VogelsSTDP", self.w_min, self.w_max)

    @staticmethod
    def alpha_for_rate(rate_hz: float, tau: float = 20.0) -> float:
        """The depression factor $\\alpha = 2\\rho_0\\tau$ of a target rate `rate_hz` (Hz)
        with trace time constant `tau` (ms).

        **Arguments:** `rate_hz` (Hz), `tau` (ms).

        **Returns:** $\\alpha$ (dimensionless).
        """
        return 2.0 * rate_hz * tau * 1e-3

    def pre_taus(self):
        return (self.tau,)

    def post_taus(self):
        return (self.tau,)

    def on_pre(self, w, pre, post):
        new = self.clip(w + self.eta * (post["y"] - self.alpha))
        return new, {"x": pre["x"] + 1}, w

    def on_post(self, w, pre, post):
        return self.clip(w + self.eta * pre["x"])

    def post_spike(self, post):
        return {"y": post["y"] + 1}


class TsodyksMarkram(PlasticityRule):
    r"""Short-term depression and facilitation (Tsodyks & Markram 1997; Tsodyks, Pawelzik &
    Markram 1998, *Neural Comput.* 10:821).

    Per synapse, the utilisation $u$ relaxes to 0 with $\tau_f$ and the available resources
    $x$ recover to 1 with $\tau_d$, exactly between spikes:
    $u \leftarrow u\,e^{-\Delta/\tau_f}$, $x \leftarrow 1 + (x - 1)\,e^{-\Delta/\tau_d}$.
    At an arrival $u \leftarrow u + U(1 - u)$, the transmitted value is $w\,u\,x$, then
    $x \leftarrow x\,(1 - u)$. The weight itself does not change. For a regular train of
    period $T$ the steady state is
    $u^* = U / (1 - (1 - U)e^{-T/\tau_f})$,
    $x^* = (1 - e^{-T/\tau_d}) / (1 - (1 - u^*) e^{-T/\tau_d})$.
    Markram, Wang & Tsodyks (1998) fit depressing synapses with $U = 0.5$,
    $\tau_d = 800$, $\tau_f$ small, facilitating ones with $U = 0.03$, $\tau_f = 530$,
    $\tau_d = 130$ ms.

    **Arguments:** `U` (in (0, 1]), `tau_d`, `tau_f` (ms, > 0), `w_min` < `w_max` (the range
    the initial weights must lie in; default unbounded).
    """

    U: Any = 0.5
    tau_d: Any = 800.0
    tau_f: Any = 1.0
    pre_traces: ClassVar[tuple[str, ...]] = ("u", "x")
    uses_post: ClassVar[bool] = False
    changes_weights: ClassVar[bool] = False

    def __check_init__(self):
        check_positive("TsodyksMarkram.U", self.U)
        if is_concrete(self.U) and not np.all(np.asarray(self.U) <= 1):
            raise ValueError(f"TsodyksMarkram.U must be in (0, 1], got {self.U!r}")
        check_positive("TsodyksMarkram.tau_d", self.tau_d, "ms")
        check_positive("TsodyksMarkram.tau_f", self.tau_f, "ms")
        if not (float(self.w_min) < float(self.w_max)):
            raise ValueError(
                f"TsodyksMarkram.w_min must be < TsodyksMarkram.w_max, got {self.w_min!r}, "
                f"{self.w_max!r}"
            )

    def pre_initial(self):
        return {"u": 0.0, "x": 1.0}

    def decay_pre(self, pre, elapsed):
        u, x = pre["u"], pre["x"]
        dtype = jnp.result_type(x)
        ef = jnp.exp(-elapsed / jnp.asarray(self.tau_f, dtype))
        ed = jnp.exp(-elapsed / jnp.asarray(self.tau_d, dtype))
        return {"u": u * ef, "x": 1 + (x - 1) * ed}

    def on_pre(self, w, pre, post):
        u = pre["u"] + self.U * (1 - pre["u"])
        x = pre["x"]
        return w, {"u": u, "x": x * (1 - u)}, w * u * x

    def steady_state(self, rate_hz: float) -> float:
        """The transmitted fraction $u^* x^*$ per spike of a regular train of `rate_hz` Hz in
        the steady state (the closed form above).

        **Arguments:** `rate_hz` (Hz, > 0).

        **Returns:** $u^* x^*$.
        """
        T = 1e3 / rate_hz
        ef, ed = np.exp(-T / float(self.tau_f)), np.exp(-T / float(self.tau_d))
        u = float(self.U) / (1 - (1 - float(self.U)) * ef)
        x = (1 - ed) / (1 - (1 - u) * ed)
        return u * x


class Modulator(eqx.Module):
    r"""A neuromodulator concentration $d$ (e.g. dopamine) gating the synapses of a
    `Neuromodulated` rule, global to them:
    $$\dot d = -d/\tau + \sum_j a_j \sum_k \delta(t - t_j^k) + \sum_r R_r\,\delta(t - t_r).$$

    Two kinds of source, alone or together:

    - the spikes of the neurons of `population` (the dopaminergic cells, as NEST's
      `volume_transmitter`): a spike of neuron $j$ emitted at $t$ raises $d$ by $a_j$
      (`amount`, one number or one per neuron) at $t$;
    - an external reward schedule: `reward_times` (ms, rounded to the network's grid) and
      `reward_amounts` $R_r$ (one number, or one per reward).

    Between events $d$ decays exactly, $d \leftarrow d\,e^{-h/\tau}$. Each projection with
    a `Neuromodulated` rule keeps its own copy of $d$ in its state (identical copies when
    several share a modulator). NEST's `stdp_dopamine_synapse` raises its concentration $n$
    by $1/\tau_n$ per spike: `amount=1 / tau` reproduces it.

    **Arguments:** `tau` (ms, > 0; default 200 ms, Izhikevich 2007's $\tau_d = 0.2$ s),
    `population` (a population name or object, or None), `amount`, `reward_times` (finite,
    ms), `reward_amounts`.

    **Raises:** `ValueError` naming the parameter: a non-positive `tau`, non-finite amounts
    or times, `reward_amounts` of another length, no source at all; when the network is
    built, an unknown `population`, an `amount` that does not fit it, or a reward before
    the end of the first step.
    """

    tau: Any = 200.0
    amount: Any = 1.0
    population: str | None = eqx.field(default=None, static=True)
    reward_times: tuple = eqx.field(default=(), static=True)
    reward_amounts: tuple = eqx.field(default=(), static=True)

    def __init__(
        self,
        tau: Any = 200.0,
        *,
        population: Any = None,
        amount: Any = 1.0,
        reward_times: Any = (),
        reward_amounts: Any = 1.0,
    ):
        check_positive("Modulator.tau", tau, "ms")
        check_finite("Modulator.amount", amount)
        times = np.asarray(reward_times, dtype=float).reshape(-1)
        check_finite("Modulator.reward_times", times)
        amounts = np.asarray(reward_amounts, dtype=float)
        check_finite("Modulator.reward_amounts", amounts)
        if amounts.ndim and amounts.size != times.size:
            raise ValueError(
                f"Modulator.reward_amounts must be one number or one per reward "
                f"({times.size}), got {amounts.size}"
            )
        if population is not None and not isinstance(population, str):
            population = population.name
        if population is None and times.size == 0:
            raise ValueError(
                "Modulator: give a source, population= (modulatory neurons) and/or "
                "reward_times= (an external reward schedule)"
            )
        self.tau = tau
        self.amount = amount
        self.population = population
        self.reward_times = tuple(float(t) for t in times)
        self.reward_amounts = tuple(float(a) for a in np.broadcast_to(amounts, times.shape))


class Neuromodulated(PlasticityRule):
    r"""Three-factor (neuromodulated) plasticity: reward-modulated STDP (Izhikevich 2007,
    *Cereb. Cortex* 17:2443; NEST's `stdp_dopamine_synapse`, Potjans, Morrison & Diesmann
    2010, *Front. Comput. Neurosci.* 4:141).

    An STDP rule (`stdp`: `PairSTDP`, `TripletSTDP`, `VogelsSTDP` or your own) writes the
    changes it would make to the weight into a per-synapse **eligibility trace** $c$
    instead, and the weight follows $c$ gated by the modulator's concentration $d$:
    $$\dot c = -c/\tau_c + \mathrm{STDP}(\Delta t)\,\delta(t - t_\mathrm{pre/post}),
      \qquad \dot w = c\,(d - b).$$
    Between events $c$ and $d$ decay exponentially, so the weight's change over an
    interval $h$ with $c$, $d$ at its start is the integral in closed form (as in NEST,
    not an Euler sum):
    $$\Delta w = c\left[d\,\tau_s\left(1 - e^{-h/\tau_s}\right)
      - b\,\tau_c\left(1 - e^{-h/\tau_c}\right)\right],
      \qquad \frac{1}{\tau_s} = \frac{1}{\tau_c} + \frac{1}{\tau_d}.$$
    It is applied every step (the modulator is global: every synapse with $c \ne 0$ moves
    while $d \ne b$, so a step costs one multiply-add per synapse besides the events). The
    weight is clipped to $[w_\min, w_\max]$ at the end of each step (NEST clips at its
    update times). The increments are summed with compensation (Kahan), so that in float32
    increments below the weight's resolution are not lost. The transmitted value is the
    weight at the arrival. The timing conventions are those of every rule here (axonal
    delay); the modulator's events act at their own time.

    **Arguments:** `stdp` (a rule that changes weights; it is applied to $c$, unbounded:
    its own `w_min`/`w_max` are not used; soft bounds, `PairSTDP(multiplicative=True)`,
    are refused), `modulator` (a `Modulator`), `tau_c` (ms, > 0; default 1 s), `b` (the
    modulator's baseline, default 0; a negative `b` acts as a tonic level), `w_min` < `w_max`
    (default 0 and 1). Izhikevich (2007) and NEST's defaults: `PairSTDP(A_plus=1,
    A_minus=1.5, tau_plus=20, tau_minus=20)`, $\tau_c = 1$ s, $\tau_d = 0.2$ s.
    """

    stdp: PlasticityRule
    modulator: Modulator
    tau_c: Any = 1000.0
    b: Any = 0.0
    w_min: Any = eqx.field(default=0.0, kw_only=True)
    w_max: Any = eqx.field(default=1.0, kw_only=True)

    synapse_traces: ClassVar[tuple[str, ...]] = ("c", "w_lo")

    def __check_init__(self):
        if not isinstance(self.stdp, PlasticityRule) or isinstance(self.stdp, Neuromodulated):
            raise ValueError(
                f"Neuromodulated.stdp must be a plasticity rule (e.g. PairSTDP), got "
                f"{type(self.stdp).__name__}"
            )
        if not self.stdp.changes_weights or getattr(self.stdp, "multiplicative", False):
            raise ValueError(
                f"Neuromodulated.stdp must change weights additively (the eligibility trace "
                f"is unbounded), got {self.stdp!r}"
            )
        if not isinstance(self.modulator, Modulator):
            raise ValueError(
                f"Neuromodulated.modulator must be a Modulator, got {type(self.modulator)}"
            )
        check_positive("Neuromodulated.tau_c", self.tau_c, "ms")
        check_finite("Neuromodulated.b", self.b)
        _check_bounds("Neuromodulated", self.w_min, self.w_max)

    # the traces are the STDP rule's
    @property
    def pre_traces(self) -> tuple[str, ...]:  # pyright: ignore[reportIncompatibleVariableOverride]
        return self.stdp.pre_traces

    @property
    def post_traces(self) -> tuple[str, ...]:  # pyright: ignore[reportIncompatibleVariableOverride]
        return self.stdp.post_traces

    @property
    def uses_post(self) -> bool:  # pyright: ignore[reportIncompatibleVariableOverride]
        return self.stdp.uses_post

    def pre_taus(self):
        return self.stdp.pre_taus()

    def post_taus(self):
        return self.stdp.post_taus()

    def pre_initial(self):
        return self.stdp.pre_initial()

    def decay_pre(self, pre, elapsed):
        return self.stdp.decay_pre(pre, elapsed)

    def decay_post(self, post, dt):
        return self.stdp.decay_post(post, dt)

    def post_spike(self, post):
        return self.stdp.post_spike(post)

    def _window(self) -> PlasticityRule:
        """The STDP rule without bounds (it acts on the eligibility trace)."""
        inf = jnp.inf
        return eqx.tree_at(lambda r: (r.w_min, r.w_max), self.stdp, (-inf, inf))

    def on_pre(self, w, pre, post):
        raise NotImplementedError("Neuromodulated acts through pre_event (per-synapse c)")

    def pre_event(self, w, syn, pre, post):
        c, pre, _ = self._window().on_pre(syn["c"], pre, post)
        return w, {**syn, "c": c}, pre, w

    def post_event(self, w, syn, pre, post):
        return w, {**syn, "c": self._window().on_post(syn["c"], pre, post)}

    def advance(self, w, syn: dict, d, h):
        """The weights, per-synapse variables and concentration `h` ms later with no event
        (exact; see the class docstring): `(w, syn, d)`."""
        dtype = w.dtype
        tau_c = jnp.asarray(self.tau_c, dtype)
        tau_d = jnp.asarray(self.modulator.tau, dtype)
        h = jnp.asarray(h, dtype)
        tau_s = tau_c * tau_d / (tau_c + tau_d)
        # 1 - e^{-h/tau} without cancellation: c and d then lose only a rounding per step
        # (a rounded factor e^{-h/tau} would bias them by its error times the step count)
        q_c, q_d, q_s = (-jnp.expm1(-h / tau) for tau in (tau_c, tau_d, tau_s))
        c, lo = syn["c"], syn["w_lo"]
        inc = c * (d * tau_s * q_s - jnp.asarray(self.b, dtype) * tau_c * q_c)
        # compensated (Kahan) sum: lo carries what the last additions rounded away
        y = inc - lo
        t = w + y
        lo = (t - w) - y
        new = self.clip(t)
        lo = jnp.where(new == t, lo, jnp.zeros_like(lo))
        return new, {"c": c - c * q_c, "w_lo": lo}, d - d * q_d


# ----------------------------------------------------------------------------------------------
# the compiled (device) form of a plastic projection and its step


def _read(tree: dict, i) -> dict:
    return {n: jax.lax.dynamic_index_in_dim(v, i, 0, keepdims=False) for n, v in tree.items()}


def _write(tree: dict, i, values: dict) -> dict:
    return {
        n: jax.lax.dynamic_update_index_in_dim(v, jnp.asarray(values[n]).astype(v.dtype), i, 0)
        for n, v in tree.items()
    }


def ell_layout(keys: np.ndarray, n_rows: int):
    """The padded row (ELL) layout of entries grouped by `keys` (row indices in
    `[0, n_rows)`): `(order, col, K, counts)`, where entry `order[e]` goes to row
    `keys[order[e]]`, column `col[e]` (stable: entries keep their order within a row), `K`
    is the widest row (>= 1) and `counts` the row lengths."""
    counts = np.bincount(keys, minlength=n_rows)
    K = max(1, int(counts.max()) if counts.size else 1)
    order = np.argsort(keys, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    col = np.arange(keys.size) - starts[keys[order]]
    return order, col, K, counts


def _table(keys: np.ndarray, values: np.ndarray, n_rows: int):
    """ELL table: row `r` lists `values[keys == r]` (in order), padded with 0; and the row
    lengths. `n_rows + 1` rows (the last, a dummy, empty)."""
    order, col, K, counts = ell_layout(keys, n_rows)
    table = np.zeros((n_rows + 1, K), np.int32)
    table[keys[order], col] = values[order]
    lengths = np.zeros((n_rows + 1,), np.int32)
    lengths[:n_rows] = counts
    return jnp.asarray(table), jnp.asarray(lengths)


class CompiledPlastic(eqx.Module):
    """Device form of a plastic `Projection` (built by `Network`): the synapse tables (rows
    per pre-synaptic neuron, one table per distinct delay; columns per post-synaptic neuron)
    and the rule. The weights and traces live in the network state,
    `state["plastic"][name]`."""

    rule: PlasticityRule
    rows: Any  # per delay group: (G, n_pre + 1, K) int32 synapse ids, and the row lengths
    row_lengths: Any  # (G, n_pre + 1)
    cols: Any  # (n_post + 1, Kc) int32 synapse ids of each post neuron (None: no on_post)
    col_lengths: Any
    pre_of: Any  # (n_syn,) int32
    pre_slot: Any  # (n_syn,) int32: the synapse's pre-synaptic trace, g * n_pre + pre
    post_of: Any  # (n_syn,) int32
    weight0: Any  # (n_syn,) initial weights (magnitudes for a signed pre population)
    reward_steps: Any  # a Neuromodulated rule's rewards: the steps at whose end they act, int32
    reward_amounts: Any  # (n_rewards,)
    name: str = eqx.field(static=True)
    pre: str = eqx.field(static=True)
    post: str = eqx.field(static=True)
    receptor: str = eqx.field(static=True)
    n_pre: int = eqx.field(static=True)
    n_post: int = eqx.field(static=True)
    n_synapses: int = eqx.field(static=True)
    delay_steps: tuple = eqx.field(static=True)
    max_delay: int = eqx.field(static=True)
    sign: float = eqx.field(static=True)
    #: the step's form: dense (masked, loop-free) or event-driven (see `step`)
    dense: bool = eqx.field(static=True)

    def __init__(
        self, p, dt: float, dtype, populations: dict | None = None, *, dense: bool = False
    ):
        rule = p.plasticity
        self.rule = rule
        self.dense = bool(dense)
        self.reward_steps, self.reward_amounts = _compile_modulator(
            rule, p.name, dt, dtype, populations
        )
        self.name, self.pre, self.post, self.receptor = p.name, p.pre_name, p.post_name, p.receptor
        self.n_pre, self.n_post, self.n_synapses = p.n_pre, p.n_post, p.n_synapses
        self.sign = float(p.plastic_sign)
        n = p.n_synapses
        dsteps = np.broadcast_to(np.rint(np.asarray(p.delay) / dt).astype(np.int64), (n,))
        values = tuple(int(v) for v in np.unique(dsteps)) if n else (0,)
        self.delay_steps = values
        self.max_delay = max(values)
        ids = np.arange(n)
        rows, lengths = [], []
        for d in values:
            sel = dsteps == d
            t, ln = _table(p.pre_idx[sel], ids[sel], p.n_pre)
            rows.append(t)
            lengths.append(ln)
        # one table per delay, padded to a common width (one loop walks them all)
        K = max(t.shape[1] for t in rows)
        rows = [np.pad(np.asarray(t), ((0, 0), (0, K - t.shape[1]))) for t in rows]
        self.rows = jnp.asarray(np.stack(rows))
        self.row_lengths = jnp.asarray(np.stack([np.asarray(x) for x in lengths]))

        if rule.uses_post:
            self.cols, self.col_lengths = _table(p.post_idx, ids, p.n_post)
        else:
            self.cols, self.col_lengths = None, None
        self.pre_of = jnp.asarray(p.pre_idx.astype(np.int32))
        group_of = np.searchsorted(np.asarray(values), dsteps)
        self.pre_slot = jnp.asarray((group_of * p.n_pre + p.pre_idx).astype(np.int32))
        self.post_of = jnp.asarray(p.post_idx.astype(np.int32))
        w = np.broadcast_to(np.asarray(p.weight, dtype=float) * self.sign, (n,))
        self.weight0 = jnp.asarray(w, dtype)

    @property
    def receptor_key(self) -> str:
        """The post-synaptic receptor this projection feeds: `"<post>:<receptor>"`."""
        return f"{self.post}:{self.receptor}"

    def init_state(self, dtype) -> dict:
        """Weights (the projection's), the pre-synaptic traces at their initial values (one
        per pre-synaptic neuron and delay group, flattened `(G * n_pre,)`: all synapses of a
        neuron with one delay see the same arrivals), post-synaptic traces (0) and the
        pre-synaptic spike history (the spike words of the last `max_delay + 1` steps)."""
        n_words = -(-self.n_pre // 32)
        init = self.rule.pre_initial()
        n_slots = len(self.delay_steps) * self.n_pre
        state = {
            "w": jnp.asarray(self.weight0, dtype),
            "pre": {t: jnp.full((n_slots,), init[t], dtype) for t in self.rule.pre_traces},
            "post": {t: jnp.zeros((self.n_post,), dtype) for t in self.rule.post_traces},
            "history": jnp.zeros((self.max_delay + 1, n_words), jnp.uint32),
        }
        if self.rule.synapse_traces:
            # per-synapse variables (an eligibility trace)
            init = self.rule.synapse_initial()
            n = self.n_synapses
            state["syn"] = {t: jnp.full((n,), init[t], dtype) for t in self.rule.synapse_traces}
        if isinstance(self.rule, Neuromodulated):
            state["d"] = jnp.zeros((), dtype)  # the modulator's concentration
        return state

    def step(self, ps: dict, spikes: dict, flat, k, base, dt: float):
        """The plastic part of step `k` (spikes emitted at its end, time $t_{k+1}$; `spikes`:
        population name -> this step's spikes): for a `Neuromodulated` rule, advance the
        weights, eligibility traces and modulator over the step (exact) and add the
        modulator's events at $t_{k+1}$; decay the traces to $t_{k+1}$, process the
        pre-synaptic spikes arriving at $t_{k+1}$ (emitted `d` steps earlier for each delay
        `d`; their transmitted values go to `flat[base + post]`, the ring-buffer slot read in
        step $k + 1$), then the post-synaptic spikes at $t_{k+1}$. Returns `(new plastic
        state, flat)`.

        Two forms compute it (`dense`, chosen by the network's `delivery`):

        - the **event** form (`delivery="loop"`) walks the arriving and the post-synaptic
          spikes and touches only their synapses. Its loops carry only the weights, the
          per-synapse variables (if the rule has any), the pre-synaptic traces (per neuron
          and delay) and the ring buffer, so that on CPU they compile into single kernels
          for projections of up to about 200,000 synapses (`spikejax.cpu`);
        - the **dense** form (`delivery="padded"`) updates every synapse with a mask of
          those whose pre-synaptic spike arrives (or whose post-synaptic neuron spikes), with
          no loop: a fixed amount of parallel work per step (GPUs), and reverse-mode
          differentiable.

        Each synapse is touched at most once per phase and step (one arrival, one
        post-synaptic spike), so both forms apply the same per-synapse arithmetic; they
        differ only in the order in which the transmitted values of one step are summed
        into a post-synaptic neuron's slot. The event form is differentiated through the
        dense form (a custom JVP: its tangents are the dense form's), so `jax.jvp` and
        `jax.grad` go through either."""
        if self.dense:
            return self._step(ps, spikes, flat, k, base, dt, dense=True)
        return _event_step(self, ps, spikes, flat, k, base, dt)

    def _step(self, ps: dict, spikes: dict, flat, k, base, dt: float, *, dense: bool):
        """`step` in the event (`dense=False`) or the dense form."""
        rule = self.rule
        w = ps["w"]
        syn = ps.get("syn", {})
        dtype = w.dtype
        dtc = jnp.asarray(dt, dtype)
        extra = {}
        if isinstance(rule, Neuromodulated):
            w, syn, d = rule.advance(w, syn, ps["d"], dtc)
            src = rule.modulator.population
            if src is not None:
                a = jnp.asarray(rule.modulator.amount, dtype)
                d = d + jnp.sum(a * spikes[src].astype(dtype))
            if self.reward_steps is not None:
                hit = self.reward_steps == k + 1
                d = d + jnp.sum(
                    jnp.where(hit, self.reward_amounts, jnp.zeros_like(self.reward_amounts))
                )
            extra["d"] = d
        from ._projection import spike_words

        H = ps["history"].shape[0]
        words_now = spike_words(spikes[self.pre] > 0)
        old_history = ps["history"]
        history = jax.lax.dynamic_update_index_in_dim(old_history, words_now, k % H, 0)
        # the spike words of the spikes arriving now at the synapses of each delay group: the
        # rows of the history as it was before this step's row was written (rows k - d for
        # 1 <= d < H are not the row k % H written now, and d = 0 is this step's words;
        # reading the updated buffer instead let XLA CPU read stale rows with x64 enabled:
        # the write and the reads were reordered)
        arriving = [
            words_now
            if d == 0
            else jax.lax.dynamic_index_in_dim(old_history, (k - d) % H, 0, keepdims=False)
            for d in self.delay_steps
        ]
        pre = rule.decay_pre(ps["pre"], dtc)
        post = rule.decay_post(ps["post"], dtc)
        post_spiking = spikes[self.post] > 0
        phases = self._dense_phases if dense else self._event_phases
        flat, w, syn, pre = phases(arriving, post_spiking, flat, w, syn, pre, post, base)
        if rule.uses_post:
            jumped = rule.post_spike(post)
            post = {n: jnp.where(post_spiking, jumped[n], v).astype(dtype) for n, v in post.items()}
        new = {"w": w, "pre": pre, "post": post, "history": history}
        if syn:
            new["syn"] = syn
        return {**new, **extra}, flat

    def _event_phases(self, arriving, post_spiking, flat, w, syn, pre, post, base):
        """The arrivals, then the post-synaptic spikes, walked spike by spike (event form):
        `(flat, w, syn, pre)`."""
        from ._projection import _add_at, _walk_spike_bits, spike_words

        rule = self.rule
        dtype = w.dtype
        sign = self.sign
        no_limit = jnp.asarray(self.n_pre + 1, jnp.int32)
        zero = jnp.zeros((), dtype)
        zeros_syn = {t: zero for t in syn}

        def group(g, words, carry):
            """The arrivals of the synapses of delay `delay_steps[g]`."""

            def arrival(b, j, carry):
                flat, w, syn, pre = carry
                slot = g * self.n_pre + jnp.minimum(j, self.n_pre - 1)
                x = _read(pre, slot)

                def synapse(q, carry):
                    flat, w, syn = carry
                    s = self.rows[g, j, q]
                    i = self.post_of[s]
                    w_new, syn_new, _, psc = rule.pre_event(w[s], _read(syn, s), x, _read(post, i))
                    flat = _add_at(flat, base + i, (sign * psc).astype(flat.dtype))
                    w = jax.lax.dynamic_update_index_in_dim(w, w_new.astype(dtype), s, 0)
                    return flat, w, _write(syn, s, syn_new)

                n = self.row_lengths[g, j]
                flat, w, syn = jax.lax.fori_loop(0, n, synapse, (flat, w, syn))
                # the traces' jump depends on the traces only (the rule's contract)
                x_new = rule.pre_event(zero, zeros_syn, x, {t: zero for t in post})[2]
                x_new = {t: jnp.where(j < self.n_pre, x_new[t], x[t]) for t in x}
                return flat, w, syn, _write(pre, slot, x_new)

            n_words = words.shape[0]
            return _walk_spike_bits(words, no_limit, n_words, self.n_pre, arrival, carry)

        # one walk per delay value, unrolled (the delay is static in each)
        carry = (flat, w, syn, pre)
        for g, words in enumerate(arriving):
            carry = group(g, words, carry)
        flat, w, syn, pre = carry

        if rule.uses_post:
            post_words = spike_words(post_spiking)
            cols, col_lengths = self.cols, self.col_lengths

            def post_spike(b, i, carry):
                y = _read(post, i)

                def synapse(q, carry):
                    w, syn = carry
                    s = cols[i, q]
                    x = _read(pre, self.pre_slot[s])
                    w_new, syn_new = rule.post_event(w[s], _read(syn, s), x, y)
                    w = jax.lax.dynamic_update_index_in_dim(w, w_new.astype(dtype), s, 0)
                    return w, _write(syn, s, syn_new)

                return jax.lax.fori_loop(0, col_lengths[i], synapse, carry)

            n_words = post_words.shape[0]
            limit = jnp.asarray(self.n_post + 1, jnp.int32)
            w, syn = _walk_spike_bits(post_words, limit, n_words, self.n_post, post_spike, (w, syn))
        return flat, w, syn, pre

    def _dense_phases(self, arriving, post_spiking, flat, w, syn, pre, post, base):
        """The arrivals, then the post-synaptic spikes, as masked updates of every synapse
        (dense form, no loop): `(flat, w, syn, pre)`."""
        rule = self.rule
        dtype = w.dtype
        # (G * n_pre,): whether the spike of neuron j reaches its synapses of delay group g now
        arrived = jnp.concatenate([_unpack_words(words, self.n_pre) for words in arriving])
        hit = arrived[self.pre_slot]
        x = {t: v[self.pre_slot] for t, v in pre.items()}
        y = {t: v[self.post_of] for t, v in post.items()}
        w_new, syn_new, _, psc = rule.pre_event(w, syn, x, y)
        w = jnp.where(hit, jnp.asarray(w_new, dtype), w)
        syn = {t: jnp.where(hit, jnp.asarray(syn_new[t], dtype), v) for t, v in syn.items()}
        psc = jnp.where(hit, jnp.broadcast_to(self.sign * psc, hit.shape), 0).astype(flat.dtype)
        into = jax.ops.segment_sum(psc, self.post_of, num_segments=self.n_post)
        now = jax.lax.dynamic_slice_in_dim(flat, base, self.n_post)
        flat = jax.lax.dynamic_update_slice_in_dim(flat, now + into, base, 0)
        # the traces' jump depends on the traces only (the rule's contract)
        zero = jnp.zeros((), dtype)
        jumped = rule.pre_event(zero, {t: zero for t in syn}, pre, {t: zero for t in post})[2]
        pre = {t: jnp.where(arrived, jnp.asarray(jumped[t], dtype), v) for t, v in pre.items()}
        if rule.uses_post:
            hit = post_spiking[self.post_of]
            x = {t: v[self.pre_slot] for t, v in pre.items()}
            w_new, syn_new = rule.post_event(w, syn, x, y)
            w = jnp.where(hit, jnp.asarray(w_new, dtype), w)
            syn = {t: jnp.where(hit, jnp.asarray(syn_new[t], dtype), v) for t, v in syn.items()}
        return flat, w, syn, pre


def _unpack_words(words, n: int):
    """The boolean spike vector `(n,)` packed in the uint32 spike words `words`
    (`_projection.spike_words`'s inverse)."""
    bits = (words[:, None] >> jnp.arange(32, dtype=jnp.uint32)) & jnp.uint32(1)
    return bits.reshape(-1)[:n] > 0


@functools.partial(jax.custom_jvp, nondiff_argnums=(6,))
def _event_step(cp: CompiledPlastic, ps, spikes, flat, k, base, dt: float):
    """`CompiledPlastic.step` in the event form, differentiated through the dense form: the
    event form's loops have data-dependent trip counts (`while` loops), which reverse mode
    cannot transpose, while the dense form computes the same function with masks. The primal
    is the event form's (bit for bit the undifferentiated run); the tangents are the dense
    form's."""
    return cp._step(ps, spikes, flat, k, base, dt, dense=False)


@_event_step.defjvp
def _event_step_jvp(dt, primals, tangents):
    out = _event_step(*primals, dt)

    def dense(cp, ps, spikes, flat, k, base):
        return cp._step(ps, spikes, flat, k, base, dt, dense=True)

    _, t_out = jax.jvp(dense, primals, tangents)
    return out, t_out


def _compile_modulator(rule, name: str, dt: float, dtype, populations: dict | None):
    """The device form of a `Neuromodulated` rule's reward schedule, `(reward steps, reward
    amounts)` (None if it has none, or for other rules), after checking its source
    population against the network's `populations`."""
    if not isinstance(rule, Neuromodulated):
        return None, None
    mod = rule.modulator
    if mod.population is not None:
        if populations is not None and mod.population not in populations:
            raise ValueError(
                f"Projection {name}: Modulator.population {mod.population!r} is not a "
                f"population of the network (have {sorted(populations)})"
            )
        n = populations[mod.population].n if populations is not None else None
        a = np.asarray(mod.amount, dtype=float) if is_concrete(mod.amount) else None
        if a is not None and n is not None and a.ndim and a.shape != (n,):
            raise ValueError(
                f"Projection {name}: Modulator.amount must be one number or one per neuron of "
                f"{mod.population!r} ({n}), got shape {a.shape}"
            )
    steps = amounts = None
    if mod.reward_times:
        t = np.asarray(mod.reward_times)
        if not (t.min() >= dt * (1 - 1e-9)):
            raise ValueError(
                f"Projection {name}: Modulator.reward_times must be >= dt = {dt} ms (the first "
                f"step's end), got {t.min()}"
            )
        steps = jnp.asarray(np.rint(t / dt).astype(np.int32))
        amounts = jnp.asarray(np.asarray(mod.reward_amounts), dtype)
    return steps, amounts
