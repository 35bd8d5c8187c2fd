using InotifySim.Model;
using InotifySim.Scenarios.Catalog;
using InotifySim.Scenarios.Exploration;

namespace InotifySim.Bench;

public static class Discover
{
    public static void Run(string[] pairs, int cap, string strategy)
    {
        foreach (var p in pairs)
        {
            var (fix, scen) = (p.Split('=')[0], p.Split('=')[1]);
            var f = Variants.ByName(fix)!.Value;
            for (uint seed = 1; seed <= 3; seed++)
            {
                var r = Explorer.Run(new HuntOptions { Scenario = ScenarioCatalog.Find(scen)!, Fixes = Variants.ForDefect(f), Iterations = cap, Seed = seed, Strategy = strategy });
                Console.WriteLine($"{fix} {scen} seed {seed}: {r.Summary} ({r.Elapsed.TotalSeconds:F1}s)");
            }
        }
    }
}
