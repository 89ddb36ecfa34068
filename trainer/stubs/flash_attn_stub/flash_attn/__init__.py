"""A stand-in for flash_attn: importable everywhere, never usable.

Model code that imports flash_attn unconditionally (DeepSeek-OCR's) can load with eager
attention on machines without the real package. Every function the real package exports
raises :class:`FlashAttentionStubError` with advice instead of computing anything.
"""

from __future__ import annotations

from typing import Any, NoReturn

__version__ = "stub"
IS_STUB = True


class FlashAttentionStubError(RuntimeError):
    """Raised when code tries to use flash attention through the stub."""


def _unavailable(name: str) -> Any:
    def call(*_args: Any, **_kwargs: Any) -> NoReturn:
        raise FlashAttentionStubError(
            f"flash_attn.{name} was called, but only the flash-attn stub is installed. "
            "Load the model with attn_implementation='eager' (or 'sdpa' where the model supports it), "
            "or install the real package on a CUDA GPU with compute capability 8.0+: "
            "pip install flash-attn==2.7.3 --no-build-isolation"
        )

    call.__name__ = name
    call.__qualname__ = name
    return call


flash_attn_func = _unavailable("flash_attn_func")
flash_attn_varlen_func = _unavailable("flash_attn_varlen_func")
flash_attn_qkvpacked_func = _unavailable("flash_attn_qkvpacked_func")
flash_attn_kvpacked_func = _unavailable("flash_attn_kvpacked_func")
flash_attn_varlen_qkvpacked_func = _unavailable("flash_attn_varlen_qkvpacked_func")
flash_attn_varlen_kvpacked_func = _unavailable("flash_attn_varlen_kvpacked_func")
flash_attn_with_kvcache = _unavailable("flash_attn_with_kvcache")

__all__ = [
    "FlashAttentionStubError",
    "flash_attn_func",
    "flash_attn_kvpacked_func",
    "flash_attn_qkvpacked_func",
    "flash_attn_varlen_func",
    "flash_attn_varlen_kvpacked_func",
    "flash_attn_varlen_qkvpacked_func",
    "flash_attn_with_kvcache",
]
