using System.Runtime.CompilerServices;
using System.Text;
using InotifySim.Model.Inotify;

namespace InotifySim.Model.Kernel;

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
        /// <summary>Mistakes planted in this kernel's model (<see cref="Mistake"/>, declared in src/Model/Mistakes.cs).</summary>
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

    /// <summary>Plants <paramref name="m"/> in this kernel's model (mutation testing of the detectors: `--plant`, tests).</summary>
    public static void Plant(this Kernel k, Mistake m) => k.ContractState().Planted |= m;

    /// <summary>Is mistake <paramref name="m"/> planted in this kernel? (false unless `--plant` or a test planted it)</summary>
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
        if (!HeldBy(l, k.current)) Violation(k, rule, NotHeld(k, l));
    }

    /// <summary>lockdep_assert_held on two locks ("Callers must hold both ...").</summary>
    public static void lockdep_assert_held(this Kernel k, ILockInstance a, ILockInstance b, string rule)
    {
        var t = k.current;
        bool ha = HeldBy(a, t), hb = HeldBy(b, t);
        if (ha && hb) return;
        var what = !ha && !hb ? $"{NotHeld(k, a)}; {NotHeld(k, b)}" : !ha ? NotHeld(k, a) : NotHeld(k, b);
        Violation(k, rule, what);
    }

    /// <summary>
    /// Whether <paramref name="t"/> holds <paramref name="l"/> in any mode, as lockdep_assert_held asks: the owner of a
    /// mutex or spinlock, the writer or any one of the readers of an rw_semaphore (not only its first reader).
    /// </summary>
    private static bool HeldBy(ILockInstance l, TaskStruct t)
    {
        for (int i = 0; i < l.HolderCount; i++)
            if (l.Holder(i) == t) return true;
        return false;
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

    /// <summary>The seed's cover letter: the rule for the consumers of the kernel API.</summary>
    public const string WatchInterfaceRule = "Even though inotify_watch is public, callers must use the established interfaces to access inotify_watch contents.";

    /// <summary>
    /// The functions of the core (fs/inotify.c, the model's Inotify.cs), which own struct inotify_watch's fields;
    /// every other kernel function touching them is a consumer's (inotify_user.c, the audit-like consumer).
    /// </summary>
    private static readonly HashSet<string> s_watchOwners = new(StringComparer.Ordinal)
    {
        "get_inotify_watch", "put_inotify_watch", "put_inotify_handle", "inotify_handle_get_wd", "set_dentry_child_flags",
        "inode_find_handle", "remove_watch_no_event", "remove_watch", "inotify_d_instantiate", "inotify_d_move",
        "inotify_inode_queue_event", "inotify_dentry_parent_queue_event", "inotify_unmount_inodes", "inotify_inode_is_dead",
        "inotify_init", "inotify_destroy", "inotify_find_watch", "inotify_find_update_watch", "inotify_add_watch",
        "inotify_rm_watch", "inotify_rm_wd", "pin_to_kill", "unpin_and_kill",
    };

    /// <summary>
    /// "callers must use the established interfaces to access inotify_watch contents" (the cover letter), checked
    /// at every access of a watch's ih, inode, wd or mask from a consumer's function, with the struct's own comment
    /// as the precise rule: "h_list is protected by ih->mutex of the associated inotify_handle. i_list, mask are
    /// protected by inode->inotify_mutex of the associated inode. ih, inode, and wd are never written to once the
    /// watch is created." A consumer may not write a field (inotify_add_watch sets them up), may read mask only
    /// under inode->inotify_mutex (in its callback: 2.6.25's inotify_user.c reads w->mask there), and may read the
    /// rest only of a watch that holds a reference (added, not finally put). The core's own accesses, and accesses
    /// from outside any kernel function (a test's setup), are not checked. No scheduling point, no recorded access.
    /// </summary>
    public static void watch_field_access(this Kernel k, InotifyWatch w, bool write, [CallerMemberName] string field = "")
    {
        var t = k.current;
        var fn = t.CurrentFunction;
        if (fn == "(user)" || s_watchOwners.Contains(fn)) return;
        if (write)
            Violation(k, WatchInterfaceRule, $"{fn} writes watch->{field} of {w.Describe} (\"ih, inode, and wd are never written to once the watch is created\": inotify_add_watch sets them up)");
        else if (field == "mask" && w.PeekInode is { } inode && inode.inotify_mutex.Owner != t)
            Violation(k, WatchInterfaceRule, $"{fn} reads watch->mask of {w.Describe} without inode->inotify_mutex (\"i_list, mask are protected by inode->inotify_mutex of the associated inode\")");
        else if (w.count.Peek <= 0)
            Violation(k, WatchInterfaceRule, $"{fn} reads watch->{field} of {w.Describe}, which holds no reference (count {w.count.Peek}: not added by inotify_add_watch, or finally put)");
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
        k.Bug(new BugReport(BugClass.LockContract, $"WARNING: lock contract violated: {fn}{(caller is null ? "" : " called from " + caller)}: {rule}")
        {
            Functions = fns,
            Threads = new[] { t.Name },
            Objects = objs,
            Body = sb.ToString(),
        });
    }
}
