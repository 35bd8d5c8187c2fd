using System.Text;

namespace InotifySim.Model.Kernel;

/// <summary>The class of a bug report, named as the kernel's debug tools would name it.</summary>
public enum BugClass
{
    Deadlock,
    LockOrderInversion,
    LockHeldAtReturn,
    BadUnlock,
    SleepInAtomic,
    UseAfterFree,
    DoubleFree,
    ListCorruption,
    TypeConfusion,
    RefcountUnderflow,
    NullDereference,
    Leak,
    BusyInodes,
    Accounting,
    LimitExceeded,
    SpecViolation,
    KernelWarning,
    /// <summary>A task that sleeps and that nothing will wake (the kernel's hung-task detector): a lost wake-up, or every task asleep.</summary>
    HungTask,
    /// <summary>A locking contract of the seed's comments broken where it applies (lockdep_assert_held, might_sleep, the kernel API rules).</summary>
    LockContract,
    /// <summary>Two accesses to one field by different tasks, at least one a write, unordered by happens-before (KCSAN).</summary>
    DataRace,
}

public static class BugClassNames
{
    public static string Name(this BugClass c) => c switch
    {
        BugClass.Deadlock => "deadlock",
        BugClass.LockOrderInversion => "lock-order-inversion",
        BugClass.LockHeldAtReturn => "lock-held-at-return",
        BugClass.BadUnlock => "bad-unlock",
        BugClass.SleepInAtomic => "sleep-in-atomic",
        BugClass.UseAfterFree => "use-after-free",
        BugClass.DoubleFree => "double-free",
        BugClass.ListCorruption => "list-corruption",
        BugClass.TypeConfusion => "type-confusion",
        BugClass.RefcountUnderflow => "refcount-underflow",
        BugClass.NullDereference => "null-dereference",
        BugClass.Leak => "leak",
        BugClass.BusyInodes => "busy-inodes",
        BugClass.Accounting => "accounting",
        BugClass.LimitExceeded => "limit-exceeded",
        BugClass.SpecViolation => "spec-violation",
        BugClass.KernelWarning => "kernel-warning",
        BugClass.HungTask => "hung-task",
        BugClass.LockContract => "lock-contract",
        BugClass.DataRace => "data-race",
        _ => c.ToString(),
    };

    public static bool TryParse(string s, out BugClass c)
    {
        foreach (BugClass v in Enum.GetValues<BugClass>())
        {
            if (v.Name() == s) { c = v; return true; }
        }
        c = default;
        return false;
    }
}

/// <summary>
/// The parts of a bug report, named as the detector that fires fills them in: the class and the splat's first line,
/// the kernel functions, tasks and objects involved (what the harness matches and reports on), and the splat's body.
/// <see cref="Kernel.Bug"/> renders it into a <see cref="Report"/>.
/// </summary>
public sealed record BugReport(BugClass Class, string Title)
{
    /// <summary>The kernel functions involved: innermost first for the faulting access, then the other sites.</summary>
    public required IEnumerable<string> Functions { get; init; }
    /// <summary>The simulated tasks involved (none named: empty).</summary>
    public IEnumerable<string> Threads { get; init; } = Array.Empty<string>();
    /// <summary>The objects or locks involved, as the kernel names them ("struct inode #13", a lock instance).</summary>
    public IEnumerable<string> Objects { get; init; } = Array.Empty<string>();
    /// <summary>The splat below its first line (lockdep-, KASAN- or list-debug style).</summary>
    public required string Body { get; init; }
}

/// <summary>
/// A structured bug report. <see cref="Functions"/> lists the kernel functions involved
/// (innermost first for the faulting access, then the other sites); <see cref="Threads"/>
/// names each simulated task involved; <see cref="Text"/> is the kernel-style rendering.
/// </summary>
public sealed class Report
{
    public BugClass Class { get; }
    /// <summary>One line, as the kernel's first line of the splat.</summary>
    public string Title { get; }
    public IReadOnlyList<string> Functions { get; }
    public IReadOnlyList<string> Threads { get; }
    public IReadOnlyList<string> Objects { get; }
    /// <summary>The full kernel-style text (lockdep-, KASAN- or list-debug style).</summary>
    public string Text { get; }

    public Report(BugReport parts)
    {
        Class = parts.Class;
        Title = parts.Title;
        Functions = Dedup(parts.Functions);
        Threads = Dedup(parts.Threads);
        Objects = Dedup(parts.Objects);
        var sb = new StringBuilder();
        sb.Append("==================================================================\n");
        sb.Append(parts.Title).Append('\n');
        sb.Append(parts.Body.TrimEnd('\n')).Append('\n');
        sb.Append("==================================================================\n");
        Text = sb.ToString();
    }

    private static List<string> Dedup(IEnumerable<string> xs)
    {
        var list = new List<string>();
        foreach (var x in xs)
        {
            if (!string.IsNullOrEmpty(x) && !list.Contains(x)) list.Add(x);
        }
        return list;
    }

    /// <summary>A one-line summary: class, title and functions.</summary>
    public string Summary => $"[{Class.Name()}] {Title} (functions: {string.Join(", ", Functions)})";

    public override string ToString() => Text;
}

/// <summary>
/// Thrown at the point a detector fires. The simulated thread stops there, as the kernel
/// would after an oops; under Coyote the exception fails the iteration.
/// </summary>
public sealed class KernelBugException : Exception
{
    public Report Report { get; }
    public KernelBugException(Report report) : base(report.Summary + "\n" + report.Text) => Report = report;
}
