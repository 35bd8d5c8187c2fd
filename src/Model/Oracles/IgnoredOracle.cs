using InotifySim.Model.Inotify;
using InotifySim.Model.Kernel;
using InotifySim.Model.Vfs;
using static InotifySim.Model.Inotify.IN;

namespace InotifySim.Model.Oracles;

/// <summary>
/// inotify(7)'s IN_IGNORED rules, on what each inotify fd's reads returned: no event names a wd
/// after its IN_IGNORED (nor a second IN_IGNORED), and once the fd is drained every removed watch
/// produced its IN_IGNORED — unless the queue overflowed, an event was dropped because its
/// allocation failed (the seed drops it silently), or the watch was IN_ONESHOT (which sent none in 2006).
/// </summary>
public sealed class IgnoredOracle(Machine m) : Oracle(m)
{
    public override OracleSet Kind => OracleSet.Ignored;

    /// <summary>What one inotify fd has shown user space.</summary>
    private sealed class FdHistory
    {
        public readonly HashSet<int> Ignored = new();
        public readonly HashSet<int> Wds = new();
        public readonly HashSet<int> Oneshot = new();
        public bool Overflowed;
        /// <summary>An event was dropped because its allocation failed (fault injection).</summary>
        public bool Dropped;
    }

    private readonly Dictionary<InotifyDevice, FdHistory> _hist = new(ReferenceEqualityComparer.Instance);

    private FdHistory Hist(InotifyDevice dev)
    {
        if (!_hist.TryGetValue(dev, out var h)) { h = new FdHistory(); _hist[dev] = h; }
        return h;
    }

    public override void WatchAdded(InotifyDevice dev, int wd, uint mask)
    {
        var h = Hist(dev);
        h.Wds.Add(wd);
        if ((mask & IN_ONESHOT) != 0) h.Oneshot.Add(wd);
    }

    public override void EventDropped(InotifyDevice dev, uint mask) => Hist(dev).Dropped = true;

    public override void EventsRead(InotifyDevice dev, byte[] data)
    {
        var h = Hist(dev);
        foreach (var e in InotifyEventRecord.Parse(data))
        {
            if ((e.Mask & IN_Q_OVERFLOW) != 0) { h.Overflowed = true; continue; }
            if (h.Ignored.Contains(e.Wd))
            {
                K.Bug(new BugReport(BugClass.SpecViolation,
                    (e.Mask & IN_IGNORED) != 0
                        ? $"inotify(7): a second IN_IGNORED for wd {e.Wd}"
                        : $"inotify(7): event {e.MaskNames} for wd {e.Wd} after its IN_IGNORED")
                {
                    Functions = new[] { "inotify_read", "inotify_dev_queue_event" },
                    Threads = new[] { K.current.Name },
                    Objects = new[] { $"{dev.Describe} wd {e.Wd}" },
                    Body = $"read from {dev.Describe}: {e}\nIN_IGNORED was already read for wd {e.Wd}: the watch was removed, so no further event may name it.\n",
                });
            }
            if ((e.Mask & IN_IGNORED) != 0) h.Ignored.Add(e.Wd);
        }
    }

    public override void CheckDrained(TaskStruct t, int fd, InotifyDevice dev)
    {
        if (!_hist.TryGetValue(dev, out var h) || h.Overflowed || h.Dropped) return;
        var ih = dev.PeekIh;
        foreach (var wd in h.Wds.OrderBy(x => x))
        {
            if (h.Oneshot.Contains(wd)) continue;
            bool installed = ih != null && !ih.IsFreed && ih.idr.Entries.Any(kv => kv.Key == wd);
            bool ignored = h.Ignored.Contains(wd);
            if (!installed && !ignored)
                K.Bug(new BugReport(BugClass.SpecViolation, $"inotify(7): watch wd {wd} was removed but no IN_IGNORED was read for it")
                {
                    Functions = new[] { "remove_watch", "inotify_dev_queue_event" },
                    Threads = new[] { t.Name },
                    Objects = new[] { $"fd {fd} wd {wd}" },
                    Body = $"fd {fd}: wd {wd} is no longer installed, and the queue did not overflow, yet read() never returned IN_IGNORED for it.\n",
                });
        }
    }
}
