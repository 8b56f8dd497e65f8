"""Write the bundled sample from a fixed seed.

Run from anywhere: ``python data/sample/make_sample.py``. It writes
``township.csv`` (UTF-8 with a byte-order mark, as spreadsheet programs save CSV)
and ``township_planted.csv``, the list of problems planted in it. The same seed
always gives the same bytes; a test checks this.
"""

from pathlib import Path

import pandas as pd

from analysis import synthetic

SEED = 20240601


def main() -> list[Path]:
    here = Path(__file__).resolve().parent
    frame = synthetic.township(seed=SEED)
    table, truth = here / "township.csv", here / "township_planted.csv"
    table.write_bytes(synthetic.printed(frame).to_csv(index=False, lineterminator="\n").encode("utf-8-sig"))
    truth.write_bytes(pd.DataFrame(frame.attrs["planted"]).to_csv(index=False, lineterminator="\n").encode("utf-8"))
    return [table, truth]


if __name__ == "__main__":
    for p in main():
        print(p)
