import Foundation
import TestSupport
import Testing
@testable import TWSProtocol

/// The byte vectors IB's own clients produced (Tests/Conformance/generate_golden.py).
enum GoldenVectors {
    static let directory = SourceTree.url("Tests/TWSProtocolTests/Golden")

    static func load(_ file: String) -> [[String: Any]] {
        let data = try! Data(contentsOf: directory.appendingPathComponent(file))
        let root = try! JSONSerialization.jsonObject(with: data) as! [String: Any]
        return root["cases"] as! [[String: Any]]
    }

    struct RequestCase: Sendable, CustomTestStringConvertible {
        let name: String
        /// The case as JSON text (JSON objects are not Sendable; re-parsed on use).
        let json: String
        var testDescription: String { name }
        var object: [String: Any] { try! JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any] }
    }

    struct MessageCase: Sendable, CustomTestStringConvertible {
        let name: String
        let versions: ClosedRange<Int>
        let payload: [UInt8]
        let valuesJSON: String
        var testDescription: String { "\(name) @\(versions)" }
        var values: [String: Any] { try! JSONSerialization.jsonObject(with: Data(valuesJSON.utf8)) as! [String: Any] }
    }

    static let requestCases: [RequestCase] = load("requests.json").map { item in
        let data = try! JSONSerialization.data(withJSONObject: item, options: [.sortedKeys])
        return RequestCase(name: item["name"] as! String, json: String(decoding: data, as: UTF8.self))
    }

    static let messageCases: [MessageCase] = load("messages.json").map { item in
        let versions = item["versions"] as! [Int]
        let values = try! JSONSerialization.data(withJSONObject: item["values"]!, options: [.sortedKeys])
        return MessageCase(name: item["name"] as! String, versions: versions[0]...versions[1],
                           payload: hexBytes(item["hex"] as! String), valuesJSON: String(decoding: values, as: UTF8.self))
    }
}

func hexBytes(_ hex: String) -> [UInt8] {
    var bytes: [UInt8] = []
    var index = hex.startIndex
    while index < hex.endIndex {
        let next = hex.index(index, offsetBy: 2)
        bytes.append(UInt8(hex[index..<next], radix: 16)!)
        index = next
    }
    return bytes
}

/// Where two payloads first differ, by field, for a failure message a person can read.
func difference(_ ours: [UInt8], _ expected: [UInt8]) -> String? {
    guard ours != expected else { return nil }
    let a = ours.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    let b = expected.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    for index in 0..<min(a.count, b.count) where a[index] != b[index] {
        return "field \(index): ours '\(a[index])', expected '\(b[index])' (\(a.count) vs \(b.count) fields)"
    }
    return "\(a.count) fields vs \(b.count) expected"
}

struct UnsupportedKey: Error, CustomStringConvertible {
    let key: String
    var description: String { "the test cannot map '\(key)' yet" }
}

/// Builds our request from the case's plain-data arguments (IB's method and attribute names).
enum RequestBuilder {
    static func request(method: String, args: [Any]) throws -> ClientRequest {
        func int(_ i: Int) -> Int { (args[i] as! NSNumber).intValue }
        func bool(_ i: Int) -> Bool { (args[i] as! NSNumber).boolValue }
        func string(_ i: Int) -> String { args[i] as! String }
        func contract(_ i: Int) throws -> Contract { try makeContract((args[i] as! [String: Any])["$contract"] as! [String: Any]) }
        switch method {
        case "startApi": return .startAPI(StartAPI(clientId: 7))
        case "reqIds": return .reqIds(ReqIds(numIds: int(0)))
        case "reqCurrentTime": return .reqCurrentTime(ReqCurrentTime())
        case "reqCurrentTimeInMillis": return .reqCurrentTimeInMillis(ReqCurrentTimeInMillis())
        case "reqManagedAccts": return .reqManagedAccts(ReqManagedAccts())
        case "reqMktData":
            return .reqMktData(ReqMktData(reqId: int(0), contract: try contract(1), genericTickList: string(2),
                                          snapshot: bool(3), regulatorySnapshot: bool(4)))
        case "cancelMktData": return .cancelMktData(CancelMktData(reqId: int(0)))
        case "reqMarketDataType": return .reqMarketDataType(ReqMarketDataType(marketDataType: int(0)))
        case "reqHistoricalData":
            return .reqHistoricalData(ReqHistoricalData(
                reqId: int(0), contract: try contract(1), endDateTime: string(2), durationStr: string(3),
                barSizeSetting: string(4), whatToShow: string(5), useRTH: bool(6), formatDate: int(7), keepUpToDate: bool(8)))
        case "cancelHistoricalData": return .cancelHistoricalData(CancelHistoricalData(reqId: int(0)))
        case "reqHeadTimeStamp":
            return .reqHeadTimeStamp(ReqHeadTimestamp(reqId: int(0), contract: try contract(1), whatToShow: string(2), useRTH: bool(3),
                                                      formatDate: int(4)))
        case "cancelHeadTimeStamp": return .cancelHeadTimeStamp(CancelHeadTimestamp(reqId: int(0)))
        case "reqRealTimeBars":
            var request = ReqRealTimeBars(reqId: int(0), contract: try contract(1), whatToShow: string(3), useRTH: bool(4))
            request.barSize = int(2)
            return .reqRealTimeBars(request)
        case "cancelRealTimeBars": return .cancelRealTimeBars(CancelRealTimeBars(reqId: int(0)))
        case "reqContractDetails": return .reqContractDetails(ReqContractDetails(reqId: int(0), contract: try contract(1)))
        case "reqTickByTickData":
            return .reqTickByTickData(ReqTickByTickData(reqId: int(0), contract: try contract(1), tickType: string(2),
                                                        numberOfTicks: int(3), ignoreSize: bool(4)))
        case "cancelTickByTickData": return .cancelTickByTickData(CancelTickByTickData(reqId: int(0)))
        case "placeOrder":
            let order = try makeOrder((args[2] as! [String: Any])["$order"] as! [String: Any])
            return .placeOrder(PlaceOrder(orderId: int(0), contract: try contract(1), order: order))
        case "cancelOrder":
            var cancel = CancelOrder(orderId: int(0))
            let fields = (args[1] as! [String: Any])["$orderCancel"] as! [String: Any]
            cancel.manualOrderCancelTime = fields["manualOrderCancelTime"] as? String ?? ""
            return .cancelOrder(cancel)
        case "reqGlobalCancel": return .reqGlobalCancel(ReqGlobalCancel())
        case "reqOpenOrders": return .reqOpenOrders(ReqOpenOrders())
        case "reqAllOpenOrders": return .reqAllOpenOrders(ReqAllOpenOrders())
        case "reqAutoOpenOrders": return .reqAutoOpenOrders(ReqAutoOpenOrders(autoBind: bool(0)))
        case "reqCompletedOrders": return .reqCompletedOrders(ReqCompletedOrders(apiOnly: bool(0)))
        case "reqExecutions":
            let fields = (args[1] as! [String: Any])["$execFilter"] as! [String: Any]
            var filter = ExecutionFilter()
            for (key, value) in fields {
                switch key {
                case "clientId": filter.clientId = (value as! NSNumber).intValue
                case "acctCode": filter.acctCode = value as! String
                case "time": filter.time = value as! String
                case "symbol": filter.symbol = value as! String
                case "secType": filter.secType = value as! String
                case "exchange": filter.exchange = value as! String
                case "side": filter.side = value as! String
                case "lastNDays": filter.lastNDays = (value as! NSNumber).intValue
                case "specificDates": filter.specificDates = (value as! [NSNumber]).map(\.intValue)
                default: throw UnsupportedKey(key: key)
                }
            }
            return .reqExecutions(ReqExecutions(reqId: int(0), filter: filter))
        case "reqPositions": return .reqPositions(ReqPositions())
        case "cancelPositions": return .cancelPositions(CancelPositions())
        case "reqAccountUpdates": return .reqAccountUpdates(ReqAccountUpdates(subscribe: bool(0), acctCode: string(1)))
        case "reqAccountSummary":
            return .reqAccountSummary(ReqAccountSummary(reqId: int(0), groupName: string(1), tags: string(2)))
        case "cancelAccountSummary": return .cancelAccountSummary(CancelAccountSummary(reqId: int(0)))
        case "reqPnL": return .reqPnL(ReqPnL(reqId: int(0), account: string(1), modelCode: string(2)))
        case "cancelPnL": return .cancelPnL(CancelPnL(reqId: int(0)))
        case "reqPnLSingle":
            return .reqPnLSingle(ReqPnLSingle(reqId: int(0), account: string(1), modelCode: string(2), conId: int(3)))
        case "cancelPnLSingle": return .cancelPnLSingle(CancelPnLSingle(reqId: int(0)))
        case "reqAccountUpdatesMulti":
            return .reqAccountUpdatesMulti(ReqAccountUpdatesMulti(reqId: int(0), account: string(1), modelCode: string(2),
                                                                  ledgerAndNLV: bool(3)))
        case "cancelAccountUpdatesMulti": return .cancelAccountUpdatesMulti(CancelAccountUpdatesMulti(reqId: int(0)))
        case "reqPositionsMulti":
            return .reqPositionsMulti(ReqPositionsMulti(reqId: int(0), account: string(1), modelCode: string(2)))
        case "cancelPositionsMulti": return .cancelPositionsMulti(CancelPositionsMulti(reqId: int(0)))
        default: throw UnsupportedKey(key: method)
        }
    }

    static func makeContract(_ fields: [String: Any]) throws -> Contract {
        var contract = Contract()
        for (key, value) in fields {
            switch key {
            case "conId": contract.conId = (value as! NSNumber).intValue
            case "symbol": contract.symbol = value as! String
            case "secType": contract.secType = value as! String
            case "lastTradeDateOrContractMonth": contract.lastTradeDateOrContractMonth = value as! String
            case "strike": contract.strike = (value as! NSNumber).doubleValue
            case "right": contract.right = value as! String
            case "multiplier": contract.multiplier = value as! String
            case "exchange": contract.exchange = value as! String
            case "primaryExchange": contract.primaryExchange = value as! String
            case "currency": contract.currency = value as! String
            case "localSymbol": contract.localSymbol = value as! String
            case "tradingClass": contract.tradingClass = value as! String
            case "includeExpired": contract.includeExpired = (value as! NSNumber).boolValue
            case "secIdType": contract.secIdType = value as! String
            case "secId": contract.secId = value as! String
            case "comboLegs":
                contract.comboLegs = try (value as! [[String: Any]]).map { leg in
                    var combo = ComboLeg()
                    for (k, v) in leg {
                        switch k {
                        case "conId": combo.conId = (v as! NSNumber).intValue
                        case "ratio": combo.ratio = (v as! NSNumber).intValue
                        case "action": combo.action = v as! String
                        case "exchange": combo.exchange = v as! String
                        case "openClose": combo.openClose = (v as! NSNumber).intValue
                        case "exemptCode": combo.exemptCode = (v as! NSNumber).intValue
                        default: throw UnsupportedKey(key: "comboLeg.\(k)")
                        }
                    }
                    return combo
                }
            case "deltaNeutralContract":
                let dn = value as! [String: Any]
                var neutral = DeltaNeutralContract()
                neutral.conId = (dn["conId"] as! NSNumber).intValue
                neutral.delta = (dn["delta"] as! NSNumber).doubleValue
                neutral.price = (dn["price"] as! NSNumber).doubleValue
                contract.deltaNeutralContract = neutral
            default: throw UnsupportedKey(key: "contract.\(key)")
            }
        }
        return contract
    }

    static func makeOrder(_ fields: [String: Any]) throws -> Order {
        var order = Order()
        func double(_ value: Any) -> Double {
            if let text = value as? String, text == "inf" { return .infinity }
            return (value as! NSNumber).doubleValue
        }
        for (key, value) in fields {
            let number = value as? NSNumber
            switch key {
            case "action": order.action = value as! String
            case "totalQuantity":
                let text = (value as? String) ?? number!.stringValue
                order.totalQuantity = Array(text.utf8).withUnsafeBytes { TWSDecimal.parse($0, from: 0, to: text.utf8.count) }
            case "orderType": order.orderType = value as! String
            case "lmtPrice": order.lmtPrice = double(value)
            case "auxPrice": order.auxPrice = double(value)
            case "tif": order.tif = value as! String
            case "outsideRth": order.outsideRth = number!.boolValue
            case "orderRef": order.orderRef = value as! String
            case "account": order.account = value as! String
            case "transmit": order.transmit = number!.boolValue
            case "parentId": order.parentId = number!.intValue
            case "ocaGroup": order.ocaGroup = value as! String
            case "ocaType": order.ocaType = number!.intValue
            case "trailingPercent": order.trailingPercent = double(value)
            case "trailStopPrice": order.trailStopPrice = double(value)
            case "goodTillDate": order.goodTillDate = value as! String
            case "goodAfterTime": order.goodAfterTime = value as! String
            case "displaySize": order.displaySize = number!.intValue
            case "hidden": order.hidden = number!.boolValue
            case "orderComboLegs": order.orderComboLegPrices = (value as! [Any]).map { $0 is NSNull ? nil : double($0) }
            case "smartComboRoutingParams":
                order.smartComboRoutingParams = (value as! [[String]]).map { TagValue($0[0], $0[1]) }
            case "algoStrategy": order.algoStrategy = value as! String
            case "algoParams": order.algoParams = (value as! [[String]]).map { TagValue($0[0], $0[1]) }
            case "conditionsIgnoreRth": order.conditionsIgnoreRth = number!.boolValue
            case "conditions":
                order.conditions = (value as! [[String: Any]]).map { item in
                    var condition = OrderCondition()
                    condition.type = (item["type"] as! NSNumber).intValue
                    condition.isConjunction = (item["isConjunction"] as? NSNumber)?.boolValue ?? true
                    condition.isMore = (item["isMore"] as? NSNumber)?.boolValue ?? false
                    condition.value = item["value"] as? String ?? ""
                    condition.conId = (item["conId"] as? NSNumber)?.intValue ?? 0
                    condition.exchange = item["exchange"] as? String ?? ""
                    condition.triggerMethod = (item["triggerMethod"] as? NSNumber)?.intValue ?? 0
                    return condition
                }
            case "minTradeQty": order.minTradeQty = number!.intValue
            case "minCompeteSize": order.minCompeteSize = number!.intValue
            case "competeAgainstBestOffset": order.competeAgainstBestOffset = double(value)
            case "midOffsetAtWhole": order.midOffsetAtWhole = double(value)
            case "midOffsetAtHalf": order.midOffsetAtHalf = double(value)
            case "volatility": order.volatility = double(value)
            case "volatilityType": order.volatilityType = number!.intValue
            case "deltaNeutralOrderType": order.deltaNeutralOrderType = value as! String
            case "deltaNeutralConId": order.deltaNeutralConId = number!.intValue
            case "continuousUpdate": order.continuousUpdate = number!.boolValue
            case "referencePriceType": order.referencePriceType = number!.intValue
            case "scaleInitLevelSize": order.scaleInitLevelSize = number!.intValue
            case "scaleSubsLevelSize": order.scaleSubsLevelSize = number!.intValue
            case "scalePriceIncrement": order.scalePriceIncrement = double(value)
            case "scaleAutoReset": order.scaleAutoReset = number!.boolValue
            case "hedgeType": order.hedgeType = value as! String
            case "hedgeParam": order.hedgeParam = value as! String
            case "cashQty": order.cashQty = double(value)
            case "usePriceMgmtAlgo": order.usePriceMgmtAlgo = number!.boolValue
            case "whatIf": order.whatIf = number!.boolValue
            default: throw UnsupportedKey(key: "order.\(key)")
            }
        }
        return order
    }
}

/// Flattens a decoded value into `path → leaf` (e.g. `order.lmtPrice`, `bars.0.date`) so it
/// can be compared with the golden values whatever the message type.
func flatten(_ value: Any, prefix: String = "", into out: inout [String: Any?]) {
    if value is TWSDecimal || value is String || value is Int || value is Int64 || value is Double || value is Bool {
        out[prefix] = value
        return
    }
    let mirror = Mirror(reflecting: value)
    switch mirror.displayStyle {
    case .optional:
        if let child = mirror.children.first { flatten(child.value, prefix: prefix, into: &out) } else { out[prefix] = .some(nil) }
    case .collection:
        for (index, child) in mirror.children.enumerated() {
            flatten(child.value, prefix: prefix.isEmpty ? "\(index)" : "\(prefix).\(index)", into: &out)
        }
    default:
        for child in mirror.children {
            guard let label = child.label else { continue }
            flatten(child.value, prefix: prefix.isEmpty ? label : "\(prefix).\(label)", into: &out)
        }
    }
}

/// Does a decoded leaf equal the golden JSON value?
func leaf(_ actual: Any?, equals expected: Any) -> Bool {
    if expected is NSNull { return actual == nil }
    guard let actual else { return false }
    switch actual {
    case let value as String: return value == expected as? String
    case let value as TWSDecimal: return value.description == expected as? String
    case let value as Bool: return value == (expected as? NSNumber)?.boolValue
    case let value as Int: return Int64(value) == (expected as? NSNumber)?.int64Value
    case let value as Int64: return value == (expected as? NSNumber)?.int64Value
    case let value as Double: return value == (expected as? NSNumber)?.doubleValue
    default: return false
    }
}
