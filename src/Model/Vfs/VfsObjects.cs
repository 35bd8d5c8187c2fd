using InotifySim.Model.Kernel;

namespace InotifySim.Model.Vfs;

/// <summary>struct super_block: its inode list (s_inodes, under inode_lock) and lifetime.</summary>
public sealed class SuperBlock : KObject
{
    public const int MS_ACTIVE = 1 << 30;
    public override string TypeName => "struct super_block";

    public readonly ListHead s_inodes;
    private string _s_id;
    private int _s_flags;
    private Dentry? _s_root;
    /// <summary>sb->s_vfs_rename_mutex (lock_rename).</summary>
    public readonly Kernel.Mutex s_vfs_rename_mutex;

    /// <summary>S_BIAS: s_count carries this bias while the superblock is active.</summary>
    public const int S_BIAS = 1 << 30;
    /// <summary>sb->s_active: active references (mounts, pinned watch removals).</summary>
    public readonly Atomic s_active;
    /// <summary>sb->s_umount: held for writing while the superblock is shut down.</summary>
    public readonly RwSemaphore s_umount;
    private int _s_count;

    public SuperBlock(Kernel.Kernel k, string id, LockClass renameClass, LockClass umountClass) : base(k)
    {
        _s_id = id;
        s_inodes = new ListHead(this, "s_inodes");
        s_vfs_rename_mutex = new Kernel.Mutex(this, "s_vfs_rename_mutex", renameClass);
        s_active = new Atomic(this, "s_active", refcount: true);
        s_umount = new RwSemaphore(this, "s_umount", umountClass);
    }

    /// <summary>sb->s_count: passive references (protected by sb_lock).</summary>
    public int s_count { get { Chk(); return _s_count; } set { ChkW(); _s_count = value; } }

    public string s_id { get { Chk(); return _s_id; } }
    public int s_flags { get { Chk(); return _s_flags; } set { ChkW(); _s_flags = value; } }
    public Dentry? s_root { get { Chk(); return _s_root; } set { ChkW(); _s_root = value; } }
}

/// <summary>include/linux/stat.h: file types and permission bits (defined once; scenarios, scripts and tests use these).</summary>
public static class Mode
{
    public const int S_IFMT = 0xF000, S_IFIFO = 0x1000, S_IFDIR = 0x4000, S_IFREG = 0x8000, S_IFLNK = 0xA000;
    public const int S_ISUID = 0x800, S_ISGID = 0x400, S_ISVTX = 0x200;
    public const int S_IRWXU = 0x1c0, S_IRUSR = 0x100, S_IWUSR = 0x080, S_IXUSR = 0x040;
    public const int S_IRWXG = 0x038, S_IRGRP = 0x020, S_IWGRP = 0x010, S_IXGRP = 0x008;
    public const int S_IRWXO = 0x007, S_IROTH = 0x004, S_IWOTH = 0x002, S_IXOTH = 0x001;
    /// <summary>S_IALLUGO without the type: the bits chmod may set (07777).</summary>
    public const int S_IALLUGO = S_ISUID | S_ISGID | S_ISVTX | S_IRWXU | S_IRWXG | S_IRWXO;
    /// <summary>0777, 0755, 0644, 0600: the modes the scenarios use.</summary>
    public const int S_0777 = S_IRWXU | S_IRWXG | S_IRWXO, S_0755 = S_IRWXU | S_IRGRP | S_IXGRP | S_IROTH | S_IXOTH,
        S_0644 = S_IRUSR | S_IWUSR | S_IRGRP | S_IROTH, S_0600 = S_IRUSR | S_IWUSR;
    public static bool S_ISFIFO(int m) => (m & S_IFMT) == S_IFIFO;
    public static bool S_ISDIR(int m) => (m & S_IFMT) == S_IFDIR;
    public static bool S_ISREG(int m) => (m & S_IFMT) == S_IFREG;
    public static bool S_ISLNK(int m) => (m & S_IFMT) == S_IFLNK;
}

/// <summary>
/// struct inode: i_count (iget/igrab/iput), i_nlink, mode, owner, permission bits, the
/// superblock list entry, i_state, and inotify's inotify_watches / inotify_mutex.
/// </summary>
public sealed class Inode : KObject
{
    public const int I_FREEING = 1 << 4, I_CLEAR = 1 << 5, I_WILL_FREE = 1 << 6;
    public override string TypeName => "struct inode";

    public readonly Atomic i_count;
    public readonly ListHead i_sb_list;
    /// <summary>inode->inotify_watches: the watches on this inode (protected by inotify_mutex).</summary>
    public readonly ListHead inotify_watches;
    /// <summary>inode->inotify_mutex: protects inotify_watches and watch->i_list.</summary>
    public readonly Kernel.Mutex inotify_mutex;
    /// <summary>inode->i_mutex: the VFS's directory / inode mutex.</summary>
    public readonly Kernel.Mutex i_mutex;

    private readonly long _ino;
    private int _i_nlink, _i_mode, _i_uid, _i_gid, _i_state;
    /// <summary>The extended attributes (name -> value length), in name order (deterministic).</summary>
    private readonly SortedDictionary<string, int> _xattrs = new(StringComparer.Ordinal);
    private SuperBlock _i_sb;
    private string? _symlink;
    private long _i_size;
    /// <summary>i_dentry: the alias dentries (no hard links in this model: at most one).</summary>
    private Dentry? _alias;

    public Inode(Kernel.Kernel k, SuperBlock sb, long ino, int mode, int uid, LockClass inotifyMutex, LockClass iMutex) : base(k)
    {
        _i_sb = sb;
        _ino = ino;
        _i_mode = mode;
        _i_uid = uid;
        _i_gid = uid; // every user's primary group has its uid's number
        i_count = new Atomic(this, "i_count", refcount: true, revivable: true);
        i_sb_list = new ListHead(this, "i_sb_list");
        inotify_watches = new ListHead(this, "inotify_watches");
        inotify_mutex = new Kernel.Mutex(this, "inotify_mutex", inotifyMutex);
        i_mutex = new Kernel.Mutex(this, "i_mutex", iMutex);
    }

    public long i_ino { get { Chk(); return _ino; } }
    public int i_nlink { get { Chk(); return _i_nlink; } set { ChkW(); _i_nlink = value; } }
    /// <summary>
    /// inode->i_mode. Written by notify_change's inode_setattr under i_mutex (chmod, fchmod), which rewrites only the
    /// permission bits (S_IALLUGO): the setter checks that the file type bits never change (see <see cref="i_fmt"/>).
    /// </summary>
    public int i_mode
    {
        get { Chk(); return _i_mode; }
        set
        {
            ChkW();
            if (((value ^ _i_mode) & Mode.S_IFMT) != 0)
                throw new InvalidOperationException($"model: {this}'s file type changed (i_mode 0{Convert.ToString(_i_mode, 8)} -> 0{Convert.ToString(value, 8)}): S_IFMT is set once, by new_inode");
            _i_mode = value;
        }
    }

    /// <summary>
    /// <c>inode->i_mode &amp; S_IFMT</c>, the file type: set by new_inode before d_instantiate publishes the inode and
    /// never written again (the <see cref="i_mode"/> setter checks it), so the kernel tests it without a lock
    /// everywhere (S_ISDIR(inode->i_mode) in may_delete, vfs_rename, d_delete, the fsnotify hooks, ...) while chmod
    /// rewrites the other bits under i_mutex. KCSAN's <c>ASSERT_EXCLUSIVE_BITS(inode->i_mode, S_IFMT)</c> with a
    /// <c>data_race()</c> read of those bits: not checked by the data-race detector (KASAN still is).
    /// </summary>
    public int i_fmt { get { ChkAlive("i_mode"); return _i_mode & Mode.S_IFMT; } }

    /// <summary>
    /// <c>READ_ONCE(inode->i_mode)</c> for a permission check (generic_permission, exec_permission_lite): 2.6.17 reads
    /// i_mode, i_uid and i_gid there with no lock at all (the path walk holds only dentry references), so a check
    /// races a concurrent chmod / chown by design and sees the mode before or after it (one load of the word; later
    /// kernels mark it: "we may be racing against setattr ... READ_ONCE(inode->i_mode)", may_lookup). An
    /// intentional lockless read: not checked by the data-race detector.
    /// </summary>
    public int i_mode_once => K.data_race(this, static i => i.i_mode);
    /// <summary><c>READ_ONCE(inode->i_uid)</c> for a permission or ownership check made without i_mutex (see <see cref="i_mode_once"/>).</summary>
    public int i_uid_once => K.data_race(this, static i => i.i_uid);
    public int i_uid { get { Chk(); return _i_uid; } set { ChkW(); _i_uid = value; } }
    public int i_gid { get { Chk(); return _i_gid; } set { ChkW(); _i_gid = value; } }
    public int i_state { get { Chk(); return _i_state; } set { ChkW(); _i_state = value; } }
    public SortedDictionary<string, int> Xattrs { get { Chk(); return _xattrs; } }
    /// <summary>S_DEAD (2.6.17 i_flags): the directory was removed; readdir returns -ENOENT.</summary>
    public bool IsDeadDir { get; set; }
    public SuperBlock i_sb { get { Chk(); return _i_sb; } }
    public string? i_link { get { Chk(); return _symlink; } set { ChkW(); _symlink = value; } }
    public long i_size { get { Chk(); return _i_size; } set { ChkW(); _i_size = value; } }
    /// <summary>
    /// i_size_read(inode) (include/linux/fs.h 2.6.17): the lockless reader of i_size (read, llseek SEEK_END; "for SMP
    /// compiles and 64bit archs" a plain load, a seqcount retry on 32-bit SMP): an intentional lockless read, not
    /// checked by the data-race detector.
    /// </summary>
    public long i_size_read() => K.data_race(this, static i => i.i_size);
    /// <summary>i_size_write(inode, size): "does need locking around it (normally i_mutex)"; checked like any write.</summary>
    public void i_size_write(long size) => i_size = size;
    public Dentry? i_dentry { get { Chk(); return _alias; } set { ChkW(); _alias = value; } }

    public bool IsDir => Mode.S_ISDIR(i_fmt);
    public override string ToString() => $"inode #{_ino}";
}

/// <summary>struct dentry: d_name, d_parent, d_inode, d_lock, d_flags, d_count, children.</summary>
public sealed class Dentry : KObject
{
    /// <summary>DCACHE_INOTIFY_PARENT_WATCHED (include/linux/dcache.h).</summary>
    public const int DCACHE_INOTIFY_PARENT_WATCHED = 0x0020;
    public override string TypeName => "struct dentry";

    public readonly Atomic d_count;
    public readonly Spinlock d_lock;
    private string _d_name;
    private Dentry _d_parent;
    private Inode? _d_inode;
    private int _d_flags;
    private bool _hashed;
    private int _d_mounted;
    /// <summary>d_subdirs: children in creation order (deterministic).</summary>
    private readonly List<Dentry> _d_subdirs = new();

    public Dentry(Kernel.Kernel k, Dentry? parent, string name, LockClass dLock) : base(k)
    {
        _d_name = name;
        _d_parent = parent ?? this;
        d_count = new Atomic(this, "d_count", refcount: true, revivable: true);
        d_lock = new Spinlock(this, "d_lock", dLock);
    }

    public string d_name { get { Chk(); return _d_name; } set { ChkW(); _d_name = value; } }
    public Dentry d_parent { get { Chk(); return _d_parent; } set { ChkW(); _d_parent = value; } }
    public Inode? d_inode { get { Chk(); return _d_inode; } set { ChkW(); _d_inode = value; } }
    public int d_flags { get { Chk(); return _d_flags; } set { ChkW(); _d_flags = value; } }
    public bool d_hashed { get { Chk(); return _hashed; } set { ChkW(); _hashed = value; } }
    public int d_mounted { get { Chk(); return _d_mounted; } set { ChkW(); _d_mounted = value; } }
    /// <summary>
    /// The path walk's read of <c>dentry->d_inode</c> (2.6.17 __link_path_walk: "inode = next.dentry->d_inode; if
    /// (!inode) goto out_dput;"): no lock, a pinned dentry found by the lookup, racing d_instantiate of a negative one
    /// (a create in that directory under its i_mutex, which the walk does not take). The pointer is stored once under
    /// dcache_lock (NULL -> inode; a dentry the walk pins is never made negative: d_delete unhashes it instead), so the
    /// walk sees NULL (ENOENT: the create comes after) or the inode, and then reads the inode it found: a publish /
    /// subscribe pair (d_instantiate publishes after its store, <see cref="Vfs.d_instantiate"/>; later kernels order
    /// it explicitly: __d_set_inode_and_type's smp_wmb against the walk's READ_ONCE / d_seq). An intentional lockless
    /// read, not checked by the data-race detector; a non-NULL result is an acquire of what the store published.
    /// </summary>
    public Inode? d_inode_once()
    {
        var inode = K.data_race(this, static d => d.d_inode);
        if (inode != null) K.Kcsan?.Subscribe(this);
        return inode;
    }
    /// <summary>
    /// d_mountpoint() (include/linux/dcache.h 2.6.17: <c>return dentry->d_mounted;</c>): read without vfsmount_lock
    /// by the path walk (__follow_mount, which lookup_mnt() then rechecks under vfsmount_lock) and by the EBUSY
    /// checks of unlink / rmdir / rename / mount (the kernel holds namespace_sem against mount and umount there, which
    /// the model does not have). An intentional lockless read: annotated for the data-race detector.
    /// </summary>
    public bool d_mountpoint() => K.data_race(this, static d => d.d_mounted) > 0;
    public List<Dentry> d_subdirs { get { Chk(); return _d_subdirs; } }
    public bool IsRoot => ReferenceEquals(_d_parent, this);

    public override string ToString() => $"dentry '{_d_name}'";
}

/// <summary>struct vfsmount.</summary>
public sealed class Vfsmount : KObject
{
    public override string TypeName => "struct vfsmount";
    public readonly Atomic mnt_count;
    private readonly SuperBlock _sb;
    private readonly Dentry _root;
    private readonly Dentry? _mountpoint;
    private readonly Vfsmount? _parent;
    public string Path { get; }

    public Vfsmount(Kernel.Kernel k, SuperBlock sb, Dentry root, Vfsmount? parent, Dentry? mountpoint, string path) : base(k)
    {
        _sb = sb;
        _root = root;
        _parent = parent;
        _mountpoint = mountpoint;
        Path = path;
        mnt_count = new Atomic(this, "mnt_count", refcount: true);
    }

    public SuperBlock mnt_sb { get { Chk(); return _sb; } }
    public Dentry mnt_root { get { Chk(); return _root; } }
    public Dentry? mnt_mountpoint { get { Chk(); return _mountpoint; } }
    public Vfsmount? mnt_parent { get { Chk(); return _parent; } }
}

/// <summary>struct user_struct (kernel/user.c) with the inotify counters.</summary>
public sealed class UserStruct : KObject
{
    public override string TypeName => "struct user_struct";
    public readonly Atomic __count;
    /// <summary>How many inotify watches does this user have?</summary>
    public readonly Atomic inotify_watches;
    /// <summary>How many inotify devs does this user have opened?</summary>
    public readonly Atomic inotify_devs;
    public int Uid { get; }

    public UserStruct(Kernel.Kernel k, int uid) : base(k)
    {
        Uid = uid;
        __count = new Atomic(this, "__count", refcount: true);
        inotify_watches = new Atomic(this, "inotify_watches", refcount: false);
        inotify_devs = new Atomic(this, "inotify_devs", refcount: false);
    }
}

/// <summary>
/// Open-file flags (include/asm-generic/fcntl.h, i386/x86_64 values), the file modes of a
/// struct file, lseek whence values and the ioctl the scripts issue: defined once.
/// </summary>
public static class O
{
    public const int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_ACCMODE = 3;
    public const int O_CREAT = 0x40, O_EXCL = 0x80, O_NOCTTY = 0x100, O_TRUNC = 0x200, O_APPEND = 0x400, O_NONBLOCK = 0x800;
    public const int O_DIRECTORY = 0x10000, O_NOFOLLOW = 0x20000;
    /// <summary>The flags the simulated open() implements; any other bit is refused, never ignored.</summary>
    public const int O_SUPPORTED = O_ACCMODE | O_CREAT | O_EXCL | O_TRUNC | O_APPEND | O_NONBLOCK | O_DIRECTORY | O_NOFOLLOW;
    public const int FMODE_READ = 1, FMODE_WRITE = 2, FMODE_LSEEK = 4, FMODE_PREAD = 8, FMODE_PWRITE = 16;
    public const int SEEK_SET = 0, SEEK_CUR = 1, SEEK_END = 2;
    /// <summary>FIONREAD (include/asm-i386/ioctls.h): bytes queued on the fd.</summary>
    public const uint FIONREAD = 0x541B;
}

/// <summary>struct file_operations: what a struct file dispatches to.</summary>
public abstract class FileOperations
{
    public abstract string Name { get; }
    public virtual long read(File file, int count, out byte[] data) { data = Array.Empty<byte>(); return -Errno.EINVAL; }
    public virtual long write(File file, int count) => -Errno.EINVAL;
    public virtual uint poll(File file) => 0;
    public virtual long ioctl(File file, uint cmd, out int value) { value = 0; return -Errno.ENOTTY; }
    public virtual int release(Inode? inode, File file) => 0;
}

/// <summary>struct file.</summary>
public sealed class File : KObject
{
    public override string TypeName => "struct file";
    public readonly Atomic f_count;
    private FileOperations _f_op;
    private object? _private_data;
    private Dentry? _f_dentry;
    private Vfsmount? _f_vfsmnt;
    private int _f_mode, _f_flags;
    private long _f_pos;

    public File(Kernel.Kernel k, FileOperations fop) : base(k)
    {
        _f_op = fop;
        f_count = new Atomic(this, "f_count", refcount: true);
    }

    public FileOperations f_op { get { Chk(); return _f_op; } set { ChkW(); _f_op = value; } }
    public object? private_data { get { Chk(); return _private_data; } set { ChkW(); _private_data = value; } }
    public Dentry? f_dentry { get { Chk(); return _f_dentry; } set { ChkW(); _f_dentry = value; } }
    public Vfsmount? f_vfsmnt { get { Chk(); return _f_vfsmnt; } set { ChkW(); _f_vfsmnt = value; } }
    public int f_mode { get { Chk(); return _f_mode; } set { ChkW(); _f_mode = value; } }
    public int f_flags { get { Chk(); return _f_flags; } set { ChkW(); _f_flags = value; } }
    /// <summary>file->f_pos: the offset read, write, lseek and getdents use.</summary>
    public long f_pos { get { Chk(); return _f_pos; } set { ChkW(); _f_pos = value; } }
}

/// <summary>A process: credentials and the fd table (files_struct), shared by its threads.</summary>
public sealed class Process
{
    public const int RLIMIT_NOFILE = 1024;
    public int Tgid { get; }
    public string Comm { get; }
    public int Uid { get; }
    public UserStruct User { get; }
    public readonly List<File?> Fds = new();
    /// <summary>fs_struct->pwd / pwdmnt: the working directory (pinned), or null for "/" unpinned (never chdir'd).</summary>
    public Nameidata? Cwd;

    public Process(int tgid, string comm, int uid, UserStruct user)
    {
        Tgid = tgid;
        Comm = comm;
        Uid = uid;
        User = user;
    }
}

/// <summary>struct nameidata: a pinned (dentry, vfsmount) pair from a path walk.</summary>
public struct Nameidata
{
    public Dentry dentry;
    public Vfsmount mnt;
}
