/// ps-scripts/manifest.json: every released file with the SHA-256 of its exact bytes.
///
/// ```json
/// {"formatVersion": 1,
///  "loader": {"version": "1.0.0", "path": "loader/1.0.0/loader.ps1", "sha256": "<hex>"},
///  "modules": [{"version": "1.0.0", "path": "agent/1.0.0/CloneAgent.psm1", "sha256": "<hex>"}],
///  "payloads": [{"name": "hostname", "version": "1.0.0", "path": "payloads/hostname/1.0.0.ps1",
///                "sha256": "<hex>", "module": "1.0.0", "description": "..."}]}
/// ```
/// Paths are relative to ps-scripts/. `loader` may also be an array, when several loader versions are kept.
/// Any entry may carry `"superseded": "<reason>"`: the version stays runnable (its bytes never change) but a newer one
/// fixes it; `payloads list` shows the reason and a plan that pins it gets a warning.
public struct Manifest: Equatable, Sendable {
    public static let formatVersion: Int64 = 1

    /// A released file: the loader template or the agent module.
    public struct File: Equatable, Sendable {
        public let version: String
        public let path: String
        public let sha256: String
        /// Why a newer version replaces this one, when it does.
        public var superseded: String? = nil
    }

    public struct Payload: Equatable, Sendable {
        public let name: String
        public let version: String
        public let path: String
        public let sha256: String
        /// The version of the agent module this payload runs with.
        public let module: String
        public let description: String
        /// Why a newer version replaces this one, when it does.
        public var superseded: String? = nil
        public var reference: String { "\(name)@\(version)" }
    }

    public let loaders: [File]
    public let modules: [File]
    public let payloads: [Payload]

    /// The newest loader template (the one a new command uses).
    public var loader: File { loaders.max { SemanticVersion($0.version)! < SemanticVersion($1.version)! }! }

    public func module(version: String) -> File? { modules.first { $0.version == version } }

    /// The loader template a payload released with module `moduleVersion` runs under: the loader of that same version
    /// when there is one, else the newest loader not newer than it. A released payload keeps the loader it was
    /// released with (1.0.0 payloads keep loader 1.0.0 after 1.1.0 exists).
    public func loader(forModule moduleVersion: String) -> File {
        guard let wanted = SemanticVersion(moduleVersion) else { return loader }
        if let same = loaders.first(where: { $0.version == moduleVersion }) { return same }
        let older = loaders.filter { SemanticVersion($0.version)! < wanted }
        return older.max { SemanticVersion($0.version)! < SemanticVersion($1.version)! } ?? loader
    }

    /// Parses and checks the manifest; `file` names it in errors.
    public static func parse(_ bytes: [UInt8], file: String) throws(AgentError) -> Manifest {
        let root: JSONValue
        do { root = try JSONParser.parse(bytes) } catch {
            throw AgentError(.badManifest, "\(file): not valid JSON (\(error.message)); fix the syntax")
        }
        let reader = ManifestReader(file: file)
        guard root.objectMembers != nil else { throw reader.bad("(root)", "must be a JSON object") }
        guard root["formatVersion"]?.intValue == formatVersion else {
            throw reader.bad("formatVersion", "must be \(formatVersion); this clonectl reads manifest format 1 only")
        }
        let loaderValues: [JSONValue]
        // "loaders" lists every loader version (scripts/manifest.py writes it beside "loader", the newest); a
        // manifest with only "loader" has one loader version, or several when "loader" is an array.
        if case .array(let items)? = root["loaders"], !items.isEmpty {
            loaderValues = items
        } else {
        switch root["loader"] {
        case .some(.object): loaderValues = [root["loader"]!]
        case .some(.array(let items)) where !items.isEmpty: loaderValues = items
        default: throw reader.bad("loader", "must be an object {\"version\",\"path\",\"sha256\"} (or a non-empty array of them)")
        }
        }
        let loaders = try loaderValues.enumerated().map { (i, v) throws(AgentError) in
            try reader.file(v, at: root["loaders"] != nil ? "loaders[\(i)]" : loaderValues.count == 1 ? "loader" : "loader[\(i)]")
        }
        guard case .array(let moduleValues)? = root["modules"], !moduleValues.isEmpty else {
            throw reader.bad("modules", "must be a non-empty array of {\"version\",\"path\",\"sha256\"}")
        }
        let modules = try moduleValues.enumerated().map { (i, v) throws(AgentError) in
            try reader.file(v, at: "modules[\(i)]")
        }
        guard case .array(let payloadValues)? = root["payloads"] else {
            throw reader.bad("payloads", "must be an array of payload entries")
        }
        let payloads = try payloadValues.enumerated().map { (i, v) throws(AgentError) in
            try reader.payload(v, at: "payloads[\(i)]", modules: modules)
        }
        try reader.unique(loaders.map(\.version), what: "loader version", member: "loader")
        try reader.unique(modules.map(\.version), what: "module version", member: "modules")
        try reader.unique(payloads.map(\.reference), what: "payload", member: "payloads")
        return Manifest(loaders: loaders, modules: modules, payloads: payloads)
    }
}

/// Member-by-member checks, each error naming the file, the member and the fix.
struct ManifestReader {
    let file: String

    func bad(_ member: String, _ problem: String) -> AgentError {
        AgentError(.badManifest, "\(file): \(member) \(problem)")
    }

    func string(_ value: JSONValue, _ key: String, at member: String) throws(AgentError) -> String {
        guard let s = value[key]?.stringValue, !s.isEmpty else {
            throw bad("\(member).\(key)", "is missing or not a non-empty string")
        }
        return s
    }

    func version(_ value: JSONValue, _ key: String, at member: String) throws(AgentError) -> String {
        let v = try string(value, key, at: member)
        guard SemanticVersion(v) != nil else {
            throw bad("\(member).\(key)", "'\(v)' is not a version: use MAJOR.MINOR.PATCH such as 1.0.0")
        }
        return v
    }

    func file(_ value: JSONValue, at member: String) throws(AgentError) -> Manifest.File {
        guard value.objectMembers != nil else { throw bad(member, "must be an object") }
        return Manifest.File(version: try version(value, "version", at: member),
                             path: try path(value, at: member), sha256: try sha256(value, at: member),
                             superseded: try superseded(value, at: member))
    }

    func payload(_ value: JSONValue, at member: String, modules: [Manifest.File]) throws(AgentError) -> Manifest.Payload {
        guard value.objectMembers != nil else { throw bad(member, "must be an object") }
        let name = try string(value, "name", at: member)
        guard PayloadNames.isValidName(name) else {
            throw bad("\(member).name", "'\(name)' must be lower-case letters, digits and hyphens")
        }
        let module = try version(value, "module", at: member)
        guard modules.contains(where: { $0.version == module }) else {
            throw bad("\(member).module", "'\(module)' is not listed under modules; add the module or fix the version")
        }
        let description = value["description"]?.stringValue ?? ""
        return Manifest.Payload(name: name, version: try version(value, "version", at: member),
                                path: try path(value, at: member), sha256: try sha256(value, at: member),
                                module: module, description: description, superseded: try superseded(value, at: member))
    }

    /// Optional; when present, a non-empty reason.
    func superseded(_ value: JSONValue, at member: String) throws(AgentError) -> String? {
        guard let v = value["superseded"] else { return nil }
        guard let s = v.stringValue, !s.isEmpty else {
            throw bad("\(member).superseded", "must be a non-empty string saying why a newer version replaces this one")
        }
        return s
    }

    /// Relative, forward slashes, no `..`: a manifest must not point outside ps-scripts/.
    func path(_ value: JSONValue, at member: String) throws(AgentError) -> String {
        let p = try string(value, "path", at: member)
        let parts = p.split(separator: "/", omittingEmptySubsequences: false)
        guard !p.hasPrefix("/"), !p.contains("\\"), !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." })
        else { throw bad("\(member).path", "'\(p)' must be relative to ps-scripts/ with '/' separators and no '..'") }
        return p
    }

    func sha256(_ value: JSONValue, at member: String) throws(AgentError) -> String {
        let h = try string(value, "sha256", at: member)
        guard h.utf8.count == 64, h.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else {
            throw bad("\(member).sha256", "must be 64 lower-case hex characters (sha256sum of the file)")
        }
        return h
    }

    func unique(_ keys: [String], what: String, member: String) throws(AgentError) {
        var seen = Set<String>()
        for k in keys where !seen.insert(k).inserted {
            throw bad(member, "lists \(what) '\(k)' twice; each released version appears once")
        }
    }
}
