using InotifySim.Model.Inotify;
using InotifySim.Model.Kernel;
using InotifySim.Model.Vfs;
using static InotifySim.Model.Inotify.IN;

namespace InotifySim.Model.Oracles;

/// <summary>
/// Accounting: each user's inotify_watches / inotify_devs equal its live user watches / devices;
/// each device's event_count and queue_size match its queue; once every fd is closed the user's
/// counters are back to zero (a user watch still allocated then is reported with its wd and mask).
/// </summary>
public sealed class AccountingOracle(Machine m) : Oracle(m)
{
    public override OracleSet Kind => OracleSet.Accounting;

    private void Acct(bool ok, string what, params string[] fns)
    {
        if (!ok) Fail(BugClass.Accounting, "inotify accounting: ", what, fns);
    }

    public override void CheckQuiescent()
    {
        var live = K.Slab.Live();
        var watchesByUser = new Dictionary<UserStruct, int>();
        var devsByUser = new Dictionary<UserStruct, int>();
        foreach (var o in live)
        {
            if (o is InotifyUserWatch uw && Machine.PeekDev(uw)?.PeekUser is { } u) watchesByUser[u] = watchesByUser.GetValueOrDefault(u) + 1;
            if (o is InotifyDevice d && d.PeekUser is { } du) devsByUser[du] = devsByUser.GetValueOrDefault(du) + 1;
        }
        foreach (var o in live)
        {
            if (o is not UserStruct u) continue;
            int w = watchesByUser.GetValueOrDefault(u), dv = devsByUser.GetValueOrDefault(u);
            Acct(u.inotify_watches.Peek == w, $"user {u.Uid}: inotify_watches is {u.inotify_watches.Peek} but {w} user watches are live",
                "create_watch", "free_inotify_user_watch");
            Acct(u.inotify_devs.Peek == dv, $"user {u.Uid}: inotify_devs is {u.inotify_devs.Peek} but {dv} devices are live",
                "sys_inotify_init", "put_inotify_dev");
        }
        foreach (var o in live)
        {
            if (o is not InotifyDevice dev) continue;
            int n = 0;
            uint size = 0;
            foreach (var ev in dev.events.list_for_each_entry<InotifyKernelEvent>("list", "oracle"))
            {
                n++;
                size += (uint)EVENT_SIZE + ev.Peek.len;
            }
            Acct(dev.PeekEventCount == n, $"{dev.Describe}: event_count {dev.PeekEventCount} but {n} events queued", "inotify_dev_queue_event", "remove_kevent");
            Acct(dev.PeekQueueSize == size, $"{dev.Describe}: queue_size {dev.PeekQueueSize} but the queue holds {size} bytes", "inotify_dev_queue_event", "remove_kevent");
        }
    }

    public override void CheckClosed(UserStruct u)
    {
        if (u.inotify_watches.Peek != 0) LeakedWatches(u);
        Acct(u.inotify_devs.Peek == 0, $"user {u.Uid}: inotify_devs is {u.inotify_devs.Peek} after every inotify fd was closed",
            "inotify_release", "put_inotify_dev");
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
        K.Bug(new BugReport(BugClass.Accounting, "inotify accounting: " + what)
        {
            Functions = fns,
            Threads = new[] { K.current.Name },
            Objects = lines,
            Body = what + "\nuser watches still allocated (never freed, so never uncharged):\n  " + string.Join("\n  ", lines) + "\n",
        });
    }
}
