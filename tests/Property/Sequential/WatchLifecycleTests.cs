using static InotifySim.Model.Vfs.O;
using InotifySim.Model.Vfs;
using InotifySim.Model;
using InotifySim.Model.Inotify;
using InotifySim.Model.Kernel;
using static InotifySim.Model.Inotify.IN;
using static InotifySim.Tests.Property.Sequential.Seq;

namespace InotifySim.Tests.Property.Sequential;

/// <summary>Watch removal (IN_DELETE_SELF/IN_UNMOUNT/rm_watch then IN_IGNORED), IN_ONESHOT, IN_MASK_ADD, wd allocation.</summary>
public class WatchLifecycleTests
{
    [Fact]
    public void UnlinkOfWatchedFile_DeleteSelfThenIgnored_ThenNothing()
    {
        var m = NewMachine();
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Touch(m, "/f");
            int fd = Ok(m.inotify_init());
            int wf = Ok(m.inotify_add_watch(fd, "/f", IN_ALL_EVENTS));
            Ok(m.Vfs.sys_unlink("/f"));
            var evs = Drain(m, fd);
            Assert.Equal(new[] { $"{wf} IN_DELETE_SELF", $"{wf} IN_IGNORED" }, Show(evs));
            Assert.All(evs, e => Assert.Equal(0u, e.Cookie));
            Assert.Equal(-Errno.EINVAL, m.inotify_rm_watch(fd, wf));
            // a new file of the same name is a new inode: not watched
            Touch(m, "/f");
            Assert.Empty(Drain(m, fd));
            m.CheckQuiescent();
        });
        m.Teardown();
    }

    [Fact]
    public void UnlinkOfOpenWatchedFile_DeleteSelfAtLastClose()
    {
        var m = NewMachine();
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Touch(m, "/f");
            int fd = Ok(m.inotify_init());
            int wf = Ok(m.inotify_add_watch(fd, "/f", IN_ALL_EVENTS));
            int f = Ok(m.Vfs.sys_open("/f", O_RDWR));
            int g = Ok(m.Vfs.sys_open("/f", O_RDONLY));
            Assert.Equal(new[] { $"{wf} IN_OPEN" }, DrainShow(m, fd)); // the second IN_OPEN coalesced
            Ok(m.Vfs.sys_unlink("/f"));
            Assert.Empty(Drain(m, fd));
            Assert.Equal(1, m.Vfs.sys_write(f, 1));
            Assert.Equal(0, m.close(f));
            Assert.Equal(new[] { $"{wf} IN_MODIFY", $"{wf} IN_CLOSE_WRITE" }, DrainShow(m, fd));
            Assert.Equal(0, m.close(g));
            Assert.Equal(new[] { $"{wf} IN_CLOSE_NOWRITE", $"{wf} IN_DELETE_SELF", $"{wf} IN_IGNORED" }, DrainShow(m, fd));
        });
        m.Teardown();
    }

    [Fact]
    public void RmWatch_SendsIgnoredAndStopsEvents()
    {
        var m = NewMachine();
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            int fd = Ok(m.inotify_init());
            int wd = Ok(m.inotify_add_watch(fd, "/d", IN_ALL_EVENTS));
            Touch(m, "/d/a");
            Assert.Equal(0, m.inotify_rm_watch(fd, wd));
            Touch(m, "/d/b");
            var evs = Drain(m, fd);
            Assert.Equal(new[] { $"{wd} IN_CREATE a", $"{wd} IN_OPEN a", $"{wd} IN_CLOSE_WRITE a", $"{wd} IN_IGNORED" }, Show(evs));
            Assert.Equal(0u, evs[^1].Len);
            Assert.Equal(-Errno.EINVAL, m.inotify_rm_watch(fd, wd));
            m.CheckQuiescent();
        });
        m.Teardown();
    }

    [Fact]
    public void Umount_UnmountThenIgnoredForEachWatch()
    {
        var m = NewMachine();
        var t = m.NewProcess("p", 0);
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/mnt"));
            Ok(m.Vfs.sys_mount("/mnt"));
            Ok(m.Vfs.sys_mkdir("/mnt/x"));
            Touch(m, "/mnt/x/f");
            int fd = Ok(m.inotify_init());
            int wroot = Ok(m.inotify_add_watch(fd, "/mnt", IN_ALL_EVENTS));
            int wx = Ok(m.inotify_add_watch(fd, "/mnt/x", IN_ALL_EVENTS));
            int wf = Ok(m.inotify_add_watch(fd, "/mnt/x/f", IN_ALL_EVENTS));
            int wmp = Ok(m.inotify_add_watch(fd, "/", IN_ALL_EVENTS));
            Assert.Equal(0, m.Vfs.sys_umount("/mnt"));
            var evs = Show(Drain(m, fd));
            // every watch of the unmounted sb: IN_UNMOUNT immediately followed by its IN_IGNORED
            Assert.Equal(6, evs.Length);
            foreach (var w in new[] { wroot, wx, wf })
            {
                int i = Array.IndexOf(evs, $"{w} IN_UNMOUNT");
                Assert.True(i >= 0, string.Join(", ", evs));
                Assert.Equal($"{w} IN_IGNORED", evs[i + 1]);
            }
            Assert.DoesNotContain(evs, e => e.StartsWith($"{wmp} ", StringComparison.Ordinal));
            foreach (var w in new[] { wroot, wx, wf })
                Assert.Equal(-Errno.EINVAL, m.inotify_rm_watch(fd, w));
            // the watch on the root filesystem is still live
            Touch(m, "/g");
            Assert.Equal(new[] { $"{wmp} IN_CREATE g", $"{wmp} IN_OPEN g", $"{wmp} IN_CLOSE_WRITE g" }, DrainShow(m, fd));
        });
        m.Teardown();
    }

    [Fact]
    public void Oneshot_OneEventThenNothing_NoIgnored()
    {
        var m = NewMachine();
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            int fd = Ok(m.inotify_init());
            int wd = Ok(m.inotify_add_watch(fd, "/d", IN_CREATE | IN_ONESHOT));
            Touch(m, "/d/a");
            Touch(m, "/d/b");
            Ok(m.Vfs.sys_unlink("/d/a"));
            Assert.Equal(new[] { $"{wd} IN_CREATE a" }, DrainShow(m, fd));
            // the watch is gone (2006: without IN_IGNORED)
            Assert.Equal(-Errno.EINVAL, m.inotify_rm_watch(fd, wd));
            int wd2 = Ok(m.inotify_add_watch(fd, "/d", IN_CREATE));
            Assert.True(wd2 > wd);
            Touch(m, "/d/c");
            Assert.Equal(new[] { $"{wd2} IN_CREATE c" }, DrainShow(m, fd));
            m.CheckQuiescent();
        });
        m.Teardown();
    }

    [Fact]
    public void Oneshot_WatchAndAccountingAreFreed()
    {
        var m = NewMachine(configure: o => o.MaxUserWatches = 1);
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Touch(m, "/f");
            Touch(m, "/g");
            int fd = Ok(m.inotify_init());
            Ok(m.inotify_add_watch(fd, "/f", IN_ATTRIB | IN_ONESHOT));
            Assert.Equal(-Errno.ENOSPC, m.inotify_add_watch(fd, "/g", IN_ATTRIB));
            Ok(m.Vfs.sys_chmod("/f", Mode.S_0600));
            Assert.Single(Drain(m, fd));
            // the oneshot watch no longer counts against max_user_watches
            Ok(m.inotify_add_watch(fd, "/g", IN_ATTRIB));
        });
        m.Teardown();
    }

    [Fact]
    public void MaskReplaceVsMaskAdd()
    {
        var m = NewMachine();
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            int fd = Ok(m.inotify_init());
            int wd = Ok(m.inotify_add_watch(fd, "/d", IN_CREATE));
            Assert.Equal(wd, m.inotify_add_watch(fd, "/d", IN_DELETE)); // replaces
            Ok(m.Vfs.sys_mkdir("/d/a"));
            Ok(m.Vfs.sys_rmdir("/d/a"));
            Assert.Equal(new[] { $"{wd} IN_DELETE|IN_ISDIR a" }, DrainShow(m, fd));
            Assert.Equal(wd, m.inotify_add_watch(fd, "/d", IN_CREATE | IN_MASK_ADD)); // adds
            Ok(m.Vfs.sys_mkdir("/d/b"));
            Ok(m.Vfs.sys_rmdir("/d/b"));
            Assert.Equal(new[] { $"{wd} IN_CREATE|IN_ISDIR b", $"{wd} IN_DELETE|IN_ISDIR b" }, DrainShow(m, fd));
        });
        m.Teardown();
    }

    [Fact]
    public void ReAddingReturnsTheSameWd_AlsoThroughAnotherPath()
    {
        var m = NewMachine();
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            Ok(m.Vfs.sys_mkdir("/d/e"));
            int fd = Ok(m.inotify_init());
            int wd = Ok(m.inotify_add_watch(fd, "/d", IN_CREATE));
            Assert.Equal(wd, m.inotify_add_watch(fd, "/d", IN_CREATE));
            Assert.Equal(wd, m.inotify_add_watch(fd, "/d/e/..", IN_CREATE));
            Assert.Equal(wd, m.inotify_add_watch(fd, "//d/./", IN_CREATE));
            Touch(m, "/d/f");
            Assert.Equal(new[] { $"{wd} IN_CREATE f" }, DrainShow(m, fd));
        });
        m.Teardown();
    }

    [Fact]
    public void WdsStartAtOneIncreaseAndAreNotReused_PerInstance()
    {
        var m = NewMachine();
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            for (int i = 0; i < 4; i++) Ok(m.Vfs.sys_mkdir($"/d{i}"));
            int fd1 = Ok(m.inotify_init());
            int fd2 = Ok(m.inotify_init());
            Assert.Equal(1, m.inotify_add_watch(fd1, "/d0", IN_CREATE));
            Assert.Equal(2, m.inotify_add_watch(fd1, "/d1", IN_CREATE));
            Assert.Equal(1, m.inotify_add_watch(fd2, "/d1", IN_CREATE)); // each instance has its own wds
            Assert.Equal(0, m.inotify_rm_watch(fd1, 2));
            Assert.Equal(3, m.inotify_add_watch(fd1, "/d2", IN_CREATE)); // 2 is not reused
            Assert.Equal(4, m.inotify_add_watch(fd1, "/d1", IN_CREATE)); // nor for the same inode
            Assert.Equal(2, m.inotify_add_watch(fd2, "/d3", IN_CREATE));
            Touch(m, "/d1/f");
            Assert.Equal(new[] { "2 IN_IGNORED", "4 IN_CREATE f" }, DrainShow(m, fd1));
            Assert.Equal(new[] { "1 IN_CREATE f" }, DrainShow(m, fd2));
        });
        m.Teardown();
    }

    [Fact]
    public void TwoInstancesBothGetEachEvent()
    {
        var m = NewMachine();
        var a = m.NewProcess("a", 1000);
        var b = m.NewProcess("b", 1001);
        Ok(m.As(a, () => m.Vfs.sys_mkdir("/d", Mode.S_0777)));
        int fa = m.As(a, () => Ok(m.inotify_init()));
        int fb = m.As(b, () => Ok(m.inotify_init()));
        m.As(a, () => Ok(m.inotify_add_watch(fa, "/d", IN_CREATE)));
        m.As(b, () => Ok(m.inotify_add_watch(fb, "/d", IN_CREATE)));
        m.As(b, () => Touch(m, "/d/f"));
        m.As(a, () => Assert.Equal(new[] { "1 IN_CREATE f" }, DrainShow(m, fa)));
        m.As(b, () =>
        {
            Assert.Equal(new[] { "1 IN_CREATE f" }, DrainShow(m, fb));
            Assert.Equal(0, m.close(fb));
        });
        m.As(a, () =>
        {
            Touch(m, "/d/g");
            Assert.Equal(new[] { "1 IN_CREATE g" }, DrainShow(m, fa));
        });
        m.Teardown();
    }

    [Fact]
    public void CloseWithWatchesFreesEverything()
    {
        var m = NewMachine();
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            Touch(m, "/f");
            int fd = Ok(m.inotify_init());
            Ok(m.inotify_add_watch(fd, "/d", IN_ALL_EVENTS));
            Ok(m.inotify_add_watch(fd, "/f", IN_ALL_EVENTS));
            Touch(m, "/d/x"); // events still queued at close
            Assert.Equal(0, m.close(fd));
            Assert.Equal(0, m.Vfs.CurrentProcess.User.inotify_watches.Peek);
            Assert.Equal(0, m.Vfs.CurrentProcess.User.inotify_devs.Peek);
            m.CheckQuiescent();
        });
        m.Teardown();
    }
}
