/// Negotiated server versions and the thresholds at which in-scope layouts change.
///
/// Only thresholds inside the range we speak (157...200) are listed: every older one is
/// always true for us, so the layouts below simply include those fields unconditionally.
/// Values are IB's `MIN_SERVER_VER_*` constants from ibapi 10.50 `server_versions.py`.
public enum ServerVersion {
    /// The range the client advertises in its hello (`v100..200`), as IB's own clients do.
    public static let advertised: ClosedRange<Int> = 100...200
    /// The versions whose layouts this codec implements.
    public static let supported: ClosedRange<Int> = 157...200
    /// 187–189 add RFQ placeholder fields that 190 removes again; implemented below.
    public static let rfqWindow: ClosedRange<Int> = 187...189

    public static let duration = 158
    public static let marketDataInShares = 159
    public static let postToATS = 160
    public static let autoCancelParent = 162
    public static let fractionalSizeSupport = 163
    public static let sizeRules = 164
    public static let historicalSchedule = 165
    public static let advancedOrderReject = 166
    public static let manualOrderTime = 169
    public static let pegBestPegMidOffsets = 170
    public static let bondIssuerID = 176
    public static let faProfileDesupport = 177
    public static let pendingPriceRevision = 178
    public static let fundDataFields = 179
    public static let lastTradeDate = 182
    public static let customerAccount = 183
    public static let professionalCustomer = 184
    public static let bondAccruedInterest = 185
    public static let ineligibilityReasons = 186
    public static let rfqFields = 187
    public static let includeOvernight = 189
    public static let undoRFQFields = 190
    public static let permIDAsLong = 191
    public static let cmeTaggingFields = 192
    public static let cmeTaggingFieldsInOpenOrder = 193
    public static let errorTime = 194
    public static let fullOrderPreviewFields = 195
    public static let historicalDataEnd = 196
    public static let currentTimeInMillis = 197
    public static let submitter = 198
    public static let imbalanceOnly = 199
    public static let parametrizedDaysOfExecutions = 200
}
