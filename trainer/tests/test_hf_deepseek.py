"""DeepSeek-OCR in the main environment: its prompt format and image modes, what the trainer adds around its code
(the transformers check, the torchvision stand-in, the LoRA targets), and remote code that imports flash_attn unguarded.

The real remote code is tested in its own environment (``test_deepseek_real.py``). What stays here on the imitation
(``fixtures_hf/fake_remote_ocr``) is what the real code cannot show: its ``flash_attn`` import is guarded, so only an
imitation that imports flash_attn unguarded exercises the stub, the attention fallback and the "install the stub" error.
"""

import pytest
import torch
from fixtures_hf.helpers import STUB_DIR, fake_deepseek_dir, go_offline
from PIL import Image

from vin_ocr.models.hf import deepseek
from vin_ocr.models.hf.deepseek import IGNORE_INDEX, MODES, encode_example, image_mode, image_token_count, prepare_views, vin_prompt

IMAGE_TOKEN = 99
pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")


class CharTokenizer:
    """Stands in for DeepSeek's tokenizer (a download): one id per character, BOS 1, EOS 2."""

    bos_token_id, eos_token_id = 1, 2

    def encode(self, text, add_special_tokens=False):
        return [ord(ch) + 100 for ch in text]


def test_prompts_get_exactly_one_leading_image_placeholder():
    assert vin_prompt() == "<image>\nFree OCR."
    assert vin_prompt("Read the VIN.") == "<image>\nRead the VIN."
    assert vin_prompt("<image>\n<|grounding|>OCR this image.") == deepseek.GROUNDING_OCR
    with pytest.raises(ValueError, match="2 '<image>'"):
        vin_prompt("<image><image>")


def test_the_published_resolution_modes():
    assert {name: (m.base_size, m.image_size, m.crop_mode) for name, m in MODES.items()} == {
        "tiny": (512, 512, False),
        "small": (640, 640, False),
        "base": (1024, 1024, False),
        "large": (1280, 1280, False),
        "gundam": (1024, 640, True),
    }
    with pytest.raises(ValueError, match="Unknown DeepSeek-OCR image mode 'huge'"):
        image_mode("huge")


@pytest.mark.parametrize("name, tokens", [("tiny", 8 * 9 + 1), ("small", 10 * 11 + 1), ("base", 16 * 17 + 1), ("large", 20 * 21 + 1)])
def test_token_counts_per_mode(name, tokens):
    # q = side / 16 / 4 tokens per row, q rows, a row-end token each, one separator.
    assert image_token_count(MODES[name]) == tokens


def test_a_wide_vin_photo_in_gundam_mode_is_tiled_in_a_row():
    views = prepare_views(Image.new("RGB", (2000, 250), "white"), MODES["gundam"])
    assert views.grid == (8, 1)
    assert len(views.crops) == 8 and all(c.size == (640, 640) for c in views.crops)
    assert views.global_view.size == (1024, 1024)
    assert image_token_count(MODES["gundam"], views.grid) == 16 * 17 + 1 + (10 * 8 + 1) * 10


def test_small_images_are_not_tiled_and_keep_their_aspect_in_the_padded_global_view():
    views = prepare_views(Image.new("RGB", (400, 50), "black"), MODES["gundam"])
    assert views.crops == [] and views.grid == (1, 1)
    # Padded, not stretched: the top rows are the mean-grey border, the middle is the (black) image.
    assert views.global_view.getpixel((512, 5)) == (127, 127, 127)
    assert views.global_view.getpixel((512, 512)) == (0, 0, 0)
    assert prepare_views(Image.new("RGB", (400, 50)), MODES["tiny"]).global_view.size == (512, 512)


def test_training_example_masks_the_prompt_and_marks_the_image_run():
    mode = MODES["base"]
    example = encode_example(CharTokenizer(), Image.new("RGB", (400, 60)), "1HGCM82633A004352", mode, IMAGE_TOKEN)
    run = image_token_count(mode)
    assert example.input_ids[0] == CharTokenizer.bos_token_id
    assert example.input_ids.count(IMAGE_TOKEN) == run == sum(example.images_seq_mask)
    first_image = example.input_ids.index(IMAGE_TOKEN)
    assert all(example.images_seq_mask[first_image : first_image + run])
    learnt = [label for label in example.labels if label != IGNORE_INDEX]
    assert learnt == [ord(ch) + 100 for ch in "1HGCM82633A004352"] + [CharTokenizer.eos_token_id]
    assert example.labels[: len(example.input_ids) - len(learnt)] == [IGNORE_INDEX] * (len(example.input_ids) - len(learnt))
    prompt_only = encode_example(CharTokenizer(), Image.new("RGB", (400, 60)), None, mode, IMAGE_TOKEN)
    assert example.input_ids[: len(prompt_only.input_ids)] == prompt_only.input_ids


def test_batches_carry_what_the_remote_forward_takes():
    mode = MODES["tiny"]
    examples = [encode_example(CharTokenizer(), Image.new("RGB", (300, 40)), vin, mode, IMAGE_TOKEN) for vin in ("A", "1HGCM82633A004352")]
    batch = deepseek.collate(examples, pad_token_id=0)
    assert set(batch) == {"input_ids", "attention_mask", "labels", "images", "images_seq_mask", "images_spatial_crop"}
    assert batch["input_ids"].shape == batch["labels"].shape == batch["images_seq_mask"].shape
    crops, global_view = batch["images"][0]
    assert global_view.shape == (1, 3, 512, 512)
    assert float(global_view.min()) >= -1.0 and float(global_view.max()) <= 1.0
    assert batch["images_spatial_crop"].tolist() == [[1, 1], [1, 1]]
    assert (batch["labels"][0][batch["attention_mask"][0] == 0] == IGNORE_INDEX).all()


# ---- remote code that imports flash_attn ----------------------------------------------------------


@pytest.fixture
def remote_code_env(monkeypatch, tmp_path):
    from vin_ocr.families import deepseek_ocr

    go_offline(monkeypatch)
    # The imitation runs under this environment's transformers (5.x), which the real code cannot import.
    monkeypatch.setattr(deepseek_ocr, "_check_transformers", lambda: None)
    monkeypatch.setenv("HF_MODULES_CACHE", str(tmp_path / "modules"))
    import transformers.dynamic_module_utils as dynamic

    monkeypatch.setattr(dynamic, "HF_MODULES_CACHE", str(tmp_path / "modules"), raising=False)


def _forget_flash_attn(monkeypatch):
    """Hide any imported flash_attn now, and drop whatever the test imports once it ends."""
    import sys

    for name in [n for n in sys.modules if n == "flash_attn" or n.startswith("flash_attn.")]:
        monkeypatch.delitem(sys.modules, name)


@pytest.fixture(autouse=True)
def _drop_stub_modules():
    """The stub must not stay imported after a test: the hardware probe would see it."""
    import sys

    yield
    for name in [n for n in sys.modules if n == "flash_attn" or n.startswith("flash_attn.")]:
        module = sys.modules[name]
        if str(STUB_DIR) in str(getattr(module, "__file__", "")):
            del sys.modules[name]


def test_the_stub_is_importable_reports_itself_and_refuses_to_compute(monkeypatch):
    _forget_flash_attn(monkeypatch)
    monkeypatch.syspath_prepend(str(STUB_DIR))
    import flash_attn
    from flash_attn.bert_padding import pad_input

    from vin_ocr.hardware import flash_attn_status

    assert flash_attn.__version__ == "stub"
    assert flash_attn_status() == "stub"
    with pytest.raises(flash_attn.FlashAttentionStubError, match="attn_implementation='eager'"):
        flash_attn.flash_attn_func(torch.zeros(1), torch.zeros(1), torch.zeros(1))
    with pytest.raises(RuntimeError, match="stub"):
        pad_input()


def test_remote_code_that_imports_flash_attn_loads_with_eager_through_the_stub(monkeypatch, remote_code_env):
    from vin_ocr.models.hf.loading import load_vlm

    _forget_flash_attn(monkeypatch)
    monkeypatch.syspath_prepend(str(STUB_DIR))
    loaded = load_vlm(str(fake_deepseek_dir()), "deepseek-ocr", "flash_attention_2", "fp32", trust_remote_code=True)
    assert loaded.attention == "eager"
    assert loaded.fallbacks and loaded.fallbacks[0].startswith("flash_attention_2:")
    assert loaded.model(torch.tensor([[1, 2, 3]])).logits.shape == (1, 3, 128)


def test_without_the_stub_the_error_says_how_to_install_it(monkeypatch, remote_code_env):
    import importlib.util

    from vin_ocr.errors import TrainerError
    from vin_ocr.models.hf.loading import load_vlm

    _forget_flash_attn(monkeypatch)
    if importlib.util.find_spec("flash_attn") is not None:
        pytest.skip("a flash_attn package is installed in this environment")
    with pytest.raises(TrainerError) as caught:
        load_vlm(str(fake_deepseek_dir()), "deepseek-ocr", "eager", "fp32", trust_remote_code=True)
    assert caught.value.code == "flash_attn_missing"
    assert "flash_attn_stub" in caught.value.hint


def test_remote_code_is_refused_without_trust_remote_code(remote_code_env):
    from vin_ocr.errors import TrainerError
    from vin_ocr.models.hf.loading import load_vlm

    with pytest.raises(TrainerError, match="trust_remote_code"):
        load_vlm(str(fake_deepseek_dir()), "deepseek-ocr", "eager", "fp32", trust_remote_code=False)


# ---- what the trainer adds around the real code (tested on it in test_deepseek_real.py) --------------------


def test_a_transformers_that_cannot_import_the_code_is_refused_before_loading(monkeypatch):
    import transformers

    from vin_ocr.errors import TrainerError
    from vin_ocr.families import deepseek_ocr
    from vin_ocr.models.hf.fallback import fallback_reason

    monkeypatch.setattr(transformers, "__version__", "4.48.0")
    with pytest.raises(TrainerError) as caught:
        deepseek_ocr.FAMILY.traits.load_model("deepseek-ai/DeepSeek-OCR", "eager", True, {})
    assert caught.value.code == "missing_dependency" and "4.46.3 to 4.47.x" in caught.value.message
    assert "transformers==4.46.3" in caught.value.hint and "Set Up DeepSeek-OCR Environment" in caught.value.hint
    assert "cannot be imported by transformers 4.48 or newer" in fallback_reason("deepseek-ocr", "cpu", None, None, "4.57.1")
    assert fallback_reason("deepseek-ocr", "cpu", None, None, "4.46.3") is None


def test_lora_targets_the_language_model_only():
    import re

    from vin_ocr.families.deepseek_ocr import FAMILY

    pattern = FAMILY.traits.lora.targets
    assert isinstance(pattern, str)
    trained = [
        "model.layers.0.self_attn.q_proj",
        "model.layers.0.self_attn.o_proj",
        "model.layers.0.mlp.gate_proj",
        "model.layers.11.mlp.experts.63.down_proj",
        "model.layers.1.mlp.shared_experts.up_proj",
    ]
    frozen = [
        "model.sam_model.blocks.0.attn.qkv",
        "model.sam_model.blocks.0.attn.proj",
        "model.sam_model.blocks.0.mlp.lin1",
        "model.vision_model.transformer.layers.0.self_attn.qkv_proj",
        "model.vision_model.transformer.layers.0.self_attn.out_proj",
        "model.vision_model.transformer.layers.0.mlp.fc1",
        "model.projector.layers",
        "model.layers.1.mlp.gate",
        "lm_head",
    ]
    assert all(re.fullmatch(pattern, name) for name in trained)
    assert not any(re.fullmatch(pattern, name) for name in frozen)


def test_the_torchvision_stand_in_has_what_the_remote_code_imports():
    import sys

    import numpy as np

    from vin_ocr.models.hf import remote_code

    saved = {name: sys.modules.pop(name) for name in list(sys.modules) if name.split(".")[0] == "torchvision"}
    try:
        remote_code._stand_in()
        from torchvision import transforms  # type: ignore[import-not-found]
        from torchvision.transforms.functional import InterpolationMode  # type: ignore[import-not-found]

        assert InterpolationMode.BICUBIC.value == "bicubic"
        image = Image.new("RGB", (4, 2), (255, 0, 51))
        tensor = transforms.Compose([transforms.ToTensor(), transforms.Normalize(mean=(0.5,) * 3, std=(0.5,) * 3)])(image)
        assert tensor.shape == (3, 2, 4) and tensor.dtype == torch.float32
        assert np.allclose(tensor[:, 0, 0].numpy(), [1.0, -1.0, 51 / 255 * 2 - 1], atol=1e-6)
    finally:
        for name in [name for name in sys.modules if name.split(".")[0] == "torchvision"]:
            del sys.modules[name]
        sys.modules.update(saved)


def test_the_device_shim_moves_cuda_calls_inside_forward_only():
    from vin_ocr.models.hf.remote_code import attach

    class Inner(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.sam_model = torch.nn.Linear(1, 1)
            self.projector = torch.nn.Linear(1, 1)

        def forward(self, x):
            print("BASE:  torch.Size([1, 64, 1280])")  # as the real forward does on every call
            return x.cuda() * 2

    model = torch.nn.Sequential(Inner())
    why = attach(model, torch.device("cpu"))
    assert why and ".cuda()" in why and "not changed" in why
    import contextlib
    import io

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert model(torch.ones(1)).tolist() == [2.0]
    assert printed.getvalue() == ""
    if not torch.cuda.is_available():
        with pytest.raises((AssertionError, RuntimeError)):
            torch.ones(1).cuda()  # outside forward, .cuda() is torch's own again


def test_flash_attention_requested_off_cuda_is_eager_with_the_reason():
    from vin_ocr.models.hf.policy import Machine, choose_attention

    for device in ("cpu", "mps"):
        choice = choose_attention("deepseek-ocr", Machine(device, flash_attn="stub"), requested="flash_attention_2")
        assert choice.value == "eager" and "needs CUDA" in choice.reason and "no sdpa" in choice.reason
    on_gpu = choose_attention("deepseek-ocr", Machine("cuda", flash_attn="2.7.3", compute_capability=9.0), requested="flash_attention_2")
    assert on_gpu.value == "flash_attention_2"
