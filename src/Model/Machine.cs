using InotifySim.Model.Inotify;
using InotifySim.Model.Kernel;
using InotifySim.Model.Vfs;
using static InotifySim.Model.Inotify.IN;

namespace InotifySim.Model;

public sealed class MachineOptions
{
    public Fix Fixes { get; set; } = Fix.All;
    public SchedMode Mode { get; set; } = SchedMode.Sequential;
    public int Seed { get; set; }
    public bool FaultInjection { get; set; }
    public bool Tracing { get; set; }
    public bool Audit { get; set; }
    public int MaxUserInstances { get; set; } = 128;
    public int MaxUserWatches { get; set; } = 8192;
    public int MaxQueuedEvents { get; set; } = 16384;
}

/// <summary>What one inotify fd has shown user space, for the inotify(7) oracles.</summary>
internal sealed class FdHistory
{
    public readonly HashSet<int> Ignored = new();
    public readonly HashSet<int> Wds = new();
    public readonly HashSet<int> Oneshot = new();
    public bool Overflowed;
    /// <summary>An event was dropped because its allocation failed (fault injection).</summary>
    public bool Dropped;
}

/// <summary>
/// The simulated machine of one run: a kernel, the VFS with a root filesystem, the inotify
/// core and user layers, optionally the audit-like module, and processes. Scenarios drive it
/// through its syscall methods; <see cref="Teardown"/> closes every fd, unmounts everything
/// and runs kmemleak; <see cref="CheckQuiescent"/> is the accounting, structure and
/// inotify(7) oracle for a state where no syscall is in flight.
/// </summary>
public sealed class Machine : IInotifyObserver
{
    public readonly Kernel.Kernel K;
    public readonly Vfs.Vfs Vfs;
    public readonly Inotify.Inotify Core;
    public readonly InotifyUser User;
    public readonly AuditModule? Audit;
    public readonly InotifySysctl Sysctl;
    public readonly MachineOptions Options;
    public readonly List<Process> Processes = new();
    private readonly Dictionary<InotifyDevice, FdHistory> _hist = new(ReferenceEqualityComparer.Instance);
    private readonly List<TaskStruct> _mainThreads = new();
    private int _nextTgid = 100;

    public Fix Fixes => Options.Fixes;

    public Machine(MachineOptions options)
    {
        Options = options;
        // a controlled machine starts quiet: its boot and the scenario's setup make no scheduling
        // decisions; the explorer turns interleaving on when the threads start
        K = new Kernel.Kernel(options.Mode, options.Seed) { Tracing = options.Tracing, Quiet = options.Mode == SchedMode.Controlled };
        Vfs = new Vfs.Vfs(K);
        Core = new Inotify.Inotify(K, Vfs, options.Fixes);
        Sysctl = new InotifySysctl
        {
            max_user_instances = options.MaxUserInstances,
            max_user_watches = options.MaxUserWatches,
            max_queued_events = options.MaxQueuedEvents,
        };
        User = new InotifyUser(Core, Sysctl) { Observer = this };
        Vfs.Boot();
        if (options.Audit)
        {
            Audit = new AuditModule(Core);
            if (Audit.audit_init() != 0) Audit = null;
        }
        // fault injection starts after boot: boot allocations cannot fail
        K.FaultInjection = options.FaultInjection;
    }

    /// <summary>A new process (its first thread is returned) with its own fd table and user.</summary>
    public TaskStruct NewProcess(string comm, int uid = 1000)
    {
        var saved = K.FaultInjection;
        K.FaultInjection = false;
        var user = Vfs.alloc_uid(uid) ?? throw new InvalidOperationException("alloc_uid");
        K.FaultInjection = saved;
        var p = new Process(_nextTgid++, comm, uid, user);
        Processes.Add(p);
        var t = K.NewTask(comm, uid);
        t.Process = p;
        _mainThreads.Add(t);
        return t;
    }

    /// <summary>Another thread of <paramref name="sibling"/>'s process (shared fd table).</summary>
    public TaskStruct NewThread(TaskStruct sibling, string comm)
    {
        var t = K.NewTask(comm, sibling.Uid);
        t.Process = sibling.Process;
        return t;
    }

    /// <summary>Runs <paramref name="body"/> as <paramref name="t"/> in the current flow of control.</summary>
    public T As<T>(TaskStruct t, Func<T> body)
    {
        var saved = K.current;
        K.SetCurrent(t);
        try { return body(); }
        finally { K.SetCurrent(saved); }
    }

    public void As(TaskStruct t, Action body) => As(t, () => { body(); return 0; });

    private FdHistory Hist(InotifyDevice dev)
    {
        if (!_hist.TryGetValue(dev, out var h)) { h = new FdHistory(); _hist[dev] = h; }
        return h;
    }

    // ---------------------------------------------------------------- syscalls (current task)

    public long inotify_init() => User.sys_inotify_init();
    public long inotify_init_nonblock() => User.sys_inotify_init_nonblock();

    public long inotify_add_watch(int fd, string path, uint mask) => User.sys_inotify_add_watch(fd, path, mask);

    public long inotify_rm_watch(int fd, int wd) => User.sys_inotify_rm_watch(fd, (uint)wd);

    /// <summary>read(2) on an inotify fd, parsed.</summary>
    public long read_events(int fd, int count, out List<InotifyEventRecord> events)
    {
        long r = Vfs.sys_read(fd, count, out var data);
        events = r > 0 ? InotifyEventRecord.Parse(data) : new List<InotifyEventRecord>();
        return r;
    }

    void IInotifyObserver.WatchAdded(InotifyDevice dev, int wd, uint mask)
    {
        var h = Hist(dev);
        h.Wds.Add(wd);
        if ((mask & IN_ONESHOT) != 0) h.Oneshot.Add(wd);
    }

    void IInotifyObserver.EventDropped(InotifyDevice dev, uint mask) => Hist(dev).Dropped = true;

    /// <summary>Checks the IN_IGNORED rules of inotify(7) on what a device's reads returned.</summary>
    void IInotifyObserver.EventsRead(InotifyDevice dev, byte[] data)
    {
        var h = Hist(dev);
        foreach (var e in InotifyEventRecord.Parse(data))
        {
            if ((e.Mask & IN_Q_OVERFLOW) != 0) { h.Overflowed = true; continue; }
            if (h.Ignored.Contains(e.Wd))
            {
                K.Bug(BugClass.SpecViolation,
                    (e.Mask & IN_IGNORED) != 0
                        ? $"inotify(7): a second IN_IGNORED for wd {e.Wd}"
                        : $"inotify(7): event {e.MaskNames} for wd {e.Wd} after its IN_IGNORED",
                    new[] { "inotify_read", "inotify_dev_queue_event" }, new[] { K.current.Name }, new[] { $"{dev.Describe} wd {e.Wd}" },
                    $"read from {dev.Describe}: {e}\nIN_IGNORED was already read for wd {e.Wd}: the watch was removed, so no further event may name it.\n");
            }
            if ((e.Mask & IN_IGNORED) != 0) h.Ignored.Add(e.Wd);
        }
    }

    public long close(int fd) => Vfs.sys_close(fd);

    // ---------------------------------------------------------------- oracles

    /// <summary>
    /// Accounting and structure in a quiescent state (no syscall in flight): per-user counters
    /// equal the live objects and respect the limits; each device's event_count and
    /// queue_size match its queue; a watch is on its inode's list iff on its handle's list iff
    /// its wd is in the idr; reference counts match their holders.
    /// </summary>
    public void CheckQuiescent()
    {
        var live = K.Slab.Live();
        var watchesByUser = new Dictionary<UserStruct, int>();
        var devsByUser = new Dictionary<UserStruct, int>();
        var watchesByDev = new Dictionary<InotifyDevice, int>();
        foreach (var o in live)
        {
            if (o is InotifyUserWatch uw)
            {
                var dev = uw.wdata.Container == uw ? PeekDev(uw) : null;
                if (dev?.PeekUser is { } u) watchesByUser[u] = watchesByUser.GetValueOrDefault(u) + 1;
                if (dev != null) watchesByDev[dev] = watchesByDev.GetValueOrDefault(dev) + 1;
            }
            if (o is InotifyDevice d && d.PeekUser is { } du) devsByUser[du] = devsByUser.GetValueOrDefault(du) + 1;
        }
        foreach (var o in live)
        {
            if (o is UserStruct u)
            {
                int w = watchesByUser.GetValueOrDefault(u), dv = devsByUser.GetValueOrDefault(u);
                Acct(u.inotify_watches.Peek == w, $"user {u.Uid}: inotify_watches is {u.inotify_watches.Peek} but {w} user watches are live",
                    "create_watch", "free_inotify_user_watch");
                Acct(u.inotify_devs.Peek == dv, $"user {u.Uid}: inotify_devs is {u.inotify_devs.Peek} but {dv} devices are live",
                    "sys_inotify_init", "put_inotify_dev");
                if (u.inotify_watches.Peek > Sysctl.max_user_watches)
                    Limit($"user {u.Uid} has {u.inotify_watches.Peek} inotify watches, over max_user_watches {Sysctl.max_user_watches}", "create_watch", "sys_inotify_add_watch");
                if (u.inotify_devs.Peek > Sysctl.max_user_instances)
                    Limit($"user {u.Uid} has {u.inotify_devs.Peek} inotify instances, over max_user_instances {Sysctl.max_user_instances}", "sys_inotify_init");
            }
        }
        foreach (var o in live)
        {
            if (o is InotifyDevice dev)
            {
                int n = 0;
                uint size = 0;
                var head = dev.events;
                for (var p = head.Next("oracle"); p != head; p = p.Next("oracle"))
                {
                    var ev = p.list_entry<InotifyKernelEvent>("list");
                    n++;
                    size += (uint)EVENT_SIZE + ev.Peek.len;
                }
                Acct(dev.PeekEventCount == n, $"{dev.Describe}: event_count {dev.PeekEventCount} but {n} events queued", "inotify_dev_queue_event", "remove_kevent");
                Acct(dev.PeekQueueSize == size, $"{dev.Describe}: queue_size {dev.PeekQueueSize} but the queue holds {size} bytes", "inotify_dev_queue_event", "remove_kevent");
                int holders = watchesByDev.GetValueOrDefault(dev) + (IsOpen(dev) ? 1 : 0);
                Acct(dev.count.Peek == holders, $"{dev.Describe}: count {dev.count.Peek} but {holders} holders (open file + live watches)", "get_inotify_dev", "put_inotify_dev");
            }
        }
        foreach (var o in live)
        {
            if (o is not InotifyHandle ih) continue;
            var onList = new List<InotifyWatch>();
            for (var p = ih.watches.Next("oracle"); p != ih.watches; p = p.Next("oracle"))
                onList.Add(p.list_entry<InotifyWatch>("h_list"));
            var inIdr = new List<InotifyWatch>();
            foreach (var kv in ih.idr.Entries) inIdr.Add((InotifyWatch)kv.Value);
            foreach (var w in onList)
            {
                Struct(inIdr.Contains(w), $"watch wd {w.PeekWd} is on {ih.Describe}->watches but not in its idr", "remove_watch_no_event");
                var inode = w.PeekInode!;
                bool onInode = false;
                for (var p = inode.inotify_watches.Next("oracle"); p != inode.inotify_watches; p = p.Next("oracle"))
                    if (p.list_entry<InotifyWatch>("i_list") == w) onInode = true;
                Struct(onInode, $"watch wd {w.PeekWd} is on its handle's list but not on {inode.Describe}->inotify_watches", "remove_watch_no_event");
                Struct(w.count.Peek == 1, $"installed watch wd {w.PeekWd} has count {w.count.Peek} in a quiescent state (expected 1: the lists' reference)", "get_inotify_watch", "put_inotify_watch");
            }
            foreach (var w in inIdr)
                Struct(onList.Contains(w), $"wd {w.PeekWd} is in {ih.Describe}->idr but the watch is not on the handle's list", "remove_watch_no_event");
            // the handle is held by its owner (an open inotify device, or the audit module) and by every watch
            // structure still alive with a reference (installed, or removed and not yet released)
            bool owned = ReferenceEquals(Audit?.Handle, ih);
            foreach (var d in User.Devices)
                if (!d.IsFreed && ReferenceEquals(d.PeekIh, ih) && IsOpen(d)) owned = true;
            int holders = owned ? 1 : 0;
            foreach (var lo in live)
            {
                var w = lo switch { InotifyUserWatch uw => uw.wdata, AuditWatch aw => aw.wdata, _ => null };
                if (w != null && ReferenceEquals(w.PeekIh, ih) && w.count.Peek > 0) holders++;
            }
            Acct(ih.count.Peek == holders, $"{ih.Describe}: count {ih.count.Peek} but {holders} holders (its owner and the watches that reference it)",
                "get_inotify_handle", "put_inotify_handle", "put_inotify_watch");
        }
    }

    private static InotifyDevice? PeekDev(InotifyUserWatch uw) => uw.IsFreed ? null : uw.dev;

    private bool IsOpen(InotifyDevice dev)
    {
        foreach (var p in Processes)
            foreach (var f in p.Fds)
                if (f != null && !f.IsFreed && ReferenceEquals(f.private_data, dev)) return true;
        return false;
    }

    /// <summary>
    /// Reports user watches that outlived every inotify fd of their user, with their wd and
    /// mask: an IN_ONESHOT watch points at the oneshot removal (inotify_inode_queue_event),
    /// any other at inotify_destroy.
    /// </summary>
    private void LeakedWatches(UserStruct u)
    {
        var lines = new List<string>();
        var fns = new List<string>();
        foreach (var o in K.Slab.Live())
        {
            if (o is not InotifyUserWatch uw || uw.dev.PeekUser != u) continue;
            var w = uw.wdata;
            bool oneshot = (w.PeekMask & IN_ONESHOT) != 0;
            lines.Add($"{uw.Describe}: wd {w.PeekWd} mask {MaskNames(w.PeekMask)} count {w.count.Peek}, allocated in {uw.Alloc!.Allocated.Function}" +
                      (oneshot ? " (IN_ONESHOT: removed by inotify_inode_queue_event without IN_IGNORED)" : " (removed by inotify_destroy without a final put)"));
            foreach (var f in oneshot
                         ? new[] { "inotify_inode_queue_event", "remove_watch_no_event", "inotify_dev_queue_event" }
                         : new[] { "inotify_destroy", "remove_watch_no_event", "inotify_release" })
                if (!fns.Contains(f)) fns.Add(f);
        }
        fns.Add("free_inotify_user_watch");
        string what = $"user {u.Uid}: inotify_watches is {u.inotify_watches.Peek} after every inotify fd was closed";
        K.Bug(BugClass.Accounting, "inotify accounting: " + what, fns, new[] { K.current.Name }, lines,
            what + "\nuser watches still allocated (never freed, so never uncharged):\n  " + string.Join("\n  ", lines) + "\n");
    }

    private void Acct(bool ok, string what, params string[] fns)
    {
        if (!ok) K.Bug(BugClass.Accounting, "inotify accounting: " + what, fns, new[] { K.current.Name }, Array.Empty<string>(), what + "\n");
    }

    private void Limit(string what, params string[] fns) =>
        K.Bug(BugClass.LimitExceeded, "inotify limit exceeded: " + what, fns, new[] { K.current.Name }, Array.Empty<string>(), what + "\n");

    private void Struct(bool ok, string what, params string[] fns)
    {
        if (!ok) K.Bug(BugClass.ListCorruption, "inotify structure: " + what, fns, new[] { K.current.Name }, Array.Empty<string>(), what + "\n");
    }

    /// <summary>
    /// Drains every open inotify fd (without blocking) and checks that each removed watch
    /// produced exactly one IN_IGNORED (inotify(7)), unless the queue overflowed, an event was
    /// dropped because its allocation failed (the seed drops it silently), or the watch was
    /// IN_ONESHOT (which sent none in 2006).
    /// </summary>
    public void DrainAndCheckIgnored()
    {
        for (int pi = 0; pi < Processes.Count; pi++)
        {
            var p = Processes[pi];
            var t = _mainThreads[pi];
            As(t, () =>
            {
                for (int fd = 0; fd < p.Fds.Count; fd++)
                {
                    var f = p.Fds[fd];
                    if (f is null || f.f_op is not InotifyUser) continue;
                    var dev = (InotifyDevice)f.private_data!;
                    while (dev.PeekEventCount > 0)
                    {
                        if (read_events(fd, 1 << 20, out _) <= 0) break;
                    }
                    if (!_hist.TryGetValue(dev, out var h) || h.Overflowed || h.Dropped) continue;
                    var ih = dev.PeekIh;
                    foreach (var wd in h.Wds.OrderBy(x => x))
                    {
                        if (h.Oneshot.Contains(wd)) continue;
                        bool installed = ih != null && !ih.IsFreed && ih.idr.Entries.Any(kv => kv.Key == wd);
                        bool ignored = h.Ignored.Contains(wd);
                        if (!installed && !ignored)
                            K.Bug(BugClass.SpecViolation, $"inotify(7): watch wd {wd} was removed but no IN_IGNORED was read for it",
                                new[] { "remove_watch", "inotify_dev_queue_event" }, new[] { t.Name }, new[] { $"fd {fd} wd {wd}" },
                                $"fd {fd}: wd {wd} is no longer installed, and the queue did not overflow, yet read() never returned IN_IGNORED for it.\n");
                    }
                }
            });
        }
    }

    /// <summary>
    /// End of a run: oracles on the quiescent state, drain and IN_IGNORED checks, then close
    /// every fd, unload the audit module, check the per-user counters are back to zero,
    /// unmount everything, release the processes' users and run kmemleak.
    /// </summary>
    public void Teardown()
    {
        using var _ = K.Fn("teardown");
        K.FaultInjection = false;
        CheckQuiescent();
        DrainAndCheckIgnored();
        for (int pi = 0; pi < Processes.Count; pi++)
        {
            var p = Processes[pi];
            As(_mainThreads[pi], () =>
            {
                for (int fd = 0; fd < p.Fds.Count; fd++)
                    if (p.Fds[fd] != null) Vfs.sys_close(fd);
            });
        }
        Audit?.audit_exit();
        foreach (var p in Processes)
        {
            var u = p.User;
            if (u.IsFreed) continue;
            if (u.inotify_watches.Peek != 0) LeakedWatches(u);
            Acct(u.inotify_devs.Peek == 0, $"user {u.Uid}: inotify_devs is {u.inotify_devs.Peek} after every inotify fd was closed",
                "inotify_release", "put_inotify_dev");
        }
        Vfs.umount_all();
        for (int pi = 0; pi < Processes.Count; pi++)
        {
            var p = Processes[pi];
            As(_mainThreads[pi], () => Vfs.free_uid(p.User));
        }
        K.Slab.kmemleak_scan();
    }
}
