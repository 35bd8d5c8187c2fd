using System.Globalization;
using InotifySim.Model.Inotify;
using InotifySim.Model.Kernel;

namespace InotifySim.Model.Vfs;

/// <summary>What an argument of a <see cref="SysOp"/> is: how a script spells it and what value the op receives.</summary>
public enum ArgKind
{
    /// <summary>A descriptor: a number or $var (long).</summary>
    Fd,
    /// <summary>A watch descriptor: a number or $var (long).</summary>
    Wd,
    /// <summary>A count, size, offset or id: a number or $var (long).</summary>
    Num,
    /// <summary>A path, absolute or relative to the cwd (string).</summary>
    Path,
    /// <summary>An inotify mask: IN_* names joined by '|', or a number (uint).</summary>
    Mask,
    /// <summary>A permission mode in octal, e.g. 0755 (int).</summary>
    Mode,
    /// <summary>Open flags: rdonly|wronly|rdwr|creat|excl|trunc|append|nonblock|directory|nofollow joined by '|', or a number (int); an unsupported bit is an error.</summary>
    OpenFlags,
    /// <summary>A path, or a descriptor (string or long).</summary>
    PathOrFd,
    /// <summary>A word from the op's keyword list (string).</summary>
    Keyword,
    /// <summary>An extended-attribute name, e.g. user.x (string).</summary>
    Name,
}

/// <summary>One argument of an operation.</summary>
public sealed record ArgSpec(string Name, ArgKind Kind, bool Optional = false, string[]? Keywords = null)
{
    public string Usage => Optional ? $"[{Name}]" : Name;
}

/// <summary>The arguments of one call, already converted to their kinds' values.</summary>
public sealed class SysArgs
{
    private readonly object?[] _v;
    public SysArgs(object?[] values) => _v = values;
    public int Count => _v.Length;
    public bool Has(int i) => i < _v.Length && _v[i] != null;
    public string S(int i) => (string)_v[i]!;
    public long L(int i) => Convert.ToInt64(_v[i], CultureInfo.InvariantCulture);
    /// <summary>An int argument, clamped (a script may pass any number where the C type is int).</summary>
    public int I(int i) => (int)Math.Clamp(L(i), int.MinValue, int.MaxValue);
    public uint U(int i) => Convert.ToUInt32(_v[i], CultureInfo.InvariantCulture);
    public object? this[int i] => i < _v.Length ? _v[i] : null;
}

/// <summary>What a call returned: the value (or -errno), and for a read of an inotify fd the events.</summary>
public sealed record SysResult(long Ret, IReadOnlyList<InotifyEventRecord> Events)
{
    public static implicit operator SysResult(long r) => new(r, Array.Empty<InotifyEventRecord>());
}

/// <summary>
/// One operation of the vocabulary: its name, the kernel entry point it reports against, its
/// arguments and how it runs on a <see cref="Machine"/> (as the machine's current task).
/// </summary>
public sealed record SysOp(string Name, string KernelFn, ArgSpec[] Args, Func<Machine, SysArgs, SysResult> Run, string? Note = null)
{
    public int MinArgs => Args.Count(a => !a.Optional);
    public string Usage => string.Join(' ', Args.Select(a => a.Usage).Prepend(Name));
}

/// <summary>
/// The one declaration of the operations a scenario can issue: the <c>.isim</c> scripts, the
/// generated workload and the FsCheck model-based operations all run syscalls through this
/// table. Adding a syscall: its model function (Vfs or InotifyUser), then one line here.
/// </summary>
public static class SysOps
{
    private static SysOp Op(string name, string fn, string args, Func<Machine, SysArgs, SysResult> run, string? note = null) =>
        new(name, fn, ParseArgs(args), run, note);

    /// <summary>"fd:Fd path:Path [mode:Mode]" -> specs; "w:Keyword=a/b" gives keywords.</summary>
    private static ArgSpec[] ParseArgs(string s) => s.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(a =>
    {
        bool opt = a.StartsWith('[');
        a = a.Trim('[', ']');
        var parts = a.Split(':');
        var kindAndWords = parts[1].Split('=');
        var kind = Enum.Parse<ArgKind>(kindAndWords[0]);
        return new ArgSpec(parts[0].ToUpperInvariant(), kind, opt, kindAndWords.Length > 1 ? kindAndWords[1].Split('/') : null);
    }).ToArray();

    public static readonly SysOp[] All =
    {
        // ---- inotify
        Op("inotify_init", "sys_inotify_init", "[nonblock:Keyword=nonblock/block]",
            (m, a) => a.Has(0) && a.S(0) == "nonblock" ? m.inotify_init_nonblock() : m.inotify_init(),
            "nonblock: inotify_init(), then fcntl(F_SETFL, O_NONBLOCK) as a 2.6.17 program does"),
        Op("add_watch", "sys_inotify_add_watch", "fd:Fd path:Path mask:Mask", (m, a) => m.inotify_add_watch(a.I(0), a.S(1), a.U(2))),
        Op("rm_watch", "sys_inotify_rm_watch", "fd:Fd wd:Wd", (m, a) => m.inotify_rm_watch(a.I(0), a.I(1))),
        Op("read", "sys_read", "fd:Fd count:Num", Read),
        Op("close", "sys_close", "fd:Fd", (m, a) => m.close(a.I(0))),
        Op("fionread", "sys_ioctl", "fd:Fd", (m, a) =>
        {
            long r = m.Vfs.sys_ioctl(a.I(0), O.FIONREAD, out int value);
            return r == 0 ? value : r;
        }),
        Op("poll", "sys_poll", "fd:Fd", (m, a) =>
        {
            long r = m.Vfs.sys_poll(a.I(0), out uint revents);
            return r >= 0 ? revents : r;
        }),
        // ---- files
        Op("open", "sys_open", "path:Path [flags:OpenFlags]", (m, a) => m.Vfs.sys_open(a.S(0), a.Has(1) ? a.I(1) : O.O_RDONLY)),
        Op("write", "sys_write", "target:PathOrFd count:Num", (m, a) =>
        {
            if (a[0] is string path)
            {
                // a path is opened for writing, written and closed
                long f = m.Vfs.sys_open(path, O.O_WRONLY);
                if (f < 0) return f;
                long r = m.Vfs.sys_write((int)f, a.I(1));
                m.Vfs.sys_close((int)f);
                return r;
            }
            return m.Vfs.sys_write(a.I(0), a.I(1));
        }),
        Op("touch", "sys_open", "path:Path", (m, a) =>
        {
            long f = m.Vfs.sys_open(a.S(0), O.O_CREAT | O.O_WRONLY);
            return f < 0 ? f : m.Vfs.sys_close((int)f);
        }, "open(O_CREAT|O_WRONLY) and close"),
        Op("mkdir", "sys_mkdir", "path:Path [mode:Mode]", (m, a) => a.Has(1) ? m.Vfs.sys_mkdir(a.S(0), a.I(1)) : m.Vfs.sys_mkdir(a.S(0))),
        Op("rmdir", "sys_rmdir", "path:Path", (m, a) => m.Vfs.sys_rmdir(a.S(0))),
        Op("unlink", "sys_unlink", "path:Path", (m, a) => m.Vfs.sys_unlink(a.S(0))),
        Op("rename", "sys_rename", "old:Path new:Path", (m, a) => m.Vfs.sys_rename(a.S(0), a.S(1))),
        Op("chmod", "sys_chmod", "path:Path mode:Mode", (m, a) => m.Vfs.sys_chmod(a.S(0), a.I(1))),
        Op("symlink", "sys_symlink", "target:Path path:Path", (m, a) => m.Vfs.sys_symlink(a.S(0), a.S(1))),
        Op("setxattr", "sys_setxattr", "path:Path [name:Name] [size:Num]", (m, a) => m.Vfs.sys_setxattr(a.S(0), a.Has(1) ? a.S(1) : "user.x", a.Has(2) ? a.I(2) : 1)),
        Op("getxattr", "sys_getxattr", "path:Path name:Name", (m, a) => m.Vfs.sys_getxattr(a.S(0), a.S(1))),
        Op("listxattr", "sys_listxattr", "path:Path", (m, a) => m.Vfs.sys_listxattr(a.S(0))),
        Op("removexattr", "sys_removexattr", "path:Path name:Name", (m, a) => m.Vfs.sys_removexattr(a.S(0), a.S(1))),
        Op("link", "sys_link", "old:Path new:Path", (m, a) => m.Vfs.sys_link(a.S(0), a.S(1))),
        Op("mknod", "sys_mknod", "path:Path [mode:Mode]", (m, a) => m.Vfs.sys_mknod(a.S(0), a.Has(1) ? a.I(1) : Mode.S_0644), "a FIFO"),
        Op("truncate", "sys_truncate", "path:Path length:Num", (m, a) => m.Vfs.sys_truncate(a.S(0), a.L(1))),
        Op("ftruncate", "sys_ftruncate", "fd:Fd length:Num", (m, a) => m.Vfs.sys_ftruncate(a.I(0), a.L(1))),
        Op("utimes", "sys_utimes", "path:Path", (m, a) => m.Vfs.sys_utimes(a.S(0)), "times NULL: now"),
        Op("chown", "sys_chown", "path:Path uid:Num gid:Num", (m, a) => m.Vfs.sys_chown(a.S(0), a.I(1), a.I(2))),
        Op("lchown", "sys_lchown", "path:Path uid:Num gid:Num", (m, a) => m.Vfs.sys_lchown(a.S(0), a.I(1), a.I(2))),
        Op("fchmod", "sys_fchmod", "fd:Fd mode:Mode", (m, a) => m.Vfs.sys_fchmod(a.I(0), a.I(1))),
        Op("dup", "sys_dup", "fd:Fd", (m, a) => m.Vfs.sys_dup(a.I(0))),
        Op("dup2", "sys_dup2", "fd:Fd newfd:Fd", (m, a) => m.Vfs.sys_dup2(a.I(0), a.I(1))),
        Op("lseek", "sys_lseek", "fd:Fd offset:Num whence:Keyword=SEEK_SET/SEEK_CUR/SEEK_END", (m, a) =>
            m.Vfs.sys_lseek(a.I(0), a.L(1), a.S(2) switch { "SEEK_SET" => O.SEEK_SET, "SEEK_CUR" => O.SEEK_CUR, _ => O.SEEK_END })),
        Op("pread", "sys_pread64", "fd:Fd count:Num offset:Num", (m, a) => m.Vfs.sys_pread(a.I(0), Math.Max(0, a.I(1)), a.L(2))),
        Op("pwrite", "sys_pwrite64", "fd:Fd count:Num offset:Num", (m, a) => m.Vfs.sys_pwrite(a.I(0), Math.Max(0, a.I(1)), a.L(2))),
        Op("getdents", "sys_getdents64", "fd:Fd count:Num", (m, a) => m.Vfs.sys_getdents(a.I(0), Math.Max(0, a.I(1))), "no IN_ACCESS in 2.6.17"),
        Op("chdir", "sys_chdir", "path:Path", (m, a) => m.Vfs.sys_chdir(a.S(0))),
        // ---- mounts
        Op("mount", "sys_mount", "path:Path", (m, a) => m.Vfs.sys_mount(a.S(0))),
        Op("umount", "sys_umount", "path:Path", (m, a) => m.Vfs.sys_umount(a.S(0))),
        // ---- the audit-like kernel consumer (needs the module loaded)
        Op("audit_add", "audit_add_rule", "path:Path mask:Mask", (m, a) => m.Audit is null ? -Errno.EINVAL : m.Audit.audit_add_rule(a.S(0), a.U(1))),
        Op("audit_remove", "audit_remove_rule", "path:Path", (m, a) => m.Audit is null ? -Errno.EINVAL : m.Audit.audit_remove_rule(a.S(0))),
    };

    /// <summary>Other spellings of an operation (the C names).</summary>
    public static readonly IReadOnlyDictionary<string, string> Aliases = new SortedDictionary<string, string>(StringComparer.Ordinal)
    {
        ["inotify_add_watch"] = "add_watch",
        ["inotify_rm_watch"] = "rm_watch",
        ["umount2"] = "umount",
        ["readdir"] = "getdents",
        ["getdents64"] = "getdents",
        ["pread64"] = "pread",
        ["pwrite64"] = "pwrite",
        // 2.6.17 has no inotify_init1 (it came with 2.6.27): the name is accepted as a spelling of
        // inotify_init [nonblock], i.e. inotify_init() then fcntl(F_SETFL, O_NONBLOCK); no IN_CLOEXEC
        ["inotify_init1"] = "inotify_init",
    };

    private static readonly Dictionary<string, SysOp> s_byName = All.ToDictionary(o => o.Name, StringComparer.Ordinal);

    /// <summary>The operation called <paramref name="name"/> (or an alias of it), or null.</summary>
    public static SysOp? Find(string name)
    {
        if (Aliases.TryGetValue(name, out var canon)) name = canon;
        return s_byName.GetValueOrDefault(name);
    }

    /// <summary>The operation called <paramref name="name"/>; throws for an unknown name (a programming error).</summary>
    public static SysOp Get(string name) => Find(name) ?? throw new ArgumentException($"no operation '{name}' in SysOps.All", nameof(name));

    /// <summary>Runs <paramref name="name"/> with typed arguments as the machine's current task.</summary>
    public static SysResult Call(Machine m, string name, params object?[] args) => Get(name).Run(m, new SysArgs(args));

    private static SysResult Read(Machine m, SysArgs a)
    {
        int fd = a.I(0), count = Math.Max(0, a.I(1));
        if (IsInotifyFd(m, fd))
        {
            long r = m.read_events(fd, count, out var events);
            return new SysResult(r, events);
        }
        return m.Vfs.sys_read(fd, count, out _);
    }

    /// <summary>Is <paramref name="fd"/> of the current process an open inotify instance?</summary>
    public static bool IsInotifyFd(Machine m, int fd)
    {
        if (m.K.current.Process is not Process p) return false;
        return fd >= 0 && fd < p.Fds.Count && p.Fds[fd] is { } f && !f.IsFreed && f.f_op is InotifyUser;
    }

    // ------------------------------------------------------------------ spelling of values

    /// <summary>Converts a script token (after $var substitution) to the value of <paramref name="kind"/>; null if malformed.</summary>
    public static object? ParseValue(ArgKind kind, string s, string[]? keywords = null) => kind switch
    {
        ArgKind.Fd or ArgKind.Wd or ArgKind.Num => long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n) ? n : null,
        ArgKind.Path => s.Length > 0 ? s : null,
        ArgKind.Mask => IN.ParseMask(s),
        ArgKind.Mode => ParseMode(s),
        ArgKind.OpenFlags => ParseOpenFlags(s),
        ArgKind.PathOrFd => long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n) ? n : s.Length > 0 && !s.StartsWith('-') ? s : null,
        ArgKind.Keyword => keywords is null || keywords.Contains(s) ? s : null,
        ArgKind.Name => s.Length > 0 ? s : null,
        _ => null,
    };

    /// <summary>What a malformed value of <paramref name="kind"/> should have looked like.</summary>
    public static string Expected(ArgKind kind, string[]? keywords = null) => kind switch
    {
        ArgKind.Fd or ArgKind.Wd or ArgKind.Num => "an integer or $variable",
        ArgKind.Path => "a path",
        ArgKind.Mask => "names like IN_CREATE|IN_DELETE, or a number",
        ArgKind.Mode => "octal, e.g. 0755",
        ArgKind.OpenFlags => $"{string.Join(", ", s_openFlags.Select(f => f.name))} joined by '|', or a number using only those bits",
        ArgKind.PathOrFd => "a path, a number or $variable",
        ArgKind.Keyword => string.Join(" or ", keywords ?? Array.Empty<string>()),
        ArgKind.Name => "a name like user.x",
        _ => "?",
    };

    /// <summary>An octal permission mode (0 to 07777), or null.</summary>
    public static int? ParseMode(string s)
    {
        if (s.Length == 0 || s.Any(c => c is < '0' or > '7')) return null;
        try
        {
            int v = Convert.ToInt32(s, 8);
            return v is >= 0 and <= Mode.S_IALLUGO ? v : null;
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException) { return null; }
    }

    private static readonly (string name, int bits)[] s_openFlags =
    {
        ("rdonly", O.O_RDONLY), ("wronly", O.O_WRONLY), ("rdwr", O.O_RDWR), ("creat", O.O_CREAT), ("excl", O.O_EXCL),
        ("trunc", O.O_TRUNC), ("append", O.O_APPEND), ("nonblock", O.O_NONBLOCK), ("directory", O.O_DIRECTORY), ("nofollow", O.O_NOFOLLOW),
    };

    /// <summary>
    /// Open flags by name (rdonly|wronly|... , an O_ prefix is allowed) or as a number; null when
    /// a name is unknown or a number has a bit the model does not implement (never ignored).
    /// </summary>
    public static int? ParseOpenFlags(string s)
    {
        if (int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int n))
            return (n & ~O.O_SUPPORTED) == 0 && (n & O.O_ACCMODE) != O.O_ACCMODE ? n : null;
        int f = 0;
        foreach (var part in s.Split('|'))
        {
            var p = part.ToLowerInvariant();
            if (p.StartsWith("o_", StringComparison.Ordinal)) p = p[2..];
            p = p switch { "r" => "rdonly", "w" => "wronly", "rw" => "rdwr", _ => p };
            int i = Array.FindIndex(s_openFlags, x => x.name == p);
            if (i < 0) return null;
            f |= s_openFlags[i].bits;
        }
        return (f & O.O_ACCMODE) == O.O_ACCMODE ? null : f;
    }
}
