using System.Text;
using InotifySim.Model.Kernel;
using InotifySim.Tests.Property.ModelBased;
using static InotifySim.Model.Inotify.IN;

namespace InotifySim.Tests.Property.Differential;

/// <summary>
/// Runs one op sequence on the real kernel and on the model. Events are attributed to the
/// last non-read op: explicit read ops read part of its events, and before the next op every
/// open instance is drained (non-blocking). Then, per instance, the kernel's events of that op,
/// normalised by <see cref="Rules"/>, must equal the model's (cookies by pairing).
/// </summary>
internal sealed class DifferentialChecker(Dictionary<string, int> fired, InotifySim.Model.Fix modelFixes = InotifySim.Model.Fix.All)
{
    private sealed class ReadRec { public required int Size; public required long Ret; public required int Count; }

    private sealed class Seg
    {
        public readonly List<Ev> Events = new();
        public readonly List<ReadRec> Reads = new();
    }

    private readonly Checker.CookiePairing _cookies = new();
    private readonly Dictionary<(int inst, int wd), bool> _oneshot = new();

    public string? Run(Op[] ops)
    {
        try { return RunSides(ops); }
        catch (KernelBugException e) { return $"the model reported a kernel bug: {e.Report.Summary}"; }
    }

    private string? RunSides(Op[] ops)
    {
        using var k = new KernelSide();
        using var m = new ModelSide(modelFixes);
        var log = new StringBuilder();
        Op? current = null;
        var kseg = new Dictionary<int, Seg>();
        var mseg = new Dictionary<int, Seg>();
        for (int i = 0; i <= ops.Length; i++)
        {
            var op = i < ops.Length ? ops[i] : null;
            if (op is Read r)
            {
                var ke = new List<Ev>();
                var me = new List<Ev>();
                long kr = k.Read(r.Inst, r.Size, ke);
                long mr = m.Read(r.Inst, r.Size, me);
                log.Append($"  {i + 1,2}. {op}: kernel {Errno.Ret(kr)} {string.Join(" ", ke)} | model {Errno.Ret(mr)} {string.Join(" ", me)}\n");
                if ((kr == -Errno.EBADF) != (mr == -Errno.EBADF)) return Fail(i, op, $"kernel read {Errno.Ret(kr)}, model {Errno.Ret(mr)}", log);
                if (kr == -Errno.EBADF) continue;
                Add(kseg, r.Inst, r.Size, kr, ke);
                Add(mseg, r.Inst, r.Size, mr, me);
                continue;
            }
            // drain, then compare what the previous op produced
            foreach (var inst in k.OpenInstances.Union(m.OpenInstances))
            {
                Drain(k, inst, kseg);
                Drain(m, inst, mseg);
            }
            if (current != null)
            {
                foreach (var inst in kseg.Keys.Union(mseg.Keys).OrderBy(x => x))
                {
                    var diff = CompareSegment(current, inst, kseg.GetValueOrDefault(inst) ?? new Seg(), mseg.GetValueOrDefault(inst) ?? new Seg());
                    if (diff != null) return Fail(i - 1, current, $"instance i{inst}: {diff}", log);
                }
            }
            kseg.Clear();
            mseg.Clear();
            if (op is null) break;
            long kret = k.Do(op);
            long mret = m.Do(op);
            log.Append($"  {i + 1,2}. {op}: kernel {Errno.Ret(kret)} | model {Errno.Ret(mret)}\n");
            bool same = op is Init ? (kret >= 0) == (mret >= 0) && (kret >= 0 || kret == mret) : kret == mret;
            if (!same) return Fail(i, op, $"kernel returned {Errno.Ret(kret)}, model {Errno.Ret(mret)}", log);
            if (op is AddWatch aw && kret > 0)
            {
                var key = (aw.Inst, (int)kret);
                bool add = (aw.Mask & IN_MASK_ADD) != 0;
                _oneshot[key] = (add && _oneshot.GetValueOrDefault(key)) || (aw.Mask & IN_ONESHOT) != 0;
            }
            current = op;
        }
        return null;
    }

    private static string Fail(int i, Op op, string what, StringBuilder log) =>
        $"after op {i + 1} ({op}): {what}\ntranscript:\n{log}";

    private static void Add(Dictionary<int, Seg> segs, int inst, int size, long ret, List<Ev> evs)
    {
        if (!segs.TryGetValue(inst, out var s)) segs[inst] = s = new Seg();
        s.Reads.Add(new ReadRec { Size = size, Ret = ret, Count = evs.Count });
        s.Events.AddRange(evs);
    }

    private static void Drain(ISide side, int inst, Dictionary<int, Seg> segs)
    {
        while (true)
        {
            var evs = new List<Ev>();
            long r = side.Read(inst, 65536, evs);
            if (r <= 0) return;
            if (!segs.TryGetValue(inst, out var s)) segs[inst] = s = new Seg();
            s.Events.AddRange(evs);
        }
    }

    private void Fire(string rule) => fired[rule] = fired.GetValueOrDefault(rule) + 1;

    /// <summary>Each explicit read must have returned the longest prefix of its side's remaining events that fits.</summary>
    private static string? ReadsConsistent(string side, Seg s, bool tooSmallIsEinval)
    {
        int pos = 0;
        foreach (var r in s.Reads)
        {
            long bytes = 0;
            for (int j = 0; j < r.Count; j++) bytes += 16 + s.Events[pos + j].Len;
            Ev? next = pos + r.Count < s.Events.Count ? s.Events[pos + r.Count] : null;
            if (r.Count == 0)
            {
                if (r.Ret == -Errno.EAGAIN) { if (next != null) return $"{side}: read({r.Size}) said EAGAIN but {next} was queued"; continue; }
                long want = tooSmallIsEinval ? -Errno.EINVAL : 0;
                if (next is null) return $"{side}: read({r.Size}) returned {Errno.Ret(r.Ret)} with nothing queued";
                if (r.Ret != want || 16 + next.Len <= r.Size) return $"{side}: read({r.Size}) returned {Errno.Ret(r.Ret)} though {next} was next";
                continue;
            }
            if (r.Ret != bytes || bytes > r.Size) return $"{side}: read({r.Size}) returned {r.Ret} for {bytes} bytes of events";
            if (next != null && bytes + 16 + next.Len <= r.Size) return $"{side}: read({r.Size}) stopped before {next}, which fits";
            pos += r.Count;
        }
        return null;
    }

    private string? CompareSegment(Op op, int inst, Seg ks, Seg ms)
    {
        var err = ReadsConsistent("kernel", ks, tooSmallIsEinval: true) ?? ReadsConsistent("model", ms, tooSmallIsEinval: false);
        if (err != null) return err;

        var kev = new List<Ev>(ks.Events);
        // link-count-attrib
        if (op is Unlink or Rename)
        {
            int n = kev.RemoveAll(e => (e.Mask & ~IN_ISDIR) == IN_ATTRIB && e.Name is null);
            if (n > 0) Fire(Rules.LinkCountAttrib);
        }
        // oneshot-ignored
        var seen = new HashSet<int>();
        for (int j = 0; j < kev.Count; j++)
        {
            var e = kev[j];
            if (e.Mask == IN_IGNORED && _oneshot.GetValueOrDefault((inst, e.Wd)) && seen.Contains(e.Wd) && !ms.Events.Any(x => x.Wd == e.Wd && x.Mask == IN_IGNORED))
            {
                kev.RemoveAt(j--);
                Fire(Rules.OneshotIgnored);
                continue;
            }
            seen.Add(e.Wd);
        }
        // read-einval: the reads themselves were checked per side; compare the calls when the streams agree
        bool crossWatch = op is Chmod or Rename or Rmdir;
        string? d = crossWatch ? ComparePerWd(kev, ms.Events) : CompareSeq(kev, ms.Events);
        if (d != null)
            return $"{d}\n    kernel: {string.Join(" ", ks.Events)}\n    kernel (normalised): {string.Join(" ", kev)}\n    model : {string.Join(" ", ms.Events)}";
        if (crossWatch && !kev.SequenceEqual(ms.Events, EvShape.Instance)) Fire(Rules.CrossWatchOrder);
        if (ks.Reads.Count != ms.Reads.Count) return "different number of reads";
        for (int j = 0; j < ks.Reads.Count; j++)
        {
            var a = ks.Reads[j];
            var b = ms.Reads[j];
            if (a.Ret == b.Ret) continue;
            if (a.Ret == -Errno.EINVAL && b.Ret == 0) { Fire(Rules.ReadEinval); continue; }
            // a different first event (explained by a rule above) may fit differently: each side was checked
            if (kev.Count != ks.Events.Count || crossWatch) continue;
            return $"read({a.Size}): kernel {Errno.Ret(a.Ret)}, model {Errno.Ret(b.Ret)}";
        }
        return null;
    }

    private string? CompareSeq(List<Ev> k, IReadOnlyList<Ev> m)
    {
        if (k.Count != m.Count) return $"kernel has {k.Count} events, model {m.Count}";
        for (int j = 0; j < k.Count; j++)
        {
            if (k[j].Wd != m[j].Wd || k[j].Mask != m[j].Mask || k[j].Name != m[j].Name || k[j].Len != m[j].Len)
                return $"event {j + 1}: kernel {k[j]}, model {m[j]}";
            if (!_cookies.Pair(m[j].Cookie, k[j].Cookie)) return $"event {j + 1}: cookies do not pair (kernel {k[j].Cookie}, model {m[j].Cookie})";
        }
        return null;
    }

    private string? ComparePerWd(List<Ev> k, IReadOnlyList<Ev> m)
    {
        foreach (var wd in k.Select(e => e.Wd).Union(m.Select(e => e.Wd)).Distinct())
        {
            var d = CompareSeq(k.Where(e => e.Wd == wd).ToList(), m.Where(e => e.Wd == wd).ToList());
            if (d != null) return $"wd {wd}: {d}";
        }
        return null;
    }

    private sealed class EvShape : IEqualityComparer<Ev>
    {
        public static readonly EvShape Instance = new();
        public bool Equals(Ev? a, Ev? b) => a!.Wd == b!.Wd && a.Mask == b.Mask && a.Name == b.Name;
        public int GetHashCode(Ev e) => e.Wd;
    }
}
