"""Training for every model family: the run harness (budget, run files, TensorBoard, signals, devices,
checkpoints), the fine-tuning command line, and the baseline's data stream and evaluation."""
