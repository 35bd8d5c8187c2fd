using InotifySim.Model;
using InotifySim.Scenarios.Catalog;
using InotifySim.Scenarios.Exploration;

namespace InotifySim.Bench;

/// <summary>
/// `inotify-bench --registry`: for every showing of the defect registry, the iteration the finds test's
/// sampling run (pct, seed 1) reaches the bug, and the fewest preemptions and schedules `verify` needs
/// (bound 3, at most 3000 schedules). Prints one line per showing: what src/Model/Defects.cs records.
/// </summary>
public static class RegistryMeasure
{
    public static void Run(Action<string> log)
    {
        foreach (var d in Defects.All)
        {
            foreach (var s in d.Shows)
            {
                var sc = ScenarioCatalog.Find(s.Scenario)!;
                var fixes = Variants.ForDefect(d.Fix);
                var h = Explorer.Run(new HuntOptions { Scenario = sc, Fixes = fixes, Strategy = "pct", Iterations = s.Budget, Seed = 1, FaultInjection = s.Faults });
                string hs = h.Report != null && s.Report.Matches(h.Report) ? h.BugIteration.ToString() : h.BugFound ? "wrong:" + h.Report?.Summary : "none";
                var v = Explorer.Run(new HuntOptions { Scenario = sc, Fixes = fixes, PreemptionBound = 3, Iterations = 3000, FaultInjection = s.Faults });
                string vs = v.Report != null && s.Report.Matches(v.Report) ? $"{v.Preemptions} {v.BugIteration}" : v.BugFound ? "wrong:" + v.Report?.Summary : "none";
                log($"{d.Name}\t{s.Label}\tpct={hs}\tverify={vs}");
            }
        }
    }
}
