using InotifySim.Model;
using InotifySim.Scenarios.Catalog;
using InotifySim.Scenarios.Exploration;

// temporary driver (the CLI replaces it)
var sc = ScenarioCatalog.Find(args[0])!;
Fix fixes = args[1] == "rfc" ? Fix.None : args[1] == "fixed" ? Fix.All : Variants.AllBut(Variants.ByName(args[1].Replace("allbut:", ""))!.Value);
int iters = int.Parse(args[2]);
string strat = args.Length > 3 ? args[3] : "random";
var r = Explorer.Run(new HuntOptions { Scenario = sc, Fixes = fixes, Iterations = iters, Seed = 1, Strategy = strat });
Console.WriteLine($"{sc.Name} {Variants.Describe(fixes)}: {r.Summary} ({r.Iterations} it, {r.Elapsed.TotalSeconds:F2}s, {r.Iterations / r.Elapsed.TotalSeconds:F0} it/s)");
if (r.Report != null) Console.WriteLine(r.Report.Text);
if (r.OtherBug != null) Console.WriteLine(r.OtherBug);
return r.BugFound ? 1 : 0;
