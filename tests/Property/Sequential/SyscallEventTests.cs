using static InotifySim.Model.Vfs.O;
using InotifySim.Model;
using InotifySim.Model.Kernel;
using InotifySim.Model.Vfs;
using InotifySim.Scenarios.Scripts;
using static InotifySim.Model.Inotify.IN;
using static InotifySim.Tests.Property.Sequential.Seq;

namespace InotifySim.Tests.Property.Sequential;

/// <summary>
/// The events (and errors) of the syscalls issue 15 added, on the fixed variant, as 2.6.17
/// sends them: each test names the hook the 2.6.17 code calls.
/// </summary>
public class SyscallEventTests
{
    /// <summary>Runs <paramref name="body"/> as a process of <paramref name="uid"/> on a fresh fixed machine, then the teardown.</summary>
    private static void On(int uid, Action<Machine> body)
    {
        var m = NewMachine();
        var t = m.NewProcess("p", uid);
        m.As(t, () => body(m));
        m.Teardown();
    }

    [Fact]
    public void Link_CreateInTheNewDirectoryOnly_NoAttribForTheLinkCount()
    {
        // vfs_link: fsnotify_create(dir, new_dentry); no fsnotify_link_count in 2.6.17
        On(1000, m =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            Ok(m.Vfs.sys_mkdir("/e"));
            Touch(m, "/d/f");
            int fd = Ok(m.inotify_init());
            int wd = Ok(m.inotify_add_watch(fd, "/d", IN_ALL_EVENTS));
            int we = Ok(m.inotify_add_watch(fd, "/e", IN_ALL_EVENTS));
            int wf = Ok(m.inotify_add_watch(fd, "/d/f", IN_ALL_EVENTS));
            Assert.Equal(0, m.Vfs.sys_link("/d/f", "/e/g"));
            Assert.Equal(new[] { $"{we} IN_CREATE g" }, DrainShow(m, fd));
            // one name goes: the inode lives on (no IN_DELETE_SELF)
            Assert.Equal(0, m.Vfs.sys_unlink("/d/f"));
            Assert.Equal(new[] { $"{wd} IN_DELETE f" }, DrainShow(m, fd));
            // the last name goes: the inode dies (dentry_iput before fsnotify_nameremove)
            Assert.Equal(0, m.Vfs.sys_unlink("/e/g"));
            Assert.Equal(new[] { $"{wf} IN_DELETE_SELF", $"{wf} IN_IGNORED", $"{we} IN_DELETE g" }, DrainShow(m, fd));
            Assert.Equal(-Errno.EPERM, m.Vfs.sys_link("/d", "/e/d2"));
            Touch(m, "/d/h");
            Assert.Equal(-Errno.EEXIST, m.Vfs.sys_link("/d/h", "/d/h"));
            Assert.Equal(-Errno.ENOENT, m.Vfs.sys_link("/d/nope", "/d/x"));
            Assert.Equal(new[] { $"{wd} IN_CREATE h", $"{wd} IN_OPEN h", $"{wd} IN_CLOSE_WRITE h" }, DrainShow(m, fd)); // the touch only
        });
    }

    [Fact]
    public void Link_AcrossMounts_IsExdev()
    {
        On(0, m =>
        {
            Ok(m.Vfs.sys_mkdir("/mnt"));
            Ok(m.Vfs.sys_mount("/mnt"));
            Touch(m, "/f");
            Assert.Equal(-Errno.EXDEV, m.Vfs.sys_link("/f", "/mnt/f"));
        });
    }

    [Fact]
    public void Truncate_ModifyOnTheInodeThenTheParent()
    {
        // do_truncate -> notify_change(ATTR_SIZE) -> fsnotify_change: the inode's watches first, then the parent's
        On(1000, m =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            Touch(m, "/d/f");
            int fd = Ok(m.inotify_init());
            int wd = Ok(m.inotify_add_watch(fd, "/d", IN_ALL_EVENTS));
            int wf = Ok(m.inotify_add_watch(fd, "/d/f", IN_ALL_EVENTS));
            Assert.Equal(0, m.Vfs.sys_truncate("/d/f", 7));
            Assert.Equal(new[] { $"{wf} IN_MODIFY", $"{wd} IN_MODIFY f" }, DrainShow(m, fd));
            Assert.Equal(-Errno.EISDIR, m.Vfs.sys_truncate("/d", 0));
            Assert.Equal(-Errno.EINVAL, m.Vfs.sys_truncate("/d/f", -1));
            Assert.Equal(-Errno.ENOENT, m.Vfs.sys_truncate("/d/nope", 0));
            Assert.Empty(Drain(m, fd));
        });
    }

    [Fact]
    public void Ftruncate_NeedsAFileOpenForWriting()
    {
        // do_sys_ftruncate: -EINVAL unless S_ISREG and FMODE_WRITE; do_truncate(ATTR_MTIME|ATTR_CTIME): IN_MODIFY
        On(1000, m =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            Touch(m, "/d/f");
            int fd = Ok(m.inotify_init());
            int wd = Ok(m.inotify_add_watch(fd, "/d", IN_MODIFY));
            int r = Ok(m.Vfs.sys_open("/d/f", O_RDONLY));
            Assert.Equal(-Errno.EINVAL, m.Vfs.sys_ftruncate(r, 0));
            Assert.Equal(-Errno.EINVAL, m.Vfs.sys_ftruncate(fd, 0)); // an inotify fd
            Assert.Equal(-Errno.EBADF, m.Vfs.sys_ftruncate(99, 0));
            int w = Ok(m.Vfs.sys_open("/d/f", O_WRONLY));
            Assert.Equal(0, m.Vfs.sys_ftruncate(w, 3));
            Assert.Equal(new[] { $"{wd} IN_MODIFY f" }, DrainShow(m, fd));
            Assert.Equal(0, m.close(r));
            Assert.Equal(0, m.close(w));
        });
    }

    [Fact]
    public void OpenOTrunc_ModifyBeforeOpen_NotForAFileItCreates()
    {
        // may_open: do_truncate(dentry, 0, ATTR_MTIME|ATTR_CTIME) runs before do_sys_open's fsnotify_open
        On(1000, m =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            Touch(m, "/d/f");
            int fd = Ok(m.inotify_init());
            int wd = Ok(m.inotify_add_watch(fd, "/d", IN_ALL_EVENTS));
            int wf = Ok(m.inotify_add_watch(fd, "/d/f", IN_ALL_EVENTS));
            int f = Ok(m.Vfs.sys_open("/d/f", O_WRONLY | O_TRUNC));
            Assert.Equal(new[] { $"{wf} IN_MODIFY", $"{wd} IN_MODIFY f", $"{wd} IN_OPEN f", $"{wf} IN_OPEN" }, DrainShow(m, fd));
            Assert.Equal(0, m.close(f));
            Drain(m, fd);
            // open_namei: a file this open created is not truncated ("flag &= ~O_TRUNC")
            int g = Ok(m.Vfs.sys_open("/d/g", O_CREAT | O_WRONLY | O_TRUNC));
            Assert.Equal(new[] { $"{wd} IN_CREATE g", $"{wd} IN_OPEN g" }, DrainShow(m, fd));
            Assert.Equal(0, m.close(g));
            Assert.Equal(-Errno.EISDIR, m.Vfs.sys_open("/d", O_RDONLY | O_TRUNC));
        });
    }

    [Fact]
    public void Open_AnUnsupportedFlagIsRefused_NeverIgnored()
    {
        var m = NewMachine();
        var t = m.NewProcess("p", 0);
        Assert.Throws<NotSupportedException>(() => m.As(t, () => m.Vfs.sys_open("/f", O_CREAT | 0x1000))); // O_SYNC's low bit
        Assert.Null(SysOps.ParseOpenFlags("4096"));
        Assert.Null(SysOps.ParseOpenFlags("wronly|sync"));
        Assert.Null(SysOps.ParseOpenFlags("3")); // O_ACCMODE itself
        Assert.Equal(O_WRONLY | O_TRUNC, SysOps.ParseOpenFlags("513"));
        Assert.Equal(O_WRONLY | O_TRUNC | O_APPEND, SysOps.ParseOpenFlags("wronly|O_TRUNC|append"));
        var e = Assert.Throws<ScriptException>(() => Script.Parse("thread t\n  open /f 4096\n", "x.isim"));
        Assert.Contains("x.isim:2: bad open flags '4096'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Utimes_AttribOnTheInodeThenTheParent()
    {
        // do_utimes: ATTR_ATIME|ATTR_MTIME|ATTR_CTIME -> fsnotify_change: both times changed is IN_ATTRIB
        On(1000, m =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            Touch(m, "/d/f");
            int fd = Ok(m.inotify_init());
            int wd = Ok(m.inotify_add_watch(fd, "/d", IN_ALL_EVENTS));
            int wf = Ok(m.inotify_add_watch(fd, "/d/f", IN_ALL_EVENTS));
            Assert.Equal(0, m.Vfs.sys_utimes("/d/f"));
            Assert.Equal(new[] { $"{wf} IN_ATTRIB", $"{wd} IN_ATTRIB f" }, DrainShow(m, fd));
            Assert.Equal(0, m.Vfs.sys_utimes("/d"));
            Assert.Equal(new[] { $"{wd} IN_ATTRIB|IN_ISDIR" }, DrainShow(m, fd));
        });
    }

    [Fact]
    public void Utimes_OfAFileNobodyMayWrite_IsEaccesForOthers()
    {
        var m = NewMachine();
        var root = m.NewProcess("root", 0);
        var user = m.NewProcess("user", 1000);
        m.As(root, () => { Touch(m, "/f"); Ok(m.Vfs.sys_chmod("/f", Mode.S_0644)); });
        Assert.Equal(-Errno.EACCES, m.As(user, () => m.Vfs.sys_utimes("/f")));
        m.Teardown();
    }

    [Fact]
    public void Chown_AttribWhenAnIdIsGiven_NoneForMinusOneMinusOne()
    {
        // chown_common: ATTR_CTIME | ATTR_UID/ATTR_GID for the ids given -> fsnotify_change
        On(0, m =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            Touch(m, "/d/f");
            Ok(m.Vfs.sys_symlink("/d/f", "/d/l"));
            int fd = Ok(m.inotify_init());
            int wd = Ok(m.inotify_add_watch(fd, "/d", IN_ALL_EVENTS));
            Assert.Equal(0, m.Vfs.sys_chown("/d/f", 1000, -1));
            Assert.Equal(0, m.Vfs.sys_chown("/d/f", -1, -1));
            Assert.Equal(0, m.Vfs.sys_lchown("/d/l", 1000, 1000)); // the link itself
            Assert.Equal(0, m.Vfs.sys_chown("/d/l", -1, 5)); // through the link: f
            Assert.Equal(new[] { $"{wd} IN_ATTRIB f", $"{wd} IN_ATTRIB l", $"{wd} IN_ATTRIB f" }, DrainShow(m, fd));
        });
    }

    [Fact]
    public void Chown_ByANonOwnerOrToAnotherUser_IsEperm()
    {
        var m = NewMachine();
        var root = m.NewProcess("root", 0);
        var user = m.NewProcess("user", 1000);
        m.As(root, () => Touch(m, "/f"));
        m.As(user, () => Touch(m, "/g"));
        Assert.Equal(-Errno.EPERM, m.As(user, () => m.Vfs.sys_chown("/f", 1000, -1)));
        Assert.Equal(-Errno.EPERM, m.As(user, () => m.Vfs.sys_chown("/g", 0, -1)));
        Assert.Equal(0, m.As(user, () => m.Vfs.sys_chown("/g", 1000, 1000)));
        m.Teardown();
    }

    [Fact]
    public void Fchmod_Attrib()
    {
        // sys_fchmod: notify_change(ATTR_MODE|ATTR_CTIME) -> fsnotify_change: IN_ATTRIB
        On(1000, m =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            Touch(m, "/d/f");
            int fd = Ok(m.inotify_init());
            int wd = Ok(m.inotify_add_watch(fd, "/d", IN_ATTRIB));
            int f = Ok(m.Vfs.sys_open("/d/f", O_RDONLY));
            Assert.Equal(0, m.Vfs.sys_fchmod(f, Mode.S_0600));
            Assert.Equal(new[] { $"{wd} IN_ATTRIB f" }, DrainShow(m, fd));
            Assert.Equal(-Errno.EBADF, m.Vfs.sys_fchmod(99, Mode.S_0600));
            Assert.Equal(0, m.close(f));
        });
    }

    [Fact]
    public void MknodFifo_Create_OnlyANonBlockingReaderOpens()
    {
        // vfs_mknod: fsnotify_create(dir, dentry)
        On(1000, m =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            int fd = Ok(m.inotify_init());
            int wd = Ok(m.inotify_add_watch(fd, "/d", IN_ALL_EVENTS));
            Assert.Equal(0, m.Vfs.sys_mknod("/d/p", Mode.S_0644));
            Assert.Equal(-Errno.EEXIST, m.Vfs.sys_mknod("/d/p", Mode.S_0644));
            Assert.Equal(new[] { $"{wd} IN_CREATE p" }, DrainShow(m, fd));
            Assert.Equal(-Errno.ENXIO, m.Vfs.sys_open("/d/p", O_WRONLY | O_NONBLOCK)); // no reader
            int r = Ok(m.Vfs.sys_open("/d/p", O_RDONLY | O_NONBLOCK));
            Assert.Equal(0, m.close(r));
            Assert.Equal(new[] { $"{wd} IN_OPEN p", $"{wd} IN_CLOSE_NOWRITE p" }, DrainShow(m, fd));
            Assert.Equal(0, m.Vfs.sys_unlink("/d/p"));
            Assert.Equal(new[] { $"{wd} IN_DELETE p" }, DrainShow(m, fd));
        });
    }

    [Fact]
    public void DupAndDup2_CloseEventOnlyWithTheLastReference()
    {
        // no hook in dup/dup2; __fput (the last reference) calls fsnotify_close
        On(1000, m =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            Touch(m, "/d/f");
            Touch(m, "/d/g");
            int fd = Ok(m.inotify_init());
            int wd = Ok(m.inotify_add_watch(fd, "/d", IN_CLOSE));
            int f = Ok(m.Vfs.sys_open("/d/f", O_RDONLY));
            int d = Ok(m.Vfs.sys_dup(f));
            Assert.NotEqual(f, d);
            Assert.Equal(0, m.close(f));
            Assert.Empty(Drain(m, fd));
            Assert.Equal(0, m.close(d));
            Assert.Equal(new[] { $"{wd} IN_CLOSE_NOWRITE f" }, DrainShow(m, fd));
            int a = Ok(m.Vfs.sys_open("/d/f", O_WRONLY));
            int b = Ok(m.Vfs.sys_open("/d/g", O_RDONLY));
            Assert.Equal(b, m.Vfs.sys_dup2(a, b)); // closes g's file
            Assert.Equal(new[] { $"{wd} IN_CLOSE_NOWRITE g" }, DrainShow(m, fd));
            Assert.Equal(a, m.Vfs.sys_dup2(a, a));
            Assert.Equal(-Errno.EBADF, m.Vfs.sys_dup(99));
            Assert.Equal(-Errno.EBADF, m.Vfs.sys_dup2(99, a));
            Assert.Equal(0, m.close(a));
            Assert.Empty(Drain(m, fd));
            Assert.Equal(0, m.close(b));
            Assert.Equal(new[] { $"{wd} IN_CLOSE_WRITE f" }, DrainShow(m, fd));
        });
    }

    [Fact]
    public void LseekPreadPwrite_RealOffset_EventsOnlyForBytesMoved()
    {
        // vfs_read / vfs_write at a position: fsnotify_access / fsnotify_modify when ret > 0; lseek has no hook
        On(1000, m =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            int fd = Ok(m.inotify_init());
            int wd = Ok(m.inotify_add_watch(fd, "/d", IN_ACCESS | IN_MODIFY));
            int f = Ok(m.Vfs.sys_open("/d/f", O_CREAT | O_RDWR));
            Assert.Equal(3, m.Vfs.sys_pwrite(f, 3, 10)); // the file is now 13 bytes
            Assert.Equal(0, m.Vfs.sys_lseek(f, 0, SEEK_CUR)); // pwrite leaves f_pos alone
            Assert.Equal(13, m.Vfs.sys_lseek(f, 0, SEEK_END));
            Assert.Equal(0, m.Vfs.sys_read(f, 5, out _)); // at the end: nothing, no event
            Assert.Equal(4, m.Vfs.sys_pread(f, 100, 9));
            Assert.Equal(0, m.Vfs.sys_pread(f, 100, 13));
            Assert.Equal(5, m.Vfs.sys_lseek(f, -8, SEEK_CUR));
            Assert.Equal(8, m.Vfs.sys_read(f, 100, out _));
            // the second IN_ACCESS is identical to the last queued event: coalesced
            Assert.Equal(new[] { $"{wd} IN_MODIFY f", $"{wd} IN_ACCESS f" }, DrainShow(m, fd));
            Assert.Equal(1, m.Vfs.sys_pread(f, 1, 0));
            Assert.Equal(new[] { $"{wd} IN_ACCESS f" }, DrainShow(m, fd));
            Assert.Equal(-Errno.EINVAL, m.Vfs.sys_lseek(f, -1, SEEK_SET));
            Assert.Equal(-Errno.EINVAL, m.Vfs.sys_pread(f, 1, -1));
            // the inotify file has no FMODE_LSEEK / FMODE_PREAD (get_empty_filp, f_mode = FMODE_READ)
            Assert.Equal(-Errno.ESPIPE, m.Vfs.sys_lseek(fd, 0, SEEK_SET));
            Assert.Equal(-Errno.ESPIPE, m.Vfs.sys_pread(fd, 16, 0));
            Assert.Equal(0, m.close(f));
        });
    }

    [Fact]
    public void OAppend_WritesAtTheEnd()
    {
        On(1000, m =>
        {
            int f = Ok(m.Vfs.sys_open("/f", O_CREAT | O_WRONLY));
            Assert.Equal(5, m.Vfs.sys_write(f, 5));
            Assert.Equal(0, m.close(f));
            int g = Ok(m.Vfs.sys_open("/f", O_WRONLY | O_APPEND));
            Assert.Equal(2, m.Vfs.sys_write(g, 2));
            Assert.Equal(7, m.Vfs.sys_lseek(g, 0, SEEK_CUR));
            Assert.Equal(0, m.close(g));
        });
    }

    [Fact]
    public void Xattrs_GetAndListSendNothing_RemoveSendsAttrib()
    {
        // vfs_getxattr / vfs_listxattr: no hook; vfs_setxattr / vfs_removexattr: fsnotify_xattr -> IN_ATTRIB
        On(1000, m =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            Touch(m, "/d/f");
            int fd = Ok(m.inotify_init());
            int wd = Ok(m.inotify_add_watch(fd, "/d", IN_ALL_EVENTS));
            int wf = Ok(m.inotify_add_watch(fd, "/d/f", IN_ALL_EVENTS));
            Assert.Equal(0, m.Vfs.sys_setxattr("/d/f", "user.a", 4));
            Assert.Equal(new[] { $"{wd} IN_ATTRIB f", $"{wf} IN_ATTRIB" }, DrainShow(m, fd));
            Assert.Equal(4, m.Vfs.sys_getxattr("/d/f", "user.a"));
            Assert.Equal(-Errno.ENODATA, m.Vfs.sys_getxattr("/d/f", "user.b"));
            Assert.Equal(7, m.Vfs.sys_listxattr("/d/f")); // "user.a\0"
            Assert.Empty(Drain(m, fd));
            Assert.Equal(0, m.Vfs.sys_removexattr("/d/f", "user.a"));
            Assert.Equal(new[] { $"{wd} IN_ATTRIB f", $"{wf} IN_ATTRIB" }, DrainShow(m, fd));
            Assert.Equal(-Errno.ENODATA, m.Vfs.sys_removexattr("/d/f", "user.a"));
            Assert.Equal(-Errno.EOPNOTSUPP, m.Vfs.sys_removexattr("/d/f", "trusted.a"));
            Assert.Equal(0, m.Vfs.sys_listxattr("/d/f"));
            Assert.Empty(Drain(m, fd));
        });
    }

    [Fact]
    public void Getdents_NoAccessEventIn2617()
    {
        // vfs_readdir (2.6.17) calls f_op->readdir and file_accessed, no fsnotify hook
        On(1000, m =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            Touch(m, "/d/f");
            int fd = Ok(m.inotify_init());
            int wd = Ok(m.inotify_add_watch(fd, "/d", IN_ALL_EVENTS));
            int dir = Ok(m.Vfs.sys_open("/d", O_RDONLY | O_DIRECTORY));
            Assert.Equal(-Errno.EINVAL, m.Vfs.sys_getdents(dir, 10)); // the first record does not fit
            Assert.Equal(72, m.Vfs.sys_getdents(dir, 4096)); // ".", "..", "f": 24 bytes each
            Assert.Equal(0, m.Vfs.sys_getdents(dir, 4096));
            Assert.Equal(0, m.Vfs.sys_lseek(dir, 0, SEEK_SET));
            Assert.Equal(48, m.Vfs.sys_getdents(dir, 50));
            Assert.Equal(0, m.close(dir));
            Assert.Equal(new[] { $"{wd} IN_OPEN|IN_ISDIR", $"{wd} IN_CLOSE_NOWRITE|IN_ISDIR" }, DrainShow(m, fd));
            int f = Ok(m.Vfs.sys_open("/d/f", O_RDONLY));
            Assert.Equal(-Errno.ENOTDIR, m.Vfs.sys_getdents(f, 4096));
            Assert.Equal(-Errno.ENOTDIR, m.Vfs.sys_getdents(fd, 4096));
            Assert.Equal(-Errno.ENOTDIR, m.Vfs.sys_open("/d/f", O_RDONLY | O_DIRECTORY));
            Assert.Equal(0, m.close(f));
            // a removed directory: -ENOENT (S_DEAD)
            Ok(m.Vfs.sys_mkdir("/d/e"));
            int e = Ok(m.Vfs.sys_open("/d/e", O_RDONLY));
            Assert.Equal(0, m.Vfs.sys_rmdir("/d/e"));
            Assert.Equal(-Errno.ENOENT, m.Vfs.sys_getdents(e, 4096));
            Assert.Equal(0, m.close(e));
        });
    }

    [Fact]
    public void Chdir_RelativePathsResolveFromTheCwd()
    {
        On(1000, m =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            Ok(m.Vfs.sys_mkdir("/d/sub"));
            int fd = Ok(m.inotify_init());
            int wd = Ok(m.inotify_add_watch(fd, "/d", IN_ALL_EVENTS));
            Assert.Equal(0, m.Vfs.sys_chdir("/d"));
            Touch(m, "f");
            Assert.Equal(0, m.Vfs.sys_rename("f", "sub/g"));
            int ws = Ok(m.inotify_add_watch(fd, "sub", IN_ALL_EVENTS));
            Assert.Equal(0, m.Vfs.sys_unlink("./sub/g"));
            Assert.Equal(0, m.Vfs.sys_chdir("sub"));
            Assert.Equal(0, m.Vfs.sys_mkdir("../x"));
            Assert.Equal(new[]
            {
                $"{wd} IN_CREATE f", $"{wd} IN_OPEN f", $"{wd} IN_CLOSE_WRITE f", $"{wd} IN_MOVED_FROM f",
                $"{ws} IN_DELETE g", $"{wd} IN_CREATE|IN_ISDIR x",
            }, DrainShow(m, fd));
            Assert.Equal(-Errno.ENOENT, m.Vfs.sys_chdir("nope"));
            Touch(m, "/d/file");
            Assert.Equal(-Errno.ENOTDIR, m.Vfs.sys_chdir("../x/../file"));
        });
    }

    [Fact]
    public void Chdir_IntoAMount_KeepsItBusyUntilTheProcessLeaves()
    {
        On(0, m =>
        {
            Ok(m.Vfs.sys_mkdir("/mnt"));
            Ok(m.Vfs.sys_mount("/mnt"));
            Assert.Equal(0, m.Vfs.sys_chdir("/mnt"));
            Assert.Equal(-Errno.EBUSY, m.Vfs.sys_umount("/mnt"));
            Assert.Equal(0, m.Vfs.sys_chdir("/"));
            Assert.Equal(0, m.Vfs.sys_umount("/mnt"));
        });
        // a cwd left in a mount is released at teardown (exit_fs): the teardown above is clean
        On(0, m =>
        {
            Ok(m.Vfs.sys_mkdir("/mnt"));
            Ok(m.Vfs.sys_mount("/mnt"));
            Assert.Equal(0, m.Vfs.sys_chdir("/mnt"));
        });
    }

    [Fact]
    public void StackedMounts_BothUmountsSucceed_TopFirst()
    {
        On(0, m =>
        {
            Ok(m.Vfs.sys_mkdir("/mnt"));
            Ok(m.Vfs.sys_mount("/mnt"));
            Ok(m.Vfs.sys_mkdir("/mnt/lower"));
            Ok(m.Vfs.sys_mount("/mnt")); // stacked on the first mount's root
            Ok(m.Vfs.sys_mkdir("/mnt/upper"));
            int fd = Ok(m.inotify_init());
            int wu = Ok(m.inotify_add_watch(fd, "/mnt/upper", IN_ALL_EVENTS));
            Assert.Equal(0, m.Vfs.sys_umount("/mnt"));
            Assert.Equal(new[] { $"{wu} IN_UNMOUNT", $"{wu} IN_IGNORED" }, DrainShow(m, fd));
            int wl = Ok(m.inotify_add_watch(fd, "/mnt/lower", IN_ALL_EVENTS)); // the lower mount shows again
            Assert.Equal(0, m.Vfs.sys_umount("/mnt"));
            Assert.Equal(new[] { $"{wl} IN_UNMOUNT", $"{wl} IN_IGNORED" }, DrainShow(m, fd));
            Assert.Equal(-Errno.EINVAL, m.Vfs.sys_umount("/mnt")); // a plain directory again
        });
    }

    [Fact]
    public void MountOnRoot_IsInvisibleToPathsAndTornDownAtTeardown()
    {
        // Linux lets a filesystem be mounted on "/"; a walk starts at the process root, below the
        // new mount, so it is not seen (until chroot); the teardown unmounts it by itself, cleanly
        On(0, m =>
        {
            Assert.Equal(0, m.Vfs.sys_mount("/"));
            Ok(m.Vfs.sys_mkdir("/x"));
            Assert.Equal(-Errno.EBUSY, m.Vfs.sys_mount("/"));
        });
    }

    [Fact]
    public void RenameOfOrOntoAMountPoint_IsEbusy()
    {
        // vfs_rename_dir: "if (d_mountpoint(old_dentry)||d_mountpoint(new_dentry)) error = -EBUSY"
        On(0, m =>
        {
            Ok(m.Vfs.sys_mkdir("/mnt"));
            Ok(m.Vfs.sys_mkdir("/e"));
            Ok(m.Vfs.sys_mount("/mnt"));
            int fd = Ok(m.inotify_init());
            Ok(m.inotify_add_watch(fd, "/", IN_ALL_EVENTS));
            Assert.Equal(-Errno.EBUSY, m.Vfs.sys_rename("/mnt", "/mnt2"));
            Assert.Equal(-Errno.EBUSY, m.Vfs.sys_rename("/e", "/mnt"));
            Assert.Empty(Drain(m, fd));
        });
    }

    [Fact]
    public void InotifyInit1_IsASpellingOfInitNonblock_ItsFlagsAreNotOf2617()
    {
        // 2.6.17 has no inotify_init1 (2.6.27): the script name runs inotify_init [+ O_NONBLOCK]
        var s = Script.Parse("thread t\n  fd = inotify_init1 nonblock\n  fd2 = inotify_init1\n", "i.isim");
        Assert.Equal("inotify_init", s.Threads[0].Body[0].Op);
        Assert.Equal("inotify_init", s.Threads[0].Body[1].Op);
        var e = Assert.Throws<ScriptException>(() => Script.Parse("thread t\n  fd = inotify_init1 IN_CLOEXEC\n", "i.isim"));
        Assert.Contains("i.isim:2:", e.Message, StringComparison.Ordinal);
    }
}
