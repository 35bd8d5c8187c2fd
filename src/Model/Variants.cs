namespace InotifySim.Model;

/// <summary>
/// The named, separately switchable fixes of the seed's defects: one flag per defect of
/// <see cref="Defects.All"/> (src/Model/Defects.cs), which says what each is. The variant `rfc`
/// applies none (the code exactly as posted); `fixed` applies all.
/// </summary>
[Flags]
public enum Fix
{
    None = 0,
    EvMutexUnlock = 1 << 0,
    DestroyRecheck = 1 << 1,
    RmWdRecheck = 1 << 2,
    WatchDestroyOp = 1 << 3,
    DestroyLeak = 1 << 4,
    OneshotLeak = 1 << 5,
    CoalesceEmpty = 1 << 6,
    CoalesceLast = 1 << 7,
    InstanceLimitRace = 1 << 8,
    WatchLimitRace = 1 << 9,
    ChildFlagsRace = 1 << 10,
    FindWatchRef = 1 << 11,
    UmountPin = 1 << 12,
    ChildFlagsWarn = 1 << 13,
    OneshotUnmount = 1 << 14,
    GfpNofs = 1 << 15,
    OneshotUnmountPut = 1 << 16,
    NameSnapshot = 1 << 17,
    ReadCheckDequeue = 1 << 18,

    /// <summary>
    /// Every flag above: the bits up to the last one (a new flag goes above and replaces
    /// ReadCheckDequeue here; FindsDefectTests checks All is exactly the registry's fixes).
    /// </summary>
    All = (ReadCheckDequeue << 1) - 1,
}

public static class Variants
{
    /// <summary>Every fix, in registry order (src/Model/Defects.cs).</summary>
    public static IReadOnlyList<Defect> Fixes => Defects.All;

    public static Defect Info(Fix f) => Defects.Of(f);

    public static string Name(this Fix f) => Info(f).Name;

    /// <summary>"rfc", "fixed", or the list of fix names.</summary>
    public static string Describe(Fix set)
    {
        if (set == Fix.None) return "rfc";
        if (set == Fix.All) return "fixed";
        var names = new List<string>();
        foreach (var i in Fixes) if ((set & i.Fix) != 0) names.Add(i.Name);
        return "rfc+" + string.Join(",", names);
    }

    /// <summary>
    /// Parses a variant ("rfc", "fixed") optionally followed by +fix,fix or -fix,fix
    /// (e.g. "fixed-ev-mutex-unlock" is not accepted; use "fixed" with --without), or a bare
    /// comma list of fix names on top of rfc. Returns null and an error naming the problem.
    /// </summary>
    public static Fix? Parse(string variant, IEnumerable<string>? with, IEnumerable<string>? without, out string? error)
    {
        error = null;
        Fix set;
        switch (variant)
        {
            case "rfc": set = Fix.None; break;
            case "fixed": set = Fix.All; break;
            default:
                error = $"unknown variant '{variant}' (variants: rfc, fixed)";
                return null;
        }
        foreach (var n in with ?? Array.Empty<string>())
        {
            var f = ByName(n);
            if (f is null) { error = UnknownFix(n); return null; }
            set |= f.Value;
        }
        foreach (var n in without ?? Array.Empty<string>())
        {
            var f = ByName(n);
            if (f is null) { error = UnknownFix(n); return null; }
            set &= ~f.Value;
        }
        error = Validate(set);
        return error is null ? set : null;
    }

    public static Fix? ByName(string name)
    {
        foreach (var i in Fixes) if (i.Name == name) return i.Fix;
        return null;
    }

    private static string UnknownFix(string n) =>
        $"unknown fix '{n}' (fixes: {string.Join(", ", Fixes.Select(f => f.Name))})";

    /// <summary>A fix set is valid when every fix's prerequisite is in it.</summary>
    public static string? Validate(Fix set)
    {
        foreach (var i in Fixes)
        {
            if ((set & i.Fix) != 0 && (set & i.Requires) != i.Requires)
                return $"fix '{i.Name}' requires '{Info(i.Requires).Name}'";
        }
        return null;
    }

    /// <summary>
    /// The fix set that isolates one defect: every fix but it (and its dependents). The 6ee5a399
    /// window (oneshot-unmount) is also closed by the project's oneshot-unmount-put, so that one
    /// is left out too.
    /// </summary>
    public static Fix ForDefect(Fix f)
    {
        var set = AllBut(f);
        if (f == Fix.OneshotUnmount) set &= ~Fix.OneshotUnmountPut;
        return set;
    }

    /// <summary>All fixes except <paramref name="f"/> and those that require it.</summary>
    public static Fix AllBut(Fix f)
    {
        var set = Fix.All & ~f;
        foreach (var i in Fixes)
        {
            if ((i.Requires & f) != 0) set &= ~i.Fix;
        }
        return set;
    }
}
