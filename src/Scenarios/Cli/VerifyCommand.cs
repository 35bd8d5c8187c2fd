using System.Text.Json;
using System.Text.Json.Nodes;
using InotifySim.Model;
using InotifySim.Model.Kernel;
using InotifySim.Scenarios.Exploration;

namespace InotifySim.Scenarios.Cli;

/// <summary>
/// <c>verify</c>: every schedule with at most K preemptions, fewest first (<see cref="Verifier"/>).
/// Exit codes: 0 exhausted and clean, 1 a bug, 2 usage, 4 a budget ran out (or a schedule was cut by
/// --max-steps) before the tree was exhausted: no bug, but no proof either.
/// </summary>
public static class VerifyCommand
{
    public static readonly IReadOnlyList<OptionSpec> Options = CliOptions.Of(
        CliOptions.Scenario, CliOptions.FixSet, CliOptions.Checks,
        new OptionSpec("preemptions", "K", "explore every schedule with at most K preemptions (0 to 10)", Required: true),
        CliOptions.Distribution,
        new OptionSpec("max-schedules", "N", "the most schedules one part may run; running out makes the verdict \"not exhausted\" (exit 4)"),
        CliOptions.Time, CliOptions.FaultInjection,
        new OptionSpec("max-steps", "N", "branching decisions per schedule before it is cut (a cut makes the verdict \"not exhausted\"); default 5000"),
        CliOptions.Json, CliOptions.JUnit,
        new OptionSpec("coverage", "FILE", "write what was explored: schedules, points and preemptions by function, lock-class pairs, fix paths"));

    public static readonly (int, string)[] ExitCodes =
    {
        (Verifier.ExitClean, "every scenario's tree exhausted, no bug (verified up to K preemptions)"), (Verifier.ExitBug, "a bug was found"),
        (2, "usage or input error"), (3, "internal error"), (Verifier.ExitNotExhausted, "a budget ran out or a schedule was cut before the tree was exhausted: no bug, but no proof"),
    };

    /// <summary>The workload shape `verify --scenario all` uses.</summary>
    public const string VerifyWorkloadShape = "workload:threads=2,ops=2,program=1";

    public static int Run(ParsedArgs a, CliContext c)
    {
        var stdout = c.Out;
        var stderr = c.Err;
        var scenarioArg = a.Get("scenario") ?? throw new UsageException("verify: --scenario is required (a name from 'inotify-sim list', all, workload[:threads=N,ops=M[,program=P]] or FILE.isim)");
        var (scenarios, scripts) = HuntPlan.ResolveScenarios(scenarioArg, "verify");
        // the generated workload's default shape (3 threads x 5 operations, ~100 variants per operation) has far
        // too many schedules to exhaust; under `all`, verify takes its smallest shape (docs/verify.md)
        if (scenarioArg == "all")
            scenarios = scenarios.Select(s => s is InotifySim.Scenarios.Catalog.GeneratedWorkload ? InotifySim.Scenarios.Catalog.ScenarioCatalog.Find(VerifyWorkloadShape)! : s).ToList();
        var fixes = CliMain.ParseFixes(a, "verify");
        int k = (int)(a.GetLong("preemptions", 0, 10) ?? throw new UsageException("verify: --preemptions K is required (0 to 10)"));
        int jobs = (int)(a.GetLong("jobs", 1, 1024) ?? Environment.ProcessorCount);
        (int, int)? shard = null;
        if (a.Get("shard") is { } sh)
        {
            shard = ShardSpec.Parse(sh, c.Env, "verify");
            if (!a.Has("jobs")) throw new UsageException("verify: --shard needs an explicit --jobs N (every shard must split the tree into the same parts)");
        }
        long max = a.GetLong("max-schedules", 1, int.MaxValue) ?? 0;
        double? time = a.GetSeconds("time");
        uint maxSteps = (uint)(a.GetLong("max-steps", 10, 10_000_000) ?? 5000);
        string? json = a.Get("json");
        string? coverage = a.Get("coverage");
        string? junit = a.Get("junit");
        Destinations.CheckDistinct(scripts.Select(s => ((string?)s.Script.Name, "--scenario", false))
            .Concat(new (string?, string, bool)[] { (json, "--json", true), (coverage, "--coverage", true), (junit, "--junit", true) }));
        if (json != null) Destinations.CheckFile(json, "--json");
        if (coverage != null) Destinations.CheckFile(coverage, "--coverage");
        if (junit != null) Destinations.CheckFile(junit, "--junit");
        foreach (var s in scripts) s.CheckSetup(fixes);
        var plan = new VerifyPlan
        {
            Scenarios = scenarios, Fixes = fixes, Preemptions = k, Jobs = jobs, Shard = shard, MaxSchedules = max,
            TimeSeconds = time, MaxSteps = maxSteps, FaultInjection = a.Has("fault-injection"), CollectCoverage = coverage != null,
            Planted = CliMain.ParsePlanted(a, "verify"), Kcsan = a.Has("no-kcsan") ? false : null,
        };
        stdout.WriteLine($"verify: {scenarios.Count} scenario(s), {FixLabel.Of(fixes)}, every schedule with at most {k} preemption{(k == 1 ? "" : "s")}, {jobs} part(s)/job(s)" +
                         (shard is { } s2 ? $", shard {s2.Item1}/{s2.Item2}" : "") + (max > 0 ? $", at most {max} schedules per part" : "") + (time is double t ? $", time budget {t:0.#} s" : "")
                         + (plan.Planted == Mistake.None ? "" : $", planted {Mistakes.Describe(plan.Planted)}") + (plan.Kcsan == false ? ", kcsan off" : ""));
        var results = Verifier.Run(plan, line => stderr.WriteLine(line));
        foreach (var r in results) stdout.Write(Verifier.Render(r));
        int code = Verifier.ExitCode(results);
        stdout.WriteLine(code switch
        {
            // a shard explores only its parts of each tree: its clean verdict is not a proof alone
            Verifier.ExitClean when shard is { } sp => $"verify: shard {sp.Item1}/{sp.Item2} clean up to {k} preemption{(k == 1 ? "" : "s")}: this shard's parts of every scenario's schedule tree exhausted, 0 bugs ({results.Sum(r => r.Schedules):N0} schedules); NOT a proof alone: the tree is verified only when all {sp.Item2} shards are clean",
            Verifier.ExitClean => $"verify: VERIFIED up to {k} preemption{(k == 1 ? "" : "s")}: every scenario's schedule tree exhausted, 0 bugs ({results.Sum(r => r.Schedules):N0} schedules)",
            Verifier.ExitBug => $"verify: {results.Count(r => r.Bug != null)} scenario(s) with a bug",
            _ => $"verify: NOT VERIFIED: {results.Count(r => !r.Exhausted)} scenario(s) not exhausted (no bug found, but no proof either)",
        });
        if (GitHubAnnotations.Enabled(c.Env))
        {
            foreach (var r in results.Where(r => r.Bug != null))
                stdout.WriteLine(GitHubAnnotations.Error($"inotify-sim verify: {r.Scenario.Name}", Verifier.Render(r).TrimEnd()));
        }
        bool written = true;
        void Write(string what, string path, Action write)
        {
            try
            {
                write();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                written = false;
                stderr.WriteLine(CliText.Sanitize($"inotify-sim: verify: {what} not written: cannot write {path}: {e.Message}"));
            }
        }
        if (junit != null)
        {
            var cases = results.Select(r => new JUnitCase(
                "inotify-sim.verify." + FixLabel.Of(fixes), r.Scenario.Name, r.Seconds,
                r.Bug is null ? Array.Empty<JUnitFailure>() : new[]
                {
                    new JUnitFailure(r.Bug.Report?.Class.Name() ?? "harness", r.Bug.Report?.Title ?? r.Bug.OtherBug?.Split('\n')[0] ?? "",
                        $"functions: {string.Join(", ", r.Bug.Report?.Functions ?? Array.Empty<string>())}\nfound by verify at schedule {r.Bug.BugIteration} with {r.Bug.Preemptions} preemption(s)\n{r.Bug.Report?.Text}"),
                },
                r.Bug is null && !r.Exhausted ? r.Verdict : null)).ToList();
            Write("JUnit report", junit, () => JUnitWriter.Write(junit, "inotify-sim verify", cases, results.Sum(r => r.Seconds)));
        }
        var total = new Coverage();
        if (coverage != null)
        {
            foreach (var r in results) total.Merge(r.Coverage!);
            stdout.Write(total.Render(fixes));
        }
        if (json != null)
        {
            var o = new JsonObject
            {
                ["command"] = "verify",
                ["variant"] = FixLabel.Of(fixes),
                ["preemptions"] = k,
                ["jobs"] = jobs,
                ["shard"] = shard is { } s3 ? $"{s3.Item1}/{s3.Item2}" : null,
                ["maxSteps"] = maxSteps,
                ["faultInjection"] = plan.FaultInjection,
                ["scenarios"] = new JsonArray(results.Select(r => (JsonNode)Verifier.ToJson(r)).ToArray()),
                ["exitCode"] = code,
            };
            if (plan.Planted != Mistake.None) o["planted"] = new JsonArray(Mistakes.Names(plan.Planted).Select(n => (JsonNode)n).ToArray());
            if (plan.Kcsan is bool kc) o["kcsan"] = kc;
            Write("summary", json, () => File.WriteAllText(json, o.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n"));
        }
        if (coverage != null)
        {
            var o = total.ToJson(fixes);
            o["scenarios"] = new JsonObject(results.Select(r => KeyValuePair.Create(r.Scenario.Name, (JsonNode?)r.Coverage!.ToJson(fixes))));
            Write("coverage", coverage, () => File.WriteAllText(coverage, o.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n"));
        }
        // an output that could not be written is a usage error (exit 2), unless a bug was found: that verdict wins
        return !written && code != Verifier.ExitBug ? CliMain.ExitUsage : code;
    }
}
