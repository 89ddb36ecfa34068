"""Loading a vision-language model and its processor, with the attention fallback chain.

Which loader a family uses is part of its registration (``families/lfm2_vl.py``,
``families/deepseek_ocr.py``):

* LFM2.5-VL: ``AutoModelForImageTextToText`` + ``AutoProcessor`` (transformers >= 4.57);
* DeepSeek-OCR: ``AutoModel`` with ``trust_remote_code`` and its tokenizer (its own environment,
  transformers 4.46.3).

Downloads go to the standard Hugging Face cache and show transformers' own progress bars;
with ``HF_HUB_OFFLINE=1`` a model that is not cached fails with a message that says so.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from ...errors import INVALID_CONFIG, MISSING_DEPENDENCY, TrainerError, flash_attn_missing, missing_dependency
from .policy import fallback_chain

DTYPES = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}


@dataclass
class Loaded:
    model: Any
    attention: str
    # One line per implementation that failed before ``attention`` worked: what and why.
    fallbacks: list[str] = field(default_factory=list)


def download_notice(model_id: str, revision: Optional[str] = None) -> Optional[str]:
    """A line telling the user a download is about to start (None when the model is local or cached)."""
    if Path(model_id).expanduser().is_dir():
        return None
    try:
        from huggingface_hub import constants, try_to_load_from_cache
    except ImportError:
        return None
    if isinstance(try_to_load_from_cache(model_id, "config.json", revision=revision), str):
        return None
    if offline():
        return None  # loading will fail with missing_weights' clear message instead
    return (
        f"Downloading {model_id} into the Hugging Face cache ({constants.HF_HUB_CACHE}); "
        "progress bars appear in the training log. Set HF_HOME to cache elsewhere, HF_HUB_OFFLINE=1 to never download."
    )


def offline() -> bool:
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        return True
    try:
        from huggingface_hub import constants
    except ImportError:
        return False
    return bool(constants.HF_HUB_OFFLINE)


def ensure_downloadable(model_id: str, revision: Optional[str] = None, timeout: float = 15.0) -> None:
    """One quick request to the Hub before a download starts.

    Without it, an unreachable Hub makes transformers retry every file with back-off for minutes
    before failing; this fails within seconds and says what to do.
    """
    from huggingface_hub import HfApi
    from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError

    try:
        HfApi().model_info(model_id, revision=revision, timeout=timeout)
    except (RepositoryNotFoundError, RevisionNotFoundError) as error:
        raise TrainerError(
            INVALID_CONFIG,
            f"'{model_id}'{f' at revision {revision}' if revision else ''} does not exist on the Hugging Face Hub (or needs a login).",
            "Check model_id (a local model folder also works); for a gated model run `huggingface-cli login` first.",
        ) from error
    except Exception as error:  # network errors come from several libraries (httpx, requests, ssl)
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise TrainerError(
            MISSING_DEPENDENCY,
            f"Cannot download '{model_id}': the Hugging Face Hub did not answer ({first_line}).",
            "Connect to the network (or set HF_ENDPOINT to a mirror), or copy the model to a local folder and point model_id at it.",
        ) from error


def missing_weights(model_id: str, error: BaseException) -> TrainerError:
    if offline():
        return TrainerError(
            MISSING_DEPENDENCY,
            f"'{model_id}' is not in the Hugging Face cache and offline mode is on (HF_HUB_OFFLINE=1).",
            "Download it once with the network on (unset HF_HUB_OFFLINE), or point model_id at a local folder.",
        )
    return TrainerError(
        MISSING_DEPENDENCY,
        f"Could not load '{model_id}': {error}",
        "Check the model id and the network; a local folder path also works as model_id.",
    )


def _is_missing_files(error: BaseException) -> bool:
    text = str(error)
    return isinstance(error, OSError) and any(
        marker in text
        for marker in (
            "does not appear to have",
            "Can't load",
            "offline",
            "not the path to a directory",
            "couldn't connect",
            "Incorrect path_or_model_id",
        )
    )


def load_with_fallback(load: Callable[[str], Any], chain: list[str]) -> Loaded:
    """Tries ``load(attention)`` for each implementation in ``chain`` until one works.

    Only failures that mean "this implementation is not available here" move down the chain
    (ImportError for a missing or stub flash-attn, ValueError/NotImplementedError for an
    implementation the architecture lacks); anything else is a real error and is raised.
    """
    fallbacks: list[str] = []
    last: Optional[BaseException] = None
    for attention in chain:
        try:
            return Loaded(load(attention), attention, fallbacks)
        except (ImportError, ValueError, NotImplementedError, KeyError) as error:
            _raise_if_remote_code_import_missing(error)
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            fallbacks.append(f"{attention}: {first_line}")
            last = error
    raise TrainerError(
        INVALID_CONFIG,
        "No attention implementation could load this model: " + "; ".join(fallbacks),
        "Set training.attn_implementation to one the model supports, or install the missing package.",
    ) from last


def _raise_if_remote_code_import_missing(error: BaseException) -> None:
    """Remote code whose imports are missing fails the same way for every attention: say what to install."""
    text = str(error)
    if "requires the following packages that were not found" not in text:
        return
    if "flash_attn" in text:
        raise flash_attn_missing() from error
    missing = text.split("not found in your environment:", 1)[-1].split(".")[0].strip() or "the model's packages"
    raise missing_dependency(missing, missing) from error


def image_text_model(model_id: str, attention: str, trust_remote_code: bool, options: dict[str, Any]) -> Any:
    """A model transformers knows natively (LFM2.5-VL)."""
    import transformers

    return transformers.AutoModelForImageTextToText.from_pretrained(
        model_id, attn_implementation=attention, trust_remote_code=trust_remote_code, **options
    )


def remote_code_model(model_id: str, attention: str, trust_remote_code: bool, options: dict[str, Any]) -> Any:
    """A model that ships its own modelling code (DeepSeek-OCR): only with the user's consent."""
    import transformers

    if not trust_remote_code:
        raise TrainerError(
            INVALID_CONFIG,
            "DeepSeek-OCR ships its own modelling code and needs trust_remote_code.",
            "Set model.trust_remote_code: true (or pass --trust-remote-code) if you trust the model's repository.",
        )
    return transformers.AutoModel.from_pretrained(
        model_id, trust_remote_code=True, use_safetensors=True, _attn_implementation=attention, **options
    )


def load_vlm(
    model_id: str,
    family: str,
    attention: str,
    dtype: str,
    trust_remote_code: bool = False,
    revision: Optional[str] = None,
) -> Loaded:
    """Loads the model with ``attention`` first, then each fallback after it, with the family's loader."""
    import torch
    import transformers

    from ...families.vlm import traits_of

    loader = traits_of(family).load_model
    torch_dtype = getattr(torch, DTYPES[dtype])
    # transformers renamed torch_dtype to dtype in 4.56; DeepSeek-OCR's pinned 4.46.3 knows only the old name.
    dtype_key = "dtype" if _version_at_least(transformers.__version__, (4, 56)) else "torch_dtype"
    options: dict[str, Any] = {dtype_key: torch_dtype, "revision": revision}
    try:
        return load_with_fallback(lambda attn: loader(model_id, attn, trust_remote_code, options), fallback_chain(family, attention))
    except OSError as error:
        if _is_missing_files(error):
            raise missing_weights(model_id, error) from error
        raise


def load_processor(model_id: str, trust_remote_code: bool = False, revision: Optional[str] = None) -> Any:
    """``AutoProcessor``, or (where torchvision cannot load) LFM2-VL's processor with our PIL image processor."""
    import transformers

    try:
        return transformers.AutoProcessor.from_pretrained(model_id, trust_remote_code=trust_remote_code, revision=revision)
    except (ImportError, ValueError) as error:  # transformers 5 reports a missing backend as ValueError
        if "torchvision" not in str(error).lower():
            raise
    except OSError as error:
        if _is_missing_files(error):
            raise missing_weights(model_id, error) from error
        raise
    return _lfm2_processor_without_torchvision(model_id, revision)


def load_tokenizer(model_id: str, trust_remote_code: bool = False, revision: Optional[str] = None) -> Any:
    """DeepSeek-OCR has no processor: its tokenizer, with the same offline handling."""
    import transformers

    try:
        return transformers.AutoTokenizer.from_pretrained(model_id, trust_remote_code=trust_remote_code, revision=revision)
    except OSError as error:
        if _is_missing_files(error):
            raise missing_weights(model_id, error) from error
        raise


def _lfm2_processor_without_torchvision(model_id: str, revision: Optional[str]) -> Any:
    from transformers import AutoTokenizer, Lfm2VlProcessor
    from transformers.image_processing_utils import ImageProcessingMixin

    from .image_processor import Lfm2VlImageProcessorPil

    settings, _ = ImageProcessingMixin.get_image_processor_dict(model_id, revision=revision)
    tokenizer = AutoTokenizer.from_pretrained(model_id, revision=revision)
    template = getattr(tokenizer, "chat_template", None) or _local_chat_template(model_id)
    return Lfm2VlProcessor(image_processor=Lfm2VlImageProcessorPil(**settings), tokenizer=tokenizer, chat_template=template)


def _local_chat_template(model_id: str) -> Optional[str]:
    folder = Path(model_id)
    jinja = folder / "chat_template.jinja"
    if jinja.is_file():
        return jinja.read_text(encoding="utf-8")
    legacy = folder / "chat_template.json"
    if legacy.is_file():
        return json.loads(legacy.read_text(encoding="utf-8")).get("chat_template")
    return None


def _version_at_least(text: str, wanted: tuple[int, int]) -> bool:
    parts = []
    for piece in text.split(".")[:2]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts) >= wanted
