"""Writes the golden byte vectors of IB's own clients into the Swift test resources.

    .venv/bin/python Tests/Conformance/generate_golden.py

requests.json: for every case of request_cases.py, the payload ibapi 10.50.2 sends at each
server version from 157 to 200 (runs of versions with identical bytes share one entry), and
the payload ib_async 2.1.0 sends at 178. messages.json: the incoming frames of
message_cases.py at every version, each checked against ibapi's decoder (and ib_async's at
178) before it is written. test_golden_current.py fails when the files are stale.
"""
import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).parent))

import message_cases  # noqa: E402
import official_clients  # noqa: E402
import request_cases  # noqa: E402

GOLDEN = pathlib.Path(__file__).resolve().parents[1] / "TWSProtocolTests" / "Golden"
VERSIONS = range(157, 201)


def request_vectors():
    out = []
    for case in request_cases.CASES:
        clients = case.get("clients", ["ibapi", "ib_async"])
        since = case.get("since", 157)
        encodings = []
        for version in VERSIONS:
            if version < since:
                continue
            try:
                entry = {"hex": official_clients.ibapi_request(case, version).hex()}
            except official_clients.Refused as refusal:
                # IB's client refuses (503) a field this version lacks: so must we.
                entry = {"refused": str(refusal)}
            last = encodings[-1] if encodings else None
            if last and last.get("hex") == entry.get("hex") and last.get("refused") == entry.get("refused") \
                    and last["versions"][-1] == version - 1:
                last["versions"].append(version)
            else:
                encodings.append({"client": "ibapi", "versions": [version], **entry})
        if "ib_async" in clients and since <= 178:
            encodings.append({"client": "ib_async", "versions": [178],
                              "hex": official_clients.ib_async_request(case).hex()})
        for encoding in encodings:
            encoding["versions"] = [encoding["versions"][0], encoding["versions"][-1]]
        out.append({"name": case["name"], "method": case["method"], "args": case["args"], "encodings": encodings})
    return out


def message_vectors():
    out = []
    for case in message_cases.CASES:
        for version in VERSIONS:
            if version < case.get("since", 157):
                continue
            payload = message_cases.build(case, version)
            message_cases.check_ibapi(case, payload, version)
            if version == 178:
                message_cases.check_ib_async(case, payload)
            values = message_cases.values_at(case, version)
            last = out[-1] if out else None
            if last and last["name"] == case["name"] and last["hex"] == payload.hex() and last["values"] == values:
                last["versions"][1] = version
            else:
                out.append({"name": case["name"], "message": case["message"], "versions": [version, version],
                            "hex": payload.hex(), "values": values})
    return out


def main():
    GOLDEN.mkdir(parents=True, exist_ok=True)
    header = {"ibapi": "ibapi-stable 10.50.2", "ib_async": "ib_async 2.1.0"}
    (GOLDEN / "requests.json").write_text(json.dumps({"generator": header, "cases": request_vectors()}, indent=1) + "\n")
    (GOLDEN / "messages.json").write_text(json.dumps({"generator": header, "cases": message_vectors()}, indent=1) + "\n")
    print(f"wrote {GOLDEN}")


if __name__ == "__main__":
    main()
