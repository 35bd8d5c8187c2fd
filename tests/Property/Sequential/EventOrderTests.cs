using static InotifySim.Model.Vfs.O;
using InotifySim.Model.Vfs;
using InotifySim.Model;
using InotifySim.Model.Inotify;
using InotifySim.Model.Kernel;
using static InotifySim.Model.Inotify.IN;
using static InotifySim.Tests.Property.Sequential.Seq;

namespace InotifySim.Tests.Property.Sequential;

/// <summary>inotify(7) events and their order on the fixed variant, in a watched directory and on a watched file.</summary>
public class EventOrderTests
{
    [Fact]
    public void CreateOpenWriteCloseInWatchedDirectory()
    {
        var m = NewMachine();
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            int fd = Ok(m.inotify_init());
            int wd = Ok(m.inotify_add_watch(fd, "/d", IN_ALL_EVENTS));
            int f = Ok(m.Vfs.sys_open("/d/f", O_CREAT | O_WRONLY));
            Assert.Equal(5, m.Vfs.sys_write(f, 5));
            Assert.Equal(0, m.close(f));
            int g = Ok(m.Vfs.sys_open("/d/f", O_RDONLY));
            Assert.Equal(5, m.Vfs.sys_read(g, 100, out _));
            Assert.Equal(0, m.close(g));
            var evs = Drain(m, fd);
            Assert.Equal(new[]
            {
                $"{wd} IN_CREATE f", $"{wd} IN_OPEN f", $"{wd} IN_MODIFY f", $"{wd} IN_CLOSE_WRITE f",
                $"{wd} IN_OPEN f", $"{wd} IN_ACCESS f", $"{wd} IN_CLOSE_NOWRITE f",
            }, Show(evs));
            Assert.All(evs, e => Assert.Equal(0u, e.Cookie));
        });
        m.Teardown();
    }

    [Fact]
    public void ReadWriteOfZeroBytesSendNoEvent()
    {
        // vfs_read/vfs_write: fsnotify_access/fsnotify_modify only "if (ret > 0)"
        var m = NewMachine();
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            int fd = Ok(m.inotify_init());
            int wd = Ok(m.inotify_add_watch(fd, "/d", IN_ACCESS | IN_MODIFY));
            int f = Ok(m.Vfs.sys_open("/d/f", O_CREAT | O_RDWR));
            Assert.Equal(0, m.Vfs.sys_read(f, 100, out _)); // empty file
            Assert.Equal(0, m.Vfs.sys_write(f, 0));
            Assert.Empty(Drain(m, fd));
            Assert.Equal(1, m.Vfs.sys_write(f, 1));
            Assert.Equal(0, m.Vfs.sys_lseek(f, 0, SEEK_SET)); // the write moved the offset to the end
            Assert.Equal(1, m.Vfs.sys_read(f, 100, out _));
            Assert.Equal(new[] { $"{wd} IN_MODIFY f", $"{wd} IN_ACCESS f" }, DrainShow(m, fd));
            Assert.Equal(0, m.close(f));
        });
        m.Teardown();
    }

    [Fact]
    public void DirectoryEventsCarryIsdir()
    {
        var m = NewMachine();
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            int fd = Ok(m.inotify_init());
            int wd = Ok(m.inotify_add_watch(fd, "/d", IN_ALL_EVENTS));
            Ok(m.Vfs.sys_mkdir("/d/sub"));
            int s = Ok(m.Vfs.sys_open("/d/sub", O_RDONLY));
            Assert.Equal(0, m.close(s));
            Ok(m.Vfs.sys_chmod("/d/sub", Mode.S_IRWXU));
            Ok(m.Vfs.sys_rename("/d/sub", "/d/sub2"));
            Ok(m.Vfs.sys_rmdir("/d/sub2"));
            var evs = Drain(m, fd);
            Assert.Equal(new[]
            {
                $"{wd} IN_CREATE|IN_ISDIR sub", $"{wd} IN_OPEN|IN_ISDIR sub", $"{wd} IN_CLOSE_NOWRITE|IN_ISDIR sub",
                $"{wd} IN_ATTRIB|IN_ISDIR sub", $"{wd} IN_MOVED_FROM|IN_ISDIR sub", $"{wd} IN_MOVED_TO|IN_ISDIR sub2",
                $"{wd} IN_DELETE|IN_ISDIR sub2",
            }, Show(evs));
        });
        m.Teardown();
    }

    [Fact]
    public void FileEventsDoNotCarryIsdir()
    {
        var m = NewMachine();
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            int fd = Ok(m.inotify_init());
            Ok(m.inotify_add_watch(fd, "/d", IN_ALL_EVENTS));
            Touch(m, "/d/f");
            Ok(m.Vfs.sys_chmod("/d/f", Mode.S_0600));
            Ok(m.Vfs.sys_setxattr("/d/f"));
            Ok(m.Vfs.sys_rename("/d/f", "/d/g"));
            Ok(m.Vfs.sys_unlink("/d/g"));
            var evs = Drain(m, fd);
            Assert.Equal(7, evs.Count); // CREATE OPEN CLOSE_WRITE ATTRIB (chmod and setxattr coalesced) MOVED_FROM MOVED_TO DELETE
            Assert.All(evs, e => Assert.Equal(0u, e.Mask & IN_ISDIR));
        });
        m.Teardown();
    }

    [Fact]
    public void RenameInOneDirectoryPairsMovedFromAndMovedToByCookie()
    {
        var m = NewMachine();
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            Touch(m, "/d/a");
            Touch(m, "/d/c");
            int fd = Ok(m.inotify_init());
            int wd = Ok(m.inotify_add_watch(fd, "/d", IN_MOVE));
            Ok(m.Vfs.sys_rename("/d/a", "/d/b"));
            Ok(m.Vfs.sys_rename("/d/c", "/d/e"));
            var evs = Drain(m, fd);
            Assert.Equal(new[] { $"{wd} IN_MOVED_FROM a", $"{wd} IN_MOVED_TO b", $"{wd} IN_MOVED_FROM c", $"{wd} IN_MOVED_TO e" }, Show(evs));
            Assert.NotEqual(0u, evs[0].Cookie);
            Assert.Equal(evs[0].Cookie, evs[1].Cookie);
            Assert.NotEqual(0u, evs[2].Cookie);
            Assert.Equal(evs[2].Cookie, evs[3].Cookie);
            Assert.NotEqual(evs[0].Cookie, evs[2].Cookie);
        });
        m.Teardown();
    }

    [Fact]
    public void RenameAcrossDirectoriesPairsTheTwoWatchesByCookie()
    {
        var m = NewMachine();
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/a"));
            Ok(m.Vfs.sys_mkdir("/b"));
            Touch(m, "/a/f");
            int fd = Ok(m.inotify_init());
            int wa = Ok(m.inotify_add_watch(fd, "/a", IN_ALL_EVENTS));
            int wb = Ok(m.inotify_add_watch(fd, "/b", IN_ALL_EVENTS));
            int wf = Ok(m.inotify_add_watch(fd, "/a/f", IN_ALL_EVENTS));
            Assert.Equal(new[] { 1, 2, 3 }, new[] { wa, wb, wf });
            Ok(m.Vfs.sys_rename("/a/f", "/b/g"));
            var evs = Drain(m, fd);
            Assert.Equal(new[] { $"{wa} IN_MOVED_FROM f", $"{wb} IN_MOVED_TO g", $"{wf} IN_MOVE_SELF" }, Show(evs));
            Assert.NotEqual(0u, evs[0].Cookie);
            Assert.Equal(evs[0].Cookie, evs[1].Cookie);
            Assert.Equal(0u, evs[2].Cookie);
            // the watch follows the inode to its new name
            int w = Ok(m.Vfs.sys_open("/b/g", O_WRONLY));
            Assert.Equal(0, m.close(w));
            Assert.Equal(new[] { $"{wb} IN_OPEN g", $"{wf} IN_OPEN", $"{wb} IN_CLOSE_WRITE g", $"{wf} IN_CLOSE_WRITE" }, DrainShow(m, fd));
        });
        m.Teardown();
    }

    [Fact]
    public void RenameOverAWatchedFileKillsItsWatch()
    {
        var m = NewMachine();
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            Touch(m, "/d/a");
            Touch(m, "/d/b");
            int fd = Ok(m.inotify_init());
            int wd = Ok(m.inotify_add_watch(fd, "/d", IN_MOVE | IN_DELETE));
            int wb = Ok(m.inotify_add_watch(fd, "/d/b", IN_ALL_EVENTS));
            Ok(m.Vfs.sys_rename("/d/a", "/d/b"));
            Assert.Equal(new[] { $"{wd} IN_MOVED_FROM a", $"{wd} IN_MOVED_TO b", $"{wb} IN_DELETE_SELF", $"{wb} IN_IGNORED" }, DrainShow(m, fd));
            Assert.Equal(-Errno.EINVAL, m.inotify_rm_watch(fd, wb));
        });
        m.Teardown();
    }

    [Fact]
    public void UnlinkInWatchedDirectory()
    {
        var m = NewMachine();
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            Touch(m, "/d/f");
            int fd = Ok(m.inotify_init());
            int wd = Ok(m.inotify_add_watch(fd, "/d", IN_ALL_EVENTS));
            Ok(m.Vfs.sys_unlink("/d/f"));
            Assert.Equal(new[] { $"{wd} IN_DELETE f" }, DrainShow(m, fd));
        });
        m.Teardown();
    }

    [Fact]
    public void UnlinkOfWatchedFileInWatchedDirectory_DeleteSelfBeforeDelete()
    {
        // d_delete: the only user of the dentry, so dentry_iput (IN_DELETE_SELF, IN_IGNORED) runs before fsnotify_nameremove
        var m = NewMachine();
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            Touch(m, "/d/f");
            int fd = Ok(m.inotify_init());
            int wd = Ok(m.inotify_add_watch(fd, "/d", IN_ALL_EVENTS));
            int wf = Ok(m.inotify_add_watch(fd, "/d/f", IN_ALL_EVENTS));
            Ok(m.Vfs.sys_unlink("/d/f"));
            Assert.Equal(new[] { $"{wf} IN_DELETE_SELF", $"{wf} IN_IGNORED", $"{wd} IN_DELETE f" }, DrainShow(m, fd));
        });
        m.Teardown();
    }

    [Fact]
    public void RmdirOfWatchedDirectoryInWatchedDirectory_DeleteBeforeDeleteSelf()
    {
        // vfs_rmdir: dentry_unhash takes a reference, so d_delete sends IN_DELETE|IN_ISDIR on the parent
        // and the dentry dies (IN_DELETE_SELF, IN_IGNORED) at the final dput
        var m = NewMachine();
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            Ok(m.Vfs.sys_mkdir("/d/s"));
            int fd = Ok(m.inotify_init());
            int wd = Ok(m.inotify_add_watch(fd, "/d", IN_ALL_EVENTS));
            int ws = Ok(m.inotify_add_watch(fd, "/d/s", IN_ALL_EVENTS));
            Ok(m.Vfs.sys_rmdir("/d/s"));
            Assert.Equal(new[] { $"{wd} IN_DELETE|IN_ISDIR s", $"{ws} IN_DELETE_SELF", $"{ws} IN_IGNORED" }, DrainShow(m, fd));
        });
        m.Teardown();
    }

    [Fact]
    public void RmdirOfWatchedDirectoryThatHeldAFile_DeleteSelf()
    {
        var m = NewMachine();
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/s"));
            int fd = Ok(m.inotify_init());
            int ws = Ok(m.inotify_add_watch(fd, "/s", IN_ALL_EVENTS));
            Touch(m, "/s/f");
            Ok(m.Vfs.sys_unlink("/s/f"));
            Ok(m.Vfs.sys_rmdir("/s"));
            Assert.Equal(new[]
            {
                $"{ws} IN_CREATE f", $"{ws} IN_OPEN f", $"{ws} IN_CLOSE_WRITE f", $"{ws} IN_DELETE f",
                $"{ws} IN_DELETE_SELF", $"{ws} IN_IGNORED",
            }, DrainShow(m, fd));
        });
        m.Teardown();
    }

    [Theory]
    [InlineData(Fix.All)]
    // without child-flags-race the 2.6.17 WARN_ONs in d_instantiate and set_dentry_child_flags are live
    [InlineData(Fix.All & ~Fix.ChildFlagsRace)]
    public void RecreatingAnUnlinkedNameInWatchedDirectory(Fix fixes)
    {
        // the unlinked name stays as a negative dentry; d_delete must have cleared its
        // DCACHE_INOTIFY_PARENT_WATCHED or d_instantiate WARNs when the name is reused
        Assert.Equal(Variants.AllBut(Fix.ChildFlagsRace) | (fixes & Fix.ChildFlagsRace), fixes);
        var m = NewMachine(fixes);
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            int fd = Ok(m.inotify_init());
            int wd = Ok(m.inotify_add_watch(fd, "/d", IN_CREATE | IN_DELETE | IN_ATTRIB));
            Touch(m, "/d/f");
            Ok(m.Vfs.sys_unlink("/d/f"));
            Touch(m, "/d/f");
            Ok(m.Vfs.sys_chmod("/d/f", Mode.S_0600));
            Assert.Equal(new[] { $"{wd} IN_CREATE f", $"{wd} IN_DELETE f", $"{wd} IN_CREATE f", $"{wd} IN_ATTRIB f" }, DrainShow(m, fd));
            Assert.Equal(0, m.inotify_rm_watch(fd, wd));
            Assert.Equal(new[] { $"{wd} IN_IGNORED" }, DrainShow(m, fd));
        });
        m.Teardown();
    }

    [Fact]
    public void RmdirOfWatchedDirectoryHoldingAnOpenUnlinkedFile_DeleteSelfAtItsLastClose()
    {
        var m = NewMachine();
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/s"));
            int f = Ok(m.Vfs.sys_open("/s/f", O_CREAT | O_WRONLY));
            int fd = Ok(m.inotify_init());
            int ws = Ok(m.inotify_add_watch(fd, "/s", IN_DELETE | IN_DELETE_SELF | IN_CLOSE));
            Ok(m.Vfs.sys_unlink("/s/f"));
            Ok(m.Vfs.sys_rmdir("/s"));
            Assert.Equal(new[] { $"{ws} IN_DELETE f" }, DrainShow(m, fd));
            Assert.Equal(0, m.close(f));
            Assert.Equal(new[] { $"{ws} IN_CLOSE_WRITE f", $"{ws} IN_DELETE_SELF", $"{ws} IN_IGNORED" }, DrainShow(m, fd));
        });
        m.Teardown();
    }

    [Fact]
    public void WatchedFileEventsHaveNoName()
    {
        var m = NewMachine();
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Touch(m, "/f");
            int fd = Ok(m.inotify_init());
            int wf = Ok(m.inotify_add_watch(fd, "/f", IN_ALL_EVENTS));
            int f = Ok(m.Vfs.sys_open("/f", O_RDWR));
            Assert.Equal(2, m.Vfs.sys_write(f, 2));
            Assert.Equal(0, m.Vfs.sys_lseek(f, 0, SEEK_SET)); // the write moved the offset to the end
            Assert.Equal(2, m.Vfs.sys_read(f, 10, out _));
            Assert.Equal(0, m.close(f));
            Ok(m.Vfs.sys_chmod("/f", Mode.S_0644));
            Ok(m.Vfs.sys_setxattr("/f"));
            Ok(m.Vfs.sys_rename("/f", "/g"));
            var evs = Drain(m, fd);
            Assert.Equal(new[]
            {
                $"{wf} IN_OPEN", $"{wf} IN_MODIFY", $"{wf} IN_ACCESS", $"{wf} IN_CLOSE_WRITE",
                $"{wf} IN_ATTRIB", $"{wf} IN_MOVE_SELF",
            }, Show(evs));
            // the two IN_ATTRIB (chmod, setxattr) were coalesced
            Assert.All(evs, e => { Assert.Equal(0u, e.Len); Assert.Null(e.Name); });
        });
        m.Teardown();
    }

    [Fact]
    public void WatchedFileInWatchedDirectory_ParentEventFirst()
    {
        var m = NewMachine();
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            Touch(m, "/d/f");
            int fd = Ok(m.inotify_init());
            int wd = Ok(m.inotify_add_watch(fd, "/d", IN_ALL_EVENTS));
            int wf = Ok(m.inotify_add_watch(fd, "/d/f", IN_ALL_EVENTS));
            int f = Ok(m.Vfs.sys_open("/d/f", O_WRONLY));
            Assert.Equal(0, m.close(f));
            Ok(m.Vfs.sys_chmod("/d/f", Mode.S_0600));
            // fsnotify_open/close: parent then inode; fsnotify_change: inode then parent
            Assert.Equal(new[]
            {
                $"{wd} IN_OPEN f", $"{wf} IN_OPEN", $"{wd} IN_CLOSE_WRITE f", $"{wf} IN_CLOSE_WRITE",
                $"{wf} IN_ATTRIB", $"{wd} IN_ATTRIB f",
            }, DrainShow(m, fd));
        });
        m.Teardown();
    }

    [Fact]
    public void MaskFiltersEvents()
    {
        var m = NewMachine();
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            int fd = Ok(m.inotify_init());
            int wd = Ok(m.inotify_add_watch(fd, "/d", IN_CREATE | IN_DELETE));
            int f = Ok(m.Vfs.sys_open("/d/f", O_CREAT | O_WRONLY));
            Assert.Equal(1, m.Vfs.sys_write(f, 1));
            Assert.Equal(0, m.close(f));
            Ok(m.Vfs.sys_unlink("/d/f"));
            Assert.Equal(new[] { $"{wd} IN_CREATE f", $"{wd} IN_DELETE f" }, DrainShow(m, fd));
        });
        m.Teardown();
    }
}
