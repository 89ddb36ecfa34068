"""Stub of flash_attn.bert_padding: importable, raises if used."""

from . import _unavailable

index_first_axis = _unavailable("bert_padding.index_first_axis")
pad_input = _unavailable("bert_padding.pad_input")
unpad_input = _unavailable("bert_padding.unpad_input")
