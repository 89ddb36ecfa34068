"""Training machinery shared by every model family: loop, checkpoints, resume, signals, devices, evaluation."""
