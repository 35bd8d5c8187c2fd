using System.Text;
using InotifySim.Model.Kernel;

namespace InotifySim.Model.Kernel
{
    /// <summary>
    /// The mistakes of issue 13 that can be planted in the model (mutation testing of the detectors), declared once
    /// with their names and findings in <see cref="Mistakes"/>. Each is a <c>K.Planted(Mistake.X)</c> branch at the
    /// exact line of the model the mistake would change, never part of a variant: `rfc` and `fixed` run without them
    /// unless `--plant NAME` (or a test) plants one.
    /// </summary>
    [Flags]
    public enum Mistake
    {
        None = 0,
        /// <summary>inotify_destroy releases ih->mutex one line early: remove_watch_no_event runs under inode->inotify_mutex only.</summary>
        DestroyEarlyUnlock = 1 << 0,
        /// <summary>inotify_dev_queue_event queues the event but drops its wake_up_interruptible(&amp;dev->wq).</summary>
        DropWakeUp = 1 << 1,
        /// <summary>create_watch's allocation-failure path forgets to give back the reserved inotify_watches count (watch-limit-race).</summary>
        CreateWatchLeak = 1 << 2,
        /// <summary>inotify_dev_queue_event's coalescing drops an event equal to the last one in wd, mask and cookie, whatever its name.</summary>
        CoalesceIgnoresName = 1 << 3,
        /// <summary>inotify_dev_queue_event's "already overflowed" test is <c>&gt;=</c> for <c>&gt;</c>: IN_Q_OVERFLOW is never queued.</summary>
        OverflowOffByOne = 1 << 4,
        /// <summary>create_watch's per-user check is off by one: ENOSPC at max_user_watches - 1 watches.</summary>
        WatchLimitOffByOne = 1 << 5,
        /// <summary>inotify_read drops its "the next event does not fit in the buffer" test: read(2) returns more than count bytes.</summary>
        ReadOverrunsCount = 1 << 6,
    }
}

namespace InotifySim.Model
{
    /// <summary>
    /// One plantable mistake: its command-line name, where it is planted, and which check of the main job finds it
    /// (measured: `hunt --scenario all --variant fixed --iterations 2000 --plant NAME`, docs/findings.md).
    /// </summary>
    /// <param name="Function">The kernel function whose line the plant perturbs.</param>
    /// <param name="Check">The detector or oracle that reports it (its class is <paramref name="Class"/>).</param>
    /// <param name="Scenario">The catalogue scenario the test runs (one where the main job finds it).</param>
    /// <param name="Functions">The report's first kernel functions, in order.</param>
    /// <param name="TestBudget">Schedules the test allows in <paramref name="Scenario"/> (seed 0, the hunt's worker 0).</param>
    /// <param name="FaultInjection">The test runs with fault injection (the error path is reached only then: the hunt's fault share).</param>
    /// <param name="HuntSeed">The seed of the hunt's chunk that found it in <paramref name="Scenario"/> (worker 0: chunk c has seed c × 7919).</param>
    /// <param name="HuntIteration">The schedule of that chunk the hunt found it on (the test replays the chunk and asserts it).</param>
    /// <param name="Hunt">What the whole hunt found, as measured (docs/findings.md).</param>
    public sealed record MistakeInfo(
        Mistake Mistake, string Name, string Function, string Description,
        string Check, BugClass Class, IReadOnlyList<string> Functions, string Scenario, int TestBudget,
        uint HuntSeed, int HuntIteration, string Hunt, bool FaultInjection = false);

    /// <summary>The registry of plantable mistakes (issue 13's six examples and the read(2) ABI check's), in the issue's order.</summary>
    public static class Mistakes
    {
        public static readonly IReadOnlyList<MistakeInfo> All = new MistakeInfo[]
        {
            new(Mistake.DestroyEarlyUnlock, "destroy-early-unlock", "inotify_destroy",
                "inotify_destroy releases ih->mutex one line early: remove_watch_no_event edits ih->watches and ih->idr under inode->inotify_mutex only",
                "lock contract of remove_watch_no_event (\"Callers must hold both inode->inotify_mutex and ih->mutex.\")", BugClass.LockContract,
                new[] { "remove_watch_no_event", "inotify_destroy" }, "close-vs-death", 20,
                HuntSeed: 0, HuntIteration: 1, Hunt: "25 of 38 scenarios (every one whose teardown closes an instance that still has a watch), both workers, each at schedule 1 to 3; close-vs-death: worker 0, schedule 1"),
            new(Mistake.CoalesceIgnoresName, "coalesce-ignores-name", "inotify_dev_queue_event",
                "inotify_dev_queue_event's coalescing drops an event equal to the last queued one in wd, mask and cookie without comparing the names",
                "inotify(7) oracle (UserVisibleOracle)", BugClass.SpecViolation,
                new[] { "inotify_dev_queue_event", "inotify_read" }, "read-vs-queue-limit", 50,
                HuntSeed: 0, HuntIteration: 1, Hunt: "3 of 38: read-vs-queue-limit and read-vs-overflow (both workers, schedule 1), workload (schedules 12 and 2); read-vs-queue-limit: worker 0, schedule 1"),
            new(Mistake.OverflowOffByOne, "overflow-off-by-one", "inotify_dev_queue_event",
                "inotify_dev_queue_event tests \"the queue overflowed and we already sent the Q_OVERFLOW event\" with >= for >: IN_Q_OVERFLOW is never queued",
                "inotify(7) oracle (UserVisibleOracle)", BugClass.SpecViolation,
                new[] { "inotify_dev_queue_event", "inotify_read" }, "read-vs-queue-limit", 50,
                HuntSeed: 0, HuntIteration: 1, Hunt: "3 of 38: read-vs-queue-limit and read-vs-overflow (both workers, schedule 1), workload (schedules 1 and 6); read-vs-queue-limit: worker 0, schedule 1"),
            new(Mistake.WatchLimitOffByOne, "watch-limit-off-by-one", "create_watch",
                "create_watch's per-user check is off by one: ENOSPC with max_user_watches - 1 watches (a spurious ENOSPC below the limit)",
                "inotify(7) oracle (UserVisibleOracle)", BugClass.SpecViolation,
                new[] { "create_watch", "sys_inotify_add_watch" }, "limit-race", 50,
                HuntSeed: 0, HuntIteration: 1, Hunt: "limit-race (both workers, schedule 1); limit-race: worker 0, schedule 1 (the hunt's other report, workload worker 0 schedule 279, is not the plant's: see \"read() returns 0\")"),
            new(Mistake.CreateWatchLeak, "create-watch-leak", "create_watch",
                "create_watch's allocation-failure path forgets to give back the inotify_watches count it reserved (watch-limit-race)",
                "accounting oracle (AccountingOracle)", BugClass.Accounting,
                new[] { "create_watch", "free_inotify_user_watch" }, "add-vs-add", 250,
                HuntSeed: 2 * 7919, HuntIteration: 1, Hunt: "9 of 38 scenarios (every one with a concurrent add_watch, and the workload's worker 1), both workers, on the first 1 to 4 schedules of the fault share (schedule 751 to 754 of each worker's 1000); add-vs-add: worker 0, schedule 751", FaultInjection: true),
            new(Mistake.DropWakeUp, "drop-wake-up", "inotify_dev_queue_event",
                "inotify_dev_queue_event queues the event but drops its wake_up_interruptible(&dev->wq)",
                "hung-task detector", BugClass.HungTask,
                new[] { "inotify_read" }, "blocking-read", 50,
                HuntSeed: 0, HuntIteration: 1, Hunt: "5 of 38: every scenario with a blocking reader (blocking-read, read-vs-rm, read-vs-death, read-vs-umount, read-vs-overflow), both workers, schedule 1 or 2; blocking-read: worker 0, schedule 1"),
            new(Mistake.ReadOverrunsCount, "read-overruns-count", "inotify_read",
                "inotify_read drops its test that the next event fits in the caller's buffer (event_size + kevent->len > count): read(2) copies every queued event and returns more than count bytes",
                "read(2) ABI check (Machine.read_events)", BugClass.SpecViolation,
                new[] { "inotify_read" }, "read-vs-read", 50,
                HuntSeed: 0, HuntIteration: 1, Hunt: "2 of 38: read-vs-read (worker 0 schedule 1, worker 1 schedule 2), workload (worker 0 schedule 32, worker 1 schedule 6); read-vs-read: worker 0, schedule 1 (before the ABI check, the same plant was found by other checks in 2 of 38,000 schedules, both in the workload)"),
        };

        public static MistakeInfo Info(Mistake m) => All.Single(i => i.Mistake == m);

        public static MistakeInfo? ByName(string name) => All.FirstOrDefault(i => i.Name == name);

        /// <summary>The names of a set, in registry order.</summary>
        public static List<string> Names(Mistake set) => All.Where(i => (set & i.Mistake) != 0).Select(i => i.Name).ToList();

        /// <summary>"none" or "a, b".</summary>
        public static string Describe(Mistake set) => set == Mistake.None ? "none" : string.Join(", ", Names(set));

        /// <summary>Parses names (each may be "a,b"); null with <paramref name="error"/> set on an unknown name.</summary>
        public static Mistake? Parse(IEnumerable<string> names, out string? error)
        {
            error = null;
            var set = Mistake.None;
            foreach (var part in names.SelectMany(n => n.Split(',')))
            {
                var i = ByName(part);
                if (i is null)
                {
                    error = $"unknown mistake '{part}' (mistakes: {string.Join(", ", All.Select(x => x.Name))})";
                    return null;
                }
                set |= i.Mistake;
            }
            return set;
        }

        /// <summary>The markdown table of docs/findings.md's "Planted mistakes" section (a test checks the document holds it).</summary>
        public static string FindingsTable()
        {
            var sb = new StringBuilder();
            sb.Append("| mistake (`--plant`) | planted in | check that finds it | class | kernel functions | what the hunt found (`hunt --scenario all --variant fixed --iterations 2000`, probabilistic, seed 0, 2 jobs) |\n|---|---|---|---|---|---|\n");
            foreach (var i in All)
                sb.Append($"| `{i.Name}` | {i.Function} | {i.Check} | {i.Class.Name()} | {string.Join(", ", i.Functions)} | {i.Hunt} |\n");
            return sb.ToString();
        }
    }
}
