using System.Collections.Concurrent;
using InotifySim.Model;
using InotifySim.Model.Kernel;
using InotifySim.Scenarios;
using InotifySim.Scenarios.Catalog;
using InotifySim.Scenarios.Exploration;
using Xunit.Abstractions;

namespace InotifySim.Tests.Concurrency.Exploration;

/// <summary>
/// The two ways the harness scheduler hands the turn over (issue 12 §5): the direct handoff (the default:
/// simulated threads on harness-owned OS threads reused across schedules, a semaphore handoff Coyote does not
/// see) and the Coyote operation handoff (every simulated thread a Coyote operation). They must explore the
/// same schedules and end a schedule the same way: a kernel bug, a hang, a harness fault.
/// </summary>
public class HandoffTests(ITestOutputHelper output)
{
    /// <summary>(defect, scenario, faults): every showing of the registry.</summary>
    public static TheoryData<string, string, bool> Cases => FindsDefectTests.Cases;

    /// <summary>Every defect showing: the same bug at the same schedule with the same decisions, both ways.</summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void SameBugSameScheduleBothWays(string defect, string scenario, bool faults)
    {
        var d = Defects.ByName(defect)!;
        var show = d.Shows.Single(s => s.Scenario == scenario && s.Faults == faults);
        HuntResult Hunt(HandoffMode h) => Explorer.Run(new HuntOptions
        {
            Scenario = ScenarioCatalog.Find(scenario)!,
            Fixes = Variants.ForDefect(d.Fix),
            Strategy = "pct",
            Iterations = show.Budget,
            Seed = 1,
            FaultInjection = faults,
            Handoff = h,
        });
        var direct = Hunt(HandoffMode.Direct);
        var coyote = Hunt(HandoffMode.Coyote);
        output.WriteLine($"{defect} on {show.Label}: direct {direct.Summary} in {direct.Elapsed.TotalMilliseconds:F0} ms, Coyote handoff {coyote.Summary} in {coyote.Elapsed.TotalMilliseconds:F0} ms");
        Assert.True(direct.Report != null, $"direct: {direct.Summary}");
        Assert.True(coyote.Report != null, $"Coyote handoff: {coyote.Summary}");
        Assert.True(show.Report.Matches(direct.Report!), $"direct: expected {show.Report}, got {direct.Report!.Summary}");
        Assert.Equal(coyote.Report!.Class, direct.Report!.Class);
        Assert.Equal(coyote.Report.Title, direct.Report.Title);
        Assert.Equal(coyote.Report.Functions, direct.Report.Functions);
        Assert.Equal(coyote.BugIteration, direct.BugIteration);
        Assert.Equal(coyote.Schedule, direct.Schedule);
        Assert.Equal(coyote.Preemptions, direct.Preemptions);
    }

    /// <summary>Bounded-exhaustive exploration enumerates the same tree both ways.</summary>
    [Theory]
    [InlineData("rm-vs-death", 1)]
    [InlineData("audit-vs-user", 1)]
    [InlineData("blocking-read", 2)]
    public void VerifySameTreeBothWays(string scenario, int k)
    {
        HuntResult Verify(HandoffMode h) => Explorer.Run(new HuntOptions
        {
            Scenario = ScenarioCatalog.Find(scenario)!, Fixes = Fix.All, PreemptionBound = k, Iterations = 0, Handoff = h,
        });
        var direct = Verify(HandoffMode.Direct);
        var coyote = Verify(HandoffMode.Coyote);
        output.WriteLine($"{scenario} k={k}: direct {direct.Iterations} schedules in {direct.Elapsed.TotalSeconds:F2} s, Coyote handoff {coyote.Iterations} in {coyote.Elapsed.TotalSeconds:F2} s");
        Assert.False(direct.BugFound, direct.Summary);
        Assert.True(direct.Exhausted);
        Assert.True(coyote.Exhausted);
        Assert.Equal(coyote.SchedulesPerLevel, direct.SchedulesPerLevel);
        Assert.Equal(coyote.Iterations, direct.Iterations);
    }

    /// <summary>Two threads; thread 0 does <c>what</c> at its second point while thread 1 may be parked or done.</summary>
    private sealed class Toy(string name, Action<Sim> thread0, int points = 4) : Scenario
    {
        public override string Name => name;
        public override string Description => "toy for the handoff";
        public override bool ToleratesFaultInjection => false;
        public override void Build(Sim s)
        {
            s.Thread(s.M.NewProcess("toy0", 0), () =>
            {
                s.M.K.Point();
                thread0(s);
                s.M.K.Point();
            });
            s.Thread(s.M.NewProcess("toy1", 0), () =>
            {
                for (int i = 0; i < points; i++) s.M.K.Point();
            });
        }
    }

    /// <summary>
    /// Thread 0 sleeps on a condition nothing makes true: when thread 1 exits (or at once, if it already has)
    /// no thread can run, and the hung-task report names toy0 both ways, over schedules where the other thread
    /// is parked mid-way (so the direct handoff must unwind it) and where it is done.
    /// </summary>
    [Fact]
    public void HangReportedBothWays()
    {
        var sc = new Toy("toy-hang", s => s.M.K.WaitUntil(() => false, () => "a condition nothing sets"));
        foreach (var seed in new uint[] { 1, 2, 3, 4 })
        {
            HuntResult Run(HandoffMode h) => Explorer.Run(new HuntOptions { Scenario = sc, Fixes = Fix.All, Strategy = "random", Seed = seed, Iterations = 5, Handoff = h });
            var direct = Run(HandoffMode.Direct);
            var coyote = Run(HandoffMode.Coyote);
            Assert.True(direct.Report is { Class: BugClass.HungTask }, $"direct: {direct.Summary}");
            Assert.True(coyote.Report is { Class: BugClass.HungTask }, $"Coyote handoff: {coyote.Summary}");
            Assert.Contains("toy0", direct.Report!.Title);
            Assert.Equal(coyote.Report!.Title, direct.Report.Title);
            Assert.Equal(coyote.Schedule, direct.Schedule);
            Assert.Equal(1, direct.BugIteration);
        }
    }

    /// <summary>
    /// An exception that is not a kernel bug (a harness fault) in a simulated thread ends the schedule as a
    /// harness bug naming it, both ways; the direct handoff unwinds the other thread and does not hang.
    /// </summary>
    [Fact]
    public void HarnessFaultEndsTheScheduleBothWays()
    {
        var sc = new Toy("toy-fault", _ => throw new InvalidOperationException("toy harness fault"));
        foreach (var h in new[] { HandoffMode.Direct, HandoffMode.Coyote })
        {
            foreach (var seed in new uint[] { 1, 2, 3 })
            {
                var r = Explorer.Run(new HuntOptions { Scenario = sc, Fixes = Fix.All, Strategy = "random", Seed = seed, Iterations = 5, Handoff = h });
                Assert.True(r.BugFound, $"{h}: {r.Summary}");
                Assert.Null(r.Report);
                Assert.Contains("toy harness fault", r.OtherBug);
                Assert.Equal(1, r.BugIteration);
            }
        }
    }

    /// <summary>
    /// The direct handoff reuses its OS threads from schedule to schedule (one per simulated thread), where
    /// the Coyote handoff starts a new one for every simulated thread of every schedule.
    /// </summary>
    [Fact]
    public void DirectHandoffReusesItsThreads()
    {
        var ids = new ConcurrentDictionary<int, bool>();
        var sc = new Toy("toy-threads", _ => ids[Environment.CurrentManagedThreadId] = true);
        int Distinct(HandoffMode h)
        {
            ids.Clear();
            var r = Explorer.Run(new HuntOptions { Scenario = sc, Fixes = Fix.All, Iterations = 30, Seed = 5, Handoff = h });
            Assert.False(r.BugFound, r.Summary);
            Assert.Equal(30, r.Iterations);
            return ids.Count;
        }
        int direct = Distinct(HandoffMode.Direct);
        int coyote = Distinct(HandoffMode.Coyote);
        output.WriteLine($"OS threads that ran toy0 in 30 schedules: direct {direct}, Coyote handoff {coyote}");
        Assert.Equal(1, direct);
        Assert.True(coyote > 1, $"the Coyote handoff ran toy0 on {coyote} thread(s)");
    }
}
