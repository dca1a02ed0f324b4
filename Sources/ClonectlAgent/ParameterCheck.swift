import ClonectlPlan
import Foundation

/// Checks parameters against a payload's `param()` block before anything is sent, as PowerShell's binder would on
/// the instance: unknown names (with a did-you-mean), missing mandatory ones, the wrong type, and the
/// ValidatePattern / ValidateLength / ValidateSet / ValidateRange / ValidateCount attributes. Without it a typo such
/// as `NewNam=APP02` travels to the guest and fails there ("A parameter cannot be found...").
///
/// PowerShell semantics kept: names, ValidateSet and ValidatePattern ignore case; a `[string[]]` takes one string or a
/// list, each element validated; a `[bool]` takes true/false or a number, never a string.
public enum ParameterCheck {
    /// Every problem found, one line each, naming the parameter and what would be valid; empty when all is well.
    /// `params` may be plain or per instance: each instance's effective set (common, then its own) is checked.
    public static func problems(_ params: LoaderParams, against declared: [ScriptParameter], payload: String) -> [String] {
        var out: [String] = []
        if let byInstance = params.json["byInstance"]?.objectMembers {
            let common = params.json["common"]?.objectMembers ?? []
            for (id, own) in byInstance {
                let merged = merge(common, own.objectMembers ?? [])
                for p in check(merged, declared, payload: payload) where !out.contains(p) { out.append("\(id): \(p)") }
            }
        } else {
            out = check(params.json.objectMembers ?? [], declared, payload: payload)
        }
        return out
    }

    static func merge(_ common: [(String, JSONValue)], _ own: [(String, JSONValue)]) -> [(String, JSONValue)] {
        var out = common.filter { c in !own.contains { $0.0.lowercased() == c.0.lowercased() } }
        out += own
        return out
    }

    static func check(_ given: [(String, JSONValue)], _ declared: [ScriptParameter], payload: String) -> [String] {
        var out: [String] = []
        let names = declared.map(\.name)
        for (key, value) in given {
            guard let p = declared.first(where: { $0.name.lowercased() == key.lowercased() }) else {
                let hint = Suggest.closest(key, in: names).map { "did you mean \($0)? " } ?? ""
                out.append("\(payload) has no parameter '\(key)'; \(hint)"
                           + (names.isEmpty ? "it takes none" : "it takes \(names.joined(separator: ", "))"))
                continue
            }
            out += problems(of: value, for: p)
        }
        for p in declared where p.mandatory && !given.contains(where: { $0.0.lowercased() == p.name.lowercased() }) {
            out.append("\(payload) needs \(p.name) (mandatory\(p.type.map { ", [\($0)]" } ?? "")): add --param \(p.name)=VALUE")
        }
        return out
    }

    /// The value's problems for one declared parameter.
    static func problems(of value: JSONValue, for p: ScriptParameter) -> [String] {
        let type = (p.type ?? "object").lowercased()
        let isArrayType = type.hasSuffix("[]")
        let elementType = isArrayType ? String(type.dropLast(2)) : type
        var elements: [JSONValue]
        switch value {
        case .array(let items):
            guard isArrayType else { return ["\(p.name) takes one [\(p.type ?? "value")], not a list"] }
            elements = items
        case .null:
            return p.mandatory ? ["\(p.name) is mandatory and may not be null"] : []
        default:
            elements = [value]
        }
        var out: [String] = []
        for element in elements {
            if let wrong = typeProblem(element, elementType, name: p.name) { out.append(wrong); continue }
            for attribute in p.attributes { if let problem = attributeProblem(attribute, element, name: p.name) { out.append(problem) } }
        }
        for attribute in p.attributes where attribute.lowercased().hasPrefix("validatecount(") {
            let bounds = numbers(in: attribute)
            if bounds.count == 2, !(bounds[0]...bounds[1]).contains(Double(elements.count)) {
                out.append("\(p.name) takes \(Int(bounds[0])) to \(Int(bounds[1])) values, got \(elements.count)")
            }
        }
        return out
    }

    static func typeProblem(_ v: JSONValue, _ type: String, name: String) -> String? {
        switch type {
        case "string":
            if case .object = v { return "\(name) takes a string, not an object" }
            return nil
        case "bool", "switch":
            switch v {
            case .bool, .int: return nil
            default: return "\(name) takes true or false (write --param \(name)=true), not \(describe(v))"
            }
        case "int", "int32", "int64", "long", "uint32":
            switch v {
            case .int: return nil
            case .string(let s) where Int(s) != nil: return nil
            default: return "\(name) takes a whole number, not \(describe(v))"
            }
        default:
            return nil
        }
    }

    static func attributeProblem(_ attribute: String, _ v: JSONValue, name: String) -> String? {
        let lower = attribute.lowercased()
        let text: String
        switch v {
        case .string(let s): text = s
        case .int(let i): text = String(i)
        case .bool(let b): text = b ? "True" : "False"
        default: text = ""
        }
        if lower.hasPrefix("validatepattern(") {
            guard let pattern = quoted(in: attribute).first else { return nil }
            if text.range(of: pattern, options: [.regularExpression, .caseInsensitive]) == nil {
                return "\(name) '\(excerpt(text))' does not match the payload's pattern \(pattern)"
            }
        } else if lower.hasPrefix("validatelength(") {
            let bounds = numbers(in: attribute)
            if bounds.count == 2, !(Int(bounds[0])...Int(bounds[1])).contains(text.count) {
                return "\(name) '\(excerpt(text))' has \(text.count) characters; it takes \(Int(bounds[0])) to \(Int(bounds[1]))"
            }
        } else if lower.hasPrefix("validateset(") {
            let allowed = quoted(in: attribute)
            if !allowed.isEmpty, !allowed.contains(where: { $0.lowercased() == text.lowercased() }) {
                let hint = Suggest.closest(text, in: allowed).map { "did you mean \($0)? " } ?? ""
                return "\(name) '\(excerpt(text))' is not one of \(allowed.joined(separator: ", ")); \(hint)".trimmingCharacters(in: .whitespaces)
            }
        } else if lower.hasPrefix("validaterange(") {
            let bounds = numbers(in: attribute)
            if bounds.count == 2, let n = Double(text), !(bounds[0]...bounds[1]).contains(n) {
                return "\(name) \(text) is out of range: it takes \(Int(bounds[0])) to \(Int(bounds[1]))"
            }
        } else if lower.hasPrefix("validatenotnullorempty(") || lower.hasPrefix("validatenotnull(") {
            if lower.hasPrefix("validatenotnullorempty("), text.isEmpty { return "\(name) may not be empty" }
        }
        return nil
    }

    /// The single-quoted strings of an attribute (`ValidateSet('Domain', 'Private')`), '' unescaped.
    static func quoted(in attribute: String) -> [String] {
        var out: [String] = [], current = "", inside = false
        let chars = Array(attribute)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "'" {
                if inside, i + 1 < chars.count, chars[i + 1] == "'" { current.append("'"); i += 2; continue }
                if inside { out.append(current); current = "" }
                inside.toggle()
            } else if inside {
                current.append(c)
            }
            i += 1
        }
        return out
    }

    static func numbers(in attribute: String) -> [Double] {
        guard let open = attribute.firstIndex(of: "("), let close = attribute.lastIndex(of: ")") else { return [] }
        return attribute[attribute.index(after: open)..<close].split(separator: ",")
            .compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
    }

    static func describe(_ v: JSONValue) -> String {
        switch v {
        case .string(let s): return "the string '\(excerpt(s))'"
        case .array: return "a list"
        case .object: return "an object"
        case .null: return "null"
        default: return "\(v)"
        }
    }

    static func excerpt(_ s: String) -> String { s.count > 40 ? String(s.prefix(40)) + "..." : s }
}

extension ParameterCheck {
    /// The problems of `params` for the payload `reference` (name or name@version) in `store`, from its `param()` block.
    public static func problems(store: PayloadStore, reference: String, params: LoaderParams) throws -> [String] {
        let entry = try store.resolve(reference)
        let script = String(decoding: try store.payloadBytes(entry), as: UTF8.self)
        return problems(params, against: ScriptParameter.parse(script: script), payload: entry.reference)
    }
}
