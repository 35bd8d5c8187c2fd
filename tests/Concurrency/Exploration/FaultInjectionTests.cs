using InotifySim.Model;
using InotifySim.Scenarios.Catalog;
using InotifySim.Scenarios.Exploration;
using Xunit.Abstractions;

namespace InotifySim.Tests.Concurrency.Exploration;

/// <summary>
/// Error paths: with fault injection on, every allocation and idr_pre_get may fail by a
/// Coyote-controlled choice. `fixed` must stay clean on its error paths too.
/// </summary>
public class FaultInjectionTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("rm-vs-death")]
    [InlineData("close-vs-umount")]
    [InlineData("add-vs-add")]
    [InlineData("event-vs-rm")]
    [InlineData("audit-vs-user")]
    [InlineData("workload")]
    public void FixedErrorPathsRunClean(string scenario)
    {
        int budget = Math.Max(100, Budget.Schedules / 2);
        var r = Explorer.Run(new HuntOptions
        {
            Scenario = ScenarioCatalog.Find(scenario)!,
            Fixes = Fix.All,
            FaultInjection = true,
            Iterations = budget,
            Seed = 5,
        });
        output.WriteLine($"{scenario} on fixed with fault injection: {r.Summary}");
        Assert.False(r.BugFound, r.Report?.Text ?? r.OtherBug);
        Assert.Equal(budget, r.Iterations);
    }
}
