using InotifySim.Model;
using InotifySim.Scenarios.Catalog;
using InotifySim.Scenarios.Exploration;
using Xunit.Abstractions;

namespace InotifySim.Tests.Concurrency.Exploration;

/// <summary>
/// The `fixed` variant: every scenario and the generated workload run Budget.Schedules
/// schedules (INOTIFY_SIM_BUDGET, default 1000) with no report.
/// </summary>
public class CleanTests(ITestOutputHelper output)
{
    public static TheoryData<string> Scenarios()
    {
        var d = new TheoryData<string>();
        foreach (var s in ScenarioCatalog.All) d.Add(s.Name);
        return d;
    }

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void FixedRunsClean(string scenario)
    {
        int budget = Budget.Schedules;
        var r = Explorer.Run(new HuntOptions
        {
            Scenario = ScenarioCatalog.Find(scenario)!,
            Fixes = Fix.All,
            Iterations = budget,
            Seed = 7,
        });
        output.WriteLine($"{scenario} on fixed: {r.Summary} in {r.Elapsed.TotalSeconds:F2} s ({r.Iterations / Math.Max(0.001, r.Elapsed.TotalSeconds):F0} schedules/s)");
        Assert.False(r.BugFound, r.Report?.Text ?? r.OtherBug);
        Assert.Equal(budget, r.Iterations);
    }

    [Theory]
    [InlineData("pct")]
    [InlineData("random")]
    public void FixedRunsCleanUnderOtherStrategies(string strategy)
    {
        int budget = Math.Max(50, Budget.Schedules / 5);
        foreach (var s in new[] { "rm-vs-death", "close-vs-umount", "audit-vs-user" })
        {
            var r = Explorer.Run(new HuntOptions { Scenario = ScenarioCatalog.Find(s)!, Fixes = Fix.All, Strategy = strategy, Iterations = budget, Seed = 11 });
            output.WriteLine($"{s} on fixed with {strategy}: {r.Summary}");
            Assert.False(r.BugFound, r.Report?.Text ?? r.OtherBug);
            Assert.Equal(budget, r.Iterations);
        }
    }
}
