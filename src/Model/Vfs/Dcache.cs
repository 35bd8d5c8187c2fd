using InotifySim.Model.Kernel;

namespace InotifySim.Model.Vfs;

// fs/dcache.c (2.6.17), reduced: one alias per inode is remembered (a hard link's second
// dentry is not: only directories' aliases are walked, and directories have no hard links),
// children kept in d_subdirs.
public sealed partial class Vfs
{
    /// <summary>d_alloc(parent, name): a new negative dentry with d_count 1, pinning its parent.</summary>
    public Dentry? d_alloc(Dentry parent, string name)
    {
        using var _ = K.Fn("d_alloc");
        var d = K.Slab.kmem_cache_alloc("dentry_cache", Gfp.GFP_KERNEL, () => new Dentry(K, parent, name, DLockClass));
        if (d is null) return null;
        d.d_count.atomic_set(1);
        dget(parent);
        dcache_lock.spin_lock();
        parent.d_subdirs.Add(d);
        d.d_hashed = true;
        dcache_lock.spin_unlock();
        return d;
    }

    /// <summary>d_instantiate(entry, inode): fill in inode information for a dentry.</summary>
    public void d_instantiate(Dentry entry, Inode? inode)
    {
        using var _ = K.Fn("d_instantiate");
        dcache_lock.spin_lock();
        if (inode != null && inode.i_dentry is null) inode.i_dentry = entry; // list_add(&entry->d_alias, &inode->i_dentry): the first alias is kept
        entry.d_inode = inode;
        if (inode != null) K.Kcsan?.Publish(entry); // the walk's lockless read of d_inode subscribes (Dentry.d_inode_once)
        Inotify.inotify_d_instantiate(entry, inode);
        dcache_lock.spin_unlock();
    }

    public Dentry dget(Dentry d)
    {
        d.d_count.atomic_inc();
        return d;
    }

    /// <summary>dput(): drop a reference; an unhashed dentry is killed at zero (dentry_iput, then its parent).</summary>
    public void dput(Dentry? dentry)
    {
        while (dentry != null)
        {
            using var _ = K.Fn("dput");
            K.might_sleep("dput");
            dcache_lock.spin_lock();
            if (!dentry.d_count.atomic_dec_and_test())
            {
                dcache_lock.spin_unlock();
                return;
            }
            if (dentry.d_hashed || dentry.IsRoot)
            {
                // unused: stays in the dcache (the root is only dropped by generic_shutdown_super)
                dcache_lock.spin_unlock();
                return;
            }
            dentry = d_kill(dentry);
        }
    }

    /// <summary>d_kill(): called with dcache_lock held, drops it; returns the parent to dput.</summary>
    private Dentry? d_kill(Dentry dentry)
    {
        using var _ = K.Fn("d_kill");
        var parent = dentry.IsRoot ? null : dentry.d_parent;
        parent?.d_subdirs.Remove(dentry);
        dentry_iput(dentry); // drops dcache_lock
        K.Slab.kmem_cache_free("dentry_cache", dentry);
        return parent;
    }

    /// <summary>
    /// dentry_iput(): release the dentry's inode; called with dcache_lock held, drops it.
    /// A dentry whose inode has no links left is where the inode dies for inotify
    /// (fsnotify_inoderemove: IN_DELETE_SELF, inotify_inode_is_dead).
    /// </summary>
    private void dentry_iput(Dentry dentry)
    {
        using var _ = K.Fn("dentry_iput");
        var inode = dentry.d_inode;
        if (inode != null)
        {
            dentry.d_inode = null;
            if (ReferenceEquals(inode.i_dentry, dentry)) inode.i_dentry = null; // list_del_init(&dentry->d_alias)
            dcache_lock.spin_unlock();
            if (inode.i_nlink == 0) Fsnotify.fsnotify_inoderemove(this, inode);
            iput(inode);
        }
        else
        {
            dcache_lock.spin_unlock();
        }
    }

    /// <summary>__d_drop(): unhash.</summary>
    private void __d_drop(Dentry d) => d.d_hashed = false;

    /// <summary>d_delete(dentry) (2.6.17): the only user turns the dentry negative at once, otherwise unhash it.</summary>
    public void d_delete(Dentry dentry)
    {
        using var _ = K.Fn("d_delete");
        dcache_lock.spin_lock();
        dentry.d_lock.spin_lock();
        bool isdir = Mode.S_ISDIR(dentry.d_inode!.i_fmt);
        if (dentry.d_count.atomic_read() == 1)
        {
            dentry.d_lock.spin_unlock();
            dentry_iput(dentry);
            Fsnotify.fsnotify_nameremove(this, dentry, isdir);

            /* remove this and other inotify debug checks after 2.6.18 */
            dentry.d_flags &= ~Dentry.DCACHE_INOTIFY_PARENT_WATCHED;
            return;
        }
        if (dentry.d_hashed) __d_drop(dentry);
        dentry.d_lock.spin_unlock();
        dcache_lock.spin_unlock();
        Fsnotify.fsnotify_nameremove(this, dentry, isdir);
    }

    /// <summary>DENTRY_D_LOCK_NESTED: the lockdep subclass of the second d_lock d_move takes.</summary>
    public const int DENTRY_D_LOCK_NESTED = 1;

    /// <summary>d_move(dentry, target): dentry takes target's name and parent; target is unhashed.</summary>
    public void d_move(Dentry dentry, Dentry target)
    {
        using var _ = K.Fn("d_move");
        dcache_lock.spin_lock();
        // 2.6.17/2.6.18: both d_locks, the lower address first ("XXXX: do we really need to take target->d_lock?"):
        // d_name and d_parent of both dentries change below (here the older allocation stands for the lower address)
        if (target.Alloc!.Id < dentry.Alloc!.Id)
        {
            target.d_lock.spin_lock();
            dentry.d_lock.spin_lock_nested(DENTRY_D_LOCK_NESTED);
        }
        else
        {
            dentry.d_lock.spin_lock();
            target.d_lock.spin_lock_nested(DENTRY_D_LOCK_NESTED);
        }
        var oldParent = dentry.d_parent;
        var newParent = target.d_parent;
        var oldName = dentry.d_name;
        __d_drop(target);
        newParent.d_subdirs.Remove(target);
        oldParent.d_subdirs.Remove(dentry);
        // switch names and parents: each still pins exactly one parent, so no dget/dput
        dentry.d_name = target.d_name;
        dentry.d_parent = newParent;
        newParent.d_subdirs.Add(dentry);
        target.d_name = oldName;
        target.d_parent = oldParent;
        oldParent.d_subdirs.Add(target);
        target.d_lock.spin_unlock();
        Inotify.inotify_d_move(dentry);
        dentry.d_lock.spin_unlock();
        dcache_lock.spin_unlock();
    }

    /// <summary>d_lookup(parent, name): the hashed child, with a reference.</summary>
    public Dentry? d_lookup(Dentry parent, string name)
    {
        dcache_lock.spin_lock();
        Dentry? found = null;
        foreach (var c in parent.d_subdirs)
        {
            if (c.d_hashed && c.d_name == name) { found = c; break; }
        }
        if (found != null) dget(found);
        dcache_lock.spin_unlock();
        return found;
    }

    /// <summary>
    /// shrink_dcache_sb() for umount: kill every unused dentry of the tree below
    /// <paramref name="root"/> (children first). Returns false if one is still in use.
    /// </summary>
    private bool shrink_dcache_parent(Dentry root)
    {
        using var _ = K.Fn("shrink_dcache_parent");
        bool clean = true;
        var children = new List<Dentry>(root.d_subdirs);
        foreach (var c in children)
        {
            if (!shrink_dcache_parent(c)) clean = false;
            if (c.d_count.Peek != 0) { clean = false; continue; }
            dcache_lock.spin_lock();
            root.d_subdirs.Remove(c);
            __d_drop(c);
            dentry_iput(c); // drops dcache_lock
            K.Slab.kmem_cache_free("dentry_cache", c);
            // the killed child pinned its parent
            root.d_count.atomic_dec();
        }
        return clean;
    }
}
