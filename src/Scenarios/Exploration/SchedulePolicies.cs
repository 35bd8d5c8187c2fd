using InotifySim.Model.Kernel;

namespace InotifySim.Scenarios.Exploration;

/// <summary>
/// A deterministic 64-bit generator (SplitMix64): every schedule of a sampling strategy draws from its own
/// generator seeded by (seed, schedule number), so schedule i is the same whatever ran before it.
/// </summary>
public struct SplitMix64
{
    private ulong _s;
    public SplitMix64(ulong seed) => _s = seed;
    public static SplitMix64 For(uint seed, long schedule) => new(((ulong)seed << 32) ^ (ulong)schedule * 0x9E3779B97F4A7C15UL ^ 0xD1B54A32D192ED03UL);
    public ulong Next()
    {
        ulong z = _s += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
    /// <summary>Uniform in [0, n).</summary>
    public int Below(int n) => (int)(Next() % (ulong)n);
}

/// <summary>Helpers over the runnable-thread bit sets of <see cref="Decision"/>.</summary>
public static class ThreadSet
{
    public static int Count(ulong m) => System.Numerics.BitOperations.PopCount(m);
    /// <summary>The <paramref name="i"/>-th member (0-based, ascending).</summary>
    public static int Nth(ulong m, int i)
    {
        for (; ; )
        {
            int b = System.Numerics.BitOperations.TrailingZeroCount(m);
            if (i-- == 0) return b;
            m &= m - 1;
        }
    }
    public static int Lowest(ulong m) => System.Numerics.BitOperations.TrailingZeroCount(m);
    public static bool Has(ulong m, int t) => t >= 0 && (m & (1UL << t)) != 0;
    public static IEnumerable<int> Members(ulong m)
    {
        while (m != 0)
        {
            int b = System.Numerics.BitOperations.TrailingZeroCount(m);
            yield return b;
            m &= m - 1;
        }
    }
}

/// <summary>Uniformly random: every branching node picks one of its options with equal probability.</summary>
public sealed class RandomPolicy(SplitMix64 rng) : ISchedulePolicy
{
    private SplitMix64 _rng = rng;
    public int Pick(DecisionKind kind, ulong options, int current, int index, long points, string site) =>
        kind == DecisionKind.Choice ? _rng.Below((int)options) : ThreadSet.Nth(options, _rng.Below(ThreadSet.Count(options)));
}

/// <summary>
/// Probabilistic switching (what Coyote 1.7.11 calls its "probabilistic" strategy, and this project
/// used to call "pct"): at each scheduling point the running thread is preempted with probability
/// 1/2^bound, in favour of a uniformly random other runnable thread; other nodes pick uniformly.
/// </summary>
public sealed class ProbabilisticPolicy(SplitMix64 rng, uint bound) : ISchedulePolicy
{
    private SplitMix64 _rng = rng;
    private readonly ulong _mask = bound >= 63 ? ulong.MaxValue : (1UL << (int)bound) - 1;

    public int Pick(DecisionKind kind, ulong options, int current, int index, long points, string site)
    {
        if (kind == DecisionKind.Choice) return _rng.Below((int)options);
        if (kind == DecisionKind.Point && ThreadSet.Has(options, current))
        {
            if ((_rng.Next() & _mask) != 0) return current;
            ulong others = options & ~(1UL << current);
            return ThreadSet.Nth(others, _rng.Below(ThreadSet.Count(others)));
        }
        return ThreadSet.Nth(options, _rng.Below(ThreadSet.Count(options)));
    }
}

/// <summary>
/// PCT (Burckhardt, Kothari, Musuvathi, Nagarakatte, ASPLOS 2010): every thread gets a random distinct
/// initial priority d, d+1, ...; d-1 priority change points are drawn uniformly among the first k
/// scheduling points (k: the most points a schedule of this hunt has reached so far); at the j-th change
/// point the running thread's priority drops to j. The runnable thread of highest priority always runs.
/// A bug of depth d among n threads and k steps is found with probability at least 1/(n k^(d-1)).
/// Controlled choices (fault injection, workload picks) are uniformly random.
/// </summary>
public sealed class PctPolicy : ISchedulePolicy
{
    private SplitMix64 _rng;
    private readonly int[] _priority = new int[64];
    private readonly long[] _changePoints;
    private int _nextChange;
    private bool _init;
    private readonly int _depth;

    /// <param name="depth">d: the bug depth targeted (d-1 change points).</param>
    /// <param name="steps">k: the expected number of scheduling points of a schedule.</param>
    public PctPolicy(SplitMix64 rng, int depth, long steps)
    {
        _rng = rng;
        _depth = Math.Max(1, depth);
        int changes = _depth - 1;
        steps = Math.Max(steps, changes + 1);
        var pts = new SortedSet<long>();
        while (pts.Count < changes) pts.Add(1 + (long)(_rng.Next() % (ulong)steps));
        _changePoints = pts.ToArray();
    }

    private void Init()
    {
        // a random permutation of d, d+1, ..., d+63 over the thread slots (threads are indices 0..63)
        var order = new int[64];
        for (int i = 0; i < 64; i++) order[i] = i;
        for (int i = 63; i > 0; i--)
        {
            int j = _rng.Below(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        for (int i = 0; i < 64; i++) _priority[i] = _depth + order[i];
        _init = true;
    }

    public int Pick(DecisionKind kind, ulong options, int current, int index, long points, string site)
    {
        if (kind == DecisionKind.Choice) return _rng.Below((int)options);
        if (!_init) Init();
        if (kind == DecisionKind.Point && current >= 0)
        {
            while (_nextChange < _changePoints.Length && _changePoints[_nextChange] <= points)
            {
                _nextChange++;
                _priority[current] = _nextChange; // j-th change point: priority j (below every initial one)
            }
        }
        int best = -1;
        foreach (var t in ThreadSet.Members(options))
        {
            if (best < 0 || _priority[t] > _priority[best]) best = t;
        }
        return best;
    }
}

/// <summary>
/// Strict replay: consumes exactly the recorded decisions. A node whose kind, deciding thread, site or
/// options differ from the record, a run that needs more decisions than recorded, or one that ends with
/// recorded decisions left over, has diverged: <see cref="Divergence"/> says at which step and how.
/// After a divergence the run goes on without preemptions (so it ends), and its outcome is not a replay.
/// </summary>
public sealed class ReplayPolicy(IReadOnlyList<Decision> recorded) : ISchedulePolicy
{
    public string? Divergence { get; private set; }
    public int Consumed { get; private set; }

    public int Pick(DecisionKind kind, ulong options, int current, int index, long points, string site)
    {
        if (Divergence is null)
        {
            if (index >= recorded.Count)
                Divergence = $"the run needs more decisions than the {recorded.Count} recorded (step {index + 1}: {Describe(kind, options, current, site)})";
            else
            {
                var d = recorded[index];
                if (d.Kind != kind || d.Options != options || d.Current != current || d.Site != site)
                    Divergence = $"step {index + 1}: recorded {Describe(d.Kind, d.Options, d.Current, d.Site)}, the run reached {Describe(kind, options, current, site)}";
                else if (kind == DecisionKind.Choice ? d.Chosen >= (int)options : !ThreadSet.Has(options, d.Chosen))
                    Divergence = $"step {index + 1}: recorded choice {d.Chosen} is not among the options";
                else
                {
                    Consumed = index + 1;
                    return d.Chosen;
                }
            }
        }
        // diverged: finish the run without preemptions
        if (kind == DecisionKind.Choice) return 0;
        if (kind == DecisionKind.Point && ThreadSet.Has(options, current)) return current;
        return ThreadSet.Lowest(options);
    }

    /// <summary>Called when the run ended: decisions left over are a divergence too.</summary>
    public void Finish()
    {
        if (Divergence is null && Consumed < recorded.Count)
            Divergence = $"the run ended after {Consumed} of the {recorded.Count} recorded decisions (step {Consumed + 1} was never reached)";
    }

    public static string Describe(DecisionKind kind, ulong options, int current, string site) =>
        kind == DecisionKind.Choice
            ? $"choice '{site}' of {options} values by thread {current}"
            : $"{kind.ToString().ToLowerInvariant()} of thread {current} in {site} with runnable threads {{{string.Join(",", ThreadSet.Members(options))}}}";
}
