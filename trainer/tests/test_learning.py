"""A real, short CPU training run learns to read VINs it has never seen.

The full synthetic generator (heavy blur, glare, stamped metal) takes minutes of CPU before
whole VINs come out right; that is measured by bench/trainer_bench.py and the demo. Here the
images are plain printed VINs drawn with Pillow's own font, so that a test-sized run (a few
hundred steps) shows the whole path — labelled data, CTC training, decoding, evaluation —
actually learns: exact match on held-out VINs far above chance (33^-17).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from conftest import read_events, tiny_config, write_config
from PIL import Image, ImageDraw, ImageFont

from vin_ocr.training.harness import EXIT_COMPLETED, RunOptions, train
from vin_ocr.vin import random_vin


def printed_vins(folder: Path, count: int, seed: int) -> Path:
    folder.mkdir(parents=True)
    rng = random.Random(seed)
    font = ImageFont.load_default(size=18)
    rows = []
    for index in range(count):
        vin = random_vin(rng, north_american=rng.random() < 0.6)
        image = Image.new("L", (230, 34), rng.randint(200, 255))
        ImageDraw.Draw(image).text((rng.randint(2, 12), rng.randint(4, 9)), vin, fill=rng.randint(0, 60), font=font)
        image.save(folder / f"{index}.png")
        rows.append(f"{index}.png\t{vin}")
    (folder / "labels.txt").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder / "labels.txt"


def test_a_short_run_learns_to_read_held_out_vins(tmp_path):
    train_labels = printed_vins(tmp_path / "train", 512, seed=1)
    val_labels = printed_vins(tmp_path / "val", 64, seed=2)
    config = write_config(
        tmp_path,
        tiny_config(
            model={"hidden_size": 64},
            data={"train": str(train_labels), "val": str(val_labels)},
            training={"max_steps": 220, "batch_size": 16, "learning_rate": 0.005, "eval_every": 220, "num_workers": 1},
        ),
    )
    assert train(str(config), RunOptions(output_dir=str(tmp_path / "runs"))) == EXIT_COMPLETED
    (run,) = (tmp_path / "runs").iterdir()
    losses = [e["loss"] for e in read_events(run / "events.jsonl") if e["event"] == "progress"]
    assert losses[-1] < 0.3 * losses[0], losses
    metrics = json.loads((run / "metrics.json").read_text())["val"]
    assert metrics["exact_match"] > 0.1, metrics
    assert metrics["char_f1"] > 0.8, metrics


def test_labelled_photos_are_augmented_when_fine_tuning_the_same_way_at_every_resume(tmp_path):
    from vin_ocr.config import load_config
    from vin_ocr.training.data import augments_labelled, build_train_stream

    assert (augments_labelled("auto", True), augments_labelled("auto", False)) == (True, False)
    assert (augments_labelled(True, False), augments_labelled(False, True)) == (True, False)
    labels = printed_vins(tmp_path / "photos", 8, seed=3)
    config, _ = load_config(write_config(tmp_path, tiny_config(data={"train": str(labels), "val": None})))

    def batch(starts_trained: bool, k: int):
        stream, *_ = build_train_stream(config, num_workers=0, batch_size=4, starts_trained=starts_trained)
        return next(stream.batches(k))

    plain, augmented, again = batch(False, 2), batch(True, 2), batch(True, 2)
    assert plain.vins == augmented.vins  # the same photos, in the same order …
    assert not plain.images.equal(augmented.images)  # … looking a little different when fine-tuning
    assert augmented.images.equal(again.images)  # and identically so for the same step: exact resume holds
