#!/usr/bin/env python3
"""Prepare the English-French Hansards for the word aligners (issue 17, word alignment).

Reads ../shared/data/hansards_en_fr (or --source; see its README) at run time; nothing of it
is copied into the repository. Writes to --out (created if missing):

  full.txt      the 50,533 training pairs then the 447 test pairs (test.ascii.*, accent-stripped
                like the training text), lowercased, one `french ||| english` pair a line, the
                test pairs last: the corpus scripts/bench/ibm1.py prepares (same bytes)
  small.txt     the first --small training pairs with at most --small-max tokens on both sides,
                then the same 447 test pairs: the corpus the featurised aligner can hold (its
                Logistic t(f | e) is a dense |F| x |E| table; see the README)
  *.fr, *.en    each corpus's two sides, one sentence a line (fast_align's and eflomal's input
                is made from them by hansards-alignment.sh)
In every file the test pairs are the last 447 lines, so a decoding's last 447 lines are scored.

With --logistic-init IN OUT, it instead rewrites IBM Model 1's params.json IN (a sparse or dense
Categorical `t`) as OUT with `t` a dense Logistic family of the same probabilities and no
weights (entries IBM Model 1 does not store are 0), for --init of models/hansards_hmm_features.em:
the first E-step reads IBM Model 1's probabilities and the first M-step fits the weights.

Deterministic: no randomness, output depends only on the input.

  python3 scripts/data/hansards.py --out target/data/hansards [--small 2000 --small-max 10]
  python3 scripts/data/hansards.py --logistic-init ibm1/params.json ibm1/logistic.json
"""

import argparse
import json
import pathlib
import sys

REPO = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_SOURCE = REPO.parent / "shared" / "data" / "hansards_en_fr"
TEST_PAIRS = 447


def read(source, *names):
    rows = []
    for n in names:
        rows.extend((source / n).read_text(encoding="utf-8").splitlines())
    return rows


def pairs(source):
    """(training pairs, test pairs), each a list of (french, english) lowercased strings."""
    fr = read(source, "hansard36.50k.tok.f")
    en = read(source, "hansard36.50k.tok.e")
    tf = read(source, "test.ascii.f")
    te = read(source, "test.ascii.e")
    if len(fr) != len(en) or len(tf) != len(te) or len(tf) != TEST_PAIRS:
        raise ValueError("the two sides of the Hansards do not have the same number of lines")
    norm = lambda s: " ".join(s.lower().split())  # noqa: E731
    return ([(norm(a), norm(b)) for a, b in zip(fr, en)],
            [(norm(a), norm(b)) for a, b in zip(tf, te)])


def write(out, name, rows):
    with open(out / f"{name}.txt", "w", encoding="utf-8") as f:
        f.writelines(f"{a} ||| {b}\n" for a, b in rows)
    with open(out / f"{name}.fr", "w", encoding="utf-8") as f:
        f.writelines(f"{a}\n" for a, _ in rows)
    with open(out / f"{name}.en", "w", encoding="utf-8") as f:
        f.writelines(f"{b}\n" for _, b in rows)


def small(train, n, max_len):
    short = [p for p in train if max(len(p[0].split()), len(p[1].split())) <= max_len]
    return short[:n]


def logistic_init(src, dst):
    doc = json.loads(pathlib.Path(src).read_text(encoding="utf-8"))
    symbols = {d["name"]: d["symbols"] for d in doc["domains"]}
    for fam in doc["families"]:
        if fam["name"] != "t":
            continue
        outs = {s: k for k, s in enumerate(symbols[fam["outcome"]])}
        conds = symbols[fam["conditions"][0]]
        if fam.get("sparse"):
            rows = {r["condition"][0]: r for r in fam["sparse"]}
            values = []
            for c in conds:
                row = [0] * len(outs)
                r = rows.get(c)
                if r is not None:
                    for o, v in zip(r["outcomes"], r["values"]):
                        row[outs[o]] = v
                values.append(row)
            fam["values"] = values
            del fam["sparse"]
        fam["kind"] = "Logistic"
        fam["weights"] = []
    with open(dst, "w", encoding="utf-8") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--source", type=pathlib.Path, default=DEFAULT_SOURCE)
    ap.add_argument("--out", type=pathlib.Path)
    ap.add_argument("--small", type=int, default=2000, help="training pairs in small.txt")
    ap.add_argument("--small-max", type=int, default=10, help="their longest side, in tokens")
    ap.add_argument("--logistic-init", nargs=2, metavar=("IN", "OUT"))
    a = ap.parse_args(argv)
    if a.logistic_init:
        logistic_init(*a.logistic_init)
        return
    if a.out is None:
        ap.error("--out is required")
    try:
        train, test = pairs(a.source)
    except (OSError, ValueError) as error:
        sys.exit(f"hansards.py: {error}")
    a.out.mkdir(parents=True, exist_ok=True)
    write(a.out, "full", train + test)
    s = small(train, a.small, a.small_max)
    write(a.out, "small", s + test)
    print(f"full.txt: {len(train)} training + {len(test)} test pairs; small.txt: {len(s)} "
          f"training pairs of at most {a.small_max} tokens a side + {len(test)} test pairs")


if __name__ == "__main__":
    main()
