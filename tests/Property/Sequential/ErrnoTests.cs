using static InotifySim.Model.Vfs.O;
using InotifySim.Model.Vfs;
using InotifySim.Model;
using InotifySim.Model.Inotify;
using InotifySim.Model.Kernel;
using static InotifySim.Model.Inotify.IN;
using static InotifySim.Tests.Property.Sequential.Seq;

namespace InotifySim.Tests.Property.Sequential;

/// <summary>Limits and every errno of inotify_init, inotify_add_watch and inotify_rm_watch, and symlink handling.</summary>
public class ErrnoTests
{
    [Fact]
    public void Emfile_AtMaxUserInstances_PerUser()
    {
        var m = NewMachine(configure: o => o.MaxUserInstances = 2);
        var a = m.NewProcess("a", 1000);
        var b = m.NewProcess("b", 1001);
        m.As(a, () =>
        {
            int fd1 = Ok(m.inotify_init());
            Ok(m.inotify_init_nonblock());
            Assert.Equal(-Errno.EMFILE, m.inotify_init());
            Assert.Equal(-Errno.EMFILE, m.inotify_init_nonblock());
            Assert.Equal(2, m.Vfs.CurrentProcess.User.inotify_devs.Peek);
            Assert.Equal(0, m.close(fd1));
            Ok(m.inotify_init());
            Assert.Equal(-Errno.EMFILE, m.inotify_init());
        });
        m.As(b, () => { Ok(m.inotify_init()); Ok(m.inotify_init()); Assert.Equal(-Errno.EMFILE, m.inotify_init()); });
        m.Teardown();
    }

    [Fact]
    public void Enospc_AtMaxUserWatches_AcrossInstancesOfOneUser()
    {
        var m = NewMachine(configure: o => o.MaxUserWatches = 2);
        var a = m.NewProcess("a", 1000);
        var b = m.NewProcess("b", 1001);
        m.As(a, () =>
        {
            for (int i = 0; i < 3; i++) Ok(m.Vfs.sys_mkdir($"/d{i}", Mode.S_0777));
            int fd1 = Ok(m.inotify_init());
            int fd2 = Ok(m.inotify_init());
            int w0 = Ok(m.inotify_add_watch(fd1, "/d0", IN_CREATE));
            Ok(m.inotify_add_watch(fd2, "/d1", IN_CREATE));
            Assert.Equal(-Errno.ENOSPC, m.inotify_add_watch(fd1, "/d2", IN_CREATE));
            Assert.Equal(-Errno.ENOSPC, m.inotify_add_watch(fd2, "/d0", IN_CREATE));
            // updating an existing watch is not a new watch
            Assert.Equal(w0, m.inotify_add_watch(fd1, "/d0", IN_DELETE));
            Assert.Equal(0, m.inotify_rm_watch(fd1, w0));
            Ok(m.inotify_add_watch(fd1, "/d2", IN_CREATE));
            Assert.Equal(2, m.Vfs.CurrentProcess.User.inotify_watches.Peek);
        });
        m.As(b, () =>
        {
            int fd = Ok(m.inotify_init());
            Ok(m.inotify_add_watch(fd, "/d0", IN_CREATE));
            Ok(m.inotify_add_watch(fd, "/d1", IN_CREATE));
            Assert.Equal(-Errno.ENOSPC, m.inotify_add_watch(fd, "/d2", IN_CREATE));
        });
        m.Teardown();
    }

    [Fact]
    public void Ebadf_ForBadOrClosedFd()
    {
        var m = NewMachine();
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            Assert.Equal(-Errno.EBADF, m.inotify_add_watch(-1, "/d", IN_CREATE));
            Assert.Equal(-Errno.EBADF, m.inotify_add_watch(42, "/d", IN_CREATE));
            Assert.Equal(-Errno.EBADF, m.inotify_rm_watch(42, 1));
            int fd = Ok(m.inotify_init());
            int wd = Ok(m.inotify_add_watch(fd, "/d", IN_CREATE));
            Assert.Equal(0, m.close(fd));
            Assert.Equal(-Errno.EBADF, m.inotify_add_watch(fd, "/d", IN_CREATE));
            Assert.Equal(-Errno.EBADF, m.inotify_rm_watch(fd, wd));
            Assert.Equal(-Errno.EBADF, m.read_events(fd, 4096, out _));
            Assert.Equal(-Errno.EBADF, m.close(fd));
        });
        m.Teardown();
    }

    [Fact]
    public void Einval_ForNonInotifyFd()
    {
        var m = NewMachine();
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            int f = Ok(m.Vfs.sys_open("/d/f", O_CREAT | O_RDWR));
            Assert.Equal(-Errno.EINVAL, m.inotify_add_watch(f, "/d", IN_CREATE));
            Assert.Equal(-Errno.EINVAL, m.inotify_rm_watch(f, 1));
            Assert.Equal(0, m.close(f));
        });
        m.Teardown();
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(IN_ONLYDIR | IN_DONT_FOLLOW | IN_MASK_ADD)]
    [InlineData(IN_ISDIR | IN_UNMOUNT | IN_Q_OVERFLOW | IN_IGNORED)]
    public void Einval_ForMaskWithoutEvents(uint mask)
    {
        var m = NewMachine();
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            int fd = Ok(m.inotify_init());
            Assert.Equal(-Errno.EINVAL, m.inotify_add_watch(fd, "/d", mask));
            // neither for a new watch nor for an update of an existing one
            int wd = Ok(m.inotify_add_watch(fd, "/d", IN_CREATE));
            Assert.Equal(-Errno.EINVAL, m.inotify_add_watch(fd, "/d", mask));
            Touch(m, "/d/f");
            Assert.Equal(new[] { $"{wd} IN_CREATE f" }, DrainShow(m, fd));
            Assert.Equal(0, m.Vfs.CurrentProcess.User.inotify_watches.Peek - 1);
        });
        m.Teardown();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(-1)]
    [InlineData(int.MaxValue)]
    public void Einval_ForUnknownWd(int wd)
    {
        var m = NewMachine();
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            int fd = Ok(m.inotify_init());
            Assert.Equal(1, m.inotify_add_watch(fd, "/d", IN_CREATE));
            Assert.Equal(-Errno.EINVAL, m.inotify_rm_watch(fd, wd));
            int other = Ok(m.inotify_init());
            Assert.Equal(-Errno.EINVAL, m.inotify_rm_watch(other, 1)); // wd 1 belongs to fd
            Assert.Empty(Drain(m, fd));
        });
        m.Teardown();
    }

    [Theory]
    [InlineData("/nope")]
    [InlineData("/d/nope")]
    [InlineData("/nope/d")]
    [InlineData("")]
    public void Enoent_ForMissingPath(string path)
    {
        var m = NewMachine();
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            int fd = Ok(m.inotify_init());
            Assert.Equal(-Errno.ENOENT, m.inotify_add_watch(fd, path, IN_ALL_EVENTS));
            Assert.Equal(0, m.Vfs.CurrentProcess.User.inotify_watches.Peek);
        });
        m.Teardown();
    }

    [Fact]
    public void Enotdir_WithOnlydirOnANonDirectory()
    {
        var m = NewMachine();
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            Touch(m, "/f");
            Ok(m.Vfs.sys_symlink("/d", "/ld"));
            Ok(m.Vfs.sys_symlink("/f", "/lf"));
            int fd = Ok(m.inotify_init());
            Assert.Equal(-Errno.ENOTDIR, m.inotify_add_watch(fd, "/f", IN_ALL_EVENTS | IN_ONLYDIR));
            Assert.Equal(-Errno.ENOTDIR, m.inotify_add_watch(fd, "/lf", IN_ALL_EVENTS | IN_ONLYDIR));
            Assert.Equal(-Errno.ENOTDIR, m.inotify_add_watch(fd, "/ld", IN_ALL_EVENTS | IN_ONLYDIR | IN_DONT_FOLLOW));
            Assert.Equal(-Errno.ENOTDIR, m.inotify_add_watch(fd, "/f/x", IN_ALL_EVENTS)); // a file as a path component
            int wd = Ok(m.inotify_add_watch(fd, "/d", IN_ALL_EVENTS | IN_ONLYDIR));
            Assert.Equal(wd, m.inotify_add_watch(fd, "/ld", IN_ALL_EVENTS | IN_ONLYDIR));
            Assert.True(m.inotify_add_watch(fd, "/f", IN_ALL_EVENTS) > wd);
        });
        m.Teardown();
    }

    [Fact]
    public void DontFollow_WatchesTheLinkItself_FollowWatchesTheTarget()
    {
        var m = NewMachine();
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Touch(m, "/f");
            Ok(m.Vfs.sys_symlink("/f", "/l"));
            int fd = Ok(m.inotify_init());
            int wf = Ok(m.inotify_add_watch(fd, "/f", IN_ALL_EVENTS));
            Assert.Equal(wf, m.inotify_add_watch(fd, "/l", IN_ALL_EVENTS)); // followed: the same inode
            int wl = Ok(m.inotify_add_watch(fd, "/l", IN_ALL_EVENTS | IN_DONT_FOLLOW));
            Assert.NotEqual(wf, wl);
            // open through the link: the target's events only
            int f = Ok(m.Vfs.sys_open("/l", O_WRONLY));
            Assert.Equal(1, m.Vfs.sys_write(f, 1));
            Assert.Equal(0, m.close(f));
            Assert.Equal(new[] { $"{wf} IN_OPEN", $"{wf} IN_MODIFY", $"{wf} IN_CLOSE_WRITE" }, DrainShow(m, fd));
            // removing the link kills the link's watch, not the target's
            Ok(m.Vfs.sys_unlink("/l"));
            Assert.Equal(new[] { $"{wl} IN_DELETE_SELF", $"{wl} IN_IGNORED" }, DrainShow(m, fd));
            Ok(m.Vfs.sys_chmod("/f", Mode.S_0600));
            Assert.Equal(new[] { $"{wf} IN_ATTRIB" }, DrainShow(m, fd));
        });
        m.Teardown();
    }

    [Fact]
    public void Eloop_OnSymlinkLoop_UnlessDontFollow()
    {
        var m = NewMachine();
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_symlink("/b", "/a"));
            Ok(m.Vfs.sys_symlink("/a", "/b"));
            Ok(m.Vfs.sys_symlink("/s", "/s"));
            int fd = Ok(m.inotify_init());
            Assert.Equal(-Errno.ELOOP, m.inotify_add_watch(fd, "/a", IN_ALL_EVENTS));
            Assert.Equal(-Errno.ELOOP, m.inotify_add_watch(fd, "/s", IN_ALL_EVENTS));
            Assert.Equal(-Errno.ELOOP, m.inotify_add_watch(fd, "/a/x", IN_ALL_EVENTS | IN_DONT_FOLLOW));
            Assert.Equal(1, m.inotify_add_watch(fd, "/a", IN_ALL_EVENTS | IN_DONT_FOLLOW));
            Assert.Equal(1, m.Vfs.CurrentProcess.User.inotify_watches.Peek);
        });
        m.Teardown();
    }

    [Fact]
    public void Eacces_WithoutReadPermission()
    {
        var m = NewMachine();
        var root = m.NewProcess("root", 0);
        var user = m.NewProcess("user", 1000);
        m.As(root, () =>
        {
            Ok(m.Vfs.sys_mkdir("/secret", 0x1c0)); // 0700 root
            Ok(m.Vfs.sys_mkdir("/public", 0x1ed)); // 0755 root
            Ok(m.Vfs.sys_mkdir("/secret/x"));
            Ok(m.Vfs.sys_mkdir("/xonly", 0x1c9));  // 0711 root: searchable, not readable
            Ok(m.Vfs.sys_mkdir("/xonly/in", 0x1ed));
        });
        m.As(user, () =>
        {
            int fd = Ok(m.inotify_init());
            Assert.Equal(-Errno.EACCES, m.inotify_add_watch(fd, "/secret", IN_ALL_EVENTS));
            Assert.Equal(-Errno.EACCES, m.inotify_add_watch(fd, "/secret/x", IN_ALL_EVENTS)); // no search permission
            Assert.Equal(-Errno.EACCES, m.inotify_add_watch(fd, "/xonly", IN_ALL_EVENTS));
            Assert.Equal(1, m.inotify_add_watch(fd, "/xonly/in", IN_ALL_EVENTS));
            Assert.Equal(2, m.inotify_add_watch(fd, "/public", IN_ALL_EVENTS));
            int f = Ok(m.Vfs.sys_open("/tmpfile", O_CREAT | O_WRONLY, 0x80)); // 0200: write only
            Assert.Equal(0, m.close(f));
            Assert.Equal(-Errno.EACCES, m.inotify_add_watch(fd, "/tmpfile", IN_ALL_EVENTS));
            Assert.Equal(2, m.Vfs.CurrentProcess.User.inotify_watches.Peek);
        });
        m.As(root, () =>
        {
            int fd = Ok(m.inotify_init());
            Assert.Equal(1, m.inotify_add_watch(fd, "/secret", IN_ALL_EVENTS)); // root passes
        });
        m.Teardown();
    }
}
