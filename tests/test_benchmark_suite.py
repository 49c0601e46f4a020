"""The benchmark suite's runner (benchmarks/run_all.py): the GPU plan, the time budget and the
JSON written after every part (what a GPU machine's time limit may cut short)."""

import json
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))
run_all = pytest.importorskip("run_all")


def test_gpu_quick_plan_covers_the_gpu_goals():
    assert run_all.default_scales(quick=True, gpu=True) == [1.0]
    assert run_all.default_scales(quick=True, gpu=False) == [0.05]
    assert set(run_all.GPU_ORDER) == set(run_all.PARTS)
    # the GPU goals first: COBA-4000's real-time factor, then the batch ratio
    assert run_all.GPU_ORDER[:2] == ("coba", "batch")


def test_spent_budget_skips_parts_and_still_writes_the_record(tmp_path):
    out = tmp_path / "suite.json"
    assert run_all.main(["--quick", "--budget-s", "0", "--out", str(out)]) == 0
    res = json.loads(out.read_text())
    assert res["skipped"] == list(run_all.PARTS) and res["parts"] == {}
    assert {"device", "jax_version", "platform"} <= set(res["machine"])
    with pytest.raises(SystemExit, match="--budget-s must be >= 0"):
        run_all.main(["--budget-s", "-1", "--out", str(out)])


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="Linux /proc")
def test_memory_record_is_the_kernels_peak_resident_set():
    mem = run_all.memory_now()
    with open("/proc/self/status") as f:
        hwm = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))
    assert abs(mem["peak_rss_bytes"] - hwm) <= 0.05 * hwm


@pytest.mark.slow
def test_a_part_records_its_memory_and_the_file_after_it(tmp_path):
    out = tmp_path / "suite.json"
    assert run_all.main(["--quick", "--only", "izhikevich", "--out", str(out)]) == 0
    res = json.loads(out.read_text())
    assert res["errors"] == {} or set(res["errors"]) == {"plots"}
    assert res["memory"]["izhikevich"]["peak_rss_bytes"] > 50e6
    r = res["parts"]["izhikevich"]
    assert r["n_neurons"] == 1000 and r["rate_hz"] > 0
