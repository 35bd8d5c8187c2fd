using InotifySim.Model;
using InotifySim.Scenarios.Catalog;
using InotifySim.Scenarios.Exploration;
using Xunit.Abstractions;

namespace InotifySim.Tests.Concurrency.Exploration;

/// <summary>
/// For every showing of every defect in the registry (src/Model/Defects.cs): exploration finds it
/// within the stated budget from seed 1, with every other fix applied (so one bug does not mask
/// another), at the iteration the registry records; the report has the defect's class and names its
/// kernel functions; and replaying the schedule found reproduces the same report.
/// </summary>
public class FindsDefectTests(ITestOutputHelper output)
{
    private const uint Seed = 1;
    private const string Strategy = "pct";

    /// <summary>(defect, scenario, faults): every showing of the registry.</summary>
    public static TheoryData<string, string, bool> Cases
    {
        get
        {
            var data = new TheoryData<string, string, bool>();
            foreach (var d in Defects.All)
                foreach (var s in d.Shows)
                    data.Add(d.Name, s.Scenario, s.Faults);
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Finds(string defect, string scenario, bool faults)
    {
        var d = Defects.ByName(defect)!;
        var show = d.Shows.Single(s => s.Scenario == scenario && s.Faults == faults);
        var o = new HuntOptions
        {
            Scenario = ScenarioCatalog.Find(scenario)!,
            Fixes = Variants.ForDefect(d.Fix),
            Strategy = Strategy,
            Iterations = show.Budget,
            Seed = Seed,
            FaultInjection = faults,
        };
        var r = Explorer.Run(o);
        output.WriteLine($"{defect} on {show.Label} ({Strategy}, seed {Seed}): {r.Summary}, {r.Iterations} iterations, {r.Elapsed.TotalSeconds:F2} s");
        Assert.True(r.BugFound, $"{defect}: not found in {show.Budget} schedules of {show.Label}");
        Assert.True(r.Report != null, $"{defect}: Coyote reported something that is not a model report: {r.OtherBug}");
        output.WriteLine(r.Report!.Text);
        Assert.True(show.Report.Matches(r.Report),
            $"{defect} on {show.Label}: expected {show.Report}, got {r.Report.Summary}");
        Assert.True(show.Measured == r.BugIteration,
            $"{defect} on {show.Label}: the registry records iteration {show.Measured}, found at {r.BugIteration}: " +
            "update Measured in src/Model/Defects.cs and the docs/findings.md table (FindingsTableMatchesTheRegistry prints it)");

        // replay what was found, strictly: exactly the recorded decisions
        var replay = Explorer.Run(new HuntOptions
        {
            Scenario = o.Scenario, Fixes = o.Fixes, FaultInjection = o.FaultInjection, Replay = r.Schedule,
        });
        Assert.True(replay.Diverged is null, $"{defect} on {show.Label}: the replay diverged: {replay.Diverged}");
        Assert.Equal(r.Schedule, replay.Schedule);
        Assert.True(replay.Report != null, $"{defect} on {show.Label}: the replay did not reproduce a report ({replay.OtherBug ?? replay.Summary})");
        Assert.Equal(r.Report.Class, replay.Report!.Class);
        Assert.Equal(r.Report.Title, replay.Report.Title);
        Assert.Equal(r.Report.Functions, replay.Report.Functions);
    }

    [Fact]
    public void EveryFixHasAShowingOrIsUserVisibleOnly()
    {
        foreach (var d in Defects.All)
        {
            Assert.True((d.Shows.Count > 0) ^ (d.UserVisibleOnly != null),
                $"{d.Name}: a defect either has showings (a detector reports it) or says why it is user-visible only");
            foreach (var s in d.Shows)
            {
                Assert.True(ScenarioCatalog.Find(s.Scenario) != null, $"{d.Name}: no scenario {s.Scenario}");
                Assert.True(s.Measured >= 1 && s.Measured <= s.Budget, $"{d.Name} on {s.Label}: measured {s.Measured} outside the budget {s.Budget}");
            }
        }
        // since the user-visible oracle (issue 13), every defect has a detector: coalesce-last's lost event is a
        // spec-violation against the reference specification
        Assert.Empty(Defects.All.Where(d => d.UserVisibleOnly != null).Select(d => d.Name));
    }

    [Fact]
    public void TheRegistryDeclaresEveryFixFlagOnce()
    {
        Assert.Equal(Fix.All, Defects.AllFixes);
        foreach (var d in Defects.All)
        {
            Assert.True(d.Fix != Fix.None && (d.Fix & (d.Fix - 1)) == 0, $"{d.Name}: not a single flag");
            Assert.Single(Defects.All, x => x.Fix == d.Fix);
            Assert.Single(Defects.All, x => x.Name == d.Name);
            Assert.Single(Defects.All, x => x.Finding == d.Finding);
            Assert.True(d.Requires == Fix.None || Defects.All.Any(x => x.Fix == d.Requires), $"{d.Name}: requires an unknown fix");
        }
    }

    [Fact]
    public void FindingsTableMatchesTheRegistry()
    {
        var doc = File.ReadAllText(Path.Combine(Traces.Approvals.RepoRoot, "docs", "findings.md")).Replace("\r", "");
        var table = Defects.FindingsTable();
        Assert.True(doc.Contains(table, StringComparison.Ordinal),
            "docs/findings.md's table differs from the registry (src/Model/Defects.cs); the registry's table:\n" + table);
        // and each row's numbered item exists, naming its fix
        foreach (var d in Defects.All)
            Assert.True(doc.Contains($"{d.Finding}. **`{d.Name}`**", StringComparison.Ordinal),
                $"docs/findings.md has no item \"{d.Finding}. **`{d.Name}`**\"");
    }

    [Fact]
    public void ListScenariosShowsTheRegistryTargets()
    {
        // the stale targets the registry replaced
        Assert.True((ScenarioCatalog.Find("close-vs-umount")!.Targets & Fix.UmountPin) != 0);
        Assert.True((ScenarioCatalog.Find("rm-vs-umount")!.Targets & Fix.UmountPin) != 0);
        Assert.True((ScenarioCatalog.Find("event-vs-rm")!.Targets & Fix.CoalesceEmpty) != 0);
        Assert.True((ScenarioCatalog.Find("workload")!.Targets & (Fix.ChildFlagsWarn | Fix.GfpNofs)) == (Fix.ChildFlagsWarn | Fix.GfpNofs));
        foreach (var s in ScenarioCatalog.All)
            foreach (var d in Defects.All)
                Assert.Equal(d.Shows.Any(x => x.Family == s.Name), (s.Targets & d.Fix) != 0);
    }
}
