"""``python -m vin_ocr tiny-model lfm2-vl DIR``: a randomly initialised, tiny LFM2-VL.

Built from transformers' own configuration classes (``Lfm2VlConfig`` with small
``Siglip2VisionConfig`` and ``Lfm2Config`` parts) and saved exactly like a Hub checkout:
weights, config, tokenizer files, processor config and chat template. It therefore loads and
trains through the very code path the real ``LiquidAI/LFM2.5-VL-1.6B`` takes, with no
download, in a second or two on a CPU. Its readings are random until it is trained.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

# Sizes follow transformers' own LFM2-VL tests (hidden 32, 2 layers); the image budget is
# chosen so a 17-character VIN crop becomes a couple of dozen image tokens.
TINY_TEXT = dict(
    hidden_size=32,
    intermediate_size=64,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    layer_types=["conv", "full_attention"],
    max_position_embeddings=512,
    block_auto_adjust_ff_dim=False,
)
TINY_VISION = dict(
    hidden_size=32,
    intermediate_size=64,
    num_hidden_layers=2,
    num_attention_heads=4,
    patch_size=4,
    num_patches=64,
    vision_use_head=False,
)
TINY_IMAGES = dict(
    encoder_patch_size=4,
    downsample_factor=2,
    min_image_tokens=8,
    max_image_tokens=32,
    tile_size=32,
    do_image_splitting=False,
    use_thumbnail=False,
)

FAMILIES = ("lfm2-vl",)


def write_tiny_lfm2_vl(directory: Path, seed: int = 0) -> Path:
    """Writes the tiny model into ``directory`` (created if needed) and returns it."""
    import torch
    from transformers import GenerationConfig, Lfm2VlConfig, Lfm2VlForConditionalGeneration, Lfm2VlProcessor

    from .models.hf.image_processor import Lfm2VlImageProcessorPil
    from .models.hf.tokenizer import IMAGE, build_char_tokenizer

    directory.mkdir(parents=True, exist_ok=True)
    tokenizer = build_char_tokenizer()
    text_config: dict[str, Any] = dict(
        TINY_TEXT,
        model_type="lfm2",
        vocab_size=len(tokenizer),
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    vision_config: dict[str, Any] = dict(TINY_VISION, model_type="siglip2_vision_model")
    config = Lfm2VlConfig(
        text_config=text_config,
        vision_config=vision_config,
        image_token_id=tokenizer.convert_tokens_to_ids(IMAGE),
        projector_hidden_size=64,
        downsample_factor=TINY_IMAGES["downsample_factor"],
    )
    torch.manual_seed(seed)
    model = Lfm2VlForConditionalGeneration(config)
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        do_sample=False,
        max_new_tokens=24,
    )
    model.save_pretrained(directory)
    processor = Lfm2VlProcessor(
        image_processor=Lfm2VlImageProcessorPil(**TINY_IMAGES),
        tokenizer=tokenizer,
        chat_template=tokenizer.chat_template,
    )
    processor.save_pretrained(directory)
    return directory


def add_subcommand(commands: Any) -> None:
    """Registers ``tiny-model`` on the trainer's CLI (``python -m vin_ocr``)."""
    parser = commands.add_parser("tiny-model", help="write a tiny random model for tests and demos (no download)")
    parser.add_argument("family", choices=FAMILIES, help="model family")
    parser.add_argument("directory", type=Path, help="folder to write (a config's model_id can point at it)")
    parser.add_argument("--seed", type=int, default=0, help="weight initialisation seed")
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    path = write_tiny_lfm2_vl(args.directory, seed=args.seed)
    print(f"Wrote a tiny LFM2-VL to {path}")
    return 0


def main(argv: Any = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vin_ocr.tiny_models")
    add_subcommand(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["tiny-model", *(argv or [])] if argv is not None else None)
    return int(args.run(args))
