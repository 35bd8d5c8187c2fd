using InotifySim.Model.Vfs;
using InotifySim.Model;
using InotifySim.Model.Inotify;
using InotifySim.Model.Kernel;
using static InotifySim.Model.Inotify.IN;
using static InotifySim.Tests.Property.Sequential.Seq;

namespace InotifySim.Tests.Property.Sequential;

/// <summary>The audit-like kernel consumer of the API on the fixed variant.</summary>
public class AuditConsumerTests
{
    private static Machine AuditMachine() => NewMachine(configure: o => o.Audit = true);

    [Fact]
    public void RuleReceivesEventsAndIgnoredOnRemoval()
    {
        var m = AuditMachine();
        var t = m.NewProcess("p", 0);
        var audit = m.Audit!;
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            int wd = Ok(audit.audit_add_rule("/d", IN_CREATE | IN_DELETE));
            Assert.Equal(1, wd);
            Assert.Equal(1, audit.RuleCount);
            Touch(m, "/d/f");
            Ok(m.Vfs.sys_unlink("/d/f"));
            Assert.Equal(0, audit.audit_remove_rule("/d"));
            Touch(m, "/d/g");
            Assert.Equal(new[] { $"wd={wd} IN_CREATE f", $"wd={wd} IN_DELETE f", $"wd={wd} IN_IGNORED" }, audit.Log);
            Assert.Equal(0, audit.RuleCount);
            Assert.Equal(-Errno.ENOENT, audit.audit_remove_rule("/d"));
            m.CheckQuiescent();
        });
        m.Teardown();
    }

    [Fact]
    public void ReAddingARuleUpdatesTheMaskAndKeepsTheWd()
    {
        var m = AuditMachine();
        var t = m.NewProcess("p", 0);
        var audit = m.Audit!;
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            int wd = Ok(audit.audit_add_rule("/d", IN_CREATE));
            Assert.Equal(wd, audit.audit_add_rule("/d", IN_DELETE));
            Assert.Equal(1, audit.RuleCount);
            Touch(m, "/d/f");
            Ok(m.Vfs.sys_unlink("/d/f"));
            Assert.Equal(new[] { $"wd={wd} IN_DELETE f" }, audit.Log);
            Assert.Equal(-Errno.ENOENT, audit.audit_add_rule("/nope", IN_CREATE));
            Assert.Equal(-Errno.EINVAL, audit.audit_add_rule("/d", 0));
        });
        m.Teardown();
    }

    [Fact]
    public void InodeDeathSendsDeleteSelfAndIgnoredAndDropsTheRule()
    {
        var m = AuditMachine();
        var t = m.NewProcess("p", 0);
        var audit = m.Audit!;
        m.As(t, () =>
        {
            Touch(m, "/f");
            int wd = Ok(audit.audit_add_rule("/f", IN_ALL_EVENTS));
            Ok(m.Vfs.sys_unlink("/f"));
            Assert.Equal(new[] { $"wd={wd} IN_DELETE_SELF", $"wd={wd} IN_IGNORED" }, audit.Log);
            Assert.Equal(0, audit.RuleCount);
            m.CheckQuiescent();
        });
        m.Teardown();
    }

    [Fact]
    public void UmountSendsUnmountAndIgnored()
    {
        var m = AuditMachine();
        var t = m.NewProcess("p", 0);
        var audit = m.Audit!;
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/mnt"));
            Ok(m.Vfs.sys_mount("/mnt"));
            Ok(m.Vfs.sys_mkdir("/mnt/x"));
            int wd = Ok(audit.audit_add_rule("/mnt/x", IN_CREATE));
            Assert.Equal(0, m.Vfs.sys_umount("/mnt"));
            Assert.Equal(new[] { $"wd={wd} IN_UNMOUNT", $"wd={wd} IN_IGNORED" }, audit.Log);
            Assert.Equal(0, audit.RuleCount);
        });
        m.Teardown();
    }

    [Fact]
    public void AuditAndUserInstanceWatchTheSameInodeIndependently()
    {
        var m = AuditMachine();
        var t = m.NewProcess("p", 1000);
        var audit = m.Audit!;
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            int fd = Ok(m.inotify_init());
            int uwd = Ok(m.inotify_add_watch(fd, "/d", IN_CREATE));
            int awd = Ok(audit.audit_add_rule("/d", IN_CREATE));
            Assert.Equal(1, uwd);
            Assert.Equal(1, awd); // separate handles, separate wd spaces
            Touch(m, "/d/f");
            Assert.Equal(0, m.inotify_rm_watch(fd, uwd));
            Touch(m, "/d/g");
            Assert.Equal(new[] { $"{uwd} IN_CREATE f", $"{uwd} IN_IGNORED" }, DrainShow(m, fd));
            Assert.Equal(new[] { $"wd={awd} IN_CREATE f", $"wd={awd} IN_CREATE g" }, audit.Log);
        });
        m.Teardown();
    }

    [Fact]
    public void RulesLeftAtTeardownAreCleanedUpWithoutLeak()
    {
        var m = AuditMachine();
        var t = m.NewProcess("p", 0);
        var audit = m.Audit!;
        m.As(t, () =>
        {
            Ok(m.Vfs.sys_mkdir("/d"));
            Touch(m, "/f");
            Ok(m.Vfs.sys_mkdir("/mnt"));
            Ok(m.Vfs.sys_mount("/mnt"));
            Ok(m.Vfs.sys_mkdir("/mnt/x"));
            Ok(audit.audit_add_rule("/d", IN_ALL_EVENTS));
            Ok(audit.audit_add_rule("/f", IN_ALL_EVENTS));
            Ok(audit.audit_add_rule("/mnt/x", IN_ALL_EVENTS));
            Assert.Equal(3, audit.RuleCount);
        });
        m.Teardown(); // audit_exit → inotify_destroy, then umount and kmemleak
        Assert.Equal(0, audit.RuleCount);
        Assert.Null(audit.Handle);
        Assert.Null(m.K.FirstReport);
        Assert.DoesNotContain(m.K.Slab.Live(), o => o is AuditWatch or InotifyWatch or InotifyHandle);
    }
}
