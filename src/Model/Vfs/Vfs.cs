using InotifySim.Model.Kernel;
using InotifySim.Model.Inotify;

namespace InotifySim.Model.Vfs;

/// <summary>
/// The simulated VFS: dcache (fs/dcache.c), icache (fs/inode.c), path walk (fs/namei.c),
/// superblocks and mounts (fs/super.c, fs/namespace.c), files (fs/file_table.c,
/// fs/open.c, fs/read_write.c) and kernel/user.c, with the fsnotify hooks of
/// include/linux/fsnotify.h as the seed leaves them. Functions keep their kernel names.
/// </summary>
public sealed partial class Vfs
{
    public readonly Kernel.Kernel K;
    public Inotify.Inotify Inotify { get; internal set; } = null!;

    /// <summary>inode_lock: protects the super_block->s_inodes lists and i_state.</summary>
    public readonly Spinlock inode_lock;
    /// <summary>dcache_lock: protects d_subdirs and aliases.</summary>
    public readonly Spinlock dcache_lock;
    /// <summary>iprune_mutex: keeps shrink_icache_memory() away from invalidate_inodes().</summary>
    public readonly Kernel.Mutex iprune_mutex;
    /// <summary>vfsmount_lock: protects the mount tree and mount lookups (lookup_mnt + mntget).</summary>
    public readonly Spinlock vfsmount_lock;
    /// <summary>sb_lock: protects s_count of every superblock.</summary>
    public readonly Spinlock sb_lock;
    public readonly LockClass UmountClass;
    /// <summary>uidhash_lock (kernel/user.c).</summary>
    public readonly Spinlock uidhash_lock;

    public readonly LockClass InotifyMutexClass, IMutexClass, DLockClass, RenameMutexClass;

    private readonly SortedDictionary<int, UserStruct> _uidhash = new();
    private readonly List<Vfsmount> _mounts = new();
    private long _nextIno = 1;
    private int _nextSb = 0;

    public Vfsmount RootMnt { get; private set; } = null!;
    public IReadOnlyList<Vfsmount> Mounts => _mounts;
    /// <summary>Superblocks ever mounted, in order (for oracles).</summary>
    public readonly List<SuperBlock> SuperBlocks = new();

    public Vfs(Kernel.Kernel k)
    {
        K = k;
        var ld = k.Lockdep;
        // lockdep classes in the order the seed's "Lock ordering" comment gives them
        iprune_mutex = new Kernel.Mutex(k.Globals, "iprune_mutex", ld.Class("iprune_mutex"));
        inode_lock = new Spinlock(k.Globals, "inode_lock", ld.Class("inode_lock", spin: true));
        dcache_lock = new Spinlock(k.Globals, "dcache_lock", ld.Class("dcache_lock", spin: true));
        uidhash_lock = new Spinlock(k.Globals, "uidhash_lock", ld.Class("uidhash_lock", spin: true));
        vfsmount_lock = new Spinlock(k.Globals, "vfsmount_lock", ld.Class("vfsmount_lock", spin: true));
        UmountClass = ld.Class("sb->s_umount");
        sb_lock = new Spinlock(k.Globals, "sb_lock", ld.Class("sb_lock", spin: true));
        RenameMutexClass = ld.Class("sb->s_vfs_rename_mutex");
        IMutexClass = ld.Class("inode->i_mutex");
        InotifyMutexClass = ld.Class("inode->inotify_mutex");
        DLockClass = ld.Class("dentry->d_lock", spin: true);
    }

    /// <summary>Is fix <paramref name="f"/> on (the VFS side of a named fix)? A true answer is its code path running (coverage).</summary>
    internal bool HasFix(Fix f)
    {
        if ((Inotify.Fixes & f) == 0) return false;
        K.FixPath((int)f);
        return true;
    }

    /// <summary>Boot: mount the root filesystem.</summary>
    public void Boot()
    {
        using var _ = K.Fn("mount_root");
        var sb = alloc_super("rootfs");
        var root = d_alloc_root(sb, Mode.S_IFDIR | 0x1ff, 0);
        var mnt = K.Slab.alloc_nofail("mnt_cache", () => new Vfsmount(K, sb, root, null, null, "/"));
        mnt.mnt_count.atomic_set(1);
        RootMnt = mnt;
        _mounts.Add(mnt);
        // Memory pressure runs the inode shrinker inside reclaim at some point of the system's
        // life; lockdep accumulates that dependency (fs_reclaim -> iprune_mutex) from then on.
        K.Lockdep.in_fs_reclaim(shrink_icache_memory);
    }

    /// <summary>shrink_icache_memory() -> prune_icache(): under iprune_mutex (nothing to prune at boot).</summary>
    private void shrink_icache_memory()
    {
        using var _ = K.Fn("shrink_icache_memory");
        iprune_mutex.mutex_lock();
        iprune_mutex.mutex_unlock();
    }

    // ================================================================ kernel/user.c

    /// <summary>alloc_uid(): find or allocate the user_struct, with a reference.</summary>
    public UserStruct? alloc_uid(int uid)
    {
        using var _ = K.Fn("alloc_uid");
        uidhash_lock.spin_lock();
        if (_uidhash.TryGetValue(uid, out var up))
        {
            up.__count.atomic_inc();
            uidhash_lock.spin_unlock();
            return up;
        }
        uidhash_lock.spin_unlock();
        var nu = K.Slab.kmem_cache_alloc("uid_cache", Gfp.GFP_KERNEL, () => new UserStruct(K, uid));
        if (nu is null) return null;
        nu.__count.atomic_set(1);
        nu.inotify_watches.atomic_set(0);
        nu.inotify_devs.atomic_set(0);
        uidhash_lock.spin_lock();
        if (_uidhash.TryGetValue(uid, out up))
        {
            up.__count.atomic_inc();
            uidhash_lock.spin_unlock();
            K.Slab.kmem_cache_free("uid_cache", nu);
            return up;
        }
        _uidhash.Add(uid, nu);
        uidhash_lock.spin_unlock();
        return nu;
    }

    public UserStruct get_uid(UserStruct u)
    {
        u.__count.atomic_inc();
        return u;
    }

    public void free_uid(UserStruct? up)
    {
        if (up is null) return;
        using var _ = K.Fn("free_uid");
        uidhash_lock.spin_lock();
        if (up.__count.atomic_dec_and_test())
        {
            _uidhash.Remove(up.Uid);
            uidhash_lock.spin_unlock();
            K.Slab.kmem_cache_free("uid_cache", up);
            return;
        }
        uidhash_lock.spin_unlock();
    }

    public IEnumerable<UserStruct> Users => _uidhash.Values;

    // ================================================================ superblocks

    private SuperBlock alloc_super(string id)
    {
        var sb = K.Slab.alloc_nofail("super_block", () => new SuperBlock(K, id + (_nextSb++ == 0 ? "" : _nextSb.ToString(System.Globalization.CultureInfo.InvariantCulture)), RenameMutexClass, UmountClass));
        sb.s_flags = SuperBlock.MS_ACTIVE;
        sb.s_count = SuperBlock.S_BIAS;
        sb.s_active.atomic_set(1);
        SuperBlocks.Add(sb);
        return sb;
    }

    private Dentry d_alloc_root(SuperBlock sb, int mode, int uid)
    {
        var inode = new_inode_nofail(sb, mode, uid);
        inode.i_nlink = 2;
        var root = K.Slab.alloc_nofail("dentry_cache", () => new Dentry(K, null, "/", DLockClass));
        root.d_count.atomic_set(1);
        root.d_hashed = true;
        root.d_inode = inode;
        inode.i_dentry = root;
        sb.s_root = root;
        return root;
    }
}
