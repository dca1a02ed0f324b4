/// One problem in a plan file, with where it is and what would be valid.
public struct PlanIssue: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    /// 1-based; nil when the problem is the whole file.
    public var line: Int?
    public var column: Int?
    /// The field's path: `clones[1].hostName`.
    public var field: String
    public var message: String

    public var description: String {
        let place = line.map { "\(file):\($0)\(column.map { ":\($0)" } ?? "")" } ?? file
        return field.isEmpty ? "\(place): \(message)" : "\(place): \(field): \(message)"
    }
}

/// Every problem found in a plan file (the loader reports them all, not only the first).
public struct PlanError: Error, Sendable, CustomStringConvertible {
    public var issues: [PlanIssue]
    public var description: String {
        let noun = issues.count == 1 ? "problem" : "problems"
        return "the plan has \(issues.count) \(noun):\n" + issues.map { "  \($0)" }.joined(separator: "\n")
    }
}
