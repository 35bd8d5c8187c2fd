using static InotifySim.Model.Vfs.O;
using InotifySim.Model.Vfs;
using System.Buffers.Binary;
using System.Text;
using InotifySim.Model;
using InotifySim.Model.Inotify;
using InotifySim.Model.Kernel;
using static InotifySim.Model.Inotify.IN;
using static InotifySim.Tests.Property.Sequential.Seq;

namespace InotifySim.Tests.Property.Sequential;

/// <summary>The event queue as user space sees it: record layout and padding, FIONREAD, poll, short and non-blocking reads, coalescing, overflow.</summary>
public class QueueTests
{
    [Theory]
    [InlineData(1, 16)]
    [InlineData(15, 16)]
    [InlineData(16, 32)]
    [InlineData(17, 32)]
    [InlineData(31, 32)]
    [InlineData(32, 48)]
    public void NamePaddingAndLen(int nameLength, int expectedLen)
    {
        Assert.Equal(expectedLen, InotifyUser.PaddedLen(nameLength));
        var name = new string('n', nameLength);
        var m = NewMachine();
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            int fd = Ok(m.inotify_init());
            int wd = Ok(m.inotify_add_watch(fd, "/d", IN_CREATE));
            Ok(m.Vfs.sys_mkdir("/d/" + name));
            Assert.Equal(0, m.Vfs.sys_ioctl(fd, InotifyUser.FIONREAD, out int queued));
            Assert.Equal(EVENT_SIZE + expectedLen, queued);
            long r = m.Vfs.sys_read(fd, 4096, out var raw);
            Assert.Equal(EVENT_SIZE + expectedLen, r);
            Assert.Equal(r, raw.Length);
            Assert.Equal(wd, BinaryPrimitives.ReadInt32LittleEndian(raw.AsSpan(0)));
            Assert.Equal(IN_CREATE | IN_ISDIR, BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(4)));
            Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(8)));
            Assert.Equal((uint)expectedLen, BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(12)));
            Assert.Equal(name, Encoding.ASCII.GetString(raw, EVENT_SIZE, nameLength));
            // NUL-terminated and NUL-padded up to len
            Assert.All(raw.AsSpan(EVENT_SIZE + nameLength).ToArray(), b => Assert.Equal(0, b));
            Assert.Equal(0, (EVENT_SIZE + expectedLen) % EVENT_SIZE);
        });
        m.Teardown();
    }

    [Fact]
    public void RawLayoutOfSeveralRecords()
    {
        var m = NewMachine();
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Touch(m, "/f");
            Ok(m.Vfs.sys_mkdir("/d"));
            int fd = Ok(m.inotify_init());
            int wf = Ok(m.inotify_add_watch(fd, "/f", IN_ATTRIB));
            int wd = Ok(m.inotify_add_watch(fd, "/d", IN_MOVE));
            Ok(m.Vfs.sys_chmod("/f", Mode.S_0600));
            Touch(m, "/d/a");
            Ok(m.Vfs.sys_rename("/d/a", "/d/bb"));
            long r = m.Vfs.sys_read(fd, 4096, out var raw);
            Assert.Equal(16 + 32 + 32, r);
            var expected = new List<byte>();
            void Rec(int w, uint mask, uint cookie, string? n)
            {
                var h = new byte[16];
                BinaryPrimitives.WriteInt32LittleEndian(h, w);
                BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(4), mask);
                BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(8), cookie);
                BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(12), n is null ? 0u : 16u);
                expected.AddRange(h);
                if (n != null) { var nb = new byte[16]; Encoding.ASCII.GetBytes(n).CopyTo(nb, 0); expected.AddRange(nb); }
            }
            uint cookie = BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(16 + 8));
            Assert.NotEqual(0u, cookie);
            Rec(wf, IN_ATTRIB, 0, null);
            Rec(wd, IN_MOVED_FROM, cookie, "a");
            Rec(wd, IN_MOVED_TO, cookie, "bb");
            Assert.Equal(expected.ToArray(), raw);
        });
        m.Teardown();
    }

    [Fact]
    public void FionreadEqualsQueuedBytes_AndOtherIoctlsAreEnotty()
    {
        var m = NewMachine();
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            int fd = Ok(m.inotify_init());
            Ok(m.inotify_add_watch(fd, "/d", IN_ALL_EVENTS));
            Assert.Equal(0, m.Vfs.sys_ioctl(fd, InotifyUser.FIONREAD, out int n0));
            Assert.Equal(0, n0);
            Touch(m, "/d/a");                                  // 3 events x (16 + 16)
            Ok(m.Vfs.sys_mkdir("/d/" + new string('x', 20)));  // 16 + 32
            Assert.Equal(0, m.Vfs.sys_ioctl(fd, InotifyUser.FIONREAD, out int n1));
            Assert.Equal(3 * 32 + 48, n1);
            long r = m.read_events(fd, 64, out var two);
            Assert.Equal(64, r);
            Assert.Equal(2, two.Count);
            Assert.Equal(0, m.Vfs.sys_ioctl(fd, InotifyUser.FIONREAD, out int n2));
            Assert.Equal(32 + 48, n2);
            Assert.Equal(-Errno.ENOTTY, m.Vfs.sys_ioctl(fd, 0x5401 /* TCGETS */, out _));
            Assert.Equal(-Errno.EBADF, m.Vfs.sys_ioctl(99, InotifyUser.FIONREAD, out _));
        });
        m.Teardown();
    }

    [Fact]
    public void PollReportsReadableExactlyWhileEventsAreQueued()
    {
        var m = NewMachine();
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            int fd = Ok(m.inotify_init());
            Ok(m.inotify_add_watch(fd, "/d", IN_CREATE));
            Assert.Equal(0, m.Vfs.sys_poll(fd, out uint rev0));
            Assert.Equal(0u, rev0);
            Touch(m, "/d/a");
            Assert.Equal(1, m.Vfs.sys_poll(fd, out uint rev1));
            Assert.Equal(InotifyUser.POLLIN | InotifyUser.POLLRDNORM, rev1);
            Assert.Single(Drain(m, fd));
            Assert.Equal(0, m.Vfs.sys_poll(fd, out uint rev2));
            Assert.Equal(0u, rev2);
        });
        m.Teardown();
    }

    [Fact]
    public void ReadWithBufferTooSmallForFirstEventReturnsZeroAndLosesNothing()
    {
        // 2.6.17: the loop breaks before copying anything and read() returns 0 (-EINVAL only from 2.6.21)
        var m = NewMachine();
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            int fd = Ok(m.inotify_init());
            int wd = Ok(m.inotify_add_watch(fd, "/d", IN_CREATE | IN_DELETE));
            Touch(m, "/d/a");
            Ok(m.Vfs.sys_unlink("/d/a"));
            Assert.Equal(0, m.read_events(fd, 0, out var e0));
            Assert.Empty(e0);
            Assert.Equal(0, m.read_events(fd, 16, out var e1));
            Assert.Empty(e1);
            Assert.Equal(0, m.read_events(fd, 31, out var e2));
            Assert.Empty(e2);
            Assert.Equal(0, m.Vfs.sys_ioctl(fd, InotifyUser.FIONREAD, out int n));
            Assert.Equal(64, n);
            // a buffer for one and a half events returns only the first
            Assert.Equal(32, m.read_events(fd, 48, out var e3));
            Assert.Equal(new[] { $"{wd} IN_CREATE a" }, Show(e3));
            Assert.Equal(32, m.read_events(fd, 32, out var e4));
            Assert.Equal(new[] { $"{wd} IN_DELETE a" }, Show(e4));
        });
        m.Teardown();
    }

    [Fact]
    public void NonblockingReadOnEmptyQueueIsEagain()
    {
        var m = NewMachine();
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            int fd = Ok(m.inotify_init_nonblock());
            int wd = Ok(m.inotify_add_watch(fd, "/d", IN_CREATE));
            Assert.Equal(-Errno.EAGAIN, m.read_events(fd, 4096, out var none));
            Assert.Empty(none);
            Touch(m, "/d/a");
            Assert.Equal(32, m.read_events(fd, 4096, out var evs));
            Assert.Equal(new[] { $"{wd} IN_CREATE a" }, Show(evs));
            Assert.Equal(-Errno.EAGAIN, m.read_events(fd, 4096, out _));
        });
        m.Teardown();
    }

    [Fact]
    public void IdenticalConsecutiveEventsAreCoalesced()
    {
        var m = NewMachine();
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            int fd = Ok(m.inotify_init());
            int wd = Ok(m.inotify_add_watch(fd, "/d", IN_MODIFY));
            int f = Ok(m.Vfs.sys_open("/d/f", O_CREAT | O_WRONLY));
            for (int i = 0; i < 5; i++) Assert.Equal(1, m.Vfs.sys_write(f, 1));
            Assert.Equal(new[] { $"{wd} IN_MODIFY f" }, DrainShow(m, fd));
            // coalescing is only against the queue: once read, the same event is queued again
            Assert.Equal(1, m.Vfs.sys_write(f, 1));
            Assert.Equal(new[] { $"{wd} IN_MODIFY f" }, DrainShow(m, fd));
            Assert.Equal(0, m.close(f));
        });
        m.Teardown();
    }

    [Fact]
    public void EventsDifferingInNameWdOrMaskAreNotCoalesced()
    {
        var m = NewMachine();
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            Touch(m, "/d/f");
            Touch(m, "/d/g");
            int fd = Ok(m.inotify_init());
            int wd = Ok(m.inotify_add_watch(fd, "/d", IN_ATTRIB | IN_MODIFY));
            int wf = Ok(m.inotify_add_watch(fd, "/d/f", IN_ATTRIB));
            Ok(m.Vfs.sys_chmod("/d/g", Mode.S_0600));
            Ok(m.Vfs.sys_chmod("/d/f", Mode.S_0600));
            int g = Ok(m.Vfs.sys_open("/d/g", O_WRONLY));
            Assert.Equal(1, m.Vfs.sys_write(g, 1));
            Assert.Equal(0, m.close(g));
            Assert.Equal(new[] { $"{wd} IN_ATTRIB g", $"{wf} IN_ATTRIB", $"{wd} IN_ATTRIB f", $"{wd} IN_MODIFY g" }, DrainShow(m, fd));
        });
        m.Teardown();
    }

    [Fact]
    public void ABA_IsDeliveredInFull()
    {
        var m = NewMachine();
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            Touch(m, "/d/a");
            Touch(m, "/d/b");
            int fd = Ok(m.inotify_init());
            int wd = Ok(m.inotify_add_watch(fd, "/d", IN_ATTRIB));
            Ok(m.Vfs.sys_chmod("/d/a", Mode.S_0600));
            Ok(m.Vfs.sys_chmod("/d/b", Mode.S_0600));
            Ok(m.Vfs.sys_chmod("/d/a", Mode.S_0644));
            Assert.Equal(new[] { $"{wd} IN_ATTRIB a", $"{wd} IN_ATTRIB b", $"{wd} IN_ATTRIB a" }, DrainShow(m, fd));
        });
        m.Teardown();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void OverflowQueuesExactlyOneQOverflowAndDropsTheRest(int max)
    {
        var m = NewMachine(configure: o => o.MaxQueuedEvents = max);
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            int fd = Ok(m.inotify_init());
            int wd = Ok(m.inotify_add_watch(fd, "/d", IN_CREATE));
            for (int i = 0; i < max + 5; i++) Ok(m.Vfs.sys_mkdir($"/d/s{i}"));
            Assert.Equal(0, m.Vfs.sys_ioctl(fd, InotifyUser.FIONREAD, out int n));
            Assert.Equal(max * 32 + 16, n);
            var evs = Drain(m, fd);
            Assert.Equal(max + 1, evs.Count);
            for (int i = 0; i < max; i++)
                Assert.Equal($"{wd} IN_CREATE|IN_ISDIR s{i}", Show(evs)[i]);
            var o = evs[^1];
            Assert.Equal(new InotifyEventRecord(-1, IN_Q_OVERFLOW, 0, 0, null), o);
            // once read, the queue accepts events again
            Ok(m.Vfs.sys_mkdir("/d/again"));
            Assert.Equal(new[] { $"{wd} IN_CREATE|IN_ISDIR again" }, DrainShow(m, fd));
        });
        m.Teardown();
    }

    [Fact]
    public void OverflowDropsIgnoredToo_ButTheWatchIsStillFreed()
    {
        var m = NewMachine(configure: o => o.MaxQueuedEvents = 2);
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            int fd = Ok(m.inotify_init());
            int wd = Ok(m.inotify_add_watch(fd, "/d", IN_CREATE));
            for (int i = 0; i < 3; i++) Touch(m, $"/d/f{i}");
            Assert.Equal(0, m.inotify_rm_watch(fd, wd));
            Assert.Equal(0, m.Vfs.CurrentProcess.User.inotify_watches.Peek);
            var evs = Drain(m, fd);
            Assert.Equal(new[] { $"{wd} IN_CREATE f0", $"{wd} IN_CREATE f1", "-1 IN_Q_OVERFLOW" }, Show(evs));
            m.CheckQuiescent();
        });
        m.Teardown();
    }
}
