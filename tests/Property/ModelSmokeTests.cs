using static InotifySim.Model.Vfs.O;
using InotifySim.Model.Vfs;
using InotifySim.Model;
using InotifySim.Model.Inotify;
using InotifySim.Model.Kernel;
using static InotifySim.Model.Inotify.IN;

namespace InotifySim.Tests.Property;

public class ModelSmokeTests
{
    [Fact]
    public void CreateWriteCloseInWatchedDirectory()
    {
        var m = new Machine(new MachineOptions { Fixes = Fix.All });
        var t = m.NewProcess("watcher", 0);
        m.As(t, () =>
        {
            Assert.Equal(0, m.Vfs.sys_mkdir("/d"));
            int fd = (int)m.inotify_init();
            Assert.True(fd >= 0);
            Assert.Equal(1, m.inotify_add_watch(fd, "/d", IN_ALL_EVENTS));
            int f = (int)m.Vfs.sys_open("/d/f", O.O_CREAT | O.O_WRONLY);
            Assert.True(f >= 0, Errno.Ret(f));
            Assert.Equal(3, m.Vfs.sys_write(f, 3));
            Assert.Equal(0, m.close(f));
            long r = m.read_events(fd, 4096, out var evs);
            Assert.True(r > 0, Errno.Ret(r));
            Assert.Equal(new[] { "IN_CREATE f", "IN_OPEN f", "IN_MODIFY f", "IN_CLOSE_WRITE f" },
                evs.Select(e => $"{e.MaskNames} {e.Name}").ToArray());
            m.CheckQuiescent();
        });
        m.Teardown();
    }
}
