"""Re-creates `tiny_vins/`: eight rendered VINs in the three label formats the trainer reads.

Run from the repository root: `.venv/bin/python trainer/tests/data_fixtures/make_tiny_vins.py`.
The images come from the procedural faces only, so they look the same on every machine.
"""

import json
import random
from pathlib import Path

from vin_ocr.data.fonts import font_families, is_procedural
from vin_ocr.data.synthetic import render_vin
from vin_ocr.vin import random_vin

HERE = Path(__file__).resolve().parent / "tiny_vins"


def main() -> None:
    rng = random.Random(2024)
    procedural = [family for family in font_families() if is_procedural(family)]
    HERE.joinpath("images").mkdir(parents=True, exist_ok=True)
    rows = []
    for index in range(8):
        vin = random_vin(rng, north_american=index % 2 == 0)
        image = render_vin(vin, rng, fonts=procedural)
        name = f"images/vin_{index:02d}.{'png' if index < 4 else 'jpg'}"
        image.save(HERE / name, quality=80) if name.endswith("jpg") else image.save(HERE / name)
        rows.append((name, vin))
    (HERE / "labels.txt").write_text("".join(f"{name}\t{vin}\n" for name, vin in rows))
    (HERE / "metadata.jsonl").write_text("".join(json.dumps({"file_name": n, "text": v}) + "\n" for n, v in rows))
    (HERE / "metadata.csv").write_text("file_name,text\n" + "".join(f"{n},{v}\n" for n, v in rows))


if __name__ == "__main__":
    main()
