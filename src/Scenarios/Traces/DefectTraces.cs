using System.Diagnostics;
using InotifySim.Model;
using InotifySim.Scenarios.Catalog;
using InotifySim.Scenarios.Exploration;

namespace InotifySim.Scenarios.Traces;

/// <summary>
/// Builds the regression traces of traces/: for each rfc defect, a minimal failing schedule found
/// on "fixed without that defect" (Variants.AllBut). The scenarios are tried in the listed order;
/// the first that shows a bug fixes the bug (class + first function), then the shrinker keeps the
/// smallest schedule of it. Deterministic: the seeds and budgets are fixed.
/// </summary>
public static class DefectTraces
{
    /// <summary>(fix, scenarios in preference order): every defect of the registry that a detector reports (src/Model/Defects.cs).</summary>
    public static readonly IReadOnlyList<(string Fix, string[] Scenarios)> Table =
        Defects.All.Where(d => d.TraceFile != null).Select(d => (d.Name, d.TraceScenarios.ToArray())).ToList();

    /// <summary>Finds, shrinks and writes traces/&lt;fix&gt;.json for the named fixes (all when empty).</summary>
    public static void Generate(string dir, TextWriter log, IReadOnlyCollection<string> only, int findIterations = 3000, int shrinkBudget = 3000)
    {
        foreach (var (fixName, scenarios) in Table)
        {
            if (only.Count > 0 && !only.Contains(fixName)) continue;
            var sw = Stopwatch.StartNew();
            var fixes = Variants.ForDefect(Variants.ByName(fixName)!.Value);
            log.WriteLine($"{fixName}: fixed without it = {Variants.Describe(fixes)}");
            (TraceFile trace, ScheduleSize size)? best = null;
            foreach (var name in scenarios)
            {
                var s = ScenarioCatalog.Find(name)!;
                HuntResult? found = null;
                HuntOptions? fo = null;
                for (uint seed = 0; seed < 3 && found is null; seed++)
                {
                    fo = new HuntOptions { Scenario = s, Fixes = fixes, Iterations = findIterations, Seed = seed };
                    var r = TraceReplayer.RunQuiet(fo);
                    if (r.Report != null) found = r;
                    else if (r.BugFound) log.WriteLine($"  {name} seed {seed}: harness bug: {r.OtherBug?.Split('\n')[0]}");
                }
                if (found is null) { log.WriteLine($"  {name}: clean"); continue; }
                var key = BugKey.Of(found.Report!);
                log.WriteLine($"  {name}: {found.Summary}");
                var first = TraceShrinker.Measure(TraceFile.FromHunt(fo!, found), s, key);
                if (first is null) { log.WriteLine("  (found trace does not replay)"); }
                best = TraceShrinker.Minimize(s, fixes, key, first, shrinkBudget, log);
                if (best != null) break;
            }
            if (best is null)
            {
                log.WriteLine($"  {fixName}: NOT FOUND ({sw.Elapsed.TotalSeconds:F0}s)");
                continue;
            }
            var path = Path.Combine(dir, fixName + ".json");
            best.Value.trace.Save(path);
            log.WriteLine($"  {fixName}: wrote {path}: {best.Value.trace.Scenario} {best.Value.trace.Strategy}/{best.Value.trace.StrategyBound} seed {best.Value.trace.Seed} iteration {best.Value.trace.Iteration}: {best.Value.size} ({sw.Elapsed.TotalSeconds:F0}s)");
        }
    }
}
