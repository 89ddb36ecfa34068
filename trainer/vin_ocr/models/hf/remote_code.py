"""Running DeepSeek-OCR's remote code where its authors did not: without torchvision, off CUDA, quietly.

Measured on its real code (``../shared/notes/deepseek-ocr.md``):

* ``modeling_deepseekocr.py`` imports ``torchvision.transforms`` (only ``ToTensor``, ``Normalize``,
  ``Compose`` and ``InterpolationMode``, and only in ``infer()``'s own preprocessing, which the trainer
  does not use). PyPI's torchvision is built against CUDA torch: beside a CPU torch build its import dies
  with ``operator torchvision::nms does not exist``, and no CPU build of it is on PyPI. Where torchvision
  cannot be imported, :func:`ensure_torchvision` puts a small stand-in with those four names in
  ``sys.modules`` (in this process only; nothing is installed) and says so.
* ``forward`` calls ``images_seq_mask[idx].unsqueeze(-1).cuda()`` (line 505): on a CPU build of torch that
  raises ``Torch not compiled with CUDA enabled``, on an Apple Silicon Mac it puts the mask on the wrong
  device. :func:`attach` wraps the vision-language model's ``forward`` so that, on CPU and MPS, a
  ``Tensor.cuda()`` made inside it moves the tensor to the model's device instead (the "device shim").
  The files in the user's Hugging Face cache are never edited.
* ``forward`` prints ``BASE:``/``PATCHES:``/``NO PATCHES`` banners on every call; with ``--events -``
  stdout carries the JSON events, so those prints are swallowed inside ``forward`` (the event stream's
  file object is taken before, so events are unaffected).
"""

from __future__ import annotations

import contextlib
import enum
import importlib.machinery
import io
import sys
import types
from typing import Any, Callable, Iterator, Optional

STAND_IN = "__vin_ocr_stand_in__"
SHIMMED = "_vin_ocr_device_shim"


# ---- torchvision ------------------------------------------------------------------------------


def _module(name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__spec__ = importlib.machinery.ModuleSpec(name, None)
    setattr(module, STAND_IN, True)
    return module


class InterpolationMode(enum.Enum):
    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


def to_tensor(picture: Any) -> Any:
    """A PIL image or an HxWxC uint8 array -> a CxHxW float tensor in [0, 1] (torchvision's ToTensor)."""
    import numpy as np
    import torch

    array = np.array(picture)  # a copy: torch wants a writable array
    if array.ndim == 2:
        array = array[:, :, None]
    tensor = torch.from_numpy(array).permute(2, 0, 1).contiguous()
    return tensor.float().div(255.0) if tensor.dtype == torch.uint8 else tensor.float()


def normalize(tensor: Any, mean: Any, std: Any) -> Any:
    import torch

    mean_t = torch.as_tensor(mean, dtype=tensor.dtype, device=tensor.device).view(-1, 1, 1)
    std_t = torch.as_tensor(std, dtype=tensor.dtype, device=tensor.device).view(-1, 1, 1)
    return (tensor - mean_t) / std_t


class ToTensor:
    def __call__(self, picture: Any) -> Any:
        return to_tensor(picture)


class Normalize:
    def __init__(self, mean: Any, std: Any, inplace: bool = False) -> None:
        self.mean, self.std = mean, std

    def __call__(self, tensor: Any) -> Any:
        return normalize(tensor, self.mean, self.std)


class Compose:
    def __init__(self, transforms: list[Callable[[Any], Any]]) -> None:
        self.transforms = transforms

    def __call__(self, value: Any) -> Any:
        for transform in self.transforms:
            value = transform(value)
        return value


def _stand_in() -> types.ModuleType:
    root = _module("torchvision")
    root.__version__ = "0.0.0+vin-ocr-stand-in"  # type: ignore[attr-defined]
    transforms = _module("torchvision.transforms")
    functional = _module("torchvision.transforms.functional")
    names: dict[str, Any] = {"InterpolationMode": InterpolationMode, "to_tensor": to_tensor, "normalize": normalize}
    for name, value in names.items():
        setattr(functional, name, value)
    names = {"ToTensor": ToTensor, "Normalize": Normalize, "Compose": Compose, "InterpolationMode": InterpolationMode}
    for name, value in names.items():
        setattr(transforms, name, value)
    transforms.functional = functional  # type: ignore[attr-defined]
    root.transforms = transforms  # type: ignore[attr-defined]
    sys.modules.update({"torchvision": root, "torchvision.transforms": transforms, "torchvision.transforms.functional": functional})
    return root


_torchvision_note: Optional[str] = None


def ensure_torchvision() -> Optional[str]:
    """None when the real torchvision imports; otherwise installs the stand-in and returns why (once per process)."""
    global _torchvision_note
    loaded = sys.modules.get("torchvision")
    if loaded is not None and getattr(loaded, STAND_IN, False):
        return _torchvision_note
    try:
        import torchvision  # type: ignore[import-not-found]  # noqa: F401

        return None
    except Exception as error:  # noqa: BLE001 - ImportError (absent) or RuntimeError (a CUDA build beside a CPU torch)
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[-1]
        for name in [name for name in sys.modules if name == "torchvision" or name.startswith("torchvision.")]:
            del sys.modules[name]
    _stand_in()
    _tell_transformers_torchvision_is_absent()
    _torchvision_note = (
        f"torchvision cannot be imported here ({first_line}); DeepSeek-OCR's code imports only ToTensor, Normalize, "
        "Compose and InterpolationMode from it (for its own infer()), so the trainer provides those in this process"
    )
    return _torchvision_note


def _tell_transformers_torchvision_is_absent() -> None:
    """transformers decides from package metadata that torchvision is there, and then imports parts of it the
    stand-in does not have (``torchvision.transforms.v2``): where it cannot be imported, it is not there."""
    try:
        from transformers.utils import import_utils
    except ImportError:
        return
    if hasattr(import_utils, "_torchvision_available"):
        import_utils._torchvision_available = False


def prepare_remote_code() -> list[str]:
    """What has to be in place before transformers imports DeepSeek-OCR's code; one line per thing done."""
    note = ensure_torchvision()
    return [note] if note else []


# ---- device shim and quiet forward ----------------------------------------------------------------


@contextlib.contextmanager
def cuda_calls_to(device: Any) -> Iterator[None]:
    """Inside: ``tensor.cuda()`` returns ``tensor.to(device)`` (for code that hard-codes CUDA)."""
    import torch

    original = torch.Tensor.cuda

    def to_device(self: Any, *args: Any, non_blocking: bool = False, **kwargs: Any) -> Any:
        return self.to(device, non_blocking=non_blocking)

    torch.Tensor.cuda = to_device  # type: ignore[method-assign]
    try:
        yield
    finally:
        torch.Tensor.cuda = original  # type: ignore[method-assign]


def vision_language_model(model: Any) -> Any:
    """The module whose ``forward`` merges the image features (``DeepseekOCRModel``), under any wrapper."""
    for module in model.modules():
        if hasattr(module, "sam_model") and hasattr(module, "projector"):
            return module
    raise ValueError("This is not a DeepSeek-OCR model: no module has a sam_model and a projector.")


def attach(model: Any, device: Any) -> Optional[str]:
    """Wraps the vision-language model's forward (banners swallowed; on CPU/MPS, ``.cuda()`` → ``device``).

    Returns what the device shim does and why, for the log and ``run_started`` (None on CUDA: not needed).
    Idempotent.
    """
    import torch

    device = torch.device(device)
    inner = vision_language_model(model)
    shim = device.type != "cuda"
    if getattr(inner, SHIMMED, None) is None:
        original = inner.forward

        def forward(*args: Any, **kwargs: Any) -> Any:
            target = getattr(inner, SHIMMED)
            with contextlib.redirect_stdout(io.StringIO()):
                if target is None or target == "cuda":
                    return original(*args, **kwargs)
                with cuda_calls_to(target):
                    return original(*args, **kwargs)

        inner.forward = forward
    setattr(inner, SHIMMED, device if shim else "cuda")
    if not shim:
        return None
    return (
        f"DeepSeek-OCR's forward() calls .cuda() (modeling_deepseekocr.py, the image-token mask), which fails on "
        f"{device.type.upper()}; the trainer moves those tensors to {device.type} instead, inside forward() only "
        "(the files in the Hugging Face cache are not changed)"
    )


def freeze_vision(model: Any) -> int:
    """Freezes the vision encoders, projector and the two image embeddings (forward runs them under no_grad,
    so they never get gradients anyway); returns how many parameters were frozen."""
    inner = vision_language_model(model)
    frozen = 0
    for name in ("sam_model", "vision_model", "projector"):
        for parameter in getattr(inner, name).parameters():
            if parameter.requires_grad:
                parameter.requires_grad_(False)
                frozen += parameter.numel()
    for name in ("image_newline", "view_seperator"):
        parameter = getattr(inner, name, None)
        if parameter is not None and parameter.requires_grad:
            parameter.requires_grad_(False)
            frozen += parameter.numel()
    return frozen
