using System.Runtime.CompilerServices;
using System.Text;

namespace InotifySim.Model.Kernel;

/// <summary>
/// Mistakes a test can plant in the model (issue 13), off unless a test switches them on for one kernel
/// (<see cref="Contracts.Plant"/>). Never part of a variant: `rfc` and `fixed` run without them.
/// </summary>
[Flags]
public enum Mistake
{
    None = 0,
    /// <summary>inotify_destroy releases ih->mutex one line early: remove_watch_no_event runs under inode->inotify_mutex only.</summary>
    DestroyEarlyUnlock = 1 << 0,
    /// <summary>inotify_dev_queue_event queues the event but drops its wake_up_interruptible(&amp;dev->wq).</summary>
    DropWakeUp = 1 << 1,
    /// <summary>create_watch's allocation-failure path forgets to give back the reserved inotify_watches count (watch-limit-race).</summary>
    CreateWatchLeak = 1 << 2,
}

/// <summary>
/// The seed's locking comments as checks, where each applies, like the kernel's lockdep_assert_held and
/// might_sleep: "Caller must hold ...", "Callers must hold both ...", "Caller must pin given inode",
/// "can sleep", and the kernel API rules of the header comment of fs/inotify.c (a consumer must not hold
/// a lock its callback takes while calling a published routine; a callback must not call one; "Caller must
/// ensure it only calls inotify_add_watch() once per watch"). A broken contract is a
/// <see cref="BugClass.LockContract"/> report naming the function, its caller, the rule (quoted from the
/// seed) and the locks the task actually holds, whether or not this schedule corrupted anything.
/// The checks read owners and counters directly: they add no scheduling point and no recorded access.
/// </summary>
public static class Contracts
{
    /// <summary>Per-kernel contract state: the consumers' callback locks, planted mistakes, documentation notes.</summary>
    public sealed class State
    {
        /// <summary>Lock classes taken during callback processing (registered by each consumer).</summary>
        public readonly List<LockClass> CallbackLocks = new();
        /// <summary>Mistakes planted by a test (<see cref="Mistake"/>).</summary>
        public Mistake Planted;
        /// <summary>Test only: the contract checks stay silent (to show another detector alone on the same mistake).</summary>
        public bool Off;
        /// <summary>
        /// Places where the code departs from a comment that is documentation only (not enforced, because the
        /// posted code itself does not follow it), one line each, in order, without duplicates.
        /// </summary>
        public readonly List<string> Disagreements = new();
    }

    private static readonly ConditionalWeakTable<Kernel, State> s_state = new();

    public static State ContractState(this Kernel k) => s_state.GetValue(k, static _ => new State());

    /// <summary>Plants <paramref name="m"/> in this kernel's model (tests only).</summary>
    public static void Plant(this Kernel k, Mistake m) => k.ContractState().Planted |= m;

    /// <summary>Is mistake <paramref name="m"/> planted in this kernel? (false unless a test planted it)</summary>
    public static bool Planted(this Kernel k, Mistake m) =>
        s_state.TryGetValue(k, out var s) && (s.Planted & m) != 0;

    /// <summary>A consumer declares a lock class its event callback takes (the kernel API rule).</summary>
    public static void callback_takes(this Kernel k, LockClass c)
    {
        var l = k.ContractState().CallbackLocks;
        if (!l.Contains(c)) l.Add(c);
    }

    /// <summary>lockdep_assert_held(l): the current task holds <paramref name="l"/>.</summary>
    public static void lockdep_assert_held(this Kernel k, ILockInstance l, string rule)
    {
        if (l.Owner != k.current) Violation(k, rule, NotHeld(k, l));
    }

    /// <summary>lockdep_assert_held on two locks ("Callers must hold both ...").</summary>
    public static void lockdep_assert_held(this Kernel k, ILockInstance a, ILockInstance b, string rule)
    {
        var t = k.current;
        if (a.Owner == t && b.Owner == t) return;
        var what = a.Owner != t && b.Owner != t ? $"{NotHeld(k, a)}; {NotHeld(k, b)}" : a.Owner != t ? NotHeld(k, a) : NotHeld(k, b);
        Violation(k, rule, what);
    }

    private static string NotHeld(Kernel k, ILockInstance l) =>
        $"{l.Name} ({l.Class.Name}) is not held by {k.current.Name}" + (l.Owner is { } o ? $" (its owner is {o.Name})" : "");

    /// <summary>might_sleep() at the top of a function documented "can sleep": it must not be called in atomic context.</summary>
    public static void can_sleep(this Kernel k, string rule)
    {
        var t = k.current;
        if (t.PreemptCount == 0) return;
        Violation(k, rule, $"called in atomic context (preempt_count {t.PreemptCount}: a spinlock is held)");
    }

    /// <summary>"Caller must pin given inode": the object is live and referenced (its count, read without a scheduling point).</summary>
    public static void assert_pinned(this Kernel k, KObject obj, Atomic count, string rule)
    {
        if (obj.IsFreed) Violation(k, rule, $"{obj.Describe} is freed");
        else if (count.Peek <= 0) Violation(k, rule, $"{obj.Describe} is not pinned ({count.Name} is {count.Peek})");
    }

    /// <summary>
    /// The kernel API rule at a published routine: the caller holds no lock taken during callback processing
    /// (inode->inotify_mutex, inotify_handle->mutex, and each consumer's registered callback locks).
    /// </summary>
    public static void assert_no_callback_locks(this Kernel k, LockClass inodeMutex, LockClass handleMutex, string rule)
    {
        var t = k.current;
        var held = t.HeldLocks;
        if (held.Count == 0) return;
        var cb = k.ContractState().CallbackLocks;
        for (int i = 0; i < held.Count; i++)
        {
            var c = held[i].Class;
            if (c == inodeMutex || c == handleMutex || cb.Contains(c))
                Violation(k, rule, $"{held[i].Lock.Name} ({c.Name}), taken during callback processing, is held (taken in {held[i].Function})");
        }
    }

    /// <summary>A one-time contract ("Caller must ensure it only calls inotify_add_watch() once per watch").</summary>
    public static void assert_once(this Kernel k, bool alreadyDone, string what, string rule)
    {
        if (alreadyDone) Violation(k, rule, what);
    }

    /// <summary>
    /// A comment the posted code does not follow, checked as documentation only: recorded in
    /// <see cref="State.Disagreements"/> (never a report, since `rfc` must run as posted).
    /// </summary>
    public static void note_unless(this Kernel k, bool holds, string rule, string what)
    {
        if (holds) return;
        var t = k.current;
        var stack = t.Stack();
        var line = $"{(stack.Length > 1 ? stack[1] : "(user)")} -> {t.CurrentFunction}: {what} (the comment: \"{rule}\")";
        var l = k.ContractState().Disagreements;
        if (!l.Contains(line)) l.Add(line);
    }

    /// <summary>Reports a broken contract: the function, its caller, the rule, what is wrong and the locks held.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Violation(Kernel k, string rule, string what)
    {
        if (k.ContractState().Off) return;
        var t = k.current;
        var stack = t.Stack();
        string fn = t.CurrentFunction;
        string? caller = stack.Length > 1 ? stack[1] : null;
        var sb = new StringBuilder();
        sb.Append($"{fn}: \"{rule}\"\n");
        sb.Append($"but {what}\n");
        sb.Append(caller is null
            ? $"{fn} was called from user context, against its comment.\n"
            : $"the code disagrees with the comment: {caller} calls {fn} against it.\n");
        sb.Append(k.Lockdep.RenderHeld(t));
        sb.Append("Call Trace:\n").Append(k.SiteHere().Render());
        var fns = new List<string> { fn };
        if (caller != null) fns.Add(caller);
        var objs = new List<string>();
        foreach (var h in t.HeldLocks) objs.Add(h.Lock.Name);
        k.Bug(BugClass.LockContract, $"WARNING: lock contract violated: {fn}{(caller is null ? "" : " called from " + caller)}: {rule}",
            fns, new[] { t.Name }, objs, sb.ToString());
    }
}
