using InotifySim.Model;
using InotifySim.Scenarios.Catalog;
using InotifySim.Scenarios.Exploration;

namespace InotifySim.Tests.Concurrency.Exploration;

/// <summary>The same scenario, fix set, strategy and seed give the same result, byte for byte.</summary>
public class DeterminismTests
{
    [Theory]
    [InlineData("rm-vs-death", "rm-wd-recheck", "pct")]
    [InlineData("workload", "child-flags-warn", "random")]
    public void SameSeedSameBugSameBytes(string scenario, string defect, string strategy)
    {
        HuntResult Hunt() => Explorer.Run(new HuntOptions
        {
            Scenario = ScenarioCatalog.Find(scenario)!,
            Fixes = Variants.ForDefect(Variants.ByName(defect)!.Value),
            Strategy = strategy,
            Iterations = 1000,
            Seed = 42,
        });
        var a = Hunt();
        var b = Hunt();
        Assert.True(a.BugFound && a.Report != null, a.Summary);
        Assert.Equal(a.BugIteration, b.BugIteration);
        Assert.Equal(a.Report!.Text, b.Report!.Text);
        Assert.Equal(a.Schedule, b.Schedule);
        Assert.NotEmpty(a.Schedule);
    }

    [Fact]
    public void ACleanRunIsRepeatable()
    {
        HuntResult Hunt() => Explorer.Run(new HuntOptions { Scenario = ScenarioCatalog.Find("workload")!, Fixes = Fix.All, Iterations = 100, Seed = 9 });
        var a = Hunt();
        var b = Hunt();
        Assert.False(a.BugFound || b.BugFound, a.Summary + " / " + b.Summary);
        Assert.Equal(a.Iterations, b.Iterations);
        Assert.Equal(a.LastMachine!.K.Steps, b.LastMachine!.K.Steps);
        Assert.Equal(a.LastMachine.K.Slab.TotalAllocations, b.LastMachine.K.Slab.TotalAllocations);
    }
}
