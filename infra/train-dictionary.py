#!/usr/bin/env python3
"""Trains the zstd dictionary the embedded table compresses item bodies with.

    infra/train-dictionary.py OUT.zdict DATA.sqlite3 [DATA.sqlite3 ...]

Reads the bodies of every row of the given embedded data files (`crm.sqlite3`), scrambles
every value in them, and trains a dictionary on what is left: attribute names, the shapes
of values (ids, times, e-mail addresses, phone numbers) and enumerated words (statuses,
labels, event types). No one's data ends up in the dictionary, and it does not learn the
training data's own names, so its gain is what any company's items get.

The committed `shared/core/src/table/items-2.zdict` was made from the load benchmark's
seeded file (`BENCH_CONTACTS=20000 BENCH_HOLD=1 cargo bench -p crm --bench load`). Stored
bodies name their dictionary by their format byte: never replace a committed dictionary;
add the next format beside it. Needs the `zstandard` package (infra/requirements-dev.txt).
"""

import json
import os
import random
import sqlite3
import string
import sys

import zstandard

DICT_SIZE = int(os.environ.get("DICT_SIZE", 16 * 1024))
# Bodies shorter than this are stored uncompressed (COMPRESS_FROM in sqlite.rs).
SHORTEST = 32
PER_KIND = 4000
LEVEL = 3


def scramble_text(text: str, rng: random.Random) -> str:
    # Enumerated words (an event type, a status, a label) are structure; keep them.
    if text and all(c in string.ascii_lowercase + "._-/" for c in text) and len(text) <= 32:
        return text
    out = []
    for c in text:
        if c.isdigit():
            out.append(rng.choice(string.digits))
        elif c in string.ascii_lowercase:
            out.append(rng.choice(string.ascii_lowercase))
        elif c in string.ascii_uppercase:
            out.append(rng.choice(string.ascii_uppercase))
        elif "\u4e00" <= c <= "\u9fff":
            out.append(chr(rng.randint(0x4E00, 0x9FFF)))
        else:
            out.append(c)
    return "".join(out)


def scramble(value, rng):
    if isinstance(value, dict):
        return {k: scramble(v, rng) for k, v in value.items()}
    if isinstance(value, list):
        return [scramble(v, rng) for v in value]
    if isinstance(value, str):
        return scramble_text(value, rng)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(scramble_text(str(abs(value)), rng)) * (1 if value >= 0 else -1)
    if isinstance(value, float):
        return float(scramble_text(repr(value), rng))
    return value


def bodies(path: str, old_dicts: dict):
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    names = dict(conn.execute("SELECT id, name FROM parts"))
    plain = zstandard.ZstdDecompressor()
    for p, body in conn.execute("SELECT p, body FROM rows"):
        fmt, data = body[0], body[1:]
        if fmt == 0:
            text = data
        elif fmt == 1:
            text = plain.decompress(data)
        elif fmt in old_dicts:
            text = old_dicts[fmt].decompress(data)
        else:
            continue
        name = names.get(p, "")
        parts = name.split("#")
        kind = parts[2] if name.startswith("T#") and len(parts) > 2 else parts[0]
        yield kind, json.loads(text)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out, files = sys.argv[1], sys.argv[2:]
    rng = random.Random(20261207)
    # Bodies already written with an earlier dictionary are read with it.
    old_dicts = {}
    for fmt, name in [(2, "items-2.zdict")]:
        here = os.path.join(os.path.dirname(__file__), "../shared/core/src/table", name)
        if os.path.exists(here):
            with open(here, "rb") as f:
                data = zstandard.ZstdCompressionDict(f.read())
            old_dicts[fmt] = zstandard.ZstdDecompressor(dict_data=data)
    by_kind = {}
    for path in files:
        for kind, body in bodies(path, old_dicts):
            by_kind.setdefault(kind, []).append(body)
    samples, held_out = [], []
    for kind, items in sorted(by_kind.items()):
        rng.shuffle(items)
        items = [i for i in items if len(json.dumps(i)) >= SHORTEST]
        if not items:
            continue
        chosen = items[:PER_KIND]
        cut = max(1, len(chosen) // 10)
        for i, item in enumerate(chosen):
            encoded = json.dumps(scramble(item, rng), separators=(",", ":"),
                                 ensure_ascii=False).encode()
            (held_out if i < cut else samples).append(encoded)
        print(f"{kind}: {len(items)} items, {len(chosen)} sampled")
    trained = zstandard.train_dictionary(DICT_SIZE, samples, level=LEVEL, dict_id=2)
    with open(out, "wb") as f:
        f.write(trained.as_bytes())
    alone = zstandard.ZstdCompressor(level=LEVEL)
    with_dict = zstandard.ZstdCompressor(level=LEVEL, dict_data=trained,
                                         write_dict_id=False)
    raw = sum(len(s) for s in held_out)
    print(f"held out: {len(held_out)} bodies, {raw} bytes of JSON; "
          f"zstd alone {sum(len(alone.compress(s)) for s in held_out) / raw:.0%}, "
          f"with the dictionary {sum(len(with_dict.compress(s)) for s in held_out) / raw:.0%}")


if __name__ == "__main__":
    main()
