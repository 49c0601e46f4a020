"""The interactive explorer: spikejax's models and analyses, live, in a browser or a notebook.

`spikejax.explore()` (or the command `spikejax explore`) starts a local web app built on Panel
and Bokeh (the `app` extra: `pip install "spikejax[app]"`): pick a model, move the sliders of
its parameters and of the input current `I`, and the trace, the phase plane (or phase line),
the equilibria, the bifurcation diagram, the trace-determinant chart and the F-I curve follow.
Every panel is computed by the library's own functions (`spikejax.simulate`,
`spikejax.analysis`, `spikejax.plot` for the PNG export). Panel and Bokeh are imported when the
app is built, not when `spikejax` is.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from ._catalog import CATALOG as CATALOG
from ._tour import TOUR as TOUR
from ._tour import TourStep as TourStep

__all__ = ["CATALOG", "TOUR", "TourStep", "app", "explore", "serve"]


def _require_panel():
    try:
        import panel  # noqa: F401
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the explorer needs Panel and Bokeh: pip install 'spikejax[app]'"
        ) from err
    import jax

    # The analysis panels (equilibria, continuation) need float64.
    jax.config.update("jax_enable_x64", True)


def app(model: Any = None):
    """A new explorer page (a Panel layout, displayable in a notebook or servable).

    **Arguments:**

    - `model`: optional: a `spikejax.models.NeuronModel` object (added to the model picker and
      selected) or the name of a built-in model (a key of `CATALOG`).

    **Returns:** the page, a Panel `Row` (its `Explorer` is the attribute `explorer`).

    **Raises:** `ImportError` without Panel; `ValueError` for an unknown model name or a
    population model; `TypeError` for an object that is not a `NeuronModel`.
    """
    _require_panel()
    from ._app import Explorer

    ex = Explorer(model)
    view = ex.view
    view.explorer = ex  # type: ignore[attr-defined]
    return view


def serve(
    model: Any = None,
    *,
    port: int = 0,
    address: str = "localhost",
    show: bool = True,
    threaded: bool = False,
):
    """Serve the explorer at `http://address:port/` (a new page per browser session).

    **Arguments:**

    - `model`: as for `app`.
    - `port`: the TCP port (0: a free one).
    - `address`: the interface to listen on (`localhost`: this machine only).
    - `show`: open a browser tab.
    - `threaded`: serve from a background thread and return at once.

    **Returns:** the server (with `threaded`, a thread with `stop()`; its `port` attribute is
    the port), after it stops otherwise.
    """
    _require_panel()
    import panel as pn

    if model is not None:
        app(model)  # check the model now, not in the first browser session
    if port == 0:
        import socket

        with socket.socket() as sock:  # a free port, so that the address can be printed
            sock.bind((address, 0))
            port = sock.getsockname()[1]
    server: Any = pn.serve(
        {"explore": lambda: app(model)},
        port=port,
        address=address,
        show=False,
        threaded=True,
        title="spikejax explorer",
        websocket_origin=None if address in ("localhost", "127.0.0.1") else "*",
        start=True,
        verbose=False,
    )
    url = f"http://{address}:{port}/explore"
    server.port = port
    server.url = url
    print(f"spikejax explorer at {url}", flush=True)
    if show:
        import webbrowser

        webbrowser.open(url)
    if threaded:
        return server
    try:
        server.join()
    except KeyboardInterrupt:
        server.stop()
    return server


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    ip = shell.get_ipython()  # type: ignore[attr-defined]
    return ip is not None and "IPKernelApp" in getattr(ip, "config", {})


def explore(model: Any = None, **kwargs: Any):
    """Explore a model interactively: inline in a Jupyter notebook, else in a browser tab.

    **Arguments:**

    - `model`: optional: a `NeuronModel` object or the name of a built-in model.
    - `kwargs`: for `serve` outside a notebook (`port`, `address`, `show`, `threaded`).

    **Returns:** in a notebook the page (displayed when it is the cell's value); else the
    server (see `serve`).
    """
    if _in_notebook() and not kwargs:
        import panel as pn

        pn.extension()
        return app(model)
    return serve(model, **kwargs)


class _CallableModule(types.ModuleType):
    """`spikejax.explore` is this package, and calling it calls `explore`."""

    def __call__(self, model: Any = None, **kwargs: Any):
        return explore(model, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
