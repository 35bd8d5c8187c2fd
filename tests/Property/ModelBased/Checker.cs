using System.Text;
using InotifySim.Model;
using InotifySim.Model.Kernel;
using static InotifySim.Model.Inotify.IN;

namespace InotifySim.Tests.Property.ModelBased;

/// <summary>
/// Runs a scenario on the reference specification and on the model, step by step, and
/// returns the first divergence (null when they agree and teardown is clean).
/// Cookies are compared by pairing: a specification cookie id must always map to the same
/// model cookie and vice versa; a zero cookie must stay zero (IN_Q_OVERFLOW's cookie is not
/// specified by inotify(7) and is not compared).
/// </summary>
public static class Checker
{
    public static string? Run(Fix fixes, Scenario s)
    {
        var spec = new InotifySpec(s.MaxQueuedEvents, s.MaxUserInstances, s.MaxUserWatches);
        ModelRunner model;
        var log = new StringBuilder();
        try
        {
            model = new ModelRunner(fixes, s.MaxQueuedEvents, s.MaxUserInstances, s.MaxUserWatches);
        }
        catch (KernelBugException e) { return "model failed at boot: " + e.Message; }
        var cookies = new CookiePairing();
        for (int i = 0; i < s.Ops.Length; i++)
        {
            var op = s.Ops[i];
            var want = spec.Apply(op);
            Step got;
            try { got = model.Apply(op); }
            catch (KernelBugException e)
            {
                return $"step {i + 1}: {op}: the model reported a kernel bug:\n{e.Report.Summary}\n{Trim(e.Report.Text)}\n" +
                       $"transcript (spec):\n{log}  {i + 1,2}. {want}";
            }
            string? diff = Compare(want, got, cookies);
            log.Append($"  {i + 1,2}. {want}\n");
            if (diff != null)
                return $"step {i + 1}: {op}: {diff}\n  spec : {want}\n  model: {got}\ntranscript (spec) up to here:\n{log}";
        }
        spec.CloseAll();
        try
        {
            model.CloseAll();
            if (model.Watches != 0 || model.Instances != 0)
                return $"after closing every inotify fd the user's counters are inotify_watches={model.Watches} inotify_devs={model.Instances} (want 0, 0)\ntranscript (spec):\n{log}";
            model.M.Teardown();
        }
        catch (KernelBugException e)
        {
            return $"teardown: the model reported a kernel bug:\n{e.Report.Summary}\n{Trim(e.Report.Text)}\ntranscript (spec):\n{log}";
        }
        return null;
    }

    private static string Trim(string s) => s.Length > 1500 ? s[..1500] + "..." : s;

    public sealed class CookiePairing
    {
        private readonly Dictionary<uint, uint> _fwd = new(), _back = new();

        public bool Pair(uint spec, uint model)
        {
            if (spec == 0 || model == 0) return spec == model;
            if (_fwd.TryGetValue(spec, out var m)) return m == model;
            if (_back.ContainsKey(model)) return false;
            _fwd[spec] = model;
            _back[model] = spec;
            return true;
        }
    }

    public static string? Compare(Step want, Step got, CookiePairing cookies)
    {
        if (want.Ret != got.Ret) return $"returned {Errno.Ret(got.Ret)}, the specification says {Errno.Ret(want.Ret)}";
        if (want.Events.Count != got.Events.Count) return $"read {got.Events.Count} events, the specification says {want.Events.Count}";
        for (int k = 0; k < want.Events.Count; k++)
        {
            var a = want.Events[k];
            var b = got.Events[k];
            if (a.Wd != b.Wd || a.Mask != b.Mask || a.Name != b.Name || a.Len != b.Len)
                return $"event {k + 1} is {b}, the specification says {a}";
            if ((a.Mask & IN_Q_OVERFLOW) == 0 && !cookies.Pair(a.Cookie, b.Cookie))
                return $"event {k + 1} has cookie {b.Cookie}, which does not pair with the specification's cookie #{a.Cookie}";
        }
        if (want.Watches != got.Watches || want.Instances != got.Instances)
            return $"user counters inotify_watches={got.Watches} inotify_devs={got.Instances}, the specification says {want.Watches}, {want.Instances}";
        return null;
    }
}
