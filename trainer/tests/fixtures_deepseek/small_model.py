"""A small DeepSeek-OCR built from the real, unmodified remote code in ``../shared/vendor/DeepSeek-OCR``.

The folder it writes is a local model folder (``model_id``) like the published one: the vendored
``*.py`` files, a ``config.json`` with a 2-layer language model (``../shared/notes/deepseek-ocr.md``
gives the sizes), a ``tokenizer.json`` generated with the ``tokenizers`` library that holds every
upstream added token at its real id (``<image>`` = 128815, BOS 0, EOS 1, pad 2), and random weights
(``from_config``), saved in bf16 to keep the folder small.

The vision encoders' sizes are hard-coded in ``deepencoder.py`` (SAM-B, CLIP-L: 400M parameters);
the copy written here builds a 2-layer SAM and a 1-layer CLIP instead. That is the only change to
the vendored code, made in the copy (the shared folder is never written), and checked to apply.
Run with transformers 4.46.x (the ``.deepseek-venv``): 4.48+ cannot import the remote code.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
VENDOR = REPO.parent / "shared" / "vendor" / "DeepSeek-OCR"
CODE = ("modeling_deepseekocr.py", "modeling_deepseekv2.py", "configuration_deepseek_v2.py", "deepencoder.py", "conversation.py")
COPIED = (*CODE, "tokenizer_config.json", "special_tokens_map.json", "processor_config.json")

LANGUAGE = {
    "num_hidden_layers": 2,
    "first_k_dense_replace": 1,
    "intermediate_size": 64,
    "moe_intermediate_size": 32,
    "n_routed_experts": 4,
    "num_experts_per_tok": 2,
    "n_shared_experts": 1,
}
# deepencoder.py's hard-coded encoder sizes -> small ones (text, replacement).
VISION_PATCHES = (
    ("    num_layers=24,\n", "    num_layers=1,\n"),
    (
        "        encoder_depth=12,\n        encoder_num_heads=12,\n        encoder_global_attn_indexes=[2, 5, 8, 11],",
        "        encoder_depth=2,\n        encoder_num_heads=12,\n        encoder_global_attn_indexes=[1],",
    ),
)
IMAGE_TOKEN = "<image>"
IMAGE_TOKEN_ID = 128815


def missing() -> str | None:
    """Why the real code is not here (None when it is)."""
    absent = [name for name in COPIED + ("config.json",) if not (VENDOR / name).is_file()]
    if absent:
        return f"the vendored DeepSeek-OCR code is not at {VENDOR} ({', '.join(absent)} missing)"
    return None


def write_config(folder: Path) -> dict:
    config = json.loads((VENDOR / "config.json").read_text(encoding="utf-8"))
    config.update(LANGUAGE)
    config["language_config"].update(LANGUAGE)
    config["_name_or_path"] = str(folder)
    (folder / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    return config


def patch_vision(folder: Path) -> None:
    path = folder / "deepencoder.py"
    text = path.read_text(encoding="utf-8")
    for old, new in VISION_PATCHES:
        if text.count(old) != 1:
            raise RuntimeError(f"deepencoder.py changed upstream: cannot shrink the vision encoders ({old.strip()!r} not found once)")
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")


def write_tokenizer(folder: Path) -> None:
    """A byte-level BPE (one token per byte, no merges) plus every upstream added token at its real id."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers
    from tokenizers.pre_tokenizers import ByteLevel

    settings = json.loads((VENDOR / "tokenizer_config.json").read_text(encoding="utf-8"))
    added = {int(index): entry for index, entry in settings["added_tokens_decoder"].items()}
    vocab: dict[str, int] = {entry["content"]: index for index, entry in added.items()}
    first_free = max(index for index in added if index < 128000) + 1  # after BOS, EOS and pad
    for offset, symbol in enumerate(sorted(ByteLevel.alphabet())):
        vocab[symbol] = first_free + offset
    # The real vocabulary's other ids, as unused tokens (no merge ever makes them): no holes, real size.
    taken = set(vocab.values())
    for index in range(max(added) + 1):
        if index not in taken:
            vocab[f"<unused_{index}>"] = index
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=[], fuse_unk=False, byte_fallback=False))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.add_special_tokens(
        [
            AddedToken(
                entry["content"],
                single_word=entry["single_word"],
                lstrip=entry["lstrip"],
                rstrip=entry["rstrip"],
                normalized=entry["normalized"],
                special=entry["special"],
            )
            for _, entry in sorted(added.items())
        ]
    )
    for index, entry in added.items():
        if tokenizer.token_to_id(entry["content"]) != index:
            raise RuntimeError(f"{entry['content']} got id {tokenizer.token_to_id(entry['content'])}, not {index}")
    tokenizer.save(str(folder / "tokenizer.json"))


def build(folder: Path, seed: int = 0) -> Path:
    """Writes the small model folder (about 0.8 GB: the real vocabulary's embeddings dominate) and returns it."""
    import torch
    import transformers

    from vin_ocr.models.hf.remote_code import prepare_remote_code

    why = missing()
    if why:
        raise FileNotFoundError(why)
    folder.mkdir(parents=True, exist_ok=True)
    for name in COPIED:
        shutil.copyfile(VENDOR / name, folder / name)
    patch_vision(folder)
    write_config(folder)
    write_tokenizer(folder)
    prepare_remote_code()
    torch.manual_seed(seed)
    config = transformers.AutoConfig.from_pretrained(str(folder), trust_remote_code=True)
    model = transformers.AutoModel.from_config(config, trust_remote_code=True, torch_dtype=torch.float32)
    model.to(torch.bfloat16).save_pretrained(str(folder), safe_serialization=True)
    # save_pretrained rewrote config.json; keep the remote-code map and our sizes (it does), and say the weights are bf16.
    return folder
