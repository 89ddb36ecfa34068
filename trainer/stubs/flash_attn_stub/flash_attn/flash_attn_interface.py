"""Stub of flash_attn.flash_attn_interface: importable, raises if used."""

from . import (  # noqa: F401 - re-exported like the real module
    flash_attn_func,
    flash_attn_kvpacked_func,
    flash_attn_qkvpacked_func,
    flash_attn_varlen_func,
    flash_attn_with_kvcache,
)
