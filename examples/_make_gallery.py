"""Regenerate the documentation gallery: run every example into `docs/gallery/`.

python examples/_make_gallery.py            # all examples, default (small) sizes
python examples/_make_gallery.py lif_trace  # only the named ones
"""

import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
GALLERY = HERE.parent / "docs" / "gallery"

names = sys.argv[1:] or sorted(p.stem for p in HERE.glob("*.py") if not p.name.startswith("_"))
env = {**os.environ, "SPIKEJAX_EXAMPLES_OUT": str(GALLERY), "MPLBACKEND": "Agg"}
env.pop("SPIKEJAX_EXAMPLES_FULL", None)
failed = []
for name in names:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, str(HERE / f"{name}.py")], env=env, cwd=HERE)
    print(f"{name}: exit {proc.returncode} in {time.perf_counter() - start:.1f} s")
    if proc.returncode:
        failed.append(name)
sys.exit(1 if failed else 0)
