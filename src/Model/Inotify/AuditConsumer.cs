using InotifySim.Model.Kernel;
using InotifySim.Model.Vfs;
using static InotifySim.Model.Inotify.IN;
using static InotifySim.Model.Kernel.Err;

namespace InotifySim.Model.Inotify;

/// <summary>An audit watch: the consumer's own structure embedding struct inotify_watch.</summary>
public sealed class AuditWatch : KObject
{
    public override string TypeName => "struct audit_watch";
    private string _path;
    /// <summary>inotify watch data, embedded</summary>
    public readonly InotifyWatch wdata;

    public AuditWatch(Kernel.Kernel k, string path) : base(k)
    {
        _path = path;
        wdata = new InotifyWatch(k, this);
    }

    protected internal override void OnAllocated(Allocation a)
    {
        base.OnAllocated(a);
        wdata.Alloc = a;
    }

    public string path { get { Chk(); return _path; } }
}

/// <summary>
/// An audit-like kernel module: the second consumer of the kernel API, the kind the patch
/// was written for. It keeps audit rules on paths, each backed by an audit_watch embedding
/// an inotify_watch, and logs the events it receives. It follows the API's documented
/// contract: it never holds audit_filter_mutex (which its callback takes) while calling an
/// inotify routine. The seed's contract has it free its watch on IN_IGNORED; with the
/// watch-destroy-op fix it drops its reference there and frees in destroy_watch.
/// With <see cref="ViolateContract"/> it holds audit_filter_mutex across inotify_add_watch
/// (a planted fault for the lock-order oracle).
/// </summary>
public sealed class AuditModule : IInotifyConsumer
{
    private readonly Kernel.Kernel K;
    private readonly Vfs.Vfs _vfs;
    private readonly Inotify _core;
    private InotifyHandle? _ih;
    /// <summary>audit_filter_mutex: protects the rule list and the audit log.</summary>
    public readonly Kernel.Mutex audit_filter_mutex;
    private readonly List<AuditWatch> _rules = new();
    /// <summary>The audit log: one line per event received.</summary>
    public readonly List<string> Log = new();
    public bool ViolateContract { get; set; }

    /// <summary>Is fix <paramref name="f"/> on? A true answer is its code path running (coverage: Kernel.FixPath).</summary>
    private bool Has(Fix f)
    {
        if ((_core.Fixes & f) == 0) return false;
        K.FixPath((int)f);
        return true;
    }

    public AuditModule(Inotify core)
    {
        _core = core;
        K = core.K;
        _vfs = core.Vfs;
        audit_filter_mutex = new Kernel.Mutex(K.Globals, "audit_filter_mutex", K.Lockdep.Class("audit_filter_mutex"));
        K.callback_takes(audit_filter_mutex.Class); // audit_handle_event takes audit_filter_mutex (the kernel API rule)
    }

    public InotifyHandle? Handle => _ih;
    public int RuleCount => _rules.Count;

    /// <summary>audit_init: get an inotify handle.</summary>
    public int audit_init()
    {
        using var _ = K.Entry("audit_init");
        var ih = _core.inotify_init(this);
        if (IS_ERR(ih))
            return (int)PTR_ERR(ih);
        _ih = (InotifyHandle)ih;
        return 0;
    }

    /// <summary>audit_add_rule(path, mask): watch the inode at path (find_update, else add).</summary>
    public int audit_add_rule(string path, uint mask)
    {
        using var _ = K.Entry("audit_add_rule");
        if (_ih is null) return -Errno.EINVAL;
        int ret = _vfs.__user_walk(path, Vfs.Vfs.LOOKUP_FOLLOW, out var nd);
        if (ret != 0) return ret;
        var inode = nd.dentry.d_inode!;

        if (ViolateContract) audit_filter_mutex.mutex_lock();
        ret = _core.inotify_find_update_watch(_ih, inode, mask);
        if (ret == -Errno.ENOENT)
        {
            var aw = K.Slab.kmem_cache_alloc("audit_watch", Gfp.GFP_KERNEL, () => new AuditWatch(K, path));
            if (aw is null) ret = -Errno.ENOMEM;
            else
            {
                if (!ViolateContract) audit_filter_mutex.mutex_lock();
                _rules.Add(aw);
                if (!ViolateContract) audit_filter_mutex.mutex_unlock();
                ret = _core.inotify_add_watch(_ih, aw.wdata, inode, mask);
                if (ret < 0)
                {
                    if (!ViolateContract) audit_filter_mutex.mutex_lock();
                    _rules.Remove(aw);
                    if (!ViolateContract) audit_filter_mutex.mutex_unlock();
                    K.Slab.kmem_cache_free("audit_watch", aw);
                }
            }
        }
        if (ViolateContract) audit_filter_mutex.mutex_unlock();
        _vfs.path_release(ref nd);
        return ret;
    }

    /// <summary>audit_remove_rule(path): inotify_find_watch, then inotify_rm_watch.</summary>
    public int audit_remove_rule(string path)
    {
        using var _ = K.Entry("audit_remove_rule");
        if (_ih is null) return -Errno.EINVAL;
        int ret = _vfs.__user_walk(path, Vfs.Vfs.LOOKUP_FOLLOW, out var nd);
        if (ret != 0) return ret;
        var inode = nd.dentry.d_inode!;
        ret = _core.inotify_find_watch(_ih, inode, out var watch);
        _vfs.path_release(ref nd);
        if (ret < 0) return ret;
        ret = _core.inotify_rm_watch(_ih, watch!);
        if (Has(Fix.FindWatchRef))
            _core.put_inotify_watch(watch); // inotify_find_watch's reference
        return ret;
    }

    /// <summary>audit_exit: inotify_destroy.</summary>
    public void audit_exit()
    {
        using var _ = K.Entry("audit_exit");
        if (_ih is null) return;
        _core.inotify_destroy(_ih);
        _ih = null;
        // rules whose watches the seed's inotify_destroy never hands back stay allocated
        // (kmemleak reports them): that is the destroy leak, not the module's.
    }

    /// <summary>audit_handle_event: the module's callback (runs with inode->inotify_mutex held).</summary>
    public void handle_event(InotifyWatch w, uint wd, uint mask, uint cookie, string? name, Inode? inode)
    {
        using var _ = K.Fn("audit_handle_event");
        K.lockdep_assert_held(w.PeekInode!.inotify_mutex, "The inode->inotify_mutex and inotify_handle->mutex and held during execution of a caller's event callback.");
        K.note_unless(w.PeekIh!.mutex.Owner == K.current, "The inode->inotify_mutex and inotify_handle->mutex and held during execution of a caller's event callback.", "the callback runs without ih->mutex");
        var aw = w.Container as AuditWatch;
        if (aw is null)
        {
            K.Bug(new BugReport(BugClass.TypeConfusion, "BUG: audit_handle_event got a watch that is not an audit_watch")
            {
                Functions = new[] { "audit_handle_event" },
                Threads = new[] { K.current.Name },
                Objects = new[] { w.Container.Describe },
                Body = K.SiteHere().Render(),
            });
            return;
        }
        audit_filter_mutex.mutex_lock();
        Log.Add($"wd={wd} {MaskNames(mask)}" + (name is null ? "" : " " + name));
        if ((mask & IN_IGNORED) != 0)
            _rules.Remove(aw);
        audit_filter_mutex.mutex_unlock();

        if ((mask & IN_IGNORED) != 0 || (Has(Fix.OneshotLeak) && (w.mask & IN_ONESHOT) != 0 &&
                                          !(Has(Fix.OneshotUnmountPut) && (mask & IN_UNMOUNT) != 0)))
        {
            if (Has(Fix.WatchDestroyOp))
                _core.put_inotify_watch(w); /* final put */
            else if ((mask & IN_IGNORED) != 0)
                K.Slab.kmem_cache_free("audit_watch", aw); // the seed's contract: freed by inotify callers on IN_IGNORED
        }
    }

    /// <summary>audit_destroy_watch (watch-destroy-op): free the audit watch at the final put.</summary>
    public void destroy_watch(InotifyWatch w)
    {
        using var _ = K.Fn("audit_destroy_watch");
        var aw = (AuditWatch)w.Container;
        audit_filter_mutex.mutex_lock();
        _rules.Remove(aw);
        audit_filter_mutex.mutex_unlock();
        K.Slab.kmem_cache_free("audit_watch", aw);
    }
}
