"""Drives IB's own Python client (ibapi) and ib_async without a network.

Requests: each client is connected to a fake socket at a forced server version and asked to
send; the bytes it would have written are captured. Messages: frames are fed to each
client's own decoder and the callbacks it makes are recorded.
"""
import datetime
import logging
import math
from decimal import Decimal

import ibapi.client
import ibapi.comm
import ibapi.contract
import ibapi.decoder
import ibapi.execution
import ibapi.order
import ibapi.order_cancel
import ibapi.order_condition
import ibapi.tag_value
import ibapi.wrapper
from ibapi.const import UNSET_DOUBLE

import ib_async
import ib_async.client
import ib_async.decoder
import ib_async.wrapper
import ib_async.contract
import ib_async.objects
import ib_async.order


def strip_length(frame: bytes) -> bytes:
    assert len(frame) >= 4 and int.from_bytes(frame[:4], "big") == len(frame) - 4
    return frame[4:]


# ---------------------------------------------------------------- building IB's objects

def _ibapi_object(kind, data):
    if kind == "$contract":
        contract = ibapi.contract.Contract()
        for key, value in data.items():
            if key == "comboLegs":
                legs = []
                for leg_data in value:
                    leg = ibapi.contract.ComboLeg()
                    for k, v in leg_data.items():
                        setattr(leg, k, v)
                    legs.append(leg)
                contract.comboLegs = legs
            elif key == "deltaNeutralContract":
                dn = ibapi.contract.DeltaNeutralContract()
                for k, v in value.items():
                    setattr(dn, k, v)
                contract.deltaNeutralContract = dn
            else:
                setattr(contract, key, value)
        return contract
    if kind == "$order":
        order = ibapi.order.Order()
        for key, value in data.items():
            if key == "totalQuantity":
                order.totalQuantity = Decimal(str(value))
            elif key in ("algoParams", "smartComboRoutingParams"):
                setattr(order, key, [ibapi.tag_value.TagValue(t, v) for t, v in value])
            elif key == "orderComboLegs":
                legs = []
                for price in value:
                    leg = ibapi.order.OrderComboLeg()
                    leg.price = UNSET_DOUBLE if price is None else price
                    legs.append(leg)
                order.orderComboLegs = legs
            elif key == "conditions":
                order.conditions = [_ibapi_condition(cond) for cond in value]
            elif value == "inf":
                setattr(order, key, math.inf)
            else:
                setattr(order, key, value)
        return order
    if kind == "$execFilter":
        flt = ibapi.execution.ExecutionFilter()
        for key, value in data.items():
            setattr(flt, key, value)
        return flt
    if kind == "$orderCancel":
        cancel = ibapi.order_cancel.OrderCancel()
        for key, value in data.items():
            setattr(cancel, key, value)
        return cancel
    raise ValueError(kind)


def _ibapi_condition(data):
    cond = ibapi.order_condition.Create(data["type"])
    cond.isConjunctionConnection = data.get("isConjunction", True)
    if data["type"] == 5:
        cond.secType, cond.exchange, cond.symbol = data["secType"], data["exchange"], data["symbol"]
        return cond
    cond.isMore = data.get("isMore", False)
    value = data["value"]
    if data["type"] == 1:
        cond.price = float(value)
        cond.triggerMethod = data.get("triggerMethod", 0)
    elif data["type"] == 3:
        cond.time = value
    elif data["type"] == 4:
        cond.percent = int(value)
    elif data["type"] == 6:
        cond.volume = int(value)
    elif data["type"] == 7:
        cond.changePercent = float(value)
    if data["type"] in (1, 6, 7):
        cond.conId, cond.exchange = data["conId"], data["exchange"]
    return cond


def _ib_async_object(kind, data):
    if kind == "$contract":
        fields = dict(data)
        legs = fields.pop("comboLegs", None)
        dn = fields.pop("deltaNeutralContract", None)
        contract = ib_async.contract.Contract(**fields)
        if legs:
            contract.comboLegs = [ib_async.contract.ComboLeg(**leg) for leg in legs]
        if dn:
            contract.deltaNeutralContract = ib_async.contract.DeltaNeutralContract(**dn)
        return contract
    if kind == "$order":
        order = ib_async.order.Order()
        for key, value in data.items():
            if key == "totalQuantity":
                order.totalQuantity = Decimal(str(value))
            elif key in ("algoParams", "smartComboRoutingParams"):
                setattr(order, key, [ib_async.contract.TagValue(t, v) for t, v in value])
            elif key == "orderComboLegs":
                order.orderComboLegs = [ib_async.order.OrderComboLeg(price=UNSET_DOUBLE if p is None else p) for p in value]
            elif value == "inf":
                setattr(order, key, math.inf)
            else:
                setattr(order, key, value)
        return order
    if kind == "$execFilter":
        return ib_async.objects.ExecutionFilter(**data)
    raise ValueError(kind)


def _materialize(args, factory):
    out = []
    for arg in args:
        if isinstance(arg, dict) and len(arg) == 1 and next(iter(arg)).startswith("$"):
            kind, data = next(iter(arg.items()))
            out.append(factory(kind, data))
        else:
            out.append(arg)
    return out


# ---------------------------------------------------------------- capturing requests

class _CaptureConnection:
    def __init__(self):
        self.frames = []

    def sendMsg(self, msg):
        self.frames.append(bytes(msg))
        return len(msg)

    def isConnected(self):
        return True


class Refused(Exception):
    """IB's client refused to send the request (its error 503: TWS too old)."""


class _RecordingWrapper(ibapi.wrapper.EWrapper):
    def __init__(self):
        super().__init__()
        self.errors = []

    def error(self, reqId, errorTime, errorCode, errorString, advancedOrderRejectJson=""):
        self.errors.append((reqId, errorCode, errorString))


def ibapi_request(case, version, client_id=7):
    """The payload ibapi 10.50 sends for `case` at `version`, or raises with its error."""
    wrapper = _RecordingWrapper()
    client = ibapi.client.EClient(wrapper)
    client.conn = _CaptureConnection()
    client.connState = ibapi.client.EClient.CONNECTED
    client.serverVersion_ = version
    client.clientId = client_id
    if case["method"] == "startApi":
        client.startApi()
    else:
        getattr(client, case["method"])(*_materialize(case["args"], _ibapi_object))
    if wrapper.errors:
        codes = {code for _, code, _ in wrapper.errors}
        if codes == {503}:
            raise Refused(wrapper.errors[0][2])
        raise RuntimeError(f"ibapi failed {case['name']} at {version}: {wrapper.errors}")
    assert len(client.conn.frames) == 1, (case["name"], client.conn.frames)
    return strip_length(client.conn.frames[0])


def ib_async_request(case, version=178, client_id=7):
    """The payload ib_async 2.1.0 sends for `case` at `version` (it speaks at most 178)."""
    client = ib_async.client.Client(ib_async.wrapper.Wrapper(None))
    client.conn = _CaptureConnection()
    client.connState = ib_async.client.Client.CONNECTED
    client._serverVersion = version
    client.clientId = client_id
    client.MaxRequests = 0
    method = case["method"]
    args = case["args"]
    if method == "startApi":
        client.startApi()
    elif method == "cancelOrder":
        client.cancelOrder(args[0], args[1]["$orderCancel"].get("manualOrderCancelTime", ""))
    elif method == "reqGlobalCancel":
        client.reqGlobalCancel()
    else:
        getattr(client, method)(*_materialize(args, _ib_async_object))
    assert len(client.conn.frames) == 1, (case["name"], client.conn.frames)
    return strip_length(client.conn.frames[0])


# ---------------------------------------------------------------- decoding messages

class RecordingWrapper(ibapi.wrapper.EWrapper):
    """Records every callback ibapi's decoder makes, with its arguments."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def __getattribute__(self, name):
        attr = object.__getattribute__(self, name)
        if callable(attr) and not name.startswith("_") and hasattr(ibapi.wrapper.EWrapper, name):
            def record(*args):
                object.__getattribute__(self, "calls").append((name, args))
            return record
        return attr


class FieldsLeft(Exception):
    pass


def ibapi_decode(payload: bytes, version: int):
    """Feeds one payload to ibapi's Decoder; returns the recorded callbacks.

    Fails if the decoder ran out of fields, or if it left fields unread."""
    wrapper = RecordingWrapper()
    decoder = ibapi.decoder.Decoder(wrapper, version)
    msg_id_text, rest = payload.split(b"\0", 1)
    msg_id = int(msg_id_text)
    # As ibapi's run loop does: the id is cut off, the decoder sees the fields after it.
    fields = ibapi.comm.read_fields(rest)
    handle = decoder.msgId2handleInfo[msg_id]
    if handle.processMeth is not None:
        iterator = iter(fields)
        handle.processMeth(decoder, iterator)
        left = list(iterator)
        if left:
            raise FieldsLeft(f"ibapi left {len(left)} field(s) unread: {left}")
    else:
        # Signature-decoded messages are dropped silently on a field-count mismatch,
        # so check the count here: the version field plus one per parameter.
        expected = len(handle.wrapperParams)
        if len(fields) != expected:
            raise FieldsLeft(f"ibapi expects {expected} fields for {handle.wrapperMeth.__name__}, got {len(fields)}")
        decoder.interpret(fields, msg_id)
    return wrapper.calls


class _AsyncRecorder:
    """Stands in for ib_async's Wrapper: records what the decoder hands it."""

    def __init__(self):
        self.calls = []
        self.defaultTimezone = datetime.timezone.utc

    def __getattr__(self, name):
        def record(*args, **kwargs):
            self.calls.append((name, args))
        return record


def ib_async_decode(payload: bytes, version: int = 178):
    """Feeds one payload to ib_async's Decoder; returns the recorded wrapper calls.

    ib_async logs (and swallows) decoding errors; a logged error fails here."""
    recorder = _AsyncRecorder()
    decoder = ib_async.decoder.Decoder(recorder, version)
    fields = payload.decode().split("\0")[:-1]
    errors = []

    class Catch(logging.Handler):
        def emit(self, record):
            errors.append(record.getMessage())

    handler = Catch(level=logging.ERROR)
    logger = logging.getLogger("ib_async.Decoder")
    logger.addHandler(handler)
    try:
        decoder.interpret(fields)
    finally:
        logger.removeHandler(handler)
    if errors:
        raise RuntimeError(f"ib_async could not decode: {errors}")
    return recorder.calls
