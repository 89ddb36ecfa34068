"""Building blocks of the vision-language families (LFM2.5-VL, DeepSeek-OCR, see ``families/``) through transformers.

Everything here imports transformers lazily from the functions that need it, so that the
baseline trainer keeps working in an environment without the Hugging Face stack.
"""
