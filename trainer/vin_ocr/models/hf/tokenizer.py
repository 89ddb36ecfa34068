"""A character-level tokenizer built locally, for the tiny test model.

The real LFM2.5-VL tokenizer is a 65k BPE that has to be downloaded. Tests and demos need
one without a network, so this builds a small one with the `tokenizers` library: every
printable ASCII character is one token (so every VIN character is exactly one token, which
also keeps alphabet-constrained decoding trivial to check) plus the chat and image special
tokens that LFM2-VL's processor and chat template use.
"""

from __future__ import annotations

from typing import Any

PAD = "<|pad|>"
BOS = "<|startoftext|>"
END_OF_TURN = "<|im_end|>"
START_OF_TURN = "<|im_start|>"
IMAGE = "<image>"
IMAGE_START = "<|image_start|>"
IMAGE_END = "<|image_end|>"
IMAGE_THUMBNAIL = "<|img_thumbnail|>"
UNKNOWN = "<|unk|>"

SPECIAL_TOKENS = [PAD, BOS, END_OF_TURN, START_OF_TURN, IMAGE, IMAGE_START, IMAGE_END, IMAGE_THUMBNAIL, UNKNOWN]
CHARACTERS = ["\n"] + [chr(code) for code in range(32, 127)]

# ChatML-style, the shape of LFM2's own template: an image item becomes "<image>", which the
# processor expands to the right number of image tokens.
CHAT_TEMPLATE = (
    "{{- bos_token -}}"
    "{%- for message in messages -%}"
    "{{- '<|im_start|>' + message['role'] + '\n' -}}"
    "{%- if message['content'] is string -%}{{- message['content'] -}}"
    "{%- else -%}{%- for item in message['content'] -%}"
    "{%- if item['type'] == 'image' -%}{{- '<image>' -}}"
    "{%- elif item['type'] == 'text' -%}{{- item['text'] -}}{%- endif -%}"
    "{%- endfor -%}{%- endif -%}"
    "{{- '<|im_end|>\n' -}}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\n' -}}{%- endif -%}"
)


def build_char_tokenizer() -> Any:
    """A ``PreTrainedTokenizerFast`` over printable ASCII plus LFM2-VL's special tokens."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {token: index for index, token in enumerate(SPECIAL_TOKENS + CHARACTERS)}
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token=UNKNOWN))
    # One token per character, newlines included ("." would skip them).
    core.pre_tokenizer = pre_tokenizers.Split(Regex(r"[\s\S]"), behavior="isolated")
    core.decoder = decoders.Fuse()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core,
        bos_token=BOS,
        eos_token=END_OF_TURN,
        pad_token=PAD,
        unk_token=UNKNOWN,
        additional_special_tokens=SPECIAL_TOKENS[3:8],
        padding_side="left",
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer
