import json
import subprocess
import sys

from vin_ocr.hardware import probe


def test_probe_reports_this_interpreter_and_its_torch():
    facts = probe()
    assert facts["path"] == sys.executable
    assert facts["torch"] is not None and facts["torch"].startswith("2.")
    assert facts["cuda_available"] in (True, False)
    assert facts["mps_available"] in (True, False)


def test_command_line_prints_the_contract_as_json():
    out = subprocess.run(
        [sys.executable, "-m", "vin_ocr", "hardware", "--json"], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    facts = json.loads(out)
    assert {"path", "version", "torch", "cuda_available", "mps_available", "flash_attn"} <= set(facts)


def test_cpu_only_torch_is_reported_from_metadata_without_importing_it(monkeypatch):
    import sys as real_sys

    from vin_ocr import hardware

    monkeypatch.setattr(hardware.sys, "platform", "linux")
    monkeypatch.setattr(hardware.metadata, "version", lambda name: "2.13.0+cpu")
    monkeypatch.setitem(real_sys.modules, "torch", None)  # importing torch would now raise
    facts = hardware.torch_facts()
    assert facts == {"torch": "2.13.0+cpu", "cuda_available": False, "mps_available": False, "torch_cuda": None}


def test_a_cuda_build_is_imported_to_ask_it(monkeypatch):
    from vin_ocr import hardware

    monkeypatch.setattr(hardware.metadata, "version", lambda name: "2.13.0")
    assert hardware._cpu_only_torch_version() is None
