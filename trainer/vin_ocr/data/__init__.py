"""Data for the trainer: preprocessing shared by every path, labelled datasets, synthetic VINs."""
