import Testing
@testable import TWSProtocol

/// `Order` keeps its fields behind one shared reference until written: it must still behave as
/// a value, whatever shares them.
@Suite("Order: a value, though its fields are shared until written")
struct OrderValueTests {
    @Test("a copy changed leaves the original as it was, by field, through `fields` and through the codec's blocks")
    func copiesAreIndependent() {
        var original = Order(action: "BUY", quantity: TWSDecimal(approximating: 10), type: "LMT", limit: 101.5)
        original.algoParams = [TagValue("a", "1")]
        var byField = original
        byField.lmtPrice = 99
        byField.algoParams.append(TagValue("b", "2"))
        var whole = original
        whole.fields.tif = "GTC"
        var fresh = Order()
        fresh.orderRef = "mine"
        #expect(original.lmtPrice == 101.5 && original.algoParams.count == 1 && original.tif == "DAY")
        #expect(byField.lmtPrice == 99 && byField.algoParams.count == 2 && whole.tif == "GTC")
        #expect(Order().orderRef == "", "a new order's shared defaults were not written through")
        #expect(original != byField && original != whole)
        // Equal fields are equal orders, shared or not, with equal hashes.
        var rebuilt = Order(action: "BUY", quantity: TWSDecimal(approximating: 10), type: "LMT", limit: 101.5)
        rebuilt.algoParams = [TagValue("a", "1")]
        #expect(rebuilt == original && rebuilt.hashValue == original.hashValue)
        // Encoding a copy (the codec writes through inout) changes nothing of the original.
        let before = original.fields
        _ = try? PlaceOrder(orderId: 1, contract: Contract(), order: original).payload(serverVersion: ServerVersion.supported.upperBound, style: .python)
        #expect(original.fields == before)
    }

    @Test("its mirror names the fields, as when they were its own")
    func mirrorNamesFields() {
        var order = Order()
        order.lmtPrice = 5
        let labels = Mirror(reflecting: order).children.compactMap(\.label)
        #expect(labels.contains("lmtPrice") && labels.contains("algoParams") && labels.count == 141, "\(labels.count) labels: one a field")
    }
}
