import Testing
@testable import Daemon

@Suite struct ScheduleTests {
    var config: DaemonConfig {
        var config = DaemonConfig()
        config.rescanInterval = 60 * Microseconds.second
        config.debounce = 500 * Microseconds.millisecond
        return config
    }

    @Test func burstOf64VirtualFunctionsIsOneRescan() {
        var schedule = RescanSchedule(config: config, now: 0)
        var rescans = 0
        var now: Microseconds = 1_000_000
        // 64 VFs appear 2 ms apart, each with add + bind.
        for _ in 0..<64 {
            schedule.deviceEvent(at: now)
            schedule.deviceEvent(at: now + 500)
            if schedule.isDue(at: now + 1_000) { rescans += 1; schedule.rescanned(at: now + 1_000) }
            now += 2_000
        }
        #expect(rescans == 0)
        #expect(schedule.deadline == now - 2_000 + 500 + 500_000)
        now = schedule.deadline!
        if schedule.isDue(at: now) { rescans += 1; schedule.rescanned(at: now) }
        #expect(rescans == 1)
        #expect(schedule.deadline == now + 60 * Microseconds.second)
    }

    @Test func endlessEventsCannotPostponeTheRescanPastTheLimit() {
        var schedule = RescanSchedule(config: config, now: 0)
        for step in 0..<100 { schedule.deviceEvent(at: Microseconds(step) * 100_000) }
        #expect(schedule.deadline == config.debounceLimit)
    }

    @Test func periodicRescanWithoutEvents() {
        var schedule = RescanSchedule(config: config, now: 5)
        #expect(!schedule.isDue(at: 60 * Microseconds.second))
        #expect(schedule.isDue(at: 60 * Microseconds.second + 5))
        var off = config
        off.rescanInterval = 0
        schedule = RescanSchedule(config: off, now: 0)
        #expect(schedule.deadline == nil)
    }

    @Test func watchdogPingsAtHalfTheTimeout() {
        var watchdog = WatchdogTimer(timeout: 30 * Microseconds.second, now: 0)
        #expect(watchdog.nextPing == 15 * Microseconds.second)
        watchdog.pinged(at: 16 * Microseconds.second)
        #expect(watchdog.nextPing == 31 * Microseconds.second)
        #expect(WatchdogTimer(timeout: nil, now: 0).nextPing == nil)
    }
}
