import Systemd
import Testing
#if canImport(Glibc)
    import Glibc
#endif

@Suite struct SystemdTests {
    @Test func journalFieldNamesFollowJournaldRules() {
        #expect(JournalField.isValidName("IOMMU_GROUP"))
        #expect(JournalField.isValidName("PCI_SLOT"))
        #expect(!JournalField.isValidName("_PID"))
        #expect(!JournalField.isValidName("iommu_group"))
        #expect(!JournalField.isValidName("1ABC"))
        #expect(!JournalField.isValidName(""))
    }

    @Test func monotonicClockMoves() {
        let a = ServiceManager.monotonicMicroseconds()
        usleep(1000)
        #expect(ServiceManager.monotonicMicroseconds() > a)
    }

    @Test func eventSourcesDeliverASignal() throws {
        let sources = try EventSources()
        try sources.watchSignals([SIGUSR2])
        pthread_kill(pthread_self(), SIGUSR2)
        var descriptor = pollfd(fd: sources.fileDescriptor, events: Int16(POLLIN), revents: 0)
        #expect(poll(&descriptor, 1, 2000) == 1)
        #expect(sources.drain().signals == [SIGUSR2])
    }
}
