using InotifySim.Model.Kernel;
using InotifySim.Model;
using InotifySim.Scenarios.Catalog;
using InotifySim.Scenarios.Exploration;
using Xunit.Abstractions;

namespace InotifySim.Tests.Concurrency.Exploration;

/// <summary>
/// Every sampling strategy of the harness-owned scheduler, by name, finds the rm_wd race (NULL put)
/// in rm-vs-rm within a stated budget. (Bounded-exhaustive exploration is `verify`: VerifyTests.)
/// </summary>
public class StrategyTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("random", 2000)]
    [InlineData("probabilistic", 2000)]
    [InlineData("pct", 2000)]
    public void StrategyFindsRmWdRace(string strategy, int budget)
    {
        var r = Explorer.Run(new HuntOptions
        {
            Scenario = ScenarioCatalog.Find("rm-vs-rm")!,
            Fixes = Variants.AllBut(Fix.RmWdRecheck),
            Strategy = strategy,
            Iterations = budget,
            Seed = 3,
        });
        output.WriteLine($"{strategy}: {r.Summary}");
        Assert.True(r.BugFound, $"{strategy} did not find the race in {budget} schedules");
        Assert.Equal("null-dereference", r.Report!.Class.Name());
        Assert.Contains("inotify_rm_wd", r.Report.Functions);
    }

    [Fact]
    public void UnknownStrategyIsAClearError()
    {
        var r = Explorer.Run(new HuntOptions { Scenario = ScenarioCatalog.Find("rm-vs-rm")!, Strategy = "bogus", Iterations = 1 });
        Assert.True(r.BugFound && r.Report is null, r.Summary);
        Assert.Contains("unknown strategy 'bogus'", r.OtherBug);
    }
}
