using InotifySim.Model;
using InotifySim.Model.Kernel;
using InotifySim.Scenarios;
using InotifySim.Scenarios.Catalog;
using InotifySim.Scenarios.Cli;
using Xunit.Abstractions;

namespace InotifySim.Tests.Concurrency.Contracts;

/// <summary>
/// The fault share of the default hunt (issue 13.4): an error-path mistake that only an injected allocation
/// failure reaches is found by a plain `hunt` (no --fault-injection), and the summary records the share.
/// </summary>
public class FaultShareTests(ITestOutputHelper output)
{
    private static (int code, string text) Hunt(Scenario sc, int share, string? json = null)
    {
        var o = new StringWriter();
        var plan = new HuntPlan { Scenarios = new[] { sc }, Fixes = Fix.All, Iterations = 400, Seed = 0, Jobs = 1, FaultShare = share, JsonOut = json };
        int code = HuntCommand.Run(plan, new CliContext { Out = o, Err = o });
        return (code, o.ToString());
    }

    [Fact]
    public void The_default_hunt_finds_an_allocation_failure_leak_in_its_fault_share()
    {
        var json = Path.Combine(Path.GetTempPath(), $"fault-share-{Environment.ProcessId}.json");
        try
        {
            var (code, text) = Hunt(new PlantedScenario(ScenarioCatalog.Find("add-vs-add")!, Mistake.CreateWatchLeak), HuntPlan.DefaultFaultShare, json);
            output.WriteLine(text);
            Assert.Equal(1, code);
            Assert.Contains("fault injection on 1/4 of the schedules", text);
            Assert.Contains("BUG add-vs-add [accounting]", text);
            var s = HuntSummary.Load(json);
            Assert.Equal(4, s.FaultShare);
            Assert.Single(s.Bugs);
            Assert.Contains("create_watch", s.Bugs[0].Functions);
            Assert.True(s.Bugs[0].IterationsBefore >= 300, "found in the fault share (the last quarter)");
            Assert.True(s.FaultIterations > 0 && s.FaultIterations == s.Units.Sum(u => u.FaultIterations));
        }
        finally { File.Delete(json); }
    }

    [Fact]
    public void Without_the_share_the_same_hunt_misses_it_and_fixed_stays_clean_with_it()
    {
        var (code, text) = Hunt(new PlantedScenario(ScenarioCatalog.Find("add-vs-add")!, Mistake.CreateWatchLeak), 0);
        Assert.Equal(0, code); // the mistake is on the error path only
        var (clean, t2) = Hunt(ScenarioCatalog.Find("add-vs-add")!, HuntPlan.DefaultFaultShare);
        output.WriteLine(t2);
        Assert.Equal(0, clean);
        Assert.DoesNotContain("BUG", text + t2);
    }
}
