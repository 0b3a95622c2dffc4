#!/usr/bin/env python3
"""Re-creates the parser corpora under tests/data/corpus/ from the recorded transcripts.

libreswan_status/: every whack output block of tests/data/libreswan/ipsec_t_*.txt and
trafficstatus_upstream.txt, whole, cut at a third and at two thirds (mid-line), and mutated
(seeded: digits changed, quotes dropped, bytes flipped, lines swapped between transcripts).
bird_reply/: the byte stream of each tests/data/bird/bird_t_*.txt connection (its b'...' and
"| " lines),
whole, cut mid-line, and mutated (a code that is not four digits, a continuation before any
code, CRLF line ends, an echo line only, an empty stream).

The expected results (*.expected) are written by the replay tests with TRANSIT_UPDATE_GOLDEN=1
(tests/peers/libreswan/libreswan_status_test.cpp, tests/routing/bird/bird_reply_test.cpp);
review their diff. Usage: tests/data/corpus/make_corpus.py (from anywhere).
"""
import ast
import pathlib
import random

HERE = pathlib.Path(__file__).resolve().parent
DATA = HERE.parent
rng = random.Random(20261207)


def write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def whack_blocks(path):
    """The outputs of the `$ command` blocks of a transcript."""
    blocks, current = [], None
    for line in path.read_text().splitlines(keepends=True):
        if line.startswith("$ "):
            current = []
            blocks.append(current)
        elif line.startswith("[exit code "):
            current = None
        elif current is not None:
            current.append(line)
    return ["".join(b) for b in blocks if b]


def mutate(text):
    chars = list(text)
    for _ in range(max(1, len(chars) // 40)):
        i = rng.randrange(len(chars))
        c = chars[i]
        if c.isdigit():
            chars[i] = rng.choice("0123456789x")
        elif c == '"':
            chars[i] = ""
        else:
            chars[i] = chr(rng.randrange(1, 256))
    return "".join(chars)


def libreswan():
    out = HERE / "libreswan_status"
    for old in out.glob("*.txt"):
        old.unlink()
    sources = sorted(DATA.glob("libreswan/ipsec_t_*.txt")) + [
        DATA / "libreswan/trafficstatus_upstream.txt"]
    lines_pool = []
    for source in sources:
        blocks = whack_blocks(source) if source.name.startswith("ipsec_t_") else [
            source.read_text()]
        for n, block in enumerate(blocks):
            if "\"" not in block and "#" not in block:
                continue  # nothing a parser keeps (an empty or plain answer)
            stem = f"{source.stem}_{n}"
            lines_pool.extend(block.splitlines(keepends=True))
            write(out / f"{stem}.txt", block.encode())
            write(out / f"{stem}_cut1.txt", block[: len(block) // 3].encode())
            write(out / f"{stem}_cut2.txt", block[: 2 * len(block) // 3].encode())
            write(out / f"{stem}_mut.txt", mutate(block).encode("utf-8", "surrogateescape"))
    for n in range(3):
        write(out / f"splice_{n}.txt", "".join(rng.sample(lines_pool, 12)).encode())


def bird():
    out = HERE / "bird_reply"
    for old in out.glob("*.bin"):
        old.unlink()
    for source in sorted(DATA.glob("bird/bird_t_*.txt")):
        stream = b""
        for line in source.read_text().splitlines():
            if line.startswith("b'") or line.startswith('b"'):  # raw bytes as read
                stream += ast.literal_eval(line)
            elif line.startswith("| "):  # one line of a reply
                stream += line[2:].encode() + b"\n"
        write(out / f"{source.stem}.bin", stream)
        cut = stream.find(b"\n", len(stream) // 2)
        write(out / f"{source.stem}_cut.bin", stream[: max(cut - 3, 0)])
        write(out / f"{source.stem}_crlf.bin", stream.replace(b"\n", b"\r\n"))
    write(out / "bad_code.bin", b"0001 BIRD 2.0.12 ready.\n00x3 Daemon is up\n")
    write(out / "continuation_first.bin", b" orphan continuation\n0000 \n")
    write(out / "echo_only.bin", b"+Enabling protocol spoke2\n")
    write(out / "empty.bin", b"")
    write(out / "no_code.bin", b"hello\n")
    write(out / "nul_bytes.bin", b"1000-BIRD\x00 2.0\n0013 up\x00\n")


if __name__ == "__main__":
    libreswan()
    bird()
