using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using InotifySim.Model;
using InotifySim.Model.Kernel;
using InotifySim.Scenarios.Exploration;

namespace InotifySim.Scenarios.Traces;

/// <summary>One line of an explained timeline: a kept kernel trace step, in kernel terms.</summary>
public sealed record TimelineRow(int Index, long Seq, string Task, TraceKind Kind, string Function, string Text, bool IsBug);

/// <summary>A lock held by a task over a range of timeline rows (for the HTML bars).</summary>
public sealed record HeldSpan(string Task, string Lock, int FromRow, int ToRow, int Level, bool HeldAtBug);

/// <summary>
/// Turns a traced replay (the kernel's <see cref="Kernel.TraceLog"/>) into what a kernel
/// developer reads: the setup's syscalls in one line per task, then the threads' timeline
/// trimmed to the steps that matter (syscalls, the functions of the report, locks held across
/// another thread's steps, refcounts/allocations of the objects the report names or the threads
/// share, events queued and read), the failing step marked, and the report's own text.
/// Everything is derived in log order (no hashing, no clock), so the text is byte-for-byte stable.
/// </summary>
public sealed class TraceExplanation
{
    public required TraceFile Trace { get; init; }
    public required Report Report { get; init; }
    public required IReadOnlyList<string> Lanes { get; init; }
    public required IReadOnlyList<TimelineRow> Rows { get; init; }
    public required IReadOnlyList<HeldSpan> Spans { get; init; }
    public required IReadOnlyList<(string Task, string Syscalls)> Setup { get; init; }
    public required IReadOnlyList<string> Focus { get; init; }
    public required int KernelSteps { get; init; }
    public required int TraceEntries { get; init; }
    public required int ContextSwitches { get; init; }
    /// <summary>The scenario's threads that ran (the tasks of the threads' phase).</summary>
    public required int Threads { get; init; }
    /// <summary>Branching decisions of the replayed run (not of the file).</summary>
    public required int Decisions { get; init; }
    /// <summary>Preemptions of the replayed run.</summary>
    public required int Preemptions { get; init; }
    public required IReadOnlyList<(string Task, List<string> Locks)> HeldAtBug { get; init; }

    // Plumbing that every path walk or file open goes through: hidden unless the report names it.
    private static readonly HashSet<string> s_noiseFunctions = new(StringComparer.Ordinal)
    {
        "__user_walk", "dput", "path_release", "d_alloc", "new_inode", "get_empty_filp", "alloc_uid",
        "d_instantiate", "inotify_d_instantiate", "igrab", "fsnotify_open", "fsnotify_close", "fsnotify_create",
        "fsnotify_mkdir", "fsnotify_modify", "fsnotify_access", "fsnotify_change", "inotify_dentry_parent_queue_event",
    };
    private static readonly string[] s_plumbingTypes = { "struct dentry ", "struct vfsmount ", "struct file " };
    private static readonly Regex s_objectId = new(@"struct \w+ #(\d+)", RegexOptions.CultureInvariant);

    /// <summary>The "#N" object id a trace text names first, or null.</summary>
    internal static string? ObjectId(string text)
    {
        var m = s_objectId.Match(text);
        return m.Success ? m.Groups[1].Value : null;
    }

    private static bool IsPlumbing(string text)
    {
        foreach (var p in s_plumbingTypes) if (text.StartsWith(p, StringComparison.Ordinal)) return true;
        return false;
    }

    /// <summary>Context switches between the scenario's threads in a traced run (a measure of preemptions).</summary>
    public static int CountContextSwitches(IReadOnlyList<TraceStep> log)
    {
        var (start, end) = Phases(log);
        int switches = 0;
        string? last = null;
        for (int i = start; i < end; i++)
        {
            var s = log[i];
            if (s.Task == "init/1") continue;
            if (last != null && s.Task != last) switches++;
            last = s.Task;
        }
        return switches;
    }

    /// <summary>[start, end) of the threads' phase in the log (after setup, before teardown).</summary>
    private static (int start, int end) Phases(IReadOnlyList<TraceStep> log)
    {
        int start = 0, end = log.Count;
        for (int i = 0; i < log.Count; i++)
        {
            if (log[i].Kind != TraceKind.Note) continue;
            if (log[i].Text == Explorer.ThreadsStartNote) start = i + 1;
            else if (log[i].Text == Explorer.ThreadsDoneNote) { end = i; break; }
        }
        return (start, end);
    }

    public static TraceExplanation Build(TraceFile trace, Report report, IReadOnlyList<TraceStep> log, int decisions = 0, int preemptions = 0)
    {
        var (start, threadsEnd) = Phases(log);
        int bugIndex = -1;
        for (int i = 0; i < log.Count; i++) if (log[i].Kind == TraceKind.Bug) { bugIndex = i; break; }
        int end = bugIndex >= 0 ? bugIndex + 1 : log.Count;

        // setup: the syscalls each task issued, in order
        var setup = new List<(string, string)>();
        var setupOrder = new List<string>();
        var setupCalls = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        for (int i = 0; i < Math.Min(start, end); i++)
        {
            var s = log[i];
            if (s.Kind != TraceKind.Syscall) continue;
            if (!setupCalls.TryGetValue(s.Task, out var l)) { setupCalls[s.Task] = l = new List<string>(); setupOrder.Add(s.Task); }
            string n = s.Text.StartsWith("sys_", StringComparison.Ordinal) ? s.Text[4..] : s.Text;
            if (l.Count > 0 && (l[^1] == n || l[^1].StartsWith(n + " x", StringComparison.Ordinal)))
            {
                int times = l[^1] == n ? 2 : int.Parse(l[^1][(n.Length + 2)..], CultureInfo.InvariantCulture) + 1;
                l[^1] = $"{n} x{times}";
            }
            else l.Add(n);
        }
        foreach (var t in setupOrder) setup.Add((t, string.Join(", ", setupCalls[t])));

        // focus objects: named by the report, or shared by two threads after the setup
        var focus = new List<string>();
        void AddFocus(string id) { if (!focus.Contains(id)) focus.Add(id); }
        var reportText = report.Title + "\n" + report.Text + "\n" + string.Join("\n", report.Objects);
        foreach (Match m in s_objectId.Matches(reportText)) AddFocus(m.Groups[1].Value);
        var touchedBy = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var idOrder = new List<string>();
        for (int i = start; i < end; i++)
        {
            var s = log[i];
            if (s.Kind is not (TraceKind.Get or TraceKind.Put or TraceKind.Alloc or TraceKind.Free or TraceKind.Lock or TraceKind.Unlock)) continue;
            if (IsPlumbing(s.Text) || s.Task == "init/1") continue;
            var id = ObjectId(s.Text);
            if (id is null) continue;
            if (!touchedBy.TryGetValue(id, out var who)) { touchedBy[id] = who = new List<string>(); idOrder.Add(id); }
            if (!who.Contains(s.Task)) who.Add(s.Task);
        }
        foreach (var id in idOrder) if (touchedBy[id].Count >= 2) AddFocus(id);
        // the watches are what every rfc defect is about: follow them even when one thread touches them
        for (int i = start; i < end; i++)
        {
            var s = log[i];
            if (s.Kind is (TraceKind.Get or TraceKind.Put or TraceKind.Alloc or TraceKind.Free) && s.Task != "init/1"
                && (s.Text.StartsWith("struct inotify_watch ", StringComparison.Ordinal) || s.Text.StartsWith("struct inotify_user_watch ", StringComparison.Ordinal)))
            {
                var id = ObjectId(s.Text);
                if (id != null) AddFocus(id);
            }
        }
        var focusSet = new HashSet<string>(focus, StringComparer.Ordinal);

        // locks held across another task's steps (the race windows), and lock spans
        var windowLocks = new HashSet<string>(StringComparer.Ordinal);
        var open = new Dictionary<string, List<(string Lock, int At)>>(StringComparer.Ordinal);
        for (int i = start; i < end; i++)
        {
            var s = log[i];
            if (s.Kind == TraceKind.Lock)
            {
                if (!open.TryGetValue(s.Task, out var l)) open[s.Task] = l = new();
                l.Add((s.Text, i));
            }
            else if (s.Kind == TraceKind.Unlock && open.TryGetValue(s.Task, out var l))
            {
                int k = l.FindLastIndex(x => x.Lock == s.Text);
                if (k < 0) continue;
                int from = l[k].At;
                l.RemoveAt(k);
                for (int j = from + 1; j < i; j++)
                {
                    if (log[j].Task != s.Task && log[j].Task != "init/1") { windowLocks.Add(s.Text); break; }
                }
            }
        }
        var heldAtBugLocks = new List<(string, List<string>)>();
        foreach (var kv in open.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            if (kv.Value.Count > 0) heldAtBugLocks.Add((kv.Key, kv.Value.Select(x => x.Lock).ToList()));
            foreach (var (lk, _) in kv.Value) windowLocks.Add(lk);
        }

        bool Keep(TraceStep s)
        {
            switch (s.Kind)
            {
                case TraceKind.Bug:
                case TraceKind.Syscall:
                case TraceKind.Return:
                case TraceKind.Event:
                case TraceKind.Read:
                    return true;
                case TraceKind.Note:
                    return s.Text != Explorer.ThreadsStartNote && s.Text != Explorer.ThreadsDoneNote;
                case TraceKind.Choice:
                    return s.Text.StartsWith("fail ", StringComparison.Ordinal);
                case TraceKind.Enter:
                    if (s.Task == "init/1") return false;
                    return report.Functions.Contains(s.Text) || !s_noiseFunctions.Contains(s.Text);
                case TraceKind.Lock:
                case TraceKind.Unlock:
                {
                    if (windowLocks.Contains(s.Text)) return true;
                    var id = ObjectId(s.Text);
                    if (id != null && focusSet.Contains(id)) return true;
                    return LockMentioned(reportText, s.Text);
                }
                default: // Get, Put, Alloc, Free
                {
                    var id = ObjectId(s.Text);
                    return id != null && focusSet.Contains(id);
                }
            }
        }

        var lanes = new List<string>();
        var rows = new List<TimelineRow>();
        for (int i = start; i < end; i++)
        {
            var s = log[i];
            if (i == threadsEnd) rows.Add(new TimelineRow(rows.Count, s.Seq, "", TraceKind.Note, "", "threads done: end checks and teardown", false));
            if (s.Kind == TraceKind.Note && (s.Text == Explorer.ThreadsDoneNote || s.Text == Explorer.ThreadsStartNote)) continue;
            if (!Keep(s)) continue;
            if (!lanes.Contains(s.Task)) lanes.Add(s.Task);
            rows.Add(new TimelineRow(rows.Count, s.Seq, s.Task, s.Kind, s.Function, s.Text, i == bugIndex));
        }

        // held-lock spans over the kept rows
        var spans = new List<HeldSpan>();
        var openRows = new Dictionary<string, List<(string Lock, int Row)>>(StringComparer.Ordinal);
        foreach (var r in rows)
        {
            if (r.Kind == TraceKind.Lock)
            {
                if (!openRows.TryGetValue(r.Task, out var l)) openRows[r.Task] = l = new();
                l.Add((r.Text, r.Index));
            }
            else if (r.Kind == TraceKind.Unlock && openRows.TryGetValue(r.Task, out var l))
            {
                int k = l.FindLastIndex(x => x.Lock == r.Text);
                if (k < 0) continue;
                spans.Add(new HeldSpan(r.Task, r.Text, l[k].Row, r.Index, k, false));
                l.RemoveAt(k);
            }
        }
        foreach (var kv in openRows.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            for (int k = 0; k < kv.Value.Count; k++)
                spans.Add(new HeldSpan(kv.Key, kv.Value[k].Lock, kv.Value[k].Row, rows.Count - 1, k, true));
        }
        spans.Sort((a, b) => a.FromRow != b.FromRow ? a.FromRow.CompareTo(b.FromRow) : a.Level.CompareTo(b.Level));

        return new TraceExplanation
        {
            Trace = trace,
            Report = report,
            Lanes = lanes,
            Rows = rows,
            Spans = spans,
            Setup = setup,
            Focus = focus.Select(id => Describe(log, id)).ToList(),
            KernelSteps = log.Count == 0 ? 0 : (int)log[^1].Seq,
            TraceEntries = log.Count,
            ContextSwitches = CountContextSwitches(log),
            Threads = log.Skip(start).Take(Math.Max(0, threadsEnd - start)).Select(x => x.Task).Where(x => x != "init/1").Distinct().Count(),
            Decisions = decisions,
            Preemptions = preemptions,
            HeldAtBug = heldAtBugLocks,
        };
    }

    private static bool LockMentioned(string reportText, string lockName)
    {
        int arrow = lockName.LastIndexOf("->", StringComparison.Ordinal);
        string field = arrow >= 0 ? lockName[(arrow + 2)..] : lockName;
        int sp = field.IndexOf(' ');
        if (sp >= 0) field = field[..sp];
        return field.Length > 2 && reportText.Contains(field, StringComparison.Ordinal) && (arrow < 0 || ObjectId(lockName) is null);
    }

    private static string Describe(IReadOnlyList<TraceStep> log, string id)
    {
        foreach (var s in log)
        {
            var m = s_objectId.Match(s.Text);
            if (m.Success && m.Groups[1].Value == id) return m.Value;
        }
        return "#" + id;
    }

    /// <summary>A short variant name: "rfc", "fixed", "fixed without X", or the fix list.</summary>
    public static string VariantName(Fix set)
    {
        if (set == Fix.All) return "fixed";
        if (set == Fix.None) return "rfc";
        foreach (var i in Variants.Fixes)
            if (Variants.AllBut(i.Fix) == set) return $"fixed without {i.Name}";
        return Variants.Describe(set);
    }

    /// <summary>Kernel-style wording of one step (object cache names dropped).</summary>
    public static string Words(TraceKind kind, string text)
    {
        string t = StripCache(text);
        return kind switch
        {
            TraceKind.Syscall => "> " + t,
            TraceKind.Return => "< " + t + " returns",
            TraceKind.Enter => t + "()",
            TraceKind.Lock => "lock " + t,
            TraceKind.Unlock => "unlock " + t,
            TraceKind.Get => "get " + t.Replace(" -> ", " = "),
            TraceKind.Put => "put " + t.Replace(" -> ", " = "),
            TraceKind.Alloc => "alloc " + AllocWords(t),
            TraceKind.Free => "free " + t,
            TraceKind.Event => "event " + t,
            TraceKind.Read => "read(2) " + (t.StartsWith("read ", StringComparison.Ordinal) ? t[5..] : t),
            TraceKind.Choice => "choice " + t,
            TraceKind.Bug => "*** " + t,
            _ => t,
        };
    }

    private static string AllocWords(string t)
    {
        int eq = t.IndexOf(" = ", StringComparison.Ordinal);
        return eq < 0 ? t : $"{t[..eq]} ({t[(eq + 3)..]})";
    }

    private static readonly Regex s_cache = new(@" \([a-z_]+(?: \([a-z]+\))?\)(?=->)", RegexOptions.CultureInvariant);
    internal static string StripCache(string text) => s_cache.Replace(text, "");

    /// <summary>The text a developer reads: header, setup, trimmed per-thread timeline, the report.</summary>
    public string RenderText()
    {
        var sb = new StringBuilder();
        var t = Trace;
        sb.Append($"inotify-sim trace: {ScenarioLabel(t)} on {VariantName(t.FixSet())}\n");
        sb.Append($"bug:       [{Report.Class.Name()}] {Report.Title}\n");
        sb.Append($"functions: {string.Join(", ", Report.Functions)}\n");
        sb.Append($"schedule:  {Plural(Decisions, "scheduling decision", "scheduling decisions")} ({Plural(Preemptions, "preemption", "preemptions")}), {KernelSteps} kernel steps, {Plural(ContextSwitches, "context switch", "context switches")} between {Plural(Threads, "thread", "threads")}\n");
        if (Focus.Count > 0) sb.Append($"objects:   {string.Join(", ", Focus)}\n");
        sb.Append('\n');
        if (Setup.Count > 0)
        {
            sb.Append("setup (sequential, before the threads start):\n");
            foreach (var (task, calls) in Setup) sb.Append($"  {task}: {calls}\n");
            sb.Append('\n');
        }
        sb.Append($"timeline ({Rows.Count} of {TraceEntries} trace steps shown; '!!' marks the failing step):\n");
        const int cap = 46;
        var width = new int[Lanes.Count];
        for (int i = 0; i < Lanes.Count; i++) width[i] = Math.Max(Lanes[i].Length, 12);
        var texts = new string[Rows.Count];
        var lastFn = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int r = 0; r < Rows.Count; r++)
        {
            var row = Rows[r];
            string w = row.Task == "" ? "--- " + row.Text + " ---" : Words(row.Kind, row.Text);
            if (row.Kind is TraceKind.Enter or TraceKind.Syscall) lastFn[row.Task] = row.Text;
            else if (row.Kind is TraceKind.Return) lastFn.Remove(row.Task);
            else if (row.Task != "" && row.Kind is not (TraceKind.Bug or TraceKind.Note) && lastFn.GetValueOrDefault(row.Task) != row.Function && row.Function != "(user)")
                w += $" [{row.Function}]";
            texts[r] = w;
            int lane = LaneOf(row.Task);
            if (lane >= 0) width[lane] = Math.Min(cap, Math.Max(width[lane], w.Length));
        }
        var head = new StringBuilder("     step  ");
        for (int i = 0; i < Lanes.Count; i++) head.Append(Lanes[i].PadRight(width[i] + 2));
        sb.Append(head.ToString().TrimEnd()).Append('\n');
        for (int r = 0; r < Rows.Count; r++)
        {
            var row = Rows[r];
            var line = new StringBuilder(row.IsBug ? "  !! " : "     ");
            line.Append(row.Seq.ToString(CultureInfo.InvariantCulture).PadLeft(4)).Append("  ");
            if (row.Task == "") line.Append(texts[r]);
            else
            {
                int lane = LaneOf(row.Task);
                for (int i = 0; i < lane; i++) line.Append(' ', width[i] + 2);
                line.Append(texts[r]);
            }
            sb.Append(line.ToString().TrimEnd()).Append('\n');
        }
        sb.Append('\n');
        if (HeldAtBug.Count > 0)
        {
            sb.Append("locks held when the bug fired:\n");
            foreach (var (task, locks) in HeldAtBug)
                sb.Append($"  {task}: {string.Join(", ", locks.Select(StripCache))}\n");
            sb.Append('\n');
        }
        sb.Append("report:\n");
        sb.Append(Report.Text);
        return sb.ToString();
    }

    private static string Plural(int n, string one, string many) => $"{n} {(n == 1 ? one : many)}";

    private int LaneOf(string task)
    {
        for (int i = 0; i < Lanes.Count; i++) if (Lanes[i] == task) return i;
        return -1;
    }

    public static string ScenarioLabel(TraceFile t) => t.Scenario == "script" ? "scenario script" : t.Scenario;
}
