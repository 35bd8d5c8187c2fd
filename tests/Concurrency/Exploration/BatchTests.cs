using InotifySim.Model;
using InotifySim.Model.Kernel;
using InotifySim.Scenarios;
using InotifySim.Scenarios.Catalog;
using InotifySim.Scenarios.Exploration;
using Xunit.Abstractions;

namespace InotifySim.Tests.Concurrency.Exploration;

/// <summary>
/// Several schedules per Coyote iteration (<see cref="HuntOptions.SchedulesPerIteration"/>, the direct handoff): a
/// batch changes only how often Coyote's per-iteration floor is paid. Schedule numbers, seeds, the enumerator's
/// order, bugs, schedules, coverage, the progress calls and every way a run stops must be the same for every
/// batch size, also when the schedule that ends the run is in the middle of a batch.
/// </summary>
public class BatchTests(ITestOutputHelper output)
{
    private static readonly int[] Sizes = { 1, 3, 32 };

    /// <summary>Two threads with a few scheduling points; <paramref name="onBuild"/> sees the 1-based build (schedule) number.</summary>
    private sealed class Toy(string name, Action<Sim, int> onBuild) : Scenario
    {
        private int _builds;
        public override string Name => name;
        public override string Description => "toy for the batches";
        public override bool ToleratesFaultInjection => false;
        public override void Build(Sim s)
        {
            int n = ++_builds;
            onBuild(s, n);
            for (int t = 0; t < 2; t++)
                s.Thread(s.M.NewProcess("toy" + t, 0), () =>
                {
                    for (int i = 0; i < 3; i++) s.M.K.Point();
                });
        }
    }

    /// <summary>
    /// Every defect showing found by a pct hunt: the same bug at the same schedule number with the same decisions for
    /// every batch size. Some showings are found past the first batch of 3, some inside one: both are asserted to occur.
    /// </summary>
    [Fact]
    public void SameBugSameScheduleForEveryBatchSize()
    {
        int midBatch = 0, cases = 0;
        foreach (var d in Defects.All)
            foreach (var show in d.Shows)
            {
                HuntResult Hunt(int batch) => Explorer.Run(new HuntOptions
                {
                    Scenario = ScenarioCatalog.Find(show.Scenario)!,
                    Fixes = Variants.ForDefect(d.Fix),
                    Strategy = "pct",
                    Iterations = show.Budget,
                    Seed = 1,
                    FaultInjection = show.Faults,
                    SchedulesPerIteration = batch,
                });
                var one = Hunt(1);
                Assert.True(one.Report != null, $"{d.Name} on {show.Label}: {one.Summary}");
                cases++;
                if (one.BugIteration > 3 && one.BugIteration % 3 != 0) midBatch++;
                foreach (int b in Sizes.Skip(1))
                {
                    var r = Hunt(b);
                    Assert.True(r.Report != null, $"{d.Name} on {show.Label}, batch {b}: {r.Summary}");
                    Assert.Equal(one.Report!.Summary, r.Report!.Summary);
                    Assert.Equal(one.Report.Functions, r.Report.Functions);
                    Assert.Equal(one.BugIteration, r.BugIteration);
                    Assert.Equal(one.Iterations, r.Iterations);
                    Assert.Equal(one.Schedule, r.Schedule);
                }
            }
        output.WriteLine($"{cases} showings; {midBatch} found past the first batch of 3, not at a batch's end");
        Assert.True(midBatch > 0, "no showing is found in the middle of a later batch: the test does not exercise it");
    }

    /// <summary>verify enumerates the same tree, with the same coverage, for every batch size.</summary>
    [Theory]
    [InlineData("rm-vs-death", 1)]
    [InlineData("blocking-read", 2)]
    public void VerifySameTreeAndCoverageForEveryBatchSize(string scenario, int k)
    {
        (HuntResult r, string cov) Verify(int batch)
        {
            var cov = new Coverage();
            var r = Explorer.Run(new HuntOptions
            {
                Scenario = ScenarioCatalog.Find(scenario)!, Fixes = Fix.All, PreemptionBound = k, Iterations = 0, Coverage = cov,
                SchedulesPerIteration = batch,
            });
            return (r, cov.ToJson(Fix.All).ToJsonString());
        }
        var (one, cov1) = Verify(1);
        Assert.True(one.Exhausted, one.Summary);
        Assert.True(one.Iterations > 32, $"{one.Iterations} schedules: fewer than one batch");
        foreach (int b in Sizes.Skip(1))
        {
            var (r, cov) = Verify(b);
            Assert.True(r.Exhausted, r.Summary);
            Assert.Equal(one.SchedulesPerLevel, r.SchedulesPerLevel);
            Assert.Equal(one.Iterations, r.Iterations);
            Assert.Equal(cov1, cov);
        }
    }

    /// <summary>A schedule limit that is not a multiple of the batch: exactly that many schedules, one progress call each, in order.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(32)]
    public void ScheduleLimitAndProgressAreExact(int batch)
    {
        var seen = new List<int>();
        var r = Explorer.Run(new HuntOptions
        {
            Scenario = new Toy("toy-limit", (_, _) => { }), Fixes = Fix.All, Iterations = 50, Seed = 3, SchedulesPerIteration = batch,
            Progress = seen.Add,
        });
        Assert.False(r.BugFound, r.Summary);
        Assert.Equal(50, r.Iterations);
        Assert.Equal(Enumerable.Range(1, 50), seen);
    }

    /// <summary>The stop poll (a time budget) ends the run after the schedule it answers for, also inside a batch.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(32)]
    public void StopPollEndsTheRunMidBatch(int batch)
    {
        int done = 0;
        var r = Explorer.Run(new HuntOptions
        {
            Scenario = new Toy("toy-stop", (_, _) => { }), Fixes = Fix.All, Iterations = 100, Seed = 3, SchedulesPerIteration = batch,
            Progress = i => done = i, ShouldStop = () => done >= 5,
        });
        Assert.False(r.BugFound, r.Summary);
        Assert.Equal(5, r.Iterations);
    }

    /// <summary>A kernel bug in the 10th schedule (a hung task) ends the run there: reported as the kernel bug, at schedule 10.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(32)]
    public void KernelBugMidBatchEndsTheRunAtItsSchedule(int batch)
    {
        var sc = new Toy("toy-hang-10", (s, n) =>
        {
            if (n == 10) s.Thread(s.M.NewProcess("sleeper", 0), () => s.M.K.WaitUntil(() => false, () => "a condition nothing sets"));
        });
        var r = Explorer.Run(new HuntOptions { Scenario = sc, Fixes = Fix.All, Iterations = 50, Seed = 3, SchedulesPerIteration = batch });
        Assert.True(r.Report is { Class: BugClass.HungTask }, r.Summary);
        Assert.Contains("sleeper", r.Report!.Title);
        Assert.Null(r.OtherBug);
        Assert.Equal(10, r.BugIteration);
        Assert.Equal(10, r.Iterations);
    }

    /// <summary>A harness fault in the 10th schedule's setup is a harness condition at schedule 10, never a kernel bug.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(32)]
    public void HarnessFaultMidBatchIsAHarnessConditionAtItsSchedule(int batch)
    {
        var sc = new Toy("toy-fault-10", (_, n) =>
        {
            if (n == 10) throw new InvalidOperationException("toy harness fault in schedule 10");
        });
        var r = Explorer.Run(new HuntOptions { Scenario = sc, Fixes = Fix.All, Iterations = 50, Seed = 3, SchedulesPerIteration = batch });
        Assert.True(r.BugFound, r.Summary);
        Assert.Null(r.Report);
        Assert.Contains("toy harness fault in schedule 10", r.OtherBug);
        Assert.Equal(10, r.BugIteration);
    }
}
