using InotifySim.Model.Kernel;
using InotifySim.Model;
using InotifySim.Scenarios.Catalog;
using InotifySim.Scenarios.Exploration;
using Xunit.Abstractions;

namespace InotifySim.Tests.Concurrency.Exploration;

/// <summary>
/// Every strategy by name finds the rm_wd race (NULL put) in rm-vs-rm within a stated budget.
/// DFS is not here: its schedule tree for even the smallest scenario (setup included) is too
/// deep to reach the race within a CI budget; docs/bench shows it.
/// </summary>
public class StrategyTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("random", 2000)]
    [InlineData("pct", 2000)]
    [InlineData("prioritization", 2000)]
    [InlineData("fair-prioritization", 2000)]
    [InlineData("delay-bounding", 2000)]
    [InlineData("pos", 2000)]
    [InlineData("qlearning", 2000)]
    [InlineData("portfolio", 2000)]
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
        var e = Assert.Throws<ArgumentException>(() => Strategies.Apply(Microsoft.Coyote.Configuration.Create(), "bogus", null));
        Assert.Contains("unknown strategy 'bogus'", e.Message);
    }
}
