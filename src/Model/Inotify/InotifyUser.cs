using System.Buffers.Binary;
using System.Text;
using InotifySim.Model.Kernel;
using InotifySim.Model.Vfs;
using static InotifySim.Model.Inotify.IN;
using static InotifySim.Model.Kernel.Err;

namespace InotifySim.Model.Inotify;

/// <summary>
/// struct inotify_device - represents an inotify instance
///
/// This structure is protected by the mutex 'mutex'.
/// </summary>
public sealed class InotifyDevice : KObject
{
    public override string TypeName => "struct inotify_device";
    /// <summary>wait queue for i/o</summary>
    public readonly WaitQueueHead wq;
    /// <summary>protects event queue</summary>
    public readonly Kernel.Mutex ev_mutex;
    /// <summary>synchronizes watch updates</summary>
    public readonly Kernel.Mutex up_mutex;
    /// <summary>list of queued events</summary>
    public readonly ListHead events;
    /// <summary>reference count</summary>
    public readonly Atomic count;
    private UserStruct? _user;
    private InotifyHandle? _ih;
    private uint _queue_size, _event_count, _max_events;

    public InotifyDevice(Kernel.Kernel k, LockClass ev, LockClass up) : base(k)
    {
        wq = new WaitQueueHead(this, "wq");
        ev_mutex = new Kernel.Mutex(this, "ev_mutex", ev);
        up_mutex = new Kernel.Mutex(this, "up_mutex", up);
        events = new ListHead(this, "events");
        count = new Atomic(this, "count", refcount: true);
    }

    /// <summary>user who opened this dev</summary>
    public UserStruct user { get { Chk(); return _user!; } set { ChkW(); _user = value; } }
    /// <summary>inotify handle</summary>
    public InotifyHandle ih { get { Chk(); return _ih!; } set { ChkW(); _ih = value; } }
    /// <summary>size of the queue (bytes)</summary>
    public uint queue_size { get { Chk(); return _queue_size; } set { ChkW(); _queue_size = value; } }
    /// <summary>number of pending events</summary>
    public uint event_count { get { Chk(); return _event_count; } set { ChkW(); _event_count = value; } }
    /// <summary>maximum number of events</summary>
    public uint max_events { get { Chk(); return _max_events; } set { ChkW(); _max_events = value; } }

    public uint PeekQueueSize => _queue_size;
    public uint PeekEventCount => _event_count;
    public UserStruct? PeekUser => _user;
    public InotifyHandle? PeekIh => _ih;
}

/// <summary>The kmalloc'd, padded name of a kernel event.</summary>
public sealed class KName : KObject
{
    public override string TypeName => "char[] (inotify event name)";
    private readonly string _name;
    private readonly byte[] _bytes;
    public KName(Kernel.Kernel k, string name, int size) : base(k)
    {
        _name = name;
        _bytes = new byte[size];
        Encoding.UTF8.GetBytes(name, 0, name.Length, _bytes, 0);
    }
    public string Name { get { Chk(); return _name; } }
    public byte[] Bytes { get { Chk(); return _bytes; } }
}

/// <summary>
/// struct inotify_kernel_event - An inotify event, originating from a watch and
/// queued for user-space.  A list of these is attached to each instance of the
/// device.  In read(), this list is walked and all events that can fit in the
/// buffer are returned.
///
/// Protected by dev->ev_mutex of the device in which we are queued.
/// </summary>
public sealed class InotifyKernelEvent : KObject
{
    public override string TypeName => "struct inotify_kernel_event";
    /// <summary>entry in inotify_device's list</summary>
    public readonly ListHead list;
    private int _wd;
    private uint _mask, _cookie, _len;
    private KName? _name;

    public InotifyKernelEvent(Kernel.Kernel k) : base(k) => list = new ListHead(this, "list");

    public int wd { get { Chk(); return _wd; } set { ChkW(); _wd = value; } }
    public uint mask { get { Chk(); return _mask; } set { ChkW(); _mask = value; } }
    public uint cookie { get { Chk(); return _cookie; } set { ChkW(); _cookie = value; } }
    public uint len { get { Chk(); return _len; } set { ChkW(); _len = value; } }
    /// <summary>filename, if any</summary>
    public KName? name { get { Chk(); return _name; } set { ChkW(); _name = value; } }

    public (int wd, uint mask, uint cookie, uint len, string? name) Peek => (_wd, _mask, _cookie, _len, _name?.IsFreed == false ? _name.Name : null);
}

/// <summary>
/// struct inotify_user_watch - our version of an inotify_watch, we add
/// a reference to the associated inotify_device.
/// </summary>
public sealed class InotifyUserWatch : KObject
{
    public override string TypeName => "struct inotify_user_watch";
    private InotifyDevice? _dev;
    /// <summary>inotify watch data</summary>
    public readonly InotifyWatch wdata;

    public InotifyUserWatch(Kernel.Kernel k) : base(k) => wdata = new InotifyWatch(k, this);

    protected internal override void OnAllocated(Allocation a)
    {
        base.OnAllocated(a);
        wdata.Alloc = a; // embedded: same allocation
    }

    /// <summary>associated device</summary>
    public InotifyDevice dev { get { Chk(); return _dev!; } set { ChkW(); _dev = value; } }
}

/// <summary>One event as read(2) returns it.</summary>
public sealed record InotifyEventRecord(int Wd, uint Mask, uint Cookie, uint Len, string? Name)
{
    public string MaskNames => IN.MaskNames(Mask);
    public override string ToString() => $"wd={Wd} mask={MaskNames} cookie={Cookie} len={Len}" + (Name is null ? "" : $" name={Name}");

    /// <summary>
    /// What is wrong with the framing of the bytes read(2) returned, by inotify(7) (null: nothing): a whole number of
    /// struct inotify_event records, each header complete, its name within the buffer, and a name (len &gt; 0)
    /// null-terminated within len bytes ("len counts all of the bytes in name, including the null bytes").
    /// </summary>
    public static string? FramingProblem(ReadOnlySpan<byte> buf)
    {
        int off = 0, i = 0;
        while (off < buf.Length)
        {
            if (off + EVENT_SIZE > buf.Length) return $"event {i} at byte {off}: only {buf.Length - off} of the {EVENT_SIZE} header bytes were returned";
            int wd = BinaryPrimitives.ReadInt32LittleEndian(buf[off..]);
            uint len = BinaryPrimitives.ReadUInt32LittleEndian(buf[(off + 12)..]);
            off += EVENT_SIZE;
            if (len > (uint)(buf.Length - off)) return $"event {i} (wd {wd}): len {len} runs past the {buf.Length} bytes returned";
            if (len > 0 && buf.Slice(off, (int)len).IndexOf((byte)0) < 0) return $"event {i} (wd {wd}): its name is not null-terminated within len {len}";
            off += (int)len;
            i++;
        }
        return null;
    }

    /// <summary>Parses the bytes read(2) returned: struct inotify_event records, each with its padded name.</summary>
    public static List<InotifyEventRecord> Parse(ReadOnlySpan<byte> buf)
    {
        var list = new List<InotifyEventRecord>();
        int off = 0;
        while (off + EVENT_SIZE <= buf.Length)
        {
            int wd = BinaryPrimitives.ReadInt32LittleEndian(buf[off..]);
            uint mask = BinaryPrimitives.ReadUInt32LittleEndian(buf[(off + 4)..]);
            uint cookie = BinaryPrimitives.ReadUInt32LittleEndian(buf[(off + 8)..]);
            uint len = BinaryPrimitives.ReadUInt32LittleEndian(buf[(off + 12)..]);
            off += EVENT_SIZE;
            string? name = null;
            if (len > 0)
            {
                var nb = buf.Slice(off, (int)len);
                int z = nb.IndexOf((byte)0);
                name = Encoding.UTF8.GetString(z < 0 ? nb : nb[..z]);
                off += (int)len;
            }
            list.Add(new InotifyEventRecord(wd, mask, cookie, len, name));
        }
        return list;
    }
}

/// <summary>Instrumentation for the oracles: what each device showed user space (not kernel state).</summary>
public interface IInotifyObserver
{
    void WatchAdded(InotifyDevice dev, int wd, uint mask);
    void EventsRead(InotifyDevice dev, byte[] data);
    /// <summary>kernel_event failed (ENOMEM): the seed drops the event silently.</summary>
    void EventDropped(InotifyDevice dev, uint mask);
}

/// <summary>The sysctl limits, /proc/sys/fs/inotify/.</summary>
public sealed class InotifySysctl
{
    public int max_user_instances = 128;
    public int max_user_watches = 8192;
    public int max_queued_events = 16384;
}

/// <summary>
/// fs/inotify_user.c as posted in the seed: the inotify device, its event queue, the
/// file operations and the three syscalls, a consumer of the core's kernel API.
///
/// Lock ordering:
///
/// inotify_dev->up_mutex (ensures we don't re-add the same watch)
/// 	inode->inotify_mutex (protects inode's watch list)
/// 		inotify_handle->mutex (protects inotify_handle's watch list)
/// 			inotify_dev->ev_mutex (protects device's event queue)
///
/// Lifetimes of the main data structures:
///
/// inotify_device: Lifetime is managed by reference count, from
/// sys_inotify_init() until release.  Additional references can bump the count
/// via get_inotify_dev() and drop the count via put_inotify_dev().
///
/// inotify_user_watch: Lifetime is from create_watch() to the receipt of an
/// IN_IGNORED event from inotify.
/// </summary>
public sealed class InotifyUser : FileOperations, IInotifyConsumer
{
    public const uint FIONREAD = 0x541B;
    public const uint POLLIN = 0x0001, POLLRDNORM = 0x0040;
    private const string watch_cachep = "inotify_watch_cache", event_cachep = "inotify_event_cache";

    public readonly Kernel.Kernel K;
    public readonly Vfs.Vfs Vfs;
    public readonly Inotify Core;
    public readonly InotifySysctl Sysctl;
    public Fix Fixes => Core.Fixes;
    private readonly LockClass _evClass, _upClass;

    /// <summary>Every device ever created, in order (for the oracles).</summary>
    public readonly List<InotifyDevice> Devices = new();
    /// <summary>Oracle instrumentation, called outside any lock.</summary>
    public IInotifyObserver? Observer { get; set; }

    public InotifyUser(Inotify core, InotifySysctl sysctl)
    {
        Core = core;
        K = core.K;
        Vfs = core.Vfs;
        Sysctl = sysctl;
        _upClass = K.Lockdep.Class("inotify_device->up_mutex");
        _evClass = K.Lockdep.Class("inotify_device->ev_mutex");
        K.callback_takes(_evClass); // inotify_dev_queue_event takes dev->ev_mutex (the kernel API rule)
    }

    public override string Name => "inotify_fops";
    /// <summary>Is fix <paramref name="f"/> on? A true answer is its code path running (coverage: Kernel.FixPath).</summary>
    private bool Has(Fix f)
    {
        if ((Fixes & f) == 0) return false;
        K.FixPath((int)f);
        return true;
    }

    private static void get_inotify_dev(InotifyDevice dev) => dev.count.atomic_inc();

    private void put_inotify_dev(InotifyDevice dev)
    {
        using var _ = K.Fn("put_inotify_dev");
        if (dev.count.atomic_dec_and_test())
        {
            dev.user.inotify_devs.atomic_dec();
            Vfs.free_uid(dev.user);
            K.Slab.kfree(dev);
        }
    }

    /// <summary>free_inotify_user_watch - cleans up the watch and its references</summary>
    private void free_inotify_user_watch(InotifyUserWatch watch)
    {
        using var _ = K.Fn("free_inotify_user_watch");
        var dev = watch.dev;

        dev.user.inotify_watches.atomic_dec();
        put_inotify_dev(dev);
        K.Slab.kmem_cache_free(watch_cachep, watch);
    }

    /// <summary>destroy_watch (watch-destroy-op fix: 2.6.18's inotify_operations): the final put frees the watch.</summary>
    public void destroy_watch(InotifyWatch w)
    {
        if (!Has(Fix.WatchDestroyOp))
            throw new InvalidOperationException("destroy_watch called without the watch-destroy-op fix");
        free_inotify_user_watch(container_of(w));
    }

    private InotifyUserWatch container_of(InotifyWatch w)
    {
        if (w.Container is InotifyUserWatch uw) return uw;
        K.Bug(new BugReport(BugClass.TypeConfusion, $"BUG: container_of(inotify_watch, struct inotify_user_watch, wdata) of a {w.Container.TypeName} in {K.current.CurrentFunction}")
        {
            Functions = new[] { K.current.CurrentFunction },
            Threads = new[] { K.current.Name },
            Objects = new[] { w.Container.Describe },
            Body = $"the watch belongs to another consumer ({w.Container.TypeName})\n" + K.SiteHere().Render(),
        });
        return null!;
    }

    /// <summary>
    /// kernel_event - create a new kernel event with the given parameters
    ///
    /// This function can sleep.
    /// </summary>
    private InotifyKernelEvent? kernel_event(int wd, uint mask, uint cookie, string? name)
    {
        using var _ = K.Fn("kernel_event");
        K.can_sleep("This function can sleep.");
        var gfp = Has(Fix.GfpNofs) ? Gfp.GFP_NOFS : Gfp.GFP_KERNEL;
        var kevent = K.Slab.kmem_cache_alloc(event_cachep, gfp, () => new InotifyKernelEvent(K));
        if (kevent is null)
            return null;

        /* we hand this out to user-space, so zero it just in case */
        kevent.wd = wd;
        kevent.mask = mask;
        kevent.cookie = cookie;

        kevent.list.INIT_LIST_HEAD();

        if (name != null)
        {
            int len, rem, event_size = EVENT_SIZE;

            /*
             * We need to pad the filename so as to properly align an
             * array of inotify_event structures.  Because the structure is
             * small and the common case is a small filename, we just round
             * up to the next multiple of the structure's sizeof.  This is
             * simple and safe for all architectures.
             */
            len = Encoding.UTF8.GetByteCount(name) + 1;
            rem = event_size - len;
            if (len > event_size)
            {
                rem = event_size - (len % event_size);
                if (len % event_size == 0)
                    rem = 0;
            }

            int size = len + rem;
            kevent.name = K.Slab.kmalloc(gfp, () => new KName(K, name, size));
            if (kevent.name is null)
            {
                K.Slab.kmem_cache_free(event_cachep, kevent);
                return null;
            }
            kevent.len = (uint)(len + rem);
        }
        else
        {
            kevent.len = 0;
            kevent.name = null;
        }

        return kevent;
    }

    /// <summary>Pads as kernel_event does: the record's len for a name of <paramref name="nameBytes"/> bytes.</summary>
    public static int PaddedLen(int nameBytes)
    {
        int len = nameBytes + 1, rem = EVENT_SIZE - len;
        if (len > EVENT_SIZE)
        {
            rem = EVENT_SIZE - (len % EVENT_SIZE);
            if (len % EVENT_SIZE == 0) rem = 0;
        }
        return len + rem;
    }

    /// <summary>
    /// inotify_dev_get_event - return the next event in the given dev's queue
    ///
    /// Caller must hold dev->ev_mutex.
    /// </summary>
    private InotifyKernelEvent inotify_dev_get_event(InotifyDevice dev)
    {
        using var _ = K.Fn("inotify_dev_get_event");
        K.lockdep_assert_held(dev.ev_mutex, "Caller must hold dev->ev_mutex.");
        return dev.events.next.list_entry<InotifyKernelEvent>("list");
    }

    /// <summary>
    /// inotify_dev_get_last_event - return the last event in the given dev's queue, NULL when
    /// it is empty (1c17d18e, 2.6.25: the coalescing fixes). The seed coalesces with
    /// inotify_dev_get_event: the oldest event (coalesce-last), and on an empty queue the list
    /// head itself (coalesce-empty). Each half of the commit is its own fix.
    ///
    /// Caller must hold dev->ev_mutex.
    /// </summary>
    private InotifyKernelEvent? inotify_dev_get_last_event(InotifyDevice dev)
    {
        if (Has(Fix.CoalesceEmpty) && dev.events.list_empty())
            return null;
        if (!Has(Fix.CoalesceLast))
            return inotify_dev_get_event(dev);
        return dev.events.prev.list_entry<InotifyKernelEvent>("list");
    }

    /// <summary>IInotifyConsumer: the event callback is <see cref="inotify_dev_queue_event"/>.</summary>
    public void handle_event(InotifyWatch w, uint wd, uint mask, uint cookie, string? name, Inode? ignored) =>
        inotify_dev_queue_event(w, wd, mask, cookie, name, ignored);

    /// <summary>
    /// Whether this event drops the watch's final reference (watch-destroy-op, 2.6.18): IN_IGNORED
    /// does; so does the event that fired an IN_ONESHOT watch (oneshot-leak, ac74c00e:
    /// w->mask &amp; IN_ONESHOT), but not IN_UNMOUNT, which fires nothing: IN_IGNORED follows it
    /// (oneshot-unmount-put). A model helper (the kernel writes the test inline), so that no
    /// condition tests three fixes.
    /// </summary>
    private bool drops_final_reference(InotifyWatch w, uint mask)
    {
        if ((mask & IN_IGNORED) != 0)
            return true;
        if (!Has(Fix.OneshotLeak) || (w.mask & IN_ONESHOT) == 0)
            return false;
        return !(Has(Fix.OneshotUnmountPut) && (mask & IN_UNMOUNT) != 0);
    }

    /// <summary>
    /// inotify_dev_queue_event - event callback registered with core inotify, adds
    /// a new event to the given device
    ///
    /// Can sleep (calls kernel_event()).
    /// </summary>
    public void inotify_dev_queue_event(InotifyWatch w, uint wd, uint mask, uint cookie, string? name, Inode? ignored)
    {
        using var _ = K.Fn("inotify_dev_queue_event");
        K.can_sleep("Can sleep (calls kernel_event()).");
        K.lockdep_assert_held(w.PeekInode!.inotify_mutex, "The inode->inotify_mutex and inotify_handle->mutex and held during execution of a caller's event callback.");
        K.note_unless(w.PeekIh!.mutex.Owner == K.current, "The inode->inotify_mutex and inotify_handle->mutex and held during execution of a caller's event callback.", "the callback runs without ih->mutex");
        InotifyUserWatch watch;
        InotifyDevice dev;
        InotifyKernelEvent? kevent, last;

        watch = container_of(w);
        dev = watch.dev;

        dev.ev_mutex.mutex_lock();

        /* we can safely put the watch as we don't reference it while
         * generating the event
         */
        if (!Has(Fix.WatchDestroyOp))
        {
            if ((mask & IN_IGNORED) != 0)
                free_inotify_user_watch(watch);
        }
        else if (drops_final_reference(w, mask))
            Core.put_inotify_watch(w); /* final put */

        /* coalescing: drop this event if it is a dupe of the previous */
        last = Has(Fix.CoalesceEmpty) || Has(Fix.CoalesceLast) ? inotify_dev_get_last_event(dev) : inotify_dev_get_event(dev);
        if (last != null && last.mask == mask && last.wd == (int)wd &&
                last.cookie == cookie)
        {
            string? lastname = last.name?.Name;

            if (K.Planted(Mistake.CoalesceIgnoresName)) goto @out; // planted mistake coalesce-ignores-name (src/Model/Mistakes.cs): the names are not compared
            if (name is null && lastname is null)
                goto @out;
            if (name != null && lastname != null && lastname == name)
                goto @out;
        }

        /* the queue overflowed and we already sent the Q_OVERFLOW event */
        if (dev.event_count > dev.max_events)
            goto @out;
        if (K.Planted(Mistake.OverflowOffByOne) && dev.event_count == dev.max_events) goto @out; // planted mistake overflow-off-by-one: the test above with >= for >

        /* if the queue overflows, we need to notify user space */
        if (dev.event_count == dev.max_events)
            kevent = kernel_event(-1, IN_Q_OVERFLOW, cookie, null);
        else
            kevent = kernel_event((int)wd, mask, cookie, name);

        if (kevent is null)
        {
            Observer?.EventDropped(dev, mask);
            goto @out;
        }

        /* queue the event and wake up anyone waiting */
        dev.event_count++;
        dev.queue_size += (uint)EVENT_SIZE + kevent.len;
        dev.events.list_add_tail(kevent.list);
        if (K.Tracing) K.Trace(TraceKind.Event, $"queued wd={kevent.wd} {IN.MaskNames(kevent.mask)}" + (name is null ? "" : " " + name));
        if (!K.Planted(Mistake.DropWakeUp)) // planted mistake drop-wake-up (src/Model/Mistakes.cs): never in a variant
            dev.wq.wake_up_interruptible();

        dev.ev_mutex.mutex_unlock();
        return;

        /* the seed's early returns keep dev->ev_mutex; ev-mutex-unlock (2.6.18) leaves through out: */
    @out:
        if (Has(Fix.EvMutexUnlock))
            dev.ev_mutex.mutex_unlock();
    }

    /// <summary>
    /// remove_kevent - cleans up and ultimately frees the given kevent
    ///
    /// Caller must hold dev->ev_mutex.
    /// </summary>
    private void remove_kevent(InotifyDevice dev, InotifyKernelEvent kevent)
    {
        using var _ = K.Fn("remove_kevent");
        K.lockdep_assert_held(dev.ev_mutex, "Caller must hold dev->ev_mutex.");
        kevent.list.list_del();

        dev.event_count--;
        dev.queue_size -= (uint)EVENT_SIZE + kevent.len;

        K.Slab.kfree(kevent.name);
        K.Slab.kmem_cache_free(event_cachep, kevent);
    }

    /// <summary>
    /// inotify_dev_event_dequeue - destroy an event on the given device
    ///
    /// Caller must hold dev->ev_mutex.
    /// </summary>
    private void inotify_dev_event_dequeue(InotifyDevice dev)
    {
        using var _ = K.Fn("inotify_dev_event_dequeue");
        K.lockdep_assert_held(dev.ev_mutex, "Caller must hold dev->ev_mutex.");
        if (!dev.events.list_empty())
        {
            var kevent = inotify_dev_get_event(dev);
            remove_kevent(dev, kevent);
        }
    }

    /// <summary>find_inode - resolve a user-given path to a specific inode and return a nd</summary>
    private int find_inode(string dirname, out Nameidata nd, int flags)
    {
        using var _ = K.Fn("find_inode");
        int error;

        error = Vfs.__user_walk(dirname, flags, out nd);
        if (error != 0)
            return error;
        /* you can only watch an inode if you have read permissions on it */
        error = Vfs.vfs_permission(ref nd, InotifySim.Model.Vfs.Vfs.MAY_READ);
        if (error != 0)
            Vfs.path_release(ref nd);
        return error;
    }

    /// <summary>
    /// create_watch - creates a watch on the given device.
    ///
    /// Callers must hold dev->up_mutex.
    /// </summary>
    private int create_watch(InotifyDevice dev, Inode inode, uint mask)
    {
        using var _ = K.Fn("create_watch");
        K.lockdep_assert_held(dev.up_mutex, "Callers must hold dev->up_mutex.");
        InotifyUserWatch? watch;
        int ret;

        if (Has(Fix.WatchLimitRace))
        {
            // reserve first: the limit holds however many instances race here
            if (dev.user.inotify_watches.atomic_inc_return() > Sysctl.max_user_watches - (K.Planted(Mistake.WatchLimitOffByOne) ? 1 : 0)) // (planted watch-limit-off-by-one: >= for >)
            {
                dev.user.inotify_watches.atomic_dec();
                return -Errno.ENOSPC;
            }
        }
        else if (dev.user.inotify_watches.atomic_read() >= Sysctl.max_user_watches - (K.Planted(Mistake.WatchLimitOffByOne) ? 1 : 0)) // (planted watch-limit-off-by-one)
            return -Errno.ENOSPC;

        watch = K.Slab.kmem_cache_alloc(watch_cachep, Gfp.GFP_KERNEL, () => new InotifyUserWatch(K));
        if (watch is null)
        {
            if (Has(Fix.WatchLimitRace) && !K.Planted(Mistake.CreateWatchLeak)) dev.user.inotify_watches.atomic_dec(); // (planted create-watch-leak: the dec is forgotten)
            return -Errno.ENOMEM;
        }

        /* save a reference to device and bump the count to make it official */
        get_inotify_dev(dev);
        watch.dev = dev;

        if (!Has(Fix.WatchLimitRace))
            dev.user.inotify_watches.atomic_inc();

        ret = Core.inotify_add_watch(dev.ih, watch.wdata, inode, mask);
        if (ret < 0)
            free_inotify_user_watch(watch);

        return ret;
    }

    // ============================================================ Device Interface

    public override uint poll(Vfs.File file) => inotify_poll(file);
    public override long read(Vfs.File file, int count, out byte[] data) => inotify_read(file, count, out data);
    public override int release(Inode? inode, Vfs.File file) => inotify_release(inode, file);
    public override long ioctl(Vfs.File file, uint cmd, out int value) => inotify_ioctl(file, cmd, out value);

    public uint inotify_poll(Vfs.File file)
    {
        using var _ = K.Fn("inotify_poll");
        var dev = (InotifyDevice)file.private_data!;
        uint ret = 0;

        dev.ev_mutex.mutex_lock();
        if (!dev.events.list_empty())
            ret = POLLIN | POLLRDNORM;
        dev.ev_mutex.mutex_unlock();

        return ret;
    }

    public long inotify_read(Vfs.File file, int count, out byte[] data)
    {
        using var _ = K.Fn("inotify_read");
        int event_size = EVENT_SIZE;
        InotifyDevice dev;
        long ret;
        var buf = new List<byte>();
        data = Array.Empty<byte>();

        dev = (InotifyDevice)file.private_data!;

        while (true)
        {
            bool events;

            dev.wq.prepare_to_wait(TaskStruct.TASK_INTERRUPTIBLE);

            dev.ev_mutex.mutex_lock();
            events = !dev.events.list_empty();
            /* the seed drops ev_mutex between this check and the dequeue below: a concurrent reader can
             * empty the queue in between and this read then returns 0 (buf - start), not -EAGAIN nor a
             * sleep. read-check-dequeue (2.6.29-rc3, "inotify: clean up inotify_read and fix locking
             * problems", get_one_event under ev_mutex in this loop) keeps ev_mutex from the check to the dequeue. */
            if (!events || !Has(Fix.ReadCheckDequeue))
                dev.ev_mutex.mutex_unlock();
            if (events)
            {
                ret = 0;
                break;
            }

            if ((file.f_flags & O.O_NONBLOCK) != 0)
            {
                ret = -Errno.EAGAIN;
                break;
            }

            if (K.current.SignalPending)
            {
                ret = -Errno.EINTR;
                break;
            }

            dev.wq.schedule();
        }

        dev.wq.finish_wait();
        if (ret != 0)
            return ret;

        Span<byte> hdr = stackalloc byte[EVENT_SIZE];
        if (!Has(Fix.ReadCheckDequeue)) /* with read-check-dequeue ev_mutex is still held from the check */
            dev.ev_mutex.mutex_lock();
        while (true)
        {
            InotifyKernelEvent kevent;

            ret = buf.Count;
            if (dev.events.list_empty())
                break;

            kevent = inotify_dev_get_event(dev);
            if (!K.Planted(Mistake.ReadOverrunsCount) && event_size + kevent.len > count) // planted mistake read-overruns-count (src/Model/Mistakes.cs): never in a variant
                break;

            BinaryPrimitives.WriteInt32LittleEndian(hdr, kevent.wd);
            BinaryPrimitives.WriteUInt32LittleEndian(hdr[4..], kevent.mask);
            BinaryPrimitives.WriteUInt32LittleEndian(hdr[8..], kevent.cookie);
            BinaryPrimitives.WriteUInt32LittleEndian(hdr[12..], kevent.len);
            foreach (var b in hdr) buf.Add(b);
            count -= event_size;

            if (kevent.name != null)
            {
                buf.AddRange(kevent.name.Bytes);
                count -= (int)kevent.len;
            }

            if (K.Tracing) K.Trace(TraceKind.Read, $"read wd={kevent.wd} {IN.MaskNames(kevent.mask)}" + (kevent.name is null ? "" : " " + kevent.name.Name));
            remove_kevent(dev, kevent);
        }
        dev.ev_mutex.mutex_unlock();

        data = buf.ToArray();
        if (ret > 0) Observer?.EventsRead(dev, data);
        return ret;
    }

    public int inotify_release(Inode? ignored, Vfs.File file)
    {
        using var _ = K.Fn("inotify_release");
        var dev = (InotifyDevice)file.private_data!;

        Core.inotify_destroy(dev.ih);

        /* destroy all of the events on this device */
        dev.ev_mutex.mutex_lock();
        while (!dev.events.list_empty())
            inotify_dev_event_dequeue(dev);
        dev.ev_mutex.mutex_unlock();

        /* free this device: the put matching the get in inotify_init() */
        put_inotify_dev(dev);

        return 0;
    }

    public long inotify_ioctl(Vfs.File file, uint cmd, out int value)
    {
        using var _ = K.Fn("inotify_ioctl");
        InotifyDevice dev;
        long ret = -Errno.ENOTTY;
        value = 0;

        dev = (InotifyDevice)file.private_data!;

        switch (cmd)
        {
            case FIONREAD:
                value = (int)dev.queue_size;
                ret = 0;
                break;
        }

        return ret;
    }

    // ============================================================ syscalls

    public long sys_inotify_init()
    {
        using var _ = K.Entry("sys_inotify_init");
        InotifyDevice? dev;
        UserStruct user;
        Vfs.File? filp;
        int fd;
        long ret;

        fd = Vfs.get_unused_fd();
        if (fd < 0)
            return fd;

        filp = Vfs.get_empty_filp(this);
        if (filp is null)
        {
            ret = -Errno.ENFILE;
            goto out_put_fd;
        }

        user = Vfs.get_uid(Vfs.CurrentProcess.User);
        if (Has(Fix.InstanceLimitRace))
        {
            if (user.inotify_devs.atomic_inc_return() > Sysctl.max_user_instances)
            {
                user.inotify_devs.atomic_dec();
                ret = -Errno.EMFILE;
                goto out_free_uid;
            }
        }
        else if (user.inotify_devs.atomic_read() >= Sysctl.max_user_instances)
        {
            ret = -Errno.EMFILE;
            goto out_free_uid;
        }

        dev = K.Slab.kmalloc(Gfp.GFP_KERNEL, () => new InotifyDevice(K, _evClass, _upClass));
        if (dev is null)
        {
            ret = -Errno.ENOMEM;
            goto out_dec_devs;
        }

        var ih = Core.inotify_init(this);
        if (IS_ERR(ih))
        {
            ret = PTR_ERR(ih);
            goto out_free_dev;
        }
        dev.ih = (InotifyHandle)ih;

        filp.f_op = this;
        filp.f_mode = O.FMODE_READ;
        filp.f_flags = O.O_RDONLY;
        filp.private_data = dev;

        dev.events.INIT_LIST_HEAD();
        dev.event_count = 0;
        dev.queue_size = 0;
        dev.max_events = (uint)Sysctl.max_queued_events;
        dev.user = user;
        dev.count.atomic_set(0);

        get_inotify_dev(dev);
        if (!Has(Fix.InstanceLimitRace))
            user.inotify_devs.atomic_inc();
        Devices.Add(dev);
        Vfs.fd_install(fd, filp);

        return fd;
    out_free_dev:
        K.Slab.kfree(dev);
    out_dec_devs:
        if (Has(Fix.InstanceLimitRace)) user.inotify_devs.atomic_dec();
    out_free_uid:
        Vfs.free_uid(user);
        Vfs.put_filp(filp);
    out_put_fd:
        Vfs.put_unused_fd(fd);
        return ret;
    }

    /// <summary>sys_inotify_init1(flags): inotify_init with O_NONBLOCK on the file (a later syscall; used by scripts).</summary>
    public long sys_inotify_init_nonblock()
    {
        long fd = sys_inotify_init();
        if (fd >= 0) Vfs.CurrentProcess.Fds[(int)fd]!.f_flags |= O.O_NONBLOCK;
        return fd;
    }

    public long sys_inotify_add_watch(int fd, string path, uint mask)
    {
        using var _ = K.Entry("sys_inotify_add_watch");
        Inode inode;
        InotifyDevice dev;
        Nameidata nd;
        Vfs.File? filp;
        long ret;
        int flags = 0;

        filp = Vfs.fget(fd);
        if (filp is null)
            return -Errno.EBADF;

        /* verify that this is indeed an inotify instance */
        if (filp.f_op != this)
        {
            ret = -Errno.EINVAL;
            goto fput_and_out;
        }

        if ((mask & IN_DONT_FOLLOW) == 0)
            flags |= InotifySim.Model.Vfs.Vfs.LOOKUP_FOLLOW;
        if ((mask & IN_ONLYDIR) != 0)
            flags |= InotifySim.Model.Vfs.Vfs.LOOKUP_DIRECTORY;

        ret = find_inode(path, out nd, flags);
        if (ret != 0)
            goto fput_and_out;

        /* inode held in place by reference to nd; dev by fget on fd */
        inode = nd.dentry.d_inode!;
        dev = (InotifyDevice)filp.private_data!;

        dev.up_mutex.mutex_lock();
        ret = Core.inotify_find_update_watch(dev.ih, inode, mask);
        if (ret == -Errno.ENOENT)
            ret = create_watch(dev, inode, mask);
        dev.up_mutex.mutex_unlock();
        if (ret >= 0) Observer?.WatchAdded(dev, (int)ret, mask);

        Vfs.path_release(ref nd);
    fput_and_out:
        Vfs.fput(filp);
        return ret;
    }

    public long sys_inotify_rm_watch(int fd, uint wd)
    {
        using var _ = K.Entry("sys_inotify_rm_watch");
        Vfs.File? filp;
        InotifyDevice dev;
        long ret;

        filp = Vfs.fget(fd);
        if (filp is null)
            return -Errno.EBADF;

        /* verify that this is indeed an inotify instance */
        if (filp.f_op != this)
        {
            ret = -Errno.EINVAL;
            goto @out;
        }

        dev = (InotifyDevice)filp.private_data!;

        /* we free our watch data when we get IN_IGNORED */
        ret = Core.inotify_rm_wd(dev.ih, wd);

    @out:
        Vfs.fput(filp);
        return ret;
    }
}
