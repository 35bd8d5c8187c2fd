using System.Globalization;
using InotifySim.Model;
using InotifySim.Model.Kernel;
using static InotifySim.Model.Inotify.IN;

namespace InotifySim.Scenarios.Catalog;

/// <summary>
/// The generated workload: N threads (in two processes of one user plus root) issuing random
/// syscalls and VFS operations over a small tree. Every choice (operation, path, mask, wd)
/// is a controlled choice (Kernel.ChooseInt), so Coyote explores it and every run replays.
/// Name: "workload" or "workload:threads=3,ops=6".
/// </summary>
public sealed class GeneratedWorkload : Scenario
{
    public int ThreadCount { get; }
    public int OpsPerThread { get; }

    public GeneratedWorkload(int threads = 3, int ops = 5)
    {
        ThreadCount = Math.Clamp(threads, 1, 8);
        OpsPerThread = Math.Clamp(ops, 1, 64);
    }

    public override string Name => ThreadCount == 3 && OpsPerThread == 5 ? "workload" : $"workload:threads={ThreadCount},ops={OpsPerThread}";
    public override string Description => "generated workload: threads issue random inotify syscalls and VFS operations (add/rm/read/close/init, write/create/unlink/rename/chmod/mkdir/rmdir, umount/mount) over a small tree";

    public override void Configure(MachineOptions o)
    {
        o.MaxQueuedEvents = 4;
        o.MaxUserWatches = 6;
        o.Audit = true;
    }

    /// <summary>Parses "workload[:threads=N,ops=M]"; null when malformed.</summary>
    public static GeneratedWorkload? Parse(string name)
    {
        if (name == "workload") return new GeneratedWorkload();
        if (!name.StartsWith("workload:", StringComparison.Ordinal)) return null;
        int threads = 3, ops = 5;
        foreach (var kv in name["workload:".Length..].Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = kv.Split('=');
            if (parts.Length != 2 || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int v) || v < 1) return null;
            switch (parts[0])
            {
                case "threads": threads = v; break;
                case "ops": ops = v; break;
                default: return null;
            }
        }
        return new GeneratedWorkload(threads, ops);
    }

    private static readonly string[] Paths = { "/d", "/d/a", "/d/b", "/d/s", "/mnt", "/mnt/m" };
    private static readonly string[] Files = { "/d/a", "/d/b", "/mnt/m" };
    private static readonly uint[] Masks =
    {
        IN_ALL_EVENTS, IN_MODIFY | IN_ATTRIB, IN_CREATE | IN_DELETE | IN_MOVE, IN_ATTRIB | IN_ONESHOT,
        IN_DELETE_SELF | IN_MASK_ADD, IN_ALL_EVENTS | IN_ONLYDIR,
    };

    private sealed class ProcState
    {
        public int Fd;
    }

    public override void Build(Sim s)
    {
        var m = s.M;
        var root = m.NewProcess("root", 0);
        s.Do(root, x => x.Vfs.sys_mkdir("/d"), "mkdir /d");
        s.Do(root, x => x.Vfs.sys_mkdir("/d/s"), "mkdir /d/s");
        s.Do(root, x => x.Vfs.sys_mkdir("/mnt"), "mkdir /mnt");
        s.Do(root, x => x.Vfs.sys_mount("/mnt"), "mount /mnt");
        s.Touch(root, "/d/a");
        s.Touch(root, "/d/b");
        s.Touch(root, "/mnt/m");
        s.Do(root, x => x.Vfs.sys_chmod("/d", 0x1ff), "chmod");
        s.Do(root, x => x.Audit!.audit_add_rule("/d/a", IN_ALL_EVENTS), "audit_add_rule");

        // processes: root, then alternating users' processes; threads 2k and 2k+1 share a process
        var procs = new List<(TaskStruct t, ProcState st)>();
        var rootState = new ProcState { Fd = (int)s.Do(root, x => x.inotify_init_nonblock(), "inotify_init") };
        s.Do(root, x => x.inotify_add_watch(rootState.Fd, "/d", IN_ALL_EVENTS), "add_watch");
        procs.Add((root, rootState));
        for (int i = 1; i < ThreadCount; i++)
        {
            TaskStruct t;
            ProcState st;
            if (i % 2 == 0)
            {
                t = m.NewThread(procs[i - 1].t, $"user-t{i}");
                st = procs[i - 1].st;
            }
            else
            {
                t = m.NewProcess($"user{i}", 1000);
                st = new ProcState { Fd = (int)s.Do(t, x => x.inotify_init_nonblock(), "inotify_init") };
            }
            procs.Add((t, st));
        }
        foreach (var (t, st) in procs)
        {
            var task = t;
            var state = st;
            s.Thread(task, () =>
            {
                for (int k = 0; k < OpsPerThread; k++) Step(m, task, state);
            });
        }
    }

    private void Step(Machine m, TaskStruct t, ProcState st)
    {
        var k = m.K;
        int op = k.ChooseInt(13, "workload op");
        switch (op)
        {
            case 0:
            case 1:
                m.inotify_add_watch(st.Fd, Paths[k.ChooseInt(Paths.Length, "path")], Masks[k.ChooseInt(Masks.Length, "mask")]);
                break;
            case 2:
                m.inotify_rm_watch(st.Fd, 1 + k.ChooseInt(4, "wd"));
                break;
            case 3:
                m.read_events(st.Fd, k.ChooseBool("read size") ? 32 : 4096, out _);
                break;
            case 4:
            {
                int f = (int)m.Vfs.sys_open(Files[k.ChooseInt(Files.Length, "file")], 1);
                if (f >= 0)
                {
                    m.Vfs.sys_write(f, 1);
                    m.Vfs.sys_close(f);
                }
                break;
            }
            case 5:
                m.Vfs.sys_unlink(Files[k.ChooseInt(Files.Length, "file")]);
                break;
            case 6:
            {
                int f = (int)m.Vfs.sys_open(Files[k.ChooseInt(Files.Length, "file")], 0x41);
                if (f >= 0) m.Vfs.sys_close(f);
                break;
            }
            case 7:
                if (k.ChooseBool("rename direction")) m.Vfs.sys_rename("/d/a", "/d/b");
                else m.Vfs.sys_rename("/d/b", "/d/s/c");
                break;
            case 8:
                m.Vfs.sys_chmod(Paths[k.ChooseInt(Paths.Length, "path")], 0x1ff);
                break;
            case 9:
                m.close(st.Fd);
                break;
            case 10:
            {
                long fd = m.inotify_init_nonblock();
                if (fd >= 0) st.Fd = (int)fd;
                break;
            }
            case 11:
                if (t.Uid == 0)
                {
                    if (m.Vfs.sys_umount("/mnt") == 0) m.Vfs.sys_mount("/mnt");
                }
                else m.Vfs.sys_rmdir("/d/s");
                break;
            case 12:
                if (t.Uid == 0 && m.Audit != null)
                {
                    if (k.ChooseBool("audit op")) m.Audit.audit_remove_rule("/d/a");
                    else m.Audit.audit_add_rule("/d/b", IN_ALL_EVENTS);
                }
                else m.Vfs.sys_mkdir("/d/s");
                break;
        }
    }
}
