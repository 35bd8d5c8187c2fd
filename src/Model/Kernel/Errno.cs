namespace InotifySim.Model.Kernel;

/// <summary>Linux errno values (asm-generic/errno-base.h); kernel functions return their negatives.</summary>
public static class Errno
{
    public const int EPERM = 1, ENOENT = 2, EINTR = 4, ENXIO = 6, EBADF = 9, EAGAIN = 11, ENOMEM = 12, EACCES = 13,
        EFAULT = 14, EBUSY = 16, EEXIST = 17, EXDEV = 18, ENOTDIR = 20, EISDIR = 21, EINVAL = 22,
        ENFILE = 23, EMFILE = 24, ENOTTY = 25, ENOSPC = 28, ESPIPE = 29, ERANGE = 34, ENAMETOOLONG = 36, ENOTEMPTY = 39, ELOOP = 40,
        ENODATA = 61, EOPNOTSUPP = 95;

    public static string Name(int e) => Math.Abs(e) switch
    {
        0 => "0",
        EPERM => "EPERM", ENOENT => "ENOENT", EINTR => "EINTR", ENXIO => "ENXIO", EBADF => "EBADF", EAGAIN => "EAGAIN",
        ENOMEM => "ENOMEM", EACCES => "EACCES", EFAULT => "EFAULT", EBUSY => "EBUSY", EEXIST => "EEXIST",
        EXDEV => "EXDEV", ENOTDIR => "ENOTDIR", EISDIR => "EISDIR", EINVAL => "EINVAL", ENFILE => "ENFILE",
        EMFILE => "EMFILE", ENOTTY => "ENOTTY", ENOSPC => "ENOSPC", ENAMETOOLONG => "ENAMETOOLONG",
        ENOTEMPTY => "ENOTEMPTY", ELOOP => "ELOOP", ESPIPE => "ESPIPE", ERANGE => "ERANGE", ENODATA => "ENODATA",
        EOPNOTSUPP => "EOPNOTSUPP",
        var x => "E" + x,
    };

    /// <summary>Renders a syscall return: a value, or -ERRNO.</summary>
    public static string Ret(long r) => r < 0 ? "-" + Name((int)-r) : r.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
