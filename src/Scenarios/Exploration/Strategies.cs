namespace InotifySim.Scenarios.Exploration;

/// <summary>
/// The sampling strategies of the harness-owned scheduler, by name. Each decides at the model's own
/// scheduling points (see <see cref="InotifySim.Model.Kernel.Scheduler"/>), so they all share one trace
/// format and strict replay. Bounded-exhaustive exploration is not a strategy but the <c>verify</c>
/// command (<see cref="BoundedEnumerator"/>).
/// </summary>
public static class Strategies
{
    public sealed record StrategyInfo(string Name, string Description, bool TakesBound, uint DefaultBound);

    /// <summary>The default: on the quick benchmark (docs/bench/results-quick.md) probabilistic with bound 3 reaches all 16 pairings with the smallest geometric-mean median (3 schedules); real PCT with d = 3 misses the workload-only child-flags-warn within 300.</summary>
    public const string Default = "probabilistic";

    public static readonly IReadOnlyList<StrategyInfo> All = new[]
    {
        new StrategyInfo("random", "uniformly random choice among the runnable threads at every scheduling point", false, 0),
        new StrategyInfo("probabilistic", "the running thread goes on, and is preempted with probability 1/2^bound at each scheduling point (Coyote's 'probabilistic', which this project used to call 'pct')", true, 3),
        new StrategyInfo("pct", "PCT (Burckhardt et al., ASPLOS'10): random thread priorities, bound-1 priority change points among the schedule's steps; bound = the bug depth d", true, 3),
    };

    public static StrategyInfo? Find(string name)
    {
        foreach (var s in All) if (s.Name == name) return s;
        return null;
    }
}
