using InotifySim.Model.Kernel;

namespace InotifySim.Model.Vfs;

// The syscalls a 2.6.17 inotify user can trigger beyond create/unlink/rename/chmod: fs/namei.c
// (link, mknod), fs/open.c (truncate, ftruncate, utimes, chown, fchmod, chdir), fs/attr.c
// (notify_change), fs/read_write.c (lseek, pread, pwrite), fs/readdir.c (getdents),
// fs/xattr.c (getxattr, listxattr, removexattr), fs/fcntl.c (dup, dup2). Each names the
// fsnotify hook 2.6.17 calls, or says it calls none.
public sealed partial class Vfs
{
    public const int ATTR_CTIME = 64;

    /// <summary>
    /// notify_change(dentry, attr) (fs/attr.c 2.6.17), called with the inode's i_mutex held (every caller takes it:
    /// chmod, fchmod, chown_common, do_utimes, do_truncate): inode_change_ok (<see cref="inode_change_ok"/>), then
    /// <paramref name="apply"/> as inode_setattr, then "if (!error) fsnotify_change(dentry, ia_valid);" (still under i_mutex).
    /// </summary>
    private int notify_change(Dentry dentry, int ia_valid, Action<Inode> apply, int ia_uid = -1, int ia_gid = -1)
    {
        using var _ = K.Fn("notify_change");
        var inode = dentry.d_inode!;
        int err = inode_change_ok(inode, ia_valid, ia_uid, ia_gid);
        if (err != 0) return err;
        apply(inode);
        Fsnotify.fsnotify_change(this, dentry, ia_valid);
        return 0;
    }

    /// <summary>
    /// inode_change_ok(inode, attr) (fs/attr.c 2.6.17), under i_mutex: only root changes the owner; the owner may set
    /// the group to one of its own (here: its uid's group or the current one); only the owner or root changes the mode.
    /// </summary>
    private int inode_change_ok(Inode inode, int ia_valid, int ia_uid, int ia_gid)
    {
        int cur = K.current.Uid;
        if (cur == 0) return 0;
        bool owner = cur == inode.i_uid;
        if ((ia_valid & Fsnotify.ATTR_UID) != 0 && (!owner || ia_uid != inode.i_uid)) return -Errno.EPERM;
        if ((ia_valid & Fsnotify.ATTR_GID) != 0 && (!owner || (ia_gid != inode.i_gid && ia_gid != cur))) return -Errno.EPERM;
        if ((ia_valid & Fsnotify.ATTR_MODE) != 0 && !owner) return -Errno.EPERM;
        return 0;
    }

    /// <summary>do_truncate(dentry, length, time_attrs) (fs/open.c 2.6.17): ATTR_SIZE | time_attrs under i_mutex.</summary>
    private void do_truncate(Dentry dentry, long length, int time_attrs)
    {
        using var _ = K.Fn("do_truncate");
        var inode = dentry.d_inode!;
        inode.i_mutex.mutex_lock();
        notify_change(dentry, Fsnotify.ATTR_SIZE | time_attrs, i => i.i_size_write(length));
        inode.i_mutex.mutex_unlock();
    }

    /// <summary>sys_truncate -> do_sys_truncate (2.6.17): do_truncate(dentry, length, 0) -> fsnotify_change: IN_MODIFY.</summary>
    public long sys_truncate(string path, long length)
    {
        using var _ = K.Entry("sys_truncate");
        if (length < 0) return -Errno.EINVAL;
        int err = __user_walk(path, LOOKUP_FOLLOW, out var nd);
        if (err != 0) return err;
        var inode = nd.dentry.d_inode!;
        if (inode.IsDir) err = -Errno.EISDIR;
        else if (!Mode.S_ISREG(inode.i_fmt)) err = -Errno.EINVAL;
        else err = vfs_permission(ref nd, MAY_WRITE);
        if (err == 0) do_truncate(nd.dentry, length, 0);
        path_release(ref nd);
        return err;
    }

    /// <summary>
    /// sys_ftruncate -> do_sys_ftruncate (2.6.17): -EINVAL unless a regular file open for
    /// writing; do_truncate(dentry, length, ATTR_MTIME|ATTR_CTIME) -> fsnotify_change: IN_MODIFY.
    /// </summary>
    public long sys_ftruncate(int fd, long length)
    {
        using var _ = K.Entry("sys_ftruncate");
        if (length < 0) return -Errno.EINVAL;
        var f = fget(fd);
        if (f is null) return -Errno.EBADF;
        long err = 0;
        var inode = f.f_dentry?.d_inode;
        if (inode is null || !Mode.S_ISREG(inode.i_fmt) || (f.f_mode & O.FMODE_WRITE) == 0 || f.f_op is not InotifySim.Model.Vfs.RegularFops) err = -Errno.EINVAL;
        else do_truncate(f.f_dentry!, length, Fsnotify.ATTR_MTIME | ATTR_CTIME);
        fput(f);
        return err;
    }

    /// <summary>
    /// sys_utimes(path, NULL) -> do_utimes (2.6.17): times "now", allowed to the owner or to
    /// whoever may write; ATTR_ATIME|ATTR_MTIME|ATTR_CTIME -> fsnotify_change: both times, so IN_ATTRIB.
    /// </summary>
    public long sys_utimes(string path)
    {
        using var _ = K.Entry("sys_utimes");
        int err = __user_walk(path, LOOKUP_FOLLOW, out var nd);
        if (err != 0) return err;
        var inode = nd.dentry.d_inode!;
        // do_utimes (2.6.17) checks before taking i_mutex: "if (current->fsuid != inode->i_uid && (error = vfs_permission(&nd, MAY_WRITE)) != 0)"
        if (K.current.Uid != 0 && K.current.Uid != inode.i_uid_once) err = vfs_permission(ref nd, MAY_WRITE);
        if (err == 0)
        {
            inode.i_mutex.mutex_lock();
            notify_change(nd.dentry, Fsnotify.ATTR_ATIME | Fsnotify.ATTR_MTIME | ATTR_CTIME, _ => { });
            inode.i_mutex.mutex_unlock();
        }
        path_release(ref nd);
        return err;
    }

    public long sys_chown(string path, int uid, int gid) => do_chown("sys_chown", path, LOOKUP_FOLLOW, uid, gid);
    public long sys_lchown(string path, int uid, int gid) => do_chown("sys_lchown", path, 0, uid, gid);

    private long do_chown(string entry, string path, int lookup, int uid, int gid)
    {
        using var _ = K.Entry(entry);
        int err = __user_walk(path, lookup, out var nd);
        if (err != 0) return err;
        err = chown_common(nd.dentry, uid, gid);
        path_release(ref nd);
        return err;
    }

    /// <summary>
    /// chown_common (fs/open.c 2.6.17): ia_valid = ATTR_CTIME, plus ATTR_UID / ATTR_GID for the
    /// ids that are not -1; inode_change_ok: only root changes the owner, the owner may set the
    /// group to its own; notify_change -> fsnotify_change: IN_ATTRIB when an id is given (none
    /// for chown(path, -1, -1), which is ATTR_CTIME alone).
    /// </summary>
    private int chown_common(Dentry dentry, int uid, int gid)
    {
        var inode = dentry.d_inode!;
        int ia_valid = ATTR_CTIME | (uid != -1 ? Fsnotify.ATTR_UID : 0) | (gid != -1 ? Fsnotify.ATTR_GID : 0);
        inode.i_mutex.mutex_lock();
        int err = notify_change(dentry, ia_valid, i =>
        {
            if (uid != -1) i.i_uid = uid;
            if (gid != -1) i.i_gid = gid;
        }, uid, gid);
        inode.i_mutex.mutex_unlock();
        return err;
    }

    /// <summary>sys_fchmod (2.6.17): the owner or root; ATTR_MODE|ATTR_CTIME under i_mutex -> fsnotify_change: IN_ATTRIB.</summary>
    public long sys_fchmod(int fd, int mode)
    {
        using var _ = K.Entry("sys_fchmod");
        var f = fget(fd);
        if (f is null) return -Errno.EBADF;
        long err = 0;
        var dentry = f.f_dentry;
        if (dentry?.d_inode is not { } inode || f.f_op is not InotifySim.Model.Vfs.RegularFops) err = -Errno.EPERM; // an anonymous inotify file: not modelled as an inode
        else
        {
            inode.i_mutex.mutex_lock();
            err = notify_change(dentry, Fsnotify.ATTR_MODE | ATTR_CTIME, i => i.i_mode = (i.i_mode & Mode.S_IFMT) | (mode & Mode.S_IALLUGO));
            inode.i_mutex.mutex_unlock();
        }
        fput(f);
        return err;
    }

    /// <summary>
    /// sys_link -> vfs_link (fs/namei.c 2.6.17): the old name is not followed; -EXDEV across
    /// mounts, -EPERM for a directory, -EEXIST if the new name exists; the new dentry takes an
    /// inode reference; "if (!error) fsnotify_create(dir, new_dentry)": IN_CREATE in the new
    /// directory only. 2.6.17 sends no IN_ATTRIB for the link count (fsnotify_link_count came later).
    /// </summary>
    public long sys_link(string oldpath, string newpath)
    {
        using var _ = K.Entry("sys_link");
        int err = __user_walk(oldpath, 0, out var oldnd);
        if (err != 0) return err;
        err = lookup_parent(newpath, out var nd, out var last);
        if (err != 0) { path_release(ref oldnd); return err; }
        if (!ReferenceEquals(oldnd.mnt, nd.mnt)) err = -Errno.EXDEV;
        else
        {
            var dir = nd.dentry.d_inode!;
            dir.i_mutex.mutex_lock_nested(1);
            var new_dentry = d_lookup(nd.dentry, last);
            if (new_dentry != null && new_dentry.d_inode != null) err = -Errno.EEXIST;
            else
            {
                new_dentry ??= d_alloc(nd.dentry, last);
                err = new_dentry is null ? -Errno.ENOMEM : vfs_link(oldnd.dentry, dir, new_dentry);
            }
            dir.i_mutex.mutex_unlock();
            if (new_dentry != null) dput(new_dentry);
        }
        path_release(ref nd);
        path_release(ref oldnd);
        return err;
    }

    public int vfs_link(Dentry old_dentry, Inode dir, Dentry new_dentry)
    {
        using var _ = K.Fn("vfs_link");
        var inode = old_dentry.d_inode;
        if (inode is null) return -Errno.ENOENT;
        int err = permission(dir, MAY_WRITE | MAY_EXEC); // may_create
        if (err != 0) return err;
        if (!ReferenceEquals(dir.i_sb, inode.i_sb)) return -Errno.EXDEV;
        if (inode.IsDir) return -Errno.EPERM;
        inode.i_mutex.mutex_lock_nested(2);
        // simple_link: inc_nlink, atomic_inc(&inode->i_count), d_instantiate
        inode.i_nlink++;
        inode.i_count.atomic_inc();
        d_instantiate(new_dentry, inode);
        inode.i_mutex.mutex_unlock();
        Fsnotify.fsnotify_create(this, dir, new_dentry);
        return 0;
    }

    /// <summary>
    /// sys_mknod -> vfs_mknod (2.6.17), a FIFO: "if (!error) fsnotify_create(dir, dentry)": IN_CREATE.
    /// </summary>
    public long sys_mknod(string path, int mode)
    {
        using var _ = K.Entry("sys_mknod");
        return create_at(path, (dir, dentry) => vfs_mknod(dir, dentry, Mode.S_IFIFO | (mode & Mode.S_IALLUGO)));
    }

    public int vfs_mknod(Inode dir, Dentry dentry, int mode)
    {
        using var _ = K.Fn("vfs_mknod");
        int err = permission(dir, MAY_WRITE | MAY_EXEC);
        if (err != 0) return err;
        var inode = new_inode(dir.i_sb, mode, K.current.Uid);
        if (inode is null) return -Errno.ENOMEM;
        d_instantiate(dentry, inode);
        Fsnotify.fsnotify_create(this, dir, dentry);
        return 0;
    }

    // ---------------------------------------------------------------- fd table: dup, dup2

    /// <summary>sys_dup (fs/fcntl.c 2.6.17): a new descriptor for the same file (no fsnotify hook).</summary>
    public long sys_dup(int fd)
    {
        using var _ = K.Entry("sys_dup");
        var f = fget(fd);
        if (f is null) return -Errno.EBADF;
        int nfd = get_unused_fd();
        if (nfd < 0) { fput(f); return nfd; }
        fd_install(nfd, f); // fget's reference moves to the new descriptor
        return nfd;
    }

    /// <summary>
    /// sys_dup2 (2.6.17): newfd == oldfd returns it; a file open on newfd is closed first
    /// (filp_close: fsnotify_close when that was its last reference).
    /// </summary>
    public long sys_dup2(int oldfd, int newfd)
    {
        using var _ = K.Entry("sys_dup2");
        var p = CurrentProcess;
        var f = fget(oldfd);
        if (f is null) return -Errno.EBADF;
        if (newfd == oldfd) { fput(f); return newfd; }
        if (newfd < 0 || newfd >= Process.RLIMIT_NOFILE) { fput(f); return -Errno.EBADF; }
        if (_reserved.Contains((p, newfd))) { fput(f); return -Errno.EBUSY; } // "fd is being installed": dup2 returns -EBUSY
        while (p.Fds.Count <= newfd) p.Fds.Add(null);
        var tofree = p.Fds[newfd];
        p.Fds[newfd] = f;
        if (tofree != null) fput(tofree);
        return newfd;
    }

    // ---------------------------------------------------------------- fs/read_write.c

    /// <summary>
    /// sys_lseek -> vfs_llseek (2.6.17): -ESPIPE without FMODE_LSEEK (the inotify file is made
    /// by get_empty_filp with FMODE_READ only); default_llseek otherwise. No fsnotify hook.
    /// </summary>
    public long sys_lseek(int fd, long offset, int whence)
    {
        using var _ = K.Entry("sys_lseek");
        var f = fget(fd);
        if (f is null) return -Errno.EBADF;
        long r;
        if ((f.f_mode & O.FMODE_LSEEK) == 0) r = -Errno.ESPIPE;
        else
        {
            long size = f.f_dentry?.d_inode?.i_size_read() ?? 0; // default_llseek: offset += i_size_read(file->f_dentry->d_inode)
            long pos = whence switch { O.SEEK_SET => offset, O.SEEK_CUR => f.f_pos + offset, O.SEEK_END => size + offset, _ => long.MinValue };
            if (pos == long.MinValue || pos < 0) r = -Errno.EINVAL;
            else r = f.f_pos = pos;
        }
        fput(f);
        return r;
    }

    /// <summary>sys_pread64 (2.6.17): -ESPIPE without FMODE_PREAD; vfs_read at pos (f_pos unchanged): IN_ACCESS when ret &gt; 0.</summary>
    public long sys_pread(int fd, int count, long pos)
    {
        using var _ = K.Entry("sys_pread64");
        if (pos < 0) return -Errno.EINVAL;
        var f = fget(fd);
        if (f is null) return -Errno.EBADF;
        long r = (f.f_mode & O.FMODE_PREAD) == 0 || f.f_op is not InotifySim.Model.Vfs.RegularFops rf ? -Errno.ESPIPE : rf.read_at(f, count, ref pos, out var _data);
        fput(f);
        return r;
    }

    /// <summary>sys_pwrite64 (2.6.17): -ESPIPE without FMODE_PWRITE; vfs_write at pos: IN_MODIFY when ret &gt; 0.</summary>
    public long sys_pwrite(int fd, int count, long pos)
    {
        using var _ = K.Entry("sys_pwrite64");
        if (pos < 0) return -Errno.EINVAL;
        var f = fget(fd);
        if (f is null) return -Errno.EBADF;
        long r = (f.f_mode & O.FMODE_PWRITE) == 0 || f.f_op is not InotifySim.Model.Vfs.RegularFops rf ? -Errno.ESPIPE : rf.write_at(f, count, ref pos);
        fput(f);
        return r;
    }

    // ---------------------------------------------------------------- fs/readdir.c

    /// <summary>
    /// sys_getdents64 -> vfs_readdir (fs/readdir.c 2.6.17): under i_mutex, -ENOENT for a
    /// removed directory (S_DEAD), then f_op->readdir and file_accessed. 2.6.17 calls no
    /// fsnotify hook here: no IN_ACCESS (later kernels send one). Entries are ".", "..", then
    /// the children in creation order, from f_pos on; each record is
    /// ALIGN(offsetof(struct linux_dirent64, d_name) + namelen + 1, 8) bytes. Returns the bytes
    /// filled, 0 at the end, -EINVAL if the first record does not fit.
    /// </summary>
    public long sys_getdents(int fd, int count)
    {
        using var _ = K.Entry("sys_getdents64");
        var f = fget(fd);
        if (f is null) return -Errno.EBADF;
        long r;
        var inode = f.f_dentry?.d_inode;
        if (inode is null || f.f_op is not InotifySim.Model.Vfs.RegularFops || !inode.IsDir) r = -Errno.ENOTDIR; // no f_op->readdir
        else
        {
            inode.i_mutex.mutex_lock();
            if (inode.IsDeadDir) r = -Errno.ENOENT;
            else
            {
                var names = new List<string> { ".", ".." };
                foreach (var c in f.f_dentry!.d_subdirs)
                    if (c.d_hashed && c.d_inode != null) names.Add(c.d_name);
                long filled = 0;
                int i = (int)Math.Min(f.f_pos, names.Count);
                for (; i < names.Count; i++)
                {
                    int reclen = (19 + names[i].Length + 1 + 7) & ~7;
                    if (filled + reclen > count) break;
                    filled += reclen;
                }
                if (filled == 0 && i < names.Count) r = -Errno.EINVAL;
                else { f.f_pos = i; r = filled; }
            }
            inode.i_mutex.mutex_unlock();
        }
        fput(f);
        return r;
    }

    // ---------------------------------------------------------------- fs/xattr.c

    /// <summary>
    /// xattr_permission (fs/xattr.c 2.6.17) for the user.* namespace, the only one modelled:
    /// regular files and directories only (else -EPERM), then permission(inode, mask).
    /// </summary>
    private int xattr_permission(Inode inode, string name, int mask)
    {
        if (!name.StartsWith("user.", StringComparison.Ordinal) || name.Length == 5) return -Errno.EOPNOTSUPP;
        if (!Mode.S_ISREG(inode.i_fmt) && !inode.IsDir) return mask == MAY_WRITE ? -Errno.EPERM : -Errno.ENODATA;
        return permission(inode, mask);
    }

    /// <summary>
    /// sys_setxattr -> vfs_setxattr (2.6.17): under i_mutex, then "if (!error) fsnotify_xattr(dentry)": IN_ATTRIB.
    /// The value is not kept, only its size.
    /// </summary>
    public long sys_setxattr(string path, string name = "user.x", int size = 1)
    {
        using var _ = K.Entry("sys_setxattr");
        int err = __user_walk(path, LOOKUP_FOLLOW, out var nd);
        if (err != 0) return err;
        var inode = nd.dentry.d_inode!;
        err = size < 0 || size > 65536 ? -Errno.ERANGE : xattr_permission(inode, name, MAY_WRITE);
        if (err == 0)
        {
            inode.i_mutex.mutex_lock();
            inode.Xattrs[name] = size;
            inode.i_mutex.mutex_unlock();
            Fsnotify.fsnotify_xattr(this, nd.dentry);
        }
        path_release(ref nd);
        return err;
    }

    /// <summary>sys_getxattr -> vfs_getxattr (2.6.17): the value's size, or -ENODATA. No fsnotify hook (no IN_ACCESS).</summary>
    public long sys_getxattr(string path, string name)
    {
        using var _ = K.Entry("sys_getxattr");
        int err = __user_walk(path, LOOKUP_FOLLOW, out var nd);
        if (err != 0) return err;
        var inode = nd.dentry.d_inode!;
        long r = xattr_permission(inode, name, MAY_READ);
        if (r == 0) r = inode.Xattrs.TryGetValue(name, out int size) ? size : -Errno.ENODATA;
        path_release(ref nd);
        return r;
    }

    /// <summary>sys_listxattr -> vfs_listxattr (2.6.17): the size of the NUL-separated name list. No fsnotify hook.</summary>
    public long sys_listxattr(string path)
    {
        using var _ = K.Entry("sys_listxattr");
        int err = __user_walk(path, LOOKUP_FOLLOW, out var nd);
        if (err != 0) return err;
        long r = 0;
        foreach (var n in nd.dentry.d_inode!.Xattrs.Keys) r += n.Length + 1;
        path_release(ref nd);
        return r;
    }

    /// <summary>
    /// sys_removexattr -> vfs_removexattr (2.6.17): -ENODATA if absent; after i_mutex is
    /// dropped, "if (!error) fsnotify_xattr(dentry)": IN_ATTRIB.
    /// </summary>
    public long sys_removexattr(string path, string name)
    {
        using var _ = K.Entry("sys_removexattr");
        int err = __user_walk(path, LOOKUP_FOLLOW, out var nd);
        if (err != 0) return err;
        var inode = nd.dentry.d_inode!;
        err = xattr_permission(inode, name, MAY_WRITE);
        if (err == 0)
        {
            inode.i_mutex.mutex_lock();
            if (!inode.Xattrs.Remove(name)) err = -Errno.ENODATA;
            inode.i_mutex.mutex_unlock();
            if (err == 0) Fsnotify.fsnotify_xattr(this, nd.dentry);
        }
        path_release(ref nd);
        return err;
    }

    // ---------------------------------------------------------------- chdir

    private readonly List<Process> _cwdHolders = new();

    /// <summary>sys_chdir (fs/open.c 2.6.17): LOOKUP_FOLLOW|LOOKUP_DIRECTORY, MAY_EXEC, set_fs_pwd. No fsnotify hook.</summary>
    public long sys_chdir(string path)
    {
        using var _ = K.Entry("sys_chdir");
        int err = __user_walk(path, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, out var nd);
        if (err != 0) return err;
        err = vfs_permission(ref nd, MAY_EXEC);
        if (err != 0) { path_release(ref nd); return err; }
        var p = CurrentProcess;
        // set_fs_pwd: the new pwd keeps the walk's references; the old one is released
        var old = p.Cwd;
        p.Cwd = nd;
        if (!_cwdHolders.Contains(p)) _cwdHolders.Add(p);
        if (old is { } o) path_release(ref o);
        return 0;
    }
}
