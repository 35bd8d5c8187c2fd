using System.Diagnostics;
using System.Globalization;
using InotifySim.Bench;
using InotifySim.Model;
using InotifySim.Scenarios.Catalog;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
Environment.SetEnvironmentVariable("COYOTE_CLI_TELEMETRY_OPTOUT", "1");

// Coyote 1.7.11 runs each controlled operation on a thread-pool thread that blocks while paused:
// with the default minimum (= CPU count) the pool starves and grows by ~1 thread per 0.5 s.
int minThreads = args.Contains("--default-pool") ? 0 : 64;
if (minThreads > 0) ThreadPool.SetMinThreads(minThreads, minThreads);
args = args.Where(a => a != "--default-pool").ToArray();

if (args.Length > 0 && args[0] == "--idle-check")
{
    var sc0 = ScenarioCatalog.Find("rm-vs-death")!;
    Console.WriteLine($"model-only before Coyote: {Profile.Measure(sc0, 500).FullMicros:F0} us, site {Profile.SiteCost(2).nanos:F0} ns");
    Runner.Scenario(sc0, Fix.All, 200, 7);
    var p0 = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
    Thread.Sleep(3000);
    Console.WriteLine($"cpu while idle 3 s after Coyote: {(System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - p0).TotalMilliseconds:F0} ms, threads {System.Diagnostics.Process.GetCurrentProcess().Threads.Count}");
    Console.WriteLine($"model-only after Coyote: {Profile.Measure(sc0, 500).FullMicros:F0} us, site {Profile.SiteCost(2).nanos:F0} ns");
    return 0;
}
if (args.Length > 0 && args[0] == "--model-cpu")
{
    // the model's own work (sequential, no Coyote), by this process's CPU time: what memory-location rewriting costs
    // the model shows here less disturbed by other load than wall time. Fastest of 5 rounds per scenario.
    int its = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 300;
    double sumBest = 0;
    foreach (var sc in ScenarioCatalog.All)
    {
        for (int i = 0; i < 200; i++) Profile.Once(sc, true);
        double best = double.MaxValue;
        for (int r = 0; r < 5; r++)
        {
            var c0 = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
            for (int i = 0; i < its; i++) Profile.Once(sc, true);
            best = Math.Min(best, (System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - c0).TotalMicroseconds / its);
        }
        sumBest += best;
        Console.WriteLine($"{sc.Name,-26} {best,8:F0} us CPU per sequential iteration");
    }
    Console.WriteLine($"mean {sumBest / ScenarioCatalog.All.Count:F0} us CPU per sequential iteration");
    return 0;
}
if (args.Length > 0 && args[0] == "--model-loop")
{
    // for a profiler (perf record -g with DOTNET_PerfMapEnabled=1): one scenario's sequential schedule, setup and
    // threads and teardown, in a loop on this thread for SECONDS (default 10), after a warm-up to optimized code
    var sc = args.Length > 1 ? ScenarioCatalog.Find(args[1]) : null;
    if (sc is null) { Console.Error.WriteLine("usage: inotify-bench --model-loop SCENARIO [SECONDS]"); return 2; }
    double secs = args.Length > 2 ? double.Parse(args[2], CultureInfo.InvariantCulture) : 10;
    for (int i = 0; i < 300; i++) Profile.Once(sc, true);
    Thread.Sleep(500);
    var sw = Stopwatch.StartNew();
    long n = 0;
    while (sw.Elapsed.TotalSeconds < secs) { Profile.Once(sc, true); n++; }
    Console.WriteLine($"{sc.Name}: {n} sequential schedules, {sw.Elapsed.TotalMicroseconds / n:F0} us each");
    return 0;
}
if (args.Length > 0 && args[0] == "--registry")
{
    var o0 = Console.Out;
    Console.SetOut(TextWriter.Null);
    RegistryMeasure.Run(l => { o0.WriteLine(l); o0.Flush(); });
    return 0;
}
if (args.Length > 0 && args[0] == "--discover") { Discover.Run(args[3..], int.Parse(args[1]), args[2]); return 0; }

var opt = Options.Parse(args);
if (opt is null)
{
    Console.Error.WriteLine("""
        usage: inotify-bench [--quick] [--out DIR] [--threads N] [--seeds N] [--cap N] [--dfs-cap N]
                             [--costs-only | --hunts-only] [--cost-iterations N] [--cost-rounds N] [--defect FIX[@SCENARIO]] [--strategy LABEL] [--budget MIN]
          default (full): cost of every scenario on `fixed` vs an empty Coyote test, then iterations-to-bug
          for each known rfc defect x strategy over 20 seeds (cap 3000, dfs 1000); writes DIR/results.md and
          DIR/iterations-to-bug.svg (DIR defaults to docs/bench of the repository).
          --quick: 3 seeds, cap 300, fewer cost iterations (~2-3 min).
        """);
    return 2;
}

// Coyote's engine writes its progress to the console even with console logging off; keep ours apart.
var stdout = Console.Out;
Console.SetOut(TextWriter.Null);
void Log(string s) { stdout.WriteLine(s); stdout.Flush(); }

var started = DateTime.Now;
var total = Stopwatch.StartNew();
Log($"inotify-bench: {(opt.Quick ? "quick" : "full")} run, {opt.Threads} hunter thread(s), output {opt.OutDir}");
// the model and the tool are deliberately not rewritten (src/Model/Model.csproj, src/Scenarios/Scenarios.csproj);
// the bench's own micro-tests start and wait for tasks under Coyote, so this assembly must be
if (!Microsoft.Coyote.Rewriting.RewritingEngine.IsAssemblyRewritten(typeof(Runner).Assembly))
{
    Log("COYOTE REWRITING MISSING: rebuild (the measurements would explore nothing)");
    return 3;
}

CostResults? costs = null;
if (!opt.HuntsOnly) costs = Costs.Measure(opt, Log);

List<Cell>? cells = null;
if (!opt.CostsOnly)
{
    var plan = new HuntPlan
    {
        Defects = Pairings.All.Where(d => opt.DefectFilter is null || d.Key.Replace(" ", "").StartsWith(opt.DefectFilter, StringComparison.Ordinal)).ToList(),
        Strategies = Options.AllStrategies.Where(s => opt.StrategyFilter is null || s.Label == opt.StrategyFilter).ToList(),
        Seeds = opt.Seeds,
        Cap = opt.Cap,
        DfsCap = opt.DfsCap,
        GiveUpAfter = opt.GiveUpAfter,
        Threads = opt.Threads,
        Budget = opt.Budget - total.Elapsed,
    };
    Log($"iterations to the first bug: {plan.Defects.Count} defect pairings x {plan.Strategies.Count} strategies, {plan.Seeds} seeds, cap {plan.Cap} (dfs {plan.DfsCap}), give up after {plan.GiveUpAfter} clean runs");
    cells = Hunter.Run(plan, Log);
}

total.Stop();
var writer = new ResultsWriter(opt, costs, cells, started, total.Elapsed);
writer.Write();
Log($"done in {total.Elapsed.TotalMinutes:F1} min: {Path.Combine(opt.OutDir, "results.md")}");
return 0;

public sealed class Options
{
    public bool Quick;
    public string OutDir = "";
    public int Threads = 2;
    public int Seeds = 20;
    public int Cap = 3000;
    public int DfsCap = 1000;
    public int GiveUpAfter = 2;
    public int CostIterations = 300;
    public int CostRounds = 3;
    public int ModelIterations = 2000;
    public bool CostsOnly, HuntsOnly;
    public string? DefectFilter, StrategyFilter;
    public TimeSpan Budget = TimeSpan.FromMinutes(24);

    public static readonly IReadOnlyList<StrategySpec> AllStrategies = new StrategySpec[]
    {
        new("random", "random", null),
        new("probabilistic:1", "probabilistic", 1),
        new("probabilistic:3", "probabilistic", 3),
        new("probabilistic:5", "probabilistic", 5),
        new("pct:2", "pct", 2),
        new("pct:3", "pct", 3),
        new("pct:5", "pct", 5),
        new("verify:3", "verify", 3, Seeded: false),
    };

    public static Options? Parse(string[] args)
    {
        var o = new Options();
        if (args.Contains("--quick"))
        {
            o.Quick = true;
            o.Seeds = 3; o.Cap = 300; o.DfsCap = 200; o.GiveUpAfter = 1;
            o.CostIterations = 40; o.CostRounds = 1; o.ModelIterations = 300;
            o.Budget = TimeSpan.FromMinutes(3);
        }
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException(args[i] + " needs a value");
            try
            {
                switch (args[i])
                {
                    case "--quick": break;
                    case "--out": o.OutDir = Next(); break;
                    case "--threads": o.Threads = int.Parse(Next()); break;
                    case "--seeds": o.Seeds = int.Parse(Next()); break;
                    case "--cap": o.Cap = int.Parse(Next()); break;
                    case "--dfs-cap": o.DfsCap = int.Parse(Next()); break;
                    case "--give-up": o.GiveUpAfter = int.Parse(Next()); break;
                    case "--cost-iterations": o.CostIterations = int.Parse(Next()); break;
                    case "--cost-rounds": o.CostRounds = int.Parse(Next()); break;
                    case "--costs-only": o.CostsOnly = true; break;
                    case "--hunts-only": o.HuntsOnly = true; break;
                    case "--defect": o.DefectFilter = Next().Replace(" ", ""); break;
                    case "--strategy": o.StrategyFilter = Next(); break;
                    case "--budget": o.Budget = TimeSpan.FromMinutes(double.Parse(Next(), CultureInfo.InvariantCulture)); break;
                    default: return null;
                }
            }
            catch (Exception) { return null; }
        }
        if (o.OutDir == "") o.OutDir = Path.Combine(RepoRoot(), "docs", "bench");
        return o;
    }

    public static string RepoRoot()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
            for (var d = new DirectoryInfo(start); d != null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "Simulation.sln"))) return d.FullName;
        return Environment.CurrentDirectory;
    }
}
