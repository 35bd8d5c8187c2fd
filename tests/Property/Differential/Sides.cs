using System.Buffers.Binary;
using System.Text;
using InotifySim.Model;
using InotifySim.Tests.Property.ModelBased;

namespace InotifySim.Tests.Property.Differential;

/// <summary>One side of the differential test: the real kernel, or the model.</summary>
internal interface ISide : IDisposable
{
    string Name { get; }
    /// <summary>Runs a file-system or inotify op (not a read); instance indexes are resolved by the side.</summary>
    long Do(Op op);
    /// <summary>read(2) on instance <paramref name="inst"/>; -EBADF when it is not open.</summary>
    long Read(int inst, int size, List<Ev> events);
    IEnumerable<int> OpenInstances { get; }
}

/// <summary>The real kernel on a fresh temp directory; a closed instance is never named by its old fd (fd -1 instead).</summary>
internal sealed class KernelSide : ISide
{
    private readonly string _root;
    private readonly List<int> _fds = new();
    private readonly HashSet<int> _open = new();
    public string Name => "kernel";

    public KernelSide()
    {
        _root = Path.Combine(Path.GetTempPath(), "inotify-sim-diff-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_root);
    }

    private string P(string p) => p == "/" ? _root : _root + p;
    private int Fd(int inst) => inst < _fds.Count && _open.Contains(inst) ? _fds[inst] : -1;
    public IEnumerable<int> OpenInstances => _open.OrderBy(x => x);

    public long Do(Op op)
    {
        switch (op)
        {
            case Mkdir o: return Libc.mkdir(P(o.Path), 0x1ed);
            case Create o:
            {
                long fd = Libc.open(P(o.Path), Libc.O_CREAT | Libc.O_WRONLY, 0x1a4);
                if (fd < 0) return fd;
                long w = Libc.write((int)fd, o.Bytes);
                Libc.close((int)fd);
                return w;
            }
            case Unlink o: return Libc.unlink(P(o.Path));
            case Rmdir o: return Libc.rmdir(P(o.Path));
            case Rename o: return Libc.rename(P(o.From), P(o.To));
            case Chmod o: return Libc.chmod(P(o.Path), (uint)o.Mode);
            case Init:
            {
                long fd = Libc.inotify_init1(Libc.IN_NONBLOCK | Libc.IN_CLOEXEC);
                _fds.Add((int)Math.Max(fd, -1));
                if (fd >= 0) _open.Add(_fds.Count - 1);
                return fd;
            }
            case AddWatch o: return Libc.inotify_add_watch(Fd(o.Inst), P(o.Path), o.Mask);
            case RmWatch o: return Libc.inotify_rm_watch(Fd(o.Inst), o.Wd);
            case CloseInst o:
            {
                int fd = Fd(o.Inst);
                if (fd < 0) return -9;
                _open.Remove(o.Inst);
                return Libc.close(fd);
            }
            default: throw new ArgumentException(op.ToString());
        }
    }

    public long Read(int inst, int size, List<Ev> events)
    {
        int fd = Fd(inst);
        if (fd < 0) return -9;
        var buf = new byte[Math.Max(size, 1)];
        long r = Libc.read(fd, buf, size);
        if (r > 0) events.AddRange(Parse(buf.AsSpan(0, (int)r)));
        return r;
    }

    public static List<Ev> Parse(ReadOnlySpan<byte> b)
    {
        var list = new List<Ev>();
        int off = 0;
        while (off + 16 <= b.Length)
        {
            int wd = BinaryPrimitives.ReadInt32LittleEndian(b[off..]);
            uint mask = BinaryPrimitives.ReadUInt32LittleEndian(b[(off + 4)..]);
            uint cookie = BinaryPrimitives.ReadUInt32LittleEndian(b[(off + 8)..]);
            uint len = BinaryPrimitives.ReadUInt32LittleEndian(b[(off + 12)..]);
            string? name = null;
            if (len > 0)
            {
                var nb = b.Slice(off + 16, (int)len);
                int z = nb.IndexOf((byte)0);
                name = Encoding.UTF8.GetString(z < 0 ? nb : nb[..z]);
            }
            list.Add(new Ev(wd, mask, cookie, len, name));
            off += 16 + (int)len;
        }
        return list;
    }

    public void Dispose()
    {
        foreach (var i in _open) Libc.close(_fds[i]);
        _open.Clear();
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>The model (normally the fixed variant; default limits) with the same fd -1 convention for closed instances.</summary>
internal sealed class ModelSide(Fix fixes) : ISide
{
    private readonly ModelRunner _m = new(fixes, 16384, 128, 8192, staleFdIsBad: true);
    private int _inits;
    public string Name => "model";
    public IEnumerable<int> OpenInstances => Enumerable.Range(0, _inits).Where(i => _m.Fd(i) >= 0);
    public long Do(Op op)
    {
        if (op is Init) _inits++;
        return _m.Apply(op).Ret;
    }
    public long Read(int inst, int size, List<Ev> events) => _m.Apply(new Read(inst, size)) is var s && s.Ret > 0 ? Add(s, events) : s.Ret;
    private static long Add(Step s, List<Ev> events) { events.AddRange(s.Events); return s.Ret; }
    public void Dispose()
    {
        _m.CloseAll();
        _m.M.Teardown();
    }
}
