using System.Globalization;
using InotifySim.Model;
using InotifySim.Model.Kernel;
using InotifySim.Model.Vfs;
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
        s.Do(root, x => x.Vfs.sys_chmod("/d", Mode.S_0777), "chmod");
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

    /// <summary>
    /// The workload's operation mix, in choice order: each entry issues syscalls of the shared
    /// vocabulary (<see cref="SysOps"/>) with arguments chosen by controlled choices. An entry
    /// listed twice is chosen twice as often. Adding an operation to the workload is one line.
    /// </summary>
    private static readonly (string what, Action<Ctx> run)[] Mix =
    {
        ("add_watch", c => c.Sys("add_watch", c.St.Fd, c.Pick(Paths, "path"), c.Pick(Masks, "mask"))),
        ("add_watch", c => c.Sys("add_watch", c.St.Fd, c.Pick(Paths, "path"), c.Pick(Masks, "mask"))),
        ("rm_watch", c => c.Sys("rm_watch", c.St.Fd, 1 + c.K.ChooseInt(4, "wd"))),
        ("read", c => c.Sys("read", c.St.Fd, c.K.ChooseBool("read size") ? 32 : 4096)),
        ("write", c => c.Sys("write", c.Pick(Files, "file"), 1)),
        ("unlink", c => c.Sys("unlink", c.Pick(Files, "file"))),
        ("touch", c => c.Sys("touch", c.Pick(Files, "file"))),
        ("rename", c =>
        {
            if (c.K.ChooseBool("rename direction")) c.Sys("rename", "/d/a", "/d/b");
            else c.Sys("rename", "/d/b", "/d/s/c");
        }),
        ("chmod", c => c.Sys("chmod", c.Pick(Paths, "path"), Mode.S_0777)),
        ("close", c => c.Sys("close", c.St.Fd)),
        ("inotify_init", c =>
        {
            long fd = c.Sys("inotify_init", "nonblock");
            if (fd >= 0) c.St.Fd = (int)fd;
        }),
        ("umount+mount | rmdir", c =>
        {
            if (c.T.Uid == 0)
            {
                if (c.Sys("umount", "/mnt") == 0) c.Sys("mount", "/mnt");
            }
            else c.Sys("rmdir", "/d/s");
        }),
        ("audit rule | mkdir", c =>
        {
            if (c.T.Uid == 0 && c.M.Audit != null)
            {
                if (c.K.ChooseBool("audit op")) c.Sys("audit_remove", "/d/a");
                else c.Sys("audit_add", "/d/b", IN_ALL_EVENTS);
            }
            else c.Sys("mkdir", "/d/s");
        }),
    };

    private sealed record Ctx(Machine M, TaskStruct T, ProcState St)
    {
        public InotifySim.Model.Kernel.Kernel K => M.K;
        public long Sys(string op, params object?[] args) => SysOps.Call(M, op, args).Ret;
        public T Pick<T>(T[] from, string what) => from[K.ChooseInt(from.Length, what)];
    }

    private static void Step(Machine m, TaskStruct t, ProcState st) =>
        Mix[m.K.ChooseInt(Mix.Length, "workload op")].run(new Ctx(m, t, st));
}
