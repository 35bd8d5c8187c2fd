using InotifySim.Model.Kernel;

namespace InotifySim.Model.Vfs;

// fs/inode.c (2.6.17), reduced to what inotify's paths touch.
public sealed partial class Vfs
{
    private Inode new_inode_nofail(SuperBlock sb, int mode, int uid)
    {
        var inode = K.Slab.alloc_nofail("inode_cache", () => new Inode(K, sb, _nextIno++, mode, uid, InotifyMutexClass, IMutexClass));
        init_new_inode(sb, inode);
        return inode;
    }

    /// <summary>new_inode(sb): allocate, i_count 1, on sb->s_inodes (under inode_lock).</summary>
    public Inode? new_inode(SuperBlock sb, int mode, int uid)
    {
        using var _ = K.Fn("new_inode");
        var inode = K.Slab.kmem_cache_alloc("inode_cache", Gfp.GFP_KERNEL,
            () => new Inode(K, sb, _nextIno++, mode, uid, InotifyMutexClass, IMutexClass));
        if (inode is null) return null;
        init_new_inode(sb, inode);
        return inode;
    }

    private void init_new_inode(SuperBlock sb, Inode inode)
    {
        inode.i_count.atomic_set(1);
        inode.i_nlink = 1;
        inode_lock.spin_lock();
        sb.s_inodes.list_add(inode.i_sb_list);
        inode_lock.spin_unlock();
    }

    /// <summary>__iget(): take a reference; caller holds inode_lock.</summary>
    public void __iget(Inode inode) => inode.i_count.atomic_inc();

    /// <summary>igrab(): a reference unless the inode is being freed.</summary>
    public Inode? igrab(Inode inode)
    {
        using var _ = K.Fn("igrab");
        inode_lock.spin_lock();
        Inode? r = null;
        if ((inode.i_state & (Inode.I_FREEING | Inode.I_WILL_FREE)) == 0)
        {
            __iget(inode);
            r = inode;
        }
        inode_lock.spin_unlock();
        return r;
    }

    /// <summary>iput(): drop a reference (atomic_dec_and_lock on inode_lock); the last one runs iput_final.</summary>
    public void iput(Inode? inode)
    {
        if (inode is null) return;
        using var _ = K.Fn("iput");
        K.might_sleep("iput");
        if (inode.i_count.Peek > 1 && !inode.IsFreed)
        {
            inode.i_count.atomic_dec();
            return;
        }
        inode_lock.spin_lock();
        if (inode.i_count.atomic_dec_and_test())
        {
            iput_final(inode);
            return;
        }
        inode_lock.spin_unlock();
    }

    /// <summary>iput_final(): called with inode_lock held; drops it.</summary>
    private void iput_final(Inode inode)
    {
        using var _ = K.Fn("iput_final");
        if (inode.i_nlink == 0)
        {
            generic_delete_inode(inode);
            return;
        }
        var sb = inode.i_sb;
        if ((sb.s_flags & SuperBlock.MS_ACTIVE) != 0)
        {
            // stays in the inode cache with i_count == 0
            inode_lock.spin_unlock();
            return;
        }
        // generic_forget_inode during umount: evict now
        inode.i_sb_list.list_del_init();
        inode.i_state |= Inode.I_FREEING;
        inode_lock.spin_unlock();
        destroy_inode(inode);
    }

    private void generic_delete_inode(Inode inode)
    {
        using var _ = K.Fn("generic_delete_inode");
        inode.i_sb_list.list_del_init();
        inode.i_state |= Inode.I_FREEING;
        inode_lock.spin_unlock();
        destroy_inode(inode);
    }

    private void destroy_inode(Inode inode)
    {
        using var _ = K.Fn("destroy_inode");
        inode.i_state |= Inode.I_CLEAR;
        K.Slab.kmem_cache_free("inode_cache", inode);
    }

    /// <summary>
    /// invalidate_inodes(sb) (fs/inode.c 2.6.17): under iprune_mutex and inode_lock, lets
    /// inotify drop its watches (inotify_unmount_inodes), then disposes of every unused
    /// inode. Returns the number of busy inodes (still referenced).
    /// </summary>
    public int invalidate_inodes(SuperBlock sb)
    {
        using var _ = K.Fn("invalidate_inodes");
        iprune_mutex.mutex_lock();
        inode_lock.spin_lock();
        Inotify.inotify_unmount_inodes(sb.s_inodes);
        var throwAway = new List<Inode>();
        int busy = invalidate_list(sb.s_inodes, throwAway);
        inode_lock.spin_unlock();
        foreach (var inode in throwAway) destroy_inode(inode);
        iprune_mutex.mutex_unlock();
        return busy;
    }

    private int invalidate_list(ListHead head, List<Inode> dispose)
    {
        int busy = 0;
        for (ListHead p = head.Next("invalidate_list"), n = p.Next("invalidate_list"); p != head; p = n, n = p.Next("invalidate_list"))
        {
            var inode = p.list_entry<Inode>("i_sb_list");
            if (inode.i_count.atomic_read() == 0)
            {
                inode.i_sb_list.list_del_init();
                inode.i_state |= Inode.I_FREEING;
                dispose.Add(inode);
                continue;
            }
            busy = 1;
        }
        return busy;
    }
}
