namespace InotifySim.Model.Kernel;

/// <summary>
/// struct rw_semaphore (down_read / up_read / down_write / up_write): many readers or one
/// writer, sleeping, with lockdep tracking. Contention is a Coyote-controlled wait.
/// </summary>
public sealed class RwSemaphore : ILockInstance
{
    private readonly KObject _container;
    private readonly string _field;
    private TaskStruct? _writer;
    private readonly List<TaskStruct> _readers = new();

    public LockClass Class { get; }
    /// <summary>The writer, or the first reader (for reports; the wait-for graph follows every holder).</summary>
    public TaskStruct? Owner => _writer ?? (_readers.Count > 0 ? _readers[0] : null);

    /// <summary>How many tasks hold it: the writer, or every reader (the wait-for graph follows each of them).</summary>
    public int HolderCount => _writer != null ? 1 : _readers.Count;

    /// <summary>The <paramref name="i"/>-th holder: the writer, or the readers in the order they took it (deterministic).</summary>
    public TaskStruct Holder(int i) => _writer ?? _readers[i];
    public string Name => $"{_container.Describe}->{_field}";
    public KObject Container => _container;
    public string Field => _field;

    public RwSemaphore(KObject container, string field, LockClass cls)
    {
        _container = container;
        _field = field;
        Class = cls;
    }

    public void down_read()
    {
        var k = _container.K;
        k.might_sleep("down_read");
        k.Point();
        _container.Chk(_field);
        var t = k.current;
        k.Lockdep.Acquire(t, this, 0);
        if (_writer != null) Mutex.Block(k, t, this, () => _writer == null);
        _readers.Add(t);
        Mutex.Held(k, t, this, 0, " (read)");
    }

    public void up_read()
    {
        var k = _container.K;
        _container.Chk(_field);
        var t = k.current;
        if (!_readers.Remove(t)) k.Lockdep.BadUnlock(t, this, "but the task does not hold it for reading");
        k.Lockdep.Release(t, this);
        if (k.Tracing) k.TraceLock(TraceKind.Unlock, this, " (read)");
        k.Point();
    }

    public void down_write()
    {
        var k = _container.K;
        k.might_sleep("down_write");
        k.Point();
        _container.Chk(_field);
        var t = k.current;
        k.Lockdep.Acquire(t, this, 0);
        if (_writer != null || _readers.Count > 0) Mutex.Block(k, t, this, () => _writer == null && _readers.Count == 0);
        _writer = t;
        Mutex.Held(k, t, this, 0, " (write)");
    }

    public void up_write()
    {
        var k = _container.K;
        _container.Chk(_field);
        var t = k.current;
        if (_writer != t) k.Lockdep.BadUnlock(t, this, "but the task does not hold it for writing");
        k.Lockdep.Release(t, this);
        _writer = null;
        if (k.Tracing) k.TraceLock(TraceKind.Unlock, this, " (write)");
        k.Point();
    }
}
