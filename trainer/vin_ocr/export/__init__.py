"""Exporting a trained baseline for deployment: ``onnx_export`` writes the ONNX graph and, beside it,
the description a deployment needs (``manifest``); ``parity`` compares its reads with PyTorch's.

Only ``manifest`` is imported by the ONNX Runtime reader, so it must never import torch; the
exporter and the parity check do, inside their own modules.
"""
