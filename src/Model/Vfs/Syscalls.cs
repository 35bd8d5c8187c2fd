using InotifySim.Model.Kernel;

namespace InotifySim.Model.Vfs;

/// <summary>The file_operations of a regular file or directory of the simulated filesystem.</summary>
public sealed class RegularFops : FileOperations
{
    private readonly Vfs _vfs;
    public RegularFops(Vfs vfs) => _vfs = vfs;
    public override string Name => "simplefs_file_operations";

    /// <summary>vfs_read at file->f_pos (which advances).</summary>
    public override long read(File file, int count, out byte[] data)
    {
        long pos = file.f_pos;
        long r = read_at(file, count, ref pos, out data);
        if (r >= 0) file.f_pos = pos;
        return r;
    }

    /// <summary>vfs_write at file->f_pos (O_APPEND: at the end first, in generic_write_checks), which advances.</summary>
    public override long write(File file, int count)
    {
        long pos = file.f_pos;
        long r = write_at(file, count, ref pos, append: (file.f_flags & O.O_APPEND) != 0);
        if (r >= 0) file.f_pos = pos;
        return r;
    }

    /// <summary>
    /// vfs_read(file, buf, count, pos) (fs/read_write.c 2.6.17): the simulated file has no
    /// content, only a size; "if (ret > 0) fsnotify_access(file->f_dentry)".
    /// </summary>
    public long read_at(File file, int count, ref long pos, out byte[] data)
    {
        data = Array.Empty<byte>();
        if ((file.f_mode & O.FMODE_READ) == 0) return -Errno.EBADF;
        var inode = file.f_dentry!.d_inode!;
        if (inode.IsDir) return -Errno.EISDIR;
        long n = Math.Max(0, Math.Min(count, inode.i_size_read() - pos)); // do_generic_mapping_read: isize = i_size_read(inode)
        pos += n;
        if (n > 0) // vfs_read: if (ret > 0) fsnotify_access
            Fsnotify.fsnotify_access(_vfs, file.f_dentry!);
        return n;
    }

    /// <summary>
    /// vfs_write(file, buf, count, pos) (2.6.17): f_op->write is generic_file_write, which runs under the inode's
    /// i_mutex (generic_write_checks: O_APPEND moves pos to i_size; i_size_write when the write extends the file);
    /// then, after i_mutex is dropped, "if (ret > 0) fsnotify_modify(file->f_dentry)".
    /// </summary>
    public long write_at(File file, int count, ref long pos, bool append = false)
    {
        if ((file.f_mode & O.FMODE_WRITE) == 0) return -Errno.EBADF;
        var inode = file.f_dentry!.d_inode!;
        inode.i_mutex.mutex_lock();
        if (append) pos = inode.i_size_read();
        pos += count;
        if (pos > inode.i_size) inode.i_size_write(pos);
        inode.i_mutex.mutex_unlock();
        if (count > 0) // vfs_write: if (ret > 0) fsnotify_modify
            Fsnotify.fsnotify_modify(_vfs, file.f_dentry!);
        return count;
    }
}

// fs/open.c, fs/read_write.c, fs/file_table.c, fs/namei.c, fs/namespace.c, fs/super.c
public sealed partial class Vfs
{
    private RegularFops? _regular;
    public RegularFops RegularFops => _regular ??= new RegularFops(this);

    public Process CurrentProcess => (Process)(K.current.Process ?? throw new InvalidOperationException($"task {K.current.Name} has no process"));

    // ---------------------------------------------------------------- fd table

    /// <summary>get_unused_fd(): the lowest free descriptor, or -EMFILE.</summary>
    public int get_unused_fd()
    {
        var p = CurrentProcess;
        for (int i = 0; i < p.Fds.Count; i++)
        {
            if (p.Fds[i] is null && !_reserved.Contains((p, i))) { _reserved.Add((p, i)); return i; }
        }
        if (p.Fds.Count >= Process.RLIMIT_NOFILE) return -Errno.EMFILE;
        p.Fds.Add(null);
        _reserved.Add((p, p.Fds.Count - 1));
        return p.Fds.Count - 1;
    }

    private readonly HashSet<(Process, int)> _reserved = new();

    public void put_unused_fd(int fd) => _reserved.Remove((CurrentProcess, fd));

    public void fd_install(int fd, File file)
    {
        var p = CurrentProcess;
        _reserved.Remove((p, fd));
        p.Fds[fd] = file;
        K.Kcsan?.Publish(file); // rcu_assign_pointer(fdt->fd[fd], file) under files->file_lock: a release
    }

    /// <summary>get_empty_filp(): a new struct file with f_count 1.</summary>
    public File? get_empty_filp(FileOperations fop)
    {
        using var _ = K.Fn("get_empty_filp");
        var f = K.Slab.kmem_cache_alloc("filp", Gfp.GFP_KERNEL, () => new File(K, fop));
        if (f is null) return null;
        f.f_count.atomic_set(1);
        return f;
    }

    /// <summary>put_filp(): free a file that was never installed.</summary>
    public void put_filp(File f)
    {
        if (f.f_count.atomic_dec_and_test()) K.Slab.kmem_cache_free("filp", f);
    }

    /// <summary>
    /// fget(fd) (2.6.17: fcheck_files under rcu_read_lock, then rcuref_inc_lf): the file with a
    /// reference unless it is already being released (fget_light in a shared files_struct).
    /// </summary>
    public File? fget(int fd)
    {
        var p = CurrentProcess;
        K.Point();
        if (fd < 0 || fd >= p.Fds.Count) return null;
        var f = p.Fds[fd];
        if (f is null) return null;
        K.Kcsan?.Subscribe(f); // fcheck_files: rcu_dereference(fdt->fd[fd]), an acquire
        if (!f.f_count.atomic_inc_not_zero(point: false)) return null;
        return f;
    }

    /// <summary>fput(file): the last reference runs __fput (fsnotify_close, release, dput, mntput).</summary>
    public void fput(File file)
    {
        if (file.f_count.atomic_dec_and_test()) __fput(file);
    }

    private void __fput(File file)
    {
        using var _ = K.Fn("__fput");
        K.might_sleep("__fput");
        var dentry = file.f_dentry;
        var mnt = file.f_vfsmnt;
        if (dentry != null) Fsnotify.fsnotify_close(this, file);
        file.f_op.release(dentry?.d_inode, file);
        K.Slab.kmem_cache_free("filp", file);
        if (dentry != null) dput(dentry);
        if (mnt != null) mntput(mnt);
    }

    // ---------------------------------------------------------------- syscalls

    /// <summary>
    /// sys_open -> do_sys_open -> do_filp_open -> open_namei + may_open (fs/namei.c, fs/open.c
    /// 2.6.17). Implemented flags: O_ACCMODE, O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_NONBLOCK,
    /// O_DIRECTORY, O_NOFOLLOW; any other bit is a model limit and refused (never ignored).
    /// O_TRUNC of an existing regular file runs do_truncate(dentry, 0, ATTR_MTIME|ATTR_CTIME)
    /// in may_open, before do_sys_open's fsnotify_open: IN_MODIFY comes before IN_OPEN. A file
    /// the call created is not truncated (open_namei: "flag &amp;= ~O_TRUNC").
    /// </summary>
    public long sys_open(string path, int flags, int mode = Mode.S_0644)
    {
        using var _ = K.Entry("sys_open");
        if ((flags & ~O.O_SUPPORTED) != 0 || (flags & O.O_ACCMODE) == O.O_ACCMODE)
            throw new NotSupportedException($"open flags 0x{flags:x}: the simulated open() implements only O_ACCMODE (not 3), O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_NONBLOCK, O_DIRECTORY, O_NOFOLLOW");
        int fd = get_unused_fd();
        if (fd < 0) return fd;
        Nameidata nd;
        int lookup = ((flags & O.O_NOFOLLOW) != 0 ? 0 : LOOKUP_FOLLOW) | ((flags & O.O_DIRECTORY) != 0 ? LOOKUP_DIRECTORY : 0);
        int err = __user_walk(path, lookup, out nd);
        bool created = false;
        if (err == -Errno.ENOENT && (flags & O.O_CREAT) != 0)
        {
            err = do_create(path, Mode.S_IFREG | (mode & Mode.S_IALLUGO & ~Mode.S_IFMT), out nd, out created);
        }
        else if (err == 0 && (flags & O.O_CREAT) != 0 && (flags & O.O_EXCL) != 0)
        {
            path_release(ref nd);
            err = -Errno.EEXIST;
        }
        if (err != 0) { put_unused_fd(fd); return err; }
        var inode = nd.dentry.d_inode!;
        // O_NOFOLLOW on a symlink (open_namei: "if (flag & O_NOFOLLOW) goto exit" -> -ELOOP)
        if (Mode.S_ISLNK(inode.i_fmt)) { path_release(ref nd); put_unused_fd(fd); return -Errno.ELOOP; }
        int acc = flags & O.O_ACCMODE;
        int fmode = acc == O.O_RDONLY ? O.FMODE_READ : acc == O.O_WRONLY ? O.FMODE_WRITE : O.FMODE_READ | O.FMODE_WRITE;
        bool trunc = (flags & O.O_TRUNC) != 0 && !created;
        // may_open(): a directory cannot be opened for writing or truncated
        if (inode.IsDir && ((fmode & O.FMODE_WRITE) != 0 || trunc)) { path_release(ref nd); put_unused_fd(fd); return -Errno.EISDIR; }
        int need = ((fmode & O.FMODE_READ) != 0 ? MAY_READ : 0) | ((fmode & O.FMODE_WRITE) != 0 || trunc ? MAY_WRITE : 0);
        err = created ? 0 : permission(inode, need); // a file this call created is not checked again
        if (err != 0) { path_release(ref nd); put_unused_fd(fd); return err; }
        if (Mode.S_ISFIFO(inode.i_fmt) && !(acc == O.O_RDONLY && (flags & O.O_NONBLOCK) != 0))
        {
            // fifo_open: only a non-blocking reader is modelled (a writer with no reader is
            // -ENXIO in Linux too; a blocking open would sleep for a partner: not modelled)
            path_release(ref nd); put_unused_fd(fd); return -Errno.ENXIO;
        }
        if (trunc && Mode.S_ISREG(inode.i_fmt))
        {
            // may_open: do_truncate(dentry, 0, ATTR_MTIME|ATTR_CTIME, NULL) -> notify_change -> fsnotify_change
            do_truncate(nd.dentry, 0, Fsnotify.ATTR_MTIME | ATTR_CTIME);
        }
        var f = get_empty_filp(RegularFops);
        if (f is null) { path_release(ref nd); put_unused_fd(fd); return -Errno.ENFILE; }
        f.f_dentry = nd.dentry; // the walk's references move to the file
        f.f_vfsmnt = nd.mnt;
        f.f_mode = fmode | O.FMODE_LSEEK | O.FMODE_PREAD | O.FMODE_PWRITE; // __dentry_open
        f.f_flags = flags & ~(O.O_CREAT | O.O_EXCL | O.O_TRUNC | O.O_NOCTTY);
        f.f_pos = 0;
        Fsnotify.fsnotify_open(this, nd.dentry);
        fd_install(fd, f);
        return fd;
    }

    /// <summary>open(O_CREAT) of a missing file: vfs_create under the parent's i_mutex.</summary>
    private int do_create(string path, int mode, out Nameidata nd, out bool created)
    {
        nd = default;
        created = false;
        int err = lookup_parent(path, out var parent, out var last);
        if (err != 0) return err;
        var dir = parent.dentry.d_inode!;
        dir.i_mutex.mutex_lock_nested(1);
        var dentry = d_lookup(parent.dentry, last);
        if (dentry != null && dentry.d_inode != null)
        {
            // raced with another create: open what is there
            dir.i_mutex.mutex_unlock();
            nd.dentry = dentry;
            nd.mnt = mntget(parent.mnt);
            path_release(ref parent);
            return 0;
        }
        if (dentry is null) dentry = d_alloc(parent.dentry, last);
        if (dentry is null) { dir.i_mutex.mutex_unlock(); path_release(ref parent); return -Errno.ENOMEM; }
        err = vfs_create(dir, dentry, mode);
        dir.i_mutex.mutex_unlock();
        if (err != 0) { dput(dentry); path_release(ref parent); return err; }
        created = true;
        nd.dentry = dentry;
        nd.mnt = mntget(parent.mnt);
        path_release(ref parent);
        return 0;
    }

    /// <summary>vfs_create(dir, dentry, mode)</summary>
    public int vfs_create(Inode dir, Dentry dentry, int mode)
    {
        using var _ = K.Fn("vfs_create");
        int err = permission(dir, MAY_WRITE | MAY_EXEC);
        if (err != 0) return err;
        var inode = new_inode(dir.i_sb, mode, K.current.Uid);
        if (inode is null) return -Errno.ENOMEM;
        d_instantiate(dentry, inode);
        Fsnotify.fsnotify_create(this, dir, dentry);
        return 0;
    }

    public long sys_close(int fd)
    {
        using var _ = K.Entry("sys_close");
        var p = CurrentProcess;
        K.Point();
        if (fd < 0 || fd >= p.Fds.Count || p.Fds[fd] is null) return -Errno.EBADF;
        var f = p.Fds[fd]!;
        K.Kcsan?.Subscribe(f); // under files->file_lock: ordered after fd_install
        p.Fds[fd] = null;
        fput(f);
        return 0;
    }

    public long sys_read(int fd, int count, out byte[] data)
    {
        using var _ = K.Entry("sys_read");
        data = Array.Empty<byte>();
        var f = fget(fd);
        if (f is null) return -Errno.EBADF;
        // vfs_read: "if (!(file->f_mode & FMODE_READ)) return -EBADF;"
        long r = (f.f_mode & O.FMODE_READ) == 0 ? -Errno.EBADF : f.f_op.read(f, count, out data);
        fput(f);
        return r;
    }

    public long sys_write(int fd, int count)
    {
        using var _ = K.Entry("sys_write");
        var f = fget(fd);
        if (f is null) return -Errno.EBADF;
        // vfs_write: "if (!(file->f_mode & FMODE_WRITE)) return -EBADF;" (an inotify fd is FMODE_READ only)
        long r = (f.f_mode & O.FMODE_WRITE) == 0 ? -Errno.EBADF : f.f_op.write(f, count);
        fput(f);
        return r;
    }

    public long sys_ioctl(int fd, uint cmd, out int value)
    {
        using var _ = K.Entry("sys_ioctl");
        value = 0;
        var f = fget(fd);
        if (f is null) return -Errno.EBADF;
        long r = f.f_op.ioctl(f, cmd, out value);
        fput(f);
        return r;
    }

    public long sys_poll(int fd, out uint revents)
    {
        using var _ = K.Entry("sys_poll");
        revents = 0;
        var f = fget(fd);
        if (f is null) return -Errno.EBADF;
        revents = f.f_op.poll(f);
        fput(f);
        return revents != 0 ? 1 : 0;
    }

    public long sys_mkdir(string path, int mode = Mode.S_0755)
    {
        using var _ = K.Entry("sys_mkdir");
        return create_at(path, (dir, dentry) => vfs_mkdir(dir, dentry, mode));
    }

    /// <summary>
    /// lookup_create() and the common tail of mkdir/symlink: walk to the parent, take its i_mutex,
    /// find or allocate the dentry, -EEXIST if it is positive, else run <paramref name="vfs_op"/>.
    /// </summary>
    private int create_at(string path, Func<Inode, Dentry, int> vfs_op)
    {
        int err = lookup_parent(path, out var parent, out var last);
        if (err != 0) return err;
        var dir = parent.dentry.d_inode!;
        dir.i_mutex.mutex_lock_nested(1);
        var dentry = d_lookup(parent.dentry, last);
        if (dentry != null && dentry.d_inode != null) err = -Errno.EEXIST;
        else
        {
            dentry ??= d_alloc(parent.dentry, last);
            if (dentry is null) err = -Errno.ENOMEM;
            else err = vfs_op(dir, dentry);
        }
        dir.i_mutex.mutex_unlock();
        if (dentry != null) dput(dentry);
        path_release(ref parent);
        return err;
    }

    public int vfs_mkdir(Inode dir, Dentry dentry, int mode)
    {
        using var _ = K.Fn("vfs_mkdir");
        int err = permission(dir, MAY_WRITE | MAY_EXEC);
        if (err != 0) return err;
        var inode = new_inode(dir.i_sb, Mode.S_IFDIR | (mode & Mode.S_IALLUGO), K.current.Uid);
        if (inode is null) return -Errno.ENOMEM;
        inode.i_nlink = 2;
        dir.i_nlink++;
        d_instantiate(dentry, inode);
        Fsnotify.fsnotify_mkdir(this, dir, dentry);
        return 0;
    }

    public long sys_symlink(string target, string path)
    {
        using var _ = K.Entry("sys_symlink");
        return create_at(path, (dir, dentry) => vfs_symlink(dir, dentry, target));
    }

    public int vfs_symlink(Inode dir, Dentry dentry, string target)
    {
        using var _ = K.Fn("vfs_symlink");
        int err = permission(dir, MAY_WRITE | MAY_EXEC);
        if (err != 0) return err;
        var inode = new_inode(dir.i_sb, Mode.S_IFLNK | Mode.S_0777, K.current.Uid);
        if (inode is null) return -Errno.ENOMEM;
        inode.i_link = target;
        d_instantiate(dentry, inode);
        Fsnotify.fsnotify_create(this, dir, dentry);
        return 0;
    }

    public long sys_unlink(string path) => do_unlink(path, rmdir: false);
    public long sys_rmdir(string path) => do_unlink(path, rmdir: true);

    private long do_unlink(string path, bool rmdir)
    {
        using var _ = K.Entry(rmdir ? "sys_rmdir" : "sys_unlink");
        int err = lookup_parent(path, out var parent, out var last);
        if (err != 0) return err;
        var dir = parent.dentry.d_inode!;
        dir.i_mutex.mutex_lock_nested(1);
        var dentry = d_lookup(parent.dentry, last);
        if (dentry is null || dentry.d_inode is null) err = -Errno.ENOENT;
        else err = rmdir ? vfs_rmdir(dir, dentry) : vfs_unlink(dir, dentry);
        dir.i_mutex.mutex_unlock();
        if (dentry != null) dput(dentry);
        path_release(ref parent);
        return err;
    }

    public int vfs_unlink(Inode dir, Dentry dentry)
    {
        using var _ = K.Fn("vfs_unlink");
        int err = permission(dir, MAY_WRITE | MAY_EXEC);
        if (err != 0) return err;
        var inode = dentry.d_inode!;
        if (inode.IsDir) return -Errno.EISDIR;
        if (dentry.d_mountpoint()) return -Errno.EBUSY;
        inode.i_mutex.mutex_lock_nested(2);
        inode.i_nlink--;
        inode.i_mutex.mutex_unlock();
        d_delete(dentry);
        return 0;
    }

    public int vfs_rmdir(Inode dir, Dentry dentry)
    {
        using var _ = K.Fn("vfs_rmdir");
        int err = permission(dir, MAY_WRITE | MAY_EXEC);
        if (err != 0) return err;
        var inode = dentry.d_inode!;
        if (!inode.IsDir) return -Errno.ENOTDIR;
        if (dentry.IsRoot || dentry.d_mountpoint()) return -Errno.EBUSY;
        inode.i_mutex.mutex_lock_nested(2);
        foreach (var c in dentry.d_subdirs)
        {
            if (c.d_inode != null && c.d_hashed) { inode.i_mutex.mutex_unlock(); return -Errno.ENOTEMPTY; }
        }
        // dentry_unhash (after the emptiness check here: the simulated fs has no backing
        // store, so pruning a positive child would lose it)
        dentry_unhash(dentry);
        inode.i_nlink = 0;
        inode.IsDeadDir = true; // vfs_rmdir: "dentry->d_inode->i_flags |= S_DEAD"
        dir.i_nlink--;
        inode.i_mutex.mutex_unlock();
        d_delete(dentry);
        dput(dentry); // dentry_unhash's reference: IN_DELETE_SELF comes at the final dput
        return 0;
    }

    /// <summary>
    /// dentry_unhash() (fs/namei.c): take a reference, prune the unused (negative) children,
    /// and unhash the dentry if nobody else uses it.
    /// </summary>
    private void dentry_unhash(Dentry dentry)
    {
        using var _ = K.Fn("dentry_unhash");
        dget(dentry);
        shrink_dcache_parent(dentry);
        dcache_lock.spin_lock();
        dentry.d_lock.spin_lock();
        if (dentry.d_count.atomic_read() == 2)
            __d_drop(dentry);
        dentry.d_lock.spin_unlock();
        dcache_lock.spin_unlock();
    }

    public long sys_rename(string oldpath, string newpath)
    {
        using var _ = K.Entry("sys_rename");
        int err = lookup_parent(oldpath, out var oldnd, out var oldlast);
        if (err != 0) return err;
        err = lookup_parent(newpath, out var newnd, out var newlast);
        if (err != 0) { path_release(ref oldnd); return err; }
        if (!ReferenceEquals(oldnd.mnt, newnd.mnt)) { path_release(ref oldnd); path_release(ref newnd); return -Errno.EXDEV; }
        var olddir = oldnd.dentry.d_inode!;
        var newdir = newnd.dentry.d_inode!;
        // lock_rename()
        var sb = olddir.i_sb;
        sb.s_vfs_rename_mutex.mutex_lock();
        olddir.i_mutex.mutex_lock_nested(1);
        if (!ReferenceEquals(olddir, newdir)) newdir.i_mutex.mutex_lock_nested(2);
        var old_dentry = d_lookup(oldnd.dentry, oldlast);
        Dentry? new_dentry = null;
        if (old_dentry is null || old_dentry.d_inode is null) err = -Errno.ENOENT;
        else
        {
            new_dentry = d_lookup(newnd.dentry, newlast) ?? d_alloc(newnd.dentry, newlast);
            if (new_dentry is null) err = -Errno.ENOMEM;
            else if (ReferenceEquals(old_dentry, new_dentry)) err = 0;
            else if (IsAncestor(old_dentry, newnd.dentry)) err = -Errno.EINVAL; /* source should not be ancestor of target */
            else if (IsAncestor(new_dentry, oldnd.dentry)) err = -Errno.ENOTEMPTY; /* target should not be an ancestor of source */
            else err = vfs_rename(olddir, old_dentry, newdir, new_dentry);
        }
        // unlock_rename()
        if (!ReferenceEquals(olddir, newdir)) newdir.i_mutex.mutex_unlock();
        olddir.i_mutex.mutex_unlock();
        sb.s_vfs_rename_mutex.mutex_unlock();
        if (new_dentry != null) dput(new_dentry);
        if (old_dentry != null) dput(old_dentry);
        path_release(ref newnd);
        path_release(ref oldnd);
        return err;
    }

    private static bool IsAncestor(Dentry a, Dentry d)
    {
        for (var x = d; ; x = x.d_parent)
        {
            if (ReferenceEquals(x, a)) return true;
            if (x.IsRoot) return false;
        }
    }

    /// <summary>vfs_rename(): vfs_rename_dir / vfs_rename_other, then fsnotify_move.</summary>
    public int vfs_rename(Inode old_dir, Dentry old_dentry, Inode new_dir, Dentry new_dentry)
    {
        using var _ = K.Fn("vfs_rename");
        int err = permission(old_dir, MAY_WRITE | MAY_EXEC);
        if (err == 0) err = permission(new_dir, MAY_WRITE | MAY_EXEC);
        if (err != 0) return err;
        var source = old_dentry.d_inode!;
        var target = new_dentry.d_inode;
        bool isdir = source.IsDir;
        if (target != null)
        {
            if (isdir && !target.IsDir) return -Errno.ENOTDIR;
            if (!isdir && target.IsDir) return -Errno.EISDIR;
            if (target.IsDir)
            {
                foreach (var c in new_dentry.d_subdirs)
                    if (c.d_inode != null && c.d_hashed) return -Errno.ENOTEMPTY;
            }
        }
        // vfs_rename_dir / vfs_rename_other: "if (d_mountpoint(old_dentry)||d_mountpoint(new_dentry)) error = -EBUSY;"
        if (new_dentry.d_mountpoint() || old_dentry.d_mountpoint()) return -Errno.EBUSY;
        string old_name = old_dentry.d_name; // fsnotify_oldname_init
        if (target != null)
        {
            target.i_mutex.mutex_lock_nested(3);
            target.i_nlink = target.IsDir ? 0 : target.i_nlink - 1;
            target.i_mutex.mutex_unlock();
            if (target.IsDir) new_dir.i_nlink--;
        }
        if (isdir && !ReferenceEquals(old_dir, new_dir))
        {
            old_dir.i_nlink--;
            new_dir.i_nlink++;
        }
        d_move(old_dentry, new_dentry);
        Fsnotify.fsnotify_move(this, old_dir, new_dir, old_name, old_dentry.d_name, isdir, target, source);
        return 0;
    }

    public long sys_chmod(string path, int mode)
    {
        using var _ = K.Entry("sys_chmod");
        int err = __user_walk(path, LOOKUP_FOLLOW, out var nd);
        if (err != 0) return err;
        var inode = nd.dentry.d_inode!;
        // sys_chmod (fs/open.c 2.6.17): mutex_lock(&inode->i_mutex); ... notify_change(); mutex_unlock(&inode->i_mutex);
        // the owner check (inode_change_ok), the new mode and fsnotify_change all run under i_mutex
        inode.i_mutex.mutex_lock();
        err = notify_change(nd.dentry, Fsnotify.ATTR_MODE | ATTR_CTIME, i => i.i_mode = (i.i_mode & Mode.S_IFMT) | (mode & Mode.S_IALLUGO));
        inode.i_mutex.mutex_unlock();
        path_release(ref nd);
        return err;
    }

    // ---------------------------------------------------------------- mount / umount

    /// <summary>mount a new empty filesystem on the directory <paramref name="path"/>.</summary>
    public long sys_mount(string path)
    {
        using var _ = K.Entry("sys_mount");
        if (K.current.Uid != 0) return -Errno.EPERM;
        int err = __user_walk(path, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, out var nd);
        if (err != 0) return err;
        if (nd.dentry.d_mountpoint()) { path_release(ref nd); return -Errno.EBUSY; }
        var sb = alloc_super("simplefs");
        var root = d_alloc_root(sb, Mode.S_IFDIR | 0x1ff, 0);
        var mnt = K.Slab.alloc_nofail("mnt_cache", () => new Vfsmount(K, sb, root, nd.mnt, nd.dentry, path));
        mnt.mnt_count.atomic_set(1);
        vfsmount_lock.spin_lock();
        nd.dentry.d_mounted++;
        // the mount keeps the walk's references to its mountpoint and parent mount
        _mounts.Add(mnt);
        vfsmount_lock.spin_unlock();
        return 0;
    }

    /// <summary>
    /// umount(path): -EBUSY while anything but the mount tree and this walk holds the mount;
    /// then generic_shutdown_super: shrink the dcache, clear MS_ACTIVE, invalidate_inodes
    /// (which runs inotify_unmount_inodes), "busy inodes after unmount", free the superblock.
    /// The walk ends on the topmost of stacked mounts, which is the one unmounted.
    /// </summary>
    public long sys_umount(string path)
    {
        using var _ = K.Entry("sys_umount");
        if (K.current.Uid != 0) return -Errno.EPERM;
        int err = __user_walk(path, LOOKUP_FOLLOW, out var nd);
        if (err != 0) return err;
        var mnt = nd.mnt;
        if (!ReferenceEquals(nd.dentry, mnt.mnt_root) || ReferenceEquals(mnt, RootMnt)) { path_release(ref nd); return -Errno.EINVAL; }
        return do_umount(mnt, () => path_release(ref nd), walkRefs: 1);
    }

    /// <summary>
    /// do_umount (fs/namespace.c 2.6.17): under vfsmount_lock, busy unless only the mount tree
    /// (one reference) and the caller's <paramref name="walkRefs"/> hold it, or a mount sits on
    /// it; otherwise detach it from the tree; then <paramref name="release"/> drops the
    /// caller's references and the mount is killed.
    /// </summary>
    private long do_umount(Vfsmount mnt, Action release, int walkRefs)
    {
        vfsmount_lock.spin_lock();
        bool busy = mnt.mnt_count.atomic_read() > 1 + walkRefs;
        foreach (var child in _mounts)
        {
            if (ReferenceEquals(child.mnt_parent, mnt)) busy = true;
        }
        var mp = mnt.mnt_mountpoint!;
        var parent = mnt.mnt_parent!;
        if (!busy)
        {
            _mounts.Remove(mnt);
            mp.d_mounted--;
        }
        vfsmount_lock.spin_unlock();
        release();
        if (busy) return -Errno.EBUSY;
        kill_mount(mnt);
        dput(mp);
        mntput(parent);
        return 0;
    }

    private void kill_mount(Vfsmount mnt)
    {
        using var _ = K.Fn("mntput_no_expire");
        var sb = mnt.mnt_sb;
        mnt.mnt_count.atomic_dec();
        K.Slab.kmem_cache_free("mnt_cache", mnt);
        deactivate_super(sb);
    }

    /// <summary>
    /// deactivate_super(s): drop an active reference; the last one shuts the superblock down
    /// under s_umount (held for writing) and drops the S_BIAS passive reference.
    /// </summary>
    public void deactivate_super(SuperBlock s)
    {
        using var _ = K.Fn("deactivate_super");
        // atomic_dec_and_lock(&s->s_active, &sb_lock)
        sb_lock.spin_lock();
        if (s.s_active.atomic_dec_and_test())
        {
            s.s_count -= SuperBlock.S_BIAS - 1;
            sb_lock.spin_unlock();
            s.s_umount.down_write();
            generic_shutdown_super(s); // fs->kill_sb(s)
            s.s_umount.up_write();
            put_super(s);
            return;
        }
        sb_lock.spin_unlock();
    }

    /// <summary>put_super(sb): drop a passive reference; the last one frees the superblock.</summary>
    public void put_super(SuperBlock sb)
    {
        using var _ = K.Fn("put_super");
        sb_lock.spin_lock();
        bool last = --sb.s_count == 0;
        sb_lock.spin_unlock();
        if (last) K.Slab.kmem_cache_free("super_block", sb);
    }

    /// <summary>drop_super(sb): up_read(&amp;sb->s_umount) and put_super.</summary>
    public void drop_super(SuperBlock sb)
    {
        using var _ = K.Fn("drop_super");
        sb.s_umount.up_read();
        put_super(sb);
    }

    private void generic_shutdown_super(SuperBlock sb)
    {
        using var _ = K.Fn("generic_shutdown_super");
        var root = sb.s_root;
        if (root != null)
        {
            sb.s_root = null;
            shrink_dcache_parent(root);
            // dput(root): the root dentry is killed with the superblock
            dcache_lock.spin_lock();
            dentry_iput(root);
            K.Slab.kmem_cache_free("dentry_cache", root);
            sb.s_flags &= ~SuperBlock.MS_ACTIVE;
            // bad name - it should be evict_inodes()
            invalidate_inodes(sb);
            // Forget any remaining inodes
            if (invalidate_inodes(sb) != 0)
            {
                var busy = new List<string>();
                var fns = new List<string> { "generic_shutdown_super" };
                for (ListHead p = sb.s_inodes.Next("generic_shutdown_super"); p != sb.s_inodes; p = p.Next("generic_shutdown_super"))
                {
                    var inode = p.list_entry<Inode>("i_sb_list");
                    busy.Add($"{inode.Describe} ino {inode.i_ino} i_count {inode.i_count.Peek}");
                }
                var threads = new List<string> { K.current.Name };
                var inflight = new System.Text.StringBuilder();
                foreach (var t in K.Tasks)
                {
                    if (t == K.current) continue;
                    var st = t.Stack();
                    if (st.Length == 0) continue;
                    threads.Add(t.Name);
                    inflight.Append($"  task {t.Name} is in {string.Join(" <- ", st)}\n");
                    foreach (var f in st) if (f.StartsWith("inotify_", StringComparison.Ordinal)) { fns.Add(f); break; }
                }
                K.Bug(new BugReport(BugClass.BusyInodes, $"VFS: Busy inodes after unmount of {sb.s_id}. Self-destruct in 5 seconds.  Have a nice day...")
                {
                    Functions = fns,
                    Threads = threads,
                    Objects = busy,
                    Body = $"VFS: Busy inodes after unmount of {sb.s_id}.\nStill referenced:\n  " + string.Join("\n  ", busy) + "\n" +
                    (inflight.Length > 0 ? "In flight when the superblock was shut down:\n" + inflight : ""),
                });
            }
        }
    }

    /// <summary>
    /// Teardown: every process leaves its working directory (exit_fs), then everything but the
    /// root is unmounted, newest first, by the mount itself (a mount on "/" is not reachable by
    /// a path walk, as in Linux), then the root superblock is shut down.
    /// </summary>
    public void umount_all()
    {
        using var _ = K.Fn("umount_all");
        foreach (var p in _cwdHolders)
        {
            if (p.Cwd is { } cwd) { var nd = cwd; p.Cwd = null; path_release(ref nd); }
        }
        _cwdHolders.Clear();
        for (int i = _mounts.Count - 1; i >= 0; i--)
        {
            if (i >= _mounts.Count) continue;
            var m = _mounts[i];
            if (ReferenceEquals(m, RootMnt)) continue;
            long r = do_umount(m, () => { }, walkRefs: 0);
            if (r != 0)
                K.Bug(new BugReport(BugClass.Leak, $"umount of {m.Path} at teardown failed with {Errno.Ret(r)}: a reference to the mount was leaked")
                {
                    Functions = new[] { "sys_umount" },
                    Threads = new[] { K.current.Name },
                    Objects = new[] { m.Path },
                    Body = $"mnt_count {m.mnt_count.Peek}\n",
                });
        }
        _mounts.Remove(RootMnt);
        if (RootMnt.mnt_count.Peek != 1)
            K.Bug(new BugReport(BugClass.Leak, $"root mount still referenced at teardown (mnt_count {RootMnt.mnt_count.Peek})")
            {
                Functions = new[] { "umount_all" },
                Threads = new[] { K.current.Name },
                Objects = new[] { "/" },
                Body = "a path reference (nameidata or file) was leaked\n",
            });
        kill_mount(RootMnt);
    }
}
