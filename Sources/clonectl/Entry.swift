import ArgumentParser
import ClonectlCLI

// The entry point: @main picks AsyncParsableCommand's `static func main() async`.
@main
extension Clonectl {}
