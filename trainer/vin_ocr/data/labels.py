"""Labelled VIN datasets: reading them, and checking every row before training starts.

Accepted forms (paths inside are relative to the folder of the file that names them):
- a `labels.txt`-style file: one `relative/path<TAB>VIN` per line (the existing vin_ocr project's
  `train/train_labels.txt` and PaddleOCR use this);
- a folder holding `metadata.jsonl` or `metadata.csv` with `file_name` and `text` (the Hugging Face
  imagefolder convention), or holding a `labels.txt` / `*_labels.txt`.

Every problem becomes a `DatasetIssue` with file and line. Errors make a row bad; `on_bad_rows`
decides whether bad rows fail the load (`DatasetError`) or are skipped and counted. Warnings
(lower case, BOM, CRLF, blank lines) never drop a row: the row is repaired and kept.
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

from PIL import Image, UnidentifiedImageError

from ..vin import ALPHABET, VIN_LENGTH, normalise_label

try:  # The checks work without torch (the extension validates datasets before any training).
    from torch.utils.data import Dataset as _DatasetBase
except ImportError:  # pragma: no cover - torch is installed wherever training runs
    _DatasetBase = object  # type: ignore[misc,assignment]

ON_BAD_ROWS = ("fail", "skip")
METADATA_FILES = ("metadata.jsonl", "metadata.csv")
_BOM = b"\xef\xbb\xbf"
_ALPHABET_SET = frozenset(ALPHABET)


@dataclass(frozen=True)
class DatasetIssue:
    """One problem found in a dataset. `line` is 1-based; 0 means the file as a whole."""

    file: str
    line: int
    code: str
    message: str
    severity: str = "error"  # "error" makes the row bad; "warning" is repaired and reported

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line > 0 else self.file
        return f"{where}: {self.message}"


class DatasetError(Exception):
    """A dataset that cannot be used as it is; `issues` lists every problem found (errors first)."""

    def __init__(self, issues: Sequence[DatasetIssue]):
        self.issues = list(issues)
        errors = [issue for issue in self.issues if issue.severity == "error"]
        shown = errors[:10]
        more = f"\n… and {len(errors) - len(shown)} more" if len(errors) > len(shown) else ""
        super().__init__(f"invalid dataset: {len(errors)} problem(s)\n" + "\n".join(str(issue) for issue in shown) + more)


@dataclass
class LabelledData:
    """Checked rows `(absolute image path, VIN)`, every issue found, and how many rows were skipped."""

    source: Path
    rows: List[Tuple[Path, str]] = field(default_factory=list)
    issues: List[DatasetIssue] = field(default_factory=list)
    skipped: int = 0

    @property
    def errors(self) -> List[DatasetIssue]:
        return [issue for issue in self.issues if issue.severity == "error"]

    @property
    def warnings(self) -> List[DatasetIssue]:
        return [issue for issue in self.issues if issue.severity == "warning"]

    def summary(self) -> str:
        return f"{self.source}: {len(self.rows)} rows, {self.skipped} skipped, {len(self.errors)} error(s), {len(self.warnings)} warning(s)"


@dataclass(frozen=True)
class _RawRow:
    """A row as read from the labels file, before its label and image are checked."""

    line: int
    file_name: str
    text: str


class _Collector:
    """Gathers issues for one labels file."""

    def __init__(self, file: Path):
        self.file = str(file)
        self.issues: List[DatasetIssue] = []

    def error(self, line: int, code: str, message: str) -> None:
        self.issues.append(DatasetIssue(self.file, line, code, message, "error"))

    def warning(self, line: int, code: str, message: str) -> None:
        self.issues.append(DatasetIssue(self.file, line, code, message, "warning"))


def load_labelled(path: Union[str, Path], on_bad_rows: str = "fail", check_images: bool = True) -> LabelledData:
    """Read and check a labelled dataset (see the module docstring for the accepted forms).

    Raises `DatasetError` when `on_bad_rows == "fail"` and any row is bad, and in either mode when
    no usable row is left. `check_images=False` skips decoding every image (existence is still checked).
    """
    if on_bad_rows not in ON_BAD_ROWS:
        raise ValueError(f"on_bad_rows must be one of {', '.join(ON_BAD_ROWS)}, got {on_bad_rows!r}")
    labels_file, notes = _find_labels_file(Path(path))
    collector = _Collector(labels_file)
    collector.issues.extend(notes)
    raw_rows = _read_raw_rows(labels_file, collector)

    data = LabelledData(source=labels_file)
    base = labels_file.parent
    seen: Dict[str, Tuple[int, str]] = {}
    for raw in raw_rows:
        row = _check_row(raw, base, seen, collector, check_images)
        if row is not None:
            data.rows.append(row)

    # A bad row is any line with an error, whether it failed parsing (no tab, bad JSON) or checking.
    data.skipped = len({issue.line for issue in collector.issues if issue.severity == "error" and issue.line > 0})
    data.issues = sorted(collector.issues, key=lambda issue: (issue.severity != "error", issue.line))
    if data.errors and on_bad_rows == "fail":
        raise DatasetError(data.issues)
    if not data.rows:
        reason = "every row is bad" if raw_rows else "it holds no rows"
        empty = DatasetIssue(str(labels_file), 0, "empty_dataset", f"no usable rows: {reason}")
        raise DatasetError([empty] + data.issues)
    return data


def _find_labels_file(path: Path) -> Tuple[Path, List[DatasetIssue]]:
    if not path.exists():
        raise DatasetError([DatasetIssue(str(path), 0, "not_found", "no such file or folder")])
    if path.is_file():
        return path, []
    candidates = [path / name for name in METADATA_FILES] + [path / "labels.txt"]
    candidates += sorted(candidate for candidate in path.glob("*_labels.txt") if candidate.is_file())
    present = [candidate for candidate in candidates if candidate.is_file()]
    if not present:
        message = "no labels in this folder: expected metadata.jsonl, metadata.csv, labels.txt or *_labels.txt"
        # The existing vin_ocr layout keeps train/, val/ and test/ side by side: name what is there.
        nested = sorted(
            str(found.relative_to(path))
            for pattern in ("*/*labels.txt", "*/metadata.jsonl", "*/metadata.csv")
            for found in path.glob(pattern)
        )
        if nested:
            message += f"; found {', '.join(nested[:4])} in subfolders: point the config at one of those"
        raise DatasetError([DatasetIssue(str(path), 0, "no_labels_file", message)])
    chosen = present[0]
    notes = [
        DatasetIssue(str(other), 0, "ignored_labels_file", f"ignored: {chosen.name} in the same folder is used", "warning")
        for other in present[1:]
    ]
    return chosen, notes


def _decoded_lines(labels_file: Path, collector: _Collector) -> Iterator[Tuple[int, str]]:
    """Lines of the file with their 1-based numbers; BOM, CRLF and undecodable lines reported."""
    try:
        content = labels_file.read_bytes()
    except OSError as error:
        raise DatasetError([DatasetIssue(str(labels_file), 0, "unreadable_file", f"cannot read: {error.strerror}")]) from error
    if content.startswith(_BOM):
        collector.warning(1, "bom", "starts with a UTF-8 byte-order mark (BOM); it was ignored")
        content = content[len(_BOM) :]
    lines = content.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()  # the newline that ends the last line does not start another
    crlf_lines = [number for number, line in enumerate(lines, start=1) if line.endswith(b"\r")]
    if crlf_lines:
        collector.warning(crlf_lines[0], "crlf", f"Windows line endings (CRLF) on {len(crlf_lines)} line(s); they were accepted")
    for number, line in enumerate(lines, start=1):
        try:
            yield number, line.rstrip(b"\r").decode("utf-8")
        except UnicodeDecodeError:
            collector.error(number, "not_utf8", "this line is not UTF-8 text")


def _read_raw_rows(labels_file: Path, collector: _Collector) -> List[_RawRow]:
    suffix = labels_file.suffix.lower()
    lines = list(_decoded_lines(labels_file, collector))
    if suffix == ".jsonl":
        return _jsonl_rows(lines, collector)
    if suffix == ".csv":
        return _csv_rows(lines, collector)
    return _tab_rows(lines, collector)


def _report_blank(number: int, collector: _Collector) -> None:
    collector.warning(number, "blank_line", "blank line ignored")


def _tab_rows(lines: List[Tuple[int, str]], collector: _Collector) -> List[_RawRow]:
    rows: List[_RawRow] = []
    for number, line in lines:
        if not line.strip():
            _report_blank(number, collector)
            continue
        fields = line.split("\t")
        if len(fields) == 1:
            hint = " (the separator must be a tab, not spaces)" if " " in line.strip() else ""
            collector.error(number, "missing_tab", f"expected `image/path<TAB>VIN`, found no tab{hint}")
            continue
        if len(fields) > 2:
            collector.error(number, "too_many_fields", f"expected one tab, found {len(fields) - 1}")
            continue
        rows.append(_RawRow(number, fields[0], fields[1]))
    return rows


def _jsonl_rows(lines: List[Tuple[int, str]], collector: _Collector) -> List[_RawRow]:
    rows: List[_RawRow] = []
    for number, line in lines:
        if not line.strip():
            _report_blank(number, collector)
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            collector.error(number, "invalid_json", f"not valid JSON: {error.msg}")
            continue
        row = _record_row(number, record, collector)
        if row is not None:
            rows.append(row)
    return rows


def _csv_rows(lines: List[Tuple[int, str]], collector: _Collector) -> List[_RawRow]:
    # The csv module skips blank lines silently; report them like the other formats do.
    for number, line in lines:
        if not line.strip():
            _report_blank(number, collector)
    lines = [(number, line) for number, line in lines if line.strip()]
    if not lines:
        return []
    text = "\n".join(line for _, line in lines)
    numbers = [number for number, _ in lines]
    reader = csv.DictReader(io.StringIO(text, newline=""))
    fieldnames = [name.strip() for name in (reader.fieldnames or [])]
    missing = [name for name in ("file_name", "text") if name not in fieldnames]
    if missing:
        collector.error(numbers[0], "missing_column", f"the header lacks column(s) {', '.join(missing)}")
        return []
    reader.fieldnames = fieldnames
    rows: List[_RawRow] = []
    for record in reader:
        # line_num counts physical lines read so far, so a quoted multi-line field keeps numbers right.
        number = numbers[min(reader.line_num, len(numbers)) - 1]
        row = _record_row(number, record, collector)
        if row is not None:
            rows.append(row)
    return rows


def _record_row(number: int, record: object, collector: _Collector) -> Optional[_RawRow]:
    if not isinstance(record, dict):
        collector.error(number, "invalid_record", "expected an object with file_name and text")
        return None
    file_name, text = record.get("file_name"), record.get("text")
    for key, value in (("file_name", file_name), ("text", text)):
        if value is None:
            collector.error(number, "missing_field", f"no {key}")
            return None
        if not isinstance(value, str):
            collector.error(number, "invalid_field", f"{key} must be text, got {type(value).__name__}")
            return None
    assert isinstance(file_name, str) and isinstance(text, str)
    return _RawRow(number, file_name, text)


def _check_label(raw: _RawRow, collector: _Collector) -> Optional[str]:
    label = normalise_label(raw.text)
    if not label:
        collector.error(raw.line, "empty_label", "the VIN is empty")
        return None
    if label != raw.text.strip():
        collector.warning(raw.line, "lower_case", f"lower-case VIN {raw.text.strip()!r} read as {label}")
    bad = sorted({char for char in label if char not in _ALPHABET_SET})
    if bad:
        shown = ", ".join(repr(char) for char in bad)
        hint = ""
        if set(bad) & {"I", "O", "Q"}:
            hint = " (VINs never use I, O or Q: a 1 or 0 was probably meant)"
        collector.error(raw.line, "invalid_characters", f"VIN {label!r} contains {shown}{hint}")
        return None
    if len(label) != VIN_LENGTH:
        collector.error(raw.line, "wrong_length", f"VIN {label!r} has {len(label)} characters, not {VIN_LENGTH}")
        return None
    return label


def _resolve_image(raw: _RawRow, base: Path, collector: _Collector) -> Optional[Path]:
    name = raw.file_name.strip().replace("\\", "/")
    if not name:
        collector.error(raw.line, "empty_path", "the image path is empty")
        return None
    if os.path.isabs(name) or Path(name).drive:
        collector.error(raw.line, "path_outside_dataset", f"{name}: image paths must be relative to {base}")
        return None
    joined = os.path.normpath(os.path.join(base, name))
    if os.path.commonpath([joined, os.path.normpath(base)]) != os.path.normpath(base):
        collector.error(raw.line, "path_outside_dataset", f"{name} points outside the dataset folder {base}")
        return None
    return Path(joined)


def _check_image(image_path: Path, raw: _RawRow, collector: _Collector, decode: bool) -> bool:
    if not image_path.is_file():
        collector.error(raw.line, "missing_image", f"image not found: {raw.file_name.strip()}")
        return False
    if not decode:
        return True
    try:
        with Image.open(image_path) as image:
            # JPEGs decode at 1/8 scale here: several times faster, and a truncated stream still fails.
            image.draft("L", (max(1, image.width // 8), max(1, image.height // 8)))
            image.load()  # decoding the pixels is what catches truncated files
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        collector.error(raw.line, "corrupt_image", f"cannot decode image {raw.file_name.strip()}: {error}")
        return False
    return True


def _check_row(
    raw: _RawRow,
    base: Path,
    seen: Dict[str, Tuple[int, str]],
    collector: _Collector,
    check_images: bool,
) -> Optional[Tuple[Path, str]]:
    label = _check_label(raw, collector)
    image_path = _resolve_image(raw, base, collector)
    if label is None or image_path is None:
        return None
    key = str(image_path)
    if key in seen:
        first_line, first_label = seen[key]
        if first_label == label:
            collector.error(raw.line, "duplicate_row", f"repeats line {first_line} ({raw.file_name.strip()})")
        else:
            collector.error(
                raw.line,
                "conflicting_label",
                f"{raw.file_name.strip()} is labelled {label} here but {first_label} on line {first_line}",
            )
        return None
    if not _check_image(image_path, raw, collector, check_images):
        return None
    seen[key] = (raw.line, label)
    return image_path, label


class LabelledImages(_DatasetBase):
    """A map-style torch Dataset of `(float32 array [height, width], VIN)` from checked rows."""

    def __init__(self, data: LabelledData, height: int, width: int):
        self.rows = list(data.rows)
        self.height = height
        self.width = width

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int):  # -> Tuple[np.ndarray, str]
        from .preprocess import to_model_input

        image_path, vin = self.rows[index]
        try:
            with Image.open(image_path) as image:
                return to_model_input(image, self.height, self.width), vin
        except (OSError, UnidentifiedImageError) as error:
            raise DatasetError(
                [DatasetIssue(str(image_path), 0, "unreadable_image", f"cannot read image during training: {error}")]
            ) from error
