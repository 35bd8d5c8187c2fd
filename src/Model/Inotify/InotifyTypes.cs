using InotifySim.Model.Kernel;
using InotifySim.Model.Vfs;

namespace InotifySim.Model.Inotify;

/// <summary>
/// The consumer side of the kernel API: the seed's event callback
/// (void (*callback)(struct inotify_watch *, u32 wd, u32 mask, u32 cookie, const char *name, struct inode *)).
/// <see cref="destroy_watch"/> exists only with the watch-destroy-op fix (2.6.18's struct
/// inotify_operations); the seed has no such operation.
/// </summary>
public interface IInotifyConsumer
{
    void handle_event(InotifyWatch watch, uint wd, uint mask, uint cookie, string? name, Inode? inode);
    void destroy_watch(InotifyWatch watch);
}

/// <summary>
/// struct inotify_handle - represents an inotify instance
///
/// This structure is protected by the mutex 'mutex'.
/// </summary>
public sealed class InotifyHandle : KObject
{
    public override string TypeName => "struct inotify_handle";

    /// <summary>idr mapping wd -> watch</summary>
    public readonly Idr idr;
    /// <summary>protects this bad boy</summary>
    public readonly Kernel.Mutex mutex;
    /// <summary>list of watches</summary>
    public readonly ListHead watches;
    /// <summary>reference count</summary>
    public readonly Atomic count;
    private int _last_wd;
    private IInotifyConsumer? _callback;

    public InotifyHandle(Kernel.Kernel k, LockClass mutexClass) : base(k)
    {
        idr = new Idr(this, "idr");
        mutex = new Kernel.Mutex(this, "mutex", mutexClass);
        watches = new ListHead(this, "watches");
        count = new Atomic(this, "count", refcount: true);
    }

    /// <summary>the last wd allocated</summary>
    public int last_wd { get { Chk(); return _last_wd; } set { ChkW(); _last_wd = value; } }
    /// <summary>event callback</summary>
    public IInotifyConsumer callback { get { Chk(); return _callback!; } set { ChkW(); _callback = value; } }
}

/// <summary>
/// struct inotify_watch - represents a watch request on a specific inode
///
/// h_list is protected by ih->mutex of the associated inotify_handle.
/// i_list, mask are protected by inode->inotify_mutex of the associated inode.
/// ih, inode, and wd are never written to once the watch is created.
///
/// Embedded in the caller's own watch structure (<see cref="Container"/>), whose slab
/// allocation it shares.
/// </summary>
public sealed class InotifyWatch : KObject
{
    public override string TypeName => "struct inotify_watch";

    /// <summary>entry in inotify_handle's list</summary>
    public readonly ListHead h_list;
    /// <summary>entry in inode's list</summary>
    public readonly ListHead i_list;
    /// <summary>reference count</summary>
    public readonly Atomic count;
    private InotifyHandle? _ih;
    private Inode? _inode;
    private int _wd;
    private uint _mask;

    /// <summary>The structure this watch is embedded in (container_of's target).</summary>
    public KObject Container { get; }

    public InotifyWatch(Kernel.Kernel k, KObject container) : base(k)
    {
        Container = container;
        h_list = new ListHead(this, "h_list");
        i_list = new ListHead(this, "i_list");
        count = new Atomic(this, "count", refcount: true);
    }

    /// <summary>associated inotify handle</summary>
    // (K.watch_field_access: "callers must use the established interfaces to access inotify_watch contents", src/Model/Kernel/Contracts.cs)
    public InotifyHandle ih { get { Chk(); K.watch_field_access(this, false); return _ih!; } set { ChkW(); K.watch_field_access(this, true); _ih = value; } }
    /// <summary>associated inode</summary>
    public Inode inode { get { Chk(); K.watch_field_access(this, false); return _inode!; } set { ChkW(); K.watch_field_access(this, true); _inode = value; } }
    /// <summary>watch descriptor</summary>
    public int wd { get { Chk(); K.watch_field_access(this, false); return _wd; } set { ChkW(); K.watch_field_access(this, true); _wd = value; } }
    /// <summary>event mask for this watch</summary>
    public uint mask { get { Chk(); K.watch_field_access(this, false); return _mask; } set { ChkW(); K.watch_field_access(this, true); _mask = value; } }

    // for oracles: no checks, no scheduling points
    public int PeekWd => _wd;
    public uint PeekMask => _mask;
    public Inode? PeekInode => _inode;
    public InotifyHandle? PeekIh => _ih;
}
