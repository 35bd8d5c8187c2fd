using System.Text;
using InotifySim.Model.Inotify;
using InotifySim.Model.Kernel;
using InotifySim.Model.Spec;
using InotifySim.Model.Vfs;
using static InotifySim.Model.Inotify.IN;

namespace InotifySim.Model.Oracles;

/// <summary>
/// What user space sees, checked under concurrency (issue 13 item 3): the events each reader got
/// and each inotify syscall's return value must be explained by SOME order of the operations'
/// atomic steps, judged by the reference specification (src/Model/Spec/, inotify(7) in its 2006
/// form, the one the sequential model-based tests use).
///
/// What is recorded. Every syscall made through the machine's syscall methods (init, add_watch,
/// rm_watch, read) with its invocation / response interval on a logical clock (one tick per
/// recorded step; the controlled schedule runs one thread at a time, so the clock is
/// deterministic). Every event handed to a device's consumer callback (the device's
/// <see cref="InotifyHandle.callback"/> is wrapped when its fd is created) with the interval of
/// the callback: this is the atomic step of a file-system operation as inotify's user layer
/// receives it.
///
/// The non-atomicity allowed, per operation, is exactly the kernel's: every event an operation
/// sends is its own step (rename: IN_MOVED_FROM, IN_MOVED_TO, IN_MOVE_SELF, and the target's
/// IN_DELETE_SELF / IN_IGNORED; an operation on a child: the parent's event and the child's;
/// unlink: IN_DELETE_SELF, IN_IGNORED, the parent's IN_DELETE; umount: IN_UNMOUNT, IN_IGNORED
/// per watch), each linearizable anywhere inside its callback's interval; a read linearizes
/// anywhere inside its syscall, a blocking read at the moment it finds the queue non-empty.
///
/// Checks, reported as <see cref="BugClass.SpecViolation"/>:
///  - per device: a linearization (Wing and Gong's search over the orders real time allows, with
///    a memo and a cap) of its deliveries and reads such that the specification's queue
///    (coalescing with the newest unread event, IN_Q_OVERFLOW at max_queued_events, dropping
///    after it) gives every read exactly what it returned, and, once teardown drained the fd,
///    holds nothing more (a wrong name, a lost event, a missing IN_Q_OVERFLOW, a coalesce
///    against the wrong event);
///  - ENOSPC from inotify_add_watch / EMFILE from inotify_init only when the user's count could
///    have reached max_user_watches / max_user_instances during the call (the count at entry
///    plus every successful add / init of that user overlapping the call): a spurious errno,
///    a limit that cannot be reached;
///  - rm_watch: 0 only for a wd the device returned; -EINVAL only when the watch could have been
///    gone (an IN_IGNORED for it began, it was IN_ONESHOT, or another rm_watch of it succeeded).
/// The file-system side (which watches an operation's event reaches) is the core's walk of the
/// inode's watch list and is not re-derived here; the sequential model-based tests check it.
///
/// The check runs last (<see cref="CheckFinal"/>, after kmemleak), so every other detector
/// reports a schedule first. Under fault injection a device that dropped an event (the seed
/// drops it silently on ENOMEM) is not judged, nor is an ENOSPC (idr_pre_get failure) from a
/// call made while allocations could fail.
/// </summary>
public sealed class UserVisibleOracle(Machine m) : Oracle(m)
{
    public override OracleSet Kind => OracleSet.UserVisible;

    /// <summary>Linearization search nodes per device before the oracle gives up on it (no report).</summary>
    public const int SearchCap = 200_000;

    /// <summary>Test only: wraps the user layer's callback of each new device, inside the recorder (a planted consumer fault).</summary>
    public Func<InotifyDevice, IInotifyConsumer, IInotifyConsumer>? PlantConsumerFault { get; set; }

    /// <summary>Devices whose search hit <see cref="SearchCap"/> (not judged).</summary>
    public int Undecided { get; private set; }
    /// <summary>Devices judged (a linearization was found).</summary>
    public int Explained { get; private set; }

    private long _clock;
    private long Tick() => ++_clock;

    private abstract class Step
    {
        public long B, E = long.MaxValue;
        public required string Thread;
    }

    private sealed class Delivery : Step
    {
        public int Wd;
        public uint Mask, Cookie;
        public string? Name;
        public override string ToString() => $"event {{wd {Wd} {MaskNames(Mask)}" + (Cookie != 0 ? $" cookie {Cookie}" : "") + (Name is null ? "" : $" \"{Name}\"") + $"}} queued by {Thread} [{B}, {E}]";
    }

    private sealed class ReadStep : Step
    {
        public int Count;
        public long Ret;
        public required List<Ev> Got;
        public override string ToString() => $"read({Count}) by {Thread} [{B}, {E}] = {Errno.Ret(Ret)}" + (Got.Count > 0 ? " " + string.Join(" ", Got) : "");
    }

    private sealed class DrainMark : Step
    {
        public override string ToString() => $"teardown drained the fd [{B}]";
    }

    private sealed class DevLog
    {
        public required InotifyDevice Dev;
        public required int Fd;
        public required string Owner;
        public readonly List<Step> Steps = new();
        public bool Dropped;
    }

    private sealed class CallRec
    {
        public required SysCall Call;
        public long B, E = long.MaxValue;
        public int SampleAtEntry;
        /// <summary>Fault injection was on: an allocation or idr_pre_get may fail (ENOMEM, and ENOSPC from inotify_handle_get_wd).</summary>
        public bool Faultable;
        /// <summary>The device the call worked on, when certain (null: not judged).</summary>
        public InotifyDevice? Dev;
    }

    /// <summary>Per task, the device its last successful read worked on (told by inotify_read before it returns).</summary>
    private readonly Dictionary<TaskStruct, InotifyDevice> _lastRead = new(ReferenceEqualityComparer.Instance);

    public override void EventsRead(InotifyDevice dev, byte[] data)
    {
        var t = K.current;
        if (_open.Values.Any(r => r.Call.Kind == CallKind.Read && r.Call.Task == t))
        {
            _lastRead[t] = dev;
            return;
        }
        // a read that did not come through the machine's syscall methods (Vfs.sys_read directly, a
        // sequential test): a step at this point, reading exactly what it returned (its count is
        // unknown; the events that fit in data.Length are exactly those it returned)
        if (!_byDev.TryGetValue(dev, out var log)) return;
        long at = Tick();
        log.Steps.Add(new ReadStep
        {
            Thread = t.Name, B = at, E = at, Count = data.Length, Ret = data.Length,
            Got = InotifyEventRecord.Parse(data).Select(e => new Ev(e.Wd, e.Mask, e.Cookie, e.Len, e.Name)).ToList(),
        });
    }

    private readonly List<DevLog> _devs = new();
    private readonly Dictionary<InotifyDevice, DevLog> _byDev = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<SysCall, CallRec> _open = new(ReferenceEqualityComparer.Instance);
    private readonly List<CallRec> _calls = new();

    /// <summary>The consumer callback of one device, recording each event it is handed (its atomic step).</summary>
    private sealed class Recorder(UserVisibleOracle o, DevLog log, IInotifyConsumer inner) : IInotifyConsumer
    {
        public void handle_event(InotifyWatch watch, uint wd, uint mask, uint cookie, string? name, Inode? inode)
        {
            var d = new Delivery { Thread = o.K.current.Name, B = o.Tick(), Wd = (int)wd, Mask = mask, Cookie = cookie, Name = name };
            log.Steps.Add(d);
            inner.handle_event(watch, wd, mask, cookie, name, inode);
            d.E = o.Tick();
        }

        public void destroy_watch(InotifyWatch watch) => inner.destroy_watch(watch);
    }

    public override void CallEntered(SysCall c)
    {
        var r = new CallRec { Call = c, B = Tick(), Faultable = K.FaultInjection };
        if (c.User is { } u)
            r.SampleAtEntry = c.Kind == CallKind.Init ? u.inotify_devs.Peek : u.inotify_watches.Peek;
        _open[c] = r;
        _calls.Add(r);
    }

    public override void CallReturned(SysCall c)
    {
        if (!_open.Remove(c, out var r)) return;
        r.E = Tick();
        if (c.Kind == CallKind.Init && c.Ret >= 0 && c.Dev is { } dev && dev.PeekIh is { } ih && !_byDev.ContainsKey(dev))
        {
            var log = new DevLog { Dev = dev, Fd = (int)c.Ret, Owner = c.Task.Name };
            _devs.Add(log);
            _byDev[dev] = log;
            var inner = ih.callback;
            ih.callback = new Recorder(this, log, PlantConsumerFault?.Invoke(dev, inner) ?? inner);
        }
        // the device the call worked on: a concurrent close (and an init reusing the fd number)
        // may have changed what the fd names between entry and return; a successful read tells
        // its device (EventsRead), otherwise the call is judged only if the fd still names the
        // device it named at entry
        r.Dev = c.Kind == CallKind.Init ? c.Dev
            : c.Kind == CallKind.Read && c.Ret > 0 && _lastRead.Remove(c.Task, out var readDev) ? readDev
            : ReferenceEquals(M.PeekInotifyDev(c.Fd), c.Dev) ? c.Dev : null;
        if (c.Kind == CallKind.Read && r.Dev is { } rd && _byDev.TryGetValue(rd, out var rl))
            rl.Steps.Add(new ReadStep
            {
                Thread = c.Task.Name, B = r.B, E = r.E, Count = c.Count, Ret = c.Ret,
                Got = c.Events.Select(e => new Ev(e.Wd, e.Mask, e.Cookie, e.Len, e.Name)).ToList(),
            });
    }

    public override void EventDropped(InotifyDevice dev, uint mask)
    {
        if (_byDev.TryGetValue(dev, out var l)) l.Dropped = true;
    }

    public override void CheckDrained(TaskStruct t, int fd, InotifyDevice dev)
    {
        if (_byDev.TryGetValue(dev, out var l))
        {
            long at = Tick();
            l.Steps.Add(new DrainMark { Thread = t.Name, B = at, E = at });
        }
    }

    public override void CheckFinal()
    {
        CheckLimits();
        CheckRmWatch();
        foreach (var l in _devs) CheckDevice(l);
    }

    // ---------------------------------------------------------------- limits

    private bool Overlaps(CallRec a, CallRec b) => a.B < b.E && b.B < a.E;

    private void CheckLimits()
    {
        foreach (var r in _calls)
        {
            var c = r.Call;
            if (c.User is null) continue;
            bool init = c.Kind == CallKind.Init && c.Ret == -Errno.EMFILE;
            bool add = c.Kind == CallKind.AddWatch && c.Ret == -Errno.ENOSPC && !r.Faultable;
            if (!init && !add) continue;
            int max = init ? M.Options.MaxUserInstances : M.Options.MaxUserWatches;
            // the most the user could have held during the call: its count at entry plus every
            // success of the same kind by that user that overlapped the call, and every overlapping call that
            // failed on an allocation (-ENOMEM): it held its reservation (atomic_inc_return) until its error path
            var helpers = _calls.Where(o => o != r && o.Call.User == c.User && o.Call.Kind == c.Kind && Overlaps(o, r)
                                            && (o.Call.Ret == -Errno.ENOMEM || (o.Call.Ret >= 0 && (init || NewWd(o))))).ToList();
            int bound = r.SampleAtEntry + helpers.Count;
            if (bound >= max) continue;
            string what = init ? "inotify_init" : $"inotify_add_watch({c.Fd}, {c.Path}, {MaskNames(c.Mask)})";
            string limit = init ? "max_user_instances" : "max_user_watches";
            string counter = init ? "inotify_devs" : "inotify_watches";
            string errno = init ? "-EMFILE" : "-ENOSPC";
            var body = new StringBuilder();
            body.Append($"{what} by {c.Task.Name} [{r.B}, {r.E}] returned {errno}, but user {c.User.Uid} held at most {bound} of {limit} {max}:\n");
            body.Append($"  {counter} was {r.SampleAtEntry} when the call began");
            body.Append(helpers.Count == 0 ? ", and no other call of the user could add one meanwhile.\n"
                : $", plus {helpers.Count} overlapping success(es) or reservation(s): " + string.Join("; ", helpers.Select(h => $"{h.Call.Kind} by {h.Call.Task.Name} [{h.B}, {h.E}] = {h.Call.Ret}")) + "\n");
            body.Append($"inotify(7): {errno} only when the limit is reached; no order of these operations explains it (a limit check off by one, or a limit that cannot be reached).\n");
            K.Bug(new BugReport(BugClass.SpecViolation, $"inotify(7): {what} returned {errno} below {limit} ({bound} < {max})")
            {
                Functions = init ? new[] { "sys_inotify_init" } : new[] { "create_watch", "sys_inotify_add_watch" },
                Threads = new[] { c.Task.Name },
                Objects = new[] { $"user {c.User.Uid}" },
                Body = body.ToString(),
            });
        }
    }

    /// <summary>A successful add_watch that returned a wd its device had not returned before (a new watch, not an update).</summary>
    private bool NewWd(CallRec r) =>
        !_calls.Any(o => o != r && o.Call.Kind == CallKind.AddWatch && o.Dev == r.Dev && o.Call.Ret == r.Call.Ret && o.E < r.B);

    // ---------------------------------------------------------------- rm_watch

    private void CheckRmWatch()
    {
        foreach (var r in _calls)
        {
            var c = r.Call;
            if (c.Kind != CallKind.RmWatch || r.Dev is not { } dev || c.Wd < 0) continue; // a negative wd is never a watch's (a failed add's errno)
            var adds = _calls.Where(o => o.Call.Kind == CallKind.AddWatch && o.Dev == dev && o.Call.Ret == c.Wd).ToList();
            // an add whose device is uncertain (its fd changed during the call) may have made the wd
            bool uncertainAdd = _calls.Any(o => o.Call.Kind == CallKind.AddWatch && o.Dev is null && o.Call.Ret == c.Wd && o.B < r.E);
            if (c.Ret == 0 && !uncertainAdd && !adds.Any(a => a.B < r.E))
                RmBug(r, $"inotify_rm_watch({c.Fd}, {c.Wd}) returned 0, but the device never returned wd {c.Wd}", adds);
            if (c.Ret != -Errno.EINVAL) continue;
            if (!adds.Any(a => a.E < r.B)) continue; // not known to be installed when the call began
            if (adds.Any(a => (a.Call.Mask & IN_ONESHOT) != 0)) continue;
            bool ignoredBegan = _byDev.TryGetValue(dev, out var log) &&
                                log.Steps.OfType<Delivery>().Any(d => d.Wd == c.Wd && (d.Mask & IN_IGNORED) != 0 && d.B < r.E);
            bool otherRm = _calls.Any(o => o != r && o.Call.Kind == CallKind.RmWatch && o.Dev == dev && o.Call.Wd == c.Wd && o.Call.Ret == 0 && o.B < r.E);
            if (ignoredBegan || otherRm) continue;
            RmBug(r, $"inotify_rm_watch({c.Fd}, {c.Wd}) returned -EINVAL while wd {c.Wd} was installed", adds);
        }
    }

    private void RmBug(CallRec r, string what, List<CallRec> adds)
    {
        var c = r.Call;
        var onDev = _calls.Where(o => o.Dev == r.Dev && o.Call.Kind != CallKind.Read).Select(o => $"{o.Call.Kind} by {o.Call.Task.Name} [{o.B}, {o.E}] fd {o.Call.Fd} = {Errno.Ret(o.Call.Ret)}");
        string body = $"{what} (call by {c.Task.Name} [{r.B}, {r.E}]).\nadd_watch calls that returned wd {c.Wd}: " +
                      (adds.Count == 0 ? "none" : string.Join("; ", adds.Select(a => $"{a.Call.Task.Name} [{a.B}, {a.E}] {a.Call.Path}"))) +
                      "\ncalls on the device: " + string.Join("; ", onDev) +
                      "\nno IN_IGNORED for it began, it was not IN_ONESHOT, and no other inotify_rm_watch of it succeeded: no order explains the return value.\n";
        K.Bug(new BugReport(BugClass.SpecViolation, "inotify(7): " + what)
        {
            Functions = new[] { "sys_inotify_rm_watch", "inotify_rm_wd" },
            Threads = new[] { c.Task.Name },
            Objects = new[] { $"wd {c.Wd}" },
            Body = body,
        });
    }

    // ---------------------------------------------------------------- events

    private sealed class Search
    {
        public readonly Step[] Ops;
        public readonly int Max;
        public readonly bool[] Done;
        public readonly List<int> Order = new();
        public readonly HashSet<string> Failed = new(StringComparer.Ordinal);
        public int Nodes;
        public bool GaveUp;
        public int Deepest = -1;
        public List<int> DeepestOrder = new();
        public List<Ev> DeepestQueue = new();
        public readonly List<string> DeepestWhy = new();

        public Search(Step[] ops, int max)
        {
            Ops = ops;
            Max = max;
            Done = new bool[ops.Length];
        }
    }

    private void CheckDevice(DevLog l)
    {
        if (l.Dropped || l.Steps.Count == 0) return;
        var ops = l.Steps.OrderBy(s => s.B).ToArray();
        var s = new Search(ops, M.Options.MaxQueuedEvents);
        bool ok = Linearize(s, new List<Ev>());
        if (s.GaveUp) { Undecided++; return; }
        if (ok) { Explained++; return; }

        var body = new StringBuilder();
        body.Append($"{l.Dev.Describe} (fd {l.Fd} of {l.Owner}, max_queued_events {s.Max}): no order of its operations' atomic steps explains what read() returned.\n");
        body.Append("operations (each an atomic step anywhere in its [begin, end] on the oracle's clock):\n");
        for (int i = 0; i < ops.Length; i++) body.Append($"  {i + 1,3}. {ops[i]}\n");
        body.Append($"the longest explained order ({s.DeepestOrder.Count} steps): " + string.Join(", ", s.DeepestOrder.Select(i => (i + 1).ToString())) + "\n");
        body.Append("  queue then (specification): " + (s.DeepestQueue.Count == 0 ? "empty" : string.Join(" ", s.DeepestQueue)) + "\n");
        body.Append("no next step fits:\n");
        foreach (var w in s.DeepestWhy) body.Append("  ").Append(w).Append('\n');
        string first = s.DeepestWhy.Count > 0 ? s.DeepestWhy[0] : "no order";
        K.Bug(new BugReport(BugClass.SpecViolation, $"inotify(7): what {l.Dev.Describe} showed user space has no explaining order: {first}")
        {
            Functions = new[] { "inotify_dev_queue_event", "inotify_read" },
            Threads = ops.Select(o => o.Thread).Distinct().ToArray(),
            Objects = new[] { $"{l.Dev.Describe} fd {l.Fd}" },
            Body = body.ToString(),
        });
    }

    /// <summary>Wing and Gong: try every step that may come next (none of the others ended before it began).</summary>
    private static bool Linearize(Search s, List<Ev> q)
    {
        int n = s.Ops.Length;
        if (s.Order.Count == n) return true;
        if (++s.Nodes > SearchCap) { s.GaveUp = true; return true; }
        int first = 0;
        while (s.Done[first]) first++;
        long minEnd = long.MaxValue;
        for (int i = first; i < n; i++)
            if (!s.Done[i] && s.Ops[i].E < minEnd) minEnd = s.Ops[i].E;
        // the memo of states known to fail: its key is built only once a state has failed (a clean run's first
        // greedy order usually linearizes at once and builds none); the same state gives the same key before
        // its subtree is searched and after (Done and the queue are restored on the way back)
        if (s.Failed.Count > 0 && s.Failed.Contains(MemoKey(s, q, first, minEnd))) return false;

        for (int i = first; i < n && s.Ops[i].B <= minEnd; i++)
        {
            if (s.Done[i]) continue;
            var next = new List<Ev>(q);
            string? why = Apply(s.Ops[i], next, s.Max);
            if (why != null)
            {
                Note(s, q, $"{i + 1}. {why}");
                continue;
            }
            s.Done[i] = true;
            s.Order.Add(i);
            if (Linearize(s, next)) return true;
            s.Order.RemoveAt(s.Order.Count - 1);
            s.Done[i] = false;
        }
        s.Failed.Add(MemoKey(s, q, first, minEnd));
        return false;
    }

    /// <summary>The search state: which of the operations that may go next are done, and the queue (by its fields, unambiguously).</summary>
    private static string MemoKey(Search s, List<Ev> q, int first, long minEnd)
    {
        var key = new StringBuilder().Append(first).Append(':');
        for (int i = first; i < s.Ops.Length && s.Ops[i].B <= minEnd; i++) key.Append(s.Done[i] ? '1' : '0');
        key.Append('|');
        foreach (var e in q) key.Append(e.Wd).Append(',').Append(e.Mask).Append(',').Append(e.Cookie).Append(',').Append(e.Len).Append(',')
                                 .Append(e.Name is null ? -1 : e.Name.Length).Append(':').Append(e.Name).Append(';'); // length-prefixed: a name may hold any character
        return key.ToString();
    }

    private static void Note(Search s, List<Ev> q, string why)
    {
        if (s.Order.Count < s.Deepest) return;
        if (s.Order.Count > s.Deepest)
        {
            s.Deepest = s.Order.Count;
            s.DeepestOrder = new List<int>(s.Order);
            s.DeepestQueue = new List<Ev>(q);
            s.DeepestWhy.Clear();
        }
        if (s.DeepestWhy.Count < 8 && !s.DeepestWhy.Contains(why)) s.DeepestWhy.Add(why);
    }

    /// <summary>Applies one step to the specification's queue; null when it fits, else why not.</summary>
    private static string? Apply(Step step, List<Ev> q, int max)
    {
        switch (step)
        {
            case Delivery d:
                QueueRules.Queue(q, max, d.Wd, d.Mask, d.Cookie, d.Name);
                return null;
            case ReadStep r:
            {
                // an error other than EAGAIN (EINTR, EBADF from a racing close, EFAULT) reads nothing
                if (r.Ret < 0 && r.Ret != -QueueRules.EAGAIN) return null;
                var want = new List<Ev>();
                long ret = QueueRules.Read(q, r.Count, want);
                if (ret == r.Ret && Same(want, r.Got)) return null;
                return $"read({r.Count}) by {r.Thread} returned {Errno.Ret(r.Ret)}" + (r.Got.Count > 0 ? " " + string.Join(" ", r.Got) : "") +
                       $"; the specification returns {Errno.Ret(ret)}" + (want.Count > 0 ? " " + string.Join(" ", want) : "") + " here";
            }
            case DrainMark:
                return q.Count == 0 ? null
                    : $"teardown drained the fd, but the specification still holds {q.Count} unread event(s): {string.Join(" ", q)}";
            default:
                return "unknown step";
        }
    }

    /// <summary>Same events: wd, mask, name and len, and the cookie (IN_Q_OVERFLOW's cookie is not specified).</summary>
    private static bool Same(List<Ev> a, List<Ev> b)
    {
        if (a.Count != b.Count) return false;
        for (int i = 0; i < a.Count; i++)
        {
            var x = a[i];
            var y = b[i];
            if (x.Wd != y.Wd || x.Mask != y.Mask || x.Name != y.Name || x.Len != y.Len) return false;
            if ((x.Mask & IN_Q_OVERFLOW) == 0 && x.Cookie != y.Cookie) return false;
        }
        return true;
    }
}
