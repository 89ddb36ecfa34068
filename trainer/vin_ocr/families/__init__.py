"""Model families: what the run harness trains, evaluates and reads with (see ``registry.py``)."""
