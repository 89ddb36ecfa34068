"""Labelled datasets: every way a labels file goes wrong is reported with file and line."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vin_ocr.data.labels import DatasetError, LabelledImages, load_labelled

VIN = "1M8GDM9AXKP042788"
OTHER = "WVWZZZ1JZ3W386752"
FIXTURES = Path(__file__).parent / "data_fixtures" / "tiny_vins"


def _image(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("L", (120, 24), 200).save(path)


def _dataset(tmp_path: Path, content: bytes, images=("img/a.png", "img/b.png")) -> Path:
    for name in images:
        _image(tmp_path / name)
    labels = tmp_path / "labels.txt"
    labels.write_bytes(content)
    return labels


def _codes(issues):
    return [(issue.line, issue.code) for issue in issues]


def test_a_clean_labels_file_loads_with_paths_relative_to_it(tmp_path):
    labels = _dataset(tmp_path, f"img/a.png\t{VIN}\nimg/b.png\t{OTHER}\n".encode())
    data = load_labelled(labels)
    assert data.rows == [(tmp_path / "img/a.png", VIN), (tmp_path / "img/b.png", OTHER)]
    assert data.issues == [] and data.skipped == 0


def test_a_folder_with_labels_txt_is_accepted(tmp_path):
    _dataset(tmp_path, f"img/a.png\t{VIN}\n".encode())
    assert load_labelled(tmp_path).rows == [(tmp_path / "img/a.png", VIN)]


def test_lower_case_bom_and_crlf_are_repaired_with_warnings(tmp_path):
    labels = _dataset(tmp_path, b"\xef\xbb\xbfimg/a.png\t" + VIN.lower().encode() + b"\r\nimg/b.png\t" + OTHER.encode() + b"\r\n")
    data = load_labelled(labels)
    assert [vin for _, vin in data.rows] == [VIN, OTHER]
    assert sorted(_codes(data.warnings)) == [(1, "bom"), (1, "crlf"), (1, "lower_case")]
    assert data.errors == [] and data.skipped == 0
    assert str(data.warnings[0]).startswith(f"{labels}:1: ")


def test_blank_lines_are_reported_and_ignored(tmp_path):
    labels = _dataset(tmp_path, f"img/a.png\t{VIN}\n\n   \nimg/b.png\t{OTHER}\n".encode())
    data = load_labelled(labels)
    assert len(data.rows) == 2
    assert _codes(data.warnings) == [(2, "blank_line"), (3, "blank_line")]


@pytest.mark.parametrize(
    "line, code, words",
    [
        (f"img/a.png\t{VIN[:-1]}", "wrong_length", "16 characters"),
        (f"img/a.png\t{VIN}9", "wrong_length", "18 characters"),
        (f"img/a.png\t{VIN[:-1]}O", "invalid_characters", "never use I, O or Q"),
        (f"img/a.png\tI{VIN[1:]}", "invalid_characters", "'I'"),
        (f"img/a.png\t{VIN[:-1]}-", "invalid_characters", "'-'"),
        ("img/a.png\t", "empty_label", "empty"),
        (f"img/a.png {VIN}", "missing_tab", "not spaces"),
        (f"img/a.png\t{VIN}\textra", "too_many_fields", "one tab"),
        (f"img/missing.png\t{VIN}", "missing_image", "not found"),
        (f"../outside.png\t{VIN}", "path_outside_dataset", "outside"),
        (f"/etc/passwd\t{VIN}", "path_outside_dataset", "relative"),
        (f"img/../../outside.png\t{VIN}", "path_outside_dataset", "outside"),
    ],
)
def test_each_bad_row_fails_the_load_with_its_line(tmp_path, line, code, words):
    labels = _dataset(tmp_path, f"img/b.png\t{OTHER}\n{line}\n".encode())
    with pytest.raises(DatasetError) as raised:
        load_labelled(labels)
    errors = [issue for issue in raised.value.issues if issue.severity == "error"]
    assert _codes(errors) == [(2, code)]
    assert words in errors[0].message
    assert f"{labels}:2: " in str(raised.value)


def test_skip_mode_keeps_good_rows_and_counts_the_bad(tmp_path):
    content = f"img/a.png\t{VIN}\nimg/b.png\t{OTHER[:-1]}\nno tab here\nimg/a.png\t{VIN}\nimg/missing.png\t{VIN}\n"
    data = load_labelled(_dataset(tmp_path, content.encode()), on_bad_rows="skip")
    assert data.rows == [(tmp_path / "img/a.png", VIN)]
    assert data.skipped == 4
    assert _codes(data.errors) == [(2, "wrong_length"), (3, "missing_tab"), (4, "duplicate_row"), (5, "missing_image")]
    assert "1 rows, 4 skipped" in data.summary()


def test_the_same_image_with_two_labels_is_a_conflict(tmp_path):
    labels = _dataset(tmp_path, f"img/a.png\t{VIN}\nimg/a.png\t{OTHER}\n".encode())
    with pytest.raises(DatasetError) as raised:
        load_labelled(labels)
    assert _codes(raised.value.issues) == [(2, "conflicting_label")]
    assert "line 1" in raised.value.issues[0].message


def test_corrupt_and_truncated_images_are_caught(tmp_path):
    labels = _dataset(tmp_path, f"img/a.png\t{VIN}\nimg/bad.png\t{VIN}\nimg/cut.png\t{OTHER}\n".encode())
    (tmp_path / "img/bad.png").write_bytes(b"this is not a picture")
    whole = (tmp_path / "img/a.png").read_bytes()
    Image.new("RGB", (300, 80), (10, 200, 30)).save(tmp_path / "img/cut.png")
    cut = (tmp_path / "img/cut.png").read_bytes()
    (tmp_path / "img/cut.png").write_bytes(cut[: len(cut) // 2])
    assert whole  # the good image stays readable
    data = load_labelled(labels, on_bad_rows="skip")
    assert _codes(data.errors) == [(2, "corrupt_image"), (3, "corrupt_image")]
    assert data.skipped == 2 and len(data.rows) == 1


def test_a_truncated_jpeg_is_caught(tmp_path):
    labels = _dataset(tmp_path, f"img/a.png\t{VIN}\nimg/photo.jpg\t{OTHER}\n".encode())
    noise = np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    Image.fromarray(noise).save(tmp_path / "img/photo.jpg", quality=90)
    whole = (tmp_path / "img/photo.jpg").read_bytes()
    (tmp_path / "img/photo.jpg").write_bytes(whole[: len(whole) // 2])
    data = load_labelled(labels, on_bad_rows="skip")
    assert _codes(data.errors) == [(2, "corrupt_image")]
    assert "truncated" in data.errors[0].message


def test_undecodable_text_is_reported_per_line(tmp_path):
    labels = _dataset(tmp_path, f"img/a.png\t{VIN}\n".encode() + b"img/b.png\t\xff\xfe\n")
    data = load_labelled(labels, on_bad_rows="skip")
    assert _codes(data.errors) == [(2, "not_utf8")]


def test_a_dataset_with_no_usable_rows_always_fails(tmp_path):
    labels = _dataset(tmp_path, f"img/a.png\t{VIN[:5]}\n".encode())
    with pytest.raises(DatasetError, match="no usable rows"):
        load_labelled(labels, on_bad_rows="skip")
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(DatasetError, match="holds no rows"):
        load_labelled(empty)


def test_metadata_jsonl_folder(tmp_path):
    _image(tmp_path / "a.png")
    _image(tmp_path / "b.png")
    (tmp_path / "metadata.jsonl").write_text(
        f'{{"file_name": "a.png", "text": "{VIN}"}}\n'
        '{"file_name": "b.png"}\n'
        "not json\n"
        '["a list"]\n'
        f'{{"file_name": "b.png", "text": "{OTHER.lower()}"}}\n'
    )
    data = load_labelled(tmp_path, on_bad_rows="skip")
    assert data.rows == [(tmp_path / "a.png", VIN), (tmp_path / "b.png", OTHER)]
    assert _codes(data.errors) == [(2, "missing_field"), (3, "invalid_json"), (4, "invalid_record")]
    assert _codes(data.warnings) == [(5, "lower_case")]


def test_metadata_csv_folder_with_line_numbers(tmp_path):
    _image(tmp_path / "a.png")
    _image(tmp_path / "b.png")
    (tmp_path / "metadata.csv").write_text(f'file_name,text\na.png,{VIN}\nb.png,{OTHER}Q\n\n"b.png",{OTHER}\n')
    data = load_labelled(tmp_path, on_bad_rows="skip")
    assert [vin for _, vin in data.rows] == [VIN, OTHER]
    assert _codes(data.errors) == [(3, "invalid_characters")]
    assert _codes(data.warnings) == [(4, "blank_line")]


def test_metadata_csv_without_the_columns(tmp_path):
    _image(tmp_path / "a.png")
    (tmp_path / "metadata.csv").write_text(f"path,label\na.png,{VIN}\n")
    with pytest.raises(DatasetError, match="file_name, text"):
        load_labelled(tmp_path)


def test_a_dataset_root_with_split_folders_names_them(tmp_path):
    _dataset(tmp_path / "train", f"img/a.png\t{VIN}\n".encode())
    (tmp_path / "train" / "labels.txt").rename(tmp_path / "train" / "train_labels.txt")
    with pytest.raises(DatasetError, match="train/train_labels.txt in subfolders"):
        load_labelled(tmp_path)
    assert load_labelled(tmp_path / "train").rows == [(tmp_path / "train/img/a.png", VIN)]


def test_a_folder_without_labels_and_a_missing_path(tmp_path):
    with pytest.raises(DatasetError, match="no labels in this folder"):
        load_labelled(tmp_path)
    with pytest.raises(DatasetError, match="no such file"):
        load_labelled(tmp_path / "nowhere.txt")
    with pytest.raises(ValueError, match="on_bad_rows"):
        load_labelled(tmp_path, on_bad_rows="ignore")


def test_labelled_images_yield_model_inputs(tmp_path):
    labels = _dataset(tmp_path, f"img/a.png\t{VIN}\nimg/b.png\t{OTHER}\n".encode())
    dataset = LabelledImages(load_labelled(labels), height=32, width=128)
    assert len(dataset) == 2
    array, vin = dataset[1]
    assert array.shape == (32, 128) and vin == OTHER


def test_the_shipped_fixture_dataset_loads_in_all_three_forms():
    by_labels = load_labelled(FIXTURES / "labels.txt")
    by_jsonl = load_labelled(FIXTURES)  # metadata.jsonl wins over the others, which are noted
    by_csv = load_labelled(FIXTURES / "metadata.csv")
    assert len(by_labels.rows) >= 6
    assert by_labels.rows == by_jsonl.rows == by_csv.rows
    assert {issue.code for issue in by_jsonl.issues} == {"ignored_labels_file"}


# --- to_model_input: the one preparation every real image (and every render) goes through ---

from vin_ocr.data.preprocess import to_model_input  # noqa: E402


def _half_dark(width: int, height: int, dark: int = 0, light: int = 220) -> Image.Image:
    """Light image whose top half is dark: the number of dark rows shows the vertical scale."""
    image = Image.new("L", (width, height), light)
    image.paste(dark, (0, 0, width, height // 2))
    return image


def _dark_rows(array):
    return int((array < 0.5).any(axis=1).sum())


def _dark_columns(array):
    return int((array < 0.5).any(axis=0).sum())


def test_model_input_is_float32_in_unit_range():
    array = to_model_input(_half_dark(200, 40).convert("RGB"), 32, 160)
    assert array.shape == (32, 160) and array.dtype.name == "float32"
    assert array.min() == 0.0 and array.max() == 1.0


def test_a_short_line_keeps_its_aspect_and_is_padded_with_background():
    array = to_model_input(_half_dark(80, 32), 32, 160)
    assert _dark_columns(array) == 80 and _dark_rows(array) == 16
    label = Image.new("L", (80, 32), 220)
    label.paste(0, (10, 8, 70, 24))  # dark text on a light label
    padded = to_model_input(label, 32, 160)
    assert (padded[:, 80:] == 1.0).all()  # padding = the border's median (light), not a black bar


def test_a_long_line_is_narrowed_before_it_loses_height():
    twice_too_wide = to_model_input(_half_dark(320, 32), 32, 160)
    assert _dark_rows(twice_too_wide) == 16 and _dark_columns(twice_too_wide) == 160
    three_times = to_model_input(_half_dark(480, 32), 32, 160)
    assert _dark_rows(three_times) == 10  # 2× narrower, then shrunk to 2/3
    exact_aspect = to_model_input(_half_dark(320, 32), 32, 160, max_squeeze=1.0)
    assert _dark_rows(exact_aspect) == 8


def test_low_contrast_is_stretched_but_a_flat_image_is_not():
    faint = to_model_input(_half_dark(160, 32, dark=120, light=140), 32, 160)
    assert faint.min() == 0.0 and faint.max() == 1.0
    flat = to_model_input(Image.new("L", (160, 32), 128), 32, 160)
    assert abs(float(flat.mean()) - 128 / 255) < 1e-6


def test_exif_orientation_is_applied(tmp_path):
    upright = _half_dark(160, 32)
    rotated = upright.rotate(90, expand=True)  # what a phone stores, with an EXIF tag to undo it
    exif = Image.Exif()
    exif[0x0112] = 8  # "rotate 90° clockwise to display"
    rotated.save(tmp_path / "photo.jpg", exif=exif, quality=95)
    with Image.open(tmp_path / "photo.jpg") as photo:
        array = to_model_input(photo, 32, 160)
    assert 14 <= _dark_rows(array) <= 18 and _dark_columns(array) > 150


def test_transparent_and_16_bit_images_are_read_sensibly():
    transparent = Image.new("RGBA", (160, 32), (0, 0, 0, 0))  # black but fully transparent
    transparent.paste((0, 0, 0, 255), (0, 0, 160, 16))  # opaque black text area on top
    assert _dark_rows(to_model_input(transparent, 32, 160)) == 16  # the transparent part reads as white
    deep = Image.fromarray(np.full((32, 160), 60000, dtype=np.uint16))
    deep.paste(1000, (0, 0, 160, 16))
    assert _dark_rows(to_model_input(deep, 32, 160)) == 16  # scaled, not clipped to white


def test_bad_sizes_are_clear_errors():
    with pytest.raises(ValueError, match="positive"):
        to_model_input(_half_dark(10, 10), 0, 160)
    with pytest.raises(ValueError, match="max_squeeze"):
        to_model_input(_half_dark(10, 10), 32, 160, max_squeeze=0.5)
