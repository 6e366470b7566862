#!/usr/bin/env python3
"""Fails when a source file includes a header from a layer above its own.

herald's layers, lowest first (server/CMakeLists.txt says the same with
link rules): base < store interface < core < render, store, delivery,
statuspage, config, runtime, wire < api, http < app < main.cc. The CLI and the
webhook adapter sit beside the server on base alone.

usage: check_layers.py SOURCE_DIR
"""
import pathlib
import posixpath
import re
import sys

STORE_API = "server/store/store.h"

# What each folder may include from the repository, besides itself. A
# prefix ending in "/" is a folder; anything else is one file.
ALLOWED = {
    "server/base/": [],
    STORE_API: ["server/base/"],
    "server/store/store.cc": ["server/base/", STORE_API],
    "server/store/": ["server/base/", STORE_API],
    "server/core/": ["server/base/", STORE_API],
    "server/render/": ["server/base/", "server/core/"],
    "server/delivery/": ["server/base/", "server/core/", STORE_API],
    "server/statuspage/": ["server/base/", "server/core/", STORE_API],
    "server/config/": ["server/base/", "server/core/", STORE_API],
    "server/runtime/": ["server/base/"],
    "server/wire/": ["server/base/", "server/core/"],
    "server/api/": ["server/base/", "server/core/", "server/wire/", STORE_API],
    "server/http/": ["server/base/", "server/core/", "server/statuspage/",
                     "server/wire/", "webhooks/", STORE_API],
    "server/app/": ["server/"],
    "server/main.cc": ["server/app/", "server/base/", "server/config/"],
    "webhooks/": ["server/base/"],
    "cli/": ["server/base/"],
}

INCLUDE = re.compile(r'^\s*#\s*include\s+["<]([^">]+)[">]', re.MULTILINE)
REPO_ROOTS = ("server/", "webhooks/", "cli/", "tests/")
# Every source file under these folders must belong to a layer.
LAYERED = ("server/", "webhooks/", "cli/")


def layer_of(path):
    best = None
    for prefix in ALLOWED:
        if path == prefix or (prefix.endswith("/") and path.startswith(prefix)):
            if best is None or len(prefix) > len(best):
                best = prefix
    return best


def allowed(layer, header):
    if layer.endswith("/") and header.startswith(layer):
        return True
    return any(header == a or (a.endswith("/") and header.startswith(a))
               for a in ALLOWED[layer])


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    errors = []
    for file in sorted(root.glob("**/*")):
        if file.suffix not in (".h", ".cc") or "build" in file.parts:
            continue
        path = file.relative_to(root).as_posix()
        layer = layer_of(path)
        if layer is None:
            if path.startswith(LAYERED):
                errors.append(f"{path}: in no layer; add its folder to ALLOWED")
            continue
        for header in INCLUDE.findall(file.read_text(encoding="utf-8")):
            if header.startswith("."):  # relative: as the repository sees it
                header = posixpath.normpath(
                    posixpath.join(posixpath.dirname(path), header))
            if header == path:
                continue
            if header.startswith(REPO_ROOTS) and not allowed(layer, header):
                errors.append(f"{path}: includes {header}, which {layer} "
                              f"may not (layers: see {__file__})")
    for e in errors:
        print(e)
    if errors:
        print(f"{len(errors)} include(s) point up a layer")
        return 1
    print("layers: every include points down")
    return 0


if __name__ == "__main__":
    sys.exit(main())
