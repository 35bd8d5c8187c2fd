using static InotifySim.Model.Vfs.O;
using InotifySim.Model.Vfs;
using InotifySim.Model;
using InotifySim.Model.Inotify;
using InotifySim.Model.Kernel;
using static InotifySim.Model.Inotify.IN;

namespace InotifySim.Tests.Property.Sequential;

/// <summary>Helpers for the sequential tests: a machine, a process, reading and rendering events.</summary>
internal static class Seq
{

    public static Machine NewMachine(Fix fixes = Fix.All, Action<MachineOptions>? configure = null)
    {
        var o = new MachineOptions { Fixes = fixes };
        configure?.Invoke(o);
        return new Machine(o);
    }

    /// <summary>Asserts a syscall succeeded (non-negative) and returns its value as an int.</summary>
    public static int Ok(long r, string what = "syscall")
    {
        Assert.True(r >= 0, $"{what} failed: {Errno.Ret(r)}");
        return (int)r;
    }

    public static long Err(int errno) => -errno;

    /// <summary>Reads everything queued on <paramref name="fd"/> (non-blocking: only when events are queued).</summary>
    public static List<InotifyEventRecord> Drain(Machine m, int fd)
    {
        var all = new List<InotifyEventRecord>();
        while (true)
        {
            Assert.Equal(0, m.Vfs.sys_ioctl(fd, InotifyUser.FIONREAD, out int n));
            if (n == 0) return all;
            long r = m.read_events(fd, 1 << 16, out var evs);
            Assert.True(r > 0, $"read returned {Errno.Ret(r)} with {n} bytes queued");
            all.AddRange(evs);
        }
    }

    /// <summary>"wd MASK name" lines (name omitted when there is none).</summary>
    public static string[] Show(IEnumerable<InotifyEventRecord> evs) =>
        evs.Select(e => e.Name is null ? $"{e.Wd} {e.MaskNames}" : $"{e.Wd} {e.MaskNames} {e.Name}").ToArray();

    public static string[] DrainShow(Machine m, int fd) => Show(Drain(m, fd));

    /// <summary>Creates a file (open O_CREAT|O_WRONLY, close) and returns nothing.</summary>
    public static void Touch(Machine m, string path)
    {
        int f = Ok(m.Vfs.sys_open(path, O_CREAT | O_WRONLY), "open " + path);
        Assert.Equal(0, m.close(f));
    }

    /// <summary>Runs <paramref name="body"/> expecting a kernel bug report; returns it (also checks K.FirstReport).</summary>
    public static Report ExpectBug(Machine m, Action body)
    {
        var e = Assert.Throws<KernelBugException>(body);
        Assert.Same(e.Report, m.K.FirstReport);
        return e.Report;
    }

    public static void AssertInvolves(Report r, params string[] fns)
    {
        foreach (var f in fns)
            Assert.True(r.Functions.Contains(f), $"report does not involve {f}: {r.Summary}");
    }
}
