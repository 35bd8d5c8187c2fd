using System.Text;
using System.Text.Json.Nodes;
using InotifySim.Model;
using InotifySim.Model.Kernel;

namespace InotifySim.Scenarios.Exploration;

/// <summary>
/// What a hunt or a verify run covered (issue 12 §4): schedules explored and how many were distinct;
/// scheduling points reached by kernel function, and where a preemption actually happened; lock-class
/// pairs interleaved (a class the preempted thread held x the class the next thread took); for every
/// named fix, how many explored schedules ran its code path. All tables are sorted by name.
/// </summary>
public sealed class Coverage
{
    private readonly HashSet<ulong> _distinct = new();
    public long Schedules { get; private set; }
    public long Distinct => _distinct.Count;
    public long MaxPreemptions { get; private set; }
    public readonly SortedDictionary<string, long> Points = new(StringComparer.Ordinal);
    public readonly SortedDictionary<string, long> Preempted = new(StringComparer.Ordinal);
    public readonly SortedDictionary<string, long> LockPairs = new(StringComparer.Ordinal);
    public readonly SortedDictionary<string, long> FixPaths = new(StringComparer.Ordinal);

    public void Add(Scheduler s, RunCoverage r)
    {
        lock (this)
        {
            Schedules++;
            _distinct.Add(Hash(s.Log));
            if (s.Preemptions > MaxPreemptions) MaxPreemptions = s.Preemptions;
            foreach (var (k, v) in r.Points) Points[k] = Points.GetValueOrDefault(k) + v;
            foreach (var (k, v) in r.Preempted) Preempted[k] = Preempted.GetValueOrDefault(k) + v;
            foreach (var p in r.LockPairs) LockPairs[p] = LockPairs.GetValueOrDefault(p) + 1;
            foreach (var f in Variants.Fixes)
            {
                if ((r.FixPaths & (int)f.Fix) != 0) FixPaths[f.Name] = FixPaths.GetValueOrDefault(f.Name) + 1;
            }
        }
    }

    /// <summary>Adds another worker's coverage (distinct counts are summed: schedules of different workers are counted as distinct only within a worker).</summary>
    public void Merge(Coverage c)
    {
        lock (this)
        {
            Schedules += c.Schedules;
            foreach (var h in c._distinct) _distinct.Add(h);
            MaxPreemptions = Math.Max(MaxPreemptions, c.MaxPreemptions);
            foreach (var (k, v) in c.Points) Points[k] = Points.GetValueOrDefault(k) + v;
            foreach (var (k, v) in c.Preempted) Preempted[k] = Preempted.GetValueOrDefault(k) + v;
            foreach (var (k, v) in c.LockPairs) LockPairs[k] = LockPairs.GetValueOrDefault(k) + v;
            foreach (var (k, v) in c.FixPaths) FixPaths[k] = FixPaths.GetValueOrDefault(k) + v;
        }
    }

    private static ulong Hash(IReadOnlyList<Decision> log)
    {
        ulong h = 14695981039346656037UL;
        foreach (var d in log)
        {
            h = (h ^ (ulong)d.Chosen) * 1099511628211UL;
            h = (h ^ (ulong)d.Kind) * 1099511628211UL;
        }
        return h ^ (ulong)log.Count;
    }

    public JsonObject ToJson(Fix fixes)
    {
        static JsonObject Table(SortedDictionary<string, long> t)
        {
            var o = new JsonObject();
            foreach (var (k, v) in t) o[k] = v;
            return o;
        }
        var fx = new JsonObject();
        foreach (var f in Variants.Fixes)
        {
            if ((fixes & f.Fix) != 0) fx[f.Name] = FixPaths.GetValueOrDefault(f.Name);
        }
        return new JsonObject
        {
            ["schedules"] = Schedules,
            ["distinctSchedules"] = Distinct,
            ["maxPreemptions"] = MaxPreemptions,
            ["pointsByFunction"] = Table(Points),
            ["preemptionsByFunction"] = Table(Preempted),
            ["lockClassPairsInterleaved"] = Table(LockPairs),
            ["schedulesRunningFix"] = fx,
        };
    }

    /// <summary>The short text block printed at the end of a run.</summary>
    public string Render(Fix fixes)
    {
        var sb = new StringBuilder();
        sb.Append($"coverage: {Distinct} distinct of {Schedules} schedules, up to {MaxPreemptions} preemptions\n");
        sb.Append($"  scheduling points reached in {Points.Count} kernel functions, preempted in {Preempted.Count}: ");
        sb.Append(string.Join(", ", Preempted.Select(p => $"{p.Key} ({p.Value})").Take(12)));
        if (Preempted.Count > 12) sb.Append($", ... (+{Preempted.Count - 12})");
        sb.Append('\n');
        sb.Append($"  lock-class pairs interleaved: {LockPairs.Count}");
        if (LockPairs.Count > 0) sb.Append(": ").Append(string.Join(", ", LockPairs.Keys.Take(8))).Append(LockPairs.Count > 8 ? ", ..." : "");
        sb.Append('\n');
        var never = Variants.Fixes.Where(f => (fixes & f.Fix) != 0 && FixPaths.GetValueOrDefault(f.Name) == 0).Select(f => f.Name).ToList();
        var ran = Variants.Fixes.Where(f => (fixes & f.Fix) != 0 && FixPaths.GetValueOrDefault(f.Name) > 0).Select(f => $"{f.Name} ({FixPaths[f.Name]})").ToList();
        sb.Append($"  fix paths run: {(ran.Count == 0 ? "none" : string.Join(", ", ran))}\n");
        if (never.Count > 0) sb.Append($"  fix paths NEVER run (a clean verdict says nothing about them): {string.Join(", ", never)}\n");
        return sb.ToString();
    }
}
