using InotifySim.Model;
using InotifySim.Model.Inotify;
using InotifySim.Model.Kernel;
using InotifySim.Model.Vfs;
using static InotifySim.Model.Inotify.IN;

namespace InotifySim.Tests.Property.Sequential;

/// <summary>
/// KASAN for every object kind of the model freed by the model's own free path: a touch of the object (or of
/// a structure embedded in it, which shares its container's allocation) after the model freed it is a
/// use-after-free naming the type and field, the freeing and the allocating function; the same touch before
/// the free is silent. Guards the embedded-allocation wiring (inotify_watch inside inotify_user_watch and
/// audit_watch) as well as each free path.
/// </summary>
public class ModelObjectKasanTests
{
    /// <summary>A row: set up and free an object through the model, return the touch to perform.</summary>
    public sealed record Kind(string Name, string Access, string[] Functions, Func<Machine, TaskStruct, (Action free, Action touch)> Make, bool Audit = false)
    {
        public override string ToString() => Name;
    }

    private static (Machine m, TaskStruct t, int fd, int wd) Watched(bool audit = false)
    {
        var m = Seq.NewMachine(Fix.All, o => o.Audit = audit);
        var t = m.NewProcess("p", 0);
        int fd = 0, wd = 0;
        m.As(t, () =>
        {
            Seq.Ok(m.Vfs.sys_mkdir("/d"));
            fd = Seq.Ok(m.inotify_init_nonblock());
            wd = Seq.Ok(m.inotify_add_watch(fd, "/d", IN_ALL_EVENTS));
        });
        return (m, t, fd, wd);
    }

    public static readonly Kind[] Kinds =
    {
        new("inotify_user_watch (embedded inotify_watch)", "struct inotify_user_watch.wd",
            new[] { "touch_after_free", "free_inotify_user_watch", "create_watch", "put_inotify_watch", "unpin_and_kill" },
            (m, t) =>
            {
                var w = (InotifyWatch)m.Core.Handles[0].idr.Entries.Single().Value;
                return (() => { Seq.Ok(m.inotify_rm_watch(0, w.PeekWd)); Seq.Drain(m, 0); }, () => _ = w.wd);
            }),
        new("inotify_kernel_event", "struct inotify_kernel_event.len",
            new[] { "touch_after_free", "remove_kevent", "kernel_event", "inotify_read", "sys_read" },
            (m, t) =>
            {
                Seq.Touch(m, "/d/f");
                var dev = m.User.Devices[0];
                var e = dev.events.Next("test").list_entry<InotifyKernelEvent>("list");
                return (() => Seq.Drain(m, 0), () => _ = e.len);
            }),
        new("inotify_device", "struct inotify_device.event_count",
            new[] { "touch_after_free", "put_inotify_dev", "sys_inotify_init", "inotify_release", "__fput" },
            (m, t) =>
            {
                var dev = m.User.Devices[0];
                return (() => m.close(0), () => _ = dev.event_count);
            }),
        new("inotify_handle", "struct inotify_handle.last_wd",
            new[] { "touch_after_free", "put_inotify_handle", "inotify_init", "inotify_destroy", "inotify_release" },
            (m, t) =>
            {
                var ih = m.Core.Handles[0];
                return (() => m.close(0), () => _ = ih.last_wd);
            }),
        new("file", "struct file.f_count",
            new[] { "touch_after_free", "__fput", "get_empty_filp", "sys_close" },
            (m, t) =>
            {
                var f = m.Processes[0].Fds[0]!;
                return (() => m.close(0), () => f.f_count.atomic_read());
            }),
        new("audit_watch (embedded inotify_watch)", "struct audit_watch.wd",
            new[] { "touch_after_free", "audit_destroy_watch", "audit_add_rule", "put_inotify_watch", "audit_remove_rule" },
            (m, t) =>
            {
                Assert.True(m.Audit!.audit_add_rule("/d", IN_CREATE) > 0);
                var w = (InotifyWatch)m.Audit.Handle!.idr.Entries.Single().Value;
                return (() => Assert.Equal(0, m.Audit.audit_remove_rule("/d")), () => _ = w.wd);
            }, Audit: true),
    };

    public static TheoryData<string> KindNames()
    {
        var d = new TheoryData<string>();
        foreach (var k in Kinds) d.Add(k.Name);
        return d;
    }

    [Theory, MemberData(nameof(KindNames))]
    public void A_touch_after_the_model_freed_it_is_a_use_after_free(string name)
    {
        var kind = Kinds.Single(k => k.Name == name);
        var (m, t, _, _) = Watched(kind.Audit);
        var r = Seq.ExpectBug(m, () => m.As(t, () =>
        {
            var (free, touch) = kind.Make(m, t);
            free();
            using var f = m.K.Fn("touch_after_free");
            touch();
        }));
        Assert.True(r.Class == BugClass.UseAfterFree, r.Summary);
        Assert.Equal("BUG: KASAN: use-after-free in touch_after_free", r.Title);
        Assert.Equal(kind.Functions, r.Functions);
        Assert.Contains($"Access of {kind.Access} by task p/", r.Text);
    }

    [Theory, MemberData(nameof(KindNames))]
    public void The_same_touch_before_the_free_is_silent(string name)
    {
        var kind = Kinds.Single(k => k.Name == name);
        var (m, t, _, _) = Watched(kind.Audit);
        m.As(t, () =>
        {
            var (free, touch) = kind.Make(m, t);
            using (m.K.Fn("touch_before_free")) touch();
            free();
        });
        Assert.Null(m.K.FirstReport);
    }
}
