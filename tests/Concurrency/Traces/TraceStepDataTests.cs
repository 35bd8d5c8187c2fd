using InotifySim.Model.Kernel;
using InotifySim.Scenarios.Traces;
using InotifySim.Tests.Concurrency.Infrastructure;
using Mutex = InotifySim.Model.Kernel.Mutex;

namespace InotifySim.Tests.Concurrency.Traces;

/// <summary>
/// The primitives fill a trace step's data (object, field, lock, refcount), and the explainer's wording is composed from
/// it: what the explainer reads instead of parsing the step's text.
/// </summary>
public class TraceStepDataTests
{
    private static (Kernel k, List<TraceStep> steps, int id) Traced(Action<Kernel, TestObj> body)
    {
        var k = new Kernel { Tracing = true };
        TestObj? o = null;
        k.Spawn(k.NewTask("tracer", 0), () =>
        {
            using var f = k.Fn("trace_test");
            o = k.Slab.kmem_cache_alloc("test_cache", Gfp.GFP_KERNEL, () => new TestObj(k));
            body(k, o!);
            k.Slab.kmem_cache_free("test_cache", o);
        });
        Seq.AssertSilent(k);
        return (k, k.TraceLog.Where(s => s.Kind is not (TraceKind.Enter or TraceKind.Syscall or TraceKind.Return)).ToList(), o!.Alloc!.Id);
    }

    [Fact]
    public void Alloc_get_put_and_free_carry_the_object_and_the_count()
    {
        var (_, steps, id) = Traced((k, o) =>
        {
            o.Count.atomic_inc();
            o.Count.atomic_inc();
            o.Count.atomic_dec();
        });
        var obj = new TraceObject("struct test_obj", id, "test_cache");
        Assert.Equal(new[] { TraceKind.Alloc, TraceKind.Get, TraceKind.Get, TraceKind.Put, TraceKind.Free }, steps.Select(s => s.Kind));
        Assert.All(steps, s => Assert.Equal(obj, s.Object));
        Assert.Equal(new int?[] { null, 1, 2, 1, null }, steps.Select(s => s.Refcount));
        Assert.Equal(new[] { null, "count", "count", "count", null }, steps.Select(s => s.Field));
        Assert.Equal($"struct test_obj #{id} = test_cache", steps[0].Text);
        Assert.Equal($"struct test_obj #{id} (test_cache)->count -> 2", steps[2].Text);
        Assert.Equal(new[]
        {
            $"alloc struct test_obj #{id} (test_cache)", $"get struct test_obj #{id}->count = 1", $"get struct test_obj #{id}->count = 2",
            $"put struct test_obj #{id}->count = 1", $"free struct test_obj #{id}",
        }, steps.Select(TraceExplanation.Words));
        Assert.Equal(id, TraceExplanation.StructId(steps[0]));
    }

    [Fact]
    public void Lock_steps_carry_the_lock_class_instance_mode_and_container()
    {
        Mutex? m = null;
        RwSemaphore? rw = null;
        Spinlock? spin = null;
        var (_, steps, id) = Traced((k, o) =>
        {
            m = new Mutex(o, "lock", k.Lockdep.Class("test_mutex"));
            rw = new RwSemaphore(o, "sem", k.Lockdep.Class("test_rwsem"));
            spin = new Spinlock(k.Globals, "test_spin", k.Lockdep.Class("test_spin", spin: true));
            m.mutex_lock();
            rw.down_read();
            rw.up_read();
            m.mutex_unlock();
            spin.spin_lock();
            spin.spin_unlock();
        });
        var locks = steps.Where(s => s.Kind is TraceKind.Lock or TraceKind.Unlock).ToList();
        Assert.Equal(6, locks.Count);
        Assert.Equal(new[] { "test_mutex", "test_rwsem", "test_rwsem", "test_mutex", "test_spin", "test_spin" }, locks.Select(s => s.LockClass));
        Assert.Equal(new[] { "lock", "sem", "sem", "lock", "test_spin", "test_spin" }, locks.Select(s => s.Field));
        string obj = $"struct test_obj #{id} (test_cache)";
        Assert.Equal(new[] { $"{obj}->lock", $"{obj}->sem (read)", $"{obj}->sem (read)", $"{obj}->lock", "test_spin", "test_spin" }, locks.Select(s => s.Lock));
        Assert.All(locks, s => Assert.Equal(s.Lock, s.Text));
        Assert.Equal(new[] { id, id, id, id, (int?)null, null }, locks.Select(TraceExplanation.StructId));
        Assert.Equal(new TraceObject("kernel globals", null, null), locks[4].Object);
        Assert.Equal(new[]
        {
            $"lock struct test_obj #{id}->lock", $"lock struct test_obj #{id}->sem (read)", $"unlock struct test_obj #{id}->sem (read)",
            $"unlock struct test_obj #{id}->lock", "lock test_spin", "unlock test_spin",
        }, locks.Select(TraceExplanation.Words));
    }

    [Fact]
    public void A_mutex_in_a_static_object_is_named_without_static()
    {
        var (_, steps, _) = Traced((k, o) =>
        {
            var g = new Mutex(k.Globals, "test_global_mutex", k.Lockdep.Class("test_global_mutex"));
            g.mutex_lock();
            g.mutex_unlock();
        });
        var l = steps.First(s => s.Kind == TraceKind.Lock);
        Assert.Equal("kernel globals (static)->test_global_mutex", l.Lock);
        Assert.Null(TraceExplanation.StructId(l));
        Assert.Equal("lock kernel globals->test_global_mutex", TraceExplanation.Words(l));
    }
}
