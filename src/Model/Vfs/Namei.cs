using InotifySim.Model.Kernel;

namespace InotifySim.Model.Vfs;

// fs/namei.c (2.6.17), reduced: absolute paths and paths relative to the cwd, ".", "..",
// mount crossing, symlinks (MAX_NESTED_LINKS 8, 40 in all), permission checks.
public sealed partial class Vfs
{
    public const int LOOKUP_FOLLOW = 1, LOOKUP_DIRECTORY = 2;
    public const int MAY_EXEC = 1, MAY_WRITE = 2, MAY_READ = 4;
    private const int MAX_NESTED_LINKS = 8, MAX_TOTAL_LINKS = 40, NAME_MAX = 255;

    /// <summary>
    /// generic_permission(): owner bits for the owner, other bits for the rest; root passes. 2.6.17 takes no lock
    /// here (<c>umode_t mode = inode->i_mode;</c>): the mode and owner are read once each, racing a concurrent chmod /
    /// chown by design (<see cref="Inode.i_mode_once"/>).
    /// </summary>
    public int permission(Inode inode, int mask)
    {
        int uid = K.current.Uid;
        if (uid == 0) return 0;
        int mode = inode.i_mode_once;
        if (uid == inode.i_uid_once) mode >>= 6;
        return (mode & mask & 7) == mask ? 0 : -Errno.EACCES;
    }

    /// <summary>vfs_permission(nd, mask)</summary>
    public int vfs_permission(ref Nameidata nd, int mask) => permission(nd.dentry.d_inode!, mask);

    /// <summary>__user_walk(name, flags, nd): walk a path; on success nd pins the dentry and mount.</summary>
    public int __user_walk(string name, int flags, out Nameidata nd)
    {
        using var _ = K.Fn("__user_walk");
        int total = 0;
        // path_lookup: a relative name starts at current->fs->pwd
        Nameidata? start = name.StartsWith('/') ? null : (K.current.Process as Process)?.Cwd;
        return path_walk(name, flags, out nd, 0, ref total, start);
    }

    /// <summary>path_release(nd): drop the references the walk took.</summary>
    public void path_release(ref Nameidata nd)
    {
        using var _ = K.Fn("path_release");
        dput(nd.dentry);
        mntput(nd.mnt);
    }

    public void mntput(Vfsmount mnt) => mnt.mnt_count.atomic_dec();

    public Vfsmount mntget(Vfsmount mnt)
    {
        mnt.mnt_count.atomic_inc();
        return mnt;
    }

    private static List<string> Split(string path) =>
        path.Split('/', StringSplitOptions.RemoveEmptyEntries).ToList();

    private int path_walk(string name, int flags, out Nameidata nd, int depth, ref int total, Nameidata? start)
    {
        nd = default;
        if (name.Length == 0) return -Errno.ENOENT;
        Nameidata cur;
        if (name[0] == '/' || start is null)
        {
            cur.mnt = mntget(RootMnt);
            cur.dentry = dget(RootMnt.mnt_root);
        }
        else
        {
            cur.mnt = mntget(start.Value.mnt);
            cur.dentry = dget(start.Value.dentry);
        }
        var comps = Split(name);
        bool trailingSlash = name.Length > 1 && name[^1] == '/';
        for (int i = 0; i < comps.Count; i++)
        {
            string comp = comps[i];
            bool last = i == comps.Count - 1;
            var dir = cur.dentry.d_inode_once();
            if (dir is null || !dir.IsDir) { path_release(ref cur); return -Errno.ENOTDIR; }
            int err = permission(dir, MAY_EXEC);
            if (err != 0) { path_release(ref cur); return err; }
            if (comp.Length > NAME_MAX) { path_release(ref cur); return -Errno.ENAMETOOLONG; }
            if (comp == ".") continue;
            if (comp == "..")
            {
                follow_dotdot(ref cur);
                continue;
            }
            var child = d_lookup(cur.dentry, comp);
            if (child is null || child.d_inode_once() is null)
            {
                if (child != null) dput(child);
                path_release(ref cur);
                return -Errno.ENOENT;
            }
            Nameidata next = cur;
            next.dentry = child;
            follow_mount(ref next);
            var inode = next.dentry.d_inode_once()!;
            if (Mode.S_ISLNK(inode.i_fmt) && (!last || (flags & LOOKUP_FOLLOW) != 0 || trailingSlash))
            {
                if (depth >= MAX_NESTED_LINKS || ++total > MAX_TOTAL_LINKS)
                {
                    dput(next.dentry);
                    if (!ReferenceEquals(next.mnt, cur.mnt)) mntput(next.mnt);
                    path_release(ref cur);
                    return -Errno.ELOOP;
                }
                string target = inode.i_link ?? "";
                dput(next.dentry);
                if (!ReferenceEquals(next.mnt, cur.mnt)) mntput(next.mnt);
                int lflags = last ? flags | LOOKUP_FOLLOW : LOOKUP_FOLLOW;
                if (!last) lflags &= ~LOOKUP_DIRECTORY;
                int r = path_walk(target, lflags, out var resolved, depth + 1, ref total, cur);
                path_release(ref cur);
                if (r != 0) return r;
                cur = resolved;
                continue;
            }
            if (!ReferenceEquals(next.mnt, cur.mnt))
            {
                dput(cur.dentry);
                mntput(cur.mnt);
            }
            else
            {
                dput(cur.dentry);
            }
            cur = next;
        }
        if (((flags & LOOKUP_DIRECTORY) != 0 || trailingSlash) && (cur.dentry.d_inode_once() is not { } last_inode || !last_inode.IsDir))
        {
            path_release(ref cur);
            return -Errno.ENOTDIR;
        }
        nd = cur;
        return 0;
    }

    /// <summary>Cross into whatever is mounted on nd.dentry (the mount holds the new references).</summary>
    private void follow_mount(ref Nameidata nd)
    {
        bool hopped = false;
        while (nd.dentry.d_mountpoint())
        {
            // lookup_mnt(): find and pin the child mount under vfsmount_lock
            vfsmount_lock.spin_lock();
            Vfsmount? m = null;
            foreach (var mm in _mounts)
            {
                if (ReferenceEquals(mm.mnt_mountpoint, nd.dentry) && ReferenceEquals(mm.mnt_parent, nd.mnt)) { m = mm; break; }
            }
            if (m != null) m.mnt_count.atomic_inc();
            vfsmount_lock.spin_unlock();
            if (m is null) return;
            var old = nd;
            nd.mnt = m;
            nd.dentry = dget(m.mnt_root);
            dput(old.dentry);
            // the first mount's reference is kept by the caller's cur; an intermediate mount of
            // a stack (mount on a mount's root) was pinned by the previous hop: drop it
            // (2.6.17 __follow_mount: "if (res) mntput(path->mnt);")
            if (hopped) mntput(old.mnt);
            hopped = true;
        }
    }

    private void follow_dotdot(ref Nameidata nd)
    {
        while (true)
        {
            if (ReferenceEquals(nd.dentry, RootMnt.mnt_root) && ReferenceEquals(nd.mnt, RootMnt)) return;
            // follow_dotdot (fs/namei.c 2.6.17): "spin_lock(&dcache_lock); if (nd->dentry != nd->mnt->mnt_root) {
            // nd->dentry = dget(nd->dentry->d_parent); spin_unlock(&dcache_lock); dput(old); break; }": d_move changes
            // d_parent under dcache_lock
            dcache_lock.spin_lock();
            if (!ReferenceEquals(nd.dentry, nd.mnt.mnt_root))
            {
                var old = nd.dentry;
                nd.dentry = dget(nd.dentry.d_parent);
                dcache_lock.spin_unlock();
                dput(old);
                return;
            }
            dcache_lock.spin_unlock();
            var up = nd.mnt.mnt_parent;
            var mp = nd.mnt.mnt_mountpoint;
            if (up is null || mp is null) return;
            var nmnt = mntget(up);
            var nd2 = dget(mp);
            dput(nd.dentry);
            mntput(nd.mnt);
            nd.mnt = nmnt;
            nd.dentry = nd2;
        }
    }

    /// <summary>
    /// lookup_parent: walk to the parent directory of <paramref name="path"/> and return its
    /// last component (for create, unlink, rename, ...).
    /// </summary>
    public int lookup_parent(string path, out Nameidata nd, out string last)
    {
        last = "";
        nd = default;
        var trimmed = path.TrimEnd('/');
        if (trimmed.Length == 0) return path.Length == 0 ? -Errno.ENOENT : -Errno.EBUSY; // "" / "/" itself
        int slash = trimmed.LastIndexOf('/');
        string dirPath = slash < 0 ? "." : slash == 0 ? "/" : trimmed[..slash];
        last = trimmed[(slash + 1)..];
        if (last == "." || last == "..") return -Errno.EINVAL;
        if (last.Length > NAME_MAX) return -Errno.ENAMETOOLONG;
        return __user_walk(dirPath, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, out nd);
    }
}
