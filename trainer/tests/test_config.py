import json
from pathlib import Path

import pytest
from conftest import REPO

from vin_ocr.config import SYNTHETIC, load_config, parse_config
from vin_ocr.errors import INVALID_CONFIG, TrainerError

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
    assert CONFIG_SCHEMA.is_file(), f"{CONFIG_SCHEMA} is missing"  # a missing schema is a failure, never a skip
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
    raw = {
        "model": {"width": "wide"},
        "training": {"batch_size": 0, "device": "tpu", "precision": "int8"},
        "data": {"on_bad_rows": "ignore"},
    }
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


def test_planned_model_types_get_a_clear_message(tmp_path, monkeypatch):
    # A model data/requirements.json lists but no family trains yet (lfm2-vl and paddleocr were; both train now).
    import vin_ocr.requirements as requirements

    listed = requirements.all_requirements()
    monkeypatch.setattr(requirements, "all_requirements", lambda: {**listed, "future-model": {}})
    with pytest.raises(TrainerError) as caught:
        parse_config({"model": {"type": "future-model"}}, tmp_path)
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


def test_training_split_typefaces_keep_the_held_out_families_out_of_the_training_renders(tmp_path):
    from vin_ocr.data.fonts import split_font_families
    from vin_ocr.training.data import build_train_stream

    config, _ = parse_config({"data": {"synthetic": {"typefaces": "training_split"}}}, tmp_path)
    stream, *_ = build_train_stream(config, num_workers=0, batch_size=4)
    trained_on, held_out = split_font_families()
    assert stream.source.fonts == trained_on
    assert held_out and not set(held_out) & set(stream.source.fonts)
    everything, _ = parse_config({}, tmp_path)
    assert build_train_stream(everything, num_workers=0, batch_size=4)[0].source.fonts is None
    with pytest.raises(TrainerError) as caught:
        parse_config({"data": {"synthetic": {"typefaces": "some"}}}, tmp_path, "cfg.yaml")
    assert "data.synthetic.typefaces" in caught.value.issues[0]


def test_the_pretraining_example_loads_without_warnings_and_holds_typefaces_out():
    config, warnings = load_config(REPO / "examples" / "pretrain.yaml")
    assert warnings == []
    assert config.data.synthetic.typefaces == "training_split"
    assert config.training.max_minutes is None  # the step budget sets the schedule, so it resumes the same


def test_problems_and_unknown_keys_say_file_and_line(tmp_path):
    path = tmp_path / "cfg.yaml"
    path.write_text("model:\n  type: baseline\ntraining:\n  max_stesp: 3\n  batch_size: 0\n", encoding="utf-8")
    with pytest.raises(TrainerError) as caught:
        load_config(path)
    assert caught.value.issues == [f"{path}:5: training.batch_size: expected an integer from 1 to 65536 (got 0)"]
    path.write_text("model:\n  type: baseline\ntraining:\n  max_stesp: 3\n", encoding="utf-8")
    _, warnings = load_config(path)
    assert warnings == [f"{path}:4: training.max_stesp: unknown key, ignored (did you mean 'max_steps'?)"]


def test_a_key_of_another_family_is_named_as_such(tmp_path):
    _, warnings = parse_config({"training": {"gradient_accumulation_steps": 4}}, tmp_path)
    assert warnings == [
        "training.gradient_accumulation_steps: not used by model type baseline (a setting of deepseek-ocr, lfm2-vl), ignored"
    ]


def test_a_vision_language_config_gets_its_familys_defaults(tmp_path):
    config, warnings = parse_config({"model": {"type": "lfm2-vl"}}, tmp_path)
    assert warnings == []
    assert config.model.model_id == "LiquidAI/LFM2.5-VL-1.6B" and config.model.finetune == "lora"
    assert config.training.learning_rate == 2e-4 and config.training.max_steps is None and config.training.batch_size == 2
    assert config.data.synthetic.val_size == 32  # generation is slow: a small synthetic val set
    full, _ = parse_config({"model": {"type": "deepseek-ocr", "finetune": "full"}}, tmp_path)
    assert full.model.model_id == "deepseek-ai/DeepSeek-OCR" and full.training.learning_rate == 5e-5 and full.model.image_mode == "base"


def test_each_family_checks_its_own_section(tmp_path):
    raw = {
        "model": {"type": "deepseek-ocr", "attn_implementation": "sdpa", "image_mode": "huge", "lora_rank": 0},
        "training": {"num_epochs": 0},
    }
    with pytest.raises(TrainerError) as caught:
        parse_config(raw, tmp_path, "cfg.yaml")
    text = "\n".join(caught.value.issues)
    assert len(caught.value.issues) == 4, text
    assert (
        "does not implement attention 'sdpa'" in text
        and "model.image_mode" in text
        and "model.lora_rank" in text
        and "training.num_epochs" in text
    )
    _, warnings = parse_config({"model": {"type": "lfm2-vl", "image_mode": "tiny"}}, tmp_path)
    assert warnings == ["model.image_mode: not used by model type lfm2-vl (a setting of deepseek-ocr), ignored"]


def test_fine_tuning_flags_are_checked_as_config_keys_and_named_in_problems():
    from vin_ocr.training import hf_finetune

    args = hf_finetune.build_parser().parse_args(["--model-id", "LiquidAI/LFM2.5-VL-1.6B", "--batch-size", "0", "--lora-rank", "0"])
    with pytest.raises(TrainerError) as caught:
        hf_finetune.config_from_flags(args)
    assert sorted(caught.value.issues) == [
        "--batch-size: training.batch_size: expected an integer from 1 to 65536 (got 0)",
        "--lora-rank: model.lora_rank: expected an integer from 1 to 1024 (got 0)",
    ]
    deepseek = hf_finetune.config_from_flags(hf_finetune.build_parser().parse_args(["--model-id", "deepseek-ai/DeepSeek-OCR"]))[0]
    assert deepseek.model.type == "deepseek-ocr"


def test_a_run_trained_on_eight_gpus_elsewhere_is_still_readable_on_this_machine(tmp_path):
    from vin_ocr.config import config_from_dict

    config, _ = parse_config({"training": {"device": "cpu"}}, tmp_path)
    saved = {**config.to_dict(), "training": {**config.to_dict()["training"], "device": "cuda"}, "distributed": {"nproc_per_node": 8}}
    assert config_from_dict(saved, for_training=False).distributed.nproc_per_node == 8
    with pytest.raises(TrainerError, match="8 processes on this machine"):
        config_from_dict(saved)  # training it here (resume) would need the GPUs
