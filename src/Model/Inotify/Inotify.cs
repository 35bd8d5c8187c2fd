using InotifySim.Model.Kernel;
using InotifySim.Model.Vfs;
using static InotifySim.Model.Inotify.IN;
using static InotifySim.Model.Kernel.Err;

namespace InotifySim.Model.Inotify;

/// <summary>
/// fs/inotify.c after the seed patch: the inotify core (inotify_handle, inotify_watch, the
/// kernel consumer API and the event hooks). Function names, argument order, return codes,
/// refcounting and lock order follow the posted code; each named fix is a branch on
/// <see cref="Fixes"/>, and the `rfc` path is the seed's code as posted.
///
/// Lock ordering:
///
/// iprune_mutex (synchronize shrink_icache_memory())
/// 	inode_lock (protects the super_block->s_inodes list)
/// 	inode->inotify_mutex (protects inode->inotify_watches and watches->i_list)
/// 		inotify_handle->mutex (protects inotify_handle and watches->h_list)
///
/// The inode->inotify_mutex and inotify_handle->mutex and held during execution
/// of a caller's event callback.  Thus, the caller must not hold any locks
/// taking during callback processing while calling any of the published inotify
/// routines, i.e.
///	inotify_init
///	inotify_destroy
///	inotify_find_watch
///	inotify_find_update_watch
///	inotify_add_watch
///	inotify_rm_wd
///	inotify_rm_watch
///
/// Lifetimes of the three main data structures--inotify_handle, inode, and
/// inotify_watch--are managed by reference count.
///
/// inotify_handle: Lifetime is from inotify_init() to inotify_destroy().
/// Additional references can bump the count via get_inotify_handle() and drop
/// the count via put_inotify_handle().
///
/// inotify_watch: Lifetime is from inotify_add_watch() to
/// remove_watch_no_event().  Additional references can bump the count via
/// get_inotify_watch() and drop the count via put_inotify_watch().
///
/// inode: Pinned so long as the inode is associated with a watch, from
/// inotify_add_watch() to the final put_inotify_watch().
/// </summary>
public sealed class Inotify
{
    public readonly Kernel.Kernel K;
    public readonly Vfs.Vfs Vfs;
    public Fix Fixes { get; }
    public readonly LockClass HandleMutexClass;


    /// <summary>static atomic_t inotify_cookie;</summary>
    private readonly Atomic inotify_cookie;

    /// <summary>Every handle ever created, in order (for the structure oracles; not used by the model).</summary>
    public readonly List<InotifyHandle> Handles = new();

    public Inotify(Kernel.Kernel k, Vfs.Vfs vfs, Fix fixes)
    {
        K = k;
        Vfs = vfs;
        Fixes = fixes;
        HandleMutexClass = k.Lockdep.Class("inotify_handle->mutex");
        inotify_cookie = new Atomic(k.Globals, "inotify_cookie", refcount: false);
        // inotify_setup - core initialization function
        inotify_cookie.atomic_set(0);
        vfs.Inotify = this;
    }

    /// <summary>Is fix <paramref name="f"/> on? A true answer is its code path running (coverage: Kernel.FixPath).</summary>
    private bool Has(Fix f)
    {
        if ((Fixes & f) == 0) return false;
        K.FixPath((int)f);
        return true;
    }

    private static void get_inotify_handle(InotifyHandle ih) => ih.count.atomic_inc();

    private void put_inotify_handle(InotifyHandle ih)
    {
        using var _ = K.Fn("put_inotify_handle");
        if (ih.count.atomic_dec_and_test())
        {
            ih.idr.idr_destroy();
            K.Slab.kfree(ih);
        }
    }

    /// <summary>get_inotify_watch - grab a reference to an inotify_watch</summary>
    public void get_inotify_watch(InotifyWatch watch)
    {
        using var _ = K.Fn("get_inotify_watch");
        watch.count.atomic_inc();
    }

    /// <summary>
    /// put_inotify_watch - decrements the ref count on a given watch.  cleans up
    /// watch references if the count reaches zero.  inotify_watch is freed by
    /// inotify callers.
    /// </summary>
    public void put_inotify_watch(InotifyWatch? watch)
    {
        using var _ = K.Fn("put_inotify_watch");
        if (watch is null)
        {
            NullDeref("put_inotify_watch", "atomic_dec_and_test(&watch->count)", "struct inotify_watch");
            return;
        }
        if (watch.count.atomic_dec_and_test())
        {
            if (Has(Fix.WatchDestroyOp))
            {
                // 2.6.18: iput, then the consumer's destroy_watch, then the handle
                var ih = watch.ih;
                Vfs.iput(watch.inode);
                ih.callback.destroy_watch(watch);
                put_inotify_handle(ih);
            }
            else
            {
                put_inotify_handle(watch.ih);
                Vfs.iput(watch.inode);
            }
        }
    }

    private void NullDeref(string fn, string expr, string type)
    {
        var t = K.current;
        var stack = t.Stack();
        K.Bug(new BugReport(BugClass.NullDereference, $"BUG: unable to handle kernel NULL pointer dereference in {fn}")
        {
            Functions = stack.Length > 3 ? stack[..3] : stack,
            Threads = new[] { t.Name },
            Objects = new[] { type + " *NULL" },
            Body = $"BUG: unable to handle kernel NULL pointer dereference at 0000000000000018\n{expr} with a NULL {type} pointer\n" +
            $"{t.Describe}\nCall Trace:\n" + K.SiteHere().Render(),
        });
    }

    /// <summary>
    /// inotify_handle_get_wd - returns the next WD for use by the given handle
    ///
    /// Callers must hold ih->mutex.  This function can sleep.
    /// </summary>
    private int inotify_handle_get_wd(InotifyHandle ih, InotifyWatch watch)
    {
        using var _ = K.Fn("inotify_handle_get_wd");
        K.lockdep_assert_held(ih.mutex, "Callers must hold ih->mutex.  This function can sleep.");
        K.can_sleep("Callers must hold ih->mutex.  This function can sleep.");
        int ret;
        int wd;
        do
        {
            if (ih.idr.idr_pre_get(Has(Fix.GfpNofs) ? Gfp.GFP_NOFS : Gfp.GFP_KERNEL) == 0)
                return -Errno.ENOSPC;
            ret = ih.idr.idr_get_new_above(watch, ih.last_wd + 1, out wd);
        } while (ret == -Errno.EAGAIN);

        if (ret == 0)
        {
            watch.wd = wd;
            ih.last_wd = watch.wd;
        }

        return ret;
    }

    /// <summary>inotify_inode_watched - is this inode watched? (an unlocked read, as in the kernel)</summary>
    public bool inotify_inode_watched(Inode inode)
    {
        K.Point();
        return !K.data_race(inode, static i => i.inotify_watches.list_empty()); // "We call this lockless, we do not care if we race.
    }

    /// <summary>
    /// set_dentry_child_flags - Set or clear the DCACHE_INOTIFY_PARENT_WATCHED flag
    /// on each of the children of the given inode's aliases. (2.6.17, unchanged by the seed)
    /// </summary>
    private void set_dentry_child_flags(Inode inode, int watched)
    {
        using var _ = K.Fn("set_dentry_child_flags");
        Vfs.dcache_lock.spin_lock();
        var alias = inode.i_dentry;
        if (alias != null)
        {
            var children = alias.d_subdirs;
            for (int i = 0; i < children.Count; i++)
            {
                var child = children[i];
                if (child.d_inode is null)
                {
                    if (!Has(Fix.ChildFlagsWarn))
                        WARN_ON((child.d_flags & Dentry.DCACHE_INOTIFY_PARENT_WATCHED) != 0, "negative child with DCACHE_INOTIFY_PARENT_WATCHED");
                    continue;
                }
                child.d_lock.spin_lock();
                if (watched != 0)
                {
                    if (!Has(Fix.ChildFlagsRace))
                        WARN_ON((child.d_flags & Dentry.DCACHE_INOTIFY_PARENT_WATCHED) != 0, "child already has DCACHE_INOTIFY_PARENT_WATCHED");
                    child.d_flags |= Dentry.DCACHE_INOTIFY_PARENT_WATCHED;
                }
                else
                {
                    if (!Has(Fix.ChildFlagsRace))
                        WARN_ON((child.d_flags & Dentry.DCACHE_INOTIFY_PARENT_WATCHED) == 0, "child lacks DCACHE_INOTIFY_PARENT_WATCHED");
                    child.d_flags &= ~Dentry.DCACHE_INOTIFY_PARENT_WATCHED;
                }
                child.d_lock.spin_unlock();
            }
        }
        Vfs.dcache_lock.spin_unlock();
    }

    private void WARN_ON(bool cond, string what)
    {
        if (!cond) return;
        var t = K.current;
        var stack = t.Stack();
        K.Bug(new BugReport(BugClass.KernelWarning, $"WARNING: at fs/inotify.c in {t.CurrentFunction}: {what}")
        {
            Functions = stack.Length > 3 ? stack[..3] : stack,
            Threads = new[] { t.Name },
            Body = $"WARN_ON({what})\nCall Trace:\n" + K.SiteHere().Render(),
        });
    }

    /// <summary>
    /// inotify_find_handle - find the watch associated with the given inode and
    /// handle
    ///
    /// Callers must hold inode->inotify_mutex.
    /// </summary>
    private InotifyWatch? inode_find_handle(Inode inode, InotifyHandle ih)
    {
        using var _ = K.Fn("inode_find_handle");
        K.lockdep_assert_held(inode.inotify_mutex, "Callers must hold inode->inotify_mutex.");
        foreach (var watch in inode.inotify_watches.list_for_each_entry<InotifyWatch>("i_list"))
        {
            if (watch.ih == ih)
                return watch;
        }
        return null;
    }

    /// <summary>
    /// remove_watch_no_event - remove_watch() without the IN_IGNORED event.
    ///
    /// Callers must hold both inode->inotify_mutex and ih->mutex.  We may drop a
    /// reference to the inode before returning.
    /// </summary>
    private void remove_watch_no_event(InotifyWatch watch, InotifyHandle ih)
    {
        using var _ = K.Fn("remove_watch_no_event");
        K.lockdep_assert_held(watch.PeekInode!.inotify_mutex, ih.mutex, "Callers must hold both inode->inotify_mutex and ih->mutex.");
        K.Point(); // inode->inotify_watches is read locklessly (inotify_inode_watched): a race window
        watch.i_list.list_del();
        watch.h_list.list_del();

        if (!inotify_inode_watched(watch.inode))
            set_dentry_child_flags(watch.inode, 0);

        ih.idr.idr_remove(watch.wd);
        if (!Has(Fix.WatchDestroyOp))
            put_inotify_watch(watch); /* put matching get in inotify_add_watch() */
        // watch-destroy-op (2.6.18): the reference of the lists is dropped by whoever
        // removed the watch: the consumer on IN_IGNORED, or inotify_destroy.
    }

    /// <summary>
    /// remove_watch - Remove a watch from both the handle and the inode.  Sends
    /// the IN_IGNORED event signifying that the inode is no longer watched.
    ///
    /// Callers must hold both inode->inotify_mutex and ih->mutex.
    /// </summary>
    private void remove_watch(InotifyWatch watch, InotifyHandle ih)
    {
        using var _ = K.Fn("remove_watch");
        K.lockdep_assert_held(watch.PeekInode!.inotify_mutex, ih.mutex, "Callers must hold both inode->inotify_mutex and ih->mutex.");
        if (Has(Fix.WatchDestroyOp))
        {
            inotify_remove_watch_locked(ih, watch);
            return;
        }
        ih.callback.handle_event(watch, (uint)watch.wd, IN_IGNORED, 0, null, null);
        remove_watch_no_event(watch, ih);
    }

    /// <summary>
    /// inotify_remove_watch_locked - Remove a watch from both the handle and the inode, then send
    /// IN_IGNORED, which may drop the final reference: the last thing inotify does with the watch
    /// (watch-destroy-op: 2.6.18's replacement of remove_watch).
    ///
    /// Callers must hold both inode->inotify_mutex and ih->mutex.
    /// The model keeps the seed's frame (reports say remove_watch in both variants) and reads
    /// watch->wd first, where the seed's remove_watch read it.
    /// </summary>
    private void inotify_remove_watch_locked(InotifyHandle ih, InotifyWatch watch)
    {
        int wd = watch.wd;
        remove_watch_no_event(watch, ih);
        ih.callback.handle_event(watch, (uint)wd, IN_IGNORED, 0, null, null);
    }

    // ============================================================ Kernel API for producing events

    /// <summary>inotify_d_instantiate - instantiate dcache entry for inode (2.6.17; caller holds dcache_lock)</summary>
    public void inotify_d_instantiate(Dentry entry, Inode? inode)
    {
        using var _ = K.Fn("inotify_d_instantiate");
        if (inode is null)
            return;

        if (!Has(Fix.ChildFlagsRace))
            WARN_ON((entry.d_flags & Dentry.DCACHE_INOTIFY_PARENT_WATCHED) != 0, "instantiated dentry already has DCACHE_INOTIFY_PARENT_WATCHED");
        entry.d_lock.spin_lock();
        var parent = entry.d_parent;
        if (parent.d_inode != null && inotify_inode_watched(parent.d_inode))
            entry.d_flags |= Dentry.DCACHE_INOTIFY_PARENT_WATCHED;
        entry.d_lock.spin_unlock();
    }

    /// <summary>inotify_d_move - dcache entry has been moved (2.6.17; caller holds dcache_lock and entry->d_lock)</summary>
    public void inotify_d_move(Dentry entry)
    {
        using var _ = K.Fn("inotify_d_move");
        var parent = entry.d_parent;
        if (inotify_inode_watched(parent.d_inode!))
            entry.d_flags |= Dentry.DCACHE_INOTIFY_PARENT_WATCHED;
        else
            entry.d_flags &= ~Dentry.DCACHE_INOTIFY_PARENT_WATCHED;
    }

    /// <summary>
    /// inotify_inode_queue_event - queue an event to all watches on this inode
    /// @inode: inode event is originating from
    /// @mask: event mask describing this event
    /// @cookie: cookie for synchronization, or zero
    /// @name: filename, if any
    /// @a_inode: affected inode in a directory
    /// </summary>
    public void inotify_inode_queue_event(Inode inode, uint mask, uint cookie, string? name, Inode? a_inode)
    {
        using var _ = K.Fn("inotify_inode_queue_event");
        if (!inotify_inode_watched(inode))
            return;

        inode.inotify_mutex.mutex_lock();
        foreach (var (watch, next) in inode.inotify_watches.list_for_each_entry_safe<InotifyWatch>("i_list"))
        {
            uint watch_mask = watch.mask;
            if ((watch_mask & mask) != 0)
            {
                var ih = watch.ih;
                /* the seed: the event first, outside ih->mutex, then the oneshot removal */
                if (!Has(Fix.OneshotLeak))
                    ih.callback.handle_event(watch, (uint)watch.wd, mask, cookie, name, a_inode);
                ih.mutex.mutex_lock();
                if ((watch_mask & IN_ONESHOT) != 0)
                    remove_watch_no_event(watch, ih);
                /* oneshot-leak (2.6.18): under ih->mutex, after unlinking a oneshot watch; the consumer drops its final reference */
                if (Has(Fix.OneshotLeak))
                    ih.callback.handle_event(watch, (uint)watch.wd, mask, cookie, name, a_inode);
                ih.mutex.mutex_unlock();
            }
        }
        inode.inotify_mutex.mutex_unlock();
    }

    /// <summary>
    /// inotify_dentry_parent_queue_event - queue an event to a dentry's parent
    /// @dentry: the dentry in question, we queue against this dentry's parent
    /// @mask: event mask describing this event
    /// @cookie: cookie for synchronization, or zero
    /// @name: filename, if any
    /// </summary>
    public void inotify_dentry_parent_queue_event(Dentry dentry, uint mask, uint cookie, string? name)
    {
        using var _ = K.Fn("inotify_dentry_parent_queue_event");
        K.Point(); // unlocked read of d_flags
        if ((K.data_race(dentry, static d => d.d_flags) & Dentry.DCACHE_INOTIFY_PARENT_WATCHED) == 0) // lockless hint, rechecked under d_lock
            return;

        dentry.d_lock.spin_lock();
        var parent = dentry.d_parent;
        var inode = parent.d_inode!;

        if (inotify_inode_watched(inode))
        {
            Vfs.dget(parent);
            dentry.d_lock.spin_unlock();
            inotify_inode_queue_event(inode, mask, cookie, name, dentry.d_inode);
            Vfs.dput(parent);
        }
        else
            dentry.d_lock.spin_unlock();
    }

    /// <summary>inotify_get_cookie - return a unique cookie for use in synchronizing events.</summary>
    public uint inotify_get_cookie() => (uint)inotify_cookie.atomic_inc_return();

    /// <summary>
    /// inotify_unmount_inodes - an sb is unmounting.  handle any watched inodes.
    /// @list: list of inodes being unmounted (sb->s_inodes)
    ///
    /// Called with inode_lock held, protecting the unmounting super block's list
    /// of inodes, and with iprune_mutex held, keeping shrink_icache_memory() at bay.
    /// We temporarily drop inode_lock, however, and CAN block.
    /// </summary>
    public void inotify_unmount_inodes(ListHead list)
    {
        using var _ = K.Fn("inotify_unmount_inodes");
        K.lockdep_assert_held(Vfs.inode_lock, Vfs.iprune_mutex, "Called with inode_lock held, protecting the unmounting super block's list of inodes, and with iprune_mutex held, keeping shrink_icache_memory() at bay.");
        Inode? need_iput = null;
        foreach (var (inode, n) in list.list_for_each_entry_safe<Inode>("i_sb_list"))
        {
            Inode? need_iput_tmp;

            /*
             * If i_count is zero, the inode cannot have any watches and
             * doing an __iget/iput with MS_ACTIVE clear would actually
             * evict all inodes with zero i_count from icache which is
             * unnecessarily violent and may in fact be illegal to do.
             */
            if (inode.i_count.atomic_read() == 0)
                continue;

            /*
             * We cannot __iget() an inode in state I_CLEAR, I_FREEING, or
             * I_WILL_FREE which is fine because by that point the inode
             * cannot have any associated watches.
             */
            if ((inode.i_state & (Inode.I_CLEAR | Inode.I_FREEING | Inode.I_WILL_FREE)) != 0)
                continue;

            need_iput_tmp = need_iput;
            need_iput = null;
            /* In case the remove_watch() drops a reference. */
            if (inode != need_iput_tmp)
                Vfs.__iget(inode);
            else
                need_iput_tmp = null;
            /* In case the dropping of a reference would nuke next_i. */
            if (n != list)
            {
                var next_i = n.list_entry<Inode>("i_sb_list");
                if (next_i.i_count.atomic_read() != 0 &&
                    (next_i.i_state & (Inode.I_CLEAR | Inode.I_FREEING | Inode.I_WILL_FREE)) == 0)
                {
                    Vfs.__iget(next_i);
                    need_iput = next_i;
                }
            }

            /*
             * We can safely drop inode_lock here because we hold
             * references on both inode and next_i.  Also no new inodes
             * will be added since the umount has begun.  Finally,
             * iprune_mutex keeps shrink_icache_memory() away.
             */
            Vfs.inode_lock.spin_unlock();

            if (need_iput_tmp != null)
                Vfs.iput(need_iput_tmp);

            /* for each watch, send IN_UNMOUNT and then remove it */
            inode.inotify_mutex.mutex_lock();
            foreach (var (watch, next_w) in inode.inotify_watches.list_for_each_entry_safe<InotifyWatch>("i_list"))
            {
                var ih = watch.ih;
                if (Has(Fix.OneshotUnmount))
                    get_inotify_watch(watch); // 6ee5a399: the IN_UNMOUNT callback may drop a oneshot watch's final reference
                ih.callback.handle_event(watch, (uint)watch.wd, IN_UNMOUNT, 0, null, inode);
                ih.mutex.mutex_lock();
                remove_watch(watch, ih);
                ih.mutex.mutex_unlock();
                if (Has(Fix.OneshotUnmount))
                    put_inotify_watch(watch);
            }
            inode.inotify_mutex.mutex_unlock();
            Vfs.iput(inode);

            Vfs.inode_lock.spin_lock();
        }
    }

    /// <summary>
    /// inotify_inode_is_dead - an inode has been deleted, cleanup any watches
    /// @inode: inode that is about to be removed
    /// </summary>
    public void inotify_inode_is_dead(Inode inode)
    {
        using var _ = K.Fn("inotify_inode_is_dead");
        inode.inotify_mutex.mutex_lock();
        foreach (var (watch, next) in inode.inotify_watches.list_for_each_entry_safe<InotifyWatch>("i_list"))
        {
            var ih = watch.ih;
            ih.mutex.mutex_lock();
            remove_watch(watch, ih);
            ih.mutex.mutex_unlock();
        }
        inode.inotify_mutex.mutex_unlock();
    }

    // ============================================================ Kernel Consumer API

    /// <summary>
    /// inotify_init - allocate and initialize an inotify instance
    /// @cb: event callback function
    /// </summary>
    public ErrPtr<InotifyHandle> inotify_init(IInotifyConsumer cb)
    {
        using var _ = K.Fn("inotify_init");
        K.assert_no_callback_locks(Vfs.InotifyMutexClass, HandleMutexClass, "The inode->inotify_mutex and inotify_handle->mutex and held during execution of a caller's event callback.  Thus, the caller must not hold any locks taking during callback processing while calling any of the published inotify routines");
        var ih = K.Slab.kmalloc(Gfp.GFP_KERNEL, () => new InotifyHandle(K, HandleMutexClass));
        if (ih is null)
            return ERR_PTR(-Errno.ENOMEM);

        ih.watches.INIT_LIST_HEAD();
        ih.last_wd = 0;
        ih.callback = cb;
        ih.count.atomic_set(0);
        get_inotify_handle(ih);
        Handles.Add(ih);

        return ih;
    }

    /// <summary>
    /// inotify_destroy - clean up and destroy an inotify instance
    /// @ih: inotify handle
    /// </summary>
    public void inotify_destroy(InotifyHandle ih)
    {
        using var _ = K.Fn("inotify_destroy");
        K.assert_no_callback_locks(Vfs.InotifyMutexClass, HandleMutexClass, "The inode->inotify_mutex and inotify_handle->mutex and held during execution of a caller's event callback.  Thus, the caller must not hold any locks taking during callback processing while calling any of the published inotify routines");
        /*
         * Destroy all of the watches for this handle. Unfortunately, not very
         * pretty.  We cannot do a simple iteration over the list, because we
         * do not know the inode until we iterate to the watch.  But we need to
         * hold inode->inotify_mutex before ih->mutex.  The following works.
         */
        while (true)
        {
            InotifyWatch watch;
            ListHead watches;
            Inode inode;

            ih.mutex.mutex_lock();
            watches = ih.watches;
            if (watches.list_empty())
            {
                ih.mutex.mutex_unlock();
                break;
            }
            watch = watches.next.list_entry<InotifyWatch>("h_list");
            int how = 1;
            if (Has(Fix.UmountPin))
            {
                how = pin_to_kill(ih, watch);
                if (how == 0)
                    continue;
            }
            else
            {
                get_inotify_watch(watch);
                ih.mutex.mutex_unlock();
            }

            inode = watch.inode;
            inode.inotify_mutex.mutex_lock();
            ih.mutex.mutex_lock();

            /* XXX need second idr_find to prevent multiple list_del's ? */
            if (!Has(Fix.DestroyRecheck) || ih.idr.idr_find(watch.wd) != null)
            {
                // destroy-recheck (2.6.18): "make sure we didn't race with another list removal"
                if (K.Planted(Mistake.DestroyEarlyUnlock)) ih.mutex.mutex_unlock(); // planted mistake destroy-early-unlock (src/Model/Mistakes.cs): never in a variant
                remove_watch_no_event(watch, ih);
                if (Has(Fix.DestroyLeak))
                    put_inotify_watch(watch); // 2.6.18: drop the reference of the lists
            }
            else if (K.Planted(Mistake.DestroyEarlyUnlock)) ih.mutex.mutex_unlock(); // (planted destroy-early-unlock: the same early unlock)
            if (!K.Planted(Mistake.DestroyEarlyUnlock)) ih.mutex.mutex_unlock(); // (planted destroy-early-unlock: already unlocked above)
            inode.inotify_mutex.mutex_unlock();
            if (Has(Fix.UmountPin))
                unpin_and_kill(watch, how);
            else
                put_inotify_watch(watch);
        }

        /* free this handle: the put matching the get in inotify_init() */
        put_inotify_handle(ih);
    }

    /// <summary>
    /// inotify_find_watch - find an existing watch for an (ih,inode) pair
    /// @ih: inotify handle
    /// @inode: inode to watch
    /// @watchp: ptr to existing inotify_watch
    ///
    /// Caller must pin given inode (via nameidata).
    /// </summary>
    public int inotify_find_watch(InotifyHandle ih, Inode inode, out InotifyWatch? watchp)
    {
        using var _ = K.Fn("inotify_find_watch");
        K.assert_no_callback_locks(Vfs.InotifyMutexClass, HandleMutexClass, "The inode->inotify_mutex and inotify_handle->mutex and held during execution of a caller's event callback.  Thus, the caller must not hold any locks taking during callback processing while calling any of the published inotify routines");
        K.assert_pinned(inode, inode.i_count, "Caller must pin given inode (via nameidata).");
        InotifyWatch? old;
        int ret = -Errno.ENOENT;
        watchp = null;

        inode.inotify_mutex.mutex_lock();
        ih.mutex.mutex_lock();

        old = inode_find_handle(inode, ih);
        if (old != null)
        {
            if (Has(Fix.FindWatchRef))
                get_inotify_watch(old); /* caller must put watch */
            watchp = old;
            ret = old.wd;
        }

        ih.mutex.mutex_unlock();
        inode.inotify_mutex.mutex_unlock();

        return ret;
    }

    /// <summary>
    /// inotify_find_update_watch - find and update the mask of an existing watch
    /// @ih: inotify handle
    /// @inode: inode's watch to update
    /// @mask: mask of events to watch
    ///
    /// Caller must pin given inode (via nameidata).
    /// </summary>
    public int inotify_find_update_watch(InotifyHandle ih, Inode inode, uint mask)
    {
        using var _ = K.Fn("inotify_find_update_watch");
        K.assert_no_callback_locks(Vfs.InotifyMutexClass, HandleMutexClass, "The inode->inotify_mutex and inotify_handle->mutex and held during execution of a caller's event callback.  Thus, the caller must not hold any locks taking during callback processing while calling any of the published inotify routines");
        K.assert_pinned(inode, inode.i_count, "Caller must pin given inode (via nameidata).");
        InotifyWatch? old;
        bool mask_add = false;
        int ret;

        if ((mask & IN_MASK_ADD) != 0)
            mask_add = true;

        /* don't allow invalid bits: we don't want flags set */
        mask &= IN_ALL_EVENTS | IN_ONESHOT;
        if (mask == 0)
            return -Errno.EINVAL;

        inode.inotify_mutex.mutex_lock();
        ih.mutex.mutex_lock();

        /*
         * Handle the case of re-adding a watch on an (inode,ih) pair that we
         * are already watching.  We just update the mask and return its wd.
         */
        old = inode_find_handle(inode, ih);
        if (old is null)
        {
            ret = -Errno.ENOENT;
            goto @out;
        }

        if (mask_add)
            old.mask |= mask;
        else
            old.mask = mask;
        ret = old.wd;
    @out:
        ih.mutex.mutex_unlock();
        inode.inotify_mutex.mutex_unlock();
        return ret;
    }

    /// <summary>
    /// inotify_add_watch - add a watch to an inotify instance
    /// @ih: inotify handle
    /// @watch: caller allocated watch structure
    /// @inode: inode to watch
    /// @mask: mask of events to watch
    ///
    /// Caller must pin given inode (via nameidata).
    /// Caller must ensure it only calls inotify_add_watch() once per watch.
    /// Calls inotify_handle_get_wd() so may sleep.
    /// </summary>
    public int inotify_add_watch(InotifyHandle ih, InotifyWatch watch, Inode inode, uint mask)
    {
        using var _ = K.Fn("inotify_add_watch");
        K.assert_no_callback_locks(Vfs.InotifyMutexClass, HandleMutexClass, "The inode->inotify_mutex and inotify_handle->mutex and held during execution of a caller's event callback.  Thus, the caller must not hold any locks taking during callback processing while calling any of the published inotify routines");
        K.assert_pinned(inode, inode.i_count, "Caller must pin given inode (via nameidata).");
        K.assert_once(watch.PeekIh != null, $"{watch.Describe} was already added (its ih is set)", "Caller must ensure it only calls inotify_add_watch() once per watch.");
        K.can_sleep("Calls inotify_handle_get_wd() so may sleep.");
        int ret = 0;

        /* don't allow invalid bits: we don't want flags set */
        mask &= IN_ALL_EVENTS | IN_ONESHOT;
        if (mask == 0)
            return -Errno.EINVAL;

        inode.inotify_mutex.mutex_lock();
        ih.mutex.mutex_lock();

        /* Initialize a new watch */
        ret = inotify_handle_get_wd(ih, watch);
        if (ret != 0)
            goto @out;

        watch.mask = mask;
        watch.count.atomic_set(0);
        watch.h_list.INIT_LIST_HEAD();
        watch.i_list.INIT_LIST_HEAD();

        /* save a reference to handle and bump the count to make it official */
        get_inotify_handle(ih);
        watch.ih = ih;

        /*
         * Save a reference to the inode and bump the ref count to make it
         * official.  We hold a reference to nameidata, which makes this safe.
         */
        watch.inode = Vfs.igrab(inode)!;

        /* bump our own count, corresponding to our entry in ih->watches */
        get_inotify_watch(watch);

        /* the seed sets the children's flags here, before the watch is on the inode's list (child-flags-race) */
        bool newly_watched = !inotify_inode_watched(inode);
        if (newly_watched && !Has(Fix.ChildFlagsRace))
            set_dentry_child_flags(inode, 1);

        /* Add the watch to the handle's and the inode's list */
        ih.watches.list_add(watch.h_list);
        K.Point(); // inode->inotify_watches is read locklessly (inotify_inode_watched): a race window
        inode.inotify_watches.list_add(watch.i_list);
        /*
         * Set child flags _after_ adding the watch, so there is no race
         * windows where newly instantiated children could miss their parent's
         * watched flag.
         */
        if (newly_watched && Has(Fix.ChildFlagsRace))
            set_dentry_child_flags(inode, 1);
        ret = watch.wd;
    @out:
        ih.mutex.mutex_unlock();
        inode.inotify_mutex.mutex_unlock();
        return ret;
    }

    /// <summary>
    /// inotify_rm_wd - remove a watch from an inotify instance
    /// @ih: inotify handle
    /// @wd: watch descriptor to remove
    ///
    /// Can sleep.
    /// </summary>
    public int inotify_rm_wd(InotifyHandle ih, uint wd)
    {
        using var _ = K.Fn("inotify_rm_wd");
        K.assert_no_callback_locks(Vfs.InotifyMutexClass, HandleMutexClass, "The inode->inotify_mutex and inotify_handle->mutex and held during execution of a caller's event callback.  Thus, the caller must not hold any locks taking during callback processing while calling any of the published inotify routines");
        K.can_sleep("Can sleep.");
        InotifyWatch? watch;
        Inode inode;

        ih.mutex.mutex_lock();
        watch = (InotifyWatch?)ih.idr.idr_find((int)wd);
        if (watch is null)
        {
            ih.mutex.mutex_unlock();
            return -Errno.EINVAL;
        }
        int how = 1;
        if (Has(Fix.UmountPin))
        {
            how = pin_to_kill(ih, watch);
            if (how == 0)
                return 0;
            inode = watch.inode;
        }
        else
        {
            get_inotify_watch(watch);
            inode = watch.inode;
            ih.mutex.mutex_unlock();
        }

        inode.inotify_mutex.mutex_lock();
        ih.mutex.mutex_lock();

        /* make sure that we did not race */
        if (Has(Fix.RmWdRecheck))
        {
            // 2.6.18: remove only the watch we pinned, and put that one
            if (ih.idr.idr_find((int)wd) == watch)
                remove_watch(watch, ih);
        }
        else
        {
            watch = (InotifyWatch?)ih.idr.idr_find((int)wd);
            if (watch != null)
                remove_watch(watch, ih);
        }

        ih.mutex.mutex_unlock();
        inode.inotify_mutex.mutex_unlock();
        if (Has(Fix.UmountPin))
            unpin_and_kill(watch, how);
        else
            put_inotify_watch(watch);

        return 0;
    }

    /*
     * umount-pin: the rationale of 8f7b0ba1 ("Fix inotify watch removal/umount races", Al Viro,
     * 2.6.28-rc5), in the comment it put above pin_to_kill, summarised:
     *
     * "Watch removals suck violently."  Removing a watch takes inode->inotify_mutex, then
     * ih->mutex.  That is fine while we hold the inode; otherwise we must not race with umount,
     * and a reference to the watch is not enough: inotify_unmount_inodes() sails past it, and
     * the inode outlives its superblock (the seed's get_inotify_watch pin: "VFS: Busy inodes
     * after unmount").  So take an active reference to the superblock when we can (cleanup:
     * deactivate_super()).  When we cannot, umount is under way: bump ->s_count and take
     * ->s_umount, which waits for the shutdown.  If ->s_root is still set we got there first and
     * will not race with inotify_unmount_inodes(), but we had to drop ih->mutex to take
     * ->s_umount, so the watch may be gone: save watch->wd and check
     * idr_find(...) == watch && watch->inode->i_sb == sb before "grab it and kill it" (a new
     * watch with the same wd at the same address may be killed just as well: its superblock
     * will not go away).  Cleanup is then drop_super().
     */

    /// <summary>
    /// pin_to_kill - pin the watch down for removal (umount-pin, 8f7b0ba1)
    ///
    /// Called with ih->mutex held, drops it.  Possible return values:
    /// 0 - nothing to do, it has died
    /// 1 - remove it, drop the reference and deactivate_super()
    /// 2 - remove it, drop the reference and drop_super()
    /// </summary>
    private int pin_to_kill(InotifyHandle ih, InotifyWatch watch)
    {
        using var _ = K.Fn("pin_to_kill");
        var sb = watch.inode.i_sb;
        int wd = watch.wd;

        Vfs.sb_lock.spin_lock();
        if (sb.s_count >= SuperBlock.S_BIAS)
        {
            sb.s_active.atomic_inc();
            Vfs.sb_lock.spin_unlock();
            get_inotify_watch(watch);
            ih.mutex.mutex_unlock();
            return 1; /* the best outcome */
        }
        sb.s_count++;
        Vfs.sb_lock.spin_unlock();
        ih.mutex.mutex_unlock(); /* can't grab ->s_umount under it */
        sb.s_umount.down_read();
        if (sb.s_root is null)
        {
            /* fs is already shut down; the watch is dead */
            Vfs.drop_super(sb);
            return 0;
        }
        /* raced with the final deactivate_super() */
        ih.mutex.mutex_lock();
        if (ih.idr.idr_find(wd) != watch || watch.inode.i_sb != sb)
        {
            /* the watch is dead */
            ih.mutex.mutex_unlock();
            Vfs.drop_super(sb);
            return 0;
        }
        /* still alive or freed and reused with the same sb and wd; kill */
        get_inotify_watch(watch);
        ih.mutex.mutex_unlock();
        return 2;
    }

    /// <summary>unpin_and_kill (umount-pin fix): drop the watch, then the superblock pin.</summary>
    private void unpin_and_kill(InotifyWatch? watch, int how)
    {
        using var _ = K.Fn("unpin_and_kill");
        if (watch is null)
        {
            NullDeref("unpin_and_kill", "watch->inode->i_sb", "struct inotify_watch");
            return;
        }
        var sb = watch.inode.i_sb;
        put_inotify_watch(watch);
        switch (how)
        {
            case 1:
                Vfs.deactivate_super(sb);
                break;
            case 2:
                Vfs.drop_super(sb);
                break;
        }
    }

    /// <summary>
    /// inotify_rm_watch - remove a watch from an inotify instance
    /// @ih: inotify handle
    /// @watch: watch to remove
    ///
    /// Can sleep.
    /// </summary>
    public int inotify_rm_watch(InotifyHandle ih, InotifyWatch watch)
    {
        using var _ = K.Fn("inotify_rm_watch");
        K.assert_no_callback_locks(Vfs.InotifyMutexClass, HandleMutexClass, "The inode->inotify_mutex and inotify_handle->mutex and held during execution of a caller's event callback.  Thus, the caller must not hold any locks taking during callback processing while calling any of the published inotify routines");
        K.can_sleep("Can sleep.");
        return inotify_rm_wd(ih, (uint)watch.wd);
    }
}
