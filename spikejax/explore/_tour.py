"""The guided tour: the sequence of figures of the explainer, as presets of the explorer."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class TourStep:
    """One preset: the catalog model, the current, the trace's stimulus, and what to see."""

    title: str
    model: str
    I: float
    text: str
    stimulus: str = "constant"
    pulse_amplitude: float | None = None
    pulse_interval: float = 5.0
    n_pulses: int = 2


#: The tour, in the explainer's order (Izhikevich 2007, *Dynamical Systems in Neuroscience*,
#: chapters 1-7).
TOUR: tuple[TourStep, ...] = (
    TourStep(
        "1. The Hodgkin-Huxley action potential",
        "Hodgkin-Huxley",
        10.0,
        "A step of 10 uA/cm^2 makes the squid axon fire: Na+ activation (m) drives the upstroke, "
        "Na+ inactivation (h) and K+ activation (n) bring V back. Move I: the rest state loses "
        "stability at the Hopf point H (I = 9.78) of the bifurcation diagram; below it single "
        "spikes, above it repetitive firing. The phase plane shows Rinzel's reduction (V, n).",
        stimulus="step",
    ),
    TourStep(
        "2. Leaky integrate-and-fire",
        "LIF",
        20.0,
        "The simplest spiking model: V relaxes towards E_L + R I with time constant tau_m and is "
        "reset at V_th. It fires as soon as E_L + R I > V_th (I > 15 here), at a rate that "
        "starts from zero (class 1) but with no spike shape: the spike is the reset.",
    ),
    TourStep(
        "3. I_Na,p: the phase line and the saddle-node",
        "INaP (1-D)",
        0.0,
        "One variable, V: the phase line dV/dt(V) has three zeros, stable rest, unstable "
        "threshold and the excited state. Move I up: rest and threshold approach and coalesce "
        "in a saddle-node (fold, LP at I = 15.8) and vanish; V runs to the peak and, with the "
        "artificial reset, fires repetitively.",
    ),
    TourStep(
        "4. I_Na,p + I_K: saddle-node on invariant circle (SNIC)",
        "INaPIK (high-threshold K, SNIC)",
        3.0,
        "Two variables (V, n). At I = 3 there are three equilibria: stable rest, a saddle whose "
        "stable manifold (dashed) is the threshold, and an unstable focus. Move I past 4.51: "
        "rest and saddle annihilate on the invariant circle and the circle becomes a limit "
        "cycle of arbitrarily long period: firing starts at zero frequency (class 1, an "
        "integrator). Click in the plane to start trajectories.",
    ),
    TourStep(
        "5. I_Na,p + I_K: Andronov-Hopf",
        "INaPIK (low-threshold K, Hopf)",
        12.0,
        "With the low-threshold K+ current, rest is a stable focus (complex eigenvalues: damped "
        "oscillations). Move I past the Hopf point: the focus turns unstable and firing starts "
        "at a finite frequency (class 2, a resonator). The trace-determinant chart shows the "
        "focus crossing the positive determinant axis.",
    ),
    TourStep(
        "6. Izhikevich cell types",
        "Izhikevich RS (regular spiking)",
        10.0,
        "Two variables and a reset reproduce the cortical firing patterns. Pick the other "
        "Izhikevich presets (IB bursting, CH chattering, FS fast spiking, LTS, TC, RZ "
        "resonator) in the model list: only a, b, c, d change.",
        stimulus="step",
    ),
    TourStep(
        "7. FitzHugh-Nagumo: a resonator",
        "FitzHugh-Nagumo",
        0.0,
        "The cubic V-nullcline and the linear w-nullcline cross at a stable focus (damped "
        "oscillations of period about 30). Pulses spaced by a fraction of the period add up "
        "differently from pulses spaced by the period: change the interval. Move I past the "
        "Hopf point near 0.33 to see the relaxation oscillation.",
        stimulus="pulses",
        pulse_amplitude=0.7,
        pulse_interval=30.0,
        n_pulses=3,
    ),
    TourStep(
        "8. Integrator: pulses summate when close",
        "INaPIK (high-threshold K, SNIC)",
        0.0,
        "Two pulses of 18 uA/cm^2, 1.5 ms apart, summate and cross the saddle's threshold: a "
        "spike. Set the interval to 8 ms: each pulse decays before the next and no spike "
        "follows. An integrator prefers high frequency input.",
        stimulus="pulses",
        pulse_amplitude=18.0,
        pulse_interval=1.5,
        n_pulses=2,
    ),
    TourStep(
        "9. Resonator: pulses at the resonant period",
        "INaPIK (low-threshold K, Hopf)",
        12.0,
        "Just below the Hopf point rest is a focus: after a pulse V rings with the period "
        "2 pi / Im(lambda) of its eigenvalues (about 3.1 ms at I = 12, hover over rest in the "
        "phase plane). Change the pulse interval and the amplitude: pulses in phase with the "
        "ringing add up, pulses at other intervals cancel. A resonator prefers its own "
        "frequency; compare with the integrator of the previous step.",
        stimulus="pulses",
        pulse_amplitude=16.0,
        pulse_interval=3.1,
        n_pulses=3,
    ),
)
