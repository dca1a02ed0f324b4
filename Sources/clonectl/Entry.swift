import ArgumentParser
import ClonectlCLI
import Foundation

// The entry point: one malloc arena (see MemoryTuning), then the CLI (CLIMain: parse, run, one way out for every result and error).
@main
enum Entry {
    static func main() async {
        MemoryTuning.useOneArena()
        await CLIMain.main()
    }
}
