import Moonwire
import TWSProtocol

/// Before a run or a backtest: a note for each `--param` the strategy's source never mentions
/// (a misspelt name runs the strategy with its default, in every combination of a sweep).
enum ParamNotes {
    static func note(for names: [String], strategyAt file: String) {
        for name in ParamMentions.unmentioned(names.sorted(), strategyAt: file) {
            say("note: --param \(ShownText.shown(name)): \(ShownText.shown(file)) never mentions '\(ShownText.shown(name))' "
                         + "(nor the modules it requires): a misspelt name? It runs as if the param were not given")
        }
    }
}
