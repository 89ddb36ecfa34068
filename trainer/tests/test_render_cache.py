"""The render cache (data/render_cache.py) and the streams that read it (training/data.py)."""

from __future__ import annotations

import concurrent.futures as futures
import json
from collections import deque
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import read_events, tiny_config, write_config

from vin_ocr.config import parse_config
from vin_ocr.data import render_cache
from vin_ocr.data.render_cache import CacheKey, CacheSchedule, RenderCache, evict_other_caches, plan_shards
from vin_ocr.training.data import CachedStream, InputMeter, RenderPool, TrainStream, build_train_stream, metered
from vin_ocr.training.harness import EXIT_CANCELLED, EXIT_COMPLETED, RunOptions, train

SHARD = 16  # images per shard in these tests: a shard renders in a fraction of a second


@pytest.fixture(autouse=True)
def render_in_threads(monkeypatch):
    """Threads instead of spawned processes (which each import torch: seconds) render the tests' shards;
    the training-run test uses real processes once."""
    monkeypatch.setattr(render_cache, "new_render_pool", lambda workers: futures.ThreadPoolExecutor(workers))


def key(**changes) -> CacheKey:
    values = {"seed": 3, "height": 32, "width": 160, "typefaces": "all", "north_american_ratio": 0.6, "shard_size": SHARD}
    return CacheKey(**{**values, **changes})


def open_cache(root: Path, warnings: list[str], shards: int = 2, refresh: float = 0.0, rank: int = 0, world: int = 1, **changes):
    cache_key = key(**changes)
    schedule = CacheSchedule(shards, cache_key.shard_size, 8, rank, world, refresh, seed=3)
    return RenderCache(root, cache_key, schedule, None, workers=2, warn=warnings.append)


def read_blocks(cache: RenderCache, count: int) -> list:
    """Blocks 0..count-1 of a cache just opened, which is closed afterwards."""
    cache.start(0)
    try:
        return [cache.shard(block) for block in range(count)]
    finally:
        cache.close()


def take(stream: CachedStream, start: int, count: int) -> list:
    batches = stream.batches(start)
    try:
        return [next(batches) for _ in range(count)]
    finally:
        batches.close()  # type: ignore[attr-defined]


def test_a_cache_is_rendered_once_then_reused_by_the_next_run(tmp_path):
    warnings: list[str] = []
    first = open_cache(tmp_path, warnings)
    made = read_blocks(first, 2)
    assert first.rendered == 2 and first.reused == 0
    manifest = json.loads((first.folder / "shard-00000-g00000.json").read_text())
    assert manifest["renderer_version"] == render_cache.RENDERER_VERSION
    assert manifest["count"] == SHARD and manifest["bytes"] == SHARD * 32 * 160 and len(manifest["vins"]) == SHARD

    again = open_cache(tmp_path, warnings)
    read = read_blocks(again, 2)
    assert again.reused == 2 and again.rendered == 0 and warnings == []
    for old, new in zip(made, read):
        assert np.array_equal(old.images, new.images) and old.vins == new.vins


def test_other_settings_use_another_cache_and_a_mismatched_manifest_is_rendered_again(tmp_path):
    warnings: list[str] = []
    assert key().folder_name() != key(north_american_ratio=0.5).folder_name() != key(renderer_version=99).folder_name()
    cache = open_cache(tmp_path, warnings, shards=1)
    cache.start(0)
    original = cache.shard(0)
    cache.close()
    manifest_file = cache.folder / "shard-00000-g00000.json"
    manifest = json.loads(manifest_file.read_text())
    manifest["renderer_version"] = 0  # as an older renderer would have written it
    manifest_file.write_text(json.dumps(manifest))

    again = open_cache(tmp_path, warnings, shards=1)
    (rebuilt,) = read_blocks(again, 1)
    again.pass_on_messages()
    assert len(warnings) == 1 and "renderer_version" in warnings[0] and "rendering it again" in warnings[0]
    assert again.rendered == 1 and np.array_equal(rebuilt.images, original.images)


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_a_truncated_or_corrupted_shard_is_never_trained_on(tmp_path, damage):
    warnings: list[str] = []
    cache = open_cache(tmp_path, warnings, shards=1)
    cache.start(0)
    shard = cache.shard(0)
    original = np.array(shard.images), shard.vins  # a copy: the file under the memory map is damaged below
    del shard
    cache.close()
    data = cache.folder / "shard-00000-g00000.npy"
    raw = bytearray(data.read_bytes())
    if damage == "truncate":
        data.write_bytes(bytes(raw[: len(raw) // 2]))
    else:
        raw[-100] ^= 0xFF
        data.write_bytes(bytes(raw))

    again = open_cache(tmp_path, warnings, shards=1)
    (rebuilt,) = read_blocks(again, 1)
    again.pass_on_messages()
    assert len(warnings) == 1 and "not usable" in warnings[0]
    assert ("truncated" if damage == "truncate" else "checksum") in warnings[0]
    assert np.array_equal(rebuilt.images, original[0]) and rebuilt.vins == original[1]


def test_the_disk_bound_holds_while_shards_are_refreshed(tmp_path):
    one = key().shard_bytes
    gb = (6 * one) / 1024**3
    assert plan_shards(key(), images=10**6, max_gb=gb, ranks=1) == 5  # five shards, and room for the one being written
    assert plan_shards(key(), images=10**6, max_gb=gb, ranks=2) == 4
    assert plan_shards(key(), images=SHARD * 2, max_gb=gb, ranks=1) == 2
    assert plan_shards(key(), images=10**6, max_gb=one / 1024**3, ranks=1) == 0

    warnings: list[str] = []
    cache = open_cache(tmp_path, warnings, shards=2, refresh=0.5)
    cache.start(0)
    try:
        for block in range(8):  # four passes, one shard re-rendered in each
            cache.shard(block)
            assert len(list(cache.folder.glob("shard-*.npy"))) <= 3
    finally:
        cache.close()
    assert cache.rendered >= 5

    old = tmp_path / "renders-v0-0123456789abcdef"
    old.mkdir()
    (old / "shard-00000-g00000.npy").write_bytes(b"x" * one * 2)
    # a folder of the user's under the same root is never deleted, even with the prefix, nor one holding other files
    (tmp_path / "renders-final").mkdir()
    (tmp_path / "renders-final" / "report.pdf").write_bytes(b"x" * one * 2)
    mixed = tmp_path / "renders-v1-fedcba9876543210"
    mixed.mkdir()
    (mixed / "shard-00000-g00000.npy").write_bytes(b"x" * one)
    (mixed / "notes.txt").write_text("mine")
    assert evict_other_caches(tmp_path, cache.folder, max_bytes=3 * one, planned_bytes=2 * one) == [old.name]
    assert not old.exists() and (tmp_path / "renders-final" / "report.pdf").exists() and (mixed / "notes.txt").exists()


def test_the_generation_of_each_block_is_a_pure_function_of_it():
    schedule = CacheSchedule(shards=10, shard_size=SHARD, batch_size=8, rank=0, world_size=1, refresh=0.2, seed=3)
    passes = [[schedule.shard_of_block(p * 10 + j).generation for j in range(10)] for p in range(6)]
    assert passes[0] == [0] * 10
    for before, after in zip(passes, passes[1:]):
        assert sum(b != a for b, a in zip(before, after)) == 2  # a fifth of the shards re-rendered per pass
    assert passes[5] == [1] * 10  # after five passes every shard has been rendered anew once
    assert np.array_equal(schedule.rows(3), schedule.rows(3)) and len(set(schedule.rows(2)) & set(schedule.rows(3))) == 0


def test_a_small_cache_is_refreshed_by_the_stated_share_on_average():
    schedule = CacheSchedule(shards=4, shard_size=SHARD, batch_size=8, rank=0, world_size=1, refresh=0.1, seed=3)
    generations = [schedule.shard_of_block(20 * 4 + j).generation for j in range(4)]
    assert sum(generations) == 8  # 20 passes × 10 % × 4 shards, not one shard every pass


def test_the_cache_settings_are_in_the_editors_schema(tmp_path):
    import jsonschema
    from conftest import REPO

    schema = json.loads((REPO / "schemas" / "training-config.schema.json").read_text(encoding="utf-8"))
    cache = {"mode": "on", "dir": "renders", "images": 50000, "max_gb": 1.5, "refresh": 0.1}
    document = tiny_config(data={"synthetic": {"cache": cache}})
    assert [error.message for error in jsonschema.Draft7Validator(schema).iter_errors(document)] == []
    config, warnings = parse_config(document, tmp_path)
    assert warnings == [] and config.data.synthetic.cache.dir == str(tmp_path / "renders")
    document["data"]["synthetic"]["cache"]["mode"] = "sometimes"
    assert list(jsonschema.Draft7Validator(schema).iter_errors(document))
    with pytest.raises(Exception, match="data.synthetic.cache.mode"):
        parse_config(document, tmp_path)


def test_a_bare_on_or_off_in_the_yaml_file_means_the_mode_not_a_boolean(tmp_path):
    from vin_ocr.config import load_config

    for written, mode in (("on", "on"), ("off", "off"), ("yes", "on"), ('"on"', "on")):
        path = tmp_path / f"{mode}-{len(written)}.yaml"
        path.write_text(f"model: {{type: baseline}}\ndata:\n  synthetic:\n    cache:\n      mode: {written}\n", encoding="utf-8")
        config, _ = load_config(path)
        assert config.data.synthetic.cache.mode == mode, written


def test_data_parallel_ranks_read_their_own_shards():
    ranks = [CacheSchedule(shards=6, shard_size=SHARD, batch_size=8, rank=r, world_size=3, refresh=0.5, seed=3) for r in range(3)]
    read = [{ranks[r].shard_of_block(b).number for b in range(20)} for r in range(3)]
    assert read == [{0, 3}, {1, 4}, {2, 5}]


def cached_stream(root: Path, warnings: list[str]) -> CachedStream:
    return CachedStream(open_cache(root, warnings, shards=2, refresh=0.5), seed=3, salt=(), device="cpu")


def test_batch_k_is_the_same_after_a_resume_from_the_cache(tmp_path):
    warnings: list[str] = []
    straight = take(cached_stream(tmp_path, warnings), 0, 12)  # three passes over two shards, generations changing
    resumed = take(cached_stream(tmp_path, warnings), 7, 5)
    for a, b in zip(straight[7:], resumed):
        assert a.vins == b.vins and torch.equal(a.images, b.images)
    assert straight[0].images.shape == (8, 1, 32, 160) and straight[0].images.dtype == torch.float32
    assert not torch.equal(straight[0].images, straight[4].images)  # each use of a render is augmented anew
    assert warnings == []


def test_a_run_trains_from_the_cache_and_reports_it(tmp_path, monkeypatch, event_validator):
    monkeypatch.setattr(render_cache, "DEFAULT_SHARD_SIZE", SHARD)
    monkeypatch.undo()  # the first run renders in real worker processes …
    monkeypatch.setattr(render_cache, "DEFAULT_SHARD_SIZE", SHARD)
    cache = {"mode": "on", "dir": str(tmp_path / "cache"), "images": 2 * SHARD, "refresh": 0.5}
    synthetic = {"seed": 7, "val_size": 16, "pool_size": 32, "fresh_ratio": 0.5, "cache": cache}
    config = write_config(tmp_path, tiny_config(data={"synthetic": synthetic}, training={"max_steps": 4, "eval_every": 2}))
    assert train(str(config), RunOptions(output_dir=str(tmp_path / "a"))) == EXIT_COMPLETED
    run = next((tmp_path / "a").iterdir())
    events = read_events(run / "events.jsonl")
    event_validator(events)
    started = events[0]
    assert started["event"] == "run_started" and started["input_path"] == "cache"
    assert started["input_images_per_sec"] > 0 and started["config"]["data"]["synthetic"]["cache"]["mode"] == "on"
    assert events[-1]["event"] == "run_finished" and events[-1]["status"] == "completed"
    assert "render cache" in (run / "train.log").read_text()

    # Interrupted and resumed: the same weights as the run straight through (batch k from the cache is the same).
    monkeypatch.setattr(render_cache, "new_render_pool", lambda workers: futures.ThreadPoolExecutor(workers))  # … these in threads
    assert train(str(config), RunOptions(output_dir=str(tmp_path / "b"), stop_after_step=2)) == EXIT_CANCELLED
    resumed = next((tmp_path / "b").iterdir())
    assert train(str(config), RunOptions(resume=str(resumed))) == EXIT_COMPLETED
    from vin_ocr.training.checkpoints import load_checkpoint

    final_a, _ = load_checkpoint(run)
    final_b, _ = load_checkpoint(resumed)
    for name, tensor in final_a["model"].items():
        assert torch.equal(tensor, final_b["model"][name]), f"{name} differs after resume"


def test_an_unwritable_cache_folder_falls_back_to_live_rendering_with_a_warning(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    synthetic = {"cache": {"mode": "on", "dir": str(blocker / "renders")}}
    config, _ = parse_config(tiny_config(data={"synthetic": synthetic}), tmp_path)
    warnings: list[str] = []
    stream, *_ = build_train_stream(config, num_workers=0, batch_size=4, warn=warnings.append)
    assert isinstance(stream, TrainStream)
    assert len(warnings) == 1 and "live renders" in warnings[0] and "not writable" in warnings[0]


def test_auto_uses_live_rendering_on_a_cpu(tmp_path):
    config, _ = parse_config(tiny_config(), tmp_path)
    assert config.data.synthetic.cache.mode == "auto"
    stream, *_ = build_train_stream(config, num_workers=0, batch_size=4, device="cpu")
    assert isinstance(stream, TrainStream)


def test_the_pool_on_the_device_draws_as_the_deque_of_renders_did():
    pool, reference = RenderPool(5), deque(maxlen=5)
    for start in range(0, 12, 3):
        images = torch.arange(start, start + 3, dtype=torch.float32).view(3, 1, 1, 1)
        pool.add(images, [str(v) for v in range(start, start + 3)])
        reference.extend(range(start, start + 3))
    picks = torch.randint(len(reference), (4,), generator=torch.Generator().manual_seed(1)).tolist()
    drawn = pool.draw(4, torch.Generator().manual_seed(1))
    assert drawn.vins == [str(reference[i]) for i in picks]
    assert drawn.images.flatten().tolist() == [float(reference[i]) for i in picks]


def test_the_input_meter_reports_when_the_model_waits_for_data():
    reports: list[tuple[float, float, float]] = []
    meter = InputMeter(lambda *figures: reports.append(figures), warmup_steps=2, window_seconds=1.0)
    for _ in range(12):
        meter.add(waited=0.06, worked=0.04, images=10)  # waits 60 % of the time
    assert len(reports) == 1
    idle, trained, model = reports[0]
    assert idle == pytest.approx(0.6) and trained == pytest.approx(100) and model == pytest.approx(250)

    quiet = InputMeter(lambda *figures: reports.append(figures), warmup_steps=0, window_seconds=0.1)
    for batch in metered(iter([]), quiet):  # an empty stream ends cleanly
        raise AssertionError(batch)


def test_a_labelled_training_set_is_decoded_once_into_the_cache(tmp_path):
    from conftest import REPO

    from vin_ocr.training.data import DecodedImages, load_labelled_images

    labels = REPO / "examples" / "data" / "labels.txt"
    config, _ = parse_config(tiny_config(data={"synthetic": {"cache": {"mode": "on", "dir": str(tmp_path)}}}), tmp_path)
    warnings: list[str] = []
    first, *_ = load_labelled_images(str(labels), config, "training", "cpu", warnings.append)
    again, *_ = load_labelled_images(str(labels), config, "training", "cpu", warnings.append)
    plain, *_ = load_labelled_images(str(labels), config, "val", "cpu")  # held-out sets are read as they are
    assert isinstance(first, DecodedImages) and isinstance(again, DecodedImages) and not isinstance(plain, DecodedImages)
    assert warnings == [] and len(list(tmp_path.glob("renders-labelled-*"))) == 1
    for index in (0, len(plain) - 1):
        image, vin = again[index]
        expected, expected_vin = plain[index]
        assert vin == expected_vin and np.abs(image - expected).max() <= 0.5 / 255 + 1e-6
