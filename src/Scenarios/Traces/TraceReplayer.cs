using System.Reflection;
using InotifySim.Model;
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
        Result?.Report is null ? null : TraceExplanation.Build(Trace, Result.Report, Log, Result.Schedule.Count, Result.Preemptions);
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

    /// <summary>
    /// Replays a loaded trace with kernel tracing on: strictly, consuming exactly the recorded decisions.
    /// <paramref name="fixes"/> replays the schedule against another fix set (does a fix kill the bug?).
    /// Bad input (unknown scenario, malformed schedule) throws <see cref="TraceFormatException"/>;
    /// everything else is an outcome.
    /// </summary>
    public static ReplayOutcome Replay(TraceFile t, string name = "trace", Fix? fixes = null, Mistake? planted = null, bool? kcsan = null)
    {
        var scenario = ResolveScenario(t, name);
        var decisions = t.Decisions(name);
        var o = new HuntOptions
        {
            Scenario = scenario,
            Fixes = fixes ?? t.FixSet(),
            Strategy = t.Strategy,
            StrategyBound = t.StrategyBound,
            Seed = t.Seed,
            Iterations = 1,
            FaultInjection = t.FaultInjection,
            Planted = planted ?? t.PlantedSet(name),
            Kcsan = kcsan ?? t.Kcsan,
            MaxSteps = t.MaxSteps == 0 ? 5000 : t.MaxSteps,
            Replay = decisions,
            Tracing = true,
        };
        HuntResult r;
        string engineLog;
        try { r = RunQuiet(o, out engineLog); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            var inner = e is TargetInvocationException or AggregateException && e.InnerException != null ? e.InnerException! : e;
            throw new TraceFormatException($"{name}: the schedule cannot be replayed: {FirstLine(inner.Message)}");
        }
        var log = r.LastMachine?.K.TraceLog ?? (IReadOnlyList<TraceStep>)Array.Empty<TraceStep>();
        if (Environment.GetEnvironmentVariable("INOTIFY_SIM_COYOTE_LOG") == "1") Console.Error.Write(engineLog);
        if (r.BugFound && r.Report is null && r.ThreadNames.Count == 0 && t.Threads.Count > 0)
            throw new TraceFormatException($"{name}: the scenario's setup fails before its threads start: {SetupError(r.OtherBug ?? "")}");
        return Judge(t, r, log);
    }

    /// <summary>The exception message of a harness failure, without Coyote's framing and stack.</summary>
    private static string SetupError(string other)
    {
        foreach (var raw in other.Split('\n'))
        {
            var l = raw.Trim();
            int i = l.IndexOf("Exception: ", StringComparison.Ordinal);
            if (i >= 0) return l[(i + "Exception: ".Length)..];
        }
        return FirstLine(other);
    }

    private static string FirstLine(string s)
    {
        int nl = s.IndexOf('\n');
        return (nl < 0 ? s : s[..nl]).Trim();
    }

    private static ReplayOutcome Judge(TraceFile t, HuntResult r, IReadOnlyList<TraceStep> log)
    {
        string where = log.Count > 0 ? $" (the replay stopped at kernel step {log[^1].Seq} in {log[^1].Task}: {log[^1].Function})" : "";
        if (!t.Threads.SequenceEqual(r.ThreadNames))
        {
            return new ReplayOutcome
            {
                Status = ReplayStatus.Diverged, Trace = t, Result = r, Log = log,
                Message = $"the recorded schedule does not belong to this scenario: the trace names threads [{string.Join(", ", t.Threads)}], the scenario runs [{string.Join(", ", r.ThreadNames)}]",
            };
        }
        if (r.Diverged != null)
        {
            return new ReplayOutcome
            {
                Status = ReplayStatus.Diverged, Trace = t, Result = r, Log = log,
                Message = $"the run left the recorded schedule: {r.Diverged}{where}",
            };
        }
        if (r.BugFound && r.Report is null)
        {
            var other = r.OtherBug ?? "";
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
        if (!r.BugFound)
        {
            return new ReplayOutcome
            {
                Status = ReplayStatus.NoBug, Trace = t, Result = r, Log = log,
                Message = $"the recorded schedule ran to its end ({r.Schedule.Count} decisions, {r.Preemptions} preemptions) without a bug" + where,
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

    private static string Normalize(string s) => FirstLine(s);
}
