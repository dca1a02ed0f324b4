import ClonectlCLI
import ArgumentParser

// The explicit form of AsyncParsableCommand.main(): top-level `await Clonectl.main()` resolves to the
// synchronous overload, which refuses an asynchronous root command.
do {
    var command = try Clonectl.parseAsRoot(nil)
    if var asyncCommand = command as? AsyncParsableCommand {
        try await asyncCommand.run()
    } else {
        try command.run()
    }
} catch {
    Clonectl.exit(withError: error)
}
