"""Request cases for the byte-for-byte conformance of our encoder with IB's own client.

Each case names an EClient method and its arguments in plain data: `{"$contract": {...}}`,
`{"$order": {...}}`, `{"$execFilter": {...}}`, `{"$orderCancel": {...}}` and
`{"$tagValues": [[tag, value], ...]}` stand for IB's objects, with IB's attribute names.
The generator drives ibapi (every server version 157-200) and ib_async (178) with them;
the Swift suite builds the same requests from the same data and compares bytes.
"""

AAPL = {"symbol": "AAPL", "secType": "STK", "exchange": "SMART", "primaryExchange": "NASDAQ", "currency": "USD"}
MSFT_CONID = {"conId": 272093, "exchange": "SMART", "currency": "USD", "secType": "STK", "symbol": "MSFT"}
SPY_OPT = {"symbol": "SPY", "secType": "OPT", "lastTradeDateOrContractMonth": "20261218", "strike": 600.0,
           "right": "C", "multiplier": "100", "exchange": "SMART", "currency": "USD", "tradingClass": "SPY"}
ES_FUT = {"symbol": "ES", "secType": "FUT", "lastTradeDateOrContractMonth": "202612", "exchange": "CME",
          "currency": "USD", "localSymbol": "ESZ6", "multiplier": "50"}
EURUSD = {"symbol": "EUR", "secType": "CASH", "exchange": "IDEALPRO", "currency": "USD"}
BAG = {"symbol": "SPY", "secType": "BAG", "exchange": "SMART", "currency": "USD",
       "comboLegs": [{"conId": 756733, "ratio": 1, "action": "BUY", "exchange": "SMART"},
                     {"conId": 756734, "ratio": 2, "action": "SELL", "exchange": "SMART", "openClose": 1, "exemptCode": -1}]}
DN_STK = dict(AAPL, deltaNeutralContract={"conId": 265598, "delta": 0.5, "price": 187.25})
ATS = dict(AAPL, exchange="IBKRATS")


def c(**kw):
    return {"$contract": kw}


def o(**kw):
    return {"$order": kw}


def order(action, qty, type_, **kw):
    kw.update(action=action, totalQuantity=qty, orderType=type_)
    return {"$order": kw}


CASES = [
    # Session
    {"name": "startApi", "method": "startApi", "args": []},
    {"name": "reqIds", "method": "reqIds", "args": [-1]},
    {"name": "reqIds.one", "method": "reqIds", "args": [1]},
    {"name": "reqCurrentTime", "method": "reqCurrentTime", "args": []},
    {"name": "reqCurrentTimeInMillis", "method": "reqCurrentTimeInMillis", "args": [], "clients": ["ibapi"]},
    {"name": "reqManagedAccts", "method": "reqManagedAccts", "args": []},
    # Market data
    {"name": "reqMktData.plain", "method": "reqMktData", "args": [1001, {"$contract": AAPL}, "", False, False, []]},
    {"name": "reqMktData.genericTicks", "method": "reqMktData", "args": [1001, {"$contract": AAPL}, "233,236", False, False, []]},
    {"name": "reqMktData.snapshot", "method": "reqMktData", "args": [1002, {"$contract": MSFT_CONID}, "", True, False, []]},
    {"name": "reqMktData.regulatorySnapshot", "method": "reqMktData", "args": [1003, {"$contract": AAPL}, "", True, True, []]},
    {"name": "reqMktData.option", "method": "reqMktData", "args": [1004, {"$contract": SPY_OPT}, "100,101,106", False, False, []]},
    {"name": "reqMktData.future", "method": "reqMktData", "args": [1005, {"$contract": ES_FUT}, "", False, False, []]},
    {"name": "reqMktData.forex", "method": "reqMktData", "args": [1006, {"$contract": EURUSD}, "", False, False, []]},
    {"name": "reqMktData.combo", "method": "reqMktData", "args": [1007, {"$contract": BAG}, "", False, False, []]},
    {"name": "reqMktData.deltaNeutral", "method": "reqMktData", "args": [1008, {"$contract": DN_STK}, "", False, False, []]},
    {"name": "cancelMktData", "method": "cancelMktData", "args": [1001]},
    {"name": "reqMarketDataType.delayed", "method": "reqMarketDataType", "args": [3]},
    {"name": "reqMarketDataType.live", "method": "reqMarketDataType", "args": [1]},
    {"name": "reqHistoricalData.midpoint", "method": "reqHistoricalData",
     "args": [2002, {"$contract": AAPL}, "", "1 D", "1 min", "MIDPOINT", 1, 2, False, []]},
    {"name": "reqHistoricalData.trades.end", "method": "reqHistoricalData",
     "args": [2003, {"$contract": AAPL}, "20260102 16:00:00 US/Eastern", "2 W", "1 hour", "TRADES", 1, 1, False, []]},
    {"name": "reqHistoricalData.utc.allHours", "method": "reqHistoricalData",
     "args": [2004, {"$contract": MSFT_CONID}, "20260102-21:00:00", "3600 S", "5 secs", "BID_ASK", 0, 1, False, []]},
    {"name": "reqHistoricalData.keepUpToDate", "method": "reqHistoricalData",
     "args": [2005, {"$contract": AAPL}, "", "1 D", "5 mins", "TRADES", 0, 1, True, []]},
    {"name": "reqHistoricalData.daily.future", "method": "reqHistoricalData",
     "args": [2006, {"$contract": ES_FUT}, "", "1 Y", "1 day", "TRADES", 1, 1, False, []]},
    {"name": "reqHistoricalData.combo", "method": "reqHistoricalData",
     "args": [2007, {"$contract": BAG}, "", "1 D", "1 min", "TRADES", 1, 1, False, []]},
    {"name": "cancelHistoricalData", "method": "cancelHistoricalData", "args": [2005]},
    {"name": "reqHeadTimeStamp.epoch", "method": "reqHeadTimeStamp", "args": [2010, {"$contract": AAPL}, "TRADES", 1, 2]},
    {"name": "reqHeadTimeStamp.future", "method": "reqHeadTimeStamp", "args": [2011, {"$contract": ES_FUT}, "MIDPOINT", 0, 1]},
    {"name": "cancelHeadTimeStamp", "method": "cancelHeadTimeStamp", "args": [2010]},
    {"name": "reqRealTimeBars.trades", "method": "reqRealTimeBars", "args": [3001, {"$contract": AAPL}, 5, "TRADES", True, []]},
    {"name": "reqRealTimeBars.midpoint", "method": "reqRealTimeBars", "args": [3002, {"$contract": EURUSD}, 5, "MIDPOINT", False, []]},
    {"name": "cancelRealTimeBars", "method": "cancelRealTimeBars", "args": [3001]},
    {"name": "reqContractDetails.symbol", "method": "reqContractDetails", "args": [4001, {"$contract": AAPL}]},
    {"name": "reqContractDetails.conId", "method": "reqContractDetails", "args": [4002, c(conId=265598)]},
    {"name": "reqContractDetails.isin", "method": "reqContractDetails",
     "args": [4003, c(secIdType="ISIN", secId="US0378331005", exchange="SMART", currency="USD", secType="STK")]},
    {"name": "reqContractDetails.option", "method": "reqContractDetails", "args": [4004, {"$contract": SPY_OPT}]},
    {"name": "reqContractDetails.expired", "method": "reqContractDetails",
     "args": [4005, c(symbol="ES", secType="FUT", exchange="CME", currency="USD", includeExpired=True)]},
    {"name": "reqTickByTickData.last", "method": "reqTickByTickData", "args": [5001, {"$contract": AAPL}, "Last", 0, False]},
    {"name": "reqTickByTickData.bidAsk", "method": "reqTickByTickData", "args": [5002, {"$contract": AAPL}, "BidAsk", 10, True]},
    {"name": "cancelTickByTickData", "method": "cancelTickByTickData", "args": [5001]},
    # Orders
    {"name": "placeOrder.mkt", "method": "placeOrder", "args": [12, {"$contract": AAPL}, order("BUY", 100, "MKT", tif="DAY")]},
    {"name": "placeOrder.lmt", "method": "placeOrder", "args": [12, {"$contract": AAPL}, order("BUY", 100, "LMT", lmtPrice=187.5, tif="DAY")]},
    {"name": "placeOrder.stp", "method": "placeOrder", "args": [13, {"$contract": AAPL}, order("SELL", 100, "STP", auxPrice=180.0, tif="DAY")]},
    {"name": "placeOrder.stplmt", "method": "placeOrder",
     "args": [14, {"$contract": AAPL}, order("SELL", 100, "STP LMT", lmtPrice=179.5, auxPrice=180.0, tif="DAY")]},
    {"name": "placeOrder.lmt.gtc.outsideRth.ref", "method": "placeOrder",
     "args": [15, {"$contract": AAPL}, order("BUY", 250, "LMT", lmtPrice=150.25, tif="GTC", outsideRth=True, orderRef="mw:sma_cross:7f3a")]},
    {"name": "placeOrder.mkt.account", "method": "placeOrder",
     "args": [16, {"$contract": MSFT_CONID}, order("SELL", 10, "MKT", tif="DAY", account="DU1234567")]},
    {"name": "placeOrder.fractional", "method": "placeOrder", "args": [17, {"$contract": AAPL}, order("BUY", "0.5", "MKT")]},
    {"name": "placeOrder.bracket.parent", "method": "placeOrder",
     "args": [18, {"$contract": AAPL}, order("BUY", 100, "LMT", lmtPrice=187.0, tif="DAY", transmit=False)]},
    {"name": "placeOrder.bracket.child", "method": "placeOrder",
     "args": [19, {"$contract": AAPL}, order("SELL", 100, "STP", auxPrice=185.0, tif="DAY", parentId=18, transmit=True)]},
    {"name": "placeOrder.oca", "method": "placeOrder",
     "args": [20, {"$contract": AAPL}, order("SELL", 100, "LMT", lmtPrice=195.0, ocaGroup="oca-1", ocaType=1)]},
    {"name": "placeOrder.trail", "method": "placeOrder",
     "args": [21, {"$contract": AAPL}, order("SELL", 100, "TRAIL", trailingPercent=1.5, trailStopPrice=180.0)]},
    {"name": "placeOrder.gtd", "method": "placeOrder",
     "args": [22, {"$contract": AAPL}, order("BUY", 100, "LMT", lmtPrice=180.0, tif="GTD", goodTillDate="20261231 16:00:00 US/Eastern",
                                             goodAfterTime="20261201 09:30:00 US/Eastern")]},
    {"name": "placeOrder.iceberg", "method": "placeOrder",
     "args": [23, {"$contract": AAPL}, order("BUY", 1000, "LMT", lmtPrice=186.0, displaySize=100, hidden=False)]},
    {"name": "placeOrder.option", "method": "placeOrder",
     "args": [24, {"$contract": SPY_OPT}, order("BUY", 1, "LMT", lmtPrice=12.35, tif="DAY")]},
    {"name": "placeOrder.future", "method": "placeOrder",
     "args": [25, {"$contract": ES_FUT}, order("SELL", 2, "MKT")]},
    {"name": "placeOrder.combo", "method": "placeOrder",
     "args": [26, {"$contract": BAG}, order("BUY", 1, "LMT", lmtPrice=1.25, orderComboLegs=[None, 2.5],
                                            smartComboRoutingParams=[["NonGuaranteed", "1"]])]},
    {"name": "placeOrder.algo", "method": "placeOrder",
     "args": [27, {"$contract": AAPL}, order("BUY", 500, "LMT", lmtPrice=187.0, algoStrategy="Adaptive",
                                             algoParams=[["adaptivePriority", "Normal"]])]},
    {"name": "placeOrder.conditions", "method": "placeOrder",
     "args": [28, {"$contract": AAPL}, order("BUY", 100, "MKT", conditionsIgnoreRth=True, conditions=[
         {"type": 1, "isConjunction": True, "isMore": True, "value": "190.5", "conId": 265598, "exchange": "SMART", "triggerMethod": 0},
         {"type": 3, "isConjunction": False, "isMore": True, "value": "20261201 10:00:00 US/Eastern"}])],
     "clients": ["ibapi"]},
    {"name": "placeOrder.pegBest", "method": "placeOrder",
     "args": [29, {"$contract": ATS}, order("BUY", 100, "PEG BEST", minTradeQty=10, minCompeteSize=100, competeAgainstBestOffset=0.02)]},
    {"name": "placeOrder.pegBest.upToMid", "method": "placeOrder",
     "args": [30, {"$contract": ATS}, order("BUY", 100, "PEG BEST", minCompeteSize=100, competeAgainstBestOffset="inf",
                                            midOffsetAtWhole=0.01, midOffsetAtHalf=0.005)]},
    {"name": "placeOrder.pegMid", "method": "placeOrder",
     "args": [31, {"$contract": AAPL}, order("SELL", 100, "PEG MID", midOffsetAtWhole=0.02, midOffsetAtHalf=0.01)]},
    {"name": "placeOrder.volatility.deltaNeutral", "method": "placeOrder",
     "args": [32, {"$contract": SPY_OPT}, order("BUY", 1, "VOL", volatility=0.25, volatilityType=2, deltaNeutralOrderType="MKT",
                                                deltaNeutralConId=756733, continuousUpdate=True, referencePriceType=1)]},
    {"name": "placeOrder.scale", "method": "placeOrder",
     "args": [33, {"$contract": AAPL}, order("BUY", 1000, "LMT", lmtPrice=180.0, scaleInitLevelSize=100, scaleSubsLevelSize=100,
                                             scalePriceIncrement=0.05, scaleAutoReset=True)]},
    {"name": "placeOrder.hedge", "method": "placeOrder",
     "args": [34, {"$contract": AAPL}, order("BUY", 100, "LMT", lmtPrice=180.0, hedgeType="B", hedgeParam="beta=1.2")]},
    {"name": "placeOrder.cashQty.priceMgmt", "method": "placeOrder",
     "args": [35, {"$contract": AAPL}, order("BUY", 0, "MKT", cashQty=5000.0, usePriceMgmtAlgo=True)]},
    {"name": "placeOrder.whatIf", "method": "placeOrder",
     "args": [36, {"$contract": AAPL}, order("BUY", 100, "LMT", lmtPrice=1.0, whatIf=True)]},
    {"name": "placeOrder.deltaNeutralContract", "method": "placeOrder",
     "args": [37, {"$contract": DN_STK}, order("BUY", 100, "MKT")]},
    {"name": "placeOrder.modify", "method": "placeOrder",
     "args": [12, {"$contract": AAPL}, order("BUY", 200, "LMT", lmtPrice=186.75, tif="DAY")]},
    {"name": "cancelOrder", "method": "cancelOrder", "args": [12, {"$orderCancel": {}}]},
    {"name": "cancelOrder.manualTime", "method": "cancelOrder", "args": [12, {"$orderCancel": {"manualOrderCancelTime": "20260102 10:00:00 US/Eastern"}}]},
    {"name": "reqGlobalCancel", "method": "reqGlobalCancel", "args": [{"$orderCancel": {}}]},
    {"name": "reqOpenOrders", "method": "reqOpenOrders", "args": []},
    {"name": "reqAllOpenOrders", "method": "reqAllOpenOrders", "args": []},
    {"name": "reqAutoOpenOrders", "method": "reqAutoOpenOrders", "args": [True]},
    {"name": "reqCompletedOrders", "method": "reqCompletedOrders", "args": [False]},
    {"name": "reqExecutions.all", "method": "reqExecutions", "args": [6001, {"$execFilter": {}}]},
    {"name": "reqExecutions.filtered", "method": "reqExecutions",
     "args": [6002, {"$execFilter": {"clientId": 7, "acctCode": "DU1234567", "time": "20260102-09:30:00", "symbol": "AAPL",
                                     "secType": "STK", "exchange": "SMART", "side": "BUY"}}]},
    {"name": "reqExecutions.lastNDays", "method": "reqExecutions",
     "args": [6003, {"$execFilter": {"lastNDays": 3, "specificDates": [20260102, 20260105]}}], "clients": ["ibapi"]},
    # Account
    {"name": "reqPositions", "method": "reqPositions", "args": []},
    {"name": "cancelPositions", "method": "cancelPositions", "args": []},
    {"name": "reqAccountUpdates.subscribe", "method": "reqAccountUpdates", "args": [True, "DU1234567"]},
    {"name": "reqAccountUpdates.unsubscribe", "method": "reqAccountUpdates", "args": [False, "DU1234567"]},
    {"name": "reqAccountSummary", "method": "reqAccountSummary",
     "args": [7001, "All", "NetLiquidation,TotalCashValue,BuyingPower,AvailableFunds"]},
    {"name": "reqAccountSummary.ledger", "method": "reqAccountSummary", "args": [7002, "All", "$LEDGER:ALL"]},
    {"name": "cancelAccountSummary", "method": "cancelAccountSummary", "args": [7001]},
    {"name": "reqPnL", "method": "reqPnL", "args": [8001, "DU1234567", ""]},
    {"name": "cancelPnL", "method": "cancelPnL", "args": [8001]},
    {"name": "reqPnLSingle", "method": "reqPnLSingle", "args": [8002, "DU1234567", "", 265598]},
    {"name": "cancelPnLSingle", "method": "cancelPnLSingle", "args": [8002]},
    {"name": "reqAccountUpdatesMulti", "method": "reqAccountUpdatesMulti", "args": [9001, "DU1234567", "", False]},
    {"name": "cancelAccountUpdatesMulti", "method": "cancelAccountUpdatesMulti", "args": [9001]},
    {"name": "reqPositionsMulti", "method": "reqPositionsMulti", "args": [9002, "DU1234567", ""]},
    {"name": "cancelPositionsMulti", "method": "cancelPositionsMulti", "args": [9002]},
]
