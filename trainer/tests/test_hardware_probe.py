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
