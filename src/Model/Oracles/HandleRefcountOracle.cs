using InotifySim.Model.Inotify;
using InotifySim.Model.Kernel;
using InotifySim.Model.Vfs;

namespace InotifySim.Model.Oracles;

/// <summary>
/// Handle reference counts: a device's count is its open file plus its live user watches; an
/// inotify handle's count is its owner (an open device, or the audit module) plus every watch
/// structure still alive with a reference to it (installed, or removed and not yet released).
/// </summary>
public sealed class HandleRefcountOracle(Machine m) : Oracle(m)
{
    public override OracleSet Kind => OracleSet.HandleRefcounts;

    private void Count(bool ok, string what, params string[] fns)
    {
        if (!ok) Fail(BugClass.Accounting, "inotify accounting: ", what, fns);
    }

    public override void CheckQuiescent()
    {
        var live = K.Slab.Live();
        var watchesByDev = new Dictionary<InotifyDevice, int>();
        foreach (var o in live)
            if (o is InotifyUserWatch uw && Machine.PeekDev(uw) is { } dev) watchesByDev[dev] = watchesByDev.GetValueOrDefault(dev) + 1;
        foreach (var o in live)
        {
            if (o is not InotifyDevice dev) continue;
            int holders = watchesByDev.GetValueOrDefault(dev) + (M.IsOpen(dev) ? 1 : 0);
            Count(dev.count.Peek == holders, $"{dev.Describe}: count {dev.count.Peek} but {holders} holders (open file + live watches)", "get_inotify_dev", "put_inotify_dev");
        }
        foreach (var o in live)
        {
            if (o is not InotifyHandle ih) continue;
            bool owned = ReferenceEquals(M.Audit?.Handle, ih);
            foreach (var d in M.User.Devices)
                if (!d.IsFreed && ReferenceEquals(d.PeekIh, ih) && M.IsOpen(d)) owned = true;
            int holders = owned ? 1 : 0;
            foreach (var lo in live)
            {
                var w = lo switch { InotifyUserWatch uw => uw.wdata, AuditWatch aw => aw.wdata, _ => null };
                if (w != null && ReferenceEquals(w.PeekIh, ih) && w.count.Peek > 0) holders++;
            }
            Count(ih.count.Peek == holders, $"{ih.Describe}: count {ih.count.Peek} but {holders} holders (its owner and the watches that reference it)",
                "get_inotify_handle", "put_inotify_handle", "put_inotify_watch");
        }
    }
}
