using System.Buffers.Binary;
using InotifySim.Model;
using InotifySim.Model.Inotify;
using InotifySim.Model.Kernel;
using static InotifySim.Model.Inotify.IN;
using static InotifySim.Tests.Property.Sequential.Seq;

namespace InotifySim.Tests.Property.Sequential;

/// <summary>
/// The read(2) ABI check (Machine.read_events and the machine's EventsRead hook), found missing by a mutation
/// review: read may not return more than count bytes, and the bytes must frame as inotify(7) says (whole
/// struct inotify_event headers, each name inside the buffer and null-terminated within len) before any oracle
/// parses them.
/// </summary>
public class ReadAbiTests
{
    private static byte[] Event(int wd, uint mask, byte[]? name)
    {
        var b = new byte[16 + (name?.Length ?? 0)];
        BinaryPrimitives.WriteInt32LittleEndian(b, wd);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), mask);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(12), (uint)(name?.Length ?? 0));
        name?.CopyTo(b, 16);
        return b;
    }

    private static byte[] Name(string s, int padded)
    {
        var b = new byte[padded];
        System.Text.Encoding.UTF8.GetBytes(s).CopyTo(b, 0);
        return b;
    }

    public static TheoryData<string, byte[], string?> Buffers => new()
    {
        { "one header, no name", Event(1, IN_IGNORED, null), null },
        { "a padded name", Event(1, IN_CREATE, Name("f", 16)), null },
        { "a 15-byte name in 16 (its NUL the last byte)", Event(1, IN_CREATE, Name("abcdefghijklmno", 16)), null },
        { "two events", Event(1, IN_CREATE, Name("f", 16)).Concat(Event(1, IN_IGNORED, null)).ToArray(), null },
        { "a 16-byte name in 16: no NUL", Event(1, IN_CREATE, Name("abcdefghijklmnop", 16)), "not null-terminated within len 16" },
        { "a truncated header", Event(1, IN_CREATE, null)[..10], "only 10 of the 16 header bytes" },
        { "a second truncated header", Event(1, IN_IGNORED, null).Concat(new byte[4]).ToArray(), "event 1 at byte 16: only 4 of the 16 header bytes" },
        { "len past the buffer", Event(1, IN_CREATE, Name("f", 16))[..24], "len 16 runs past the 24 bytes returned" },
    };

    [Theory]
    [MemberData(nameof(Buffers))]
    public void Framing(string what, byte[] buf, string? problem)
    {
        var p = InotifyEventRecord.FramingProblem(buf);
        if (problem is null) Assert.True(p is null, $"{what}: {p}");
        else Assert.True(p != null && p.Contains(problem), $"{what}: expected '{problem}', got '{p}'");
    }

    /// <summary>The model's own reads frame correctly, also for a name whose length is a multiple of 16 (padding adds a whole 16 bytes).</summary>
    [Theory]
    [InlineData("f")]
    [InlineData("abcdefghijklmno")]
    [InlineData("abcdefghijklmnop")]
    [InlineData("abcdefghijklmnopqrstuvwxyz012345")]
    public void The_models_reads_frame_as_inotify7_says(string name)
    {
        var m = NewMachine();
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            int fd = Ok(m.inotify_init());
            int wd = Ok(m.inotify_add_watch(fd, "/d", IN_CREATE));
            Touch(m, "/d/" + name);
            Assert.Equal(0, m.Vfs.sys_ioctl(fd, InotifyUser.FIONREAD, out int n));
            long r = m.Vfs.sys_read(fd, 1 << 16, out var data);
            Assert.Equal(n, r);
            Assert.Null(InotifyEventRecord.FramingProblem(data));
            var e = Assert.Single(InotifyEventRecord.Parse(data));
            Assert.Equal(name, e.Name);
            Assert.True(e.Len > System.Text.Encoding.UTF8.GetByteCount(name), $"len {e.Len} leaves no NUL for {name}");
        });
        m.Teardown();
    }

    /// <summary>
    /// Planted read-overruns-count (inotify_read copies every queued event whatever count): read(2) returns 64 bytes into
    /// a 32-byte buffer, reported at the return as a spec violation in inotify_read; the twin without the plant returns 32.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_read_that_returns_more_than_count_is_reported(bool planted)
    {
        var m = NewMachine();
        if (planted) m.K.Plant(Mistake.ReadOverrunsCount);
        var t = m.NewProcess("p", 1000);
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            int fd = Ok(m.inotify_init());
            Ok(m.inotify_add_watch(fd, "/d", IN_CREATE));
            Touch(m, "/d/a");
            Touch(m, "/d/b");
            if (planted)
            {
                var r = ExpectBug(m, () => m.read_events(fd, 32, out _));
                Assert.Equal(BugClass.SpecViolation, r.Class);
                Assert.Contains("read(2) returned 64 bytes into a buffer of 32", r.Title);
                AssertInvolves(r, "inotify_read");
                return;
            }
            Assert.Equal(32, m.read_events(fd, 32, out var evs));
            Assert.Equal("a", Assert.Single(evs).Name);
        });
        if (!planted) m.Teardown();
    }
}
