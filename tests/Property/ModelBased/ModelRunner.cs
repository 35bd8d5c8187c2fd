using static InotifySim.Model.Vfs.O;
using InotifySim.Model;
using InotifySim.Model.Kernel;
using InotifySim.Model.Vfs;

namespace InotifySim.Tests.Property.ModelBased;

/// <summary>Runs ops on the model: one <see cref="Machine"/>, one process of uid 0.</summary>
public sealed class ModelRunner
{
    public readonly Machine M;
    private readonly TaskStruct _t;
    private readonly List<int> _initFds = new();
    private readonly bool _staleFdIsBad;
    private readonly HashSet<int> _closed = new();

    /// <param name="staleFdIsBad">Name a closed instance by fd -1 rather than its old fd number (the differential test's convention).</param>
    public ModelRunner(Fix fixes, int maxQueued, int maxInstances, int maxWatches, bool staleFdIsBad = false)
    {
        M = new Machine(new MachineOptions
        {
            Fixes = fixes, MaxQueuedEvents = maxQueued, MaxUserInstances = maxInstances, MaxUserWatches = maxWatches,
        });
        _t = M.NewProcess("prop", 0);
        _staleFdIsBad = staleFdIsBad;
    }

    public int Fd(int inst)
    {
        if (inst >= _initFds.Count) return -1;
        int fd = _initFds[inst];
        if (_staleFdIsBad && (_closed.Contains(inst) || fd >= 0 && !IsInotifyFd(fd))) return -1;
        return fd;
    }

    private bool IsInotifyFd(int fd)
    {
        var fds = _t.Process is Process p ? p.Fds : null;
        return fds != null && fd < fds.Count && fds[fd] is { } f && f.f_op == M.User;
    }

    public int Watches => ((Process)_t.Process!).User.inotify_watches.Peek;
    public int Instances => ((Process)_t.Process!).User.inotify_devs.Peek;

    /// <summary>Runs one op through the shared syscall vocabulary (<see cref="SysOps"/>).</summary>
    public Step Apply(Op op)
    {
        var events = new List<Ev>();
        long ret = M.As(_t, () => op switch
        {
            Mkdir o => Sys("mkdir", o.Path),
            Create o => Create(o.Path, o.Bytes),
            Unlink o => Sys("unlink", o.Path),
            Rmdir o => Sys("rmdir", o.Path),
            Rename o => Sys("rename", o.From, o.To),
            Chmod o => Sys("chmod", o.Path, o.Mode),
            Init => InitOne(),
            AddWatch o => Sys("add_watch", Fd(o.Inst), o.Path, o.Mask),
            RmWatch o => Sys("rm_watch", Fd(o.Inst), o.Wd),
            Read o => ReadInto(Fd(o.Inst), o.Size, events),
            CloseInst o => CloseOne(o.Inst),
            _ => throw new ArgumentException(op.ToString()),
        });
        M.As(_t, M.CheckQuiescent);
        return new Step(op, ret, events, Watches, Instances);
    }

    private long Sys(string name, params object?[] args) => SysOps.Call(M, name, args).Ret;

    private long Create(string path, int bytes)
    {
        long fd = Sys("open", path, O.O_CREAT | O.O_WRONLY);
        if (fd < 0) return fd;
        long w = Sys("write", fd, bytes);
        long c = Sys("close", fd);
        if (c != 0) throw new InvalidOperationException($"close of a file fd failed: {Errno.Ret(c)}");
        return w;
    }

    private long CloseOne(int inst)
    {
        long r = Sys("close", Fd(inst));
        if (r == 0) _closed.Add(inst);
        return r;
    }

    private long InitOne()
    {
        long fd = Sys("inotify_init", "nonblock");
        _initFds.Add(fd >= 0 ? (int)fd : -1);
        return fd;
    }

    public long ReadInto(int fd, int size, List<Ev> events)
    {
        var r = SysOps.Call(M, "read", fd, size);
        foreach (var e in r.Events) events.Add(new Ev(e.Wd, e.Mask, e.Cookie, e.Len, e.Name));
        return r.Ret;
    }

    /// <summary>Close every inotify fd still open (end of a run); returns the ops it ran.</summary>
    public void CloseAll()
    {
        M.As(_t, () =>
        {
            var fds = ((Process)_t.Process!).Fds;
            for (int fd = 0; fd < fds.Count; fd++)
                if (fds[fd] is { } f && f.f_op == M.User) M.close(fd);
        });
    }
}
