import json
from pathlib import Path

import pytest

from vin_ocr.config import SYNTHETIC, load_config, parse_config
from vin_ocr.errors import INVALID_CONFIG, TrainerError

from conftest import REPO

BASELINE = REPO / "examples" / "baseline.yaml"
CONFIG_SCHEMA = REPO / "schemas" / "training-config.schema.json"


def test_the_baseline_example_loads_without_warnings_and_resolves_paths():
    config, warnings = load_config(BASELINE)
    assert warnings == []
    assert config.model.type == "baseline"
    assert config.data.train == SYNTHETIC and config.data.val == SYNTHETIC
    assert config.training.max_minutes == 10
    assert Path(config.output_dir) == BASELINE.parent / "runs"
    # CTC needs at least two frames per character (repeats need a blank in between).
    assert config.model.width // 4 >= 2 * 17


def test_the_baseline_example_validates_against_the_shared_config_schema():
    if not CONFIG_SCHEMA.is_file():
        pytest.skip("schemas/training-config.schema.json is not there yet")
    import jsonschema
    import yaml

    schema = json.loads(CONFIG_SCHEMA.read_text(encoding="utf-8"))
    document = yaml.safe_load(BASELINE.read_text(encoding="utf-8"))
    errors = [f"{list(e.path)}: {e.message}" for e in jsonschema.Draft7Validator(schema).iter_errors(document)]
    assert errors == []


def test_an_empty_file_means_every_default(tmp_path):
    (tmp_path / "empty.yaml").write_text("", encoding="utf-8")
    config, _ = load_config(tmp_path / "empty.yaml")
    assert config.training.batch_size == 64 and config.data.on_bad_rows == "fail"


def test_every_bad_key_is_reported_at_once_with_its_path(tmp_path):
    raw = {"model": {"width": "wide"}, "training": {"batch_size": 0, "device": "tpu", "precision": "int8"}, "data": {"on_bad_rows": "ignore"}}
    with pytest.raises(TrainerError) as caught:
        parse_config(raw, tmp_path, "cfg.yaml")
    error = caught.value
    assert error.code == INVALID_CONFIG
    text = "\n".join(error.issues)
    for key in ("model.width", "training.batch_size", "training.device", "training.precision", "data.on_bad_rows"):
        assert key in text
    assert len(error.issues) == 5


def test_unknown_keys_are_warnings_not_failures(tmp_path):
    config, warnings = parse_config({"training": {"batch_size": 4, "colour": "red"}, "extra": 1}, tmp_path)
    assert config.training.batch_size == 4
    assert any("training.colour" in w for w in warnings) and any("extra" in w for w in warnings)


def test_planned_model_types_get_a_clear_message(tmp_path):
    with pytest.raises(TrainerError) as caught:
        parse_config({"model": {"type": "lfm2-vl"}}, tmp_path)
    assert "not available in this trainer yet" in caught.value.issues[0]


def test_broken_yaml_reports_the_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("model:\n  type: baseline\ntraining: [unclosed\n", encoding="utf-8")
    with pytest.raises(TrainerError) as caught:
        load_config(path)
    assert caught.value.code == INVALID_CONFIG
    assert f"{path}:" in caught.value.message


def test_data_paths_are_relative_to_the_config_file(tmp_path):
    config, _ = parse_config({"data": {"train": "data/labels.txt", "test": None}}, tmp_path)
    assert config.data.train == str((tmp_path / "data" / "labels.txt").resolve())
    assert config.data.test is None


def test_fresh_ratio_auto_renders_everything_on_a_cpu_and_half_on_cuda(tmp_path):
    from vin_ocr.training.data import fresh_share

    config, _ = parse_config({}, tmp_path)
    assert config.data.synthetic.fresh_ratio == "auto"
    assert fresh_share("auto", "cpu") == 1.0 and fresh_share("auto", "mps") == 1.0
    assert fresh_share("auto", "cuda") == 0.5
    assert fresh_share(0.25, "cuda") == 0.25  # a number is taken as given, on any device
    with pytest.raises(TrainerError) as caught:
        parse_config({"data": {"synthetic": {"fresh_ratio": "most"}}}, tmp_path, "cfg.yaml")
    assert "data.synthetic.fresh_ratio" in caught.value.issues[0]
