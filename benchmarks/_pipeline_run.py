"""One whole process of the baseline: `transformers.pipeline("text-classification", batch_size=32)` over a CoLA TSV.

Run by batch_scoring.py as a subprocess, beside `python -m explorer evaluate` on
the same file: ``_pipeline_run.py MODEL_DIR TSV OUT_JSON``. Writes P(class 1) per
sentence and the seconds spent in the pipeline call.
"""

import csv
import json
import sys
import time

from transformers import pipeline


def main(model_dir: str, tsv: str, out: str) -> None:
    with open(tsv, encoding="utf-8", newline="") as f:
        texts = [row["sentence"] for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)]
    pipe = pipeline("text-classification", model=model_dir, device=-1, top_k=None)
    t = time.perf_counter()
    answers = pipe(texts, batch_size=32, truncation=True)
    seconds = time.perf_counter() - t
    p1 = [next(d["score"] for d in a if d["label"].endswith("1")) for a in answers]
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"p1": p1, "seconds": seconds}, f)


if __name__ == "__main__":
    main(*sys.argv[1:4])
