"""The tiny LFM2-VL: written offline, loaded by transformers' own auto classes like a Hub model."""

import json

import pytest
import torch
from fixtures_hf.helpers import go_offline, tiny_model_dir, vin_image

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    go_offline(monkeypatch)


def test_generator_writes_a_hub_shaped_folder():
    folder = tiny_model_dir()
    for name in (
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "processor_config.json",
        "chat_template.jinja",
        "generation_config.json",
    ):
        assert (folder / name).is_file(), name
    config = json.loads((folder / "config.json").read_text())
    assert config["model_type"] == "lfm2_vl"
    assert config["text_config"]["hidden_size"] == 32 and config["text_config"]["num_hidden_layers"] == 2
    assert config["vision_config"]["hidden_size"] == 32


def test_the_cli_subcommand_writes_one(tmp_path, capsys):
    from vin_ocr.__main__ import main

    assert main(["tiny-model", "lfm2-vl", str(tmp_path / "tiny")]) == 0
    assert (tmp_path / "tiny" / "model.safetensors").is_file()
    assert "tiny LFM2-VL" in capsys.readouterr().out


def test_it_loads_through_the_auto_classes_and_generates():
    from transformers import AutoModelForImageTextToText

    from vin_ocr.models.hf.collate import Lfm2VlCollator
    from vin_ocr.models.hf.loading import load_processor

    model = AutoModelForImageTextToText.from_pretrained(tiny_model_dir(), attn_implementation="eager")
    assert type(model).__name__ == "Lfm2VlForConditionalGeneration"
    processor = load_processor(str(tiny_model_dir()))
    assert type(processor).__name__ == "Lfm2VlProcessor"
    batch = Lfm2VlCollator(processor).generation_batch([vin_image("1HGCM82633A004352")])
    output = model.generate(**batch, max_new_tokens=3, do_sample=False)
    assert output.shape[1] == batch["input_ids"].shape[1] + 3 or output.shape[1] < batch["input_ids"].shape[1] + 3


def test_flash_attention_request_falls_back_to_sdpa_and_says_why():
    from vin_ocr.models.hf.loading import load_vlm

    loaded = load_vlm(str(tiny_model_dir()), "lfm2-vl", "flash_attention_2", "fp32")
    assert loaded.attention == "sdpa"
    assert loaded.fallbacks and loaded.fallbacks[0].startswith("flash_attention_2:")
    assert loaded.model.config._attn_implementation == "sdpa"


def test_missing_model_offline_is_a_clear_error(tmp_path):
    from vin_ocr.errors import TrainerError
    from vin_ocr.models.hf.loading import load_processor

    with pytest.raises(TrainerError) as caught:
        load_processor("LiquidAI/not-a-cached-model-xyz")
    assert "offline" in caught.value.message.lower()
    assert caught.value.code == "missing_dependency"


def test_image_tokens_match_the_images_patch_grid():
    from vin_ocr.models.hf.collate import Lfm2VlCollator
    from vin_ocr.models.hf.loading import load_processor

    processor = load_processor(str(tiny_model_dir()))
    image_processor = processor.image_processor
    batch = Lfm2VlCollator(processor).generation_batch([vin_image("1HGCM82633A004352", (300, 40))])
    rows, columns = batch["spatial_shapes"][0].tolist()
    factor = image_processor.downsample_factor
    image_token = processor.tokenizer.convert_tokens_to_ids("<image>")
    assert int((batch["input_ids"] == image_token).sum()) == (rows // factor) * (columns // factor)
    assert int(batch["pixel_attention_mask"][0].sum()) == rows * columns
    assert batch["pixel_values"].shape[1] == image_processor.max_num_patches


@pytest.mark.parametrize("size", [(17, 3), (300, 40), (2000, 2000), (40, 300)])
def test_token_budget_keeps_sides_on_the_grid_and_within_bounds(size):
    from vin_ocr.models.hf.image_processor import fit_to_token_budget

    width, height = size
    h, w = fit_to_token_budget(height, width, patch_size=4, downsample_factor=2, min_tokens=8, max_tokens=32)
    assert h % 8 == 0 and w % 8 == 0
    assert (h // 8) * (w // 8) <= 32
    assert (w >= h) == (width >= height)  # the aspect's orientation survives


def test_alphabet_constraint_allows_only_vin_characters_then_the_end():
    from vin_ocr.models.hf.generation import VinAlphabetLogits
    from vin_ocr.models.hf.loading import load_processor
    from vin_ocr.vin import ALPHABET

    tokenizer = load_processor(str(tiny_model_dir())).tokenizer
    end = tokenizer.eos_token_id
    constraint = VinAlphabetLogits(tokenizer, prompt_length=2, end_token_id=end)
    vocabulary = len(tokenizer)
    scores = torch.zeros((2, vocabulary))
    one_char = torch.tensor([0, 0] + tokenizer.convert_tokens_to_ids(["A"]))
    seventeen = torch.tensor([0, 0] + tokenizer.convert_tokens_to_ids(list("1HGCM82633A004352")))
    masked_early = constraint(one_char.unsqueeze(0), scores[:1].clone())[0]
    allowed = {tokenizer.convert_ids_to_tokens(i) for i in range(vocabulary) if masked_early[i] == 0}
    assert allowed == set(ALPHABET) | {tokenizer.eos_token}
    masked_late = constraint(seventeen.unsqueeze(0), scores[:1].clone())[0]
    assert [i for i in range(vocabulary) if masked_late[i] == 0] == [end]


def test_predictions_are_cleaned_but_never_rewritten():
    from vin_ocr.models.hf.generation import clean_prediction

    assert clean_prediction(" 1hgcm 82633a004352\n") == "1HGCM82633A004352"
    assert clean_prediction("S5Z2B8") == "S5Z2B8"  # the old project's S→5/Z→2/B→8 rewriting is not repeated
