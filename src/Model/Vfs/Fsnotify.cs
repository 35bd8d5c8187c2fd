using InotifySim.Model.Kernel;
using static InotifySim.Model.Inotify.IN;

namespace InotifySim.Model.Vfs;

/// <summary>
/// include/linux/fsnotify.h as the seed leaves it (2.6.17-rc1-mm1 plus the patch): the
/// hooks the VFS calls, with the seed's new a_inode argument. dnotify and audit calls are
/// left out (they touch nothing inotify owns).
/// </summary>
public static class Fsnotify
{
    /// <summary>
    /// <c>dentry->d_name.name</c> as the hooks that run without the parent's i_mutex read it for the parent's event
    /// (fsnotify_access, _modify, _open, _close, _xattr, _change). As posted (2.6.17) it is read with no lock, racing
    /// d_move, which rewrites the name under dcache_lock and both d_locks: a rename of the file meanwhile hands the
    /// event a name being overwritten, or one freed with the target dentry (the race of CVE-2017-7533). With
    /// name-snapshot, take_dentry_name_snapshot (Linux 4.13, 49d31c2f "dentry name snapshots"): the name is copied
    /// under dentry->d_lock. (fsnotify_create, _mkdir and _nameremove run under the parent's i_mutex, which every
    /// rename of the entry holds: their name is stable.)
    /// </summary>
    private static string dentry_name(Vfs vfs, Dentry dentry)
    {
        if (!vfs.HasFix(Fix.NameSnapshot)) return dentry.d_name;
        // take_dentry_name_snapshot(&name, dentry)
        dentry.d_lock.spin_lock();
        var name = dentry.d_name;
        dentry.d_lock.spin_unlock();
        return name;
    }

    /// <summary>fsnotify_move - file old_name at old_dir was moved to new_name at new_dir</summary>
    public static void fsnotify_move(Vfs vfs, Inode old_dir, Inode new_dir, string old_name, string new_name,
        bool isdir, Inode? target, Inode? source)
    {
        var ino = vfs.Inotify;
        using var _ = vfs.K.Fn("fsnotify_move");
        uint cookie = ino.inotify_get_cookie();
        uint isdirMask = isdir ? IN_ISDIR : 0;
        ino.inotify_inode_queue_event(old_dir, IN_MOVED_FROM | isdirMask, cookie, old_name, source);
        ino.inotify_inode_queue_event(new_dir, IN_MOVED_TO | isdirMask, cookie, new_name, source);

        if (target != null)
        {
            ino.inotify_inode_queue_event(target, IN_DELETE_SELF, 0, null, null);
            ino.inotify_inode_is_dead(target);
        }

        if (source != null)
        {
            ino.inotify_inode_queue_event(source, IN_MOVE_SELF, 0, null, null);
        }
    }

    /// <summary>fsnotify_nameremove - a filename was removed from a directory</summary>
    public static void fsnotify_nameremove(Vfs vfs, Dentry dentry, bool isdir)
    {
        using var _ = vfs.K.Fn("fsnotify_nameremove");
        uint mask = isdir ? IN_ISDIR : 0;
        vfs.Inotify.inotify_dentry_parent_queue_event(dentry, mask | IN_DELETE, 0, dentry.d_name);
    }

    /// <summary>fsnotify_inoderemove - an inode is going away</summary>
    public static void fsnotify_inoderemove(Vfs vfs, Inode inode)
    {
        using var _ = vfs.K.Fn("fsnotify_inoderemove");
        vfs.Inotify.inotify_inode_queue_event(inode, IN_DELETE_SELF, 0, null, null);
        vfs.Inotify.inotify_inode_is_dead(inode);
    }

    /// <summary>fsnotify_create - 'name' was linked in</summary>
    public static void fsnotify_create(Vfs vfs, Inode inode, Dentry dentry)
    {
        using var _ = vfs.K.Fn("fsnotify_create");
        vfs.Inotify.inotify_inode_queue_event(inode, IN_CREATE, 0, dentry.d_name, dentry.d_inode);
    }

    /// <summary>fsnotify_mkdir - directory 'name' was created</summary>
    public static void fsnotify_mkdir(Vfs vfs, Inode inode, Dentry dentry)
    {
        using var _ = vfs.K.Fn("fsnotify_mkdir");
        vfs.Inotify.inotify_inode_queue_event(inode, IN_CREATE | IN_ISDIR, 0, dentry.d_name, dentry.d_inode);
    }

    /// <summary>fsnotify_access - file was read</summary>
    public static void fsnotify_access(Vfs vfs, Dentry dentry)
    {
        using var _ = vfs.K.Fn("fsnotify_access");
        var inode = dentry.d_inode!;
        uint mask = IN_ACCESS;
        if (Mode.S_ISDIR(inode.i_fmt)) mask |= IN_ISDIR;
        vfs.Inotify.inotify_dentry_parent_queue_event(dentry, mask, 0, dentry_name(vfs, dentry));
        vfs.Inotify.inotify_inode_queue_event(inode, mask, 0, null, null);
    }

    /// <summary>fsnotify_modify - file was modified</summary>
    public static void fsnotify_modify(Vfs vfs, Dentry dentry)
    {
        using var _ = vfs.K.Fn("fsnotify_modify");
        var inode = dentry.d_inode!;
        uint mask = IN_MODIFY;
        if (Mode.S_ISDIR(inode.i_fmt)) mask |= IN_ISDIR;
        vfs.Inotify.inotify_dentry_parent_queue_event(dentry, mask, 0, dentry_name(vfs, dentry));
        vfs.Inotify.inotify_inode_queue_event(inode, mask, 0, null, null);
    }

    /// <summary>fsnotify_open - file was opened</summary>
    public static void fsnotify_open(Vfs vfs, Dentry dentry)
    {
        using var _ = vfs.K.Fn("fsnotify_open");
        var inode = dentry.d_inode!;
        uint mask = IN_OPEN;
        if (Mode.S_ISDIR(inode.i_fmt)) mask |= IN_ISDIR;
        vfs.Inotify.inotify_dentry_parent_queue_event(dentry, mask, 0, dentry_name(vfs, dentry));
        vfs.Inotify.inotify_inode_queue_event(inode, mask, 0, null, null);
    }

    /// <summary>fsnotify_close - file was closed</summary>
    public static void fsnotify_close(Vfs vfs, File file)
    {
        using var _ = vfs.K.Fn("fsnotify_close");
        var dentry = file.f_dentry!;
        var inode = dentry.d_inode!;
        string name = dentry_name(vfs, dentry);
        uint mask = (file.f_mode & O.FMODE_WRITE) != 0 ? IN_CLOSE_WRITE : IN_CLOSE_NOWRITE;
        if (Mode.S_ISDIR(inode.i_fmt)) mask |= IN_ISDIR;
        vfs.Inotify.inotify_dentry_parent_queue_event(dentry, mask, 0, name);
        vfs.Inotify.inotify_inode_queue_event(inode, mask, 0, null, null);
    }

    /// <summary>fsnotify_xattr - extended attributes were changed</summary>
    public static void fsnotify_xattr(Vfs vfs, Dentry dentry)
    {
        using var _ = vfs.K.Fn("fsnotify_xattr");
        var inode = dentry.d_inode!;
        uint mask = IN_ATTRIB;
        if (Mode.S_ISDIR(inode.i_fmt)) mask |= IN_ISDIR;
        vfs.Inotify.inotify_dentry_parent_queue_event(dentry, mask, 0, dentry_name(vfs, dentry));
        vfs.Inotify.inotify_inode_queue_event(inode, mask, 0, null, null);
    }

    public const int ATTR_MODE = 1, ATTR_UID = 2, ATTR_GID = 4, ATTR_SIZE = 8, ATTR_ATIME = 16, ATTR_MTIME = 32;

    /// <summary>fsnotify_change - notify_change event.  file was modified and/or metadata was changed.</summary>
    public static void fsnotify_change(Vfs vfs, Dentry dentry, int ia_valid)
    {
        using var _ = vfs.K.Fn("fsnotify_change");
        var inode = dentry.d_inode!;
        uint in_mask = 0;
        if ((ia_valid & (ATTR_UID | ATTR_GID | ATTR_MODE)) != 0) in_mask |= IN_ATTRIB;
        if ((ia_valid & ATTR_SIZE) != 0) in_mask |= IN_MODIFY;
        if ((ia_valid & (ATTR_ATIME | ATTR_MTIME)) == (ATTR_ATIME | ATTR_MTIME)) in_mask |= IN_ATTRIB;
        else if ((ia_valid & ATTR_ATIME) != 0) in_mask |= IN_ACCESS;
        else if ((ia_valid & ATTR_MTIME) != 0) in_mask |= IN_MODIFY;

        if (in_mask != 0)
        {
            if (Mode.S_ISDIR(inode.i_fmt)) in_mask |= IN_ISDIR;
            vfs.Inotify.inotify_inode_queue_event(inode, in_mask, 0, null, null);
            vfs.Inotify.inotify_dentry_parent_queue_event(dentry, in_mask, 0, dentry_name(vfs, dentry));
        }
    }
}
