import ArgumentParser

// Temporary root command on the daemon branch so its commands can run; the lead's IOMMUWatch in
// main.swift replaces this file (register DaemonCommand and Status there).
struct IOMMUWatch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iommu-watch",
        abstract: "Read the kernel's IOMMU groups, model its rules, report divergences.",
        subcommands: [DaemonCommand.self, Status.self])
}

IOMMUWatch.main()
