import ArgumentParser
import ClonectlAgent
import Foundation

/// `clonectl payloads render NAME[@VERSION]`: the loader text that would be sent, for operators and debugging.
public struct PayloadsRenderCommand: ParsableCommand, SelectsOutput {
    public static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Print the loader that would be sent for a payload (its size goes to standard error).",
        discussion: """
            --param Name=value passes a string; --param Name:=json passes a JSON value (true, 3, ["a","b"]). \
            --params-file takes a JSON object, plain or {"common": {...}, "byInstance": {"i-...": {...}}}. \
            Secrets are refused: pass the name of a Parameter Store SecureString (PasswordParameter=/path).
            """)

    @OptionGroup public var payloads: PayloadsOptions
    @Argument(help: ArgumentHelp("The payload, e.g. hostname or hostname@1.0.0.", valueName: "name[@version]"))
    public var reference: String
    @Option(name: .customLong("param"), help: ArgumentHelp("A parameter, Name=value or Name:=json (repeatable).", valueName: "name=value"))
    public var params: [String] = []
    @Option(help: ArgumentHelp("A JSON file with all parameters (plain or per instance).", valueName: "file"))
    public var paramsFile: String?
    @Option(help: ArgumentHelp("Use this nonce (32 hex) instead of a fresh one, to compare two renderings.", valueName: "hex"))
    public var nonce: String?
    @OptionGroup public var outputOptions: OutputOptions

    public init() {}

    var outputFormat: OutputFormat { outputOptions.format }

    public func validate() throws {
        do { _ = try PayloadNames.parseReference(reference) } catch { throw ValidationError(error.message) }
        if paramsFile != nil && !params.isEmpty { throw ValidationError("use either --param or --params-file, not both") }
        if let nonce, !LoaderBuilder.isNonce(nonce) { throw ValidationError("--nonce must be 32 lower-case hex characters") }
        _ = try parsedParams()
    }

    /// `--param` values as a plain parameter object, in the order given.
    public func parsedParams() throws -> LoaderParams {
        if let paramsFile {
            guard let data = FileManager.default.contents(atPath: paramsFile) else {
                throw ValidationError("--params-file \(paramsFile) cannot be read")
            }
            do { return try LoaderParams(json: try JSONParser.parse([UInt8](data))) } catch {
                throw ValidationError("--params-file \(paramsFile): \(error.message)")
            }
        }
        var members: [(String, JSONValue)] = []
        for item in params {
            guard let eq = item.firstIndex(of: "=") else {
                throw ValidationError("--param '\(item)' needs the form Name=value or Name:=json")
            }
            let rawName = item[..<eq], rawValue = String(item[item.index(after: eq)...])
            if rawName.hasSuffix(":") {
                do { members.append((String(rawName.dropLast()), try JSONParser.parse(rawValue))) } catch {
                    throw ValidationError("--param \(rawName.dropLast()):= needs a JSON value (\(error.message))")
                }
            } else {
                members.append((String(rawName), .string(rawValue)))
            }
        }
        do { return try .plain(members) } catch { throw ValidationError(error.message) }
    }

    public func run() throws {
        let store = try payloads.store()
        let params = try parsedParams()
        try ParameterRefusal.refuse(try ParameterRefusal.problems(store: store, reference: reference, params: params),
                                    reference: reference, what: "nothing rendered")
        let command = try LoaderBuilder.build(store: store, reference: reference, params: params, nonce: nonce)
        let r = command.record
        Output.success([
            ("payload", .string(r.payload)), ("version", .string(r.version)), ("loaderVersion", .string(r.loaderVersion)),
            ("characters", .int(Int64(command.size))), ("limit", .int(Int64(LoaderBuilder.maxCharacters))),
            ("payloadSha256", .string(r.payloadSha256)), ("moduleVersion", .string(r.moduleVersion)),
            ("moduleSha256", .string(r.moduleSha256)), ("nonce", .string(r.nonce)), ("loader", .string(command.text)),
        ], text: command.text)
        Console.write("\(r.payload)@\(r.version): loader \(r.loaderVersion) is \(command.size) characters (limit \(LoaderBuilder.maxCharacters)); payload sha256 \(r.payloadSha256), module \(r.moduleVersion) sha256 \(r.moduleSha256), nonce \(r.nonce)\n", to: .err)
    }
}
