using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using InotifySim.Model.Kernel;
using InotifySim.Scenarios.Catalog;
using InotifySim.Scenarios.Exploration;

namespace InotifySim.Scenarios.Traces;

public enum ReplayStatus
{
    /// <summary>The replay raised the recorded bug (same class, title and functions).</summary>
    Reproduced,
    /// <summary>Coyote could not follow the recorded schedule (the model changed).</summary>
    Diverged,
    /// <summary>The schedule ran but raised another bug.</summary>
    DifferentBug,
    /// <summary>The schedule ran to the end and no bug fired.</summary>
    NoBug,
}

/// <summary>The outcome of replaying one trace file.</summary>
public sealed class ReplayOutcome
{
    public required ReplayStatus Status { get; init; }
    /// <summary>One paragraph saying what happened (the divergence point, the field that differs, ...).</summary>
    public required string Message { get; init; }
    public required TraceFile Trace { get; init; }
    public HuntResult? Result { get; init; }
    public IReadOnlyList<TraceStep> Log { get; init; } = Array.Empty<TraceStep>();

    public bool Reproduced => Status == ReplayStatus.Reproduced;

    /// <summary>The explanation of the replayed bug (null when no model report fired).</summary>
    public TraceExplanation? Explain() =>
        Result?.Report is null ? null : TraceExplanation.Build(Trace, Result.Report, Log);
}

/// <summary>Replays trace files deterministically under Coyote and compares the bug with the recorded one.</summary>
public static class TraceReplayer
{
    private static readonly object s_consoleLock = new();

    /// <summary>
    /// Runs the engine with Console output swallowed (Coyote 1.7.11 prints its progress there),
    /// one run at a time so the process-wide Console writer is restored correctly.
    /// </summary>
    public static HuntResult RunQuiet(HuntOptions o) => RunQuiet(o, out _);

    /// <summary>As <see cref="RunQuiet(HuntOptions)"/>, and returns what Coyote printed (its replay errors are there).</summary>
    public static HuntResult RunQuiet(HuntOptions o, out string engineLog)
    {
        lock (s_consoleLock)
        {
            var saved = Console.Out;
            var capture = new StringWriter();
            Console.SetOut(capture);
            try { return Explorer.Run(o); }
            finally
            {
                Console.SetOut(saved);
                engineLog = capture.ToString();
            }
        }
    }

    /// <summary>Finds the scenario a trace names; throws <see cref="TraceFormatException"/> when it cannot.</summary>
    public static Scenario ResolveScenario(TraceFile t, string name = "trace")
    {
        if (t.Scenario == "script")
        {
            // ScriptScenario comes from the CLI's branch; bound late so this builds without it.
            var type = typeof(TraceReplayer).Assembly.GetType("InotifySim.Scenarios.Scripts.ScriptScenario");
            var parse = type?.GetMethod("Parse", BindingFlags.Public | BindingFlags.Static, new[] { typeof(string), typeof(string) });
            if (parse is null) throw new TraceFormatException($"{name}: scenario scripts are not supported by this build (no ScriptScenario.Parse)");
            try
            {
                return parse.Invoke(null, new object[] { t.Script!, name }) as Scenario
                    ?? throw new TraceFormatException($"{name}: the scenario script did not parse");
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                throw new TraceFormatException($"{name}: the scenario script does not parse: {e.InnerException.Message}");
            }
        }
        return ScenarioCatalog.Find(t.Scenario)
            ?? throw new TraceFormatException($"{name}: unknown scenario '{t.Scenario}' (scenarios: {string.Join(", ", ScenarioCatalog.All.Select(s => s.Name))}, workload:threads=N,ops=M, script)");
    }

    private static readonly Regex s_step = new(@"^[a-z]+\([^()]*\)(,[a-z]+\([^()]*\))*$", RegexOptions.CultureInvariant);

    /// <summary>Checks that "coyoteTrace" is a Coyote reproducible trace; throws naming the problem.</summary>
    public static void ValidateCoyoteTrace(TraceFile t, string name = "trace")
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(t.CoyoteTrace); }
        catch (JsonException e)
        {
            throw new TraceFormatException($"{name}: \"coyoteTrace\" is not a Coyote reproducible trace (invalid JSON: {e.Message.Split('.')[0]})");
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("Steps", out var steps) || steps.ValueKind != JsonValueKind.Array)
                throw new TraceFormatException($"{name}: \"coyoteTrace\" has no \"Steps\" array");
            if (!root.TryGetProperty("Settings", out var settings) || settings.ValueKind != JsonValueKind.Object)
                throw new TraceFormatException($"{name}: \"coyoteTrace\" has no \"Settings\" object");
            int i = 0;
            foreach (var s in steps.EnumerateArray())
            {
                i++;
                if (s.ValueKind != JsonValueKind.String || !s_step.IsMatch(s.GetString()!))
                    throw new TraceFormatException($"{name}: \"coyoteTrace\" step {i} is malformed: {s.GetRawText()}");
            }
            if (i == 0) throw new TraceFormatException($"{name}: \"coyoteTrace\" has no steps");
        }
    }

    /// <summary>
    /// Replays a loaded trace with kernel tracing on. Bad input (unknown scenario, unusable
    /// Coyote trace) throws <see cref="TraceFormatException"/>; everything else is an outcome.
    /// </summary>
    public static ReplayOutcome Replay(TraceFile t, string name = "trace")
    {
        var scenario = ResolveScenario(t, name);
        ValidateCoyoteTrace(t, name);
        var o = new HuntOptions
        {
            Scenario = scenario,
            Fixes = t.FixSet(),
            Strategy = t.Strategy,
            StrategyBound = t.StrategyBound,
            Seed = t.Seed,
            Iterations = 1,
            FaultInjection = t.FaultInjection,
            MaxSteps = t.MaxSteps == 0 ? 5000 : t.MaxSteps,
            ReplayTrace = t.CoyoteTrace,
            Tracing = true,
        };
        HuntResult r;
        string engineLog;
        try { r = RunQuiet(o, out engineLog); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            var inner = e is TargetInvocationException or AggregateException && e.InnerException != null ? e.InnerException! : e;
            throw new TraceFormatException($"{name}: Coyote cannot replay \"coyoteTrace\": {FirstLine(inner.Message)}");
        }
        var log = r.LastMachine?.K.TraceLog ?? (IReadOnlyList<TraceStep>)Array.Empty<TraceStep>();
        if (Environment.GetEnvironmentVariable("INOTIFY_SIM_COYOTE_LOG") == "1") Console.Error.Write(engineLog);
        return Judge(t, r, log);
    }

    private static string FirstLine(string s)
    {
        int nl = s.IndexOf('\n');
        return (nl < 0 ? s : s[..nl]).Trim();
    }

    private static ReplayOutcome Judge(TraceFile t, HuntResult r, IReadOnlyList<TraceStep> log)
    {
        string where = log.Count > 0 ? $" (the replay stopped at kernel step {log[^1].Seq} in {log[^1].Task}: {log[^1].Function})" : "";
        if (r.ReplayError != null)
        {
            return new ReplayOutcome
            {
                Status = ReplayStatus.Diverged, Trace = t, Result = r, Log = log,
                Message = $"the recorded schedule no longer applies to the model: Coyote: {CoyoteError(r.ReplayError)}{where}",
            };
        }
        if (r.BugFound && r.Report is null)
        {
            var other = r.OtherBug ?? "";
            if (other.Contains("not reproducible", StringComparison.OrdinalIgnoreCase) || other.Contains("replay", StringComparison.OrdinalIgnoreCase)
                || other.Contains("trace", StringComparison.OrdinalIgnoreCase))
            {
                return new ReplayOutcome
                {
                    Status = ReplayStatus.Diverged, Trace = t, Result = r, Log = log,
                    Message = $"the recorded schedule no longer applies to the model: {other.Trim()}{where}",
                };
            }
            if (t.OtherBug != null && t.Bug is null && Normalize(other) == Normalize(t.OtherBug))
            {
                return new ReplayOutcome { Status = ReplayStatus.Reproduced, Trace = t, Result = r, Log = log, Message = $"reproduced: [harness] {FirstLine(other)}" };
            }
            return new ReplayOutcome
            {
                Status = ReplayStatus.DifferentBug, Trace = t, Result = r, Log = log,
                Message = $"the replay raised a harness error instead of the recorded bug: {other.Trim()}{where}",
            };
        }
        int recorded = TraceExplanation.CountCoyoteSteps(t.CoyoteTrace);
        if (!r.BugFound && r.ScheduledSteps > recorded)
        {
            return new ReplayOutcome
            {
                Status = ReplayStatus.Diverged, Trace = t, Result = r, Log = log,
                Message = $"the recorded schedule no longer applies to the model: it has {recorded} scheduling steps, but the run went on past step {recorded} (it took {r.ScheduledSteps}) and ended without the bug{where}",
            };
        }
        if (!r.BugFound)
        {
            return new ReplayOutcome
            {
                Status = ReplayStatus.NoBug, Trace = t, Result = r, Log = log,
                Message = "the replay ran to the end without a bug: the recorded schedule no longer reaches it (the model changed?)" + where,
            };
        }
        var got = r.Report!;
        if (t.Bug is null)
        {
            return new ReplayOutcome
            {
                Status = ReplayStatus.DifferentBug, Trace = t, Result = r, Log = log,
                Message = $"the trace records a harness error ({FirstLine(t.OtherBug ?? "")}) but the replay raised {got.Summary}",
            };
        }
        var diffs = new List<string>();
        if (got.Class.Name() != t.Bug.Class) diffs.Add($"class: recorded '{t.Bug.Class}', replayed '{got.Class.Name()}'");
        if (got.Title != t.Bug.Title) diffs.Add($"title: recorded '{t.Bug.Title}', replayed '{got.Title}'");
        if (!got.Functions.SequenceEqual(t.Bug.Functions)) diffs.Add($"functions: recorded [{string.Join(", ", t.Bug.Functions)}], replayed [{string.Join(", ", got.Functions)}]");
        if (diffs.Count == 0)
            return new ReplayOutcome { Status = ReplayStatus.Reproduced, Trace = t, Result = r, Log = log, Message = $"reproduced: {got.Summary}" };
        return new ReplayOutcome
        {
            Status = ReplayStatus.DifferentBug, Trace = t, Result = r, Log = log,
            Message = "the replay raised a different bug:\n  " + string.Join("\n  ", diffs),
        };
    }

    /// <summary>Coyote's replay error without the stack trace it carries.</summary>
    private static string CoyoteError(string text) =>
        string.Join(" ", text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith("at ", StringComparison.Ordinal)));

    private static string Normalize(string s) => FirstLine(s);
}
