using InotifySim.Model;
using InotifySim.Model.Kernel;
using InotifySim.Scenarios.Catalog;
using InotifySim.Scenarios.Exploration;

namespace InotifySim.Scenarios.Traces;

/// <summary>How big a failing schedule is; smaller compares first (preemptions before length).</summary>
public sealed record ScheduleSize(int WorkloadOps, int Preemptions, int Decisions, int TraceEntries) : IComparable<ScheduleSize>
{
    public int CompareTo(ScheduleSize? o)
    {
        if (o is null) return -1;
        int c = WorkloadOps.CompareTo(o.WorkloadOps);
        if (c == 0) c = Preemptions.CompareTo(o.Preemptions);
        if (c == 0) c = Decisions.CompareTo(o.Decisions);
        if (c == 0) c = TraceEntries.CompareTo(o.TraceEntries);
        return c;
    }

    public override string ToString() =>
        (WorkloadOps > 0 ? $"{WorkloadOps} workload ops, " : "") + $"{Preemptions} preemptions, {Decisions} scheduling decisions, {TraceEntries} trace steps";
}

/// <summary>The bug a shrink must keep: the report class and its first (faulting) function.</summary>
public sealed record BugKey(string Class, string FirstFunction)
{
    public static BugKey Of(Report r) => new(r.Class.Name(), r.Functions.Count > 0 ? r.Functions[0] : "");
    public static BugKey Of(TraceBug b) => new(b.Class, b.Functions.Count > 0 ? b.Functions[0] : "");
    public bool Matches(Report? r) => r != null && Of(r) == this;
    public override string ToString() => $"[{Class}] in {FirstFunction}";
}

/// <summary>
/// Shrinks a failing schedule, preemptions first: for each size of the scenario (for the generated
/// workload every smaller threads/ops shape, smallest first) it runs the bounded enumerator of
/// <c>verify</c> up to the recorded number of preemptions; iterative context bounding explores fewer
/// preemptions first, so the first schedule that shows the same bug (class + first function) has the
/// fewest preemptions within the budget. A candidate is kept only if it replays strictly to the same
/// bug. Deterministic: same input, same budget, same output.
/// </summary>
public static class TraceShrinker
{
    /// <summary>The scenarios to try, smallest first: every smaller workload size, or just the scenario.</summary>
    public static IReadOnlyList<Scenario> Sizes(Scenario s)
    {
        if (s is not GeneratedWorkload w) return new[] { s };
        var list = new List<GeneratedWorkload>();
        for (int t = 1; t <= w.ThreadCount; t++)
            for (int o = 1; o <= w.OpsPerThread; o++)
                list.Add(new GeneratedWorkload(t, o, w.Program)); // a program keeps each thread's first operations in a smaller shape
        return list.OrderBy(x => x.ThreadCount * x.OpsPerThread).ThenBy(x => x.ThreadCount).ThenBy(x => x.OpsPerThread).ToList();
    }

    private static int Ops(Scenario s) => s is GeneratedWorkload w ? w.ThreadCount * w.OpsPerThread : 0;

    /// <summary>Measures a trace by replaying it strictly with tracing on; null when it does not replay to the same bug.</summary>
    public static (TraceFile trace, ScheduleSize size)? Measure(TraceFile t, Scenario s, BugKey key)
    {
        ReplayOutcome r;
        try { r = TraceReplayer.Replay(t); }
        catch (TraceFormatException) { return null; }
        if (!r.Reproduced || !key.Matches(r.Result?.Report)) return null;
        var size = new ScheduleSize(Ops(s), r.Result!.Preemptions, r.Result.Schedule.Count, r.Log.Count);
        return (t, size);
    }

    /// <summary>
    /// Searches each size of <paramref name="scenario"/> with the bounded enumerator (at most
    /// <paramref name="budget"/> schedules per size) and returns the smallest trace of <paramref name="key"/>
    /// (or <paramref name="start"/> when nothing smaller turns up).
    /// </summary>
    /// <param name="planted">the mistakes the trace was recorded with: the search runs with them (a planted bug is only
    /// there with its plant), and the smaller trace records them</param>
    /// <param name="kcsan">the trace's data-race detector setting (null: the default)</param>
    public static (TraceFile trace, ScheduleSize size)? Minimize(Scenario scenario, Fix fixes, BugKey key,
        (TraceFile trace, ScheduleSize size)? start, int budget, TextWriter? log, string? script = null, bool faultInjection = false,
        Mistake planted = Mistake.None, bool? kcsan = null)
    {
        var best = start;
        int maxBound = start?.size.Preemptions ?? 3;
        foreach (var s in Sizes(scenario))
        {
            if (best != null && Ops(s) > best.Value.size.WorkloadOps) break;
            var o = new HuntOptions
            {
                Scenario = s, Fixes = fixes, PreemptionBound = maxBound, Iterations = budget, FaultInjection = faultInjection,
                Strategy = "verify", Planted = planted, Kcsan = kcsan,
            };
            HuntResult r;
            try { r = TraceReplayer.RunQuiet(o); }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                log?.WriteLine($"  {s.Name}: engine error {e.GetType().Name}");
                continue;
            }
            if (!key.Matches(r.Report)) continue;
            var t = TraceFile.FromHunt(o, r, script);
            var m = Measure(t, s, key);
            if (m is null)
            {
                log?.WriteLine($"  {s.Name}: found at schedule {r.BugIteration} but it does not replay strictly: not kept");
                continue;
            }
            if (best is null || m.Value.size.CompareTo(best.Value.size) < 0)
            {
                log?.WriteLine($"  {s.Name}: verify schedule {r.BugIteration}: {m.Value.size}");
                best = m;
            }
            else log?.WriteLine($"  {s.Name}: verify schedule {r.BugIteration}: {m.Value.size} (not smaller)");
            if (scenario is GeneratedWorkload) break;
        }
        return best;
    }
}
