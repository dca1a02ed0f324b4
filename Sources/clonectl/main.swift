import ClonectlCLI

await Clonectl.main()
