#!/usr/bin/env python3
"""The include rule, checked over the sources (CTest: deps.include_rule).

Each room (a folder that is one CMake target) may include only itself and the rooms listed for
it below. The rule, as DESIGN.md and the root CMakeLists.txt state it:

    http -> hub/core -> {peers, routing} -> the floor (routing/base)

peers/ and routing/ do not know each other (both stand on routing/base), and only hub/daemon
includes the real drivers and stores. Tests are not checked: a test may put real parts together
(a store test with the real metrics, a site config checked by the libreswan parser).

Usage: check_includes.py [ROOT]  (default: the repository this file is in). Prints every
crossing as FILE:LINE: ROOM may not include PATH, and exits 1 when there is one.
"""
import pathlib
import re
import sys

FLOOR = "routing/base"
# room -> the rooms it may include (besides itself). Longest matching room wins.
RULE = {
    "routing/base": [],
    "routing/policy": [FLOOR],
    "routing/bird": [FLOOR, "routing/policy"],
    "routing/nft": [FLOOR, "routing/policy"],
    "routing/link": [FLOOR, "routing/policy"],
    "peers/model": [FLOOR],
    "peers/aws": [FLOOR, "peers/model"],
    "peers/export": [FLOOR, "peers/model"],
    "peers/libreswan": [FLOOR, "peers/model"],
    "hub/store": [FLOOR, "peers/model"],
    "hub/store/sqlite": [FLOOR, "peers/model", "hub/store"],
    "hub/store/etcd": [FLOOR, "peers/model", "hub/store"],
    "hub/core": [FLOOR, "peers/model", "routing/policy", "hub/store"],
    "hub/metrics": [FLOOR, "peers/model", "routing/policy", "hub/store", "hub/core"],
    "hub/config": [FLOOR, "peers/model"],
    "hub/ctl": [],
    "hub/daemon": ["*"],
    "http": [FLOOR, "peers/model", "peers/aws", "peers/export", "routing/policy", "hub/store",
             "hub/core", "hub/config"],
}
SOURCE_TOP = ("routing", "peers", "hub", "http")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def room_of(path):
    """The room a repository path belongs to (the longest RULE key that is a folder of it)."""
    best = None
    for room in RULE:
        if path == room or path.startswith(room + "/"):
            if best is None or len(room) > len(best):
                best = room
    return best


def allowed(room, target_room):
    rooms = RULE[room]
    return target_room == room or "*" in rooms or target_room in rooms


def check(root):
    errors = []
    files = [p for top in SOURCE_TOP for p in (root / top).rglob("*")
             if p.suffix in (".hpp", ".cpp", ".in") and p.is_file()]
    for file in sorted(files):
        rel = file.relative_to(root).as_posix()
        room = room_of(rel)
        if room is None:
            errors.append(f"{rel}:1: not inside any room of the include rule")
            continue
        for number, line in enumerate(file.read_text(errors="replace").splitlines(), 1):
            match = INCLUDE.match(line)
            if not match:
                continue
            target = match.group(1)
            if target.split("/")[0] not in SOURCE_TOP:
                continue  # a generated file or a library's header
            target_room = room_of(target)
            if target_room is None or not allowed(room, target_room):
                errors.append(f"{rel}:{number}: {room} may not include {target}")
    return errors


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parents[2])
    errors = check(root.resolve())
    for error in errors:
        print(error)
    if errors:
        print(f"include rule: {len(errors)} crossing(s); the rule is in {__file__}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
