import ArgumentParser
import ClonectlCLI
import Foundation

// The entry point: one malloc arena (see MemoryTuning), then the command. Errors are printed here rather than by
// ArgumentParser's `exit(withError:)` so that they pass through the terminal sanitizer: an AWS error message or a
// guest's text inside one is not ours to print raw.
@main
enum Entry {
    static func main() async {
        MemoryTuning.useOneArena()
        do {
            var command = try Clonectl.parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = Clonectl.exitCode(for: error)
            let message = Clonectl.fullMessage(for: error)
            if !message.isEmpty {
                if code == .success {
                    TerminalText.print(message)
                } else {
                    TerminalText.writeError(message + "\n")
                }
            }
            exit(code.rawValue)
        }
    }
}
