using static InotifySim.Model.Inotify.IN;

namespace InotifySim.Model.Spec;

/// <summary>An event as user space sees it. In the specification, Cookie is a symbolic id (one per rename).</summary>
public sealed record Ev(int Wd, uint Mask, uint Cookie, uint Len, string? Name)
{
    public override string ToString() =>
        $"{{wd {Wd} {MaskNames(Mask)}" + (Cookie != 0 ? $" cookie {Cookie}" : "") + (Name is null ? "" : $" \"{Name}\" len {Len}") + "}";
}

/// <summary>What one op showed: its return value, the events a read returned, and the user's inotify counters afterwards.</summary>
public sealed record Step(Op Op, long Ret, IReadOnlyList<Ev> Events, int Watches, int Instances)
{
    public override string ToString() =>
        $"{Op} = {Ret}" + (Events.Count > 0 ? " " + string.Join(" ", Events) : "") + $"  [watches {Watches}, instances {Instances}]";
}

/// <summary>
/// A reference specification of inotify as seen by one process of uid 0, written from
/// inotify(7) and the 2.6.17-era VFS hooks (include/linux/fsnotify.h), independent of the
/// model's code: a tree of named nodes, per-instance queues and watch tables, per-user counters.
///
/// Semantics (2006 kernel, i.e. before the later changes the differential test names):
///  - wds of an instance are 1, 2, 3, ... (last wd + 1, never reused); re-adding a watch on the
///    same inode returns its wd and replaces (or with IN_MASK_ADD, ors in) the mask;
///  - an event is queued for a watch whose mask shares an event bit with it; directory-entry
///    events go to the parent's watches with the entry's name; events on a file also go to
///    its parent with the name, the parent first (open, modify, close) except for attribute
///    changes (the inode first: fsnotify_change);
///  - identical consecutive events (wd, mask, cookie, name) are coalesced if the older is unread;
///  - a queue holds at most max_queued_events events; the next one is replaced by a single
///    IN_Q_OVERFLOW with wd -1 and later ones are dropped (until reads make room);
///  - IN_IGNORED is queued when a watch is removed by inotify_rm_watch or because its inode was
///    deleted (after IN_DELETE_SELF: before the parent's IN_DELETE for unlink, after it for
///    rmdir); an IN_ONESHOT watch is removed after its first event,
///    without IN_IGNORED (2006; since 2.6.36 IN_IGNORED is sent); close removes every watch silently;
///  - read() with a buffer too small for the first event returns 0 (before 2.6.21); EAGAIN on
///    an empty non-blocking queue; otherwise as many whole events as fit;
///  - limits: EMFILE at max_user_instances instances, ENOSPC at max_user_watches watches.
/// </summary>
public sealed class InotifySpec
{
    private sealed class Node
    {
        public readonly int Id;
        public readonly bool IsDir;
        public Node? Parent;
        public string Name = "";
        public readonly SortedDictionary<string, Node> Children = new(StringComparer.Ordinal);
        public Node(int id, bool dir) { Id = id; IsDir = dir; }
    }

    private sealed class Watch
    {
        public required Node Node;
        public uint Mask;
        public required int Wd;
    }

    private sealed class Instance
    {
        public readonly List<Ev> Queue = new();
        public readonly Dictionary<int, Watch> Watches = new();
        public int LastWd;
    }

    private readonly Node _root;
    private int _nextNode = 2;
    private readonly SortedDictionary<int, Instance> _fds = new();
    private readonly List<int> _initFds = new();
    private int _watches, _instances;
    private uint _cookie;
    private readonly int _maxQueued, _maxInstances, _maxWatches;

    public InotifySpec(int maxQueued, int maxInstances, int maxWatches)
    {
        _root = new Node(1, true);
        _root.Parent = null;
        _maxQueued = maxQueued;
        _maxInstances = maxInstances;
        _maxWatches = maxWatches;
    }

    /// <summary>How often each interesting rule applied (for the coverage test).</summary>
    public readonly Dictionary<string, int> Stats = new();
    private void Hit(string what) => Stats[what] = Stats.GetValueOrDefault(what) + 1;

    public int Watches => _watches;
    public int Instances => _instances;
    public IEnumerable<int> OpenFds => _fds.Keys;

    /// <summary>The fd an op's instance index names: the fd its init returned, or -1.</summary>
    public int Fd(int inst) => inst < _initFds.Count ? _initFds[inst] : -1;

    public Step Apply(Op op)
    {
        var events = new List<Ev>();
        long ret = op switch
        {
            Mkdir o => DoMkdir(o.Path),
            Create o => DoCreate(o.Path, o.Bytes),
            Unlink o => DoUnlink(o.Path, dir: false),
            Rmdir o => DoUnlink(o.Path, dir: true),
            Rename o => DoRename(o.From, o.To),
            Chmod o => DoChmod(o.Path),
            Init => DoInit(),
            AddWatch o => DoAddWatch(Fd(o.Inst), o.Path, o.Mask),
            RmWatch o => DoRmWatch(Fd(o.Inst), o.Wd),
            Read o => DoRead(Fd(o.Inst), o.Size, events),
            CloseInst o => DoClose(Fd(o.Inst)),
            _ => throw new ArgumentException(op.ToString()),
        };
        return new Step(op, ret, events, _watches, _instances);
    }

    // ------------------------------------------------------------------ paths

    private static string[] Split(string path) => path.Split('/', StringSplitOptions.RemoveEmptyEntries);

    private long Resolve(string path, out Node node, bool wantDir = false)
    {
        node = _root;
        foreach (var c in Split(path))
        {
            if (!node.IsDir) return -ENOTDIR;
            if (!node.Children.TryGetValue(c, out var child)) return -ENOENT;
            node = child;
        }
        if (wantDir && !node.IsDir) return -ENOTDIR;
        return 0;
    }

    private long ResolveParent(string path, out Node parent, out string last)
    {
        var comps = Split(path);
        last = comps[^1];
        long r = Resolve("/" + string.Join('/', comps[..^1]), out parent);
        if (r == 0 && !parent.IsDir) r = -ENOTDIR;
        return r;
    }

    private const int ENOENT = 2, EBADF = 9, EAGAIN = 11, EEXIST = 17, ENOTDIR = 20, EISDIR = 21, EINVAL = 22,
        EMFILE = 24, ENOSPC = 28, ENOTEMPTY = 39;

    // ------------------------------------------------------------------ events

    /// <summary>Queue <paramref name="mask"/> for every watch on <paramref name="node"/> whose mask has one of its bits.</summary>
    private void Event(Node node, uint mask, string? name, uint cookie = 0)
    {
        foreach (var (fd, inst) in _fds)
        {
            var w = inst.Watches.Values.FirstOrDefault(x => x.Node == node);
            if (w is null || (w.Mask & mask & IN_ALL_EVENTS) == 0) continue;
            Queue(inst, w.Wd, mask, cookie, name);
            if ((w.Mask & IN_ONESHOT) != 0)
            {
                Hit("IN_ONESHOT fired");
                inst.Watches.Remove(w.Wd); // no IN_IGNORED in 2006
                _watches--;
            }
        }
    }

    /// <summary>An event on a child: to the parent's watches with its name, then to its own.</summary>
    private void ChildEvent(Node node, uint mask)
    {
        if (node.IsDir) mask |= IN_ISDIR;
        if (node.Parent != null) Event(node.Parent, mask, node.Name);
        Event(node, mask, null);
    }

    private void Queue(Instance inst, int wd, uint mask, uint cookie, string? name)
    {
        switch (QueueRules.Queue(inst.Queue, _maxQueued, wd, mask, cookie, name))
        {
            case QueueOutcome.Coalesced: Hit("coalesced"); break;
            case QueueOutcome.DroppedAfterOverflow: Hit("dropped after overflow"); break;
            case QueueOutcome.Overflow: Hit("IN_Q_OVERFLOW"); break;
            default:
                if (mask == IN_IGNORED) Hit("IN_IGNORED");
                if ((mask & IN_MOVED_TO) != 0) Hit("IN_MOVED_TO");
                break;
        }
    }

    public static uint PaddedLen(string name) => QueueRules.PaddedLen(name);

    /// <summary>The inode is gone: IN_DELETE_SELF, then IN_IGNORED for the watches left.</summary>
    private void Dies(Node node)
    {
        Event(node, IN_DELETE_SELF, null);
        foreach (var (fd, inst) in _fds)
        {
            var w = inst.Watches.Values.FirstOrDefault(x => x.Node == node);
            if (w is null) continue;
            Queue(inst, w.Wd, IN_IGNORED, 0, null);
            inst.Watches.Remove(w.Wd);
            _watches--;
        }
    }

    // ------------------------------------------------------------------ file system ops

    private long DoMkdir(string path)
    {
        long r = ResolveParent(path, out var parent, out var name);
        if (r != 0) return r;
        if (parent.Children.ContainsKey(name)) return -EEXIST;
        var n = new Node(_nextNode++, true) { Parent = parent, Name = name };
        parent.Children[name] = n;
        Event(parent, IN_CREATE | IN_ISDIR, name);
        return 0;
    }

    private long DoCreate(string path, int bytes)
    {
        long r = Resolve(path, out var node);
        if (r == -ENOENT)
        {
            r = ResolveParent(path, out var parent, out var name);
            if (r != 0) return r;
            node = new Node(_nextNode++, false) { Parent = parent, Name = name };
            parent.Children[name] = node;
            Event(parent, IN_CREATE, name);
        }
        else if (r != 0) return r;
        else if (node.IsDir) return -EISDIR;
        ChildEvent(node, IN_OPEN);
        if (bytes > 0) ChildEvent(node, IN_MODIFY);
        ChildEvent(node, IN_CLOSE_WRITE);
        return bytes;
    }

    private long DoUnlink(string path, bool dir)
    {
        long r = ResolveParent(path, out var parent, out var name);
        if (r != 0) return r;
        if (!parent.Children.TryGetValue(name, out var node)) return -ENOENT;
        if (!dir && node.IsDir) return -EISDIR;
        if (dir && !node.IsDir) return -ENOTDIR;
        if (dir && node.Children.Count > 0) return -ENOTEMPTY;
        parent.Children.Remove(name);
        if (dir)
        {
            // 2.6.17 vfs_rmdir holds a second dentry reference (dentry_unhash), so d_delete only
            // sends the parent's IN_DELETE; the directory dies at the final dput, after it
            Event(parent, IN_DELETE | IN_ISDIR, name);
            Dies(node);
        }
        else
        {
            // unlink of the only user: dentry_iput (IN_DELETE_SELF, IN_IGNORED), then IN_DELETE
            Dies(node);
            Event(parent, IN_DELETE, name);
        }
        return 0;
    }

    private static bool IsAncestor(Node a, Node d)
    {
        for (Node? x = d; x != null; x = x.Parent) if (x == a) return true;
        return false;
    }

    private long DoRename(string from, string to)
    {
        long r = ResolveParent(from, out var oldDir, out var oldName);
        if (r != 0) return r;
        r = ResolveParent(to, out var newDir, out var newName);
        if (r != 0) return r;
        if (!oldDir.Children.TryGetValue(oldName, out var source)) return -ENOENT;
        newDir.Children.TryGetValue(newName, out var target);
        if (target == source) return 0;
        // source should not be an ancestor of the target, the target not an ancestor of the source
        if (IsAncestor(source, newDir)) return -EINVAL;
        if (target != null && IsAncestor(target, oldDir)) return -ENOTEMPTY;
        if (target != null)
        {
            if (source.IsDir && !target.IsDir) return -ENOTDIR;
            if (!source.IsDir && target.IsDir) return -EISDIR;
            if (target.IsDir && target.Children.Count > 0) return -ENOTEMPTY;
        }
        oldDir.Children.Remove(oldName);
        if (target != null) newDir.Children.Remove(newName);
        newDir.Children[newName] = source;
        source.Parent = newDir;
        source.Name = newName;
        uint cookie = ++_cookie;
        uint isdir = source.IsDir ? IN_ISDIR : 0;
        Event(oldDir, IN_MOVED_FROM | isdir, oldName, cookie);
        Event(newDir, IN_MOVED_TO | isdir, newName, cookie);
        if (target != null) Dies(target);
        Event(source, IN_MOVE_SELF, null);
        return 0;
    }

    private long DoChmod(string path)
    {
        long r = Resolve(path, out var node);
        if (r != 0) return r;
        uint mask = IN_ATTRIB | (node.IsDir ? IN_ISDIR : 0);
        Event(node, mask, null);
        if (node.Parent != null) Event(node.Parent, mask, node.Name);
        return 0;
    }

    // ------------------------------------------------------------------ inotify syscalls

    private int LowestFreeFd()
    {
        int fd = 0;
        while (_fds.ContainsKey(fd)) fd++;
        return fd;
    }

    private long DoInit()
    {
        if (_instances >= _maxInstances) { Hit("EMFILE"); _initFds.Add(-1); return -EMFILE; }
        int fd = LowestFreeFd();
        _fds[fd] = new Instance();
        _instances++;
        _initFds.Add(fd);
        return fd;
    }

    private long DoAddWatch(int fd, string path, uint mask)
    {
        if (!_fds.TryGetValue(fd, out var inst)) return -EBADF;
        long r = Resolve(path, out var node, wantDir: (mask & IN_ONLYDIR) != 0);
        if (r != 0) return r;
        uint m = mask & (IN_ALL_EVENTS | IN_ONESHOT);
        if (m == 0) return -EINVAL; // 2006: mask &= IN_ALL_EVENTS | IN_ONESHOT; !mask is EINVAL
        var w = inst.Watches.Values.FirstOrDefault(x => x.Node == node);
        if (w != null)
        {
            if ((mask & IN_MASK_ADD) != 0) Hit("IN_MASK_ADD update");
            w.Mask = (mask & IN_MASK_ADD) != 0 ? w.Mask | m : m;
            return w.Wd;
        }
        if (_watches >= _maxWatches) { Hit("ENOSPC"); return -ENOSPC; }
        int wd = ++inst.LastWd;
        inst.Watches[wd] = new Watch { Node = node, Mask = m, Wd = wd };
        _watches++;
        return wd;
    }

    private long DoRmWatch(int fd, int wd)
    {
        if (!_fds.TryGetValue(fd, out var inst)) return -EBADF;
        if (!inst.Watches.Remove(wd)) return -EINVAL;
        Queue(inst, wd, IN_IGNORED, 0, null);
        _watches--;
        return 0;
    }

    private long DoRead(int fd, int size, List<Ev> events)
    {
        if (!_fds.TryGetValue(fd, out var inst)) return -EBADF;
        long bytes = QueueRules.Read(inst.Queue, size, events);
        if (bytes != -EAGAIN) Hit(bytes == 0 ? "read: buffer too small" : inst.Queue.Count > 0 ? "read: partial" : "read: all");
        return bytes; // 0 when the first event does not fit (before 2.6.21)
    }

    private long DoClose(int fd)
    {
        if (!_fds.Remove(fd, out var inst)) return -EBADF;
        if (inst.Watches.Count > 0) Hit("close with watches");
        _watches -= inst.Watches.Count;
        _instances--;
        return 0;
    }

    /// <summary>Close every open instance (end of a run).</summary>
    public void CloseAll()
    {
        foreach (var fd in _fds.Keys.ToList()) DoClose(fd);
    }
}
