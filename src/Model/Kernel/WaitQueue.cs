namespace InotifySim.Model.Kernel;

/// <summary>
/// wait_queue_head_t with prepare_to_wait / schedule / finish_wait / wake_up_interruptible,
/// as controlled waits. A task that prepared to wait and then calls schedule() sleeps until
/// a wake-up sets it running again (or a signal is pending), so lost wake-ups are modelled
/// exactly as the kernel has them.
/// </summary>
public sealed class WaitQueueHead
{
    private readonly KObject _container;
    private readonly string _field;
    private readonly List<TaskStruct> _waiters = new();

    public WaitQueueHead(KObject container, string field)
    {
        _container = container;
        _field = field;
    }

    public int WaiterCount => _waiters.Count;

    public void prepare_to_wait(int state)
    {
        _container.ChkAlive(_field); // the wait queue's own lock (q->lock) protects it: no plain access
        var t = _container.K.current;
        // DEFINE_WAIT(wait) lives in the caller's frame: if (list_empty(&wait->task_list)) __add_wait_queue(q, wait)
        if (!_waiters.Contains(t))
        {
            _waiters.Add(t);
            t.WaitQueuedOn = this;
            t.WaitPreparedIn = t.CurrentFunction;
        }
        t.State = state;
    }

    /// <summary>The queue's name in reports (container->field).</summary>
    public string Describe => $"{_container.Describe}->{_field}";

    /// <summary>
    /// finish_wait(q, wait): set the task running and, if its wait entry is still on the queue (no wake-up
    /// removed it: the caller broke out on a condition, EAGAIN or a signal), take q->lock and list_del_init it.
    /// Only then is the wait_queue_head touched, so only then can KASAN see it freed (autoremove_wake_function
    /// has already unlinked a woken entry, and list_empty_careful() reads the caller's own wait entry).
    /// </summary>
    public void finish_wait()
    {
        var k = _container.K;
        var t = k.current;
        t.State = TaskStruct.TASK_RUNNING;
        if (!_waiters.Contains(t)) return; // list_empty_careful(&wait->task_list): q is not touched
        if (_container.IsFreed)
        {
            // spin_lock_irqsave(&q->lock) on a freed wait_queue_head: KASAN reports it in finish_wait
            using var f = k.Fn("finish_wait");
            _container.ChkAlive(_field);
        }
        _waiters.Remove(t);
        t.WaitQueuedOn = null;
    }

    /// <summary>schedule(): sleep until woken (or a signal is pending when interruptible).</summary>
    public void schedule()
    {
        var k = _container.K;
        var t = k.current;
        k.might_sleep("schedule");
        k.Point();
        if (t.State == TaskStruct.TASK_RUNNING) return;
        k.WaitUntil(() => t.State == TaskStruct.TASK_RUNNING || t.SignalPending, () => $"a wake-up on {_container.Describe}->{_field}");
    }

    /// <summary>wake_up_interruptible(): wakes every waiter (autoremove semantics).</summary>
    public void wake_up_interruptible()
    {
        _container.ChkAlive(_field); // q->lock
        _container.K.Point();
        var kc = _container.K.Kcsan is { Active: true } c ? c : null;
        foreach (var w in _waiters)
        {
            w.State = TaskStruct.TASK_RUNNING;
            w.WaitQueuedOn = null; // autoremove_wake_function: list_del_init(&wait->task_list)
            kc?.WakeUp(w); // the woken task's return from schedule() is ordered after the waker's past
        }
        _waiters.Clear();
    }
}
