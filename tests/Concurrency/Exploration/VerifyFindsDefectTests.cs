using InotifySim.Model;
using InotifySim.Scenarios.Catalog;
using InotifySim.Scenarios.Exploration;

namespace InotifySim.Tests.Concurrency.Exploration;

/// <summary>
/// The CHESS-style column of the registry (src/Model/Defects.cs, docs/verify.md): for every showing that records
/// it, `verify` on "fixed without the fix" finds the defect with exactly the recorded number of preemptions at
/// the recorded schedule, with the expected report; and with one preemption fewer the tree is exhausted clean
/// (so the count is the minimum).
/// </summary>
public class VerifyFindsDefectTests
{
    public static TheoryData<string, string, bool> Cases
    {
        get
        {
            var data = new TheoryData<string, string, bool>();
            foreach (var d in Defects.All)
                foreach (var s in d.Shows)
                    if (s.Preemptions >= 0) data.Add(d.Name, s.Scenario, s.Faults);
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Verify_finds_it_with_the_fewest_preemptions(string defect, string scenario, bool faults)
    {
        var d = Defects.ByName(defect)!;
        var show = d.Shows.Single(s => s.Scenario == scenario && s.Faults == faults);
        var sc = ScenarioCatalog.Find(scenario)!;
        var fixes = Variants.ForDefect(d.Fix);
        var r = Explorer.Run(new HuntOptions { Scenario = sc, Fixes = fixes, PreemptionBound = show.Preemptions, Iterations = show.VerifySchedules + 50, FaultInjection = faults });
        Assert.True(r.Report != null, $"{defect} on {show.Label}: verify at {show.Preemptions} found nothing ({r.Summary})");
        Assert.True(show.Report.Matches(r.Report), $"expected {show.Report}, got {r.Report.Summary}");
        Assert.Equal(show.Preemptions, r.Preemptions);
        Assert.Equal(show.VerifySchedules, r.BugIteration);
        if (show.Preemptions > 0 && !faults)
        {
            var below = Explorer.Run(new HuntOptions { Scenario = sc, Fixes = fixes, PreemptionBound = show.Preemptions - 1 });
            Assert.True(below.Exhausted && !below.BugFound, $"{defect} on {show.Label}: at {show.Preemptions - 1} preemptions: {below.Summary}");
        }
    }
}
