"""Supervised fine-tuning batches: the prompt is masked out of the loss, the VIN is the target."""

import pytest
import torch
from fixtures_hf.helpers import tiny_model_dir, vin_image

from vin_ocr.models.hf.collate import IGNORE_INDEX, Lfm2VlCollator


@pytest.fixture(scope="module")
def collator():
    from vin_ocr.models.hf.loading import load_processor

    return Lfm2VlCollator(load_processor(str(tiny_model_dir())), prompt="Read the VIN.")


def test_only_the_vin_and_the_end_of_turn_carry_a_loss(collator):
    vin = "1HGCM82633A004352"
    batch = collator.training_batch([(vin_image(vin), vin)])
    labels = batch["labels"][0]
    learnt = labels[labels != IGNORE_INDEX].tolist()
    assert collator.tokenizer.decode(learnt[:-1]) == vin
    assert learnt[-1] == collator.tokenizer.eos_token_id
    # Everything before the answer is prompt: chat markup, image tokens, question.
    first_learnt = int((labels != IGNORE_INDEX).nonzero()[0])
    prompt_ids = batch["input_ids"][0, :first_learnt]
    assert collator.tokenizer.convert_tokens_to_ids("<image>") in prompt_ids.tolist()
    assert (labels[:first_learnt] == IGNORE_INDEX).all()


def test_training_sequence_starts_with_the_exact_generation_prompt(collator):
    image, vin = vin_image("WVWZZZ1JZXW000001"), "WVWZZZ1JZXW000001"
    training = collator.training_batch([(image, vin)])
    generation = collator.generation_batch([image])
    prompt = generation["input_ids"][0]
    assert torch.equal(training["input_ids"][0, : len(prompt)], prompt)
    assert collator.tokenizer.decode(prompt).endswith("<|im_start|>assistant\n")


def test_padding_is_masked_and_rows_of_different_length_line_up(collator):
    short, long = ("A1", "1HGCM82633A004352")
    batch = collator.training_batch([(vin_image(short), short), (vin_image(long), long)])
    pad = collator.tokenizer.pad_token_id
    assert batch["input_ids"].shape == batch["labels"].shape == batch["attention_mask"].shape
    padded = batch["attention_mask"][0] == 0
    assert padded.any()
    assert (batch["labels"][0][padded] == IGNORE_INDEX).all()
    assert (batch["input_ids"][0][padded] == pad).all()
    assert batch["pixel_values"].shape[0] == 2


def test_generation_batches_are_left_padded(collator):
    batch = collator.generation_batch([vin_image("A", (40, 40)), vin_image("1HGCM82633A004352", (300, 30))])
    mask = batch["attention_mask"]
    assert (mask[:, -1] == 1).all()  # every prompt ends at the right edge, where generation continues


def test_long_targets_are_cut_to_max_target_length(collator):
    short = Lfm2VlCollator(collator.processor, max_target_length=5)
    batch = short.training_batch([(vin_image("X"), "1HGCM82633A004352")])
    assert int((batch["labels"] != IGNORE_INDEX).sum()) == 5 + 1


def test_empty_batch_is_a_clear_error(collator):
    with pytest.raises(ValueError, match="empty batch"):
        collator.training_batch([])
