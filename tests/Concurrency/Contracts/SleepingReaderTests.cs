using InotifySim.Model;
using InotifySim.Model.Kernel;
using InotifySim.Scenarios;
using InotifySim.Scenarios.Catalog;
using InotifySim.Scenarios.Exploration;
using Xunit.Abstractions;

namespace InotifySim.Tests.Concurrency.Contracts;

/// <summary>
/// Sleeping readers (issue 13.5): a dropped wake_up_interruptible (planted, test-only) is a hung-task report naming
/// the reader and the device's wait queue in every scenario where a reader sleeps; without the plant the
/// scenarios are exhausted clean by verify at one preemption.
/// </summary>
public class SleepingReaderTests(ITestOutputHelper output)
{
    public static readonly string[] Readers = { "blocking-read", "read-vs-rm", "read-vs-death", "read-vs-umount", "read-vs-overflow" };

    public static TheoryData<string> ReaderScenarios()
    {
        var d = new TheoryData<string>();
        foreach (var s in Readers) d.Add(s);
        return d;
    }

    [Theory]
    [MemberData(nameof(ReaderScenarios))]
    public void A_dropped_wake_up_hangs_the_reader(string scenario)
    {
        var sc = new PlantedScenario(ScenarioCatalog.Find(scenario)!, Mistake.DropWakeUp);
        var r = Explorer.Run(new HuntOptions { Scenario = sc, Fixes = Fix.All, PreemptionBound = 1, Iterations = 10_000 });
        output.WriteLine($"{scenario}: {r.Report?.Title} at schedule {r.BugIteration}");
        Assert.True(r.BugFound, $"{scenario}: no report");
        var rep = r.Report!;
        Assert.Equal(BugClass.HungTask, rep.Class);
        Assert.StartsWith("INFO: task reader/", rep.Title);
        Assert.EndsWith("blocked forever in inotify_read", rep.Title);
        Assert.Equal("inotify_read", rep.Functions[0]);
        Assert.StartsWith("reader/", rep.Threads[0]);
        Assert.Matches(@"^a wake-up on struct inotify_device #\d+ \(.*\)->wq$", rep.Objects[0]);
    }

    [Fact]
    public void Without_the_plant_every_reader_scenario_is_verified_clean_at_one_preemption()
    {
        foreach (var name in Readers)
        {
            var r = Explorer.Run(new HuntOptions { Scenario = ScenarioCatalog.Find(name)!, Fixes = Fix.All, PreemptionBound = 1, Iterations = 100_000 });
            output.WriteLine($"{name}: {r.Iterations} schedules, exhausted {r.Exhausted}");
            Assert.False(r.BugFound, r.Report?.Text ?? r.OtherBug);
            Assert.True(r.Exhausted, $"{name}: not exhausted");
        }
    }
}

/// <summary>The matrix scenarios (issue 13.6) are verified clean at one preemption, and docs/scenario-matrix.md is generated.</summary>
public class ScenarioMatrixTests(ITestOutputHelper output)
{
    [Fact]
    public void Every_declared_scenario_is_verified_clean_at_one_preemption()
    {
        foreach (var s in ScenarioCatalog.All.OfType<MatrixScenario>())
        {
            var r = Explorer.Run(new HuntOptions { Scenario = s, Fixes = Fix.All, PreemptionBound = 1, Iterations = 100_000 });
            output.WriteLine($"{s.Name}: {r.Iterations} schedules, exhausted {r.Exhausted}");
            Assert.False(r.BugFound, $"{s.Name}: " + (r.Report?.Text ?? r.OtherBug));
            Assert.True(r.Exhausted, $"{s.Name}: not exhausted");
        }
    }

    [Fact]
    public void Every_catalogue_scenario_but_the_workload_declares_its_threads()
    {
        foreach (var s in ScenarioCatalog.All)
        {
            if (s is GeneratedWorkload) continue;
            Assert.True(s.ThreadOps.Count >= 2, $"{s.Name} declares {s.ThreadOps.Count} thread(s)");
            Assert.DoesNotContain(MatrixOp.None, s.ThreadOps);
        }
    }

    [Fact]
    public void Coverage_is_by_distinct_threads()
    {
        var rmRm = ScenarioCatalog.Find("rm-vs-rm")!;
        Assert.True(ScenarioMatrix.Covers(rmRm, new[] { MatrixOp.Rm, MatrixOp.Rm }));
        Assert.False(ScenarioMatrix.Covers(ScenarioCatalog.Find("rm-vs-death")!, new[] { MatrixOp.Rm, MatrixOp.Rm }));
        Assert.True(ScenarioMatrix.Covers(ScenarioCatalog.Find("rm-vs-umount-vs-death")!, new[] { MatrixOp.Umount, MatrixOp.Rm, MatrixOp.InodeDeath }));
        Assert.False(ScenarioMatrix.Covers(ScenarioCatalog.Find("rm-vs-umount")!, new[] { MatrixOp.Umount, MatrixOp.Rm, MatrixOp.InodeDeath }));
    }

    [Fact]
    public void The_matrix_doc_is_up_to_date()
    {
        var path = Path.Combine(Traces.Approvals.RepoRoot, "docs", "scenario-matrix.md");
        var text = ScenarioMatrix.Markdown();
        if (Environment.GetEnvironmentVariable("INOTIFY_SIM_WRITE_MATRIX") == "1") File.WriteAllText(path, text);
        Assert.True(File.Exists(path), "docs/scenario-matrix.md is missing: run with INOTIFY_SIM_WRITE_MATRIX=1");
        Assert.True(File.ReadAllText(path).Replace("\r", "") == text,
            "docs/scenario-matrix.md is out of date: regenerate it with INOTIFY_SIM_WRITE_MATRIX=1 dotnet test tests/Concurrency -c Release --filter \"FullyQualifiedName~ScenarioMatrix\"");
        output.WriteLine(string.Join("\n", ScenarioMatrix.Gaps()));
    }
}
