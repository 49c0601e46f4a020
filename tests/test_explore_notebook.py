"""`spikejax.explore()` inside a Jupyter notebook: a real kernel (ipykernel, driven by
nbclient) runs the call, and the cell's value is the explorer page itself, displayed inline as
a Bokeh document (Panel's notebook MIME type), not a server."""

import json
import os
import re

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("panel")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.slow  # a kernel start and a whole page: over a minute on a loaded 2-core machine
def test_explore_in_a_notebook_shows_the_page_inline():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import spikejax\n"
            "view = spikejax.explore('fhn')\n"
            "print(type(view).__module__, view.explorer.entry.name)\n"
            "view"
        )
    ]
    # the kernel is this interpreter's (ipykernel's native "python3" spec), with its environment
    client = nbclient.NotebookClient(
        nb, timeout=240, kernel_name="python3", resources={"metadata": {"path": ROOT}}
    )
    client.execute()
    outputs = nb.cells[0].outputs
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert text.split() == ["panel.layout.base", "FitzHugh-Nagumo"]
    (result,) = [o for o in outputs if o.output_type == "execute_result"]
    data = result["data"]
    assert "application/vnd.holoviews_exec.v0+json" in data
    # the inline HTML carries the Bokeh document of the page: its model picker and sliders
    m = re.search(r"var docs_json = (\{.*?\});\n", data["text/html"], re.S)
    assert m is not None
    doc = json.dumps(json.loads(m.group(1)))
    assert "FitzHugh-Nagumo" in doc and "sj-model" in doc
