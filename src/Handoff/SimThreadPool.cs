namespace InotifySim.Handoff;

/// <summary>
/// Harness-owned OS threads that run the simulated threads of one explorer, reused from schedule to
/// schedule, and the direct handoff of the turn between them (issue 12 §5).
/// <para>
/// This assembly is not rewritten by Coyote, so nothing here is a Coyote operation or a Coyote
/// scheduling point: a switch between simulated threads is one semaphore release and one wait
/// (a short spin, then a futex sleep), not a Coyote operation handoff, and a simulated thread is not a
/// new OS thread per schedule. The threads are started with <see cref="Thread.UnsafeStart()"/>: they
/// inherit no ExecutionContext, so Coyote's async-local runtime does not flow into them: the model code they
/// run (not rewritten either, src/Model/Model.csproj) is invisible to Coyote.
/// </para>
/// <para>
/// The protocol (kept by the harness's scheduler): at any moment at most one of the pool's threads
/// or the waiting main thread (Coyote's controlled operation, which runs the schedule's setup and teardown) runs model code. A slot's thread <see cref="Park"/>s until another
/// <see cref="Resume"/>s it; the last simulated thread to finish calls <see cref="Finished"/>, which
/// releases <see cref="WaitFinished"/>. Every release happens-before the matching wait's return, so the
/// model's state needs no further synchronisation.
/// </para>
/// </summary>
public sealed class SimThreadPool : IDisposable
{
    private sealed class Slot
    {
        public readonly SemaphoreSlim Job = new(0);
        public readonly SemaphoreSlim Turn = new(0);
        public Action? Body;
        public Thread? Thread;
    }

    private readonly List<Slot> _slots = new();
    private readonly SemaphoreSlim _finished = new(0);
    private readonly string _name;
    private volatile bool _disposed;

    /// <param name="name">names the OS threads (for a debugger or a dump): NAME/0, NAME/1, ...</param>
    public SimThreadPool(string name = "sim") => _name = name;

    /// <summary>OS threads created so far (each is reused by every later schedule).</summary>
    public int ThreadsCreated { get; private set; }

    /// <summary>Runs <paramref name="body"/> on slot <paramref name="index"/>'s thread (created on first use). Called by the main thread only.</summary>
    public void Start(int index, Action body)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        while (_slots.Count <= index) _slots.Add(new Slot());
        var s = _slots[index];
        if (s.Thread is null)
        {
            s.Thread = new Thread(() => Loop(s)) { IsBackground = true, Name = $"{_name}/{index}" };
            s.Thread.UnsafeStart();
            ThreadsCreated++;
        }
        s.Body = body;
        s.Job.Release();
    }

    private void Loop(Slot s)
    {
        while (true)
        {
            s.Job.Wait();
            if (_disposed) return;
            var b = s.Body!;
            s.Body = null;
            b(); // the harness's wrapper: it catches everything the simulated thread throws
        }
    }

    /// <summary>Gives the turn to slot <paramref name="index"/>'s thread.</summary>
    public void Resume(int index) => _slots[index].Turn.Release();

    /// <summary>Called on slot <paramref name="index"/>'s own thread: sleeps until it is given the turn.</summary>
    public void Park(int index) => _slots[index].Turn.Wait();

    /// <summary>Called by the last simulated thread to finish (or unwind): the main thread goes on.</summary>
    public void Finished() => _finished.Release();

    /// <summary>The main thread waits for <see cref="Finished"/>; false when the timeout passed first.</summary>
    public bool WaitFinished(int millisecondsTimeout) => _finished.Wait(millisecondsTimeout);

    /// <summary>Ends the pool's threads (those parked in the middle of a schedule stay parked: they are background threads).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var s in _slots) s.Job.Release();
    }
}
