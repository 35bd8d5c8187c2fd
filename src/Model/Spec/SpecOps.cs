using static InotifySim.Model.Inotify.IN;

namespace InotifySim.Model.Spec;

/// <summary>
/// One step of a generated scenario. Inotify instances are named by the index of the
/// <see cref="Init"/> that created them (i0 = the first inotify_init of the run); an index
/// with no such init, or whose init failed, names fd -1 (EBADF).
/// </summary>
public abstract record Op
{
    /// <summary>A smaller op with the same shape, for shrinking (null when already simplest).</summary>
    public virtual Op? Simpler() => null;
}

public sealed record Mkdir(string Path) : Op { public override string ToString() => $"mkdir {Path}"; }

/// <summary>open(path, O_CREAT|O_WRONLY), write(fd, Bytes), close(fd).</summary>
public sealed record Create(string Path, int Bytes) : Op
{
    public override string ToString() => $"create {Path} (open O_CREAT|O_WRONLY, write {Bytes}, close)";
    public override Op? Simpler() => Bytes != 1 ? this with { Bytes = 1 } : null;
}

public sealed record Unlink(string Path) : Op { public override string ToString() => $"unlink {Path}"; }
public sealed record Rmdir(string Path) : Op { public override string ToString() => $"rmdir {Path}"; }
public sealed record Rename(string From, string To) : Op { public override string ToString() => $"rename {From} -> {To}"; }
public sealed record Chmod(string Path, int Mode) : Op { public override string ToString() => $"chmod {Path} 0{Convert.ToString(Mode, 8)}"; }
public sealed record Init : Op { public override string ToString() => "inotify_init (IN_NONBLOCK)"; }

public sealed record AddWatch(int Inst, string Path, uint Mask) : Op
{
    public override string ToString() => $"inotify_add_watch(i{Inst}, {Path}, {MaskNames(Mask)})";
    public override Op? Simpler() => Mask != IN_ALL_EVENTS ? this with { Mask = IN_ALL_EVENTS } : null;
}

public sealed record RmWatch(int Inst, int Wd) : Op { public override string ToString() => $"inotify_rm_watch(i{Inst}, wd {Wd})"; }

public sealed record Read(int Inst, int Size) : Op
{
    public override string ToString() => $"read(i{Inst}, {Size})";
    public override Op? Simpler() => Size != 4096 ? this with { Size = 4096 } : null;
}

public sealed record CloseInst(int Inst) : Op { public override string ToString() => $"close(i{Inst})"; }
