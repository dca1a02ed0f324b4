import ArgumentParser
import Foundation

/// Parses, runs and ends every clonectl command, so that each way out is handled in one place: a result, a
/// failure with its exit code (and in JSON mode its error document), or ArgumentParser's help and usage errors.
public enum CLIMain {
    public static func main(_ arguments: [String] = Array(CommandLine.arguments.dropFirst())) async -> Never {
        do {
            var command = try Clonectl.parseAsRoot(arguments)
            let format = (command as? SelectsOutput)?.outputFormat ?? scannedFormat(arguments)
            Output.begin(command: commandPath(type(of: command)) ?? "clonectl", format: format)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            exit(0)
        } catch {
            finish(error, arguments)
        }
    }

    /// Ends the process after `error`.
    static func finish(_ error: Error, _ arguments: [String]) -> Never {
        if !Output.hasEmitted, Output.command == "clonectl" {
            // The arguments did not parse: what was asked for is read from them as well as can be.
            Output.begin(command: wordsPath(arguments), format: scannedFormat(arguments))
        }
        if let failure = CLIFailure.from(error) {
            Output.failure(failure)
            exit(failure.exitCode)
        }
        let code = Clonectl.exitCode(for: error)
        // Help and --version are not results: printed as ArgumentParser words them, through the sanitizer (an
        // argument echoed in a parse error is not ours to print raw).
        guard Output.isJSON, code != .success else {
            let message = Clonectl.fullMessage(for: error)
            if !message.isEmpty { Console.write(message + "\n", to: code == .success ? .out : .err) }
            exit(code.rawValue)
        }
        // A bare ExitCode carries no message: its command already said why on standard error.
        let message = error is ExitCode ? "failed with exit code \(code.rawValue)" : Clonectl.message(for: error)
        Output.failure(CLIFailure(code: code == .validationFailure ? "usage" : "failed", message: message,
                                  exitCode: code.rawValue))
        exit(code.rawValue)
    }

    /// `--output json`, `--output=json` or CLONECTL_OUTPUT, when the arguments could not be parsed.
    static func scannedFormat(_ arguments: [String]) -> OutputFormat {
        for (i, a) in arguments.enumerated() {
            if a == "--output", i + 1 < arguments.count { return OutputFormat(rawValue: arguments[i + 1]) ?? .text }
            if a.hasPrefix("--output=") { return OutputFormat(rawValue: String(a.dropFirst(9))) ?? .text }
        }
        return OutputFormat.defaulted(nil)
    }

    /// The subcommand path of a parsed command: "run", "payloads verify", "debug sigv4".
    static func commandPath(_ type: ParsableCommand.Type) -> String? {
        func search(_ node: ParsableCommand.Type, _ path: [String]) -> [String]? {
            if node == type { return path }
            for sub in node.configuration.subcommands {
                let name = sub.configuration.commandName ?? String(describing: sub).lowercased()
                if let found = search(sub, path + [name]) { return found }
            }
            return nil
        }
        return search(Clonectl.self, []).map { $0.isEmpty ? "clonectl" : $0.joined(separator: " ") }
    }

    /// The subcommand path named by the leading words of `arguments` (for arguments that did not parse).
    static func wordsPath(_ arguments: [String]) -> String {
        var node: ParsableCommand.Type = Clonectl.self
        var path: [String] = []
        for word in arguments {
            guard let sub = node.configuration.subcommands.first(where: { $0.configuration.commandName == word }) else { break }
            path.append(word)
            node = sub
        }
        return path.isEmpty ? "clonectl" : path.joined(separator: " ")
    }
}
