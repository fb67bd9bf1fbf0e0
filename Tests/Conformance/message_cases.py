"""Incoming messages built field by field from the official layouts (../shared/protocol.md §3,
ibapi 10.50 decoder.py / orderdecoder.py), for every server version 157-200.

A field is `F(path, wire, since, before, value)`: `path` is where the value lands in our
Swift model (None for version numbers and deprecated fields), `wire` the text TWS sends,
`since`/`before` the versions it exists in, `value` what it decodes to (defaults to the wire
text). `ibapi` names the callback IB's decoder must make and, by argument index and
attribute, the values that must land there: that is the check that does not depend on us.
"""
from decimal import Decimal

import official_clients

DBL_MAX = "1.7976931348623157E308"
INT_MAX = "2147483647"


class F:
    def __init__(self, path, wire, since=157, before=999, value="same"):
        self.path, self.wire, self.since, self.before = path, wire, since, before
        self.value = wire if value == "same" else value

    def present(self, version):
        return self.since <= version < self.before


def n(path, wire, **kw):
    """A numeric field: the expected value is the number."""
    value = float(wire) if any(ch in wire for ch in ".E") else int(wire)
    return F(path, wire, value=value, **kw)


def fixed(wire, **kw):
    return F(None, wire, **kw)


def unset(path, wire=DBL_MAX, **kw):
    return F(path, wire, value=None, **kw)


def build(case, version):
    fields = [str(case["id"])] + [f.wire for f in case["fields"] if f.present(version)]
    return "".join(field + "\0" for field in fields).encode()


def values_at(case, version):
    return {f.path: f.value for f in case["fields"] if f.path and f.present(version)}


def _resolve(args, path):
    parts = path.split(".")
    value = args[int(parts[0])]
    for part in parts[1:]:
        value = value[int(part)] if part.isdigit() else getattr(value, part)
    return value


def _same(actual, expected):
    if isinstance(actual, Decimal):
        return actual == Decimal(str(expected))
    if isinstance(actual, float) and isinstance(expected, (int, float)):
        return abs(actual - expected) < 1e-12
    return actual == expected


def check_ibapi(case, payload, version):
    calls = official_clients.ibapi_decode(payload, version)
    callback, expectations = case["ibapi"]
    matching = [args for name, args in calls if name == callback]
    assert matching, f"{case['name']}@{version}: ibapi made no {callback} call (calls: {[c[0] for c in calls]})"
    args = matching[0]
    for path, expected in expectations.items():
        if isinstance(expected, tuple):  # (since, value)
            since, expected = expected
            if version < since:
                continue
        actual = _resolve(args, path)
        assert _same(actual, expected), f"{case['name']}@{version}: ibapi {callback} {path} = {actual!r}, expected {expected!r}"
    return calls


def check_ib_async(case, payload):
    calls = official_clients.ib_async_decode(payload, 178)
    assert calls, f"{case['name']}: ib_async decoded nothing"
    return calls


AAPL_REPORT = [n("contract.conId", "265598"), F("contract.symbol", "AAPL"), F("contract.secType", "STK"),
               F("contract.lastTradeDateOrContractMonth", ""), F("contract.strike", "0.0", value=None),
               F("contract.right", ""), F("contract.multiplier", ""), F("contract.exchange", "SMART"),
               F("contract.currency", "USD"), F("contract.localSymbol", "AAPL"), F("contract.tradingClass", "NMS")]

OPEN_ORDER_FIELDS = [n("order.orderId", "12")] + AAPL_REPORT + [
    F("order.action", "BUY"), F("order.totalQuantity", "100"), F("order.orderType", "LMT"),
    n("order.lmtPrice", "187.5"), n("order.auxPrice", "0.0"), F("order.tif", "DAY"), F("order.ocaGroup", ""),
    F("order.account", "DU1234567"), F("order.openClose", ""), n("order.origin", "0"), F("order.orderRef", "mw:k1"),
    n("order.clientId", "7"), n("order.permId", "1234567890123"), F("order.outsideRth", "1", value=True),
    F("order.hidden", "0", value=False), n("order.discretionaryAmt", "0.0"), F("order.goodAfterTime", ""),
    fixed(""), F("order.faGroup", ""), F("order.faMethod", ""), F("order.faPercentage", ""), fixed("", before=177),
    F("order.modelCode", ""), F("order.goodTillDate", ""), F("order.rule80A", ""), unset("order.percentOffset"),
    F("order.settlingFirm", ""), n("order.shortSaleSlot", "0"), F("order.designatedLocation", ""),
    n("order.exemptCode", "-1"), n("order.auctionStrategy", "0"), unset("order.startingPrice"),
    unset("order.stockRefPrice"), unset("order.delta"), unset("order.stockRangeLower"), unset("order.stockRangeUpper"),
    unset("order.displaySize", INT_MAX), F("order.blockOrder", "0", value=False), F("order.sweepToFill", "0", value=False),
    F("order.allOrNone", "0", value=False), unset("order.minQty", INT_MAX), n("order.ocaType", "3"),
    fixed("0"), fixed("0"), fixed(DBL_MAX), n("order.parentId", "0"), n("order.triggerMethod", "0"),
    unset("order.volatility"), n("order.volatilityType", "0"), F("order.deltaNeutralOrderType", ""),
    unset("order.deltaNeutralAuxPrice"), F("order.continuousUpdate", "0", value=False), n("order.referencePriceType", "0"),
    # TWS sends trailStopPrice twice (here and after triggerPrice); ibapi keeps the later one.
    n("order.trailStopPrice", "181.25"), unset("order.trailingPercent"), unset("order.basisPoints"),
    unset("order.basisPointsType", INT_MAX), F("comboLegsDescription", ""), fixed("0"), fixed("0"), fixed("0"),
    unset("order.scaleInitLevelSize", INT_MAX), unset("order.scaleSubsLevelSize", INT_MAX),
    unset("order.scalePriceIncrement"), F("order.hedgeType", ""), F("order.optOutSmartRouting", "0", value=False),
    F("order.clearingAccount", ""), F("order.clearingIntent", "IB"), F("order.notHeld", "0", value=False),
    fixed("0"), F("order.algoStrategy", ""), F("order.solicited", "0", value=False), F("order.whatIf", "0", value=False),
    F("orderState.status", "Submitted"),
    F("orderState.initMarginBefore", "10000.5"), F("orderState.maintMarginBefore", DBL_MAX, value=""),
    F("orderState.equityWithLoanBefore", DBL_MAX, value=""), F("orderState.initMarginChange", DBL_MAX, value=""),
    F("orderState.maintMarginChange", DBL_MAX, value=""), F("orderState.equityWithLoanChange", DBL_MAX, value=""),
    F("orderState.initMarginAfter", DBL_MAX, value=""), F("orderState.maintMarginAfter", DBL_MAX, value=""),
    F("orderState.equityWithLoanAfter", DBL_MAX, value=""),
    n("orderState.commissionAndFees", "1.0"), unset("orderState.minCommissionAndFees"),
    unset("orderState.maxCommissionAndFees"), F("orderState.commissionAndFeesCurrency", "USD"),
    F("orderState.marginCurrency", "USD", since=195), unset("orderState.initMarginBeforeOutsideRTH", since=195),
    unset("orderState.maintMarginBeforeOutsideRTH", since=195), unset("orderState.equityWithLoanBeforeOutsideRTH", since=195),
    unset("orderState.initMarginChangeOutsideRTH", since=195), unset("orderState.maintMarginChangeOutsideRTH", since=195),
    unset("orderState.equityWithLoanChangeOutsideRTH", since=195), unset("orderState.initMarginAfterOutsideRTH", since=195),
    unset("orderState.maintMarginAfterOutsideRTH", since=195), unset("orderState.equityWithLoanAfterOutsideRTH", since=195),
    F("orderState.suggestedSize", "", value=None, since=195), F("orderState.rejectReason", "", since=195),
    fixed("0", since=195), F("orderState.warningText", ""),
    F("order.randomizeSize", "0", value=False), F("order.randomizePrice", "0", value=False), fixed("0"),
    F("order.adjustedOrderType", "None"), unset("order.triggerPrice"), n("order.trailStopPrice", "181.25"),
    unset("order.lmtPriceOffset"), unset("order.adjustedStopPrice"), unset("order.adjustedStopLimitPrice"),
    unset("order.adjustedTrailingAmount"), n("order.adjustableTrailingUnit", "0"), F("order.softDollarTier.name", ""),
    F("order.softDollarTier.value", ""), F("order.softDollarTier.displayName", ""), unset("order.cashQty"),
    F("order.dontUseAutoPriceForHedge", "0", value=False), F("order.isOmsContainer", "0", value=False),
    F("order.discretionaryUpToLimitPrice", "0", value=False), F("order.usePriceMgmtAlgo", "0", value=False),
    unset("order.duration", INT_MAX, since=158), unset("order.postToAts", INT_MAX, since=160),
    F("order.autoCancelParent", "0", value=False, since=162),
    unset("order.minTradeQty", INT_MAX, since=170), unset("order.minCompeteSize", INT_MAX, since=170),
    unset("order.competeAgainstBestOffset", since=170), unset("order.midOffsetAtWhole", since=170),
    unset("order.midOffsetAtHalf", since=170), F("order.customerAccount", "", since=183),
    F("order.professionalCustomer", "0", value=False, since=184), F("order.bondAccruedInterest", "", since=185),
    F("order.includeOvernight", "0", value=False, since=189), F("order.extOperator", "", since=193),
    unset("order.manualOrderIndicator", INT_MAX, since=193), F("order.submitter", "", since=198),
    F("order.imbalanceOnly", "0", value=False, since=199),
]

COMPLETED_ORDER_FIELDS = AAPL_REPORT + [
    F("order.action", "SELL"), F("order.totalQuantity", "100"), F("order.orderType", "MKT"), unset("order.lmtPrice"),
    unset("order.auxPrice"), F("order.tif", "DAY"), F("order.ocaGroup", ""), F("order.account", "DU1234567"),
    F("order.openClose", ""), n("order.origin", "0"), F("order.orderRef", "mw:k2"), n("order.permId", "1234567890124"),
    F("order.outsideRth", "0", value=False), F("order.hidden", "0", value=False), n("order.discretionaryAmt", "0.0"),
    F("order.goodAfterTime", ""), F("order.faGroup", ""), F("order.faMethod", ""), F("order.faPercentage", ""),
    fixed("", before=177), F("order.modelCode", ""), F("order.goodTillDate", ""), F("order.rule80A", ""),
    unset("order.percentOffset"), F("order.settlingFirm", ""), n("order.shortSaleSlot", "0"),
    F("order.designatedLocation", ""), n("order.exemptCode", "-1"), unset("order.startingPrice"),
    unset("order.stockRefPrice"), unset("order.delta"), unset("order.stockRangeLower"), unset("order.stockRangeUpper"),
    unset("order.displaySize", INT_MAX), F("order.sweepToFill", "0", value=False), F("order.allOrNone", "0", value=False),
    unset("order.minQty", INT_MAX), n("order.ocaType", "3"), n("order.triggerMethod", "0"), unset("order.volatility"),
    n("order.volatilityType", "0"), F("order.deltaNeutralOrderType", ""), unset("order.deltaNeutralAuxPrice"),
    F("order.continuousUpdate", "0", value=False), n("order.referencePriceType", "0"), unset("order.trailStopPrice"),
    unset("order.trailingPercent"), F("comboLegsDescription", ""), fixed("0"), fixed("0"), fixed("0"),
    unset("order.scaleInitLevelSize", INT_MAX), unset("order.scaleSubsLevelSize", INT_MAX), unset("order.scalePriceIncrement"),
    F("order.hedgeType", ""), F("order.clearingAccount", ""), F("order.clearingIntent", "IB"),
    F("order.notHeld", "0", value=False), fixed("0"), F("order.algoStrategy", ""), F("order.solicited", "0", value=False),
    F("orderState.status", "Filled"), F("order.randomizeSize", "0", value=False), F("order.randomizePrice", "0", value=False),
    fixed("0"), unset("order.trailStopPrice"), unset("order.lmtPriceOffset"), unset("order.cashQty"),
    F("order.dontUseAutoPriceForHedge", "0", value=False), F("order.isOmsContainer", "0", value=False),
    F("order.autoCancelDate", ""), F("order.filledQuantity", "100"), n("order.refFuturesConId", "0"),
    F("order.autoCancelParent", "0", value=False), F("order.shareholder", ""), F("order.imbalanceOnly", "0", value=False),
    F("order.routeMarketableToBbo", "0", value=False), n("order.parentPermId", "0"),
    F("orderState.completedTime", "20261123 10:15:02 US/Eastern"), F("orderState.completedStatus", "Filled"),
    unset("order.minTradeQty", INT_MAX, since=170), unset("order.minCompeteSize", INT_MAX, since=170),
    unset("order.competeAgainstBestOffset", since=170), unset("order.midOffsetAtWhole", since=170),
    unset("order.midOffsetAtHalf", since=170), F("order.customerAccount", "", since=183),
    F("order.professionalCustomer", "0", value=False, since=184), F("order.submitter", "", since=198),
]

CONTRACT_DATA_FIELDS = [
    fixed("8", before=164), n("reqId", "4001"), F("details.contract.symbol", "AAPL"), F("details.contract.secType", "STK"),
    F("details.contract.lastTradeDateOrContractMonth", ""), F("details.lastTradeDate", "", since=182),
    F("details.contract.strike", "0.0", value=None), F("details.contract.right", ""),
    F("details.contract.exchange", "SMART"), F("details.contract.currency", "USD"), F("details.contract.localSymbol", "AAPL"),
    F("details.marketName", "NMS"), F("details.contract.tradingClass", "NMS"), n("details.contract.conId", "265598"),
    n("details.minTick", "0.01"), fixed("1", before=164), F("details.contract.multiplier", ""),
    F("details.orderTypes", "ACTIVETIM,ADJUST,LMT,MKT,STP,STPLMT,TRAIL"), F("details.validExchanges", "SMART,NASDAQ,ARCA"),
    n("details.priceMagnifier", "1"), n("details.underConId", "0"),
    F("details.longName", "APPLE INC \\u00e9", value="APPLE INC \u00e9"), F("details.contract.primaryExchange", "NASDAQ"),
    F("details.contractMonth", ""), F("details.industry", "Technology"), F("details.category", "Computers"),
    F("details.subcategory", "Computers"), F("details.timeZoneId", "US/Eastern"),
    F("details.tradingHours", "20261123:0400-20261123:2000;20261124:0400-20261124:2000"),
    F("details.liquidHours", "20261123:0930-20261123:1600;20261124:0930-20261124:1600"),
    F("details.evRule", ""), n("details.evMultiplier", "0"), fixed("1"), F("details.secIdList.0.tag", "ISIN"),
    F("details.secIdList.0.value", "US0378331005"), n("details.aggGroup", "1"), F("details.underSymbol", ""),
    F("details.underSecType", ""), F("details.marketRuleIds", "26,26,26"), F("details.realExpirationDate", ""),
    F("details.stockType", "COMMON"), fixed("0.0001", since=163, before=164),
    F("details.minSize", "0.0001", since=164), F("details.sizeIncrement", "0.0001", since=164),
    F("details.suggestedSizeIncrement", "100", since=164), fixed("0", since=186),
]

EXEC_FIELDS = [n("reqId", "-1"), n("execution.orderId", "12")] + AAPL_REPORT + [
    F("execution.execId", "0000e0d5.6571f2a1.01.01"), F("execution.time", "20261123 10:15:01 US/Eastern"),
    F("execution.acctNumber", "DU1234567"), F("execution.exchange", "ISLAND"), F("execution.side", "BOT"),
    F("execution.shares", "100"), n("execution.price", "187.26"), n("execution.permId", "1234567890123"),
    n("execution.clientId", "7"), n("execution.liquidation", "0"), F("execution.cumQty", "100"),
    n("execution.avgPrice", "187.26"), F("execution.orderRef", "mw:k1"), F("execution.evRule", ""),
    n("execution.evMultiplier", "0.0"), F("execution.modelCode", ""), n("execution.lastLiquidity", "2"),
    F("execution.pendingPriceRevision", "0", value=False, since=178), F("execution.submitter", "", since=198),
]

CASES = [
    {"name": "tickPrice.bid", "message": "tickPrice", "id": 1,
     "fields": [fixed("6"), n("reqId", "1001"), n("tickType", "1"), n("price", "187.25"), F("size", "300"), n("attrMask", "1")],
     "ibapi": ("tickPrice", {"0": 1001, "1": 1, "2": 187.25, "3.canAutoExecute": True})},
    {"name": "tickPrice.noQuote", "message": "tickPrice", "id": 1,
     "fields": [fixed("6"), n("reqId", "1001"), n("tickType", "2"), n("price", "-1.0"), F("size", "0"), n("attrMask", "0")],
     "ibapi": ("tickPrice", {"0": 1001, "1": 2, "2": -1.0})},
    {"name": "tickSize", "message": "tickSize", "id": 2,
     "fields": [fixed("6"), n("reqId", "1001"), n("tickType", "8"), F("size", "1234567")],
     "ibapi": ("tickSize", {"0": 1001, "1": 8, "2": Decimal("1234567")})},
    {"name": "tickSize.fractional", "message": "tickSize", "id": 2,
     "fields": [fixed("6"), n("reqId", "1001"), n("tickType", "0"), F("size", "0.5")],
     "ibapi": ("tickSize", {"0": 1001, "1": 0, "2": Decimal("0.5")})},
    {"name": "tickString.rtVolume", "message": "tickString", "id": 46,
     "fields": [fixed("6"), n("reqId", "1001"), n("tickType", "48"), F("value", "187.26;100;1763910901000;1234567;187.2;true")],
     "ibapi": ("tickString", {"0": 1001, "1": 48, "2": "187.26;100;1763910901000;1234567;187.2;true"})},
    {"name": "tickGeneric.halted", "message": "tickGeneric", "id": 45,
     "fields": [fixed("6"), n("reqId", "1001"), n("tickType", "49"), n("value", "0.0")],
     "ibapi": ("tickGeneric", {"0": 1001, "1": 49, "2": 0.0})},
    {"name": "tickReqParams", "message": "tickReqParams", "id": 81,
     "fields": [n("reqId", "1001"), n("minTick", "0.01"), F("bboExchange", "9c0001"), n("snapshotPermissions", "3")],
     "ibapi": ("tickReqParams", {"0": 1001, "1": 0.01, "2": "9c0001", "3": 3})},
    {"name": "marketDataType", "message": "marketDataType", "id": 58,
     "fields": [fixed("1"), n("reqId", "1001"), n("marketDataType", "3")],
     "ibapi": ("marketDataType", {"0": 1001, "1": 3})},
    {"name": "tickSnapshotEnd", "message": "tickSnapshotEnd", "id": 57,
     "fields": [fixed("1"), n("reqId", "1002")], "ibapi": ("tickSnapshotEnd", {"0": 1002})},
    {"name": "tickByTick.last", "message": "tickByTick", "id": 99,
     "fields": [n("reqId", "5001"), n("tickType", "1"), n("time", "1763910901"), n("price", "187.26"), F("size", "100"),
                n("mask", "2"), F("exchange", "NASDAQ"), F("specialConditions", "T")],
     "ibapi": ("tickByTickAllLast", {"0": 5001, "1": 1, "2": 1763910901, "3": 187.26, "4": Decimal(100), "5.unreported": True, "6": "NASDAQ", "7": "T"})},
    {"name": "tickByTick.bidAsk", "message": "tickByTick", "id": 99,
     "fields": [n("reqId", "5002"), n("tickType", "3"), n("time", "1763910901"), n("bidPrice", "187.25"), n("askPrice", "187.27"),
                F("bidSize", "300"), F("askSize", "200"), n("mask", "0")],
     "ibapi": ("tickByTickBidAsk", {"0": 5002, "1": 1763910901, "2": 187.25, "3": 187.27, "4": Decimal(300), "5": Decimal(200)})},
    {"name": "tickByTick.midPoint", "message": "tickByTick", "id": 99,
     "fields": [n("reqId", "5003"), n("tickType", "4"), n("time", "1763910901"), n("midPoint", "187.26")],
     "ibapi": ("tickByTickMidPoint", {"0": 5003, "1": 1763910901, "2": 187.26})},
    {"name": "orderStatus.filled", "message": "orderStatus", "id": 3,
     "fields": [n("orderId", "12"), F("status", "Filled"), F("filled", "100"), F("remaining", "0"), n("avgFillPrice", "187.26"),
                n("permId", "1234567890123"), n("parentId", "0"), n("lastFillPrice", "187.26"), n("clientId", "7"),
                F("whyHeld", ""), n("mktCapPrice", "0.0")],
     "ibapi": ("orderStatus", {"0": 12, "1": "Filled", "2": Decimal(100), "3": Decimal(0), "4": 187.26, "5": 1234567890123, "8": 7})},
    {"name": "openOrder.restingLmt", "message": "openOrder", "id": 5, "fields": OPEN_ORDER_FIELDS,
     "ibapi": ("openOrder", {"0": 12, "1.symbol": "AAPL", "1.conId": 265598, "1.tradingClass": "NMS", "2.action": "BUY",
                             "2.totalQuantity": Decimal(100), "2.lmtPrice": 187.5, "2.account": "DU1234567", "2.orderRef": "mw:k1",
                             "2.clientId": 7, "2.permId": 1234567890123, "2.outsideRth": True, "2.clearingIntent": "IB",
                             "2.trailStopPrice": 181.25, "3.status": "Submitted", "3.initMarginBefore": "10000.5",
                             "3.commissionAndFees": 1.0, "3.commissionAndFeesCurrency": "USD",
                             "3.marginCurrency": (195, "USD")})},
    {"name": "completedOrder", "message": "completedOrder", "id": 101, "fields": COMPLETED_ORDER_FIELDS,
     "ibapi": ("completedOrder", {"0.symbol": "AAPL", "1.action": "SELL", "1.totalQuantity": Decimal(100), "1.orderType": "MKT",
                                  "1.account": "DU1234567", "1.orderRef": "mw:k2", "1.permId": 1234567890124,
                                  "1.filledQuantity": Decimal(100), "2.status": "Filled",
                                  "2.completedTime": "20261123 10:15:02 US/Eastern", "2.completedStatus": "Filled"})},
    {"name": "openOrderEnd", "message": "openOrderEnd", "id": 53, "fields": [fixed("1")], "ibapi": ("openOrderEnd", {})},
    {"name": "completedOrdersEnd", "message": "completedOrdersEnd", "id": 102, "fields": [], "ibapi": ("completedOrdersEnd", {})},
    {"name": "orderBound", "message": "orderBound", "id": 100,
     "fields": [n("permId", "1234567890123"), n("clientId", "0"), n("orderId", "-5")],
     "ibapi": ("orderBound", {"0": 1234567890123, "1": 0, "2": -5})},
    {"name": "execDetails", "message": "execDetails", "id": 11, "fields": EXEC_FIELDS,
     "ibapi": ("execDetails", {"0": -1, "1.symbol": "AAPL", "1.conId": 265598, "2.orderId": 12, "2.execId": "0000e0d5.6571f2a1.01.01",
                               "2.time": "20261123 10:15:01 US/Eastern", "2.side": "BOT", "2.shares": Decimal(100), "2.price": 187.26,
                               "2.permId": 1234567890123, "2.cumQty": Decimal(100), "2.avgPrice": 187.26, "2.orderRef": "mw:k1",
                               "2.lastLiquidity": 2})},
    {"name": "execDetailsEnd", "message": "execDetailsEnd", "id": 55, "fields": [fixed("1"), n("reqId", "6001")],
     "ibapi": ("execDetailsEnd", {"0": 6001})},
    {"name": "commissionReport", "message": "commissionReport", "id": 59,
     "fields": [fixed("1"), F("execId", "0000e0d5.6571f2a1.01.01"), n("commission", "1.0"), F("currency", "USD"),
                unset("realizedPNL"), unset("yield"), n("yieldRedemptionDate", "0")],
     "ibapi": ("commissionAndFeesReport", {"0.execId": "0000e0d5.6571f2a1.01.01", "0.commissionAndFees": 1.0, "0.currency": "USD"})},
    {"name": "commissionReport.realized", "message": "commissionReport", "id": 59,
     "fields": [fixed("1"), F("execId", "0000e0d5.6571f2a1.02.01"), n("commission", "1.25"), F("currency", "USD"),
                n("realizedPNL", "123.45"), unset("yield"), n("yieldRedemptionDate", "0")],
     "ibapi": ("commissionAndFeesReport", {"0.realizedPNL": 123.45})},
    {"name": "error.notice", "message": "error", "id": 4,
     "fields": [fixed("2", before=194), n("reqId", "-1"), n("errorCode", "2104"),
                F("errorString", "Market data farm connection is OK:usfarm"), F("advancedOrderRejectJson", "", since=166),
                n("errorTime", "1763910901123", since=194)],
     "ibapi": ("error", {"0": -1, "2": 2104, "3": "Market data farm connection is OK:usfarm"})},
    {"name": "error.orderReject", "message": "error", "id": 4,
     "fields": [fixed("2", before=194), n("reqId", "12"), n("errorCode", "201"),
                F("errorString", "Order rejected - reason:caf\\u00e9", value="Order rejected - reason:caf\u00e9"),
                F("advancedOrderRejectJson", '{"Code":"201"}', since=166), n("errorTime", "1763910901124", since=194)],
     "ibapi": ("error", {"0": 12, "2": 201, "3": "Order rejected - reason:caf\u00e9", "4": (166, '{"Code":"201"}')})},
    {"name": "nextValidId", "message": "nextValidId", "id": 9, "fields": [fixed("1"), n("orderId", "1")],
     "ibapi": ("nextValidId", {"0": 1})},
    {"name": "managedAccounts", "message": "managedAccounts", "id": 15, "fields": [fixed("1"), F("accountsList", "DU1234567,DU7654321,")],
     "ibapi": ("managedAccounts", {"0": "DU1234567,DU7654321,"})},
    {"name": "currentTime", "message": "currentTime", "id": 49, "fields": [fixed("1"), n("time", "1763910901")],
     "ibapi": ("currentTime", {"0": 1763910901})},
    {"name": "currentTimeInMillis", "message": "currentTimeInMillis", "id": 109, "since": 197,
     "fields": [n("timeInMillis", "1763910901123")], "ibapi": ("currentTimeInMillis", {"0": 1763910901123})},
    {"name": "historicalData", "message": "historicalData", "id": 17,
     "fields": [n("reqId", "2002"), F("startDate", "20261122 10:00:00 US/Eastern", before=196),
                F("endDate", "20261123 10:00:00 US/Eastern", before=196), fixed("2"),
                F("bars.0.date", "20261123 09:30:00 US/Eastern"), n("bars.0.open", "187.0"), n("bars.0.high", "187.5"),
                n("bars.0.low", "186.75"), n("bars.0.close", "187.25"), F("bars.0.volume", "12000"), F("bars.0.wap", "187.1"),
                n("bars.0.barCount", "85"),
                F("bars.1.date", "20261123 09:31:00 US/Eastern"), n("bars.1.open", "187.25"), n("bars.1.high", "187.3"),
                n("bars.1.low", "187.0"), n("bars.1.close", "187.1"), F("bars.1.volume", "8000.5"), F("bars.1.wap", "187.15"),
                n("bars.1.barCount", "40")],
     "ibapi": ("historicalData", {"0": 2002, "1.date": "20261123 09:30:00 US/Eastern", "1.open": 187.0, "1.high": 187.5,
                                  "1.low": 186.75, "1.close": 187.25, "1.volume": Decimal(12000), "1.wap": Decimal("187.1"),
                                  "1.barCount": 85})},
    {"name": "historicalDataEnd", "message": "historicalDataEnd", "id": 108, "since": 196,
     "fields": [n("reqId", "2002"), F("startDate", "20261122 10:00:00 US/Eastern"), F("endDate", "20261123 10:00:00 US/Eastern")],
     "ibapi": ("historicalDataEnd", {"0": 2002, "1": "20261122 10:00:00 US/Eastern", "2": "20261123 10:00:00 US/Eastern"})},
    {"name": "headTimestamp", "message": "headTimestamp", "id": 88,
     "fields": [n("reqId", "2010"), F("headTimestamp", "1104762600")],
     "ibapi": ("headTimestamp", {"0": 2010, "1": "1104762600"})},
    {"name": "historicalDataUpdate", "message": "historicalDataUpdate", "id": 90,
     "fields": [n("reqId", "2005"), n("bar.barCount", "12"), F("bar.date", "1763910900"), n("bar.open", "187.0"),
                n("bar.close", "187.2"), n("bar.high", "187.4"), n("bar.low", "186.9"), F("bar.wap", "187.15"), F("bar.volume", "3400")],
     "ibapi": ("historicalDataUpdate", {"0": 2005, "1.barCount": 12, "1.date": "1763910900", "1.open": 187.0, "1.close": 187.2,
                                        "1.high": 187.4, "1.low": 186.9, "1.wap": Decimal("187.15"), "1.volume": Decimal(3400)})},
    {"name": "realtimeBar", "message": "realtimeBar", "id": 50,
     "fields": [fixed("3"), n("reqId", "3001"), n("time", "1763910900"), n("open", "187.0"), n("high", "187.4"), n("low", "186.9"),
                n("close", "187.2"), F("volume", "1500"), F("wap", "187.12"), n("count", "14")],
     "ibapi": ("realtimeBar", {"0": 3001, "1": 1763910900, "2": 187.0, "3": 187.4, "4": 186.9, "5": 187.2,
                               "6": Decimal(1500), "7": Decimal("187.12"), "8": 14})},
    {"name": "contractData.stock", "message": "contractData", "id": 10, "fields": CONTRACT_DATA_FIELDS,
     "ibapi": ("contractDetails", {"0": 4001, "1.contract.symbol": "AAPL", "1.contract.conId": 265598, "1.minTick": 0.01,
                                   "1.longName": "APPLE INC \u00e9", "1.contract.primaryExchange": "NASDAQ", "1.timeZoneId": "US/Eastern",
                                   "1.secIdList.0.value": "US0378331005", "1.stockType": "COMMON",
                                   "1.suggestedSizeIncrement": (164, Decimal(100))})},
    {"name": "contractDataEnd", "message": "contractDataEnd", "id": 52, "fields": [fixed("1"), n("reqId", "4001")],
     "ibapi": ("contractDetailsEnd", {"0": 4001})},
    {"name": "position", "message": "position", "id": 61,
     "fields": [fixed("3"), F("account", "DU1234567")] + AAPL_REPORT + [F("position", "100"), n("avgCost", "187.26")],
     "ibapi": ("position", {"0": "DU1234567", "1.symbol": "AAPL", "1.tradingClass": "NMS", "2": Decimal(100), "3": 187.26})},
    {"name": "positionEnd", "message": "positionEnd", "id": 62, "fields": [fixed("1")], "ibapi": ("positionEnd", {})},
    {"name": "positionMulti", "message": "positionMulti", "id": 71,
     "fields": [fixed("1"), n("reqId", "9002"), F("account", "DU1234567")] + AAPL_REPORT
     + [F("position", "-50"), n("avgCost", "190.0"), F("modelCode", "")],
     "ibapi": ("positionMulti", {"0": 9002, "1": "DU1234567", "3.symbol": "AAPL", "4": Decimal(-50), "5": 190.0})},
    {"name": "positionMultiEnd", "message": "positionMultiEnd", "id": 72, "fields": [fixed("1"), n("reqId", "9002")],
     "ibapi": ("positionMultiEnd", {"0": 9002})},
    {"name": "accountSummary", "message": "accountSummary", "id": 63,
     "fields": [fixed("1"), n("reqId", "7001"), F("account", "DU1234567"), F("tag", "NetLiquidation"), F("value", "1000123.45"),
                F("currency", "USD")],
     "ibapi": ("accountSummary", {"0": 7001, "1": "DU1234567", "2": "NetLiquidation", "3": "1000123.45", "4": "USD"})},
    {"name": "accountSummaryEnd", "message": "accountSummaryEnd", "id": 64, "fields": [fixed("1"), n("reqId", "7001")],
     "ibapi": ("accountSummaryEnd", {"0": 7001})},
    {"name": "updateAccountValue", "message": "updateAccountValue", "id": 6,
     "fields": [fixed("2"), F("key", "CashBalance"), F("value", "981274.00"), F("currency", "USD"), F("accountName", "DU1234567")],
     "ibapi": ("updateAccountValue", {"0": "CashBalance", "1": "981274.00", "2": "USD", "3": "DU1234567"})},
    {"name": "updatePortfolio", "message": "updatePortfolio", "id": 7,
     "fields": [fixed("8"), n("contract.conId", "265598"), F("contract.symbol", "AAPL"), F("contract.secType", "STK"),
                F("contract.lastTradeDateOrContractMonth", ""), F("contract.strike", "0.0", value=None), F("contract.right", ""),
                F("contract.multiplier", ""), F("contract.primaryExchange", "NASDAQ"), F("contract.currency", "USD"),
                F("contract.localSymbol", "AAPL"), F("contract.tradingClass", "NMS"), F("position", "100"),
                n("marketPrice", "187.5"), n("marketValue", "18750.0"), n("averageCost", "187.26"), n("unrealizedPNL", "24.0"),
                n("realizedPNL", "0.0"), F("accountName", "DU1234567")],
     "ibapi": ("updatePortfolio", {"0.symbol": "AAPL", "0.primaryExchange": "NASDAQ", "0.tradingClass": "NMS",
                                   "1": Decimal(100), "2": 187.5, "3": 18750.0, "4": 187.26, "5": 24.0, "6": 0.0, "7": "DU1234567"})},
    {"name": "updateAccountTime", "message": "updateAccountTime", "id": 8, "fields": [fixed("1"), F("timeStamp", "10:15")],
     "ibapi": ("updateAccountTime", {"0": "10:15"})},
    {"name": "accountDownloadEnd", "message": "accountDownloadEnd", "id": 54, "fields": [fixed("1"), F("accountName", "DU1234567")],
     "ibapi": ("accountDownloadEnd", {"0": "DU1234567"})},
    {"name": "accountUpdateMulti", "message": "accountUpdateMulti", "id": 73,
     "fields": [fixed("1"), n("reqId", "9001"), F("account", "DU1234567"), F("modelCode", ""), F("key", "NetLiquidation"),
                F("value", "1000123.45"), F("currency", "USD")],
     "ibapi": ("accountUpdateMulti", {"0": 9001, "1": "DU1234567", "3": "NetLiquidation", "4": "1000123.45", "5": "USD"})},
    {"name": "accountUpdateMultiEnd", "message": "accountUpdateMultiEnd", "id": 74, "fields": [fixed("1"), n("reqId", "9001")],
     "ibapi": ("accountUpdateMultiEnd", {"0": 9001})},
    {"name": "pnl", "message": "pnl", "id": 94,
     "fields": [n("reqId", "8001"), n("dailyPnL", "-125.5"), n("unrealizedPnL", "24.0"), unset("realizedPnL")],
     "ibapi": ("pnl", {"0": 8001, "1": -125.5, "2": 24.0})},
    {"name": "pnlSingle", "message": "pnlSingle", "id": 95,
     "fields": [n("reqId", "8002"), F("position", "100"), n("dailyPnL", "24.0"), n("unrealizedPnL", "24.0"), n("realizedPnL", "0.0"),
                n("value", "18750.0")],
     "ibapi": ("pnlSingle", {"0": 8002, "1": Decimal(100), "2": 24.0, "3": 24.0, "4": 0.0, "5": 18750.0})},
]
