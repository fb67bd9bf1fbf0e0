"""Frames written by Moonwire's encoder are read by IB's own decoder and by ib_async's.

The Swift tool `tws-conformance reencode` decodes every golden message and encodes it again
with our encoder; each resulting frame must be consumed exactly by ibapi's Decoder at its
server version (and by ib_async's at 178), with every checked value in the right attribute.
"""
import json
import os
import pathlib
import subprocess

import pytest

import generate_golden
import message_cases

ROOT = pathlib.Path(__file__).resolve().parents[2]
TOOL = pathlib.Path(os.environ.get("MOONWIRE_CONFORMANCE_TOOL", ROOT / ".build" / "debug" / "tws-conformance"))
CASES = {case["name"]: case for case in message_cases.CASES}


@pytest.fixture(scope="module")
def our_frames():
    if not TOOL.exists():
        pytest.fail(f"{TOOL} is missing: build it first (swift build --product tws-conformance)")
    golden = (generate_golden.GOLDEN / "messages.json").read_bytes()
    result = subprocess.run([str(TOOL), "reencode"], input=golden, capture_output=True, timeout=120, check=True)
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_every_message_and_version_was_reencoded(our_frames):
    expected = sum(c["versions"][1] - c["versions"][0] + 1
                   for c in json.loads((generate_golden.GOLDEN / "messages.json").read_text())["cases"])
    assert len(our_frames) == expected
    errors = [f for f in our_frames if "error" in f]
    assert not errors, errors[:5]
    assert {f["name"] for f in our_frames} == set(CASES)


def test_ibapi_reads_our_frames_at_every_version(our_frames):
    for frame in our_frames:
        message_cases.check_ibapi(CASES[frame["name"]], bytes.fromhex(frame["hex"]), frame["version"])


def test_ib_async_reads_our_frames_at_178(our_frames):
    at_178 = [f for f in our_frames if f["version"] == 178]
    assert at_178
    for frame in at_178:
        message_cases.check_ib_async(CASES[frame["name"]], bytes.fromhex(frame["hex"]))


def test_ibapi_values_differ_when_a_byte_changes(our_frames):
    # The checks are not vacuous: a tick with one digit changed fails them.
    frame = next(f for f in our_frames if f["name"] == "tickPrice.bid" and f["version"] == 200)
    tampered = bytes.fromhex(frame["hex"]).replace(b"187.25", b"187.26")
    with pytest.raises(AssertionError):
        message_cases.check_ibapi(CASES["tickPrice.bid"], tampered, 200)
