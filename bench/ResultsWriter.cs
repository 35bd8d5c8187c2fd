using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using InotifySim.Model.Kernel;

namespace InotifySim.Bench;

public sealed class ResultsWriter
{
    private readonly Options _o;
    private readonly CostResults? _c;
    private readonly List<Cell>? _cells;
    private readonly DateTime _started;
    private readonly TimeSpan _elapsed;
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public ResultsWriter(Options o, CostResults? c, List<Cell>? cells, DateTime started, TimeSpan elapsed)
    {
        _o = o; _c = c; _cells = cells; _started = started; _elapsed = elapsed;
    }

    public static string Build =>
#if DEBUG
        "Debug";
#else
        "Release";
#endif

    private static string Sh(string cmd, string args)
    {
        try
        {
            var p = Process.Start(new ProcessStartInfo(cmd, args) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Options.RepoRoot() })!;
            string s = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            return s;
        }
        catch (Exception) { return "?"; }
    }

    public static string Cpu()
    {
        try
        {
            foreach (var l in File.ReadLines("/proc/cpuinfo"))
                if (l.StartsWith("model name", StringComparison.Ordinal)) return l.Split(':', 2)[1].Trim();
        }
        catch (Exception) { }
        return RuntimeInformation.ProcessArchitecture.ToString();
    }

    /// <summary>The short commit of this build (AssemblyInformationalVersion "1.0.0+SHA"), or "".</summary>
    private static string BuiltCommit()
    {
        var v = typeof(ResultsWriter).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion ?? "";
        int plus = v.IndexOf('+');
        if (plus < 0) return "";
        var sha = v[(plus + 1)..];
        return sha.Length >= 7 && sha.All(Uri.IsHexDigit) ? sha[..7] : "";
    }

    public void Write()
    {
        Directory.CreateDirectory(_o.OutDir);
        // the commit the binary was built from (the SDK stamps it into the informational version): a copy run from
        // elsewhere, or a checkout moved on since the build, would otherwise be credited with the wrong commit
        string checkout = Sh("git", "rev-parse --short HEAD");
        string built = BuiltCommit();
        string commit = built == "" ? checkout : built;
        string dirty = built != "" && !checkout.StartsWith(built, StringComparison.Ordinal) && !built.StartsWith(checkout, StringComparison.Ordinal)
            ? $" (the binary's build; the checkout found at run time is at `{checkout}`)"
            : Sh("git", "status --porcelain --untracked-files=no") is "" or "?" ? "" : " (with uncommitted changes)";
        var sb = new StringBuilder();
        sb.AppendLine("# Benchmark: iteration cost and iterations to the first bug");
        sb.AppendLine();
        sb.AppendLine($"Written by `bench/` (`dotnet run -c Release --project bench{(_o.Quick ? " -- --quick" : "")}`); a measurement, not a test.");
        sb.AppendLine();
        sb.AppendLine($"- date: {_started:yyyy-MM-dd HH:mm} (local), run time {_elapsed.TotalMinutes:F1} min, mode **{(_o.Quick ? "quick" : "full")}**");
        sb.AppendLine($"- machine: {Cpu()}, {Environment.ProcessorCount} CPUs, {RuntimeInformation.OSDescription}, .NET {Environment.Version}, {Build} build, Coyote 1.7.11");
        sb.AppendLine($"- commit: `{commit}`{dirty}");
        sb.AppendLine();
        if (_c != null) WriteCosts(sb, _c);
        if (_cells != null) WriteHunts(sb, _cells);
        string rec = Path.Combine(_o.OutDir, "recommendations.md");
        if (File.Exists(rec) && !_o.Quick)
        {
            sb.AppendLine();
            sb.Append(File.ReadAllText(rec));
        }
        File.WriteAllText(Path.Combine(_o.OutDir, _o.Quick ? "results-quick.md" : "results.md"), sb.ToString());
        if (_cells != null) File.WriteAllText(Path.Combine(_o.OutDir, _o.Quick ? "iterations-to-bug-quick.svg" : "iterations-to-bug.svg"), Svg.Chart(_cells, _o));
    }

    private void WriteCosts(StringBuilder sb, CostResults c)
    {
        var L = c.Load;
        sb.AppendLine("## 1. Iteration cost (`fixed` variant, default strategy)");
        sb.AppendLine();
        sb.AppendLine(string.Create(Inv, $"Machine during the measurement: **{L.Cpus} of {L.MachineCpus} CPUs** usable (affinity {L.Affinity}); other processes' load {(double.IsNaN(L.OtherLoadCores) ? "unknown" : L.OtherLoadCores.ToString("F2", Inv) + " cores")} " +
                      $"(the machine's busy CPU time minus this process's, per second); load average {L.LoadAvgStart} at the start, {L.LoadAvgEnd} at the end."));
        sb.AppendLine();
        sb.AppendLine($"{_o.CostIterations} iterations (for a scenario: schedules) per test and round, {_o.CostRounds} round(s), median over rounds, after a warm-up of three passes over every test with a pause after each (the tiered JIT's promotion to optimized code: steady state is measured, not JIT time); the empty test is re-measured between scenarios, ratio = time per iteration (for a scenario: per schedule) / empty test's. " +
                      $"Each scenario is measured three times, back to back: with the **direct** handoff as `hunt` and `verify` run it (the default: simulated threads on harness-owned OS threads reused across schedules, a switch is a semaphore handoff Coyote does not see; {InotifySim.Scenarios.Exploration.Explorer.DefaultSchedulesPerIteration} schedules per Coyote iteration, so Coyote's per-iteration floor is paid once per batch), " +
                      "with the direct handoff and **one schedule per Coyote iteration** (every schedule pays the floor), " +
                      "and with the **Coyote** handoff (every simulated thread a Coyote operation, every switch `Operation.PauseUntil`). " +
                      "Switches = the harness scheduler's context switches per schedule (preemptions + switches at blocking and exit); Coyote steps = TestReport's explored steps per iteration; model points = `Kernel.Point()` calls per iteration.");
        sb.AppendLine();
        sb.AppendLine("| test | threads | direct µs/schedule | direct ratio | 1 schedule/it µs | 1 schedule/it ratio | Coyote-handoff µs/it | Coyote-handoff ratio | CPU µs direct / Coyote | switches/schedule | Coyote steps per schedule (direct / Coyote) | model points/schedule |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in new[] { c.Empty, c.KernelOnly, c.Mutex })
            sb.AppendLine(string.Create(Inv, $"| {r.Name}{(r.Bug != null ? " **(bug!)**" : "")} | | {r.MicrosPerIter:F0} | {r.Ratio:F1}x | | | | | {r.MicrosPerIter * r.CpuShare:F0} | | {r.CoyoteSteps:F0} | {r.ModelPoints:F0} |"));
        foreach (var ((r, u), o) in c.Scenarios.Zip(c.ScenariosUnbatched).Zip(c.ScenariosCoyote))
            sb.AppendLine(string.Create(Inv, $"| {r.Name}{(r.Bug != null || u.Bug != null || o.Bug != null ? " **(bug!)**" : "")} | {r.Threads} | {r.MicrosPerIter:F0} | **{r.Ratio:F1}x** | {u.MicrosPerIter:F0} | {u.Ratio:F1}x | {o.MicrosPerIter:F0} | {o.Ratio:F1}x | {r.MicrosPerIter * r.CpuShare:F0} / {o.MicrosPerIter * o.CpuShare:F0} | {r.Switches:F1} | {r.CoyoteSteps:F1} / {o.CoyoteSteps:F0} | {r.ModelPoints:F0} |"));
        double cpuEmpty = c.Empty.MicrosPerIter * c.Empty.CpuShare;
        sb.AppendLine();
        sb.AppendLine(string.Create(Inv, $"By CPU time instead of wall time (this process's CPU time per iteration, less disturbed by other load): empty {cpuEmpty:F0} µs; scenario mean ratio direct {c.Scenarios.Average(r => r.MicrosPerIter * r.CpuShare) / cpuEmpty:F1}x, Coyote handoff {c.ScenariosCoyote.Average(r => r.MicrosPerIter * r.CpuShare) / cpuEmpty:F1}x."));
        sb.AppendLine();
        var two = c.Scenarios.Where(r => r.Threads == 2).ToList();
        var twoOld = c.ScenariosCoyote.Where(r => r.Threads == 2).ToList();
        var twoOne = c.ScenariosUnbatched.Where(r => r.Threads == 2).ToList();
        double perSwitch = SlopePerSwitch(c, c.ScenariosUnbatched), perSwitchOld = SlopePerSwitch(c, c.ScenariosCoyote);
        sb.AppendLine(string.Create(Inv, $"Scenario mean ratio: direct **{c.MeanScenarioRatio:F1}x** (geometric mean {c.GeoMeanScenarioRatio:F1}x), Coyote handoff {c.MeanScenarioRatioCoyote:F1}x; the 3x30 mutex micro-test (Coyote's own scheduler) is {c.Mutex.Ratio:F1}x."));
        sb.AppendLine(string.Create(Inv, $"Two-thread scenarios at most 3x the empty iteration: direct {two.Count(r => r.Ratio <= 3)} of {two.Count} (worst {(two.Count > 0 ? two.Max(r => r.Ratio) : 0):F1}x), " +
                      $"one schedule per Coyote iteration {twoOne.Count(r => r.Ratio <= 3)} of {twoOne.Count} (mean {(twoOne.Count > 0 ? twoOne.Average(r => r.Ratio) : 0):F1}x, worst {(twoOne.Count > 0 ? twoOne.Max(r => r.Ratio) : 0):F1}x), Coyote handoff {twoOld.Count(r => r.Ratio <= 3)} of {twoOld.Count} (worst {(twoOld.Count > 0 ? twoOld.Max(r => r.Ratio) : 0):F1}x)."));
        sb.AppendLine(string.Create(Inv, $"**Per-switch cost on this machine** ({L.Cpus} CPU{(L.Cpus == 1 ? "" : "s")}): switch micro-test direct **{c.PerSwitch.direct:F1} µs**, Coyote handoff **{c.PerSwitch.coyote:F1} µs**; " +
                      $"least-squares fit over the scenarios (µs/it − empty − model-only against switches/it, through the origin; one schedule per iteration, so each pays the whole empty iteration) direct {perSwitch:F1} µs, Coyote handoff {perSwitchOld:F1} µs."));
        sb.AppendLine();
        sb.AppendLine("Switch micro-test: 2 simulated threads x 100 scheduling points under the harness scheduler, switching at every point or never (fastest of 5 back-to-back runs each); per switch = the difference / the switches.");
        sb.AppendLine();
        sb.AppendLine("| micro-test | µs/it | switches/it | Coyote steps/it |");
        sb.AppendLine("|---|---:|---:|---:|");
        foreach (var r in c.PingPong) sb.AppendLine(string.Create(Inv, $"| {r.Name} | {r.MicrosPerIter:F0} | {r.Switches:F0} | {r.CoyoteSteps:F0} |"));
        sb.AppendLine();
        sb.AppendLine("### Where the time goes");
        sb.AppendLine();
        sb.AppendLine("Model-only cost: the same scenario run outside Coyote (`SchedMode.Sequential`, its threads one after the other, no scheduling), " +
                      "setup = machine + scenario setup + teardown without the threads. Allocated bytes per iteration from `GC.GetAllocatedBytesForCurrentThread`.");
        sb.AppendLine();
        sb.AppendLine("| scenario | direct µs/it | model-only µs/it | of which setup+teardown µs | model share | KB allocated/it (setup) | slab allocs/it | points/it (sequential) |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (row, m) in c.Scenarios.Zip(c.Model))
            sb.AppendLine(string.Create(Inv, $"| {row.Name} | {row.MicrosPerIter:F0} | {m.FullMicros:F0} | {m.SetupMicros:F0} | {100 * m.FullMicros / row.MicrosPerIter:F0}% | {m.BytesPerIter / 1024:F0} ({m.SetupBytes / 1024:F0}) | {m.SlabAllocsPerIter:F0} | {m.PointsPerIter:F0} |"));
        sb.AppendLine();
        sb.AppendLine(string.Create(Inv, $"Fit per Coyote step instead (the earlier measure): direct (one schedule per iteration) {Slope(c, c.ScenariosUnbatched):F1} µs, Coyote handoff {Slope(c, c.ScenariosCoyote):F1} µs per Coyote step."));
        sb.AppendLine();
        sb.AppendLine("`Kernel.SiteHere()` (one per slab allocation, kept in `Allocation.Allocated`): " +
                      string.Join(", ", c.Site.Select(s => string.Create(Inv, $"{s.nanos:F0} ns / {s.bytes:F0} B at stack depth {s.depth}"))) + ".");
        sb.AppendLine();
    }

    /// <summary>Fit (time - empty - model) = a * x through the origin over the scenario rows.</summary>
    private static double Fit(CostResults c, List<CostRow> rows, Func<CostRow, double> x)
    {
        double sxy = 0, sxx = 0;
        foreach (var (row, m) in rows.Zip(c.Model))
        {
            double y = row.MicrosPerIter - c.Empty.MicrosPerIter - m.FullMicros;
            sxy += y * x(row);
            sxx += x(row) * x(row);
        }
        return sxx == 0 ? 0 : sxy / sxx;
    }

    /// <summary>µs per Coyote step.</summary>
    public static double Slope(CostResults c, List<CostRow> rows) => Fit(c, rows, r => r.CoyoteSteps);

    /// <summary>µs per context switch of the harness scheduler.</summary>
    public static double SlopePerSwitch(CostResults c, List<CostRow> rows) => Fit(c, rows, r => r.Switches);

    private static string CellText(Cell c)
    {
        if (c.RunCount == 0) return "skipped";
        var s = c.Sorted;
        string found = $"{c.FoundCount}/{c.RunCount}";
        if (c.FoundCount == 0)
            return c.Runs.Any(r => r.Outcome is Outcome.Wrong or Outcome.Harness) ? $"wrong bug ({found})" : $"not found ({found})";
        string med = Hunter.Fmt(c.Median);
        if (c.Strategy.Seeded == false) return $"{med}";
        string spread = $"{Hunter.Fmt(c.Q1)}–{Hunter.Fmt(c.Q3)}";
        string t = double.IsPositiveInfinity(c.Median) ? $"median ∞ (found {found})" : $"**{med}** ({spread})";
        if (c.FoundCount < c.RunCount && !double.IsPositiveInfinity(c.Median)) t += $" {found}";
        if (c.Runs.Any(r => r.Outcome is Outcome.Wrong or Outcome.Harness)) t += " ⚠";
        return t;
    }

    private void WriteHunts(StringBuilder sb, List<Cell> cells)
    {
        var strategies = cells.Select(c => c.Strategy).Distinct().ToList();
        var defects = cells.Select(c => c.Defect).Distinct().ToList();
        sb.AppendLine("## 2. Iterations to the first bug (rfc defects, `Variants.ForDefect(fix)`)");
        sb.AppendLine();
        sb.AppendLine($"Each cell: **median** iterations to the first report of the *right* bug (IQR) over {_o.Seeds} seeds, cap {_o.Cap} iterations per run " +
                      $"(dfs: one deterministic run, cap {_o.DfsCap}). `k/n` = runs that found it when not all did; a run that hit the cap counts as ∞. " +
                      $"A cell gives up after {_o.GiveUpAfter} clean runs in a row from the start (\"not found (0/{_o.GiveUpAfter})\"); the two *probe* pairings (the scenarios the issue names for ev-mutex-unlock) run one seed per strategy. ⚠ = some run found a different bug first (listed below). " +
                      "Seeds are 7 + j·1000003: Coyote 1.7.11 seeds iteration i with seed + i, so seeds 1, 2, 3 are the same exploration shifted by one iteration.");
        sb.AppendLine();
        sb.Append("| defect @ scenario | expected |");
        foreach (var s in strategies) sb.Append($" {s.Label} |");
        sb.AppendLine();
        sb.Append("|---|---|");
        foreach (var _ in strategies) sb.Append("---:|");
        sb.AppendLine();
        foreach (var d in defects)
        {
            sb.Append($"| {d.Key} | {d.Expected} |");
            foreach (var s in strategies) sb.Append($" {CellText(cells.First(c => c.Defect == d && c.Strategy == s))} |");
            sb.AppendLine();
        }
        sb.AppendLine();
        var wrong = cells.SelectMany(c => c.Runs.Where(r => r.Outcome is Outcome.Wrong or Outcome.Harness).Select(r => (c, r))).ToList();
        if (wrong.Count > 0)
        {
            sb.AppendLine("Runs that reported another bug first:");
            sb.AppendLine();
            foreach (var g in wrong.GroupBy(x => (x.c.Defect.Key, x.c.Strategy.Label, x.r.Found)))
                sb.AppendLine($"- {g.Key.Key}, {g.Key.Label}: {g.Count()} run(s): {g.Key.Found}");
            sb.AppendLine();
        }
        sb.AppendLine("What the right bug looked like (first matching report per defect):");
        sb.AppendLine();
        foreach (var d in defects)
        {
            var r = cells.Where(c => c.Defect == d).SelectMany(c => c.Runs).FirstOrDefault(x => x.Outcome == Outcome.Found);
            sb.AppendLine($"- {d.Key}: {(r is null ? "never found" : r.Found)} — {d.Why}");
        }
        sb.AppendLine();

        // strategy ranking
        sb.AppendLine("### Strategies compared");
        sb.AppendLine();
        sb.AppendLine($"Per strategy, over the {defects.Select(d => d.Fix).Distinct().Count()} defects (a defect counts once, by its best pairing): defects whose median ≤ 1000 iterations, defects found in at least one run, " +
                      $"geometric mean of the medians (∞ counted as 2×cap), and the wall time of all its runs.");
        sb.AppendLine();
        sb.AppendLine("| strategy | median ≤ 1000 | found at all | geo-mean median | runs' time (s) |");
        sb.AppendLine("|---|---:|---:|---:|---:|");
        foreach (var st in Rank(cells, _o.Cap))
            sb.AppendLine(string.Create(Inv, $"| {st.label} | {st.within}/{st.n} | {st.any}/{st.n} | {st.geo:F0} | {st.secs:F0} |"));
        sb.AppendLine();
        var def = Rank(cells, _o.Cap).FirstOrDefault(x => x.label == "random");
        if (def.label != null)
        {
            var missing = BestPerFix(cells, "random", _o.Cap).Where(x => x.median > 1000).Select(x => $"{x.fix} ({Hunter.Fmt(x.median)})");
            sb.AppendLine($"Target (b), default strategy `random` (HuntOptions' default): {def.within}/{def.n} defects within a median of 1000 iterations" +
                          (missing.Any() ? "; missing: " + string.Join(", ", missing) + "." : "."));
            sb.AppendLine();
        }
    }

    public static IEnumerable<(string fix, double median)> BestPerFix(List<Cell> cells, string label, int cap) =>
        cells.Where(c => c.Strategy.Label == label && c.RunCount > 0).GroupBy(c => c.Defect.Fix)
            .Select(g => (g.Key, g.Min(c => c.Median)));

    public static List<(string label, int within, int any, int n, double geo, double secs)> Rank(List<Cell> cells, int cap)
    {
        var res = new List<(string, int, int, int, double, double)>();
        foreach (var g in cells.GroupBy(c => c.Strategy.Label))
        {
            var per = g.Where(c => c.RunCount > 0).GroupBy(c => c.Defect.Fix).Select(f => (med: f.Min(c => c.Median), any: f.Any(c => c.FoundCount > 0))).ToList();
            if (per.Count == 0) continue;
            int within = per.Count(p => p.med <= 1000);
            int any = per.Count(p => p.any);
            double geo = Math.Exp(per.Average(p => Math.Log(Math.Max(1, double.IsPositiveInfinity(p.med) ? 2.0 * cap : p.med))));
            res.Add((g.Key, within, any, per.Count, geo, g.Sum(c => c.Seconds)));
        }
        return res.OrderByDescending(r => r.Item2).ThenByDescending(r => r.Item3).ThenBy(r => r.Item5).ToList();
    }
}
