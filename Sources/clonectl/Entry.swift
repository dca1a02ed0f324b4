import ArgumentParser
import ClonectlCLI

// The entry point: one malloc arena (see MemoryTuning), then AsyncParsableCommand's `main()`.
@main
enum Entry {
    static func main() async {
        MemoryTuning.useOneArena()
        await Clonectl.main()
    }
}
