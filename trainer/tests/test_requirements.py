"""The trainer reads per-model minimums and attention from data/requirements.json, as the extension does."""

import json

import pytest
from conftest import REPO

from vin_ocr import requirements
from vin_ocr.families import registry
from vin_ocr.models.hf.fallback import GB, fallback_reason


@pytest.fixture
def fresh(monkeypatch):
    requirements._read.cache_clear()
    yield monkeypatch
    requirements._read.cache_clear()


def test_the_file_beside_the_trainer_is_found_in_the_repository_and_extension_layout():
    # The extension ships data/*.json beside trainer/; the repository has the same layout.
    assert requirements.BESIDE_THE_TRAINER == REPO / "data" / "requirements.json"
    assert requirements.requirements_file() == requirements.BESIDE_THE_TRAINER


def test_the_built_in_copy_for_a_trainer_without_the_file_matches_the_file(fresh):
    from_file = requirements.all_requirements()
    fresh.setattr(requirements, "BESIDE_THE_TRAINER", REPO / "no-such-folder" / "requirements.json")
    assert requirements.all_requirements() == from_file


def test_minimums_and_attention_come_from_the_file(fresh, tmp_path):
    data = json.loads((REPO / "data" / "requirements.json").read_text(encoding="utf-8"))
    lfm2 = next(model for model in data["models"] if model["family"] == "lfm2-vl")
    lfm2["fit"]["cpu"]["minimum_gb"] = 100
    lfm2["attention"] = ["sdpa", "eager"]
    changed = tmp_path / "requirements.json"
    changed.write_text(json.dumps(data), encoding="utf-8")
    fresh.setenv(requirements.ENVIRONMENT_VARIABLE, str(changed))
    assert "needs at least 100 GB of memory on CPU" in fallback_reason("lfm2-vl", "cpu", 64 * GB, None, "4.57.0")
    from vin_ocr.models.hf.policy import fallback_chain

    assert fallback_chain("lfm2-vl", "sdpa") == ["sdpa", "eager"]


def test_every_family_the_file_lists_trains_and_every_registered_family_is_listed():
    # paddleocr was the last one planned but not trainable; it trains now (families/paddleocr).
    assert set(requirements.all_requirements()) == set(registry.names())


def test_model_ids_find_their_family_through_the_registry():
    assert registry.for_model_id("deepseek-ai/DeepSeek-OCR").name == "deepseek-ocr"
    assert registry.for_model_id("LiquidAI/LFM2.5-VL-1.6B").name == "lfm2-vl"
    assert registry.for_model_id("/models/my-finetune").name == "lfm2-vl"  # the existing project's default
