"""VIN OCR trainer: the Python half of the VIN OCR extension."""

__version__ = "0.1.0"
