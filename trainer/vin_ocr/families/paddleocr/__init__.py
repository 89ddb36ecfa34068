"""PaddleOCR (``model.type: paddleocr``): a PP-OCR recognizer fine-tuned in the user's PaddleOCR clone."""

from .family import FAMILY

__all__ = ["FAMILY"]
