using System.Globalization;
using InotifySim.Model;
using InotifySim.Model.Kernel;
using InotifySim.Model.Vfs;
using static InotifySim.Model.Inotify.IN;

namespace InotifySim.Scenarios.Catalog;

/// <summary>
/// The generated workload: N threads (in two processes of one user plus root) issuing random
/// syscalls and VFS operations over a small tree. By default every choice (operation, path, mask, wd)
/// is a controlled choice (Kernel.ChooseInt), so the explorer explores it and every run replays: the
/// operations are branches of the schedule tree (about 100 variants per operation).
/// With <c>program=P</c> the operations and their arguments are drawn before the run from P (a
/// SplitMix64 stream per thread and operation), so every run issues the same program and only the
/// schedule (and fault injection's choices) varies: what <c>verify</c> can exhaust for a small shape.
/// Name: "workload", "workload:threads=3,ops=6" or "workload:threads=2,ops=2,program=7".
/// </summary>
public sealed class GeneratedWorkload : Scenario
{
    public const int MaxThreads = 8, MaxOps = 64;
    public const long MaxProgram = 1_000_000_000;

    public int ThreadCount { get; }
    public int OpsPerThread { get; }
    /// <summary>The seed that fixes the operations and their arguments (null: they are controlled choices).</summary>
    public long? Program { get; }

    public GeneratedWorkload(int threads = 3, int ops = 5, long? program = null)
    {
        ThreadCount = Math.Clamp(threads, 1, MaxThreads);
        OpsPerThread = Math.Clamp(ops, 1, MaxOps);
        Program = program is long p ? Math.Clamp(p, 0, MaxProgram) : null;
    }

    public override string Name => ThreadCount == 3 && OpsPerThread == 5 && Program is null ? "workload"
        : $"workload:threads={ThreadCount},ops={OpsPerThread}" + (Program is long p ? $",program={p}" : "");
    public override string Description => Program is null
        ? "generated workload: threads issue random inotify syscalls and VFS operations (add/rm/read/close/init, write/create/unlink/rename/chmod/mkdir/rmdir, umount/mount) over a small tree"
        : $"generated workload, program {Program} (fixed operations, only the schedule varies): {Listing()}";

    public override void Configure(MachineOptions o)
    {
        o.MaxQueuedEvents = 4;
        o.MaxUserWatches = 6;
        o.Audit = true;
    }

    /// <summary>Parses "workload[:threads=N,ops=M[,program=P]]"; null when malformed (<see cref="ParseError"/> says why).</summary>
    public static GeneratedWorkload? Parse(string name) => TryParse(name, out var w, out _) ? w : null;

    /// <summary>Why <paramref name="name"/> is not a workload name (one line), or null when it is one.</summary>
    public static string? ParseError(string name) => TryParse(name, out _, out var e) ? null : e;

    public static bool TryParse(string name, out GeneratedWorkload? workload, out string? error)
    {
        workload = null;
        error = null;
        if (name == "workload") { workload = new GeneratedWorkload(); return true; }
        const string expected = "expected workload or workload:threads=N,ops=M[,program=P] with plain decimal numbers";
        if (!name.StartsWith("workload:", StringComparison.Ordinal)) { error = $"bad workload '{name}' ({expected})"; return false; }
        int threads = 3, ops = 5;
        long? program = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var kv in name["workload:".Length..].Split(','))
        {
            var parts = kv.Split('=');
            if (parts.Length != 2 || parts[0] is not ("threads" or "ops" or "program") || Canonical(parts[1]) is not long v)
            {
                error = $"bad workload '{name}' ({expected})";
                return false;
            }
            if (!seen.Add(parts[0])) { error = $"bad workload '{name}' ({parts[0]} given twice)"; return false; }
            (long min, long max) = parts[0] switch { "threads" => (1L, (long)MaxThreads), "ops" => (1L, (long)MaxOps), _ => (0L, MaxProgram) };
            if (v < min || v > max) { error = $"bad workload '{name}' ({parts[0]} must be from {min} to {max})"; return false; }
            switch (parts[0])
            {
                case "threads": threads = (int)v; break;
                case "ops": ops = (int)v; break;
                default: program = v; break;
            }
        }
        workload = new GeneratedWorkload(threads, ops, program);
        return true;
    }

    /// <summary>"0" or [1-9][0-9]* within long; null otherwise ("+1", "01", "", "1e3").</summary>
    private static long? Canonical(string s)
    {
        if (s.Length == 0 || s.Length > 18 || (s[0] == '0' && s.Length > 1)) return null;
        foreach (char ch in s) if (ch is < '0' or > '9') return null;
        return long.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture);
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
        for (int i = 0; i < procs.Count; i++)
        {
            var (task, state) = procs[i];
            int thread = i;
            s.Thread(task, () =>
            {
                for (int k = 0; k < OpsPerThread; k++) Step(new Ctx(m, task.Uid, state, Rng(thread, k), null));
            });
        }
    }

    /// <summary>
    /// The workload's operation mix, in choice order: each entry issues syscalls of the shared
    /// vocabulary (<see cref="SysOps"/>) with arguments chosen by <see cref="Ctx.Choose"/>. An entry
    /// listed twice is chosen twice as often. Adding an operation to the workload is one line.
    /// </summary>
    private static readonly (string what, Action<Ctx> run)[] Mix =
    {
        ("add_watch", c => c.Sys("add_watch", c.St.Fd, c.Pick(Paths, "path"), c.Pick(Masks, "mask"))),
        ("add_watch", c => c.Sys("add_watch", c.St.Fd, c.Pick(Paths, "path"), c.Pick(Masks, "mask"))),
        ("rm_watch", c => c.Sys("rm_watch", c.St.Fd, 1 + c.Choose(4, "wd"))),
        ("read", c => c.Sys("read", c.St.Fd, c.ChooseBool("read size") ? 32 : 4096)),
        ("write", c => c.Sys("write", c.Pick(Files, "file"), 1)),
        ("unlink", c => c.Sys("unlink", c.Pick(Files, "file"))),
        ("touch", c => c.Sys("touch", c.Pick(Files, "file"))),
        ("rename", c =>
        {
            if (c.ChooseBool("rename direction")) c.Sys("rename", "/d/a", "/d/b");
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
            if (c.Uid == 0)
            {
                if (c.Sys("umount", "/mnt") == 0) c.Sys("mount", "/mnt");
            }
            else c.Sys("rmdir", "/d/s");
        }),
        ("audit rule | mkdir", c =>
        {
            if (c.Uid == 0 && c.HasAudit)
            {
                if (c.ChooseBool("audit op")) c.Sys("audit_remove", "/d/a");
                else c.Sys("audit_add", "/d/b", IN_ALL_EVENTS);
            }
            else c.Sys("mkdir", "/d/s");
        }),
    };

    /// <summary>
    /// One operation's context. Its choices are controlled choices of the kernel, or (with a program,
    /// <see cref="Rng"/> set) draws from the operation's own SplitMix64 stream. <see cref="Listing"/> runs
    /// the mix without a machine (<see cref="M"/> null): <see cref="Sys"/> then records the call and returns 0.
    /// </summary>
    private sealed record Ctx(Machine? M, int Uid, ProcState St, ProgramRng? Rng, List<string>? Calls)
    {
        public int Choose(int n, string why) => Rng is { } r ? (n <= 1 ? 0 : r.Below(n)) : M!.K.ChooseInt(n, why);
        public bool ChooseBool(string why) => Rng is { } r ? r.Below(2) == 1 : M!.K.ChooseBool(why);
        public bool HasAudit => M is null || M.Audit != null;
        public long Sys(string op, params object?[] args)
        {
            if (M is null)
            {
                Calls!.Add((op + " " + string.Join(" ", args.Select((a, i) => op == "chmod" && i == 1 && a is int mode ? "0" + Convert.ToString(mode, 8) : Format(a)))).TrimEnd());
                return 0;
            }
            return SysOps.Call(M, op, args).Ret;
        }
        public T Pick<T>(T[] from, string what) => from[Choose(from.Length, what)];
    }

    /// <summary>The fd a listing shows as "fd".</summary>
    private const int ListingFd = int.MinValue;

    private static string Format(object? a) => a switch
    {
        ListingFd => "fd",
        uint mask when (mask & IN_ALL_EVENTS) == IN_ALL_EVENTS => "IN_ALL_EVENTS" + (mask == IN_ALL_EVENTS ? "" : "|" + InotifySim.Model.Inotify.IN.MaskNames(mask & ~IN_ALL_EVENTS)),
        uint mask => InotifySim.Model.Inotify.IN.MaskNames(mask),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => a?.ToString() ?? "null",
    };

    /// <summary>The draws of one operation of a program (a reference holder for the SplitMix64 struct).</summary>
    private sealed class ProgramRng(long program, int thread, int op)
    {
        // thread t's operation k has its own stream: a smaller shape of the same program keeps each thread's first operations
        private InotifySim.Scenarios.Exploration.SplitMix64 _g = new((ulong)program * 0x9E3779B97F4A7C15UL ^ (((ulong)thread << 32) | (uint)op) * 0xBF58476D1CE4E5B9UL ^ 0x5851F42D4C957F2DUL);
        public int Below(int n) => _g.Below(n);
    }

    private ProgramRng? Rng(int thread, int op) => Program is long p ? new ProgramRng(p, thread, op) : null;

    /// <summary>What program <see cref="Program"/> issues, per thread in order ("t0 (root): add_watch fd /d/a IN_MODIFY; ...").</summary>
    public string Listing()
    {
        if (Program is null) return "(no program: the operations are controlled choices)";
        var sb = new System.Text.StringBuilder();
        for (int t = 0; t < ThreadCount; t++)
        {
            if (t > 0) sb.Append(" | ");
            sb.Append(t == 0 ? "t0 (root): " : $"t{t}: ");
            var ops = new List<string>();
            for (int k = 0; k < OpsPerThread; k++)
            {
                var calls = new List<string>();
                Step(new Ctx(null, t == 0 ? 0 : 1000, new ProcState { Fd = ListingFd }, Rng(t, k), calls));
                ops.Add(calls.Count == 1 ? calls[0] : $"{calls[0]} (then {string.Join(", ", calls.Skip(1))} if it succeeds)");
            }
            sb.Append(string.Join("; ", ops));
        }
        return sb.ToString();
    }

    private static void Step(Ctx c) => Mix[c.Choose(Mix.Length, "workload op")].run(c);
}
