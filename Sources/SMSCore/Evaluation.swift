/// Accuracy of the classifier on a labelled set (`intent<TAB>message` lines, `#` comments). Pure.
public struct Evaluation: Sendable {
    public struct Miss: Sendable, Hashable {
        public let text: String
        public let expected: Intent
        public let got: Classification
    }

    public private(set) var total: [Intent: Int] = [:]
    public private(set) var correct: [Intent: Int] = [:]
    public private(set) var misses: [Miss] = []

    public init(labelled: String, classifier: Classifier) throws {
        for (number, line) in labelled.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.hasPrefix("#") || line.isEmpty { continue }
            let parts = line.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
            guard let intent = Intent(rawValue: String(parts[0])) else {
                throw ReplyConfigError(message: "line \(number + 1): unknown intent '\(parts[0])'")
            }
            let text = parts.count > 1 ? String(parts[1]) : ""
            let got = classifier.classify(text)
            self.total[intent, default: 0] += 1
            if got.intent == intent {
                self.correct[intent, default: 0] += 1
            } else {
                self.misses.append(Miss(text: text, expected: intent, got: got))
            }
        }
    }

    public var count: Int { self.total.values.reduce(0, +) }
    public var accuracy: Double {
        self.count == 0 ? 0 : Double(self.correct.values.reduce(0, +)) / Double(self.count)
    }

    /// A table: accuracy per intent, overall, then each miss.
    public var report: String {
        var lines = ["intent         correct / total   accuracy"]
        for intent in Intent.allCases {
            let t = self.total[intent, default: 0]
            let c = self.correct[intent, default: 0]
            let pct = t == 0 ? "-" : String(format1: Double(c) * 100 / Double(t)) + "%"
            lines.append(intent.rawValue.padding(15) + "\(c) / \(t)".padding(18) + pct)
        }
        lines.append("overall".padding(15) + "\(self.count - self.misses.count) / \(self.count)".padding(18) + String(format1: self.accuracy * 100) + "%")
        for miss in self.misses {
            lines.append("miss: \"\(miss.text)\" expected \(miss.expected.rawValue), got \(miss.got.intent.rawValue) (\(miss.got.matched ?? "-"))")
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    init(format1 value: Double) {
        let scaled = (value * 10).rounded() / 10
        self = String(scaled)
    }

    func padding(_ width: Int) -> String {
        self.count >= width ? self + " " : self + String(repeating: " ", count: width - self.count)
    }
}
