"""The committed golden vectors are what the pinned official clients produce today."""
import json

import generate_golden


def test_request_vectors_are_current():
    committed = json.loads((generate_golden.GOLDEN / "requests.json").read_text())["cases"]
    assert committed == json.loads(json.dumps(generate_golden.request_vectors())), \
        "requests.json is stale: run Tests/Conformance/generate_golden.py"


def test_message_vectors_are_current_and_accepted_by_ibapi():
    # message_vectors() re-checks every frame against ibapi's decoder (and ib_async's at 178).
    committed = json.loads((generate_golden.GOLDEN / "messages.json").read_text())["cases"]
    assert committed == json.loads(json.dumps(generate_golden.message_vectors())), \
        "messages.json is stale: run Tests/Conformance/generate_golden.py"
