namespace InotifySim.Model.Kernel;

/// <summary>
/// What one scheduled run reached, for the coverage summary of <c>hunt</c> and <c>verify</c>: scheduling
/// points by kernel function (and where a preemption happened), lock-class pairs interleaved (a class the
/// preempted thread held x the class the thread that ran next took first), and the fixes whose code path
/// ran. Filled by the <see cref="Scheduler"/>, the lock primitives and <see cref="Kernel.FixPath"/>.
/// </summary>
public sealed class RunCoverage
{
    /// <summary>Scheduling points reached, by kernel function.</summary>
    public readonly Dictionary<string, int> Points = new(StringComparer.Ordinal);
    /// <summary>Preemptions taken, by the kernel function of the preempted thread.</summary>
    public readonly Dictionary<string, int> Preempted = new(StringComparer.Ordinal);
    /// <summary>"held-class x taken-class" pairs interleaved by a preemption.</summary>
    public readonly HashSet<string> LockPairs = new(StringComparer.Ordinal);
    /// <summary>Bit set of the fixes (Fix flags) whose code path ran.</summary>
    public int FixPaths;

    private readonly string[]?[] _pendingHeld = new string[]?[64];

    internal void Point(TaskStruct preempted, string site, bool preempt, int next)
    {
        Points[site] = Points.TryGetValue(site, out var n) ? n + 1 : 1;
        if (!preempt) return;
        Preempted[site] = Preempted.TryGetValue(site, out var p) ? p + 1 : 1;
        if (preempted.HeldLocks.Count == 0 || next < 0 || next >= 64) return;
        var held = new string[preempted.HeldLocks.Count];
        for (int i = 0; i < held.Length; i++) held[i] = preempted.HeldLocks[i].Class.Name;
        _pendingHeld[next] = held;
    }

    /// <summary>The first lock a thread takes after it was switched to by a preemption.</summary>
    internal void Acquired(TaskStruct t, LockClass cls)
    {
        int i = t.SchedIndex;
        if (i < 0 || i >= 64 || _pendingHeld[i] is not { } held) return;
        foreach (var h in held) LockPairs.Add(h + " x " + cls.Name);
        _pendingHeld[i] = null;
    }
}
