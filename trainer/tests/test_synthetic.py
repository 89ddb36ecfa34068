"""The synthetic VIN renderer: determinism, variety, font hold-out, the torch stream and split."""

import random

import numpy as np
import pytest
from PIL import Image

from vin_ocr.data import synthetic
from vin_ocr.data.fonts import all_faces, font_families, is_procedural, split_font_families
from vin_ocr.data.synthetic import LEGIBLE_SCORE, SyntheticStream, legibility, render_vin, synthetic_split
from vin_ocr.vin import has_valid_check_digit, is_valid_vin_syntax, random_vin

VIN = "1M8GDM9AXKP042788"


def _pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("L"))


def test_render_is_an_image_of_reasonable_size():
    image = render_vin(VIN, random.Random(1))
    assert isinstance(image, Image.Image)
    assert image.mode in ("L", "RGB")
    assert 16 <= image.height <= 200
    assert image.width > image.height * 3  # a line of 17 characters is long
    assert _pixels(image).std() > 5  # something is drawn


def test_same_seed_same_image_and_different_seeds_differ():
    first = _pixels(render_vin(VIN, random.Random(42)))
    again = _pixels(render_vin(VIN, random.Random(42)))
    other = _pixels(render_vin(VIN, random.Random(43)))
    assert np.array_equal(first, again)
    assert first.shape != other.shape or not np.array_equal(first, other)


def test_rejects_what_is_not_a_vin():
    with pytest.raises(ValueError, match="17-character"):
        render_vin("1M8GDM9AXKP04278", random.Random(0))
    with pytest.raises(ValueError, match="17-character"):
        render_vin("1M8GDM9AXKP04278O", random.Random(0))


def test_procedural_faces_are_always_there():
    families = font_families()
    assert sum(is_procedural(family) for family in families) >= 5
    assert len(all_faces()) >= len(families)


def test_font_split_is_disjoint_and_covers_every_family():
    train, held = split_font_families(0.3)
    assert train and held
    assert not set(train) & set(held)
    assert sorted(train + held) == font_families()
    assert split_font_families(0.3) == (train, held)


def test_fonts_restrict_the_families_used():
    procedural = [family for family in font_families() if is_procedural(family)][:1]
    image = render_vin(VIN, random.Random(5), fonts=procedural)
    assert image.width > 0
    with pytest.raises(ValueError, match="unknown font family"):
        render_vin(VIN, random.Random(5), fonts=["No Such Font"])


def test_stream_yields_model_inputs_and_labels_deterministically():
    stream = SyntheticStream(seed=3, height=32, width=256, north_american_ratio=1.0)
    first = [sample for _, sample in zip(range(4), stream)]
    again = [sample for _, sample in zip(range(4), SyntheticStream(seed=3, height=32, width=256, north_american_ratio=1.0))]
    for (array, vin), (array_again, vin_again) in zip(first, again):
        assert array.shape == (32, 256) and array.dtype == np.float32
        assert 0.0 <= array.min() and array.max() <= 1.0
        assert vin == vin_again and np.array_equal(array, array_again)
        assert has_valid_check_digit(vin)
    assert len({vin for _, vin in first}) == 4


def test_stream_start_skips_ahead_for_resume():
    whole = [vin for _, (_, vin) in zip(range(5), SyntheticStream(1, 32, 256))]
    resumed = [vin for _, (_, vin) in zip(range(2), SyntheticStream(1, 32, 256, start=3))]
    assert resumed == whole[3:5]


def test_split_is_deterministic_and_apart_from_the_stream():
    split = synthetic_split(seed=9, size=6, height=32, width=200, north_american_ratio=0.0)
    again = synthetic_split(seed=9, size=6, height=32, width=200, north_american_ratio=0.0)
    stream = [vin for _, (_, vin) in zip(range(6), SyntheticStream(9, 32, 200, 0.0))]
    assert [vin for _, vin in split] == [vin for _, vin in again]
    assert not {vin for _, vin in split} & set(stream)
    assert all(is_valid_vin_syntax(vin) for _, vin in split)
    assert all(array.shape == (32, 200) for array, _ in split)


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="north_american_ratio"):
        SyntheticStream(1, 32, 256, north_american_ratio=1.5)
    with pytest.raises(ValueError, match="size"):
        synthetic_split(1, -1, 32, 256)


def test_dataloader_workers_render_different_samples_reproducibly():
    from torch.utils.data import DataLoader

    def take(count):
        loader = DataLoader(SyntheticStream(seed=5, height=32, width=160), batch_size=None, num_workers=2)
        return [vin for _, (_, vin) in zip(range(count), loader)]

    first = take(6)
    assert len(set(first)) == 6  # each worker renders its own share, no duplicates
    assert take(6) == first


def test_every_procedural_face_draws_33_distinct_glyphs():
    from vin_ocr.data.fonts import GlyphCache
    from vin_ocr.vin import ALPHABET

    cache = GlyphCache()
    for face in all_faces():
        if not is_procedural(face.family):
            continue
        pictures = set()
        for char in ALPHABET:
            glyph = cache.get(face, char, 24)
            assert glyph is not None and glyph.mask.any(), f"{face.family} {face.name} draws no {char}"
            pictures.add(glyph.mask.tobytes())
        assert len(pictures) == len(ALPHABET), f"{face.family} {face.name} draws two characters alike"


def test_font_probe_accepts_a_shipped_font_and_rejects_garbage(tmp_path):
    from vin_ocr.data.fonts import BUNDLED_FONT_DIR, _probe_font_file

    face = _probe_font_file(BUNDLED_FONT_DIR / "roboto-mono" / "roboto-mono-latin-400-normal.woff")
    assert face is not None and face.family == "Roboto Mono"
    garbage = tmp_path / "broken.ttf"
    garbage.write_bytes(b"not a font at all")
    assert _probe_font_file(garbage) is None


def test_renders_vary_in_polarity_size_and_surface():
    rng = random.Random(12)
    darker_text, lighter_text, heights = 0, 0, set()
    for _ in range(60):
        pixels = _pixels(render_vin(VIN, rng)).astype(float)
        heights.add(pixels.shape[0])
        # The border is mostly background; compare it with the middle band, where the text is.
        border = np.concatenate((pixels[0], pixels[-1]))
        middle = pixels[pixels.shape[0] // 3 : 2 * pixels.shape[0] // 3]
        if np.percentile(middle, 10) < np.median(border) - 25:
            darker_text += 1
        if np.percentile(middle, 90) > np.median(border) + 25:
            lighter_text += 1
    assert darker_text >= 10 and lighter_text >= 5
    assert len(heights) >= 10


def _ink_line(width=170, height=34):
    """A mask of 17 character-like blocks and a sharp dark-on-light picture of it."""
    mask = np.zeros((height, width), dtype=np.float32)
    for index in range(17):
        mask[8:26, 4 + index * 9 : 10 + index * 9] = 1.0
    return mask, Image.fromarray((230 - 180 * mask).astype(np.uint8))


def test_legibility_is_high_for_sharp_ink_and_low_when_a_character_is_washed_out():
    mask, sharp = _ink_line()
    assert legibility(sharp, mask) > 10 * LEGIBLE_SCORE
    pixels = np.asarray(sharp, dtype=np.float32).copy()
    pixels[:, 76:86] = 228.0  # one character lost under a glare spot
    assert legibility(Image.fromarray(pixels.astype(np.uint8)), mask) < LEGIBLE_SCORE
    noisy = np.clip(np.asarray(sharp, dtype=np.float32) + np.random.default_rng(0).normal(0, 120, pixels.shape), 0, 255)
    assert legibility(Image.fromarray(noisy.astype(np.uint8)), mask) < legibility(sharp, mask) / 5
    assert legibility(sharp, np.zeros_like(mask)) == 0.0  # no ink at all: nothing to read


def test_an_illegible_render_is_painted_again_and_photographed_without_the_severe_effects(monkeypatch):
    budgets = []
    original = synthetic._camera

    def camera(image, cap, rng, np_rng, budget):
        budgets.append(budget.left)
        return original(image, cap, rng, np_rng, budget)

    monkeypatch.setattr(synthetic, "_camera", camera)
    monkeypatch.setattr(synthetic, "legibility", lambda picture, mask: 0.0)
    render_vin("1HGCM82633A004352", random.Random(3))
    # Never legible here: a bounded number of new paintings, each photographed gently, then kept.
    assert len(budgets) == 1 + synthetic.REPAINTS and budgets[1:] == [0] * synthetic.REPAINTS


def test_all_but_a_few_renders_end_legible(monkeypatch):
    finals = []
    original = synthetic.legibility

    def record(picture, mask):
        score = original(picture, mask)
        finals.append(score)
        return score

    monkeypatch.setattr(synthetic, "legibility", record)
    rng = random.Random(11)
    illegible = 0
    for _ in range(200):
        finals.clear()
        render_vin(random_vin(rng, north_american=rng.random() < 0.6), rng)
        illegible += finals[-1] < LEGIBLE_SCORE
    # Before repainting, and before measuring the visible part of each stroke, 16 % ended illegible.
    assert illegible <= 10, f"{illegible} of 200 renders illegible"


def test_one_render_costs_milliseconds_not_tens():
    import time

    rng = random.Random(4)
    for _ in range(30):
        render_vin(VIN, rng)  # glyph cache and font files warm
    start = time.perf_counter()
    for _ in range(50):
        render_vin(VIN, rng)
    per_image = (time.perf_counter() - start) / 50
    assert per_image < 0.025, f"{per_image * 1000:.1f} ms per render"  # about 2 ms on one idle core


# --- the robustness set: drawn unlike the renderer, one named condition at a time ---

from vin_ocr.data.robustness import CONDITIONS, render_unlike, robustness_suite  # noqa: E402


def test_robustness_suite_covers_every_condition_deterministically():
    suite = robustness_suite(seed=2, per_condition=3, height=32, width=160)
    again = robustness_suite(seed=2, per_condition=3, height=32, width=160)
    assert list(suite) == list(CONDITIONS)
    for condition, samples in suite.items():
        assert len(samples) == 3
        for (array, vin), (array_again, vin_again) in zip(samples, again[condition]):
            assert array.shape == (32, 160) and vin == vin_again and np.array_equal(array, array_again)
            assert is_valid_vin_syntax(vin)


def test_robustness_suite_uses_held_out_font_files_by_default():
    _, held = split_font_families()
    families = [family for family in held if not is_procedural(family)]
    rng = random.Random(0)
    image = render_unlike(VIN, rng, "clean", families[:1])
    assert image.mode == "L" and image.width > image.height * 5
    with pytest.raises(ValueError, match="unknown condition"):
        render_unlike(VIN, rng, "underwater")
    procedural_only = [family for family in font_families() if is_procedural(family)]
    with pytest.raises(ValueError, match="font-file family"):
        render_unlike(VIN, rng, "clean", procedural_only)


def test_each_condition_changes_the_clean_image():
    clean = _pixels(render_unlike(VIN, random.Random(1), "clean"))
    for condition in CONDITIONS:
        if condition == "clean":
            continue
        changed = _pixels(render_unlike(VIN, random.Random(1), condition))
        assert changed.shape != clean.shape or np.abs(changed.astype(int) - clean).mean() > 2, condition
