using System.Runtime.InteropServices;

namespace InotifySim.Tests.Property.Differential;

/// <summary>The real kernel through libc. Every call returns -errno on failure, like the model's syscalls.</summary>
internal static class Libc
{
    public const int IN_NONBLOCK = 0x800, IN_CLOEXEC = 0x80000;
    public const int O_WRONLY = 0x1, O_CREAT = 0x40, O_CLOEXEC = 0x80000;

    [DllImport("libc", SetLastError = true, EntryPoint = "inotify_init1")] private static extern int _inotify_init1(int flags);
    [DllImport("libc", SetLastError = true, EntryPoint = "inotify_add_watch")] private static extern int _inotify_add_watch(int fd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mask);
    [DllImport("libc", SetLastError = true, EntryPoint = "inotify_rm_watch")] private static extern int _inotify_rm_watch(int fd, int wd);
    [DllImport("libc", SetLastError = true, EntryPoint = "read")] private static extern nint _read(int fd, byte[] buf, nint count);
    [DllImport("libc", SetLastError = true, EntryPoint = "write")] private static extern nint _write(int fd, byte[] buf, nint count);
    [DllImport("libc", SetLastError = true, EntryPoint = "close")] private static extern int _close(int fd);
    [DllImport("libc", SetLastError = true, EntryPoint = "open")] private static extern int _open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mode);
    [DllImport("libc", SetLastError = true, EntryPoint = "mkdir")] private static extern int _mkdir([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode);
    [DllImport("libc", SetLastError = true, EntryPoint = "unlink")] private static extern int _unlink([MarshalAs(UnmanagedType.LPUTF8Str)] string path);
    [DllImport("libc", SetLastError = true, EntryPoint = "rmdir")] private static extern int _rmdir([MarshalAs(UnmanagedType.LPUTF8Str)] string path);
    [DllImport("libc", SetLastError = true, EntryPoint = "rename")] private static extern int _rename([MarshalAs(UnmanagedType.LPUTF8Str)] string from, [MarshalAs(UnmanagedType.LPUTF8Str)] string to);
    [DllImport("libc", SetLastError = true, EntryPoint = "chmod")] private static extern int _chmod([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode);

    private static long R(long r) => r < 0 ? -Marshal.GetLastPInvokeError() : r;

    public static long inotify_init1(int flags) => R(_inotify_init1(flags));
    public static long inotify_add_watch(int fd, string path, uint mask) => R(_inotify_add_watch(fd, path, mask));
    public static long inotify_rm_watch(int fd, int wd) => R(_inotify_rm_watch(fd, wd));
    public static long read(int fd, byte[] buf, int count) => R(_read(fd, buf, count));
    public static long write(int fd, int count) => R(_write(fd, new byte[Math.Max(1, count)], count));
    public static long close(int fd) => R(_close(fd));
    public static long open(string path, int flags, uint mode) => R(_open(path, flags | O_CLOEXEC, mode));
    public static long mkdir(string path, uint mode) => R(_mkdir(path, mode));
    public static long unlink(string path) => R(_unlink(path));
    public static long rmdir(string path) => R(_rmdir(path));
    public static long rename(string from, string to) => R(_rename(from, to));
    public static long chmod(string path, uint mode) => R(_chmod(path, mode));

    /// <summary>Is inotify usable here? (null when it is, else why not)</summary>
    public static string? Unavailable()
    {
        if (!OperatingSystem.IsLinux()) return "not Linux";
        try
        {
            long fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
            if (fd < 0) return $"inotify_init1 failed with errno {-fd}";
            close((int)fd);
            return null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return "libc inotify entry points not found: " + e.Message;
        }
    }
}
