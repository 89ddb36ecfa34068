"""A minimal remote-code config, shaped like DeepSeek-OCR's (auto_map + trust_remote_code)."""

from transformers import PretrainedConfig


class FakeOcrConfig(PretrainedConfig):
    model_type = "fake_remote_ocr"

    def __init__(self, hidden_size: int = 16, vocab_size: int = 128, **kwargs):
        self.hidden_size = hidden_size
        self.vocab_size = vocab_size
        super().__init__(**kwargs)
