using InotifySim.Model;
using InotifySim.Model.Kernel;
using InotifySim.Scenarios.Catalog;
using InotifySim.Scenarios.Exploration;

namespace InotifySim.Scenarios.Traces;

/// <summary>How big a failing schedule is; smaller compares first.</summary>
public sealed record ScheduleSize(int WorkloadOps, int ContextSwitches, int CoyoteSteps, int TraceEntries) : IComparable<ScheduleSize>
{
    public int CompareTo(ScheduleSize? o)
    {
        if (o is null) return -1;
        int c = WorkloadOps.CompareTo(o.WorkloadOps);
        if (c == 0) c = ContextSwitches.CompareTo(o.ContextSwitches);
        if (c == 0) c = CoyoteSteps.CompareTo(o.CoyoteSteps);
        if (c == 0) c = TraceEntries.CompareTo(o.TraceEntries);
        return c;
    }

    public override string ToString() =>
        (WorkloadOps > 0 ? $"{WorkloadOps} workload ops, " : "") + $"{ContextSwitches} context switches, {CoyoteSteps} Coyote steps, {TraceEntries} trace steps";
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
/// Shrinks a failing schedule: re-hunts the same scenario (for the generated workload, also every
/// smaller threads/ops size) with strategies biased to few preemptions — delay-bounding and
/// prioritization with small bounds, then random — over a fixed list of seeds, and keeps the
/// trace of the same bug (class + first function) with the smallest <see cref="ScheduleSize"/>.
/// Everything is deterministic: same input, same budget, same output.
/// </summary>
public static class TraceShrinker
{
    public sealed record Attempt(string Strategy, uint? Bound, uint Seed, int Iterations);

    /// <summary>The search plan for one scenario size, in order.</summary>
    public static IReadOnlyList<Attempt> Plan(int seeds, int iterations)
    {
        var plan = new List<Attempt> { new("delay-bounding", 0, 0, 1) };
        for (uint s = 0; s < seeds; s++)
        {
            plan.Add(new("delay-bounding", 1, s, iterations));
            plan.Add(new("prioritization", 1, s, iterations));
        }
        for (uint s = 0; s < seeds; s++)
        {
            plan.Add(new("delay-bounding", 2, s, iterations));
            plan.Add(new("prioritization", 2, s, iterations));
            plan.Add(new("pct", 2, s, iterations));
        }
        for (uint s = 0; s < seeds; s++) plan.Add(new("random", null, s, iterations));
        return plan;
    }

    /// <summary>The scenarios to try, smallest first: every smaller workload size, or just the scenario.</summary>
    public static IReadOnlyList<Scenario> Sizes(Scenario s)
    {
        if (s is not GeneratedWorkload w) return new[] { s };
        var list = new List<GeneratedWorkload>();
        for (int t = 1; t <= w.ThreadCount; t++)
            for (int o = 1; o <= w.OpsPerThread; o++)
                list.Add(new GeneratedWorkload(t, o));
        return list.OrderBy(x => x.ThreadCount * x.OpsPerThread).ThenBy(x => x.ThreadCount).ThenBy(x => x.OpsPerThread).ToList();
    }

    private static int Ops(Scenario s) => s is GeneratedWorkload w ? w.ThreadCount * w.OpsPerThread : 0;

    /// <summary>Measures a found trace by replaying it with tracing on; null when it does not replay to the same bug.</summary>
    public static (TraceFile trace, ScheduleSize size)? Measure(TraceFile t, Scenario s, BugKey key)
    {
        ReplayOutcome r;
        try { r = TraceReplayer.Replay(t); }
        catch (TraceFormatException) { return null; }
        if (!r.Reproduced || !key.Matches(r.Result?.Report)) return null;
        var size = new ScheduleSize(Ops(s), TraceExplanation.CountContextSwitches(r.Log),
            TraceExplanation.CountCoyoteSteps(t.CoyoteTrace), r.Log.Count);
        return (t, size);
    }

    /// <summary>
    /// Hunts each size of <paramref name="scenario"/> with the plan and returns the smallest trace
    /// of <paramref name="key"/> (or <paramref name="start"/> when nothing smaller turns up).
    /// Sizes are tried smallest first, and the first size that shows the bug ends the size search.
    /// </summary>
    public static (TraceFile trace, ScheduleSize size)? Minimize(Scenario scenario, Fix fixes, BugKey key,
        (TraceFile trace, ScheduleSize size)? start, int seeds, int iterations, TextWriter? log, string? script = null)
    {
        var best = start;
        foreach (var s in Sizes(scenario))
        {
            if (best != null && Ops(s) > best.Value.size.WorkloadOps) break;
            bool foundHere = false;
            foreach (var a in Plan(seeds, iterations))
            {
                var o = new HuntOptions
                {
                    Scenario = s, Fixes = fixes, Strategy = a.Strategy, StrategyBound = a.Bound,
                    Seed = a.Seed, Iterations = a.Iterations,
                };
                HuntResult r;
                try { r = TraceReplayer.RunQuiet(o); }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    log?.WriteLine($"  {s.Name} {a.Strategy}/{a.Bound} seed {a.Seed}: engine error {e.GetType().Name}");
                    continue;
                }
                if (!key.Matches(r.Report)) continue;
                var t = TraceFile.FromHunt(o, r, script);
                var m = Measure(t, s, key);
                if (m is null) continue;
                foundHere = true;
                if (best is null || m.Value.size.CompareTo(best.Value.size) < 0)
                {
                    log?.WriteLine($"  {s.Name} {a.Strategy}{(a.Bound is null ? "" : "/" + a.Bound)} seed {a.Seed} iteration {r.BugIteration}: {m.Value.size}");
                    best = m;
                }
            }
            if (foundHere && scenario is GeneratedWorkload) break;
        }
        return best;
    }
}
