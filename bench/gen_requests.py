#!/usr/bin/env python3
"""Writes a Lua file of N distinct, correctly signed GitHub webhook bodies for bench/github.lua.

wrk's LuaJIT has no HMAC, so the X-Hub-Signature-256 values are computed here, once, before the
load starts. GitHub signs only the body (HMAC-SHA256 with the webhook secret, hex, prefixed
"sha256="), so the delivery id header can still vary per request at load time.

usage: gen_requests.py OUT.lua SECRET [COUNT] [BODY_BYTES]
"""
import hashlib
import hmac
import json
import sys


def body(i: int, size: int) -> bytes:
    # Shaped like a trimmed "push" event; the padding field brings it to exactly `size` bytes.
    doc = {
        "ref": "refs/heads/main",
        "before": hashlib.sha1(b"before%d" % i).hexdigest(),
        "after": hashlib.sha1(b"after%d" % i).hexdigest(),
        "repository": {
            "id": 100000 + i,
            "name": "inlet-bench",
            "full_name": "octo-org/inlet-bench",
            "private": False,
            "html_url": "https://github.com/octo-org/inlet-bench",
            "default_branch": "main",
        },
        "pusher": {"name": "octocat", "email": "octocat@example.com"},
        "sender": {"login": "octocat", "id": 583231, "type": "User"},
        "head_commit": {
            "id": hashlib.sha1(b"after%d" % i).hexdigest(),
            "message": "Bench commit number %d" % i,
            "timestamp": "2024-05-01T12:00:00Z",
            "author": {"name": "The Octocat", "email": "octocat@example.com"},
            "added": [],
            "removed": [],
            "modified": ["README.md"],
        },
        "padding": "",
    }
    raw = json.dumps(doc, separators=(",", ":")).encode()
    missing = size - len(raw)
    if missing < 0:
        raise SystemExit("body template is larger than %d bytes" % size)
    doc["padding"] = "x" * missing
    raw = json.dumps(doc, separators=(",", ":")).encode()
    assert len(raw) == size
    return raw


def main() -> None:
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    out, secret = sys.argv[1], sys.argv[2].encode()
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 256
    size = int(sys.argv[4]) if len(sys.argv) > 4 else 1536
    with open(out, "w") as f:
        f.write("return {\n")
        for i in range(count):
            raw = body(i, size)
            sig = "sha256=" + hmac.new(secret, raw, hashlib.sha256).hexdigest()
            # JSON from json.dumps is ASCII and never contains "]==]", so a level-2 long bracket
            # carries it verbatim.
            f.write('{sig="%s", body=[==[%s]==]},\n' % (sig, raw.decode()))
        f.write("}\n")


if __name__ == "__main__":
    main()
